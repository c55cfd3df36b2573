//! Preconditioned conjugate gradients with 3x3 block-Jacobi, written once over a [`PcgKernels`]
//! backend: the CPU (rayon, f64 or f32) runs the twins in `cpu.rs`, the GPU the WGSL kernels.

use super::cpu::{self, Index, Real};
use super::multigrid::{Cycle, MgKernels, Multigrid, Operator, operators, vcycle};
use nalgebra::Matrix3;
use nalgebra_sparse::CsrMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Tolerance and iteration limit of a PCG solve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PcgSettings {
    /// Stop when |r| <= tolerance |b| (relative residual, dimensionless).
    pub tolerance: f64,
    /// Give up after this many iterations.
    pub max_iterations: usize,
    /// The preconditioner.
    pub preconditioner: Preconditioner,
}

/// The preconditioner of the wall PCG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preconditioner {
    /// The inverted 3x3 diagonal blocks (cheap per iteration; iterations grow with the mesh).
    BlockJacobi,
    /// A multigrid V-cycle (TET10 to TET4, then smoothed aggregation with the rigid-body modes).
    #[default]
    Multigrid,
}

/// How a PCG solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PcgReport {
    /// Iterations done.
    pub iterations: usize,
    /// Final relative residual |r| / |b| (recursive residual).
    pub relative_residual: f64,
    /// Whether the tolerance was reached.
    pub converged: bool,
    /// Whether the matrix showed negative curvature (it is not positive definite); the solution
    /// then holds the iterate before it (truncated CG, still a descent direction for Newton).
    pub negative_curvature: bool,
}

/// The vectors a PCG backend holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The solution.
    X = 0,
    /// The residual (holds the right-hand side at the start).
    R = 1,
    /// The preconditioned residual.
    Z = 2,
    /// The search direction.
    P = 3,
    /// A times the search direction.
    Q = 4,
}

/// The operations PCG needs; each is one GPU kernel (or its CPU twin).
pub trait PcgKernels {
    /// Q = A P.
    fn spmv(&mut self);
    /// The dot products of `pairs` (each summed in f64 from per-workgroup partial sums), read back
    /// together: one synchronisation for all of them.
    fn dots(&mut self, pairs: &[(Slot, Slot)]) -> Vec<f64>;
    /// y = a x + b y.
    fn axpby(&mut self, a: f64, x: Slot, b: f64, y: Slot);
    /// Z = D^-1 R.
    fn precondition(&mut self);
}

/// Solves A x = b on `k`, whose R slot holds b and the other slots zeros; x ends in slot X.
/// `progress` hears (iterations, relative residual) after every iteration.
pub fn pcg(
    k: &mut impl PcgKernels,
    settings: &PcgSettings,
    progress: &mut dyn FnMut(usize, f64),
) -> PcgReport {
    k.precondition();
    let first = k.dots(&[(Slot::R, Slot::R), (Slot::R, Slot::Z)]);
    let (b_norm, mut rz) = (first[0].sqrt(), first[1]);
    if b_norm == 0.0 {
        return PcgReport {
            iterations: 0,
            relative_residual: 0.0,
            converged: true,
            negative_curvature: false,
        };
    }
    k.axpby(1.0, Slot::Z, 0.0, Slot::P);
    let mut residual = 1.0;
    // Two synchronisations per iteration: p·q, then r·r and r·z together.
    for it in 0..settings.max_iterations {
        k.spmv();
        let pq = k.dots(&[(Slot::P, Slot::Q)])[0];
        if pq.is_nan() || pq <= 0.0 {
            if it == 0 {
                // Nothing to truncate to: the preconditioned residual is the descent direction.
                k.axpby(1.0, Slot::P, 1.0, Slot::X);
            }
            return PcgReport {
                iterations: it,
                relative_residual: residual,
                converged: false,
                negative_curvature: true,
            };
        }
        let alpha = rz / pq;
        k.axpby(alpha, Slot::P, 1.0, Slot::X);
        k.axpby(-alpha, Slot::Q, 1.0, Slot::R);
        k.precondition();
        let next = k.dots(&[(Slot::R, Slot::R), (Slot::R, Slot::Z)]);
        residual = next[0].sqrt() / b_norm;
        progress(it + 1, residual);
        if residual <= settings.tolerance {
            return PcgReport {
                iterations: it + 1,
                relative_residual: residual,
                converged: true,
                negative_curvature: false,
            };
        }
        k.axpby(1.0, Slot::Z, next[1] / rz, Slot::P);
        rz = next[1];
    }
    PcgReport {
        iterations: settings.max_iterations,
        relative_residual: residual,
        converged: false,
        negative_curvature: false,
    }
}

