//! The FDA benchmark nozzle (shared/VALIDATION.md) at throat Reynolds number 500 or 3500, run to a
//! steady (or statistically settled) state with the Smagorinsky LES model, with the centerline axial
//! velocity and the wall pressure along the axis written to CSV.
//!
//! Run with `cargo run --release --example fda_nozzle -- [REYNOLDS] [CELLS_ACROSS_PIPE] [OUT_DIR]`
//! (default 500, 24 cells across the 12 mm pipe, 8 across the throat, into ./fda-nozzle-500). At
//! these resolutions the throat jet's cell Reynolds number (u dx / nu, 62 at Reynolds 500 and 24
//! cells) is far above what the bare scheme carries, so LES is on at both Reynolds numbers.

use hemotwin::case::Case;
use hemotwin::hemo::WallSampler;
use hemotwin::lbm::{BackendChoice, Solver};
use hemotwin::simulation::{prepare, ramp, relative_change};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> hemotwin::Result<()> {
    let mut args = std::env::args().skip(1);
    let reynolds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let cells: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(24.0);
    let out = PathBuf::from(args.next().unwrap_or_else(|| format!("fda-nozzle-{reynolds}")));
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
    // 2 pipe diameters before the cone, 10 after the sudden expansion. Mach 0.02 at the inlet is
    // about 0.18 in the 9x faster throat jet.
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"fda_nozzle\", inlet_length = 24.0, outlet_length = 120.0 }}\n\
         [fluid]\ndensity = 1056.0\nviscosity = 0.0035\nles = true\n\
         [inflow]\nflow_rate = {flow_rate:e}\nprofile = \"poiseuille\"\n\
         [lattice]\ncells_across_inlet = {cells}\nmach = 0.02\n[run]\nsteps = 1\nbackend = \"auto\"\n"
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
    hemotwin::simulation::apply_rheology(&case.fluid, &units, &mut solver);
    if let Some(n) = solver.notice() {
        println!("{n}");
    }
    let ramp_steps = units.steps(0.1);
    let mut previous = solver.moments()?;
    let max_steps = units.steps(2.0);
    let start = std::time::Instant::now();
    let change = loop {
        solver.advance(500, |s| ramp(s, ramp_steps));
        let moments = solver.moments()?;
        let change = relative_change(&previous, &moments) * 1000.0 / 500.0;
        previous = moments;
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
    let steps = solver.steps_done();
    println!(
        "{steps} steps ({:.3} s simulated) in {:.1} s, velocity change {change:.1e} per 1000 steps",
        steps as f64 * units.dt_s,
        start.elapsed().as_secs_f64()
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
    hemotwin::io::atomic::write_bytes_atomic(&path, csv.as_bytes())?;
    // Wall pressure along the axis: wall vertices near the y = 0 plane on the +x side.
    let v = &setup.vessel;
    let sampler = WallSampler::new(&v.surface, &v.tags, lattice);
    let wall = sampler.sample(&solver.stress()?, &previous, &units);
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
    hemotwin::io::atomic::write_bytes_atomic(&wall_path, csv.as_bytes())?;
    let throat_peak = axis
        .values()
        .filter(|(r, _)| *r < lattice.grid.dx)
        .map(|(_, c)| units.velocity_to_si(previous[*c][3] as f64))
        .fold(0.0, f64::max);
    println!(
        "peak centerline velocity {throat_peak:.4} m/s (mean throat velocity {:.4} m/s); wrote {} and {}",
        flow_rate / (std::f64::consts::PI * 0.002f64.powi(2)),
        path.display(),
        wall_path.display()
    );
    Ok(())
}
