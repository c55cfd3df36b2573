//! Smoothed aggregation (Vanek, Mandel and Brezina 1996) over node blocks: the strength graph of
//! the block norms, greedy aggregation, the tentative prolongator from the near-null space (the
//! six rigid-body modes) orthonormalised per aggregate, and its Jacobi smoothing.

use super::sparse::{Csr, diagonal, product, scale_rows, sum};
use nalgebra_sparse::CsrMatrix;
use rayon::prelude::*;

/// Rigid-body modes: per degree of freedom, the value of each of the six (three translations,
/// three rotations) there.
pub type Modes = Vec<[f64; 6]>;

/// Unknowns per aggregate on the coarse level: one per rigid-body mode.
pub const COARSE_BLOCK: usize = 6;

/// One aggregate's orthonormalised modes (a row per unknown) and Gram-Schmidt coefficients.
type AggregateBasis = (Vec<[f64; COARSE_BLOCK]>, [[f64; 6]; COARSE_BLOCK]);

/// Nodes j strongly coupled to each node i of block size `block`:
/// |A_ij|_F > theta sqrt(|A_ii|_F |A_jj|_F), j != i.
fn strength(a: &Csr, block: usize, theta: f64) -> Vec<Vec<usize>> {
    let nodes = a.nrows() / block;
    let norms: Vec<Vec<(usize, f64)>> = (0..nodes)
        .into_par_iter()
        .map_init(
            || (vec![0.0; nodes], vec![false; nodes]),
            |(acc, seen), i| {
                let mut list = Vec::new();
                for r in block * i..block * (i + 1) {
                    let row = a.row(r);
                    for (&c, &v) in row.col_indices().iter().zip(row.values()) {
                        let j = c / block;
                        if !seen[j] {
                            seen[j] = true;
                            list.push(j);
                        }
                        acc[j] += v * v;
                    }
                }
                list.into_iter()
                    .map(|j| {
                        seen[j] = false;
                        (j, std::mem::take(&mut acc[j]).sqrt())
                    })
                    .collect()
            },
        )
        .collect();
    let own: Vec<f64> =
        norms.iter().enumerate().map(|(i, l)| l.iter().find(|(j, _)| *j == i).map_or(0.0, |x| x.1)).collect();
    norms
        .into_par_iter()
        .enumerate()
        .map(|(i, l)| {
            let mut s: Vec<usize> = l
                .into_iter()
                .filter(|&(j, v)| j != i && v > 0.0 && v * v > theta * theta * own[i] * own[j])
                .map(|(j, _)| j)
                .collect();
            s.sort_unstable();
            s
        })
        .collect()
}

/// Greedy aggregation of the strength graph: (1) a node whose strong neighbours are all free
/// founds an aggregate with them; (2) a free node joins the aggregate of a strong neighbour from
/// (1); (3) what remains founds aggregates with its free neighbours. Nodes without strong
/// neighbours (held ones) stay out (None). Returns each node's aggregate and the count.
fn aggregate(strong: &[Vec<usize>]) -> (Vec<Option<usize>>, usize) {
    let n = strong.len();
    let mut agg: Vec<Option<usize>> = vec![None; n];
    let mut count = 0;
    for i in 0..n {
        if agg[i].is_none() && !strong[i].is_empty() && strong[i].iter().all(|&j| agg[j].is_none()) {
            agg[i] = Some(count);
            for &j in &strong[i] {
                agg[j] = Some(count);
            }
            count += 1;
        }
    }
    let first = agg.clone();
    for i in 0..n {
        if agg[i].is_none() {
            agg[i] = strong[i].iter().find_map(|&j| first[j]);
        }
    }
    for i in 0..n {
        if agg[i].is_none() && !strong[i].is_empty() {
            agg[i] = Some(count);
            for &j in &strong[i] {
                if agg[j].is_none() {
                    agg[j] = Some(count);
                }
            }
            count += 1;
        }
    }
    (agg, count)
}

