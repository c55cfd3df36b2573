//! hemotwin as a library: load the demo case, run 500 steps, read the pressure drop, double the
//! inflow and run again, all in memory (nothing is written to disk).
//!
//! `cargo run --release --example library_api`

use clap::Parser;
use hemotwin::case::{Case, DEMO_CASE};
use hemotwin::pipeline::{FlowRun, RunOptions};
use std::path::Path;

/// The demo case run twice in memory through the library, at two inflows (no options).
#[derive(Parser)]
struct Args {}

fn main() -> hemotwin::Result<()> {
    Args::parse();
    let mut case = Case::from_toml(DEMO_CASE, Path::new("demo case"))?;
    // A short start-up ramp (s), so that 500 steps see the full inflow.
    case.inflow.ramp = Some(0.005);
    let opts = RunOptions::default();
    for factor in [1.0, 2.0] {
        case.inflow.flow_rate = Some(5.19e-7 * factor);
        let mut flow = FlowRun::new(&case, &opts)?;
        flow.advance(500)?;
        println!(
            "inflow {:.3e} m^3/s: after {} steps ({:.4} s), pressure drop {:.2} Pa; {}",
            5.19e-7 * factor,
            flow.steps_done(),
            flow.steps_done() as f64 * flow.units().dt_s,
            flow.pressure_drop_pa(),
            flow.units().describe()
        );
        // The finished run keeps its figures, wall fields and centerlines in memory.
        let result = flow.finish(false)?;
        println!(
            "  peak wall shear stress {:.3} Pa, mass error {:.2}%, status {}",
            result.summary.wall.tawss_max_pa,
            100.0 * result.summary.mass_conservation_error,
            result.summary.status
        );
    }
    Ok(())
}
