//! Prestress by the backward-displacement method: a thick nearly incompressible neo-Hookean
//! cylinder imaged inflated to a known radius (plane strain, ends held axially) gives back its
//! unloaded radius within 1 %, against the analytic pressure-radius relation (see
//! tests/fem_neo_hookean.rs): unloaded A = 1, B = 1.5; imaged a = 1.3, b = sqrt(B^2 + a^2 - A^2).
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Material, Model, PrestressSettings, zero_pressure_geometry};
use hemotwin::gpu::BackendChoice;
use wall::{cylinder, problem};

#[test]
fn backward_displacement_recovers_the_unloaded_radius_within_1pct() {
    let (ra, rb, a): (f64, f64, f64) = (1.0, 1.5, 1.3);
    let b = (rb * rb + a * a - ra * ra).sqrt();
    let (nu, mu) = (0.499, 1.0e5);
    let material = Material {
        model: Model::NearlyIncompressibleNeoHookean,
        youngs_modulus: 2.0 * mu * (1.0 + nu),
        poisson_ratio: nu,
    };
    let c = a * a - ra * ra;
    let p = mu * ((rb / ra).ln() - (b / a).ln() + c / 2.0 * (1.0 / (a * a) - 1.0 / (b * b)));
    let (imaged, axis) = cylinder(a, b, 16, 2, 1);
    let mut pb = problem(material, p, BackendChoice::Cpu);
    pb.newton.load_steps = 3;
    pb.pcg.tolerance = 1e-8;
    let z = zero_pressure_geometry(&imaged, &axis, &pb, &PrestressSettings::default()).unwrap();
    let radius = |i: usize| z.mesh.nodes[i].x.hypot(z.mesh.nodes[i].y);
    let inner: Vec<f64> = (0..imaged.nodes.len())
        .filter(|&i| (imaged.nodes[i].x.hypot(imaged.nodes[i].y) - a).abs() < 1e-9)
        .map(radius)
        .collect();
    let outer: Vec<f64> = (0..imaged.nodes.len())
        .filter(|&i| (imaged.nodes[i].x.hypot(imaged.nodes[i].y) - b).abs() < 1e-9)
        .map(radius)
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ea, eb) = (mean(&inner) / ra - 1.0, mean(&outer) / rb - 1.0);
    println!(
        "imaged a = {a}, b = {b:.4} at p = {p:.1} Pa: {} backward-displacement iterations (mismatch {:.2e}); \
         unloaded inner radius {:.4} (error {:.3} %), outer {:.4} (error {:.3} %)",
        z.iterations,
        z.mismatch_m,
        mean(&inner),
        ea * 100.0,
        mean(&outer),
        eb * 100.0
    );
    assert!(ea.abs() < 0.01 && eb.abs() < 0.01);
}
