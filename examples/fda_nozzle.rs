//! The FDA benchmark nozzle (shared/VALIDATION.md) at throat Reynolds number 500, 2000 or 3500 with
//! the Smagorinsky LES model: run until steady, or for a settling time, then averaged over a window;
//! the (time-averaged) centerline axial velocity and wall pressure along the axis go to CSV.
//!
//! Run with `cargo run --release --example fda_nozzle -- [REYNOLDS] [CELLS_ACROSS_PIPE] [OUT_DIR]
//! [MACH] [FLOW_THROUGHS]` (default 500, 24 cells across the 12 mm pipe, 8 across the throat, into
//! ./fda-nozzle-500, inlet Mach number 0.02, 3 flow-throughs). At Reynolds 500, 64 cells (21 across
//! the throat) reach the steady criterion after 5 flow-throughs (47 s on an H100, about 80 minutes
//! on 2 CPU cores: `fda_nozzle 500 64 DIR 0.02 12`); 48 cells never settle (docs/validation.md).
//! The throat jet runs about 9x faster than the inlet; at Reynolds 3500 the molecular tau at 48
//! cells needs Mach 0.04 to stay above 0.501. Settling lasts up to FLOW_THROUGHS jet flow-through
//! times (the throat and the pipe after it at the mean throat velocity) and ends early once the
//! velocity changes by less than 1e-4 per 1000 steps; an unsteady flow is then averaged over 2 more.
//! The throat jet's cell Reynolds number (u dx / nu, 62 at Reynolds 500 and 24 cells) is far above
//! what the bare scheme carries, so LES is on at every Reynolds number.

