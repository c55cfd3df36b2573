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

/// Newton steps that bring a smoothed vertex back onto the zero level.
const PROJECTION_STEPS: usize = 3;

/// `q` (m) moved onto the zero level of `f` by [`PROJECTION_STEPS`] Newton steps along the
/// gradient, taken by central differences at spacing `h` / 1000 (m).
fn project_on_level(f: &impl Fn(&Point3<f64>) -> f64, mut q: Point3<f64>, h: f64) -> Point3<f64> {
    let step = 1e-3 * h;
    for _ in 0..PROJECTION_STEPS {
        let g = Vector3::from_fn(|i, _| {
            let e = Vector3::ith(i, step);
            (f(&(q + e)) - f(&(q - e))) / (2.0 * step)
        });
        let g2 = g.norm_squared();
        if g2 > 0.0 {
            q -= g * (f(&q) / g2);
        }
    }
    q
}

/// Improves the triangles of a [`surface_of`] result: `rounds` of tangential Laplacian smoothing
/// (each vertex moves towards its neighbours' centroid within its tangent plane), each followed by
/// a projection back onto `f = 0` (Newton steps along the gradient, by central differences at
/// spacing `h` / 1000, m). Marching tetrahedra leaves slivers where the level passes near grid
/// nodes; this evens them out without changing the connectivity. A vertex whose move would turn a
/// triangle around it by more than 60 degrees keeps its place.
pub fn smooth_on_level(surface: &mut Surface, f: impl Fn(&Point3<f64>) -> f64 + Sync, h: f64, rounds: usize) {
    use rayon::prelude::*;
    let n = surface.vertices.len();
    let mut neighbours: Vec<Vec<u32>> = vec![Vec::new(); n];
    for t in &surface.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            neighbours[a as usize].push(b);
            neighbours[b as usize].push(a);
        }
    }
    for list in &mut neighbours {
        list.sort_unstable();
        list.dedup();
    }
    let normal = |s: &Surface, t: &[u32; 3]| {
        let p = t.map(|v| s.vertices[v as usize]);
        (p[1] - p[0]).cross(&(p[2] - p[0]))
    };
    for _ in 0..rounds {
        let mut vertex_normals = vec![Vector3::zeros(); n];
        for t in &surface.triangles {
            let a = normal(surface, t);
            for v in t {
                vertex_normals[*v as usize] += a;
            }
        }
        let old = surface.vertices.clone();
        let moved: Vec<Point3<f64>> = (0..n)
            .into_par_iter()
            .map(|v| {
                let p = old[v];
                let list = &neighbours[v];
                let nv = vertex_normals[v].try_normalize(0.0).unwrap_or_else(Vector3::zeros);
                if list.is_empty() {
                    return p;
                }
                let centroid = list.iter().fold(Vector3::zeros(), |s, &u| s + old[u as usize].coords)
                    / list.len() as f64;
                let d = centroid - p.coords;
                project_on_level(&f, p + (d - nv * nv.dot(&d)), h)
            })
            .collect();
        let before: Vec<Vector3<f64>> = surface.triangles.iter().map(|t| normal(surface, t)).collect();
        surface.vertices = moved;
        // Undo the moves that turn a triangle too far, until none does.
        loop {
            let mut undo = Vec::new();
            for (t, b) in surface.triangles.iter().zip(&before) {
                let a = normal(surface, t);
                if a.dot(b) <= 0.5 * a.norm() * b.norm() {
                    undo.extend(
                        t.iter().copied().filter(|&v| surface.vertices[v as usize] != old[v as usize]),
                    );
                }
            }
            if undo.is_empty() {
                break;
            }
            for v in undo {
                surface.vertices[v as usize] = old[v as usize];
            }
        }
    }
}

