//! Library use: steady flow in a straight 4 mm tube on the CPU, compared with Poiseuille's law.
//!
//! Run with `cargo run --release --example tube_flow`.

use hemotwin::case::Case;
use hemotwin::gpu::BackendChoice;
use hemotwin::hemo::{Section, measure};
use hemotwin::lbm::Solver;
use hemotwin::simulation::{prepare, ramp, relative_change};
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
steps = 4000
"#;

fn main() -> hemotwin::Result<()> {
    let case = Case::from_toml(CASE, Path::new("tube_flow example"))?;
    let setup = prepare(&case)?;
    println!("{} fluid cells; {}", setup.lattice.len(), setup.units.describe());
    let mut solver = Solver::new(&setup.lattice, &setup.units, BackendChoice::Cpu)?;
    let mut previous = solver.moments()?;
    loop {
        solver.advance(200, |s| ramp(s, 200));
        let moments = solver.moments()?;
        let change = relative_change(&previous, &moments);
        previous = moments;
        if change < 1e-6 || solver.steps_done() >= 20_000 {
            break;
        }
    }
    let at = |z: f64| Section { center: Point3::new(0.0, 0.0, z), normal: Vector3::z(), radius: 3e-3 };
    let (a, b) = (
        measure(&setup.lattice, &previous, &setup.units, &at(3e-3)),
        measure(&setup.lattice, &previous, &setup.units, &at(9e-3)),
    );
    let poiseuille = 8.0 * 3.5e-3 * 6e-3 * 2.0e-8 / (std::f64::consts::PI * 2e-3f64.powi(4));
    println!(
        "after {} steps: flow {:.4e} m^3/s, pressure drop over 6 mm {:.5} Pa (Poiseuille {poiseuille:.5} Pa)",
        solver.steps_done(),
        a.flow_m3_s,
        a.mean_pressure_pa - b.mean_pressure_pa
    );
    Ok(())
}
