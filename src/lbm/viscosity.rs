//! The local relaxation time of non-Newtonian blood and LES, CPU side, and the constants both
//! backends share: the twin of `local_tau`, `exp2_poly` and `log2_poly` in shaders/lbm_common.wgsl.
//!
//! Powers and exponentials are FP32 polynomials (fused multiply-adds: `mul_add` here, `fma` in WGSL)
//! and bit operations rather than library calls, so that the lane loops of the CPU kernel vectorise
//! across cells and both backends do the same arithmetic. A fused multiply-add is one instruction on
//! the AVX2 and AVX-512 paths and on aarch64; elsewhere (the portable x86-64 path, scalar code such
//! as `local_tau`) it is a libm call with the same result, and there the local path runs several
//! times slower.

use super::StepParams;
use crate::case::{FluidSpec, Rheology};
use crate::units::LatticeUnits;

/// Steps of the iteration for the local relaxation time (Casson, LES).
pub const TAU_ITERATIONS: usize = 5;

/// Coefficients c_0..c_6 of 2^f ~ sum c_k f^k on [-1/2, 1/2] (c_0 = 1, so 2^0 = 1 exactly); a
/// near-minimax fit of the relative error (c_1 came out as FP32 ln 2), 1.3 ulp in FP32 fused
/// multiply-add Horner evaluation.
const EXP2_POLY: [f32; 7] = [
    1.0,
    std::f32::consts::LN_2,
    0.240_226_48,
    0.055_503_324,
    0.009_618_437,
    0.001_339_887_5,
    0.000_153_533_62,
];

/// Coefficients c_0..c_7 of log2(1 + y) ~ y sum c_k y^k for y in [sqrt(1/2) - 1, sqrt(2) - 1]; a
/// near-minimax fit of the absolute error, 1e-7 in FP32 fused multiply-add Horner evaluation (no
/// division).
const LOG2_POLY: [f32; 8] = [
    1.442_694_8,
    -0.721_357_17,
    0.480_939_45,
    -0.360_087_22,
    0.286_707_46,
    -0.250_069_05,
    0.236_890_44,
    -0.145_744_49,
];

/// 1.5 2^23: adding it to |x| < 2^22 rounds x to an integer, half to even, and leaves that integer
/// in the low mantissa bits (no float-to-int conversion, which would not vectorise with Rust's
/// saturating semantics).
const ROUNDER: f32 = 12_582_912.0;

/// 2^x (FP32, about 2 ulp); x is kept in [-125, 126] so the result stays a normal number.
/// Twin of `exp2_poly` in shaders/lbm_common.wgsl.
#[inline(always)]
pub fn exp2_poly(x: f32) -> f32 {
    let x = x.clamp(-125.0, 126.0);
    let shifted = x + ROUNDER;
    let f = x - (shifted - ROUNDER);
    let mut p = EXP2_POLY[6];
    for &c in EXP2_POLY[..6].iter().rev() {
        p = p.mul_add(f, c);
    }
    // 2^round(x): the rounded integer plus the exponent bias, shifted into the exponent field.
    p * f32::from_bits(shifted.to_bits().wrapping_add(127) << 23)
}

/// log2(x) (FP32, about 1e-7 absolute plus 1 ulp); x below the smallest normal number counts as it.
/// Twin of `log2_poly` in shaders/lbm_common.wgsl.
#[inline(always)]
pub fn log2_poly(x: f32) -> f32 {
    // x = m 2^k with m in [sqrt(1/2), sqrt(2)), read from the bits.
    let bits = x.max(f32::MIN_POSITIVE).to_bits() + (0x3f80_0000 - 0x3f35_04f3);
    let k = (bits >> 23) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) + 0x3f35_04f3);
    let y = m - 1.0;
    let mut p = LOG2_POLY[7];
    for &c in LOG2_POLY[..7].iter().rev() {
        p = p.mul_add(y, c);
    }
    y.mul_add(p, k as f32)
}

/// WGSL declarations of the shared constants, prepended to the LBM shaders.
pub fn wgsl_constants() -> String {
    let list = |c: &[f32]| c.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(", ");
    format!(
        "const TAU_ITERATIONS: u32 = {TAU_ITERATIONS}u;\n\
         const CARREAU_YASUDA_ITERATIONS: u32 = {CARREAU_YASUDA_ITERATIONS}u;\n\
         const EXP2_POLY = array<f32, {}>({});\n\
         const LOG2_POLY = array<f32, {}>({});\n",
        EXP2_POLY.len(),
        list(&EXP2_POLY),
        LOG2_POLY.len(),
        list(&LOG2_POLY),
    )
}

/// The relaxation time of one cell (see `local_taus`) and whether the range clipped it.
pub fn local_tau(p: &StepParams, pi_norm: f32, rho: f32) -> (f32, bool) {
    let (mut tau, mut clipped) = ([0.0], [false]);
    local_taus(p, &[pi_norm], &[rho], &mut tau, &mut clipped);
    (tau[0], clipped[0])
}

