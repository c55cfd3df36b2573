//! Steady flow through a 75% (area) cosine stenosis at Reynolds number 100: the pressure drop across
//! the stenosis against an independent axisymmetric Navier-Stokes solution and Young & Tsai's
//! empirical law (shared/VALIDATION.md), and its grid convergence.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::{MU, RHO, Steady, case, run_steady};
use hemotwin::hemo::{Section, measure};
use nalgebra::{Point3, Vector3};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Unobstructed radius, tube length, stenosis length and throat position (m).
const R0: f64 = 2e-3;
const LENGTH: f64 = 40e-3;
const LS: f64 = 8e-3;
const THROAT: f64 = 12e-3;
/// Reynolds number on the unobstructed diameter and mean velocity.
const RE: f64 = 100.0;

fn flow_rate() -> f64 {
    RE * MU / RHO / (2.0 * R0) * PI * R0 * R0
}

fn run(cells: f64, collision: &str) -> Steady {
    let generate = format!(
        "{{ shape = \"stenosis\", radius = {}, length = {}, area_reduction_percent = 75.0, stenosis_length = {}, center = {} }}",
        R0 * 1e3,
        LENGTH * 1e3,
        LS * 1e3,
        THROAT * 1e3
    );
    let c = case(&generate, flow_rate(), cells, &format!("mach = 0.05\ncollision = \"{collision}\""));
    // At least one flow-through time, then until the velocity changes by less than 1e-7 per step.
    let u_lattice = c.lattice.mach.unwrap() * (1.0f64 / 3.0).sqrt() / 2.0;
    let through = (LENGTH / (2.0 * R0 / cells) / u_lattice) as u64;
    run_steady(&c, through / 4, through, 6 * through, 1e-7)
}

/// Young-Tsai: dP = Kv mu U0 / D0 + Kt/2 rho (A0/A1 - 1)^2 U0^2, Kt = 1.52,
/// Kv = 32 (0.83 Ls + 1.64 D1) / D0 (A0/A1)^2.
fn young_tsai() -> f64 {
    let (d0, d1) = (2.0 * R0, R0); // 75% area reduction halves the diameter
    let area_ratio = 4.0;
    let u0 = flow_rate() / (PI * R0 * R0);
    let kv = 32.0 * (0.83 * LS + 1.64 * d1) / d0 * area_ratio * area_ratio;
    kv * MU * u0 / d0 + 0.76 * RHO * (area_ratio - 1.0).powi(2) * u0 * u0
}

/// Pressure drop across the stenosis: section pressures one diameter upstream of it and five
/// diameters downstream, minus the Poiseuille drop of the unobstructed tube between them.
fn stenosis_drop(s: &Steady) -> f64 {
    let at = |z: f64| {
        let sec = Section { center: Point3::new(0.0, 0.0, z), normal: Vector3::z(), radius: 1.5 * R0 };
        measure(s.flow.lattice(), &s.moments, s.flow.units(), &sec).mean_pressure_pa
    };
    let z_up = THROAT - LS / 2.0 - 2.0 * R0;
    let z_down = THROAT + LS / 2.0 + 10.0 * R0;
    let poiseuille = 8.0 * MU * flow_rate() / (PI * R0.powi(4)) * (z_down - z_up - LS);
    at(z_up) - at(z_down) - poiseuille
}

/// The pressure drop of the run at `cells` across with `collision`, printed.
fn drop_at(cells: f64, collision: &str) -> f64 {
    let s = run(cells, collision);
    let d = stenosis_drop(&s);
    println!(
        "{cells} cells across: {} steps (residual {:.1e}/step), {}: dP = {d:.2} Pa",
        s.steps,
        s.residual_per_step,
        s.flow.units().describe()
    );
    d
}

