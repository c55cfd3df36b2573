//! Triangle surfaces and ports: the geometry every later stage reads.

use nalgebra::{Point3, Vector3};
use std::cmp::Ordering;

/// A triangulated surface in metres; triangles index `vertices` and are oriented outward
/// (counter-clockwise seen from outside) when the surface is closed.
#[derive(Debug, Clone, Default)]
pub struct Surface {
    /// Vertex positions (m).
    pub vertices: Vec<Point3<f64>>,
    /// Vertex indices of each triangle.
    pub triangles: Vec<[u32; 3]>,
}

impl Surface {
    /// Removes the vertices no triangle uses, renumbering the triangles (order kept).
    pub fn drop_unused_vertices(&mut self) {
        let mut index = vec![u32::MAX; self.vertices.len()];
        let mut vertices = Vec::with_capacity(self.vertices.len());
        for t in &mut self.triangles {
            for v in t.iter_mut() {
                if index[*v as usize] == u32::MAX {
                    index[*v as usize] = vertices.len() as u32;
                    vertices.push(self.vertices[*v as usize]);
                }
                *v = index[*v as usize];
            }
        }
        self.vertices = vertices;
    }
}

/// An open end of the vessel (inlet or outlet), closed by a flat cap in the surface.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    /// Name used in outputs and case files, e.g. `inlet`, `outlet`.
    pub name: String,
    /// Centre of the cap (m).
    pub center: Point3<f64>,
    /// Unit normal of the cap, pointing out of the fluid.
    pub normal: Vector3<f64>,
    /// Equivalent radius of the cap (m).
    pub radius: f64,
}

/// What a port imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRole {
    /// A prescribed velocity (inlet).
    Velocity,
    /// A prescribed pressure (outlet).
    Pressure,
}

/// Möller-Trumbore intersection of the segment `p + t d`, t in [0, 1], with a triangle (f64, with a
/// relative tolerance of 1e-9 on the barycentric coordinates so that edges are never missed).
pub fn segment_triangle(p: Point3<f64>, d: Vector3<f64>, v: [Point3<f64>; 3]) -> Option<f64> {
    const EPS: f64 = 1e-9;
    let (e1, e2) = (v[1] - v[0], v[2] - v[0]);
    let h = d.cross(&e2);
    let det = e1.dot(&h);
    if det.abs() <= 1e-14 * d.norm() * e1.norm() * e2.norm() {
        return None;
    }
    let s = p - v[0];
    let u = s.dot(&h) / det;
    let qv = s.cross(&e1);
    let w = d.dot(&qv) / det;
    let t = e2.dot(&qv) / det;
    (u >= -EPS && w >= -EPS && u + w <= 1.0 + EPS && (-EPS..=1.0 + EPS).contains(&t))
        .then_some(t.clamp(0.0, 1.0))
}

/// A Dijkstra queue entry (distance, node) that `BinaryHeap` pops smallest distance first.
#[derive(PartialEq)]
pub struct Entry(pub f64, pub usize);
impl Eq for Entry {}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0)
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
