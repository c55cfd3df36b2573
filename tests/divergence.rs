//! A run that diverges stops with the place, the nearest port, the time, what was kept and advice
//! that the set-up accepts and that holds the flow when followed (issue 12).
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::Error;
use hemotwin::case::Case;
use hemotwin::io::folder::Existing;
use hemotwin::pipeline::{RunOptions, run};
use std::path::Path;

/// A straight 4 mm tube at inlet Re 100, 12 cells across, automatic time step, with `collision`.
fn tube(collision: &str) -> Case {
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"tube\", radius = 2.0, length = 24.0 }}\n\
         [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nflow_rate = 1.0373e-6\nramp = 0.1164\n\
         [lattice]\ncells_across_inlet = 12\ncollision = \"{collision}\"\n\
         [run]\ntime = 0.582\nsteady_tolerance = 0.0\nbackend = \"cpu\"\nframes = 1\n"
    );
    Case::from_toml(&text, Path::new("divergence case")).unwrap()
}

#[test]
fn a_divergence_names_where_and_when_and_its_advice_holds_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    // TRT diverges here (docs/validation.md, stability map).
    let message = match run(&tube("trt"), &opts) {
        Err(Error::Diverged(m)) => m,
        other => panic!("expected a divergence, got {:?}", other.map(|r| r.summary)),
    };
    println!("{message}");
    for part in [
        "at t = ",
        "mm from port `",
        "no frame had been written yet",
        "ports.csv",
        "collision = \"regularized\"",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    // Nothing claims a frame that is not there, and the port series up to the divergence is kept.
    assert!(!dir.path().join("fluid.pvd").exists());
    let rows = std::fs::read_to_string(dir.path().join("ports.csv")).unwrap().lines().count();
    assert!(rows > 1, "ports.csv keeps the steps before the divergence");
    // summary.json says so: status diverged, the divergence first among the reasons, the steps
    // measured before it, no figure of the diverged state passed off as a number.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "diverged", "{summary}");
    let reason = summary["status_reasons"][0].as_str().unwrap();
    assert!(reason.contains("at t = ") && reason.contains("collision = \"regularized\""), "{reason}");
    assert!(summary["steps"].as_u64().unwrap() > 0);
    for field in ["inlet_pressure_pa", "inflow_m3_s", "max_mach"] {
        let v = &summary[field];
        assert!(v.is_null() || v.as_f64().unwrap().is_finite(), "{field}: {v}");
    }
    // Followed, the advice runs the same case to its end (replacing the diverged run's files).
    let again = RunOptions { existing: Existing::Overwrite, ..opts.clone() };
    let s = run(&tube("regularized"), &again).unwrap_or_else(|e| panic!("the advice failed: {e}")).summary;
    println!(
        "regularized: {} steps, max Mach {:.3}, mass error {:.3}%",
        s.steps,
        s.max_mach,
        100.0 * s.mass_conservation_error
    );
    assert!(s.max_mach < 0.3 && s.mass_conservation_error < 0.01);
}

/// The validity gate: a run that ends without net flow (its ramp longer than the run) is marked
/// invalid in summary.json, with the reason, never complete.
#[test]
fn a_run_without_net_flow_is_marked_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let mut case = tube("regularized");
    case.inflow.ramp = Some(1e9);
    case.run.time = Some(0.05);
    let s = run(&case, &opts).unwrap().summary;
    println!("status {}: {:?}", s.status, s.status_reasons);
    assert_eq!(s.status, "invalid");
    assert!(s.status_reasons.iter().any(|r| r.contains("no net flow")), "{:?}", s.status_reasons);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "invalid");
    // The same case run past its ramp is complete.
    let again = RunOptions { existing: Existing::Overwrite, ..opts };
    let s = run(&tube("regularized"), &again).unwrap().summary;
    assert_eq!((s.status.as_str(), s.status_reasons.len()), ("complete", 0), "{:?}", s.status_reasons);
}