/// The TRT runs at 24 and 32 cells, shared by the tests of this file.
fn trt_drops() -> &'static [(f64, f64); 2] {
    static DROPS: OnceLock<[(f64, f64); 2]> = OnceLock::new();
    DROPS.get_or_init(|| [24.0, 32.0].map(|n| (n, drop_at(n, "trt"))))
}

/// The run at 32 cells with the default, regularized collision.
fn regularized_drop() -> f64 {
    static DROP: OnceLock<f64> = OnceLock::new();
    *DROP.get_or_init(|| drop_at(32.0, "regularized"))
}

/// TRT's grid convergence. The regularized collision misses this figure: 61.25 Pa at 24 cells
/// (tau 0.5104), 59.12 Pa at 32 (tau 0.5139), a 3.48% change (docs/validation.md); its error at 24
/// cells is about twice TRT's (+6.2% against +3.2% from the Navier-Stokes reference). The cause is
/// not settled: in Poiseuille flow at tau 0.51, TRT in the wall cells alone recovers half of the
/// difference.
#[test]
fn stenosis_pressure_drop_changes_less_than_2pct_from_24_to_32_cells() {
    let [(_, coarse), (_, fine)] = *trt_drops();
    let change = (fine / coarse - 1.0).abs();
    println!(
        "stenosis pressure drop: {coarse:.2} Pa at 24 cells, {fine:.2} Pa at 32 cells, change {:.2}%",
        100.0 * change
    );
    assert!(change < 0.02, "not grid-converged: {:.2}% change from 24 to 32 cells", 100.0 * change);
}

/// Steady axisymmetric Navier-Stokes through the same stenosis, fluid, inflow and sections
/// (Pa): Taylor-Hood finite elements on four grids, Richardson-extrapolated; reproduced by
/// `cargo run --release --example axisymmetric_stenosis` (docs/validation.md).
const AXISYMMETRIC_NAVIER_STOKES: f64 = 57.651;

/// The lattice against an independent solution of the same flow: within 5% at 32 cells across,
/// with each collision.
#[test]
fn stenosis_pressure_drop_within_5pct_of_axisymmetric_navier_stokes() {
    for (collision, fine) in [("regularized", regularized_drop()), ("trt", trt_drops()[1].1)] {
        let error = fine / AXISYMMETRIC_NAVIER_STOKES - 1.0;
        println!(
            "axisymmetric Navier-Stokes {AXISYMMETRIC_NAVIER_STOKES:.2} Pa; lattice ({collision}) {fine:.2} Pa at 32 \
             cells: {:+.1}%",
            100.0 * error
        );
        assert!(
            error.abs() < 0.05,
            "pressure drop ({collision}) {fine:.2} Pa is {:+.1}% from Navier-Stokes",
            100.0 * error
        );
    }
}

/// Missed: this smooth cosine stenosis loses 59.1 Pa at 32 cells, Young-Tsai predicts 141.1 Pa
/// (-58%). An independent axisymmetric Navier-Stokes solution of the same flow gives 57.65 Pa (the
/// test above), so the fit does not describe this geometry: its viscous term assumes a loss length
/// of 0.83 Ls + 1.64 D1 = 9.9 mm at the throat diameter, where the cosine profile's is 2.8 mm.
/// Kept runnable with `--ignored`; see docs/validation.md.
#[test]
#[ignore = "misses Young-Tsai: 59.1 Pa against 141.1 Pa (-58%) at 32 cells; see docs/validation.md"]
fn stenosis_pressure_drop_within_15pct_of_young_tsai() {
    let expected = young_tsai();
    let (_, fine) = trt_drops()[1];
    let error = fine / expected - 1.0;
    println!("Young-Tsai {expected:.2} Pa; lattice {fine:.2} Pa at 32 cells: {:+.1}%", 100.0 * error);
    assert!(
        error.abs() < 0.15,
        "pressure drop {fine:.2} Pa is {:+.1}% from Young-Tsai {expected:.2} Pa",
        100.0 * error
    );
}
