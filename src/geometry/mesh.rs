//! Triangle surfaces and ports: the geometry every later stage reads.

use nalgebra::{Point3, Vector3};

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
