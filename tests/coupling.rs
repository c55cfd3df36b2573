//! The wall answering back ([wall.coupling]) on a distensible linear-elastic tube
//! (meshes/distensible_tube.toml): the pressure drop against flow follows the analytic
//! distensible-Poiseuille relation within 3 % (issue 17), far from the rigid tube's.
//!
//! The lumen radius follows Lamé's plane-strain thick cylinder, r(p) = a + c p with
//! c = a (1 + nu) ((1 - 2 nu) a² + b²) / (E (b² - a²)); lubrication, dp/dx = -8 mu Q / (pi r⁴), then
//! integrates to r_in⁵ - r_out⁵ = 40 mu c Q L / pi between the two port sections, the inlet's at
//! the case's absolute inlet pressure. At Reynolds number 2 the inertia the relation leaves out is
//! below 0.2 % of the drop.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::case::Case;
use hemotwin::gpu::BackendChoice;
use hemotwin::io::folder::Existing;
use hemotwin::pipeline::{RunOptions, run};
use std::f64::consts::PI;
use std::path::Path;

/// The example case of the README.
const CASE: &str = include_str!("../meshes/distensible_tube.toml");

/// Lumen radius a, outer radius b (m), Young's modulus E (Pa), Poisson's ratio, viscosity (Pa s)
/// and inlet pressure (Pa) of the case.
const A: f64 = 1e-3;
const B: f64 = 1.4e-3;
const E: f64 = 3.0e5;
const NU: f64 = 0.3;
const MU: f64 = 0.25;
const P_IN: f64 = 10600.0;

/// The analytic drop (Pa) at flow `q` (m^3/s) over `length` (m) of the distensible tube.
fn distensible_drop(q: f64, length: f64) -> f64 {
    let c = A * (1.0 + NU) * ((1.0 - 2.0 * NU) * A * A + B * B) / (E * (B * B - A * A));
    let r_in = A + c * P_IN;
    let r_out = (r_in.powi(5) - 40.0 * MU * c * q * length / PI).powf(0.2);
    (r_in - r_out) / c
}

#[test]
fn distensible_tube_drop_follows_the_analytic_relation_within_3pct() {
    let case = Case::from_toml(CASE, Path::new("meshes/distensible_tube.toml")).unwrap();
    let q0 = case.inflow.flow_rate.unwrap();
    for q in [q0, 0.5 * q0] {
        let mut case = case.clone();
        case.inflow.flow_rate = Some(q);
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            backend: Some(BackendChoice::Cpu),
            out_dir: Some(dir.path().to_path_buf()),
            existing: Existing::Overwrite,
            ..Default::default()
        };
        let result = run(&case, &opts).unwrap();
        let s = &result.summary;
        let coupling = s.coupling.as_ref().unwrap();
        let (inlet, outlet) = (&s.ports[0], &s.ports[1]);
        let length = 10e-3 - inlet.section_offset_m - outlet.section_offset_m;
        let flow = 0.5 * (inlet.measure.flow_m3_s + outlet.measure.flow_m3_s);
        let analytic = distensible_drop(flow, length);
        let rigid = 8.0 * MU * length * flow / (PI * A.powi(4));
        let error = s.pressure_drop_pa / analytic - 1.0;
        println!(
            "Q = {flow:.4e} m^3/s: drop {:.1} Pa, distensible Poiseuille {analytic:.1} Pa ({:+.2} %), rigid \
             {rigid:.1} Pa; {} iterations, last move {:.3e} of the radius, mean distension {:.2} %",
            s.pressure_drop_pa,
            100.0 * error,
            coupling.iterations.len(),
            coupling.iterations.last().unwrap().max_radius_change,
            100.0 * coupling.iterations.last().unwrap().mean_distension
        );
        assert!(coupling.converged, "the coupling did not converge: {coupling:?}");
        assert!(
            error.abs() < 0.03,
            "drop {:.1} Pa against {analytic:.1} Pa: {:+.2} %",
            s.pressure_drop_pa,
            100.0 * error
        );
        // The wall matters here: a rigid lumen would be far off.
        assert!(rigid / analytic > 1.2, "the case is too stiff to test the coupling: rigid {rigid:.1} Pa");
        for file in ["summary.json", "wall.vtp", "wall_fe.vtu", "fluid.pvd"] {
            assert!(dir.path().join(file).is_file(), "{file} missing");
        }
    }
}

/// The case with its `[wall.coupling]` section replaced by `lines`.
fn with_coupling(lines: &str) -> String {
    let head = &CASE[..CASE.rfind("[wall.coupling]").unwrap()];
    format!("{head}[wall.coupling]\n{lines}\n")
}

#[test]
fn coupling_settings_out_of_range_are_refused_by_name() {
    for (lines, field) in [
        ("reference_pressure = 2e5", "wall.coupling.reference_pressure"),
        ("reference_pressure = 0.0\ntolerance = 0.0", "wall.coupling.tolerance"),
        ("reference_pressure = 0.0\nmax_iterations = 0", "wall.coupling.max_iterations"),
        ("tolerance = 0.01", "reference_pressure"),
    ] {
        let error = Case::from_toml(&with_coupling(lines), Path::new("case.toml")).unwrap_err().to_string();
        assert!(error.contains(field), "{lines}: {error}");
    }
}

#[test]
fn coupling_that_does_not_agree_in_time_stops_by_name_and_keeps_its_history() {
    let text = with_coupling("reference_pressure = 0.0\nmax_iterations = 1");
    let case = Case::from_toml(&text, Path::new("case.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        backend: Some(BackendChoice::Cpu),
        out_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let error = run(&case, &opts).unwrap_err().to_string();
    assert!(error.contains("wall.coupling.max_iterations"), "{error}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap()).unwrap();
    let story = &summary["coupling"];
    assert_eq!(story["converged"], false, "{story}");
    assert_eq!(story["iterations"].as_array().unwrap().len(), 1, "{story}");
    // The first iteration runs the rigid lumen: the wall then asks for its whole distension.
    let asked = story["iterations"][0]["max_radius_change"].as_f64().unwrap();
    assert!(asked > 0.05, "{story}");
}
