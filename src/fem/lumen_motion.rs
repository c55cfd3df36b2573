//! The wall's displacement carried back to the lumen the flow runs in: each wall vertex of the
//! unloaded lumen moves as the point of the wall's lumen faces nearest to it, each cap with its rim,
//! and each port with its cap.

use super::element::triangle6_shape;
use super::wall_mesh::WallMesh;
use crate::error::{Error, Result};
use crate::geometry::mesh::{Port, Surface};
use crate::geometry::ports::WALL_TAG;
use crate::geometry::remesh::closest_on_triangle;
use nalgebra::{Point3, Vector3};
use std::collections::HashMap;

/// Farthest a lumen vertex may lie from the wall's lumen faces, in mean face edge lengths: beyond,
/// the wall was built on another surface.
const MAX_GAP_EDGES: f64 = 2.0;

/// The displacement (m) of every vertex of `surface`, the unloaded lumen `mesh` was built on (its
/// `tags`: 0 wall, k + 1 the cap of port k), under the wall displacement `u` (m, one per mesh node):
/// wall vertices move as the nearest point of the mesh's lumen faces (quadratic on each face), the
/// vertices inside a cap as its rim does on average.
pub fn lumen_displacement(
    mesh: &WallMesh,
    u: &[Vector3<f64>],
    surface: &Surface,
    tags: &[u16],
    ports: &[Port],
) -> Result<Vec<Vector3<f64>>> {
    let faces: Vec<[u32; 6]> = mesh.inner_faces.iter().map(|f| f.nodes).collect();
    if faces.is_empty() || u.len() != mesh.nodes.len() {
        return Err(Error::parameter(
            "wall",
            format!(
                "has {} lumen faces and {} displacements for {} nodes: nothing to move the lumen with",
                faces.len(),
                u.len(),
                mesh.nodes.len()
            ),
        ));
    }
    let corner = |f: &[u32; 6], i: usize| mesh.nodes[f[i] as usize];
    let longest = |f: &[u32; 6]| {
        let [a, b, c] = [corner(f, 0), corner(f, 1), corner(f, 2)];
        (b - a).norm().max((c - b).norm()).max((a - c).norm())
    };
    // Faces binned by centroid in cells of two longest edges: the 27 cells around a point hold
    // every face within one cell of it.
    let cell = 2.0 * faces.iter().map(longest).fold(0.0, f64::max);
    let key = |p: &Point3<f64>| p.coords.map(|x| (x / cell).floor() as i64);
    let mut bins: HashMap<[i64; 3], Vec<u32>> = HashMap::new();
    for (k, f) in faces.iter().enumerate() {
        let c = key(&Point3::from((corner(f, 0).coords + corner(f, 1).coords + corner(f, 2).coords) / 3.0));
        bins.entry([c.x, c.y, c.z]).or_default().push(k as u32);
    }
    let on_wall = vertex_tags(surface, tags);
    let mut d = vec![Vector3::zeros(); surface.vertices.len()];
    for (v, p) in surface.vertices.iter().enumerate() {
        if !on_wall[v].0 {
            continue;
        }
        let c = key(p);
        let mut best: Option<(f64, usize, Point3<f64>)> = None;
        for i in -1..=1 {
            for j in -1..=1 {
                for k in -1..=1 {
                    for &f in bins.get(&[c.x + i, c.y + j, c.z + k]).into_iter().flatten() {
                        let face = &faces[f as usize];
                        let q = closest_on_triangle(p, &corner(face, 0), &corner(face, 1), &corner(face, 2));
                        let gap = (q - p).norm();
                        if best.is_none_or(|b| gap < b.0) {
                            best = Some((gap, f as usize, q));
                        }
                    }
                }
            }
        }
        let (_, f, q) = best.filter(|b| b.0 <= MAX_GAP_EDGES * longest(&faces[b.1])).ok_or_else(|| {
            Error::parameter(
                "wall",
                format!(
                    "the lumen vertex at ({:.3}, {:.3}, {:.3}) mm lies farther than {MAX_GAP_EDGES} edge lengths \
                     from the wall's lumen faces: the wall was not built on this lumen",
                    p.x * 1e3,
                    p.y * 1e3,
                    p.z * 1e3,
                ),
            )
        })?;
        let face = &faces[f];
        let l = barycentric(&q, &corner(face, 0), &corner(face, 1), &corner(face, 2));
        d[v] = face.iter().zip(triangle6_shape(l)).map(|(&n, w)| u[n as usize] * w).sum();
    }
    for (k, port) in ports.iter().enumerate() {
        let (shift, stretch) = rim_motion(surface, &on_wall, k, port, &d);
        for (v, p) in surface.vertices.iter().enumerate() {
            if !on_wall[v].0 && on_wall[v].1 == Some(k) {
                d[v] = shift + stretch * in_plane(port, p);
            }
        }
    }
    Ok(d)
}

