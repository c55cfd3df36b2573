//! Steady Poiseuille flow in a straight tube (velocity inlet with a parabolic profile, pressure
//! outlet, Bouzidi walls) against the analytic solution of shared/VALIDATION.md.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::{MU, Steady, case, run_steady};
use hemotwin::hemo::WallSampler;
use hemotwin::hemo::{Section, measure};
use hemotwin::lattice::PortRole;
use hemotwin::pipeline::port_section;
use nalgebra::{Point3, Vector3};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Tube radius and length (m); Reynolds number 2 on the diameter; tau = 0.8 at every resolution.
const R: f64 = 2e-3;
const L: f64 = 6.0 * R;
const Q: f64 = 2.0 * 3.30188679e-6 / (2.0 * R) * PI * R * R;

fn tube(cells: f64) -> Steady {
    let c = case(
        &format!("{{ shape = \"tube\", radius = {}, length = {} }}", R * 1e3, L * 1e3),
        Q,
        cells,
        "tau = 0.8",
    );
    // Diffusive time R^2/nu in steps is 2.5 cells^2; run at least 4 of them, then to a 1e-8 residual.
    let diffusive = (2.5 * cells * cells) as u64;
    run_steady(&c, 1, 4 * diffusive, 40 * diffusive, 1e-8)
}

fn runs() -> &'static [(f64, Steady); 3] {
    static RUNS: OnceLock<[(f64, Steady); 3]> = OnceLock::new();
    RUNS.get_or_init(|| [16.0, 24.0, 32.0].map(|n| (n, tube(n))))
}

/// Relative L2 error of the momentum density rho u on the node layer nearest mid-length against
/// 2U(1 - r^2/R^2) e_z (the weakly compressible lattice conserves rho u, not u).
fn profile_error(s: &Steady) -> f64 {
    let lat = s.flow.lattice();
    let dx = lat.grid.dx;
    let z_mid = lat.grid.origin.z + ((L / 2.0 - lat.grid.origin.z) / dx).round() * dx;
    let u_mean = s.flow.units().velocity_to_lattice(Q / (PI * R * R));
    let (mut err, mut norm) = (0.0, 0.0);
    for (cell, m) in s.moments.iter().enumerate() {
        let p = lat.point(cell);
        if (p.z - z_mid).abs() > 1e-3 * dx {
            continue;
        }
        let rho = 1.0 + m[0] as f64;
        let j = Vector3::new(m[1] as f64, m[2] as f64, m[3] as f64) * rho;
        let exact = 2.0 * u_mean * (1.0 - (p.x * p.x + p.y * p.y) / (R * R));
        err += (j - Vector3::z() * exact).norm_squared();
        norm += exact * exact;
    }
    (err / norm).sqrt()
}

#[test]
fn poiseuille_profile_error_below_1pct_at_24_cells_and_converges_at_order_1_7() {
    let errors: Vec<(f64, f64)> = runs().iter().map(|(n, s)| (*n, profile_error(s))).collect();
    for ((n, e), (_, s)) in errors.iter().zip(runs()) {
        println!(
            "{n} cells across: profile L2 error {:.4}% ({} steps, residual {:.1e}/step, {})",
            100.0 * e,
            s.steps,
            s.residual_per_step,
            s.flow.units().describe()
        );
    }
    // Least-squares slope of log(error) against log(cells).
    let k = errors.len() as f64;
    let (sx, sy) = errors.iter().fold((0.0, 0.0), |(a, b), (n, e)| (a + n.ln(), b + e.ln()));
    let (sxx, sxy) =
        errors.iter().fold((0.0, 0.0), |(a, b), (n, e)| (a + n.ln() * n.ln(), b + n.ln() * e.ln()));
    let order = -(k * sxy - sx * sy) / (k * sxx - sx * sx);
    println!("observed convergence order {order:.2}");
    assert!(errors[1].1 < 0.01, "profile error at 24 cells {:.4}% >= 1%", 100.0 * errors[1].1);
    assert!(order >= 1.7, "convergence order {order:.2} < 1.7");
}

#[test]
fn poiseuille_pressure_drop_within_2pct_at_32_cells() {
    let (_, s) = &runs()[2];
    let section =
        |z: f64| Section { center: Point3::new(0.0, 0.0, z), normal: Vector3::z(), radius: 1.5 * R };
    let (z1, z2) = (0.25 * L, 0.75 * L);
    let p1 = measure(s.flow.lattice(), &s.moments, s.flow.units(), &section(z1)).mean_pressure_pa;
    let p2 = measure(s.flow.lattice(), &s.moments, s.flow.units(), &section(z2)).mean_pressure_pa;
    let exact = 8.0 * MU * (z2 - z1) * Q / (PI * R.powi(4));
    let rel = (p1 - p2) / exact - 1.0;
    println!(
        "pressure drop over {:.1} mm: {:.5} Pa, analytic {exact:.5} Pa, error {:+.3}%",
        (z2 - z1) * 1e3,
        p1 - p2,
        100.0 * rel
    );
    assert!(rel.abs() < 0.02, "pressure drop error {:.3}% >= 2%", 100.0 * rel);
}

#[test]
fn poiseuille_mass_conservation_below_half_percent_at_24_cells() {
    let (_, s) = &runs()[1];
    let offset = 3.0 * s.flow.units().dx_m;
    let flows: Vec<f64> = s
        .flow
        .vessel()
        .ports
        .iter()
        .zip(&s.flow.vessel().roles)
        .map(|(p, r)| {
            measure(s.flow.lattice(), &s.moments, s.flow.units(), &port_section(p, *r, offset)).flow_m3_s
        })
        .collect();
    let (q_in, q_out) = (flows[0], flows[1]);
    let rel = (q_in - q_out).abs() / q_in;
    println!(
        "inflow {q_in:.6e} m^3/s, outflow {q_out:.6e} m^3/s, prescribed {Q:.6e}: mass error {:.4}%",
        100.0 * rel
    );
    assert_eq!(s.flow.vessel().roles, [PortRole::Velocity, PortRole::Pressure]);
    assert!(rel < 0.005, "mass conservation error {:.4}% >= 0.5%", 100.0 * rel);
}

#[test]
fn poiseuille_wall_shear_stress_within_3pct_at_24_cells() {
    let (_, s) = &runs()[1];
    let v = &s.flow.vessel();
    let sampler = WallSampler::new(&v.surface, &v.tags, s.flow.lattice());
    let sample = sampler.sample(&s.stress, &s.moments, s.flow.units());
    // Away from the inlet and outlet by a diameter.
    let (mut sum, mut count, mut worst) = (0.0, 0, 0.0f64);
    let exact = 4.0 * MU * Q / (PI * R.powi(3));
    for (k, &vert) in sampler.vertices.iter().enumerate() {
        let z = v.surface.vertices[vert as usize].z;
        if !(2.0 * R..=L - 2.0 * R).contains(&z) {
            continue;
        }
        let w = sample.wss[k];
        sum += w.z;
        count += 1;
        worst = worst.max((w.norm() / exact - 1.0).abs());
    }
    let mean = sum / count as f64;
    let rel = mean / exact - 1.0;
    println!(
        "wall shear stress over {count} wall vertices: mean {mean:.5} Pa (axial), analytic 4 mu Q / (pi R^3) = \
         {exact:.5} Pa, error {:+.3}%, worst vertex {:.2}%",
        100.0 * rel,
        100.0 * worst
    );
    assert!(rel.abs() < 0.03, "mean WSS error {:.3}% >= 3%", 100.0 * rel);
}
