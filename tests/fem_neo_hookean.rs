//! Large-deformation inflation of a thick neo-Hookean cylinder in plane strain (ends held
//! axially), against the analytic pressure-radius curve of the incompressible material.
//!
//! Incompressible plane strain maps radius R to r with r^2 - R^2 = a^2 - A^2 = c. With the hoop
//! stretch λ = r/R, the neo-Hookean (W = μ/2 (I1 - 3)) principal stress difference is
//! σθ - σr = μ (λ^2 - λ^-2), and equilibrium dσr/dr = (σθ - σr)/r with σr(a) = -p, σr(b) = 0 gives
//! p = ∫_a^b μ (r^2/(r^2 - c) - (r^2 - c)/r^2) dr/r
//!   = μ [ ln(B/A) - ln(b/a) + (c/2)(1/a^2 - 1/b^2) ],
//! which reduces to Lamé's p = 2μ (u_a/A)(1 - A^2/B^2) for small strain.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Material, Model, NewtonSettings, WallSolver};
use hemotwin::gpu::BackendChoice;
use wall::{cylinder, problem};

/// Analytic pressure (Pa) that inflates the inner radius from `ra` to `a` (outer `rb`), shear modulus `mu`.
fn analytic_pressure(mu: f64, ra: f64, rb: f64, a: f64) -> f64 {
    let c = a * a - ra * ra;
    let b = (rb * rb + c).sqrt();
    mu * ((rb / ra).ln() - (b / a).ln() + c / 2.0 * (1.0 / (a * a) - 1.0 / (b * b)))
}

#[test]
fn nearly_incompressible_neo_hookean_inflation_follows_the_analytic_curve_within_2pct() {
    let (ra, rb) = (1.0, 1.5);
    let nu = 0.499;
    let mu = 1.0e5;
    let material = Material {
        model: Model::NearlyIncompressibleNeoHookean,
        youngs_modulus: 2.0 * mu * (1.0 + nu),
        poisson_ratio: nu,
    };
    // Inflate the inner radius by about 50 %.
    let p_max = analytic_pressure(mu, ra, rb, 1.5 * ra);
    let (mesh, axis) = cylinder(ra, rb, 24, 3, 2);
    let mut solver = WallSolver::new(&mesh, &axis, problem(material, p_max, BackendChoice::Cpu)).unwrap();
    let inner: Vec<u32> = {
        let mut v: Vec<u32> =
            mesh.inner_faces.iter().flat_map(|f| [f.nodes[0], f.nodes[1], f.nodes[2]]).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let steps = 10;
    let mut worst: f64 = 0.0;
    println!("step  p (Pa)      a/A (FE)  p_analytic(a)  error     a/A analytic  radius error");
    for k in 1..=steps {
        let lambda = k as f64 / steps as f64;
        solver.advance_to(lambda).unwrap();
        let u = solver.displacement();
        let a = inner
            .iter()
            .map(|&n| {
                let x = mesh.nodes[n as usize] + u[n as usize];
                x.x.hypot(x.y)
            })
            .sum::<f64>()
            / inner.len() as f64;
        let p = lambda * p_max;
        let p_an = analytic_pressure(mu, ra, rb, a);
        // Inner radius the analytic curve gives at p (bisection on the monotone curve).
        let (mut lo, mut hi) = (ra, 3.0 * ra);
        for _ in 0..100 {
            let mid = (lo + hi) / 2.0;
            if analytic_pressure(mu, ra, rb, mid) < p { lo = mid } else { hi = mid }
        }
        let err = (p - p_an).abs() / p_an;
        let radius_err = (a - lo).abs() / (lo - ra);
        worst = worst.max(err);
        println!(
            "{k:>4}  {p:>10.2}  {:.5}   {p_an:>10.2}    {:.3} %   {:.5}       {:.3} % of the displacement",
            a / ra,
            err * 100.0,
            lo / ra,
            radius_err * 100.0
        );
    }
    let s = solver.solution().summary;
    println!(
        "{} elements, {} Newton iterations, {} PCG iterations; worst pressure error along the curve {:.3} %",
        s.elements,
        s.newton_iterations,
        s.pcg_iterations,
        worst * 100.0
    );
    assert!(worst < 0.02, "pressure-radius curve off by {:.2} %", worst * 100.0);
}

/// At a small load, the compressible neo-Hookean wall matches linear elasticity (same moduli)
/// within 0.5 % in displacement.
#[test]
fn compressible_neo_hookean_matches_linear_elasticity_at_small_strain() {
    let (mesh, axis) = cylinder(1.0, 2.0, 16, 2, 2);
    let make = |model| Material { model, youngs_modulus: 1.0e6, poisson_ratio: 0.3 };
    let p = 10.0; // strain about 1e-5
    let lin = WallSolver::new(&mesh, &axis, problem(make(Model::LinearElastic), p, BackendChoice::Cpu))
        .unwrap()
        .solve()
        .unwrap();
    let mut nh = problem(make(Model::NeoHookean), p, BackendChoice::Cpu);
    nh.newton = NewtonSettings { load_steps: 1, ..NewtonSettings::default() };
    let nh = WallSolver::new(&mesh, &axis, nh).unwrap().solve().unwrap();
    let num: f64 = nh
        .fields
        .displacement
        .iter()
        .zip(&lin.fields.displacement)
        .map(|(a, b)| (a - b).norm_squared())
        .sum();
    let den: f64 = lin.fields.displacement.iter().map(|b| b.norm_squared()).sum();
    let diff = (num / den).sqrt();
    println!(
        "compressible neo-Hookean vs linear at p = {p} Pa: relative L2 displacement difference {diff:.2e} ({} Newton iterations)",
        nh.summary.newton_iterations
    );
    assert!(diff < 5e-3);
}

/// A pressure far beyond what one load step can carry (even cut to 1/8) fails with the load step
/// and residual named, and the solver keeps the last converged state.
#[test]
fn diverging_newton_names_the_load_step_and_keeps_the_last_converged_state() {
    let (mesh, axis) = cylinder(1.0, 1.2, 16, 1, 2);
    let material = Material { model: Model::NeoHookean, youngs_modulus: 1.0e6, poisson_ratio: 0.45 };
    let mut pr = problem(material, 5.0e6, BackendChoice::Cpu);
    pr.newton = NewtonSettings { load_steps: 2, max_iterations: 3, ..NewtonSettings::default() };
    let mut solver = WallSolver::new(&mesh, &axis, pr).unwrap();
    let e = solver.solve().unwrap_err().to_string();
    println!("{e}");
    assert!(e.contains("load step 1/2") && e.contains("residual") && e.contains("is kept"), "{e}");
    let kept = solver.converged_load_fraction();
    assert!(kept < 0.5, "{kept}");
    assert!(solver.displacement().iter().all(|d| d.norm().is_finite()));
}
