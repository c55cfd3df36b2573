//! Parallel assembly of the internal forces and the tangent stiffness into a CSR matrix with 3x3
//! node blocks, nodal frames for oblique constraints, and the pressure load on the inner faces.
//!
//! Rows are grouped by node; each node's three rows sit behind one lock, so rayon threads add
//! element contributions concurrently and only meet on shared nodes.

use super::element::{ElementMatrix, element_forces};
use super::material::Material;
use super::wall_mesh::WallMesh;
use crate::error::{Error, Result};
use nalgebra::{Matrix3, Point3, Vector3};
use nalgebra_sparse::CsrMatrix;
use rayon::prelude::*;
use std::sync::Mutex;

/// Node adjacency of the mesh (which nodes share an element), the sparsity of the stiffness matrix.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Start of each node's neighbour list in `neighbours` (n + 1 entries).
    pub offsets: Vec<usize>,
    /// Sorted neighbour nodes (including the node itself).
    pub neighbours: Vec<u32>,
}

impl Pattern {
    /// The adjacency of `mesh`.
    pub fn new(mesh: &WallMesh) -> Self {
        let n = mesh.nodes.len();
        let mut count = vec![0usize; n + 1];
        for e in &mesh.elements {
            for &a in e {
                count[a as usize + 1] += 1;
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut elems = vec![0u32; count[n]];
        for (k, e) in mesh.elements.iter().enumerate() {
            for &a in e {
                elems[fill[a as usize]] = k as u32;
                fill[a as usize] += 1;
            }
        }
        let lists: Vec<Vec<u32>> = (0..n)
            .into_par_iter()
            .map(|a| {
                let mut l: Vec<u32> =
                    elems[count[a]..count[a + 1]].iter().flat_map(|&k| mesh.elements[k as usize]).collect();
                l.sort_unstable();
                l.dedup();
                l
            })
            .collect();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for l in &lists {
            offsets.push(offsets[offsets.len() - 1] + l.len());
        }
        Pattern { offsets, neighbours: lists.concat() }
    }

    /// Number of stored matrix entries (9 per node pair).
    pub fn nnz(&self) -> usize {
        9 * self.neighbours.len()
    }

    /// Position of node `b` in node `a`'s neighbour list.
    fn slot(&self, a: usize, b: u32) -> usize {
        let list = &self.neighbours[self.offsets[a]..self.offsets[a + 1]];
        list.binary_search(&b).unwrap_or_else(|_| unreachable!("node {b} shares an element with node {a}"))
    }
}

/// Displacement constraints: per node an optional frame (rows: local axes) and which local
/// components are held at zero.
#[derive(Debug, Clone)]
pub struct Constraints {
    /// Local frame of each node (rows are the local axes in global coordinates); None = global axes.
    pub frames: Vec<Option<Matrix3<f64>>>,
    /// Fixed local components, per degree of freedom (3 per node).
    pub fixed: Vec<bool>,
}

impl Constraints {
    /// No constraint on `n` nodes.
    pub fn free(n: usize) -> Self {
        Constraints { frames: vec![None; n], fixed: vec![false; 3 * n] }
    }

    /// Holds node `node`'s displacement component along each unit direction of `dirs` (mutually
    /// orthogonal) at zero, in addition to what it already has.
    pub fn fix_directions(&mut self, node: usize, dirs: &[Vector3<f64>]) {
        let mut axes: Vec<Vector3<f64>> = match self.frames[node] {
            Some(r) => (0..3).filter(|&c| self.fixed[3 * node + c]).map(|c| r.row(c).transpose()).collect(),
            None => (0..3).filter(|&c| self.fixed[3 * node + c]).map(|c| Vector3::ith(c, 1.0)).collect(),
        };
        for d in dirs {
            let mut v = *d;
            for a in &axes {
                v -= a * a.dot(&v);
            }
            if v.norm() > 1e-9 {
                axes.push(v.normalize());
            }
        }
        let fixed = axes.len();
        // Complete to a right-handed orthonormal frame.
        for seed in [Vector3::x(), Vector3::y(), Vector3::z()] {
            if axes.len() == 3 {
                break;
            }
            let mut v = seed;
            for a in &axes {
                v -= a * a.dot(&v);
            }
            if v.norm() > 1e-6 {
                axes.push(v.normalize());
            }
        }
        let r = Matrix3::from_rows(&[axes[0].transpose(), axes[1].transpose(), axes[2].transpose()]);
        let aligned = r == Matrix3::identity();
        self.frames[node] = if aligned { None } else { Some(r) };
        for c in 0..3 {
            self.fixed[3 * node + c] = c < fixed;
        }
    }

    /// Rotates node vectors from global to local components (in place).
    pub fn to_local(&self, v: &mut [Vector3<f64>]) {
        for (x, r) in v.iter_mut().zip(&self.frames) {
            if let Some(r) = r {
                *x = r * *x;
            }
        }
    }

    /// Rotates node vectors from local to global components (in place).
    pub fn to_global(&self, v: &mut [Vector3<f64>]) {
        for (x, r) in v.iter_mut().zip(&self.frames) {
            if let Some(r) = r {
                *x = r.transpose() * *x;
            }
        }
    }

    /// Zeroes the fixed components of local node vectors.
    pub fn zero_fixed(&self, v: &mut [Vector3<f64>]) {
        for (n, x) in v.iter_mut().enumerate() {
            for c in 0..3 {
                if self.fixed[3 * n + c] {
                    x[c] = 0.0;
                }
            }
        }
    }
}

/// Internal forces (global components, N) and optionally the tangent stiffness (local frames,
/// constrained rows and columns replaced by the identity) at displacement `u` (m, global).
pub struct Assembled {
    /// Internal force at every node, N.
    pub forces: Vec<Vector3<f64>>,
    /// The tangent stiffness, N/m, when requested.
    pub stiffness: Option<CsrMatrix<f64>>,
}

/// Assembles the mesh at displacement `u`; `materials[e]` is element e's material. Errors when the
/// deformation inverts an element.
pub fn assemble(
    mesh: &WallMesh,
    pattern: &Pattern,
    materials: &[Material],
    constraints: &Constraints,
    u: &[Vector3<f64>],
    tangent: bool,
) -> Result<Assembled> {
    let n = mesh.nodes.len();
    let mut values = vec![0.0; if tangent { pattern.nnz() } else { 0 }];
    let mut forces = vec![Vector3::zeros(); n];
    {
        // One lock per node over its three rows of values and its force.
        let mut rows: Vec<&mut [f64]> = Vec::with_capacity(n);
        let mut rest = values.as_mut_slice();
        for a in 0..n {
            let len = if tangent { 9 * (pattern.offsets[a + 1] - pattern.offsets[a]) } else { 0 };
            let (head, tail) = rest.split_at_mut(len);
            rows.push(head);
            rest = tail;
        }
        let locks: Vec<Mutex<(&mut [f64], &mut Vector3<f64>)>> =
            rows.into_iter().zip(forces.iter_mut()).map(Mutex::new).collect();
        let inverted = (0..mesh.elements.len()).into_par_iter().find_map_any(|e| {
            let el = &mesh.elements[e];
            let x = mesh.element_nodes(e);
            let ue = el.map(|a| u[a as usize]);
            let Some((f, k)) = element_forces(&x, &ue, &materials[e], tangent) else {
                return Some(e);
            };
            let k = k.map(|k| rotate(&k, el, constraints));
            for (i, &a) in el.iter().enumerate() {
                let mut guard = locks[a as usize].lock().unwrap_or_else(|p| p.into_inner());
                let (row, force) = &mut *guard;
                **force += f.fixed_rows::<3>(3 * i);
                if let Some(k) = &k {
                    let width = 3 * (pattern.offsets[a as usize + 1] - pattern.offsets[a as usize]);
                    for (j, &b) in el.iter().enumerate() {
                        let s = 3 * pattern.slot(a as usize, b);
                        for r in 0..3 {
                            for c in 0..3 {
                                row[r * width + s + c] += k[(3 * i + r, 3 * j + c)];
                            }
                        }
                    }
                }
            }
            None
        });
        if let Some(e) = inverted {
            return Err(Error::Diverged(format!("element {e} is inverted (J <= 0) by the displacement")));
        }
    }
    let stiffness = tangent.then(|| to_csr(pattern, values, constraints));
    Ok(Assembled { forces, stiffness })
}

/// The element matrix with each node block in the nodes' local frames: K'_ab = R_a K_ab R_b^T.
fn rotate(k: &ElementMatrix, el: &[u32; 10], constraints: &Constraints) -> Box<ElementMatrix> {
    let mut k = Box::new(*k);
    if el.iter().all(|&a| constraints.frames[a as usize].is_none()) {
        return k;
    }
    for (i, &a) in el.iter().enumerate() {
        for (j, &b) in el.iter().enumerate() {
            let block: Matrix3<f64> = k.fixed_view::<3, 3>(3 * i, 3 * j).into();
            let mut out = block;
            if let Some(ra) = &constraints.frames[a as usize] {
                out = ra * out;
            }
            if let Some(rb) = &constraints.frames[b as usize] {
                out *= rb.transpose();
            }
            k.fixed_view_mut::<3, 3>(3 * i, 3 * j).copy_from(&out);
        }
    }
    k
}

/// Builds the CSR matrix from node-grouped values, replacing constrained rows and columns by the
/// identity.
fn to_csr(pattern: &Pattern, mut values: Vec<f64>, constraints: &Constraints) -> CsrMatrix<f64> {
    let n = pattern.offsets.len() - 1;
    let mut row_offsets = Vec::with_capacity(3 * n + 1);
    let mut cols = Vec::with_capacity(values.len());
    row_offsets.push(0);
    for a in 0..n {
        let list = &pattern.neighbours[pattern.offsets[a]..pattern.offsets[a + 1]];
        for _ in 0..3 {
            cols.extend(list.iter().flat_map(|&b| (0..3).map(move |c| 3 * b as usize + c)));
            row_offsets.push(cols.len());
        }
    }
    let fixed = &constraints.fixed;
    let rows: Vec<(usize, usize)> = (0..3 * n).map(|r| (row_offsets[r], row_offsets[r + 1])).collect();
    let mut chunks: Vec<&mut [f64]> = Vec::with_capacity(3 * n);
    let mut rest = values.as_mut_slice();
    for (s, e) in &rows {
        let (head, tail) = rest.split_at_mut(e - s);
        chunks.push(head);
        rest = tail;
    }
    chunks.into_par_iter().enumerate().for_each(|(r, row)| {
        let c = &cols[rows[r].0..rows[r].1];
        for (v, &col) in row.iter_mut().zip(c) {
            if fixed[r] || fixed[col] {
                *v = if r == col { 1.0 } else { 0.0 };
            }
        }
    });
    CsrMatrix::try_from_csr_data(3 * n, 3 * n, row_offsets, cols, values)
        .unwrap_or_else(|e| unreachable!("the pattern builds a valid CSR matrix: {e}"))
}

/// 7-point, degree-5 rule on the reference triangle: (L0, L1, L2) and weight (area 1/2).
const TRIANGLE7: [([f64; 3], f64); 7] = {
    let (a1, b1, w1) = (0.059_715_871_789_770, 0.470_142_064_105_115, 0.132_394_152_788_506 / 2.0);
    let (a2, b2, w2) = (0.797_426_985_353_087, 0.101_286_507_323_456, 0.125_939_180_544_827 / 2.0);
    let c = 1.0 / 3.0;
    [
        ([c, c, c], 0.225 / 2.0),
        ([a1, b1, b1], w1),
        ([b1, a1, b1], w1),
        ([b1, b1, a1], w1),
        ([a2, b2, b2], w2),
        ([b2, a2, b2], w2),
        ([b2, b2, a2], w2),
    ]
};

/// Nodal forces (N, global) of the pressure on the inner faces: p (Pa) per lumen-surface vertex,
/// linear over each face, acting on the faces at positions `x` (reference or deformed nodes).
pub fn pressure_forces(
    mesh: &WallMesh,
    x: &[Point3<f64>],
    pressure: &dyn Fn(u32) -> f64,
) -> Vec<Vector3<f64>> {
    let mut f = vec![Vector3::zeros(); x.len()];
    for face in &mesh.inner_faces {
        let p = face.vertices.map(pressure);
        let xs = face.nodes.map(|n| x[n as usize].coords);
        for (l, w) in TRIANGLE7 {
            // 6-node triangle: corners L_i (2 L_i - 1), mids 4 L_i L_j on (0,1), (1,2), (2,0).
            let n = [
                l[0] * (2.0 * l[0] - 1.0),
                l[1] * (2.0 * l[1] - 1.0),
                l[2] * (2.0 * l[2] - 1.0),
                4.0 * l[0] * l[1],
                4.0 * l[1] * l[2],
                4.0 * l[2] * l[0],
            ];
            // Derivatives with respect to (L1, L2), with L0 = 1 - L1 - L2.
            let d1 =
                [-(4.0 * l[0] - 1.0), 4.0 * l[1] - 1.0, 0.0, 4.0 * (l[0] - l[1]), 4.0 * l[2], -4.0 * l[2]];
            let d2 =
                [-(4.0 * l[0] - 1.0), 0.0, 4.0 * l[2] - 1.0, -4.0 * l[1], 4.0 * l[1], 4.0 * (l[0] - l[2])];
            let (mut t1, mut t2) = (Vector3::zeros(), Vector3::zeros());
            for k in 0..6 {
                t1 += xs[k] * d1[k];
                t2 += xs[k] * d2[k];
            }
            let pressure = p[0] * l[0] + p[1] * l[1] + p[2] * l[2];
            let load = t1.cross(&t2) * (pressure * w);
            for k in 0..6 {
                f[face.nodes[k] as usize] += load * n[k];
            }
        }
    }
    f
}
