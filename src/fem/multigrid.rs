//! The multigrid preconditioner of the wall PCG: one p-coarsening from the quadratic (TET10) to
//! the linear (TET4) elements, then smoothed aggregation with the rigid-body modes as near-null
//! space down to a few hundred unknowns solved exactly; a V-cycle with Chebyshev smoothing
//! (point Jacobi inside) before and after each coarse correction.
//!
//! The setup runs in f64 on the CPU ([`Multigrid::new`]); the V-cycle ([`vcycle`]) is written once
//! over [`MgKernels`] (sparse products, axpby and Jacobi scaling), which the CPU twins and the GPU
//! kernels both provide.

use super::aggregation::{COARSE_BLOCK, Modes, coarsen, spectral_radius};
use super::assemble::Constraints;
use super::element::EDGES;
use super::sparse::{Csr, diagonal, product, sum};
use super::wall_mesh::WallMesh;
use nalgebra::{DMatrix, Matrix3, Vector3};
use nalgebra_sparse::CsrMatrix;

/// Levels are coarsened until they have at most this many unknowns, then solved directly.
const COARSEST: usize = 1200;
/// Strength threshold of the aggregation (the block-norm coupling ratio).
const THETA: f64 = 0.0;
/// Power-iteration steps of the spectral-radius estimate of each level.
const POWER_STEPS: usize = 12;
/// Chebyshev smoothing targets the upper eigenvalues from lambda_max / this ratio.
const CHEBYSHEV_RATIO: f64 = 30.0;

/// One level of the hierarchy above the coarsest.
#[derive(Debug, Clone)]
pub struct Level {
    /// The operator (None on the finest level, which is the matrix being solved).
    pub a: Option<Csr>,
    /// Inverted diagonal of the operator (zero where the diagonal is not positive).
    pub dinv: Vec<f64>,
    /// Estimated largest eigenvalue of D^-1 A.
    pub lambda_max: f64,
    /// Prolongation from the next coarser level.
    pub prolong: Csr,
    /// Restriction to the next coarser level (the transpose of `prolong`).
    pub restrict: Csr,
    /// Chebyshev degree of the smoother.
    pub degree: usize,
}

/// A multigrid hierarchy for one stiffness matrix.
#[derive(Debug, Clone)]
pub struct Multigrid {
    /// Levels from the finest down, each with its transfer to the next.
    pub levels: Vec<Level>,
    /// The inverse of the coarsest operator, stored dense as a CSR matrix.
    pub coarse_inverse: Csr,
}

/// The operators a V-cycle applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// The stiffness of a level (0: the matrix being solved).
    Stiffness(usize),
    /// Prolongation from level + 1 to the level.
    Prolong(usize),
    /// Restriction from the level to level + 1.
    Restrict(usize),
    /// The dense inverse of the coarsest operator.
    CoarseInverse,
}

/// The vector operations of a V-cycle; vectors are numbered as in `Cycle::vectors` (0-4: the
/// PCG slots).
pub trait MgKernels {
    /// y = M x for operator `m`.
    fn apply(&mut self, m: Operator, x: usize, y: usize);
    /// y = a x + b y.
    fn combine(&mut self, a: f64, x: usize, b: f64, y: usize);
    /// y = a D^-1 x + b y with the inverted diagonal of `level`.
    fn jacobi(&mut self, level: usize, a: f64, x: usize, b: f64, y: usize);
}

/// The vectors of one level in a V-cycle.
#[derive(Debug, Clone, Copy)]
struct Vectors {
    x: usize,
    b: usize,
    r: usize,
    d: usize,
    t: usize,
}

/// What the V-cycle needs to know of a hierarchy: sizes, smoother bounds and vector numbers.
#[derive(Debug, Clone)]
pub struct Cycle {
    /// Unknowns per level, the coarsest last.
    pub sizes: Vec<usize>,
    /// (lambda_max, Chebyshev degree) per level above the coarsest.
    smoothing: Vec<(f64, usize)>,
}

/// The first vector number after the PCG slots.
const FIRST_WORK: usize = 5;

impl Cycle {
    /// Vectors of `level`: level 0 solves into PCG slot Z (2) from slot R (1).
    fn vectors(&self, level: usize) -> Vectors {
        let base = FIRST_WORK + 5 * level;
        if level == 0 {
            Vectors { x: 2, b: 1, r: base, d: base + 1, t: base + 2 }
        } else {
            Vectors { x: base - 2, b: base - 1, r: base, d: base + 1, t: base + 2 }
        }
    }

    /// Length of every vector the cycle uses beyond the PCG slots, in number order.
    pub fn work_vectors(&self) -> Vec<usize> {
        let mut out = vec![self.sizes[0]; 3];
        for &n in &self.sizes[1..] {
            out.extend([n; 5]);
        }
        out
    }
}

