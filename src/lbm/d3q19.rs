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
         const OPP = array<u32, {Q}>({opp});\n",
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