/// The ports of `surface` (unloaded, with `tags`) after its vertices move by `d` (m): each centre
/// shifts and each radius stretches as its rim does on average.
pub fn moved_ports(surface: &Surface, tags: &[u16], ports: &[Port], d: &[Vector3<f64>]) -> Vec<Port> {
    let on = vertex_tags(surface, tags);
    ports
        .iter()
        .enumerate()
        .map(|(k, port)| {
            let (shift, stretch) = rim_motion(surface, &on, k, port, d);
            Port { center: port.center + shift, radius: port.radius * (1.0 + stretch), ..port.clone() }
        })
        .collect()
}

/// How the rim of port `k` moves under `d` on average: the in-plane shift of its vertices (m) and
/// their mean radial displacement over their mean distance from the centre (a stretch, 0 when the
/// port has no rim).
fn rim_motion(
    surface: &Surface,
    on: &[(bool, Option<usize>)],
    k: usize,
    port: &Port,
    d: &[Vector3<f64>],
) -> (Vector3<f64>, f64) {
    let rim: Vec<usize> = (0..surface.vertices.len()).filter(|&v| on[v].0 && on[v].1 == Some(k)).collect();
    if rim.is_empty() {
        return (Vector3::zeros(), 0.0);
    }
    let n = port.normal;
    let flat = |x: Vector3<f64>| x - n * x.dot(&n);
    let shift = rim.iter().map(|&v| flat(d[v])).sum::<Vector3<f64>>() / rim.len() as f64;
    let (mut radial, mut distance) = (0.0, 0.0);
    for &v in &rim {
        let r = in_plane(port, &surface.vertices[v]);
        let norm = r.norm();
        if norm > 0.0 {
            radial += (flat(d[v]) - shift).dot(&(r / norm));
            distance += norm;
        }
    }
    (shift, if distance > 0.0 { radial / distance } else { 0.0 })
}

/// The offset of `p` from the centre of `port`, in the port's plane (m).
fn in_plane(port: &Port, p: &Point3<f64>) -> Vector3<f64> {
    let r = p - port.center;
    r - port.normal * r.dot(&port.normal)
}

/// Per vertex of `surface` (its triangles' `tags`: 0 wall, k + 1 the cap of port k): whether a
/// wall triangle uses it, and the port whose cap uses it (if any).
pub fn vertex_tags(surface: &Surface, tags: &[u16]) -> Vec<(bool, Option<usize>)> {
    let mut on = vec![(false, None); surface.vertices.len()];
    for (t, &tag) in surface.triangles.iter().zip(tags) {
        for &v in t {
            let entry = &mut on[v as usize];
            if tag == WALL_TAG {
                entry.0 = true;
            } else {
                entry.1 = Some(usize::from(tag) - 1);
            }
        }
    }
    on
}

/// Barycentric coordinates of `q` (on the triangle's plane) in triangle (a, b, c).
fn barycentric(q: &Point3<f64>, a: &Point3<f64>, b: &Point3<f64>, c: &Point3<f64>) -> [f64; 3] {
    let (v0, v1, v2) = (b - a, c - a, q - a);
    let (d00, d01, d11) = (v0.dot(&v0), v0.dot(&v1), v1.dot(&v1));
    let (d20, d21) = (v2.dot(&v0), v2.dot(&v1));
    let denom = d00 * d11 - d01 * d01;
    if denom <= 0.0 {
        return [1.0, 0.0, 0.0];
    }
    let l1 = (d11 * d20 - d01 * d21) / denom;
    let l2 = (d00 * d21 - d01 * d20) / denom;
    [1.0 - l1 - l2, l1, l2]
}
