//! Stress and strain recovery at the nodes: each element evaluates its fields at its own nodes (the
//! volumetric part of a mean-dilatation element at its centroid), and nodes average the elements
//! that share them. Derived scalars: von Mises, maximum principal, hoop and radial stress.

use super::axis::Axis;
use super::element::{NODES, Rule, displacement_gradient, gradients};
use super::material::{Material, Response};
use super::wall_mesh::WallMesh;
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

/// Fields at the mesh nodes, SI units.
#[derive(Debug, Clone, Default)]
pub struct NodalFields {
    /// Displacement, m.
    pub displacement: Vec<Vector3<f64>>,
    /// Cauchy stress tensor, Pa.
    pub stress: Vec<Matrix3<f64>>,
    /// Strain tensor (small strain, or Green-Lagrange for the large-deformation models).
    pub strain: Vec<Matrix3<f64>>,
    /// von Mises equivalent stress, Pa.
    pub von_mises: Vec<f64>,
    /// Largest principal stress, Pa.
    pub max_principal: Vec<f64>,
    /// Hoop (circumferential) stress in the axis frame, Pa.
    pub hoop: Vec<f64>,
    /// Radial stress in the axis frame, Pa.
    pub radial: Vec<f64>,
}

/// von Mises stress (Pa) of a Cauchy stress tensor.
pub fn von_mises(s: &Matrix3<f64>) -> f64 {
    let dev = s - Matrix3::identity() * (s.trace() / 3.0);
    (1.5 * dev.norm_squared()).sqrt()
}

/// Recovers nodal stresses and strains from the displacement `u` (m, global components).
pub fn recover(mesh: &WallMesh, materials: &[Material], axis: &Axis, u: &[Vector3<f64>]) -> NodalFields {
    let per_element: Vec<[(Matrix3<f64>, Matrix3<f64>); 10]> = (0..mesh.elements.len())
        .into_par_iter()
        .map(|e| {
            let x = mesh.element_nodes(e);
            let ue = mesh.elements[e].map(|a| u[a as usize]);
            let m = &materials[e];
            let at = |l: [f64; 4]| displacement_gradient(&ue, &gradients(&x, l).1);
            let h_centroid = at([0.25; 4]);
            std::array::from_fn(|i| {
                let h = at(NODES[i]);
                let mut s = Matrix3::zeros();
                for (part, rule) in m.parts() {
                    let h = if *rule == Rule::Centroid { &h_centroid } else { &h };
                    s += m.cauchy(*part, h).unwrap_or_else(Matrix3::zeros);
                }
                (s, m.strain(&h))
            })
        })
        .collect();
    let n = mesh.nodes.len();
    let mut stress = vec![Matrix3::zeros(); n];
    let mut strain = vec![Matrix3::zeros(); n];
    let mut count = vec![0u32; n];
    for (el, vals) in mesh.elements.iter().zip(&per_element) {
        for (&a, (s, e)) in el.iter().zip(vals) {
            stress[a as usize] += s;
            strain[a as usize] += e;
            count[a as usize] += 1;
        }
    }
    for ((s, e), &c) in stress.iter_mut().zip(&mut strain).zip(&count) {
        let c = f64::from(c.max(1));
        *s /= c;
        *e /= c;
    }
    let frames: Vec<_> = mesh.nodes.par_iter().map(|p| axis.frame(p)).collect();
    let component = |d: &Vector3<f64>, s: &Matrix3<f64>| d.dot(&(s * d));
    NodalFields {
        displacement: u.to_vec(),
        von_mises: stress.iter().map(von_mises).collect(),
        max_principal: stress.iter().map(|s| s.symmetric_eigenvalues().max()).collect(),
        hoop: stress.iter().zip(&frames).map(|(s, f)| component(&f.hoop, s)).collect(),
        radial: stress.iter().zip(&frames).map(|(s, f)| component(&f.radial, s)).collect(),
        stress,
        strain,
    }
}
