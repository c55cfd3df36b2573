//! The GPU (WGSL) and CPU (rayon) backends run the same stenosis case and must agree.
//! With HEMOTWIN_REQUIRE_GPU=1 (as on CI, with lavapipe) a missing adapter fails the test.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::case;
use hemotwin::case::Case;
use hemotwin::gpu::BackendChoice;
use hemotwin::lbm::Solver;
use hemotwin::pipeline::{prepare, ramp};
use std::path::Path;

/// The GPU solver for `setup`, or None (test skipped) when there is no adapter and CI does not
/// require one.
fn gpu_solver(setup: &hemotwin::pipeline::Setup) -> Option<Solver> {
    match Solver::new(&setup.lattice, &setup.units, BackendChoice::Gpu) {
        Ok(s) => Some(s),
        Err(e) if std::env::var("HEMOTWIN_REQUIRE_GPU").as_deref() != Ok("1") => {
            println!("skipped: no GPU adapter ({e}); set HEMOTWIN_REQUIRE_GPU=1 to make this a failure");
            None
        }
        Err(e) => panic!("HEMOTWIN_REQUIRE_GPU=1 but the GPU backend failed: {e}"),
    }
}

/// Largest difference between two per-cell arrays relative to the largest magnitude of `b`.
fn relative_linf<const N: usize>(a: &[[f32; N]], b: &[[f32; N]], components: std::ops::Range<usize>) -> f64 {
    let scale = b.iter().flat_map(|m| components.clone().map(|c| (m[c] as f64).abs())).fold(0.0, f64::max);
    let diff = a
        .iter()
        .zip(b)
        .flat_map(|(x, y)| components.clone().map(|c| (x[c] as f64 - y[c] as f64).abs()))
        .fold(0.0, f64::max);
    diff / scale.max(f64::MIN_POSITIVE)
}

/// FP32 on both sides with the same operation order; differences come from the GPU compiler's
/// rounding choices (e.g. fused multiply-adds) only. The case runs at tau = 0.6: near tau = 1/2 the
/// flow is almost inviscid and rounding differences are hardly damped (1.1e-5 was measured at
/// tau = 0.51), which would test the conditioning of the flow rather than the kernels.
const TOLERANCE: f64 = 1e-5;

#[test]
fn gpu_and_cpu_agree_to_1e_5_after_500_steps_on_a_stenosis() {
    let c = case(
        "{ shape = \"stenosis\", radius = 2.0, length = 12.0, area_reduction_percent = 75.0, stenosis_length = 4.0, center = 5.0 }",
        4.0e-8,
        12.0,
        "tau = 0.6",
    );
    let setup = prepare(&c).unwrap();
    let Some(mut gpu) = gpu_solver(&setup) else { return };
    let mut cpu = Solver::new(&setup.lattice, &setup.units, BackendChoice::Cpu).unwrap();
    let ramp_steps = 200;
    for s in [&mut gpu, &mut cpu] {
        s.advance(500, |k| ramp(k, ramp_steps));
    }
    let (a, b) = (gpu.moments().unwrap(), cpu.moments().unwrap());
    let max_u = b.iter().map(|m| (1..4).map(|c| (m[c] as f64).abs()).fold(0.0, f64::max)).fold(0.0, f64::max);
    let (mut du, mut drho) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(&b) {
        drho = drho.max((x[0] as f64 - y[0] as f64).abs() / (1.0 + y[0] as f64));
        for c in 1..4 {
            du = du.max((x[c] as f64 - y[c] as f64).abs() / max_u);
        }
    }
    let adapter = gpu.backend().adapter.map(|a| a.name).unwrap_or_default();
    println!(
        "{} cells, 500 steps on {adapter}: relative L-inf difference velocity {du:.2e}, density {drho:.2e} (max |u| {max_u:.4})",
        setup.lattice.len()
    );
    assert!(max_u > 1e-3, "the flow must be moving for the comparison to mean anything");
    assert!(max_u < 0.3 * 0.577, "the case must stay below Mach 0.3 to mean anything");
    assert!(du < TOLERANCE && drho < TOLERANCE, "backends differ: velocity {du:.2e}, density {drho:.2e}");
}

