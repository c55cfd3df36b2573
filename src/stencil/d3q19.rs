//! The D3Q19 velocity set: the single source of the lattice constants for Rust and WGSL.
//!
//! Directions come in opposite pairs: `i` odd and `i + 1` are opposite, 0 is the rest population.

/// Number of discrete velocities.
pub const Q: usize = 19;

/// Lattice velocities `c_i` (lattice units).
pub const C: [[i32; 3]; Q] = [
    [0, 0, 0],
    [1, 0, 0],
    [-1, 0, 0],
    [0, 1, 0],
    [0, -1, 0],
    [0, 0, 1],
    [0, 0, -1],
    [1, 1, 0],
    [-1, -1, 0],
    [1, -1, 0],
    [-1, 1, 0],
    [1, 0, 1],
    [-1, 0, -1],
    [1, 0, -1],
    [-1, 0, 1],
    [0, 1, 1],
    [0, -1, -1],
    [0, 1, -1],
    [0, -1, 1],
];

/// Lattice weights `w_i`.
pub const W: [f32; Q] = [
    1.0 / 3.0,
    1.0 / 18.0,
    1.0 / 18.0,
    1.0 / 18.0,
    1.0 / 18.0,
    1.0 / 18.0,
    1.0 / 18.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
    1.0 / 36.0,
];

/// Speed of sound squared, `c_s^2` (lattice units).
pub const CS2: f64 = 1.0 / 3.0;

/// The third-order Hermite polynomials D3Q19 represents, per direction, weighted for the
/// regularized collision: for each odd axis a (x, y, z; the two other axes b, c) the sum
/// (H_abb + H_acc) / (2 c_s^6) and the difference (H_abb - H_acc) / (6 c_s^6), as
/// [x sum, x difference, y sum, y difference, z sum, z difference]. With c_s^2 = 1/3 and one other
/// component at most: sum = 4.5 c_a (3 n - 2), n the number of non-zero c_b, c_c; difference =
/// 4.5 c_a (c_b^2 - c_c^2); exact in FP32.
pub const HERMITE3: [[f32; 6]; Q] = {
    let mut h = [[0.0f32; 6]; Q];
    let mut i = 0;
    while i < Q {
        let mut a = 0;
        while a < 3 {
            let (ca, cb, cc) = (C[i][a], C[i][(a + 1) % 3], C[i][(a + 2) % 3]);
            let n = cb * cb + cc * cc;
            h[i][2 * a] = 4.5 * (ca * (3 * n - 2)) as f32;
            h[i][2 * a + 1] = 4.5 * (ca * (cb * cb - cc * cc)) as f32;
            a += 1;
        }
        i += 1;
    }
    h
};

/// Index of the direction opposite to `i`.
pub const fn opposite(i: usize) -> usize {
    if i == 0 {
        0
    } else if i % 2 == 1 {
        i + 1
    } else {
        i - 1
    }
}

/// WGSL declarations of the same constants, prepended to every LBM shader at pipeline creation.
pub fn wgsl_constants() -> String {
    let list = |f: &dyn Fn(usize) -> String| (0..Q).map(f).collect::<Vec<_>>().join(", ");
    format!(
        "const Q: u32 = {Q}u;\n\
         const CX = array<f32, {Q}>({cx});\n\
         const CY = array<f32, {Q}>({cy});\n\
         const CZ = array<f32, {Q}>({cz});\n\
         const W = array<f32, {Q}>({w});\n\
         const OPP = array<u32, {Q}>({opp});\n\
         const H3 = array<array<f32, 6>, {Q}>({h3});\n",
        h3 = list(&|i| format!("array<f32, 6>({})", HERMITE3[i].map(|v| format!("{v:.1}")).join(", "))),
        cx = list(&|i| format!("{:.1}", C[i][0] as f32)),
        cy = list(&|i| format!("{:.1}", C[i][1] as f32)),
        cz = list(&|i| format!("{:.1}", C[i][2] as f32)),
        w = list(&|i| format!("{:e}", W[i])),
        opp = list(&|i| format!("{}u", opposite(i))),
    )
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // index loops mirror the tensor notation of the moments
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_second_moment_is_cs2() {
        let sum: f64 = W.iter().map(|&w| w as f64).sum();
        assert!((sum - 1.0).abs() < 1e-7);
        for a in 0..3 {
            for b in 0..3 {
                let m: f64 = (0..Q).map(|i| W[i] as f64 * (C[i][a] * C[i][b]) as f64).sum();
                let want = if a == b { CS2 } else { 0.0 };
                assert!((m - want).abs() < 1e-7, "second moment {a}{b} = {m}");
            }
        }
    }

    /// The regularized collision's third-order table projects onto the Hermite polynomials the
    /// lattice represents: sum_i w_i H3[i][m] h_n(c_i) = delta_mn for h the unweighted basis.
    #[test]
    fn hermite3_table_is_the_dual_basis_of_the_third_order_polynomials() {
        let cs2 = CS2;
        let basis = |i: usize, m: usize| -> f64 {
            let a = m / 2;
            let c = |k: usize| C[i][k] as f64;
            let (ca, cb, cc) = (c(a), c((a + 1) % 3), c((a + 2) % 3));
            let (h_abb, h_acc) = (ca * (cb * cb - cs2), ca * (cc * cc - cs2));
            if m.is_multiple_of(2) { h_abb + h_acc } else { h_abb - h_acc }
        };
        for m in 0..6 {
            for n in 0..6 {
                let s: f64 = (0..Q).map(|i| W[i] as f64 * HERMITE3[i][m] as f64 * basis(i, n)).sum();
                let want = if m == n { 1.0 } else { 0.0 };
                assert!((s - want).abs() < 1e-6, "({m}, {n}): {s}");
            }
        }
    }

    #[test]
    fn opposite_directions_are_negated_pairs() {
        for i in 0..Q {
            let o = opposite(i);
            assert_eq!(opposite(o), i);
            for d in 0..3 {
                assert_eq!(C[i][d], -C[o][d]);
            }
        }
    }
}