/// The inverted 3x3 diagonal blocks of `a` (9 per node, row-major); singular blocks give zeros.
pub fn block_jacobi_inverse(a: &CsrMatrix<f64>) -> Vec<f64> {
    let n = a.nrows() / 3;
    let mut out = vec![0.0; 9 * n];
    out.par_chunks_mut(9).enumerate().for_each(|(node, inv)| {
        let mut m = Matrix3::zeros();
        for r in 0..3 {
            let row = a.row(3 * node + r);
            for (&c, &v) in row.col_indices().iter().zip(row.values()) {
                if c / 3 == node {
                    m[(r, c % 3)] = v;
                }
            }
        }
        let m = m.try_inverse().unwrap_or_else(Matrix3::zeros);
        for r in 0..3 {
            for c in 0..3 {
                inv[3 * r + c] = m[(r, c)];
            }
        }
    });
    out
}

/// A CSR matrix with u32 indices and f32 values (a multigrid operator, as on the GPU).
struct Matrix {
    offsets: Vec<u32>,
    cols: Vec<u32>,
    values: Vec<f32>,
}

impl Matrix {
    fn of(a: &CsrMatrix<f64>) -> Self {
        let (offsets, cols, values) = a.csr_data();
        Matrix {
            offsets: offsets.iter().map(|&x| x as u32).collect(),
            cols: cols.iter().map(|&x| x as u32).collect(),
            values: values.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// A multigrid hierarchy with its operators stored in f32 (the V-cycle is a preconditioner, and
/// the stored bytes set its speed), vectors in `T`.
struct CpuMultigrid<T> {
    cycle: Cycle,
    /// The finest stiffness in f32 (the indices are the solved matrix's).
    fine: Vec<f32>,
    /// The operators in the order of [`operators`] less the finest stiffness.
    matrices: Vec<Matrix>,
    /// Inverted diagonal of each level above the coarsest.
    dinv: Vec<Vec<T>>,
}

/// The CPU backend: a CSR matrix, its preconditioner (block-Jacobi or multigrid) and the vectors
/// (the five PCG slots, then the V-cycle's), all in `T`.
pub struct CpuPcg<'a, T: Real + From<f32>, I: Index> {
    offsets: &'a [I],
    cols: &'a [I],
    values: &'a [T],
    inverse: Vec<T>,
    vectors: Vec<Vec<T>>,
    partials: Vec<T>,
    multigrid: Option<CpuMultigrid<T>>,
}

impl<'a, T: Real + From<f32>, I: Index> CpuPcg<'a, T, I> {
    /// A backend for the matrix (offsets, cols, values), preconditioner `inverse` (from
    /// [`block_jacobi_inverse`], converted to `T`) and right-hand side `b`.
    pub fn new(offsets: &'a [I], cols: &'a [I], values: &'a [T], inverse: Vec<T>, b: &[T]) -> Self {
        let n = b.len();
        let zeros = vec![T::default(); n];
        CpuPcg {
            offsets,
            cols,
            values,
            inverse,
            vectors: vec![zeros.clone(), b.to_vec(), zeros.clone(), zeros.clone(), zeros],
            partials: vec![T::default(); n.div_ceil(cpu::WORKGROUP).max(1)],
            multigrid: None,
        }
    }

    /// Preconditions with a V-cycle of `mg` (built for this matrix) instead of block-Jacobi.
    pub fn with_multigrid(mut self, mg: &Multigrid) -> Self {
        let cycle = mg.cycle();
        let matrices = operators(mg.levels.len())[1..]
            .iter()
            .map(|&m| {
                Matrix::of(mg.operator(m).unwrap_or_else(|| unreachable!("only the finest is held outside")))
            })
            .collect();
        let dinv = mg.levels.iter().map(|l| l.dinv.iter().map(|&d| T::of(d)).collect()).collect();
        self.vectors.extend(cycle.work_vectors().into_iter().map(|n| vec![T::default(); n]));
        let fine = self.values.iter().map(|&v| Into::<f64>::into(v) as f32).collect();
        self.multigrid = Some(CpuMultigrid { cycle, fine, matrices, dinv });
        self
    }

    /// The vector in `slot`.
    pub fn vector(&self, slot: Slot) -> &[T] {
        &self.vectors[slot as usize]
    }

    /// The vector numbered `k` (0-4: the slots; then the V-cycle's).
    pub fn work_vector(&self, k: usize) -> &[T] {
        &self.vectors[k]
    }
}

impl<T: Real + From<f32>, I: Index> MgKernels for CpuPcg<'_, T, I> {
    fn apply(&mut self, m: Operator, x: usize, y: usize) {
        let mut out = std::mem::take(&mut self.vectors[y]);
        let input = &self.vectors[x];
        match (m, &self.multigrid) {
            (_, None) => cpu::fem_spmv(self.offsets, self.cols, self.values, input, &mut out),
            (Operator::Stiffness(0), Some(mg)) => {
                cpu::fem_spmv(self.offsets, self.cols, &mg.fine, input, &mut out)
            }
            (m, Some(mg)) => {
                let k = operators(mg.dinv.len())
                    .iter()
                    .position(|&o| o == m)
                    .unwrap_or_else(|| unreachable!("{m:?} belongs to the hierarchy"))
                    - 1;
                let a = &mg.matrices[k];
                cpu::fem_spmv(&a.offsets, &a.cols, &a.values, input, &mut out)
            }
        }
        self.vectors[y] = out;
    }

    fn combine(&mut self, a: f64, x: usize, b: f64, y: usize) {
        let mut out = std::mem::take(&mut self.vectors[y]);
        cpu::fem_axpby(T::of(a), &self.vectors[x], T::of(b), &mut out);
        self.vectors[y] = out;
    }

    fn jacobi(&mut self, level: usize, a: f64, x: usize, b: f64, y: usize) {
        let mut out = std::mem::take(&mut self.vectors[y]);
        if let Some(mg) = &self.multigrid {
            cpu::fem_scaled_axpby(T::of(a), &mg.dinv[level], &self.vectors[x], T::of(b), &mut out);
        }
        self.vectors[y] = out;
    }
}

impl<T: Real + From<f32>, I: Index> PcgKernels for CpuPcg<'_, T, I> {
    fn spmv(&mut self) {
        let mut q = std::mem::take(&mut self.vectors[Slot::Q as usize]);
        cpu::fem_spmv(self.offsets, self.cols, self.values, &self.vectors[Slot::P as usize], &mut q);
        self.vectors[Slot::Q as usize] = q;
    }

