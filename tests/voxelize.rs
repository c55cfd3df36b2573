//! Voxelization: robustness to vertices on lattice planes, and wall distances q against the exact
//! cylinder and sphere within the faceting error of the triangulation and against a brute-force
//! crossing of every link with every triangle.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::geometry::Surface;
use hemotwin::geometry::segment_triangle;
use hemotwin::geometry::synth::{TubeSpec, tube};
use hemotwin::lattice::{Grid, Voxels, voxelize};
use hemotwin::stencil::d3q19::{C, Q};
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

/// The closed, outward octahedron |x - c| + |y - c| + |z - c| <= r.
fn octahedron(c: f64, r: f64) -> Surface {
    let axis = |a: usize, s: f64| {
        let mut p = Point3::new(c, c, c);
        p[a] += s * r;
        p
    };
    let vertices: Vec<Point3<f64>> =
        (0..6).map(|k| axis(k / 2, if k % 2 == 0 { 1.0 } else { -1.0 })).collect();
    let triangles = (0..8u32)
        .map(|o| {
            let [x, y, z] = [o & 1, (o >> 1) & 1, (o >> 2) & 1];
            // Vertex 2a is +r along axis a, 2a + 1 is -r; odd sign products need the other order.
            let t = [x, 2 + y, 4 + z];
            if (x + y + z) % 2 == 0 { t } else { [t[0], t[2], t[1]] }
        })
        .collect();
    Surface { vertices, triangles }
}

/// A closed, outward sphere of radius `r` about `center`: the octahedron with each face split
/// `levels` times into four and the vertices pushed onto the sphere.
fn sphere(center: Point3<f64>, r: f64, levels: usize) -> Surface {
    let Surface { mut vertices, mut triangles } = octahedron(0.0, 1.0);
    for _ in 0..levels {
        let mut middle = std::collections::HashMap::new();
        let mut mid = |a: u32, b: u32, v: &mut Vec<Point3<f64>>| {
            *middle.entry((a.min(b), a.max(b))).or_insert_with(|| {
                v.push(Point3::from((v[a as usize].coords + v[b as usize].coords).normalize()));
                v.len() as u32 - 1
            })
        };
        triangles = triangles
            .iter()
            .flat_map(|&[a, b, c]| {
                let (ab, bc, ca) =
                    (mid(a, b, &mut vertices), mid(b, c, &mut vertices), mid(c, a, &mut vertices));
                [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
            })
            .collect();
    }
    Surface { vertices: vertices.iter().map(|p| center + p.coords * r).collect(), triangles }
}

/// Checks the wall links of `vox` against brute force: they are exactly the links from a fluid node
/// to a non-fluid or off-grid one, in grid then direction order, and each q matches the nearest
/// crossing of the link with any triangle. Returns the number of links and the largest difference
/// in q, in lattice spacings.
fn compare_with_brute_force(surface: &Surface, vox: &Voxels) -> (usize, f64) {
    let grid = &vox.grid;
    let expected: Vec<(usize, u8)> = (0..grid.len())
        .filter(|&n| vox.fluid[n] == 1)
        .flat_map(|n| (1..Q).map(move |d| (n, d as u8)))
        .filter(|&(n, d)| grid.neighbour(n, C[d as usize]).is_none_or(|m| vox.fluid[m] != 1))
        .collect();
    let found: Vec<(usize, u8)> = vox.links.iter().map(|l| (l.node, l.dir)).collect();
    assert_eq!(found, expected, "one link per fluid/non-fluid pair, in order");
    let triangles: Vec<[Point3<f64>; 3]> =
        surface.triangles.iter().map(|t| t.map(|v| surface.vertices[v as usize])).collect();
    let mut worst = 0.0f64;
    for l in &vox.links {
        let c = C[l.dir as usize];
        let d = Vector3::new(c[0] as f64, c[1] as f64, c[2] as f64) * grid.dx;
        let p = grid.point(grid.coords(l.node));
        let t = triangles
            .iter()
            .filter_map(|&tri| segment_triangle(p, d, tri))
            .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.min(t))));
        let t = t.unwrap_or_else(|| panic!("no crossing on link {l:?}"));
        let err = (l.q as f64 - t.clamp(1e-6, 1.0)).abs() * d.norm() / grid.dx;
        assert!(err < 1e-5, "q {} vs brute force {t} on {l:?}", l.q);
        worst = worst.max(err);
    }
    (vox.links.len(), worst)
}