use hemotwin::case::Case;
use hemotwin::gpu::BackendChoice;
use hemotwin::hemo::WallSampler;
use hemotwin::lbm::Solver;
use hemotwin::pipeline::{prepare, ramp, relative_change};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> hemotwin::Result<()> {
    let mut args = std::env::args().skip(1);
    let reynolds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let cells: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(24.0);
    let out = PathBuf::from(args.next().unwrap_or_else(|| format!("fda-nozzle-{reynolds}")));
    let mach: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.02);
    let flow_throughs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    // Flow rates of the benchmark (shared/VALIDATION.md).
    let flow_rate = match reynolds {
        500 => 5.20624e-6,
        2000 => 2.08250e-5,
        3500 => 3.64437e-5,
        other => {
            return Err(hemotwin::Error::parameter(
                "REYNOLDS",
                format!("the benchmark's throat Reynolds numbers are 500, 2000 and 3500, not {other}"),
            ));
        }
    };
    std::fs::create_dir_all(&out).map_err(|e| hemotwin::Error::io(&out, e))?;
    // 2 pipe diameters before the cone, 10 after the sudden expansion.
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"fda_nozzle\", inlet_length = 24.0, outlet_length = 120.0 }}\n\
         [fluid]\ndensity = 1056.0\nviscosity = 0.0035\nles = true\n\
         [inflow]\nflow_rate = {flow_rate:e}\nprofile = \"poiseuille\"\n\
         [lattice]\ncells_across_inlet = {cells}\nmach = {mach}\n[run]\nsteps = 1\nbackend = \"auto\"\n"
    );
    let case = Case::from_toml(&text, Path::new("FDA nozzle example"))?;
    let setup = prepare(&case)?;
    let units = setup.units;
    println!(
        "FDA nozzle, throat Reynolds {reynolds}: {} fluid cells; {}",
        setup.lattice.len(),
        units.describe()
    );
    let mut solver = Solver::new(&setup.lattice, &units, BackendChoice::Auto)?;
    hemotwin::lbm::viscosity::apply_rheology(&case.fluid, &units, &mut solver);
    if let Some(n) = solver.notice() {
        println!("{n}");
    }
    let throat_velocity = flow_rate / (std::f64::consts::PI * 0.002f64.powi(2));
    let jet_time = (0.040 + 0.120) / throat_velocity;
    let ramp_steps = units.steps(0.5 * jet_time);
    let max_steps = units.steps(flow_throughs * jet_time).max(ramp_steps + 1000);
    let report_every = units.steps(0.25 * jet_time).max(500);
    let mut previous = solver.moments()?;
    let start = std::time::Instant::now();
    let change = loop {
        solver.advance(500, |s| ramp(s, ramp_steps));
        let moments = solver.moments()?;
        let change = relative_change(&previous, &moments) * 1000.0 / 500.0;
        previous = moments;
        if solver.steps_done() % report_every < 500 {
            println!(
                "step {} ({:.2} flow-throughs): velocity change {change:.2e} per 1000 steps",
                solver.steps_done(),
                solver.steps_done() as f64 * units.dt_s / jet_time
            );
        }
        if !change.is_finite() {
            return Err(hemotwin::Error::Diverged(format!(
                "the flow diverged by step {}: refine the lattice (more cells across) or lower lattice.mach",
                solver.steps_done()
            )));
        }
        if (solver.steps_done() > ramp_steps && change < 1e-4) || solver.steps_done() >= max_steps {
            break change;
        }
    };
    let settled = solver.steps_done();
    // An unsteady flow: average moments and stress over 2 jet flow-through times, sampled every 50
    // steps.
    let mut stress = solver.stress()?;
    let mut samples = 1usize;
    if change >= 1e-4 {
        let window = units.steps(2.0 * jet_time);
        let mut sum_m: Vec<[f64; 4]> = previous.iter().map(|m| m.map(f64::from)).collect();
        let mut sum_s: Vec<[f64; 6]> = stress.iter().map(|s| s.map(f64::from)).collect();
        while solver.steps_done() < settled + window {
            solver.advance(50, |s| ramp(s, ramp_steps));
            for (acc, m) in sum_m.iter_mut().zip(solver.moments()?) {
                acc.iter_mut().zip(m).for_each(|(a, x)| *a += f64::from(x));
            }
            for (acc, s) in sum_s.iter_mut().zip(solver.stress()?) {
                acc.iter_mut().zip(s).for_each(|(a, x)| *a += f64::from(x));
            }
            samples += 1;
        }
        let n = samples as f64;
        previous = sum_m.iter().map(|m| m.map(|x| (x / n) as f32)).collect();
        stress = sum_s.iter().map(|s| s.map(|x| (x / n) as f32)).collect();
        if previous.iter().flatten().any(|x| !x.is_finite()) {
            return Err(hemotwin::Error::Diverged(format!(
                "the flow diverged by step {}: refine the lattice or lower lattice.mach",
                solver.steps_done()
            )));
        }
    }
    let steps = solver.steps_done();
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{steps} steps ({:.3} s simulated; jet flow-through {jet_time:.3} s) in {elapsed:.1} s, {:.1} MLUPS; \
         settled after {settled} steps (velocity change {change:.1e} per 1000 steps), {} averaged over {} samples",
        steps as f64 * units.dt_s,
        steps as f64 * setup.lattice.len() as f64 / elapsed / 1e6,
        if samples > 1 { "then" } else { "not" },
        samples
    );
    // Centerline: the cells nearest the axis (x = y = 0) in each node layer.
    let lattice = &setup.lattice;
    let mut axis: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
    for cell in 0..lattice.len() {
        let p = lattice.point(cell);
        let k = lattice.grid.coords(lattice.cells[cell] as usize)[2];
        let r = (p.x * p.x + p.y * p.y).sqrt();
        if axis.get(&k).is_none_or(|(best, _)| r < *best) {
            axis.insert(k, (r, cell));
        }
    }
    let mut csv = String::from("z_m,axial_velocity_m_s,pressure_pa\n");
    for (r, cell) in axis.values() {
        if *r < lattice.grid.dx {
            let m = previous[*cell];
            let z = lattice.point(*cell).z;
            let _ = writeln!(
                csv,
                "{z:.6e},{:.6e},{:.6e}",
                units.velocity_to_si(m[3] as f64),
                units.pressure_to_si(m[0] as f64)
            );
        }
    }
    let path = out.join("centerline.csv");
    hemotwin::atomic::write_bytes_atomic(&path, csv.as_bytes())?;
    // Wall pressure along the axis: wall vertices near the y = 0 plane on the +x side.
    let v = &setup.vessel;
    let sampler = WallSampler::new(&v.surface, &v.tags, lattice);
    let wall = sampler.sample(&stress, &previous, &units);
    let mut rows: Vec<(f64, f64, f64)> = sampler
        .vertices
        .iter()
        .zip(&wall.pressure)
        .zip(&wall.wss)
        .filter_map(|((&i, p), w)| {
            let x = v.surface.vertices[i as usize];
            (x.y.abs() < 0.5 * lattice.grid.dx && x.x > 0.0).then_some((x.z, *p, w.norm()))
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut csv = String::from("z_m,wall_pressure_pa,wss_pa\n");
    for (z, p, w) in &rows {
        let _ = writeln!(csv, "{z:.6e},{p:.6e},{w:.6e}");
    }
    let wall_path = out.join("wall_pressure.csv");
    hemotwin::atomic::write_bytes_atomic(&wall_path, csv.as_bytes())?;
    let throat_peak = axis
        .values()
        .filter(|(r, _)| *r < lattice.grid.dx)
        .map(|(_, c)| units.velocity_to_si(previous[*c][3] as f64))
        .fold(0.0, f64::max);
    println!(
        "peak centerline velocity {throat_peak:.4} m/s (mean throat velocity {:.4} m/s); wrote {} and {}",
        throat_velocity,
        path.display(),
        wall_path.display()
    );
    Ok(())
}
