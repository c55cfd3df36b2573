//! The quadratic tetrahedron (TET10): shape functions, quadrature and the element residual and
//! tangent for any material given as a first Piola-Kirchhoff stress and its derivative.
//!
//! Node order is VTK's (`VTK_QUADRATIC_TETRA`): corners 0-3, then the mid-edge nodes of the edges
//! (0,1), (1,2), (0,2), (0,3), (1,3), (2,3).

use super::material::{Response, Stiffness};
use nalgebra::{Matrix3, Point3, SMatrix, SVector, Vector3};

/// Corner pairs of the six edges, in the order of the mid-edge nodes 4-9.
pub const EDGES: [[usize; 2]; 6] = [[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]];

/// The four faces of a tetrahedron, each as (corner, corner, corner, mid-edge, mid-edge, mid-edge)
/// in the order of a 6-node triangle, oriented outward for a positive element.
pub const FACES: [[usize; 6]; 4] =
    [[0, 2, 1, 6, 5, 4], [0, 1, 3, 4, 8, 7], [1, 2, 3, 5, 9, 8], [0, 3, 2, 7, 9, 6]];

/// Element residual vector (3 components per node, node-major).
pub type ElementVector = SVector<f64, 30>;
/// Element tangent stiffness matrix.
pub type ElementMatrix = SMatrix<f64, 30, 30>;

/// Barycentric coordinates of the 4-point Gauss rule (exact for quadratics); weight 1/24 each.
const GAUSS4: [[f64; 4]; 4] = {
    let a = 0.585_410_196_624_968_5;
    let b = 0.138_196_601_125_010_5;
    [[a, b, b, b], [b, a, b, b], [b, b, a, b], [b, b, b, a]]
};
/// Weight of each 4-point Gauss point (the reference tetrahedron has volume 1/6).
const GAUSS4_WEIGHT: f64 = 1.0 / 24.0;
/// The centroid rule: one point, weight 1/6.
const CENTROID: [f64; 4] = [0.25; 4];

/// Barycentric coordinates of the ten nodes.
pub const NODES: [[f64; 4]; 10] = [
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, 1.0],
    [0.5, 0.5, 0.0, 0.0],
    [0.0, 0.5, 0.5, 0.0],
    [0.5, 0.0, 0.5, 0.0],
    [0.5, 0.0, 0.0, 0.5],
    [0.0, 0.5, 0.0, 0.5],
    [0.0, 0.0, 0.5, 0.5],
];

/// Derivatives of the ten shape functions with respect to the reference coordinates (ξ, η, ζ) at
/// the point with barycentric coordinates `l` (L0 = 1 - ξ - η - ζ).
fn reference_gradients(l: [f64; 4]) -> [Vector3<f64>; 10] {
    // d L_i / d(ξ, η, ζ)
    let dl = [Vector3::new(-1.0, -1.0, -1.0), Vector3::x(), Vector3::y(), Vector3::z()];
    let mut g = [Vector3::zeros(); 10];
    for i in 0..4 {
        g[i] = dl[i] * (4.0 * l[i] - 1.0);
    }
    for (k, [i, j]) in EDGES.iter().enumerate() {
        g[4 + k] = (dl[*i] * l[*j] + dl[*j] * l[*i]) * 4.0;
    }
    g
}

/// Values of the ten shape functions at barycentric coordinates `l`.
#[cfg(test)]
fn shape(l: [f64; 4]) -> [f64; 10] {
    let mut n = [0.0; 10];
    for i in 0..4 {
        n[i] = l[i] * (2.0 * l[i] - 1.0);
    }
    for (k, [i, j]) in EDGES.iter().enumerate() {
        n[4 + k] = 4.0 * l[*i] * l[*j];
    }
    n
}

