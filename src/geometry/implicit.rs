//! Closed surfaces of solids given by a signed function (negative inside), by marching tetrahedra
//! on a regular grid: watertight, manifold and outward oriented by construction. Used for the
//! synthetic vessels that are not surfaces of revolution (bifurcations, aneurysms).

use crate::geometry::mesh::Surface;
use nalgebra::{Point3, Vector3};
use std::collections::HashMap;

/// The six tetrahedra of the Kuhn split of a cube along its 0–7 diagonal (corner bit 1: +x,
/// 2: +y, 4: +z); the split matches across neighbouring cubes, so the surface is watertight.
const KUHN: [[usize; 4]; 6] =
    [[0, 1, 3, 7], [0, 1, 5, 7], [0, 2, 3, 7], [0, 2, 6, 7], [0, 4, 5, 7], [0, 4, 6, 7]];

/// Crossing points stay this fraction of an edge away from its ends, so no triangle is degenerate.
const EDGE_MARGIN: f64 = 1e-3;

/// Bisection steps that place each vertex on the zero level of the function (2^-40 of an edge).
const BISECTION_STEPS: usize = 40;

/// The surface `f = 0` of the solid `f < 0` inside the box [`min`, `max`] (m), sampled with spacing
/// `h` (m); the box must enclose the solid with room to spare (f > 0 on its faces). Vertices lie on
/// the zero level (bisection on `f`), triangles are oriented with their normals towards `f > 0`.
pub fn surface_of(
    f: impl Fn(&Point3<f64>) -> f64 + Sync,
    min: Point3<f64>,
    max: Point3<f64>,
    h: f64,
) -> Surface {
    // An irrational shift keeps grid nodes off planes a generator places at round coordinates.
    let origin = min - Vector3::repeat((2f64.sqrt() - 1.0) * h) - Vector3::repeat(h);
    let n = ((max - origin) / h).map(|e| e.ceil() as usize + 2);
    let node = |i: usize, j: usize, k: usize| origin + Vector3::new(i as f64, j as f64, k as f64) * h;
    let index = |i: usize, j: usize, k: usize| (k * n.y + j) * n.x + i;
    let values: Vec<f64> = {
        use rayon::prelude::*;
        (0..n.x * n.y * n.z)
            .into_par_iter()
            .map(|idx| f(&node(idx % n.x, (idx / n.x) % n.y, idx / (n.x * n.y))))
            .collect()
    };
    let mut vertices = Vec::new();
    let mut on_edge: HashMap<(usize, usize), u32> = HashMap::new();
    let mut triangles = Vec::new();
    for k in 0..n.z - 1 {
        for j in 0..n.y - 1 {
            for i in 0..n.x - 1 {
                let corner = |c: usize| (i + (c & 1), j + ((c >> 1) & 1), k + ((c >> 2) & 1));
                let ids: [usize; 8] = std::array::from_fn(|c| {
                    let (a, b, d) = corner(c);
                    index(a, b, d)
                });
                let signs = ids.map(|id| values[id] < 0.0);
                if signs.iter().all(|&s| s) || signs.iter().all(|&s| !s) {
                    continue;
                }
                let points: [Point3<f64>; 8] = std::array::from_fn(|c| {
                    let (a, b, d) = corner(c);
                    node(a, b, d)
                });
                for tet in KUHN {
                    let mut crossing = |a: usize, b: usize| -> (u32, Point3<f64>) {
                        let (inside, outside) = if signs[a] { (a, b) } else { (b, a) };
                        let key = (ids[inside], ids[outside]);
                        let mid = nalgebra::center(&points[a], &points[b]);
                        let v = *on_edge.entry(key).or_insert_with(|| {
                            vertices.push(zero_on_edge(&f, points[inside], points[outside]));
                            vertices.len() as u32 - 1
                        });
                        (v, mid)
                    };
                    let inside: Vec<usize> = tet.iter().copied().filter(|&c| signs[c]).collect();
                    let outside: Vec<usize> = tet.iter().copied().filter(|&c| !signs[c]).collect();
                    let centroid = |cs: &[usize]| {
                        cs.iter().fold(Vector3::zeros(), |s, &c| s + points[c].coords) / cs.len() as f64
                    };
                    let out = match inside.len() {
                        0 | 4 => continue,
                        _ => centroid(&outside) - centroid(&inside),
                    };
                    // Orientation is decided on edge midpoints (never degenerate), then applied
                    // to the vertices on the zero level.
                    let mut emit = |corners: &[(u32, Point3<f64>)]| {
                        let [a, b, c] = [corners[0], corners[1], corners[2]];
                        let normal = (b.1 - a.1).cross(&(c.1 - a.1));
                        triangles.push(if normal.dot(&out) >= 0.0 {
                            [a.0, b.0, c.0]
                        } else {
                            [a.0, c.0, b.0]
                        });
                    };
                    match (inside.as_slice(), outside.as_slice()) {
                        ([a], [b, c, d]) | ([b, c, d], [a]) => {
                            let t = [crossing(*a, *b), crossing(*a, *c), crossing(*a, *d)];
                            emit(&t);
                        }
                        ([a, b], [c, d]) => {
                            // The quad ac, ad, bd, bc in cyclic order, split along ac–bd.
                            let q = [crossing(*a, *c), crossing(*a, *d), crossing(*b, *d), crossing(*b, *c)];
                            emit(&[q[0], q[1], q[2]]);
                            emit(&[q[0], q[2], q[3]]);
                        }
                        _ => unreachable!("a tetrahedron has four corners"),
                    }
                }
            }
        }
    }
    Surface { vertices, triangles }
}