impl Multigrid {
    /// Builds the hierarchy of `a` (the stiffness of `mesh` in the frames of `constraints`, held
    /// unknowns as identity rows): TET10 to TET4, then aggregation levels.
    pub fn new(a: &Csr, mesh: &WallMesh, constraints: &Constraints) -> Self {
        let (p0, modes) = quadratic_to_linear(mesh, constraints);
        let mut levels = Vec::new();
        let mut fine: Option<Csr> = None;
        let (mut prolong, mut modes, mut block) = (p0, modes, 3);
        loop {
            let op = fine.as_ref().unwrap_or(a);
            let dinv: Vec<f64> = diagonal(op).iter().map(|&d| if d > 0.0 { 1.0 / d } else { 0.0 }).collect();
            let lambda_max = spectral_radius(op, &dinv, POWER_STEPS);
            // The p-level's prolongation comes from the mesh; the others from aggregation.
            if !levels.is_empty() {
                let (p, coarse_modes) = coarsen(op, block, &modes, lambda_max, THETA);
                prolong = p;
                modes = coarse_modes;
                block = COARSE_BLOCK;
            }
            let restrict = prolong.transpose();
            let coarse = hold_empty(product(&restrict, &product(op, &prolong)));
            let degree = if levels.is_empty() { 1 } else { 3 };
            let n = coarse.nrows();
            let stalled = n * 10 > 9 * op.nrows();
            levels.push(Level {
                a: fine.take(),
                dinv,
                lambda_max,
                prolong: prolong.clone(),
                restrict,
                degree,
            });
            fine = Some(coarse);
            if n <= COARSEST || stalled || levels.len() >= 12 {
                break;
            }
        }
        let coarsest = fine.unwrap_or_else(|| unreachable!("the loop builds at least one coarse level"));
        Multigrid { levels, coarse_inverse: dense_inverse(&coarsest) }
    }

    /// The cycle's sizes and smoothers.
    pub fn cycle(&self) -> Cycle {
        let mut sizes: Vec<usize> = self.levels.iter().map(|l| l.prolong.nrows()).collect();
        sizes.push(self.coarse_inverse.nrows());
        Cycle { sizes, smoothing: self.levels.iter().map(|l| (l.lambda_max, l.degree)).collect() }
    }

    /// Unknowns per level, finest first.
    pub fn sizes(&self) -> Vec<usize> {
        self.cycle().sizes
    }

    /// The operator `m` (None for the finest stiffness, which the caller holds).
    pub fn operator(&self, m: Operator) -> Option<&Csr> {
        match m {
            Operator::Stiffness(l) => self.levels.get(l).and_then(|x| x.a.as_ref()),
            Operator::Prolong(l) => Some(&self.levels[l].prolong),
            Operator::Restrict(l) => Some(&self.levels[l].restrict),
            Operator::CoarseInverse => Some(&self.coarse_inverse),
        }
    }
}

/// Every operator of a hierarchy with `levels` levels above the coarsest (the finest stiffness
/// first), in the order backends store them.
pub fn operators(levels: usize) -> Vec<Operator> {
    let mut out: Vec<Operator> = (0..levels).map(Operator::Stiffness).collect();
    out.extend((0..levels).map(Operator::Prolong));
    out.extend((0..levels).map(Operator::Restrict));
    out.push(Operator::CoarseInverse);
    out
}

