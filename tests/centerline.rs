//! Centerlines: radius of the maximal inscribed sphere along a tube, and the narrowest point of a
//! stenosis, against the known geometry.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::geometry::check::inspect;
use hemotwin::geometry::ports::tag_triangles;
use hemotwin::geometry::synth::{BifurcationSpec, StenosisSpec, TubeSpec, bifurcation, stenosis, tube};
use hemotwin::geometry::{Port, Surface};
use hemotwin::lattice::{Centerline, Grid, centerlines, voxelize};

fn lines(surface: &Surface, ports: &[Port], dx: f64) -> Vec<Centerline> {
    let tags = tag_triangles(surface, ports).unwrap();
    let r = inspect(surface);
    let grid = Grid::covering(r.bbox_min, r.bbox_max, dx, 2);
    let vox = voxelize(surface, &tags, &grid);
    centerlines(surface, &tags, &vox, ports, 0).unwrap()
}

fn line(surface: &Surface, ports: &[Port], dx: f64) -> Centerline {
    lines(surface, ports, dx).remove(0)
}

#[test]
fn tube_centerline_lies_on_the_axis_with_radius_within_one_spacing() {
    let (r, l, dx) = (2e-3, 16e-3, 2e-3 / 8.0);
    let (surface, ports) = tube(&TubeSpec { radius: r, length: l }, 128).unwrap();
    let c = line(&surface, &ports, dx);
    let (mut worst_r, mut worst_axis) = (0.0f64, 0.0f64);
    for (p, rad) in c.points.iter().zip(&c.radius) {
        if p.z < 2.0 * r || p.z > l - 2.0 * r {
            continue;
        }
        worst_r = worst_r.max((rad - r).abs());
        worst_axis = worst_axis.max((p.x * p.x + p.y * p.y).sqrt());
    }
    println!(
        "tube R = {r} m at dx = {dx} m: {} points, length {:.4e} m, worst |radius - R| = {:.3} dx, worst distance from the axis {:.3} dx",
        c.points.len(),
        c.abscissa.last().unwrap(),
        worst_r / dx,
        worst_axis / dx
    );
    assert!(worst_r < dx && worst_axis < dx);
}

#[test]
fn stenosis_centerline_finds_the_throat_within_one_diameter() {
    let spec = StenosisSpec {
        radius: 2e-3,
        length: 32e-3,
        area_reduction: 0.75,
        stenosis_length: 8e-3,
        center: 12e-3,
        eccentricity: 0.0,
    };
    let dx = spec.radius / 8.0;
    let (surface, ports) = stenosis(&spec, 128).unwrap();
    let c = line(&surface, &ports, dx);
    let (i, rmin) =
        c.radius.iter().enumerate().fold((0, f64::INFINITY), |b, (i, &r)| if r < b.1 { (i, r) } else { b });
    let z = c.points[i].z;
    let throat = spec.radius * 0.5;
    println!(
        "stenosis: narrowest radius {rmin:.4e} m (throat {throat:.1e} m) at z = {z:.4e} m (throat at {:.1e} m): off by {:.2} diameters",
        spec.center,
        (z - spec.center).abs() / (2.0 * spec.radius)
    );
    assert!((z - spec.center).abs() < 2.0 * spec.radius);
    assert!((rmin - throat).abs() < dx);
}

#[test]
fn bifurcation_centerlines_follow_each_branch_with_radius_within_one_spacing() {
    let r0 = 2e-3;
    let r1 = 1.7e-3;
    let spec = BifurcationSpec {
        radius: r0,
        length: 16e-3,
        daughter_radii: [r1, BifurcationSpec::murray(r0, r1)],
        angle: 70f64.to_radians(),
        daughter_length: 16e-3,
    };
    let dx = spec.daughter_radii[1] / 8.0;
    let (surface, ports) = bifurcation(&spec, 64).unwrap();
    let found = lines(&surface, &ports, dx);
    assert_eq!(found.len(), 2);
    let j = spec.junction();
    for c in &found {
        let k = c.outlet - 1;
        let (axis, rk) = (spec.daughter_axis(k), spec.daughter_radii[k]);
        let (mut worst_r, mut worst_axis, mut counted) = (0.0f64, 0.0f64, [0usize; 2]);
        for (p, rad) in c.points.iter().zip(&c.radius) {
            // Straight parts only, two radii clear of the junction and of the ends.
            let s = (p - j).dot(&axis);
            let (off_axis, expected) = if p.z < spec.length - 2.0 * r0 && p.z > 2.0 * r0 {
                counted[0] += 1;
                ((p.x * p.x + p.y * p.y).sqrt(), r0)
            } else if s > 2.0 * r0 && s < spec.daughter_length - 2.0 * rk {
                counted[1] += 1;
                (((p - j) - axis * s).norm(), rk)
            } else {
                continue;
            };
            worst_r = worst_r.max((rad - expected).abs());
            worst_axis = worst_axis.max(off_axis);
        }
        let end = c.points.last().unwrap();
        println!(
            "bifurcation branch {} (radius {rk:.3e} m): {} points in the parent, {} in the daughter, worst |radius - \
             R| = {:.3} dx, worst distance from the axis {:.3} dx, ends {:.3} dx from the outlet centre",
            c.outlet,
            counted[0],
            counted[1],
            worst_r / dx,
            worst_axis / dx,
            (end - ports[c.outlet].center).norm() / dx
        );
        assert!(counted[0] > 10 && counted[1] > 10);
        assert!(worst_r < dx && worst_axis < dx);
        assert!((end - ports[c.outlet].center).norm() < 1e-9);
    }
}
