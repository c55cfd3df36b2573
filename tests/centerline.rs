//! Centerlines: radius of the maximal inscribed sphere along a tube, and the narrowest point of a
//! stenosis, against the known geometry.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::geometry::check::inspect;
use hemotwin::geometry::ports::tag_triangles;
use hemotwin::geometry::synth::{StenosisSpec, TubeSpec, stenosis, tube};
use hemotwin::geometry::{Port, Surface};
use hemotwin::lattice::{Centerline, Grid, centerlines, voxelize};

fn line(surface: &Surface, ports: &[Port], dx: f64) -> Centerline {
    let tags = tag_triangles(surface, ports).unwrap();
    let r = inspect(surface);
    let grid = Grid::covering(r.bbox_min, r.bbox_max, dx, 2);
    let vox = voxelize(surface, &tags, &grid);
    centerlines(surface, &tags, &vox, ports, 0).unwrap().remove(0)
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