/// Twin of `local_tau` in shaders/lbm_common.wgsl, for every lane of `pi_norm` (|Pi^neq|) and
/// `rho`: the relaxation time at which the viscosity model's viscosity at the shear rate
/// 3 |Pi^neq| / (sqrt 2 rho tau) gives back tau (a fixed-point step from the reference tau, then
/// secant steps: `TAU_ITERATIONS` in all, `CARREAU_YASUDA_ITERATIONS` for Carreau-Yasuda; within
/// [tau_min, tau_max]), into `tau`; `clipped` says where the range clipped it. Once no lane moves
/// it stops early, with the result of all iterations.
#[inline(always)]
pub fn local_taus(p: &StepParams, pi_norm: &[f32], rho: &[f32], tau: &mut [f32], clipped: &mut [bool]) {
    let tau0 = 1.0 / p.omega_plus;
    match p.rheology {
        1 => {
            let exponent = (p.power_n - 1.0) / p.power_a;
            fixed_point(p, pi_norm, rho, tau, clipped, CARREAU_YASUDA_ITERATIONS, |shear| {
                let lambda_a = exp2_poly(p.power_a * log2_poly(p.lambda * shear));
                p.nu_inf + (p.nu_zero - p.nu_inf) * exp2_poly(exponent * log2_poly(1.0 + lambda_a))
            })
        }
        2 => {
            let (sqrt_nu, m) = (p.nu_inf.sqrt(), -p.regularisation);
            fixed_point(p, pi_norm, rho, tau, clipped, TAU_ITERATIONS, |shear| {
                let g = shear.max(1e-12);
                let s = (p.yield_stress * (1.0 - exp2_poly(m * g * std::f32::consts::LOG2_E)) / g).sqrt()
                    + sqrt_nu;
                s * s
            })
        }
        _ => fixed_point(p, pi_norm, rho, tau, clipped, TAU_ITERATIONS, |_| (tau0 - 0.5) / 3.0),
    }
}

/// Most lanes `local_taus` takes at once (the CPU kernel's block).
const MAX_LANES: usize = 128;

/// Steps of `local_taus` for Carreau-Yasuda, whose secant iteration converges in fewer than the
/// `TAU_ITERATIONS` the other models take (both within 4e-7 of the converged fixed point).
pub const CARREAU_YASUDA_ITERATIONS: usize = 4;

/// The iterations of `local_taus` with the model viscosity `viscosity(shear)` (lattice units), plus
/// the Smagorinsky term, `iterations` steps; each pass over the lanes vectorises. The first step is
/// a plain fixed-point step tau <- goal(tau); later ones are secant steps on goal(tau) - tau through
/// the last two iterates where the residual shrank and the secant is not flat, else plain steps. A
/// lane that did not move stays where it is, so stopping once no lane moves gives the result of all
/// iterations, lane by lane.
#[inline(always)]
fn fixed_point(
    p: &StepParams,
    pi_norm: &[f32],
    rho: &[f32],
    tau: &mut [f32],
    clipped: &mut [bool],
    iterations: usize,
    viscosity: impl Fn(f32) -> f32,
) {
    let lanes = tau.len();
    assert!(lanes <= MAX_LANES, "local_taus takes at most {MAX_LANES} lanes");
    let (pi_norm, rho, clipped) = (&pi_norm[..lanes], &rho[..lanes], &mut clipped[..lanes]);
    let (mut prev, mut prev_res) = ([0.0f32; MAX_LANES], [0.0f32; MAX_LANES]);
    tau.fill(1.0 / p.omega_plus);
    for k in 0..iterations {
        let mut moved = false;
        for l in 0..lanes {
            let shear = 3.0 * pi_norm[l] / (std::f32::consts::SQRT_2 * rho[l] * tau[l]);
            let free = 0.5 + 3.0 * (viscosity(shear) + p.smagorinsky * shear);
            let goal = free.clamp(p.tau_min, p.tau_max);
            let res = goal - tau[l];
            let den = res - prev_res[l];
            let secant = (tau[l] - res * (tau[l] - prev[l]) / den).clamp(p.tau_min, p.tau_max);
            let next = if k > 0 && tau[l] == prev[l] {
                tau[l]
            } else if k > 0 && den != 0.0 && res.abs() < prev_res[l].abs() {
                secant
            } else {
                goal
            };
            moved |= next != tau[l];
            clipped[l] = goal != free;
            (prev[l], prev_res[l], tau[l]) = (tau[l], res, next);
        }
        if !moved {
            break;
        }
    }
}

/// Smagorinsky constant of `fluid.les`.
pub const SMAGORINSKY: f64 = 0.17;

