//! Sparse-matrix algebra for the multigrid setup (f64, CSR): parallel products (Gustavson's
//! row-by-row algorithm with a dense accumulator per thread), sums and diagonal scalings.

use nalgebra_sparse::CsrMatrix;
use rayon::prelude::*;

/// A sparse matrix in compressed rows (f64 values, usize indices).
pub type Csr = CsrMatrix<f64>;

/// Builds a CSR matrix from rows of (sorted columns, values).
fn from_rows(nrows: usize, ncols: usize, rows: Vec<(Vec<usize>, Vec<f64>)>) -> Csr {
    let mut offsets = Vec::with_capacity(nrows + 1);
    offsets.push(0);
    for (c, _) in &rows {
        offsets.push(offsets[offsets.len() - 1] + c.len());
    }
    let (cols, values): (Vec<Vec<usize>>, Vec<Vec<f64>>) = rows.into_iter().unzip();
    CsrMatrix::try_from_csr_data(nrows, ncols, offsets, cols.concat(), values.concat())
        .unwrap_or_else(|e| unreachable!("rows with sorted in-range columns make a CSR matrix: {e}"))
}

/// The product a b.
pub fn product(a: &Csr, b: &Csr) -> Csr {
    let ncols = b.ncols();
    let rows: Vec<(Vec<usize>, Vec<f64>)> = (0..a.nrows())
        .into_par_iter()
        .map_init(
            || (vec![0.0; ncols], vec![false; ncols]),
            |(acc, seen), i| {
                let mut cols = Vec::new();
                let row = a.row(i);
                for (&k, &v) in row.col_indices().iter().zip(row.values()) {
                    let brow = b.row(k);
                    for (&j, &w) in brow.col_indices().iter().zip(brow.values()) {
                        if !seen[j] {
                            seen[j] = true;
                            cols.push(j);
                        }
                        acc[j] += v * w;
                    }
                }
                cols.sort_unstable();
                let values = cols
                    .iter()
                    .map(|&j| {
                        seen[j] = false;
                        std::mem::take(&mut acc[j])
                    })
                    .collect();
                (cols, values)
            },
        )
        .collect();
    from_rows(a.nrows(), ncols, rows)
}

/// alpha a + beta b (same shape).
pub fn sum(alpha: f64, a: &Csr, beta: f64, b: &Csr) -> Csr {
    let rows = (0..a.nrows())
        .into_par_iter()
        .map(|i| {
            let (ra, rb) = (a.row(i), b.row(i));
            let (ca, va, cb, vb) = (ra.col_indices(), ra.values(), rb.col_indices(), rb.values());
            let (mut p, mut q) = (0, 0);
            let (mut cols, mut values) = (Vec::new(), Vec::new());
            while p < ca.len() || q < cb.len() {
                let (j, v) = match (ca.get(p), cb.get(q)) {
                    (Some(&x), Some(&y)) if x == y => {
                        p += 1;
                        q += 1;
                        (x, alpha * va[p - 1] + beta * vb[q - 1])
                    }
                    (Some(&x), Some(&y)) if x < y => {
                        p += 1;
                        (x, alpha * va[p - 1])
                    }
                    (Some(&x), None) => {
                        p += 1;
                        (x, alpha * va[p - 1])
                    }
                    (_, Some(&y)) => {
                        q += 1;
                        (y, beta * vb[q - 1])
                    }
                    (None, None) => unreachable!("the loop runs while a row has entries left"),
                };
                cols.push(j);
                values.push(v);
            }
            (cols, values)
        })
        .collect();
    from_rows(a.nrows(), a.ncols(), rows)
}

/// diag(d) a: row i scaled by d[i].
pub fn scale_rows(d: &[f64], a: &Csr) -> Csr {
    let mut out = a.clone();
    let (offsets, _, values) = out.csr_data_mut();
    let offsets = offsets.to_vec();
    let mut rows: Vec<&mut [f64]> = Vec::with_capacity(d.len());
    let mut rest = values;
    for i in 0..d.len() {
        let (head, tail) = rest.split_at_mut(offsets[i + 1] - offsets[i]);
        rows.push(head);
        rest = tail;
    }
    rows.into_par_iter().zip(d).for_each(|(row, &s)| row.iter_mut().for_each(|v| *v *= s));
    out
}

/// The diagonal of a square matrix (zero where not stored).
pub fn diagonal(a: &Csr) -> Vec<f64> {
    (0..a.nrows())
        .into_par_iter()
        .map(|i| {
            let row = a.row(i);
            row.col_indices().binary_search(&i).map_or(0.0, |k| row.values()[k])
        })
        .collect()
}

/// y = a x (f64, rayon).
pub fn apply(a: &Csr, x: &[f64]) -> Vec<f64> {
    (0..a.nrows())
        .into_par_iter()
        .map(|i| {
            let row = a.row(i);
            row.col_indices().iter().zip(row.values()).map(|(&j, &v)| v * x[j]).sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;
    use nalgebra_sparse::convert::serial::{convert_csr_dense, convert_dense_csr};

    fn sample(rows: usize, cols: usize, seed: usize) -> Csr {
        let d = DMatrix::from_fn(rows, cols, |i, j| {
            let h = (i * 31 + j * 17 + seed * 7) % 11;
            if h < 4 { h as f64 - 1.5 } else { 0.0 }
        });
        convert_dense_csr(&d)
    }

    /// Products, sums and scalings agree with dense arithmetic to 1e-12.
    #[test]
    fn sparse_algebra_matches_dense_to_1e_12() {
        let (a, b) = (sample(7, 5, 1), sample(5, 6, 2));
        let dense = |m: &Csr| convert_csr_dense(m);
        let err = (dense(&product(&a, &b)) - dense(&a) * dense(&b)).abs().max();
        let c = sample(7, 5, 3);
        let err_sum = (dense(&sum(2.0, &a, -0.5, &c)) - (dense(&a) * 2.0 - dense(&c) * 0.5)).abs().max();
        let d: Vec<f64> = (0..7).map(|i| i as f64 - 2.0).collect();
        let err_scale = (dense(&scale_rows(&d, &a))
            - DMatrix::from_diagonal(&nalgebra::DVector::from_vec(d)) * dense(&a))
        .abs()
        .max();
        println!("product {err:.1e}, sum {err_sum:.1e}, row scaling {err_scale:.1e}");
        assert!(err < 1e-12 && err_sum < 1e-12 && err_scale < 1e-12);
    }
}