/// Jacobian determinant and spatial gradients of the shape functions of the element with nodes `x`
/// at barycentric coordinates `l`; the determinant is six times the local volume ratio (m^3).
pub fn gradients(x: &[Point3<f64>; 10], l: [f64; 4]) -> (f64, [Vector3<f64>; 10]) {
    let dn = reference_gradients(l);
    let mut j = Matrix3::zeros();
    for (xi, g) in x.iter().zip(&dn) {
        j += xi.coords * g.transpose();
    }
    let det = j.determinant();
    let inv_t = j.try_inverse().unwrap_or_else(Matrix3::zeros).transpose();
    (det, dn.map(|g| inv_t * g))
}

/// The displacement gradient ∂u/∂X (3x3) from nodal displacements and shape-function gradients.
pub fn displacement_gradient(u: &[Vector3<f64>; 10], grad: &[Vector3<f64>; 10]) -> Matrix3<f64> {
    let mut h = Matrix3::zeros();
    for (ui, g) in u.iter().zip(grad) {
        h += ui * g.transpose();
    }
    h
}

/// Which quadrature a part of the strain energy is integrated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The 4-point Gauss rule (full integration of a straight-sided TET10).
    Gauss4,
    /// One point at the centroid: the element-mean dilatation, which avoids volumetric locking.
    Centroid,
}

impl Rule {
    /// Points (barycentric) and weights (reference volume) of the rule.
    fn points(self) -> &'static [([f64; 4], f64)] {
        const G4: [([f64; 4], f64); 4] = [
            (GAUSS4[0], GAUSS4_WEIGHT),
            (GAUSS4[1], GAUSS4_WEIGHT),
            (GAUSS4[2], GAUSS4_WEIGHT),
            (GAUSS4[3], GAUSS4_WEIGHT),
        ];
        const C1: [([f64; 4], f64); 1] = [(CENTROID, 1.0 / 6.0)];
        match self {
            Rule::Gauss4 => &G4,
            Rule::Centroid => &C1,
        }
    }
}

/// Internal force vector (N) and, when `tangent` is set, the tangent stiffness (N/m) of one element
/// with reference nodes `x` and nodal displacements `u` (m), for the energy parts of `material`.
/// Returns `None` when the deformation inverts a quadrature point (J <= 0).
pub fn element_forces(
    x: &[Point3<f64>; 10],
    u: &[Vector3<f64>; 10],
    material: &impl Response,
    tangent: bool,
) -> Option<(ElementVector, Option<Box<ElementMatrix>>)> {
    let mut f = ElementVector::zeros();
    let mut k = tangent.then(|| Box::new(ElementMatrix::zeros()));
    for (part, rule) in material.parts() {
        for &(l, w) in rule.points() {
            let (det, grad) = gradients(x, l);
            let h = displacement_gradient(u, &grad);
            let (p, a) = material.stress(*part, &h, tangent)?;
            let dv = w * det;
            for (n, g) in grad.iter().enumerate() {
                let mut rows = f.fixed_rows_mut::<3>(3 * n);
                rows += p * g * dv;
            }
            if let (Some(k), Some(a)) = (k.as_mut(), a) {
                add_tangent(k, &grad, &a, dv);
            }
        }
    }
    Some((f, k))
}

/// Adds ∫ ∇N_a · A · ∇N_b dV for all node pairs to `k`; `a[(3*i + J, 3*k + L)]` = ∂P_iJ/∂F_kL.
fn add_tangent(k: &mut ElementMatrix, grad: &[Vector3<f64>; 10], a: &Stiffness, dv: f64) {
    // t[a][(i, 3k+L)] = Σ_J ∇N_a,J A_iJkL
    let mut t = [SMatrix::<f64, 3, 9>::zeros(); 10];
    for (ta, ga) in t.iter_mut().zip(grad) {
        for i in 0..3 {
            for c in 0..9 {
                ta[(i, c)] = (0..3).map(|jj| ga[jj] * a[(3 * i + jj, c)]).sum::<f64>() * dv;
            }
        }
    }
    for (na, ta) in t.iter().enumerate() {
        for (nb, gb) in grad.iter().enumerate() {
            for i in 0..3 {
                for kk in 0..3 {
                    let v: f64 = (0..3).map(|l| ta[(i, 3 * kk + l)] * gb[l]).sum();
                    k[(3 * na + i, 3 * nb + kk)] += v;
                }
            }
        }
    }
}