/// The fluid's viscosity model in lattice units, set on `solver` for every later step.
pub fn apply_rheology(f: &FluidSpec, units: &LatticeUnits, solver: &mut super::Solver) {
    let nu = |mu: f64| (mu / f.density * units.dt_s / (units.dx_m * units.dx_m)) as f32;
    let mut p = *solver.template();
    p.rheology = match f.rheology {
        Rheology::Newtonian => 0,
        Rheology::CarreauYasuda => 1,
        Rheology::Casson => 2,
    };
    p.smagorinsky = if units.les { (SMAGORINSKY * SMAGORINSKY) as f32 } else { 0.0 };
    p.tau_min = units.tau.min(crate::units::TAU_MIN) as f32;
    p.tau_max = f.tau_max as f32;
    p.nu_zero = nu(f.mu_zero);
    p.nu_inf = if f.rheology == Rheology::Casson { nu(f.casson_viscosity) } else { nu(f.mu_inf) };
    p.lambda = (f.lambda / units.dt_s) as f32;
    p.power_a = f.power_a as f32;
    p.power_n = f.power_n as f32;
    p.yield_stress = (f.yield_stress / f.density * (units.dt_s / units.dx_m).powi(2)) as f32;
    p.regularisation = (f.regularisation / units.dt_s) as f32;
    solver.set_rheology(&p);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed point of `local_taus` in f64 with the library's powers and exponentials, by plain
    /// fixed-point iteration run to convergence (200 iterations).
    fn local_tau_f64(p: &StepParams, pi_norm: f64, rho: f64) -> f64 {
        let f = |v: f32| v as f64;
        let tau0 = 1.0 / f(p.omega_plus);
        let mut tau = tau0;
        for _ in 0..200 {
            let shear = 3.0 * pi_norm / (std::f64::consts::SQRT_2 * rho * tau);
            let nu = match p.rheology {
                1 => {
                    let (a, n) = (f(p.power_a), f(p.power_n));
                    f(p.nu_inf)
                        + f(p.nu_zero - p.nu_inf) * (1.0 + (f(p.lambda) * shear).powf(a)).powf((n - 1.0) / a)
                }
                2 => {
                    let g = shear.max(1e-12);
                    let s = (f(p.yield_stress) * (1.0 - (-f(p.regularisation) * g).exp()) / g).sqrt()
                        + f(p.nu_inf).sqrt();
                    s * s
                }
                _ => (tau0 - 0.5) / 3.0,
            };
            tau = (0.5 + 3.0 * (nu + f(p.smagorinsky) * shear)).clamp(f(p.tau_min), f(p.tau_max));
        }
        tau
    }

    #[test]
    fn local_tau_is_within_2e_6_of_an_f64_fixed_point_with_library_powers() {
        let newtonian: StepParams = bytemuck::Zeroable::zeroed();
        let base =
            StepParams { omega_plus: 1.0 / 0.55, tau_min: 0.501, tau_max: 2.0, magic: 0.1875, ..newtonian };
        // Blood at the rheology test's units (tau 0.55, dx 0.25 mm, dt 3.2e-4 s): Cho & Kensey's
        // Carreau-Yasuda with LES, and the case defaults' regularised Casson.
        let models = [
            StepParams {
                rheology: 1,
                smagorinsky: 0.0289,
                nu_zero: 0.27,
                nu_inf: 0.0167,
                lambda: 5.9e3,
                power_a: 1.25,
                power_n: 0.22,
                ..base
            },
            StepParams { rheology: 2, nu_inf: 0.017, yield_stress: 6e-6, regularisation: 3e5, ..base },
            StepParams { smagorinsky: 0.0289, ..base },
        ];
        for p in models {
            let mut worst = 0.0f64;
            for k in 0..2000 {
                let pi_norm = 1e-9 * 1.01f32.powi(k);
                let tau = local_tau(&p, pi_norm, 1.001).0 as f64;
                worst = worst.max((tau - local_tau_f64(&p, pi_norm as f64, 1.001)).abs() / tau);
            }
            println!("rheology {}: largest relative difference in tau {worst:.2e}", p.rheology);
            assert!(worst < 2e-6, "rheology {}: tau differs by {worst:.2e}", p.rheology);
        }
    }

    #[test]
    fn exp2_poly_is_within_3_ulp_and_log2_poly_within_2e_7() {
        let mut worst = (0.0f64, 0.0f64);
        for k in -2_000_000..=2_000_000 {
            let x = k as f32 * 6.0e-5;
            let want = (x as f64).exp2();
            worst.0 = worst.0.max((exp2_poly(x) as f64 - want).abs() / want);
            let y = (k as f32 * 1.7e-5).exp2();
            let want = (y as f64).log2();
            worst.1 = worst.1.max((log2_poly(y) as f64 - want).abs() / want.abs().max(1.0));
        }
        println!("exp2_poly: relative error {:.2e}; log2_poly: error {:.2e}", worst.0, worst.1);
        assert!(worst.0 < 3.0 * f32::EPSILON as f64 / 2.0, "exp2_poly error {:.2e}", worst.0);
        assert!(worst.1 < 2e-7, "log2_poly error {:.2e}", worst.1);
        assert_eq!(
            (exp2_poly(0.0), log2_poly(1.0), exp2_poly(-1e9), log2_poly(0.0)),
            (1.0, 0.0, 2f32.powi(-125), -126.0)
        );
    }
}
