//! Voxelization: robustness to vertices on lattice planes, and wall distances q against the exact
//! cylinder within the faceting error of the triangulation.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::geometry::Surface;
use hemotwin::geometry::synth::{TubeSpec, tube};
use hemotwin::lattice::{Grid, voxelize};
use hemotwin::lbm::d3q19::C;
use nalgebra::{Point3, Vector3};

/// A closed, outward box [lo, hi]^3 of 12 triangles.
fn cube(lo: f64, hi: f64) -> Surface {
    let v = |i: usize| Point3::new([lo, hi][i & 1], [lo, hi][(i >> 1) & 1], [lo, hi][(i >> 2) & 1]);
    let faces = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];
    let triangles = faces.iter().flat_map(|f| [[f[0], f[1], f[2]], [f[0], f[2], f[3]]]).collect();
    Surface { vertices: (0..8).map(v).collect(), triangles }
}

#[test]
fn box_with_every_vertex_on_lattice_planes_is_classified_consistently() {
    // Nodes at integer coordinates; the box faces lie exactly on node planes x, y, z = 2 and 12, and
    // its diagonal edges pass through nodes. Ties resolve as for an infinitesimally shifted ray
    // (y + eps, z + eps^2) and a crossing counts only strictly before the node along x, so each axis
    // takes a half-open node range: [2, 12) in y and z, (2, 12] in x. Exactly 10^3 nodes, whatever
    // the triangulation.
    let grid = Grid { origin: Point3::origin(), dx: 1.0, dims: [15, 15, 15] };
    let surface = cube(2.0, 12.0);
    let vox = voxelize(&surface, &[0; 12], &grid);
    let fluid = vox.fluid.iter().filter(|&&f| f == 1).count();
    println!("box 10^3 on node planes: {fluid} fluid nodes, {} unresolved links", vox.unresolved_links);
    assert_eq!(fluid, 1000);
    assert_eq!(vox.unresolved_links, 0);
    for (idx, &f) in vox.fluid.iter().enumerate() {
        let p = grid.coords(idx);
        let inside = (p[0] > 2 && p[0] <= 12 && p[1] >= 2 && p[1] < 12 && p[2] >= 2 && p[2] < 12) as u8;
        assert_eq!(f, inside, "node {p:?}");
    }
}

#[test]
fn tube_wall_q_matches_the_exact_cylinder_within_the_faceting_error() {
    let (r, segments) = (1.0, 64);
    let (surface, _) = tube(&TubeSpec { radius: r, length: 3.0 }, segments).unwrap();
    let dx = 2.0 * r / 23.0;
    let grid = Grid::covering(Point3::new(-r, -r, 0.0), Point3::new(r, r, 3.0), dx, 2);
    let vox = voxelize(&surface, &vec![0; surface.triangles.len()], &grid);
    // A chord of the 64-gon lies at most r (1 - cos(pi / 64)) inside the circle.
    let sagitta = r * (1.0 - (std::f64::consts::PI / segments as f64).cos());
    let mut worst = 0.0f64;
    let mut checked = 0;
    for l in vox.links.iter().filter(|l| C[l.dir as usize][2] == 0) {
        let p = grid.point(grid.coords(l.node));
        if p.z < 0.2 || p.z > 2.8 {
            continue; // links near the caps may cross a cap first
        }
        let c = C[l.dir as usize];
        let d = Vector3::new(c[0] as f64, c[1] as f64, 0.0) * dx;
        // Exact crossing of |p + t d| = r in the xy plane.
        let (a, b, cc) =
            (d.x * d.x + d.y * d.y, 2.0 * (p.x * d.x + p.y * d.y), p.x * p.x + p.y * p.y - r * r);
        let t = (-b + (b * b - 4.0 * a * cc).sqrt()) / (2.0 * a);
        // The polygon lies between the circle and the circle shrunk by the sagitta; along the link
        // that is at most sagitta / (|d| cos(angle to the normal)) in q. Bound with the grazing
        // angle of the actual link.
        let hit = p + d * t;
        let cos = (d.normalize().dot(&Vector3::new(hit.x, hit.y, 0.0).normalize())).abs().max(0.2);
        let bound = sagitta / (d.norm() * cos) + 1e-9;
        let err = (l.q as f64 - t).abs();
        worst = worst.max(err / bound);
        checked += 1;
        assert!(err <= bound, "q {} vs exact {t} (bound {bound}) at {p:?} dir {c:?}", l.q);
    }
    println!("{checked} side-wall links: worst |q - q_exact| is {:.2} of the faceting bound", worst);
    assert!(checked > 1000);
}

#[test]
fn rings_lying_exactly_on_lattice_planes_lose_no_layer() {
    // 48 rings k/6 mm apart and lattice planes at -0.5 + k/3 mm: every other ring sits on a plane.
    let (s, ports) = tube(&TubeSpec { radius: 2e-3, length: 8e-3 }, 64).unwrap();
    let tags = hemotwin::geometry::ports::tag_triangles(&s, &ports).unwrap();
    let r = hemotwin::geometry::check::inspect(&s);
    let grid = Grid::covering(r.bbox_min, r.bbox_max, 4e-3 / 12.0, 2);
    let v = voxelize(&s, &tags, &grid);
    let layer = grid.dims[0] * grid.dims[1];
    let per_layer: Vec<usize> = (0..grid.dims[2])
        .map(|k| v.fluid[k * layer..(k + 1) * layer].iter().filter(|&&f| f == 1).count())
        .collect();
    println!("fluid nodes per layer {per_layer:?}, unresolved links {}", v.unresolved_links);
    let inside: Vec<usize> = per_layer.iter().copied().filter(|&n| n > 0).collect();
    assert_eq!(inside.len(), 24, "layers between the caps");
    assert!(inside.iter().all(|&n| n == inside[0]));
    assert_eq!(v.unresolved_links, 0);
}
