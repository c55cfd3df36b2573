//! Flow through the generated bifurcation and aneurysm (meshes/*.toml): a steady run on the CPU
//! conserves mass, and the symmetric bifurcation splits the flow equally.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::case::Case;
use hemotwin::pipeline::{RunOptions, run};
use std::path::Path;

fn run_shipped(name: &str) -> hemotwin::pipeline::Summary {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("meshes").join(name);
    let mut case = Case::load(&path).unwrap();
    case.run.backend = hemotwin::gpu::BackendChoice::Cpu;
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let s = run(&case, &opts).unwrap().summary;
    println!(
        "{name}: {} cells, {} steps, converged {}, inflow {:.4e} m^3/s, mass error {:.3} %, dP {:.2} Pa",
        s.fluid_cells,
        s.steps,
        s.converged,
        s.inflow_m3_s,
        100.0 * s.mass_conservation_error,
        s.pressure_drop_pa
    );
    assert!(s.converged);
    assert!(s.mass_conservation_error < 0.005);
    s
}

#[test]
fn symmetric_bifurcation_splits_the_flow_equally_within_one_percent() {
    let s = run_shipped("bifurcation.toml");
    assert_eq!(s.ports.len(), 3);
    let split: Vec<f64> = s.ports[1..].iter().map(|p| p.measure.flow_m3_s / s.outflow_m3_s).collect();
    println!("flow split {:.4} / {:.4}", split[0], split[1]);
    assert!(split.iter().all(|f| (f - 0.5).abs() < 0.01));
}

#[test]
fn sidewall_aneurysm_runs_to_steady_state_conserving_mass() {
    let s = run_shipped("aneurysm.toml");
    assert!(s.pressure_drop_pa > 0.0);
}