/// The tentative prolongator: per aggregate, the modes on its unknowns orthonormalised (modified
/// Gram-Schmidt, twice; dependent modes dropped, leaving their coarse unknown empty), and the
/// coarse modes (the Gram-Schmidt coefficients).
fn tentative(agg: &[Option<usize>], count: usize, block: usize, modes: &Modes) -> (Csr, Modes) {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, a) in agg.iter().enumerate() {
        if let Some(a) = a {
            members[*a].extend(block * i..block * (i + 1));
        }
    }
    let parts: Vec<AggregateBasis> = members
        .par_iter()
        .map(|dofs| {
            let m: Vec<[f64; 6]> = dofs.iter().map(|&d| modes[d]).collect();
            let mut q = vec![[0.0; COARSE_BLOCK]; dofs.len()];
            let mut r = [[0.0; 6]; COARSE_BLOCK];
            let scale = (0..6).map(|c| m.iter().map(|x| x[c] * x[c]).sum::<f64>()).fold(0.0, f64::max).sqrt();
            for c in 0..6 {
                let mut v: Vec<f64> = m.iter().map(|x| x[c]).collect();
                for _ in 0..2 {
                    for k in 0..c {
                        let d: f64 = q.iter().zip(&v).map(|(qq, x)| qq[k] * x).sum();
                        r[k][c] += d;
                        v.iter_mut().zip(&q).for_each(|(x, qq)| *x -= d * qq[k]);
                    }
                }
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm > 1e-10 * scale {
                    r[c][c] = norm;
                    q.iter_mut().zip(&v).for_each(|(qq, x)| qq[c] = x / norm);
                }
            }
            // Coefficients of dropped directions belong to no coarse unknown.
            for (c, row) in r.iter_mut().enumerate() {
                if row[c] == 0.0 {
                    *row = [0.0; 6];
                }
            }
            (q, r)
        })
        .collect();
    let n = agg.len() * block;
    let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    let mut coarse = vec![[0.0; 6]; COARSE_BLOCK * count];
    for (a, (dofs, (q, r))) in members.iter().zip(parts).enumerate() {
        for (d, qd) in dofs.iter().zip(q) {
            rows[*d] =
                (0..COARSE_BLOCK).filter(|&c| qd[c] != 0.0).map(|c| (COARSE_BLOCK * a + c, qd[c])).collect();
        }
        coarse[COARSE_BLOCK * a..COARSE_BLOCK * (a + 1)].copy_from_slice(&r);
    }
    let mut offsets = vec![0];
    let (mut cols, mut values) = (Vec::new(), Vec::new());
    for row in rows {
        for (c, v) in row {
            cols.push(c);
            values.push(v);
        }
        offsets.push(cols.len());
    }
    let t = CsrMatrix::try_from_csr_data(n, COARSE_BLOCK * count, offsets, cols, values)
        .unwrap_or_else(|e| unreachable!("aggregates give sorted in-range columns: {e}"));
    (t, coarse)
}

/// Largest eigenvalue of D^-1 A (power iteration, `steps` steps, times 1.1 for safety) for a
/// symmetric positive definite `a` with inverted diagonal `dinv`.
pub fn spectral_radius(a: &Csr, dinv: &[f64], steps: usize) -> f64 {
    let n = a.nrows();
    let mut x: Vec<f64> = (0..n).map(|i| ((i * 7919 + 13) % 1009) as f64 / 1009.0 - 0.3).collect();
    let mut lambda = 0.0;
    for _ in 0..steps {
        let y: Vec<f64> = super::sparse::apply(a, &x).iter().zip(dinv).map(|(v, d)| v * d).collect();
        let (ny, nx) =
            (y.iter().map(|v| v * v).sum::<f64>().sqrt(), x.iter().map(|v| v * v).sum::<f64>().sqrt());
        if ny == 0.0 || nx == 0.0 {
            break;
        }
        lambda = ny / nx;
        x = y.into_iter().map(|v| v / ny).collect();
    }
    1.1 * lambda
}

/// One coarsening of `a` (node blocks of `block` unknowns, modes per unknown): the smoothed
/// prolongator P = (I - 4/3 D^-1 A / rho) T and the coarse modes.
pub fn coarsen(a: &Csr, block: usize, modes: &Modes, rho: f64, theta: f64) -> (Csr, Modes) {
    let strong = strength(a, block, theta);
    let (agg, count) = aggregate(&strong);
    let (t, coarse) = tentative(&agg, count, block, modes);
    let dinv: Vec<f64> = diagonal(a).iter().map(|&d| if d > 0.0 { 1.0 / d } else { 0.0 }).collect();
    let at = scale_rows(&dinv, &product(a, &t));
    (sum(1.0, &t, -4.0 / (3.0 * rho), &at), coarse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tentative prolongator reproduces the modes exactly (T B_c = B) and has orthonormal
    /// columns; checked on a 1D chain of 3-unknown nodes.
    #[test]
    fn tentative_prolongator_reproduces_the_modes() {
        let nodes = 10;
        let modes: Modes = (0..3 * nodes)
            .map(|d| {
                let (x, c) = ((d / 3) as f64, d % 3);
                let mut m = [0.0; 6];
                m[c] = 1.0;
                m[3 + c] = x * (c as f64 + 1.0);
                m[(c + 1) % 3 + 3] += 0.5 * x * x;
                m
            })
            .collect();
        let agg: Vec<Option<usize>> =
            (0..nodes).map(|i| if i == 0 { None } else { Some((i - 1) / 3) }).collect();
        let (t, coarse) = tentative(&agg, 3, 3, &modes);
        let mut worst = 0.0f64;
        for (d, mode) in modes.iter().enumerate().skip(3) {
            let row = t.row(d);
            for (m, expected) in mode.iter().enumerate() {
                let v: f64 =
                    row.col_indices().iter().zip(row.values()).map(|(&c, &q)| q * coarse[c][m]).sum();
                worst = worst.max((v - expected).abs());
            }
        }
        let gram = super::super::sparse::product(&t.transpose(), &t);
        let mut ortho = 0.0f64;
        for i in 0..gram.nrows() {
            let row = gram.row(i);
            for (&j, &v) in row.col_indices().iter().zip(row.values()) {
                let expect = if i == j && t.transpose().row(i).nnz() > 0 { 1.0 } else { 0.0 };
                ortho = ortho.max((v - expect).abs());
            }
        }
        println!("T B_c - B: {worst:.1e}; T^T T - I: {ortho:.1e}");
        assert!(worst < 1e-12 && ortho < 1e-12);
    }
}