#[test]
fn sphere_wall_q_matches_brute_force_and_the_exact_sphere_within_the_faceting_error() {
    let (r, dx) = (1.0, 0.097);
    let center = Point3::new(0.031, 0.017, 0.043);
    let surface = sphere(center, r, 5);
    let grid = Grid::covering(center - Vector3::repeat(r), center + Vector3::repeat(r), dx, 2);
    let vox = voxelize(&surface, &vec![0; surface.triangles.len()], &grid);
    assert_eq!(vox.unresolved_links, 0);
    let (links, worst) = compare_with_brute_force(&surface, &vox);
    // The triangulation lies between the sphere and the sphere through its nearest face plane, so
    // along each link the crossing lies between theirs.
    let inner = surface
        .triangles
        .iter()
        .map(|t| {
            let v = t.map(|v| surface.vertices[v as usize] - center);
            (v[1] - v[0]).cross(&(v[2] - v[0])).normalize().dot(&v[0]).abs()
        })
        .fold(f64::INFINITY, f64::min);
    let mut worst_exact = 0.0f64;
    for l in &vox.links {
        let c = C[l.dir as usize];
        let d = Vector3::new(c[0] as f64, c[1] as f64, c[2] as f64) * dx;
        let p = grid.point(grid.coords(l.node)) - center;
        // Crossing of |p + t d| = rho going outward, if p is inside that sphere (else 0).
        let exit = |rho: f64| {
            let (a, b, cc) = (d.dot(&d), 2.0 * p.dot(&d), p.dot(&p) - rho * rho);
            if cc >= 0.0 { 0.0 } else { (-b + (b * b - 4.0 * a * cc).sqrt()) / (2.0 * a) }
        };
        let (lo, hi) = (exit(inner), exit(r).min(1.0));
        let q = l.q as f64;
        assert!(q >= lo - 1e-6 && q <= hi + 1e-6, "q {q} outside [{lo}, {hi}] on {l:?}");
        worst_exact = worst_exact.max((q - exit(r)).abs() * d.norm() / dx);
    }
    println!(
        "{} triangles, {links} wall links: worst |q - brute force| {worst:.1e} spacings; worst |q - exact \
         sphere| along a link {worst_exact:.4} spacings (radial faceting gap {:.4} spacings, stretched on \
         grazing links)",
        surface.triangles.len(),
        (r - inner) / dx
    );
    assert!(links > 5000);
}

#[test]
fn crossings_on_nodes_edges_and_faces_give_each_wall_link_one_q() {
    // The octahedron's vertices are nodes, its edges run along face-diagonal lattice lines and its
    // faces contain nodes; the box's faces lie on node planes and its diagonals pass through nodes.
    let grid = Grid { origin: Point3::origin(), dx: 1.0, dims: [17, 17, 17] };
    for (name, surface) in [("octahedron", octahedron(8.0, 6.0)), ("box", cube(2.0, 12.0))] {
        let vox = voxelize(&surface, &vec![0; surface.triangles.len()], &grid);
        let (links, worst) = compare_with_brute_force(&surface, &vox);
        let on_nodes = vox.links.iter().filter(|l| l.q <= 1e-6 || l.q == 1.0).count();
        println!(
            "{name}: {links} wall links, {on_nodes} crossing at a node, {} unresolved, worst |q - brute \
             force| {worst:.1e} spacings",
            vox.unresolved_links
        );
        assert_eq!(vox.unresolved_links, 0);
        assert!(on_nodes > 100);
    }
}