    fn dots(&mut self, pairs: &[(Slot, Slot)]) -> Vec<f64> {
        pairs
            .iter()
            .map(|&(a, b)| {
                cpu::fem_dot(&self.vectors[a as usize], &self.vectors[b as usize], &mut self.partials);
                self.partials.iter().map(|&p| p.into()).sum()
            })
            .collect()
    }

    fn axpby(&mut self, a: f64, x: Slot, b: f64, y: Slot) {
        self.combine(a, x as usize, b, y as usize);
    }

    fn precondition(&mut self) {
        if let Some(cycle) = self.multigrid.as_ref().map(|mg| mg.cycle.clone()) {
            vcycle(self, &cycle);
            return;
        }
        let mut z = std::mem::take(&mut self.vectors[Slot::Z as usize]);
        cpu::fem_block_jacobi(&self.inverse, &self.vectors[Slot::R as usize], &mut z);
        self.vectors[Slot::Z as usize] = z;
    }
}

/// Solves A x = b on the CPU in f64, preconditioned by `multigrid` (built for `a`) or else
/// block-Jacobi, telling `progress` (iterations, relative residual) after each iteration; returns x
/// and the report.
pub fn solve_cpu(
    a: &CsrMatrix<f64>,
    b: &[f64],
    settings: &PcgSettings,
    multigrid: Option<&Multigrid>,
    progress: &mut dyn FnMut(usize, f64),
) -> (Vec<f64>, PcgReport) {
    let (offsets, cols, values) = a.csr_data();
    // u32 indices: a third fewer bytes per stored entry than usize, and the SpMV is bandwidth-bound.
    let offsets: Vec<u32> = offsets.iter().map(|&x| x as u32).collect();
    let cols: Vec<u32> = cols.iter().map(|&x| x as u32).collect();
    let inverse = if multigrid.is_some() { Vec::new() } else { block_jacobi_inverse(a) };
    let mut k = CpuPcg::new(&offsets, &cols, values, inverse, b);
    if let Some(mg) = multigrid {
        k = k.with_multigrid(mg);
    }
    let report = pcg(&mut k, settings, progress);
    (std::mem::take(&mut k.vectors[Slot::X as usize]), report)
}
