//! CPU twins of the PCG kernels in shaders/fem_*.wgsl: same names, same loops, same arithmetic
//! (the tree reduction of `fem_dot` included), generic over f32 (to compare with the GPU) and f64
//! (the CPU solver). Parallel over rows with rayon.

use rayon::prelude::*;
use std::ops::{Add, AddAssign, Mul};

/// Threads per workgroup of the FEM kernels (the GPU layer's `WORKGROUP`, injected into
/// shaders/fem_*.wgsl), as a length: `fem_dot`'s reduction tree.
pub const WORKGROUP: usize = crate::gpu::kernels::WORKGROUP as usize;

/// A floating-point type the kernels run in (f32 on the GPU, f64 on the CPU).
pub trait Real:
    Copy + Send + Sync + Default + PartialEq + Add<Output = Self> + Mul<Output = Self> + AddAssign + Into<f64>
{
    /// Rounds an f64 to this type.
    fn of(x: f64) -> Self;
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
}

/// A CSR column or offset index (u32 on the GPU, usize in nalgebra-sparse).
pub trait Index: Copy + Send + Sync {
    /// As usize.
    fn at(self) -> usize;
}

impl Index for u32 {
    fn at(self) -> usize {
        self as usize
    }
}

impl Index for usize {
    fn at(self) -> usize {
        self
    }
}

/// y = A x for the CSR matrix (offsets, cols, values): twin of `fem_spmv`. The values may be
/// stored in a narrower type `V` than the vectors (f32 multigrid operators in an f64 solve).
pub fn fem_spmv<V: Real, T: Real + From<V>, I: Index>(
    offsets: &[I],
    cols: &[I],
    values: &[V],
    x: &[T],
    y: &mut [T],
) {
    y.par_iter_mut().enumerate().with_min_len(256).for_each(|(row, out)| {
        let mut sum = T::default();
        for k in offsets[row].at()..offsets[row + 1].at() {
            sum += T::from(values[k]) * x[cols[k].at()];
        }
        *out = sum;
    });
}

/// Per-workgroup partial sums of a·b with the kernel's tree reduction: twin of `fem_dot`.
/// `partials` has one entry per workgroup of [`WORKGROUP`] elements.
pub fn fem_dot<T: Real>(a: &[T], b: &[T], partials: &mut [T]) {
    partials.par_iter_mut().enumerate().for_each(|(g, out)| {
        let mut shared = [T::default(); WORKGROUP];
        let start = g * WORKGROUP;
        for (i, s) in shared.iter_mut().enumerate() {
            if start + i < a.len() {
                *s = a[start + i] * b[start + i];
            }
        }
        let mut stride = WORKGROUP / 2;
        while stride > 0 {
            for i in 0..stride {
                let v = shared[i + stride];
                shared[i] += v;
            }
            stride /= 2;
        }
        *out = shared[0];
    });
}

/// y = a x + b y: twin of `fem_axpby`.
pub fn fem_axpby<T: Real>(a: T, x: &[T], b: T, y: &mut [T]) {
    y.par_iter_mut().zip(x).with_min_len(1024).for_each(|(y, &x)| *y = a * x + b * *y);
}

/// z = D^-1 r with the inverted 3x3 diagonal blocks `inv` (9 per node, row-major): twin of
/// `fem_block_jacobi`.
pub fn fem_block_jacobi<T: Real>(inv: &[T], r: &[T], z: &mut [T]) {
    z.par_chunks_mut(3).enumerate().with_min_len(256).for_each(|(node, z)| {
        let m = &inv[9 * node..9 * node + 9];
        let r = &r[3 * node..3 * node + 3];
        for (i, zi) in z.iter_mut().enumerate() {
            *zi = m[3 * i] * r[0] + m[3 * i + 1] * r[1] + m[3 * i + 2] * r[2];
        }
    });
}

/// y = a (w ⊙ x) + b y (w: an inverted diagonal): twin of `fem_scaled_axpby`.
pub fn fem_scaled_axpby<T: Real>(a: T, w: &[T], x: &[T], b: T, y: &mut [T]) {
    y.par_iter_mut().zip(x).zip(w).with_min_len(1024).for_each(|((y, &x), &w)| *y = a * (w * x) + b * *y);
}
