//! Non-Newtonian blood: steady Carreau-Yasuda pipe flow (Cho & Kensey parameters,
//! shared/VALIDATION.md) against an independent 1D radial solution of the same rheology within 2%.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use hemotwin::case::Case;
use std::path::Path;

const R: f64 = 2e-3;
const L: f64 = 12e-3;
const RHO: f64 = 1060.0;

/// Carreau-Yasuda viscosity (Pa s) at shear rate `g` (1/s), Cho & Kensey.
fn mu(g: f64) -> f64 {
    0.00345 + (0.056 - 0.00345) * (1.0 + (1.902 * g).powf(1.25)).powf((0.22 - 1.0) / 1.25)
}

/// The 1D radial solution for pressure gradient `gradient` (Pa/m): shear rate from
/// mu(g) g = gradient r / 2 (bisection in log g), velocity by integrating it from the wall inward.
/// Returns (r, u) on `m` + 1 points from the axis to the wall, and the flow (m^3/s).
fn radial(gradient: f64, m: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let shear = |r: f64| {
        let stress = gradient * r / 2.0;
        let (mut lo, mut hi) = (1e-12f64.ln(), 1e6f64.ln());
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mu(mid.exp()) * mid.exp() < stress { lo = mid } else { hi = mid }
        }
        (0.5 * (lo + hi)).exp()
    };
    let r: Vec<f64> = (0..=m).map(|k| R * k as f64 / m as f64).collect();
    let g: Vec<f64> = r.iter().map(|&x| if x > 0.0 { shear(x) } else { 0.0 }).collect();
    let mut u = vec![0.0; m + 1];
    for k in (0..m).rev() {
        u[k] = u[k + 1] + 0.5 * (g[k] + g[k + 1]) * (r[k + 1] - r[k]);
    }
    let flow: f64 =
        (0..m).map(|k| 0.5 * (u[k] * r[k] + u[k + 1] * r[k + 1]) * (r[k + 1] - r[k])).sum::<f64>()
            * 2.0
            * std::f64::consts::PI;
    (r, u, flow)
}

#[test]
fn carreau_yasuda_pipe_flow_matches_the_1d_radial_solution_within_2_percent() {
    let q = std::f64::consts::PI * R * R * 0.01;
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"tube\", radius = {}, length = {} }}\n\
         [fluid]\ndensity = {RHO}\nviscosity = 0.00345\nrheology = \"carreau-yasuda\"\n\
         [inflow]\nflow_rate = {q:e}\nramp = 0.0\n[lattice]\ncells_across_inlet = 16\ntau = 0.55\n\
         [run]\nsteps = 1\nbackend = \"cpu\"\n",
        R * 1e3,
        L * 1e3
    );
    let case = Case::from_toml(&text, Path::new("Carreau-Yasuda case")).unwrap();
    let mut s = common::run_steady(&case, 400, 1001, 40_000, 5e-8);
    let clipped = s.flow.clipped_cells().unwrap();
    let (units, residual, previous) = (*s.flow.units(), s.residual_per_step, &s.moments);
    // Mid-length layer: axial velocity against radius.
    let lattice = s.flow.lattice();
    // One node layer, the nearest to mid-length.
    let layer = (0..lattice.len())
        .map(|c| lattice.point(c).z)
        .min_by(|a, b| (a - L / 2.0).abs().total_cmp(&(b - L / 2.0).abs()))
        .unwrap();
    let section: Vec<(f64, f64, f64)> = (0..lattice.len())
        .filter(|&c| (lattice.point(c).z - layer).abs() < 1e-3 * units.dx_m)
        .map(|c| {
            let p = lattice.point(c);
            let m = previous[c];
            ((p.x * p.x + p.y * p.y).sqrt(), units.velocity_to_si(m[3] as f64), 1.0 + m[0] as f64)
        })
        .collect();
    // The flow through the section: each cell stands for dx^2 of the plane.
    let q_lbm: f64 = section.iter().map(|(_, u, rho)| u * rho).sum::<f64>() * units.dx_m * units.dx_m;
    // The 1D pressure gradient that carries the same flow (bisection on the monotone Q(G)).
    let (mut lo, mut hi) = (1e-3f64.ln(), 1e5f64.ln());
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if radial(mid.exp(), 400).2 < q_lbm { lo = mid } else { hi = mid }
    }
    let (r, u_ref, q_ref) = radial((0.5 * (lo + hi)).exp(), 2000);
    let at = |x: f64| {
        let k = ((x / R) * 2000.0).floor().min(1999.0) as usize;
        let t = (x - r[k]) / (r[k + 1] - r[k]);
        u_ref[k] + (u_ref[k + 1] - u_ref[k]) * t
    };
    let inside: Vec<&(f64, f64, f64)> = section.iter().filter(|(x, _, _)| *x < R).collect();
    let sq: f64 = inside.iter().map(|(x, u, _)| (u - at(*x)).powi(2)).sum();
    let err = (sq / inside.len() as f64).sqrt() / u_ref[0];
    let newtonian_peak = 2.0 * q_ref / (std::f64::consts::PI * R * R);
    println!(
        "Carreau-Yasuda pipe: {} steps (change {residual:.1e}/step), {} section cells, flow {q_lbm:.4e} (1D {q_ref:.4e}) \
         m^3/s, centreline {:.5} m/s (1D {:.5}, a Newtonian parabola would peak at {newtonian_peak:.5}), profile L2 error \
         {:.3}% of the 1D centreline velocity; {clipped} cells clipped; {}",
        s.steps,
        inside.len(),
        inside.iter().map(|(_, u, _)| *u).fold(0.0, f64::max),
        u_ref[0],
        100.0 * err,
        units.describe()
    );
    assert_eq!(clipped, 0);
    assert!(u_ref[0] < 0.95 * newtonian_peak, "the test flow must be in the shear-thinning range");
    assert!(err < 0.02, "profile error {:.3}% >= 2%", 100.0 * err);
}
