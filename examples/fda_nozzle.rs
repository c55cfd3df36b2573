//! The FDA benchmark nozzle (shared/VALIDATION.md) at throat Reynolds number 500, 2000 or 3500 with
//! the Smagorinsky LES model, through the pipeline's flow stage: run until steady, or for a settling
//! time, then averaged over a window; the (time-averaged) centerline axial velocity and wall pressure
//! along the axis go to centerline.csv and wall_pressure.csv, beside the files of a run (fluid.pvd
//! with the frames at the end of settling and of averaging, ports.csv, wall.vtp, ports.vtp,
//! centerline.vtp and summary.json, whose wall fields are those of the final state).
//!
//! Run with `cargo run --release --example fda_nozzle -- [--reynolds 500] [--cells 24] [--out DIR]
//! [--mach 0.02] [--flow-throughs 3]` (defaults: 24 cells across the 12 mm pipe, 8 across the
//! throat, into ./fda-nozzle-REYNOLDS; `--help` lists them). At Reynolds 500, 64 cells (21 across
//! the throat) reach the steady criterion after 5 flow-throughs (47 s on an H100, about 80 minutes on
//! 2 CPU cores: `--cells 64 --flow-throughs 12`); 48 cells never settle (docs/validation.md). The
//! throat jet runs about 9x faster than the inlet; at Reynolds 3500 the molecular tau at 48 cells
//! needs `--mach 0.04` to stay above 0.501. Settling lasts up to FLOW_THROUGHS jet flow-through
//! times (the throat and the pipe after it at the mean throat velocity) and ends early once the
//! velocity changes by less than 1e-4 per 1000 steps; an unsteady flow is then averaged over 2 more.
//! The throat jet's cell Reynolds number (u dx / nu, 62 at Reynolds 500 and 24 cells) is far above
//! what the bare scheme carries, so LES is on at every Reynolds number.

mod common;

use clap::{Parser, ValueEnum};
use hemotwin::case::Case;
use hemotwin::geometry::synth::{FDA_THROAT_DIAMETER, FDA_THROAT_LENGTH, FdaNozzleSpec};
use hemotwin::hemo::WallSampler;
use hemotwin::io::outputs::{write_json, write_noted_table};
use hemotwin::pipeline::{DIVERGENCE_CHECK_STEPS, Event, FlowRun, Observer, RunOptions, write_flow_outputs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The FDA benchmark nozzle with LES: settle, average, write the centerline and wall profiles.
#[derive(Parser)]
#[command(allow_negative_numbers = true)]
struct Args {
    /// Throat Reynolds number (the benchmark's flow rates).
    #[arg(long, value_enum, default_value = "500")]
    reynolds: Reynolds,
    /// Lattice cells across the 12 mm pipe (a third of them across the throat).
    #[arg(long, default_value_t = 24.0, value_parser = common::positive)]
    cells: f64,
    /// Output folder [default: fda-nozzle-REYNOLDS].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Inlet Mach number, which sets the time step.
    #[arg(long, default_value_t = 0.02, value_parser = common::positive)]
    mach: f64,
    /// Longest settling time, in jet flow-through times (the throat and the pipe after it at the
    /// mean throat velocity).
    #[arg(long, default_value_t = 3.0, value_parser = common::positive)]
    flow_throughs: f64,
}

/// The benchmark's throat Reynolds numbers.
#[derive(Clone, Copy, ValueEnum)]
enum Reynolds {
    #[value(name = "500")]
    Re500,
    #[value(name = "2000")]
    Re2000,
    #[value(name = "3500")]
    Re3500,
}

impl Reynolds {
    /// The throat Reynolds number and the benchmark's flow rate at it (m^3/s, shared/VALIDATION.md).
    fn number_and_flow(self) -> (u32, f64) {
        match self {
            Reynolds::Re500 => (500, 5.20624e-6),
            Reynolds::Re2000 => (2000, 2.08250e-5),
            Reynolds::Re3500 => (3500, 3.64437e-5),
        }
    }
}

/// Prints the run's set-up lines and warnings.
struct Print;

impl Observer for Print {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Info(line) => println!("{line}"),
            Event::Warning(line) => println!("warning: {line}"),
            _ => {}
        }
    }
}

/// Steps between the samples of an unsteady flow's average.
const SAMPLE_STEPS: u64 = 50;

