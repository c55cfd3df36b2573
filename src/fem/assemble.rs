//! Parallel assembly of the internal forces and the tangent stiffness into a CSR matrix with 3x3
//! node blocks, nodal frames for oblique constraints, and the pressure load on the inner faces.
//!
//! Rows are grouped by node; each node's three rows sit behind one lock, so rayon threads add
//! element contributions concurrently and only meet on shared nodes.

use super::element::{element_forces, triangle6_shape};
use super::material::Material;
use super::wall_mesh::WallMesh;
use crate::error::{Error, Result};
use nalgebra::{Matrix3, Point3, SMatrix, Vector3};
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
    /// Elements grouped by colour: no two elements of a colour share a node, so each colour is
    /// assembled in parallel and every node sums its elements in the same order on every run.
    pub colours: Vec<Vec<u32>>,
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
        Pattern { offsets, neighbours: lists.concat(), colours: colour(mesh) }
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

/// Greedy colouring of the elements: each takes the smallest colour none of its nodes has seen.
fn colour(mesh: &WallMesh) -> Vec<Vec<u32>> {
    let mut seen: Vec<Vec<u16>> = vec![Vec::new(); mesh.nodes.len()];
    let mut colours: Vec<Vec<u32>> = Vec::new();
    let mut taken = Vec::new();
    for (e, el) in mesh.elements.iter().enumerate() {
        taken.clear();
        taken.resize(colours.len() + 1, false);
        for &a in el {
            for &c in &seen[a as usize] {
                taken[c as usize] = true;
            }
        }
        let c = taken.iter().position(|t| !t).unwrap_or(colours.len()) as u16;
        for &a in el {
            seen[a as usize].push(c);
        }
        if colours.len() <= c as usize {
            colours.resize(c as usize + 1, Vec::new());
        }
        colours[c as usize].push(e as u32);
    }
    colours
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

/// What an assembly needs besides the state: the mesh, its sparsity, each element's material and
/// the constraints.
#[derive(Clone, Copy)]
pub struct Assembly<'a> {
    /// The wall mesh.
    pub mesh: &'a WallMesh,
    /// Its node adjacency.
    pub pattern: &'a Pattern,
    /// Material of each element.
    pub materials: &'a [Material],
    /// Nodal frames and fixed components.
    pub constraints: &'a Constraints,
}

/// Assembles at displacement `u` (m, global); `faces` are load-stiffness blocks added to the
/// tangent. Errors when the deformation inverts an element.
pub fn assemble(
    system: Assembly,
    u: &[Vector3<f64>],
    tangent: bool,
    faces: &[FaceStiffness],
) -> Result<Assembled> {
    let Assembly { mesh, pattern, materials, constraints } = system;
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
        let element = |e: usize| {
            let el = &mesh.elements[e];
            let x = mesh.element_nodes(e);
            let ue = el.map(|a| u[a as usize]);
            let Some((f, k)) = element_forces(&x, &ue, &materials[e], tangent) else {
                return Some(e);
            };
            for (i, &a) in el.iter().enumerate() {
                let mut guard = locks[a as usize].lock().unwrap_or_else(|p| p.into_inner());
                *guard.1 += f.fixed_rows::<3>(3 * i);
            }
            if let Some(mut k) = k {
                scatter(&locks, pattern, el, &mut k, constraints);
            }
            None
        };
        let inverted =
            pattern.colours.iter().find_map(|c| c.par_iter().find_map_any(|&e| element(e as usize)));
        for (nodes, k) in faces.iter().filter(|_| tangent) {
            scatter(&locks, pattern, nodes, &mut k.clone(), constraints);
        }
        if let Some(e) = inverted {
            return Err(Error::Diverged(format!("element {e} is inverted (J <= 0) by the displacement")));
        }
    }
    let stiffness = tangent.then(|| to_csr(pattern, values, constraints));
    Ok(Assembled { forces, stiffness })
}