/// Merges the ends of every edge shorter than `min_length` (m) into one vertex on the zero level of
/// `f` (projected from the edge's midpoint; gradient by central differences at `h` / 1000), where
/// that keeps the surface manifold (the two ends share exactly the two neighbours of the edge's
/// triangles) and turns no triangle around them by more than 60 degrees. The two triangles on
/// the edge disappear. Repeats until no edge qualifies.
pub fn collapse_short_edges(surface: &mut Surface, f: impl Fn(&Point3<f64>) -> f64, h: f64, min_length: f64) {
    let normal = |p: [Point3<f64>; 3]| (p[1] - p[0]).cross(&(p[2] - p[0]));
    loop {
        let n = surface.vertices.len();
        let mut around: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (t, tri) in surface.triangles.iter().enumerate() {
            for v in tri {
                around[*v as usize].push(t);
            }
        }
        let mut short: Vec<(f64, u32, u32)> = surface
            .triangles
            .iter()
            .flat_map(|t| (0..3).map(move |k| (t[k], t[(k + 1) % 3])))
            .filter(|(a, b)| a < b)
            .map(|(a, b)| ((surface.vertices[a as usize] - surface.vertices[b as usize]).norm(), a, b))
            .filter(|(l, _, _)| *l < min_length)
            .collect();
        short.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut touched = vec![false; n];
        let mut dead = vec![false; surface.triangles.len()];
        let mut collapsed = 0;
        for (_, a, b) in short {
            if touched[a as usize] || touched[b as usize] {
                continue;
            }
            let ring = |v: u32| -> Vec<u32> {
                let mut r: Vec<u32> = around[v as usize]
                    .iter()
                    .flat_map(|&t| surface.triangles[t])
                    .filter(|&u| u != v)
                    .collect();
                r.sort_unstable();
                r.dedup();
                r
            };
            let (ra, rb) = (ring(a), ring(b));
            let shared = ra.iter().filter(|u| rb.binary_search(u).is_ok()).count();
            let on_edge: Vec<usize> =
                around[a as usize].iter().copied().filter(|&t| surface.triangles[t].contains(&b)).collect();
            if shared != 2 || on_edge.len() != 2 {
                continue;
            }
            let m = project_on_level(
                &f,
                nalgebra::center(&surface.vertices[a as usize], &surface.vertices[b as usize]),
                h,
            );
            let others: Vec<usize> = around[a as usize]
                .iter()
                .chain(&around[b as usize])
                .copied()
                .filter(|t| !on_edge.contains(t))
                .collect();
            let keeps_shape = others.iter().all(|&t| {
                let tri = surface.triangles[t];
                let before = normal(tri.map(|v| surface.vertices[v as usize]));
                let after =
                    normal(tri.map(|v| if v == a || v == b { m } else { surface.vertices[v as usize] }));
                // A triangle far smaller than the grid (its edges will collapse too) may take any
                // shape that is not degenerate after.
                let degenerate = before.norm() <= 1e-4 * h * h;
                after.norm() > 1e-9 * h * h
                    && (degenerate || after.dot(&before) > 0.5 * after.norm() * before.norm())
            });
            if !keeps_shape {
                continue;
            }
            surface.vertices[a as usize] = m;
            for &t in &on_edge {
                dead[t] = true;
            }
            for &t in &others {
                for v in surface.triangles[t].iter_mut().filter(|v| **v == b) {
                    *v = a;
                }
            }
            for v in ra.iter().chain(&rb).chain(&[a, b]) {
                touched[*v as usize] = true;
            }
            collapsed += 1;
        }
        if collapsed == 0 {
            return;
        }
        surface.triangles =
            surface.triangles.iter().zip(&dead).filter(|(_, d)| !**d).map(|(t, _)| *t).collect();
        surface.drop_unused_vertices();
    }
}

/// Flips the shared edge of two triangles where that raises the smaller of their smallest angles
/// (a Delaunay-like improvement that removes the flat "cap" slivers no edge collapse reaches),
/// keeping the surface manifold and the two triangles' normals within 60 degrees of each other.
/// Repeats until no flip helps.
pub fn flip_edges(surface: &mut Surface) {
    let angle_min = |p: [Point3<f64>; 3]| {
        (0..3).map(|i| (p[(i + 1) % 3] - p[i]).angle(&(p[(i + 2) % 3] - p[i]))).fold(f64::INFINITY, f64::min)
    };
    let normal = |p: [Point3<f64>; 3]| (p[1] - p[0]).cross(&(p[2] - p[0]));
    for _ in 0..100 {
        let mut edges: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
        for (t, tri) in surface.triangles.iter().enumerate() {
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                edges.entry((a.min(b), a.max(b))).or_default().push(t);
            }
        }
        let mut touched = vec![false; surface.triangles.len()];
        let mut flips = 0;
        let mut keys: Vec<(u32, u32)> = edges.keys().copied().collect();
        keys.sort_unstable();
        for (a, b) in keys {
            let [s, t] = edges[&(a, b)][..] else { continue };
            if touched[s] || touched[t] {
                continue;
            }
            let (ts, tt) = (surface.triangles[s], surface.triangles[t]);
            // s runs a -> b or b -> a; c and d are the corners off the edge.
            let Some(c) = ts.iter().copied().find(|v| *v != a && *v != b) else { continue };
            let Some(d) = tt.iter().copied().find(|v| *v != a && *v != b) else { continue };
            if c == d || edges.contains_key(&(c.min(d), c.max(d))) {
                continue;
            }
            let k = ts.iter().position(|v| *v == c).unwrap_or(0);
            let (from, to) = (ts[(k + 1) % 3], ts[(k + 2) % 3]);
            // Old: (c, from, to) and (d, to, from); new: (c, from, d) and (c, d, to).
            let p = |v: u32| surface.vertices[v as usize];
            let new = [[c, from, d], [c, d, to]];
            let before = angle_min(ts.map(p)).min(angle_min(tt.map(p)));
            let after = angle_min(new[0].map(p)).min(angle_min(new[1].map(p)));
            let (n0, n1) = (normal(new[0].map(p)), normal(new[1].map(p)));
            let reference = normal(ts.map(p)) + normal(tt.map(p));
            let aligned = [n0, n1].iter().all(|n| n.dot(&reference) > 0.5 * n.norm() * reference.norm());
            if after > before + 1e-9 && aligned && n0.dot(&n1) > 0.5 * n0.norm() * n1.norm() {
                surface.triangles[s] = new[0];
                surface.triangles[t] = new[1];
                touched[s] = true;
                touched[t] = true;
                flips += 1;
            }
        }
        if flips == 0 {
            return;
        }
    }
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
