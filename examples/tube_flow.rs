//! Library use: steady flow in a straight 4 mm tube on the CPU, compared with Poiseuille's law.
//!
//! Run with `cargo run --release --example tube_flow`.

use clap::Parser;
use hemotwin::case::Case;
use hemotwin::hemo::{Section, measure};
use hemotwin::pipeline::{FlowRun, RunOptions};
use nalgebra::{Point3, Vector3};
use std::path::Path;

const CASE: &str = r#"
[geometry]
units = "mm"
generate = { shape = "tube", radius = 2.0, length = 12.0 }
[fluid]
density = 1060.0
viscosity = 3.5e-3
[inflow]
flow_rate = 2.0e-8
[lattice]
cells_across_inlet = 16
tau = 0.8
[run]
steps = 20000
steady_tolerance = 5e-6
backend = "cpu"
"#;

/// Steady flow in a straight 4 mm tube on the CPU, compared with Poiseuille's law (no options).
#[derive(Parser)]
struct Args {}

fn main() -> hemotwin::Result<()> {
    Args::parse();
    let case = Case::from_toml(CASE, Path::new("tube_flow example"))?;
    let mut flow = FlowRun::new(&case, &RunOptions::default())?;
    flow.set_ramp(200);
    println!("{} fluid cells; {}", flow.lattice().len(), flow.units().describe());
    flow.run_to_end()?;
    let at = |z: f64| Section { center: Point3::new(0.0, 0.0, z), normal: Vector3::z(), radius: 3e-3 };
    let (lattice, moments, units) = (flow.lattice(), flow.moments(), flow.units());
    let (a, b) = (measure(lattice, moments, units, &at(3e-3)), measure(lattice, moments, units, &at(9e-3)));
    let poiseuille = 8.0 * 3.5e-3 * 6e-3 * 2.0e-8 / (std::f64::consts::PI * 2e-3f64.powi(4));
    println!(
        "after {} steps: flow {:.4e} m^3/s, pressure drop over 6 mm {:.5} Pa (Poiseuille {poiseuille:.5} Pa)",
        flow.steps_done(),
        a.flow_m3_s,
        a.mean_pressure_pa - b.mean_pressure_pa
    );
    Ok(())
}