/// The flow read for the profiles: moments and stress of every cell (lattice units), the mean of
/// `samples` states.
struct Fields {
    moments: Vec<[f32; 4]>,
    stress: Vec<[f32; 6]>,
    samples: usize,
}

/// Advances `flow` to step `end`, averaging its moments and stress over the current state and one
/// sample every [`SAMPLE_STEPS`] steps.
fn average(flow: &mut FlowRun, end: u64) -> hemotwin::Result<Fields> {
    let mut sum_m = vec![[0.0f64; 4]; flow.moments().len()];
    let mut sum_s = vec![[0.0f64; 6]; flow.moments().len()];
    let mut samples = 0usize;
    loop {
        for (acc, m) in sum_m.iter_mut().zip(flow.moments()) {
            acc.iter_mut().zip(m).for_each(|(a, x)| *a += f64::from(*x));
        }
        for (acc, s) in sum_s.iter_mut().zip(flow.stress()?) {
            acc.iter_mut().zip(s).for_each(|(a, x)| *a += f64::from(x));
        }
        samples += 1;
        if flow.steps_done() >= end {
            break;
        }
        flow.advance(SAMPLE_STEPS)?;
    }
    let n = samples as f64;
    Ok(Fields {
        moments: sum_m.iter().map(|m| m.map(|x| (x / n) as f32)).collect(),
        stress: sum_s.iter().map(|s| s.map(|x| (x / n) as f32)).collect(),
        samples,
    })
}