/// The 6-node (quadratic) triangle's shape functions at area coordinates `l`: corners
/// l_i (2 l_i - 1), then the mid-edge nodes (0-1, 1-2, 2-0) 4 l_i l_j.
pub fn triangle6_shape(l: [f64; 3]) -> [f64; 6] {
    [
        l[0] * (2.0 * l[0] - 1.0),
        l[1] * (2.0 * l[1] - 1.0),
        l[2] * (2.0 * l[2] - 1.0),
        4.0 * l[0] * l[1],
        4.0 * l[1] * l[2],
        4.0 * l[2] * l[0],
    ]
}

/// Volume (m^3) of the straight-sided tetrahedron with corners `c`.
pub fn volume(c: [Point3<f64>; 4]) -> f64 {
    (c[1] - c[0]).cross(&(c[2] - c[0])).dot(&(c[3] - c[0])) / 6.0
}

/// Scaled Jacobian of the tetrahedron with corners `c` (Verdict's definition): 6 V divided by the
/// largest product of the three edge lengths at a corner, times √2 so that a regular tetrahedron
/// scores 1, clamped to [-1, 1]; negative when inverted. For straight-sided TET10 elements (mid-edge
/// nodes at the midpoints, as generated here) this is the scaled Jacobian of the quadratic element too.
pub fn scaled_jacobian(c: [Point3<f64>; 4]) -> f64 {
    let len = |a: usize, b: usize| (c[a] - c[b]).norm();
    let product =
        (0..4).map(|o| (0..4).filter(|&k| k != o).map(|k| len(o, k)).product::<f64>()).fold(0.0, f64::max);
    if product > 0.0 { (6.0 * volume(c) / product * std::f64::consts::SQRT_2).clamp(-1.0, 1.0) } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> [Point3<f64>; 10] {
        let c = [
            Point3::origin(),
            Point3::new(1.0, 0.0, 0.0),
            Point3::new(0.0, 1.0, 0.0),
            Point3::new(0.0, 0.0, 1.0),
        ];
        std::array::from_fn(|n| {
            if n < 4 {
                c[n]
            } else {
                Point3::from((c[EDGES[n - 4][0]].coords + c[EDGES[n - 4][1]].coords) / 2.0)
            }
        })
    }

    #[test]
    fn shape_functions_are_a_partition_of_unity_and_interpolate_nodes() {
        for (i, l) in NODES.iter().enumerate() {
            let n = shape(*l);
            for (j, v) in n.iter().enumerate() {
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        let g = reference_gradients(GAUSS4[1]);
        let sum: Vector3<f64> = g.iter().sum();
        assert!(sum.norm() < 1e-14);
    }

    #[test]
    fn gauss_rule_integrates_quadratics_exactly() {
        // ∫ ξ^2 over the reference tetrahedron = 1/60; ∫ ξη = 1/120.
        let (mut xx, mut xy) = (0.0, 0.0);
        for &(l, w) in Rule::Gauss4.points() {
            xx += w * l[1] * l[1];
            xy += w * l[1] * l[2];
        }
        assert!((xx - 1.0 / 60.0).abs() < 1e-15 && (xy - 1.0 / 120.0).abs() < 1e-15);
    }

    #[test]
    fn regular_tetrahedron_scores_one_and_inverted_scores_negative() {
        let s = 1.0 / 2f64.sqrt();
        let c = [
            Point3::new(1.0, 0.0, -s),
            Point3::new(-1.0, 0.0, -s),
            Point3::new(0.0, 1.0, s),
            Point3::new(0.0, -1.0, s),
        ];
        let c = if volume(c) < 0.0 { [c[1], c[0], c[2], c[3]] } else { c };
        assert!((scaled_jacobian(c) - 1.0).abs() < 1e-12, "{}", scaled_jacobian(c));
        assert!(scaled_jacobian([c[1], c[0], c[2], c[3]]) < 0.0);
        let (det, _) = gradients(&reference(), GAUSS4[0]);
        assert!((det - 1.0).abs() < 1e-14);
    }
}