#[test]
fn gpu_and_cpu_agree_with_a_womersley_inflow_outlet_pressure_and_stress() {
    let text = "[geometry]\nunits = \"mm\"\n\
        generate = { shape = \"stenosis\", radius = 2.0, length = 12.0, area_reduction_percent = 50.0, stenosis_length = 4.0, center = 5.0 }\n\
        [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
        [inflow]\nwaveform = \"carotid\"\nflow_rate = 5e-8\nprofile = \"womersley\"\nramp = 0.0\n\
        [lattice]\ncells_across_inlet = 12\ntau = 0.56\n[run]\nsteps = 1\nbackend = \"cpu\"\n";
    let c = Case::from_toml(text, Path::new("pulsatile case")).unwrap();
    let setup = prepare(&c).unwrap();
    let Some(mut gpu) = gpu_solver(&setup) else { return };
    let mut cpu = Solver::new(&setup.lattice, &setup.units, BackendChoice::Cpu).unwrap();
    let dt = setup.units.dt_s;
    // Start the cycle at peak systole, where the profile changes fastest, with an outlet pressure.
    let t0 = 0.12;
    for s in [&mut gpu, &mut cpu] {
        s.advance_with(500, |k, p| {
            p.profile = setup.inflow.table(t0 + k as f64 * dt);
            p.port_rho[1] = 1.0 + 1e-4 * (k as f32 / 500.0);
        });
    }
    let (a, b) = (gpu.moments().unwrap(), cpu.moments().unwrap());
    let (sa, sb) = (gpu.stress().unwrap(), cpu.stress().unwrap());
    let du = relative_linf(&a, &b, 1..4);
    let ds = relative_linf(&sa, &sb, 0..6);
    let drho =
        a.iter().zip(&b).map(|(x, y)| (x[0] - y[0]).abs() as f64 / (1.0 + y[0] as f64)).fold(0.0, f64::max);
    let adapter = gpu.backend().adapter.map(|a| a.name).unwrap_or_default();
    println!(
        "pulsatile Womersley inflow, 500 steps on {adapter}: relative L-inf difference velocity {du:.2e}, density \
         {drho:.2e}, non-equilibrium stress {ds:.2e}"
    );
    assert!(du < TOLERANCE && drho < TOLERANCE, "backends differ: velocity {du:.2e}, density {drho:.2e}");
    // The stress is a difference of populations near equilibrium (about 1e-3 of them): FP32 rounding
    // of the populations shows at 1e-7 / 1e-3 of it, hence a looser bound than the velocity's.
    assert!(ds < 1e-3, "stress differs by {ds:.2e}");
}

#[test]
fn gpu_and_cpu_agree_with_non_newtonian_blood_and_les() {
    for (rheology, les) in [("carreau-yasuda", false), ("casson", true)] {
        let text = format!(
            "[geometry]\nunits = \"mm\"\n\
             generate = {{ shape = \"stenosis\", radius = 2.0, length = 12.0, area_reduction_percent = 75.0, stenosis_length = 4.0, center = 5.0 }}\n\
             [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\nrheology = \"{rheology}\"\nles = {les}\n\
             [inflow]\nflow_rate = 4.0e-8\nramp = 0.0\n[lattice]\ncells_across_inlet = 12\ntau = 0.6\n\
             [run]\nsteps = 1\nbackend = \"cpu\"\n"
        );
        let c = Case::from_toml(&text, Path::new("rheology case")).unwrap();
        let setup = prepare(&c).unwrap();
        let Some(mut gpu) = gpu_solver(&setup) else { return };
        let mut cpu = Solver::new(&setup.lattice, &setup.units, BackendChoice::Cpu).unwrap();
        for s in [&mut gpu, &mut cpu] {
            hemotwin::lbm::viscosity::apply_rheology(&c.fluid, &setup.units, s);
            s.advance(300, |k| ramp(k, 100));
        }
        let (a, b) = (gpu.moments().unwrap(), cpu.moments().unwrap());
        let du = relative_linf(&a, &b, 1..4);
        let drho = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x[0] - y[0]).abs() as f64 / (1.0 + y[0] as f64))
            .fold(0.0, f64::max);
        println!(
            "{rheology}, LES {les}: 300 steps, relative L-inf difference velocity {du:.2e}, density {drho:.2e}"
        );
        assert!(du < TOLERANCE && drho < TOLERANCE, "{rheology}: velocity {du:.2e}, density {drho:.2e}");
    }
}

/// The GPU triad behind `hemotwin bench`'s roofline computes `a = b + s c` (checked inside
/// `triad_bandwidth` against the host's arithmetic, exact for its integer-valued data) and yields
/// a finite positive bandwidth.
#[test]
fn gpu_triad_computes_the_triad_it_times() {
    let ctx = match hemotwin::gpu::open(true) {
        Ok(ctx) => ctx,
        Err(e) if std::env::var("HEMOTWIN_REQUIRE_GPU").as_deref() != Ok("1") => {
            println!("skipped: no GPU adapter ({e}); set HEMOTWIN_REQUIRE_GPU=1 to make this a failure");
            return;
        }
        Err(e) => panic!("HEMOTWIN_REQUIRE_GPU=1 but no GPU opened: {e}"),
    };
    let bandwidth = hemotwin::gpu::triad_bandwidth(&ctx, 1).unwrap();
    println!("{}: triad {:.1} GB/s", ctx.adapter.name, bandwidth / 1e9);
    assert!(bandwidth.is_finite() && bandwidth > 0.0);
}