/// Adds 1 on the diagonal of the rows that are empty (unknowns no coarse function reaches).
fn hold_empty(a: Csr) -> Csr {
    let d = diagonal(&a);
    let empty: Vec<usize> = (0..a.nrows()).filter(|&i| d[i] == 0.0).collect();
    if empty.is_empty() {
        return a;
    }
    let n = a.nrows();
    let mut offsets = vec![0; n + 1];
    for &i in &empty {
        offsets[i + 1] = 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let ones = vec![1.0; empty.len()];
    let e = CsrMatrix::try_from_csr_data(n, n, offsets, empty, ones)
        .unwrap_or_else(|e| unreachable!("one diagonal entry per listed row: {e}"));
    sum(1.0, &a, 1.0, &e)
}

/// The inverse of a small SPD matrix, dense, as CSR (Cholesky; LU if that fails).
fn dense_inverse(a: &Csr) -> Csr {
    let n = a.nrows();
    let mut m = DMatrix::zeros(n, n);
    for i in 0..n {
        let row = a.row(i);
        for (&j, &v) in row.col_indices().iter().zip(row.values()) {
            m[(i, j)] = v;
        }
    }
    let inv = match m.clone().cholesky() {
        Some(c) => c.inverse(),
        None => m.try_inverse().unwrap_or_else(|| DMatrix::zeros(n, n)),
    };
    let offsets = (0..=n).map(|i| i * n).collect();
    let cols = (0..n * n).map(|k| k % n).collect();
    let values = (0..n * n).map(|k| inv[(k / n, k % n)]).collect();
    CsrMatrix::try_from_csr_data(n, n, offsets, cols, values)
        .unwrap_or_else(|e| unreachable!("a dense pattern is a valid CSR matrix: {e}"))
}

/// The p-coarsening of a TET10 mesh: prolongation from its corner nodes (linear elements) to all
/// nodes (mid-edge nodes take the mean of their edge's corners), in the nodal frames, held
/// unknowns left out; and the rigid-body modes at the corners.
fn quadratic_to_linear(mesh: &WallMesh, constraints: &Constraints) -> (Csr, Modes) {
    let n = mesh.nodes.len();
    let mut parents: Vec<Option<[u32; 2]>> = vec![None; n];
    let mut corner = vec![false; n];
    for el in &mesh.elements {
        for &c in &el[..4] {
            corner[c as usize] = true;
        }
        for (k, [i, j]) in EDGES.iter().enumerate() {
            parents[el[4 + k] as usize] = Some([el[*i], el[*j]]);
        }
    }
    let mut index = vec![usize::MAX; n];
    let mut corners = Vec::new();
    for a in (0..n).filter(|&a| corner[a]) {
        index[a] = corners.len();
        corners.push(a);
    }
    let frame = |a: usize| constraints.frames[a].unwrap_or_else(Matrix3::identity);
    let fixed = &constraints.fixed;
    let mut offsets = vec![0];
    let (mut cols, mut values) = (Vec::new(), Vec::new());
    for a in 0..n {
        let mut from: Vec<(usize, Matrix3<f64>)> = if corner[a] {
            vec![(a, Matrix3::identity())]
        } else if let Some([p, q]) = parents[a] {
            let ra = frame(a);
            [p, q].map(|c| (c as usize, 0.5 * ra * frame(c as usize).transpose())).to_vec()
        } else {
            Vec::new()
        };
        from.sort_by_key(|(c, _)| index[*c]);
        for r in 0..3 {
            if !fixed[3 * a + r] {
                for (c, m) in &from {
                    for k in 0..3 {
                        if !fixed[3 * c + k] && m[(r, k)] != 0.0 {
                            cols.push(3 * index[*c] + k);
                            values.push(m[(r, k)]);
                        }
                    }
                }
            }
            offsets.push(cols.len());
        }
    }
    let p = CsrMatrix::try_from_csr_data(3 * n, 3 * corners.len(), offsets, cols, values)
        .unwrap_or_else(|e| unreachable!("corners in node order give sorted columns: {e}"));
    let centre =
        corners.iter().map(|&a| mesh.nodes[a].coords).sum::<Vector3<f64>>() / corners.len().max(1) as f64;
    let size =
        corners.iter().map(|&a| (mesh.nodes[a].coords - centre).norm()).fold(0.0, f64::max).max(1e-300);
    let mut modes = vec![[0.0; 6]; 3 * corners.len()];
    for (c, &a) in corners.iter().enumerate() {
        let x = (mesh.nodes[a].coords - centre) / size;
        let r = frame(a);
        let rows = &mut modes[3 * c..3 * c + 3];
        for m in 0..6 {
            let e = Vector3::ith(m % 3, 1.0);
            let u = r * if m < 3 { e } else { e.cross(&x) };
            for (k, row) in rows.iter_mut().enumerate() {
                row[m] = if fixed[3 * a + k] { 0.0 } else { u[k] };
            }
        }
    }
    (p, modes)
}

/// Chebyshev smoothing of A x = b on `level` (from x = 0 when `zero_start`), leaving
/// r = b - A x when `residual` is asked for.
fn smooth(k: &mut impl MgKernels, cycle: &Cycle, level: usize, zero_start: bool, residual: bool) {
    let Vectors { x, b, r, d, t } = cycle.vectors(level);
    let (lmax, degree) = cycle.smoothing[level];
    let lmin = lmax / CHEBYSHEV_RATIO;
    let (theta, delta) = ((lmax + lmin) / 2.0, (lmax - lmin) / 2.0);
    let sigma = theta / delta;
    let mut rho = 1.0 / sigma;
    k.combine(1.0, b, 0.0, r);
    if !zero_start {
        k.apply(Operator::Stiffness(level), x, t);
        k.combine(-1.0, t, 1.0, r);
    }
    k.jacobi(level, 1.0 / theta, r, 0.0, d);
    for i in 1..=degree {
        k.combine(1.0, d, if zero_start && i == 1 { 0.0 } else { 1.0 }, x);
        if i < degree || residual {
            k.apply(Operator::Stiffness(level), d, t);
            k.combine(-1.0, t, 1.0, r);
        }
        if i < degree {
            let next = 1.0 / (2.0 * sigma - rho);
            k.jacobi(level, 2.0 * next / delta, r, next * rho, d);
            rho = next;
        }
    }
}

/// One V-cycle: Z (slot 2) = M^-1 R (slot 1).
pub fn vcycle(k: &mut impl MgKernels, cycle: &Cycle) {
    let last = cycle.sizes.len() - 1;
    for level in 0..last {
        smooth(k, cycle, level, true, true);
        let (here, below) = (cycle.vectors(level), cycle.vectors(level + 1));
        k.apply(Operator::Restrict(level), here.r, below.b);
    }
    let bottom = cycle.vectors(last);
    k.apply(Operator::CoarseInverse, bottom.b, bottom.x);
    for level in (0..last).rev() {
        let (here, below) = (cycle.vectors(level), cycle.vectors(level + 1));
        k.apply(Operator::Prolong(level), below.x, here.t);
        k.combine(1.0, here.t, 1.0, here.x);
        smooth(k, cycle, level, false, false);
    }
}