/// The point where `f` changes sign between `inside` (f < 0) and `outside` (f >= 0), by bisection,
/// kept [`EDGE_MARGIN`] of the edge away from both ends.
fn zero_on_edge(f: &impl Fn(&Point3<f64>) -> f64, inside: Point3<f64>, outside: Point3<f64>) -> Point3<f64> {
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..BISECTION_STEPS {
        let t = 0.5 * (lo + hi);
        if f(&(inside + (outside - inside) * t)) < 0.0 {
            lo = t;
        } else {
            hi = t;
        }
    }
    let t = (0.5 * (lo + hi)).clamp(EDGE_MARGIN, 1.0 - EDGE_MARGIN);
    inside + (outside - inside) * t
}

/// Signed distance (m) to a finite solid cylinder from `base` along the unit `axis` for `length`,
/// of `radius` (m): negative inside.
pub fn cylinder(p: &Point3<f64>, base: &Point3<f64>, axis: &Vector3<f64>, length: f64, radius: f64) -> f64 {
    let d = p - base;
    let s = d.dot(axis);
    let radial = (d - axis * s).norm() - radius;
    let axial = (-s).max(s - length);
    radial.max(axial).min(0.0) + Vector3::new(radial.max(0.0), axial.max(0.0), 0.0).norm()
}

/// Signed distance (m) to a solid sphere: negative inside.
pub fn sphere(p: &Point3<f64>, center: &Point3<f64>, radius: f64) -> f64 {
    (p - center).norm() - radius
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::check::inspect;
    use std::f64::consts::PI;

    #[test]
    fn a_sphere_is_closed_outward_and_has_the_right_volume() {
        let c = Point3::new(0.1, -0.2, 0.3);
        let s = surface_of(|p| sphere(p, &c, 1.0), c - Vector3::repeat(1.0), c + Vector3::repeat(1.0), 0.05);
        let r = inspect(&s);
        let exact = 4.0 / 3.0 * PI;
        println!("sphere: {} triangles, volume {:.5} vs {exact:.5}", r.triangles, r.volume);
        assert_eq!((r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles), (0, 0, 0));
        assert!((r.volume / exact - 1.0).abs() < 0.005);
        assert!(
            s.vertices.iter().all(|v| ((v - c).norm() - 1.0).abs() < EDGE_MARGIN * 0.05 * 3f64.sqrt() + 1e-9)
        );
    }

    #[test]
    fn a_cylinder_has_flat_ends_and_the_right_volume() {
        let (base, axis) = (Point3::origin(), Vector3::new(0.0, 0.6, 0.8));
        let s = surface_of(
            |p| cylinder(p, &base, &axis, 3.0, 0.5),
            Point3::new(-0.5, -0.5, -0.5),
            Point3::new(0.5, 2.3, 2.9),
            0.04,
        );
        let r = inspect(&s);
        let exact = PI * 0.25 * 3.0;
        println!("tilted cylinder: {} triangles, volume {:.5} vs {exact:.5}", r.triangles, r.volume);
        assert_eq!((r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles), (0, 0, 0));
        assert!((r.volume / exact - 1.0).abs() < 0.01);
        let on_end = s.vertices.iter().filter(|v| ((*v - base).dot(&axis) - 3.0).abs() < 1e-9).count();
        assert!(on_end > 100, "{on_end} vertices on the end plane");
    }
}