/// Adds the matrix `k` (3x3 blocks over `nodes`) into the locked node rows, each block first turned
/// into the nodes' local frames: K'_ab = R_a K_ab R_b^T.
fn scatter<const D: usize>(
    locks: &[Mutex<(&mut [f64], &mut Vector3<f64>)>],
    pattern: &Pattern,
    nodes: &[u32],
    k: &mut SMatrix<f64, D, D>,
    constraints: &Constraints,
) {
    for (i, &a) in nodes.iter().enumerate() {
        for (j, &b) in nodes.iter().enumerate() {
            let (ra, rb) = (&constraints.frames[a as usize], &constraints.frames[b as usize]);
            if ra.is_none() && rb.is_none() {
                continue;
            }
            let mut block: Matrix3<f64> = k.fixed_view::<3, 3>(3 * i, 3 * j).into();
            if let Some(ra) = ra {
                block = ra * block;
            }
            if let Some(rb) = rb {
                block *= rb.transpose();
            }
            k.fixed_view_mut::<3, 3>(3 * i, 3 * j).copy_from(&block);
        }
    }
    for (i, &a) in nodes.iter().enumerate() {
        let mut guard = locks[a as usize].lock().unwrap_or_else(|p| p.into_inner());
        let row = &mut *guard.0;
        let width = 3 * (pattern.offsets[a as usize + 1] - pattern.offsets[a as usize]);
        for (j, &b) in nodes.iter().enumerate() {
            let s = 3 * pattern.slot(a as usize, b);
            for r in 0..3 {
                for c in 0..3 {
                    row[r * width + s + c] += k[(3 * i + r, 3 * j + c)];
                }
            }
        }
    }
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

/// The load stiffness of one inner face: its six nodes and -∂f/∂x (symmetrised), N/m.
pub type FaceStiffness = ([u32; 6], SMatrix<f64, 18, 18>);

/// The cross-product matrix of `v`: [v]× w = v × w.
fn cross_matrix(v: &Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(0.0, -v.z, v.y, v.z, 0.0, -v.x, -v.y, v.x, 0.0)
}

/// Nodal forces (N, global) of the pressure on the inner faces: p (Pa) per lumen-surface vertex,
/// linear over each face, acting on the faces at positions `x` (reference or deformed nodes); with
/// `tangent`, also each face's follower-load stiffness -∂f/∂x, symmetrised so PCG applies (its
/// skew part is a rim term that vanishes when the rims move in the port planes).
pub fn pressure_forces(
    mesh: &WallMesh,
    x: &[Point3<f64>],
    pressure: &dyn Fn(u32) -> f64,
    tangent: bool,
) -> (Vec<Vector3<f64>>, Vec<FaceStiffness>) {
    let mut f = vec![Vector3::zeros(); x.len()];
    let mut stiffness = Vec::with_capacity(if tangent { mesh.inner_faces.len() } else { 0 });
    for face in &mesh.inner_faces {
        let p = face.vertices.map(pressure);
        let xs = face.nodes.map(|n| x[n as usize].coords);
        let mut k = SMatrix::<f64, 18, 18>::zeros();
        for (l, w) in TRIANGLE7 {
            let n = triangle6_shape(l);
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
            let pw = (p[0] * l[0] + p[1] * l[1] + p[2] * l[2]) * w;
            let load = t1.cross(&t2) * pw;
            for (node, na) in face.nodes.iter().zip(n) {
                f[*node as usize] += load * na;
            }
            if tangent {
                // δ(t1 × t2) = Σ_b (d2_b [t1]× - d1_b [t2]×) δx_b
                let (c1, c2) = (cross_matrix(&t1), cross_matrix(&t2));
                for (a, na) in n.iter().enumerate() {
                    for b in 0..6 {
                        let block = (c1 * d2[b] - c2 * d1[b]) * (-pw * na);
                        let mut view = k.fixed_view_mut::<3, 3>(3 * a, 3 * b);
                        view += block;
                    }
                }
            }
        }
        if tangent {
            stiffness.push((face.nodes, (k + k.transpose()) / 2.0));
        }
    }
    (f, stiffness)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::axis::Axis;
    use crate::fem::wall_mesh::{Thickness, WallSpec, extrude};
    use crate::geometry::ports::tag_triangles;
    use crate::geometry::synth::{TubeSpec, tube};

    /// Colours are node-disjoint, and two assemblies are bitwise identical.
    #[test]
    fn coloured_assembly_is_deterministic() {
        let (s, p) = tube(&TubeSpec { radius: 1.0, length: 1.0 }, 16).unwrap();
        let axis = Axis::between_ports(&p).unwrap();
        let mesh = extrude(
            &s,
            &tag_triangles(&s, &p).unwrap(),
            &p,
            &axis,
            &WallSpec { thickness: Thickness::Absolute(0.3), layers: 2, beyond_radius: false },
        )
        .unwrap();
        let pattern = Pattern::new(&mesh);
        for colour in &pattern.colours {
            let mut nodes: Vec<u32> = colour.iter().flat_map(|&e| mesh.elements[e as usize]).collect();
            let total = nodes.len();
            nodes.sort_unstable();
            nodes.dedup();
            assert_eq!(nodes.len(), total);
        }
        let m = Material { model: crate::fem::Model::NeoHookean, youngs_modulus: 1.0, poisson_ratio: 0.3 };
        let materials = vec![m; mesh.elements.len()];
        let c = Constraints::free(mesh.nodes.len());
        let u: Vec<Vector3<f64>> =
            mesh.nodes.iter().map(|q| Vector3::new(0.01 * q.y, 0.02 * q.z, 0.01 * q.x)).collect();
        let system = Assembly { mesh: &mesh, pattern: &pattern, materials: &materials, constraints: &c };
        let a = assemble(system, &u, true, &[]).unwrap();
        let b = assemble(system, &u, true, &[]).unwrap();
        assert_eq!(a.stiffness.unwrap().values(), b.stiffness.unwrap().values());
        assert_eq!(a.forces, b.forces);
        println!("{} elements in {} colours", mesh.elements.len(), pattern.colours.len());
    }

    /// The face stiffness is the symmetric part of -∂f/∂x by central differences.
    #[test]
    fn pressure_stiffness_matches_finite_differences() {
        let (s, p) = tube(&TubeSpec { radius: 1.0, length: 0.5 }, 8).unwrap();
        let axis = Axis::between_ports(&p).unwrap();
        let mut mesh = extrude(
            &s,
            &tag_triangles(&s, &p).unwrap(),
            &p,
            &axis,
            &WallSpec { thickness: Thickness::Absolute(0.2), layers: 1, beyond_radius: false },
        )
        .unwrap();
        mesh.inner_faces = vec![mesh.inner_faces[3]];
        let x: Vec<Point3<f64>> =
            mesh.nodes.iter().map(|q| q + Vector3::new(0.1 * q.y, 0.05 * q.z * q.x, 0.02 * q.x)).collect();
        let pressure = |v: u32| 1.0 + 0.1 * v as f64;
        let (_, faces) = pressure_forces(&mesh, &x, &pressure, true);
        let (nodes, k) = &faces[0];
        let d = 1e-6;
        let mut fd = SMatrix::<f64, 18, 18>::zeros();
        for b in 0..6 {
            for c in 0..3 {
                let mut xp = x.clone();
                let mut xm = x.clone();
                xp[nodes[b] as usize][c] += d;
                xm[nodes[b] as usize][c] -= d;
                let fp = pressure_forces(&mesh, &xp, &pressure, false).0;
                let fm = pressure_forces(&mesh, &xm, &pressure, false).0;
                for a in 0..6 {
                    for r in 0..3 {
                        fd[(3 * a + r, 3 * b + c)] =
                            -(fp[nodes[a] as usize][r] - fm[nodes[a] as usize][r]) / (2.0 * d);
                    }
                }
            }
        }
        let sym = (fd + fd.transpose()) / 2.0;
        let err = (sym - k).abs().max();
        assert!(err < 1e-6 * k.abs().max(), "{err} vs {}", k.abs().max());
    }
}