fn main() -> hemotwin::Result<()> {
    let args = Args::parse();
    let (reynolds, flow_rate) = args.reynolds.number_and_flow();
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("fda-nozzle-{reynolds}")));
    std::fs::create_dir_all(&out).map_err(|e| hemotwin::Error::io(&out, e))?;
    // 2 pipe diameters before the cone, 10 after the sudden expansion.
    let nozzle = FdaNozzleSpec { inlet_length: 0.024, outlet_length: 0.120 };
    let throat_velocity = flow_rate / (std::f64::consts::PI * (FDA_THROAT_DIAMETER / 2.0).powi(2));
    let jet_time = (FDA_THROAT_LENGTH + nozzle.outlet_length) / throat_velocity;
    // The ramp lasts half a jet flow-through; the run's length is the longest settling time, and
    // it counts as converged below a velocity change of 1e-4 per 1000 steps.
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"fda_nozzle\", inlet_length = {}, outlet_length = {} }}\n\
         [fluid]\ndensity = 1056.0\nviscosity = 0.0035\nles = true\n\
         [inflow]\nflow_rate = {flow_rate:e}\nprofile = \"poiseuille\"\nramp = {:e}\n\
         [lattice]\ncells_across_inlet = {}\nmach = {}\n\
         [run]\ntime = {:e}\nsteady_tolerance = 1e-4\nbackend = \"auto\"\n",
        nozzle.inlet_length * 1e3,
        nozzle.outlet_length * 1e3,
        0.5 * jet_time,
        args.cells,
        args.mach,
        args.flow_throughs * jet_time,
    );
    let case = Case::from_toml(&text, Path::new("FDA nozzle example"))?;
    println!("FDA nozzle, throat Reynolds {reynolds}:");
    let mut flow = FlowRun::new(&case, &RunOptions { observer: Arc::new(Print), ..RunOptions::default() })?;
    let units = *flow.units();
    let ramp_steps = units.steps(0.5 * jet_time);
    let settle_limit = flow.total_steps().max(ramp_steps + 1000);
    let report_every = units.steps(0.25 * jet_time).max(500);
    let start = Instant::now();
    let mut frames = Vec::new();
    // Settle, one stability check and velocity change per batch.
    while !flow.converged() && flow.steps_done() < settle_limit {
        let before = flow.steps_done();
        flow.advance(DIVERGENCE_CHECK_STEPS.min(settle_limit - before))?;
        if flow.steps_done() / report_every != before / report_every {
            println!(
                "step {} ({:.2} flow-throughs): velocity change {:.2e} per 1000 steps",
                flow.steps_done(),
                flow.steps_done() as f64 * units.dt_s / jet_time,
                flow.residual()
            );
        }
    }
    let (settled, change) = (flow.steps_done(), flow.residual());
    flow.write_frame(&out, &mut frames)?;
    // A steady flow is read as it is; an unsteady one is averaged over 2 more jet flow-throughs.
    let Fields { moments, stress, samples } = if flow.converged() {
        Fields { moments: flow.moments().to_vec(), stress: flow.stress()?, samples: 1 }
    } else {
        let averaged = average(&mut flow, settled + units.steps(2.0 * jet_time))?;
        flow.write_frame(&out, &mut frames)?;
        averaged
    };
    let steps = flow.steps_done();
    let window = match samples {
        1 => format!("the steady state at step {steps}"),
        n => format!("the mean of {n} samples every {SAMPLE_STEPS} steps from step {settled} to {steps}"),
    };
    println!(
        "{steps} steps ({:.3} s simulated; jet flow-through {jet_time:.3} s) in {:.1} s, {:.1} MLUPS; \
         settled after {settled} steps (velocity change {change:.1e} per 1000 steps); fields: {window}",
        steps as f64 * units.dt_s,
        start.elapsed().as_secs_f64(),
        flow.mlups(),
    );
    let shift = flow.pressure_shift_pa();
    flow.write_ports_csv(&out)?;
    let result = flow.finish(false)?;
    write_flow_outputs(&out, &result)?;
    write_json(&out.join("summary.json"), &result.summary)?;
    let notes = [
        format!(
            "z_m: along the nozzle's axis from its inlet end (m); z_from_expansion_m: from the sudden expansion \
             at z_m = {:.6} m (the benchmark's convention)",
            nozzle.expansion_z()
        ),
        format!(
            "pressures (Pa) relative to the run's pressure reference, the outlet's, pressure_reference_pa = {} Pa \
             in summary.json",
            result.summary.pressure_reference_pa
        ),
        format!("fields: {window}"),
    ];
    let columns = |names: [&str; 4]| names.map(String::from);
    // Centerline: the cells nearest the axis (x = y = 0) in each node layer, within a spacing of it.
    let (lattice, vessel) = (&result.lattice, &result.vessel);
    let mut axis: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
    for cell in 0..lattice.len() {
        let p = lattice.point(cell);
        let k = lattice.grid.coords(lattice.cells[cell] as usize)[2];
        let r = (p.x * p.x + p.y * p.y).sqrt();
        if axis.get(&k).is_none_or(|(best, _)| r < *best) {
            axis.insert(k, (r, cell));
        }
    }
    let centerline: Vec<Vec<f64>> = axis
        .values()
        .filter(|(r, _)| *r < lattice.grid.dx)
        .map(|&(_, cell)| {
            let (z, m) = (lattice.point(cell).z, moments[cell]);
            vec![
                z,
                z - nozzle.expansion_z(),
                units.velocity_to_si(f64::from(m[3])),
                units.pressure_to_si(f64::from(m[0])) + shift,
            ]
        })
        .collect();
    let path = out.join("centerline.csv");
    let header = columns(["z_m", "z_from_expansion_m", "axial_velocity_m_s", "pressure_pa"]);
    write_noted_table(&path, &notes, &header, &centerline)?;
    // Wall pressure along the axis: wall vertices within half a spacing of the y = 0 plane, +x side.
    let sampler = WallSampler::new(&vessel.surface, &vessel.wall_tags(), lattice);
    let wall = sampler.sample(&stress, &moments, &units);
    let mut rows: Vec<Vec<f64>> = sampler
        .vertices
        .iter()
        .zip(&wall.pressure)
        .zip(&wall.wss)
        .filter_map(|((&i, p), w)| {
            let x = vessel.surface.vertices[i as usize];
            (x.y.abs() < 0.5 * lattice.grid.dx && x.x > 0.0)
                .then(|| vec![x.z, x.z - nozzle.expansion_z(), p + shift, w.norm()])
        })
        .collect();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let wall_path = out.join("wall_pressure.csv");
    let header = columns(["z_m", "z_from_expansion_m", "wall_pressure_pa", "wss_pa"]);
    write_noted_table(&wall_path, &notes, &header, &rows)?;
    let throat_peak = centerline.iter().map(|row| row[2]).fold(0.0, f64::max);
    println!(
        "peak centerline velocity {throat_peak:.4} m/s (mean throat velocity {throat_velocity:.4} m/s); status {}; \
         wrote {} and {}, with the run's files, into {}",
        result.summary.status,
        path.display(),
        wall_path.display(),
        out.display()
    );
    Ok(())
}
