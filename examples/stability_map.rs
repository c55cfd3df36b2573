//! The stability map of the flow solver: the largest inlet Reynolds number that runs without
//! divergence, against cells across the inlet, for a straight tube along a lattice axis and along
//! (1, 2, 3), the Y bifurcation, and the shared aorta (steady and pulsatile), for each collision
//! (TRT, regularized, regularized with LES). Prints a markdown table and writes an SVG plot.
//!
//! Run with `cargo run --release --example stability_map -- [--svg docs/stability_map.svg]
//! [--cells 8 12 16 24 32]` (those are the defaults). The aorta needs ../shared. Each rung is
//! printed on stderr as it ends; `--log FILE` makes the table and plot from such lines instead of
//! running (e.g. a run stopped early). In the table a number is the largest stable Re; `(top)`: the
//! ladder's top held; `(stopped)`: the run was stopped before the next rung; `r`: the next rung was
//! refused at set-up; otherwise the next rung diverged.

mod common;

use clap::Parser;
use hemotwin::Error;
use hemotwin::case::Case;
use hemotwin::pipeline::{RunOptions, run};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The largest stable inlet Reynolds number per geometry, collision and resolution: a markdown
/// table on stdout and an SVG plot.
#[derive(Parser)]
#[command(allow_negative_numbers = true)]
struct Args {
    /// The plot to write (SVG).
    #[arg(long, default_value = "docs/stability_map.svg")]
    svg: PathBuf,
    /// Cells across the inlet, one column of the map each.
    #[arg(long, num_args = 1.., default_values_t = [8.0, 12.0, 16.0, 24.0, 32.0], value_parser = common::positive)]
    cells: Vec<f64>,
    /// Make the table and plot from the progress lines (stderr) of an earlier run instead of running.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

/// Inlet Reynolds numbers tried, in order; a configuration stops at its first failure.
const LADDER: [f64; 7] = [50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0];
/// Blood (SI).
const DENSITY: f64 = 1060.0;
const VISCOSITY: f64 = 3.5e-3;

/// A geometry of the map: its name, the case's [geometry] table, its inlet diameter (m), a length
/// the flow crosses (m), and whether the inflow is the aortic waveform.
struct Geometry {
    name: &'static str,
    table: String,
    diameter: f64,
    length: f64,
    pulsatile: bool,
}

/// A collision of the map: its label and the case lines that select it.
struct Scheme {
    label: &'static str,
    collision: &'static str,
    les: bool,
}

/// How one run ended.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Stable,
    Diverged,
    /// Refused before it started (tau below the scheme's limit, memory).
    Refused,
}

fn geometries(shared: &Path) -> Vec<Geometry> {
    let tube = |axis: &str| {
        format!("units = \"mm\"\ngenerate = {{ shape = \"tube\", radius = 2.0, length = 24.0 }}\n{axis}\n")
    };
    let aorta = shared.join("meshes/aorta_vmtk_open_ends.stl");
    let mut g = vec![
        Geometry {
            name: "tube, lattice axis",
            table: tube(""),
            diameter: 4e-3,
            length: 24e-3,
            pulsatile: false,
        },
        Geometry {
            name: "tube, axis (1,2,3)",
            table: tube("axis = [1.0, 2.0, 3.0]"),
            diameter: 4e-3,
            length: 24e-3,
            pulsatile: false,
        },
        Geometry {
            name: "Y bifurcation",
            table: "units = \"mm\"\ngenerate = { shape = \"bifurcation\", radius = 2.0, length = 12.0, \
                    angle_degrees = 60.0, daughter_length = 16.0 }\n"
                .into(),
            diameter: 4e-3,
            length: 28e-3,
            pulsatile: false,
        },
    ];
    if aorta.exists() {
        for pulsatile in [false, true] {
            g.push(Geometry {
                name: if pulsatile { "aorta, pulsatile" } else { "aorta, steady" },
                table: format!("surface = \"{}\"\nunits = \"mm\"\n", aorta.display()),
                diameter: 15.4e-3,
                length: 80e-3,
                pulsatile,
            });
        }
    }
    g
}

/// Runs `geometry` at inlet Reynolds number `re` with `cells` across the inlet and `scheme`.
fn try_run(geometry: &Geometry, scheme: &Scheme, cells: f64, re: f64, dir: &Path) -> Outcome {
    let nu = VISCOSITY / DENSITY;
    let mean_u = re * nu / geometry.diameter;
    let flow = mean_u * std::f64::consts::PI * geometry.diameter * geometry.diameter / 4.0;
    let (inflow, run_table) = if geometry.pulsatile {
        ("waveform = \"aortic\"\nprofile = \"womersley\"\nramp = 0.1\n".to_string(), "cycles = 1".to_string())
    } else {
        // Two crossings of the vessel at the mean velocity, the first fifth a ramp.
        let time = 2.0 * geometry.length / mean_u;
        (format!("ramp = {:e}\n", time / 5.0), format!("time = {time:e}\nsteady_tolerance = 1e-12"))
    };
    let text = format!(
        "[geometry]\n{}[fluid]\ndensity = {DENSITY}\nviscosity = {VISCOSITY}\nles = {}\n[inflow]\nflow_rate = {flow:e}\n\
         {inflow}[windkessel]\nmean_pressure = 12000.0\ntotal_compliance = 1e-9\n[lattice]\ncells_across_inlet = {cells}\n\
         collision = \"{}\"\n[run]\n{run_table}\nbackend = \"auto\"\nframes = 1\n[output]\ndir = \"{}\"\n",
        geometry.table,
        scheme.les,
        scheme.collision,
        dir.display()
    );
    let case = match Case::from_toml(&text, Path::new("stability_map")) {
        Ok(c) => c,
        Err(e) => panic!("stability_map's own case is invalid: {e}\n{text}"),
    };
    match run(&case, &RunOptions::default()) {
        Ok(r) if r.summary.max_mach.is_finite() && r.summary.pressure_drop_pa.is_finite() => Outcome::Stable,
        Ok(_) | Err(Error::Diverged(_)) => Outcome::Diverged,
        Err(e) => {
            eprintln!("    refused: {e}");
            Outcome::Refused
        }
    }
}

/// One rung of the ladder: geometry, collision, cells across, Reynolds number and how it ended.
type Rung = (String, String, f64, f64, Outcome);

/// The rungs of an earlier run, from its progress lines (`--log FILE`).
fn parse_log(text: &str) -> Vec<Rung> {
    text.lines()
        .filter_map(|line| {
            let (head, outcome) = line.rsplit_once(": ")?;
            let parts: Vec<&str> = head.split(" / ").collect();
            let [g, s, n, re] = parts.as_slice() else { return None };
            let cells = n.strip_suffix(" cells")?.parse().ok()?;
            let re = re.strip_prefix("Re ")?.parse().ok()?;
            let outcome = match outcome.split(' ').next()? {
                "stable" => Outcome::Stable,
                "diverged" => Outcome::Diverged,
                "refused" => Outcome::Refused,
                _ => return None,
            };
            Some((g.to_string(), s.to_string(), cells, re, outcome))
        })
        .collect()
}

/// Climbs the ladder for every geometry, collision and cell count, printing each rung.
fn climb(cells: &[f64]) -> Vec<Rung> {
    let schemes = [
        Scheme { label: "TRT", collision: "trt", les: false },
        Scheme { label: "regularized", collision: "regularized", les: false },
        Scheme { label: "regularized + LES", collision: "regularized", les: true },
    ];
    let dir = std::env::temp_dir().join(format!("hemotwin-stability-{}", std::process::id()));
    let mut rungs = Vec::new();
    for g in &geometries(Path::new("../shared")) {
        for s in &schemes {
            for &n in cells {
                for &re in &LADDER {
                    let t = std::time::Instant::now();
                    let outcome = try_run(g, s, n, re, &dir);
                    eprintln!(
                        "{} / {} / {n} cells / Re {re}: {}",
                        g.name,
                        s.label,
                        match outcome {
                            Outcome::Stable => format!("stable ({:.0} s)", t.elapsed().as_secs_f64()),
                            Outcome::Diverged => "diverged".into(),
                            Outcome::Refused => "refused".into(),
                        }
                    );
                    rungs.push((g.name.to_string(), s.label.to_string(), n, re, outcome));
                    if outcome != Outcome::Stable {
                        break;
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    rungs
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args { svg, cells, log } = Args::parse();
    let rungs = match &log {
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            parse_log(&text)
        }
        None => climb(&cells),
    };
    // (geometry, collision) -> per cell count the largest stable Re (0: none) and how the next
    // rung ended (Stable: the ladder's top held; absent: not run).
    let mut rows: Vec<Row> = Vec::new();
    for (g, s, _, _, _) in &rungs {
        if rows.iter().any(|(rg, rs, _)| rg == g && rs == s) {
            continue;
        }
        let row = cells
            .iter()
            .map(|&n| {
                let mine: Vec<&Rung> = rungs.iter().filter(|r| &r.0 == g && &r.1 == s && r.2 == n).collect();
                let best = mine.iter().filter(|r| r.4 == Outcome::Stable).map(|r| r.3).fold(0.0, f64::max);
                let end = mine.iter().find(|r| r.4 != Outcome::Stable).map_or(Outcome::Stable, |r| r.4);
                (!mine.is_empty()).then_some((best, end))
            })
            .collect();
        rows.push((g.clone(), s.clone(), row));
    }
    println!(
        "| geometry | collision | {} |",
        cells.iter().map(|n| format!("{n} cells")).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|---|{}", "---:|".repeat(cells.len()));
    for (g, s, row) in &rows {
        let entries: Vec<String> = row
            .iter()
            .map(|entry| match entry {
                None => "not run".to_string(),
                Some((re, why)) => {
                    let mark = match why {
                        Outcome::Stable if *re == LADDER[LADDER.len() - 1] => " (top)",
                        Outcome::Stable => " (stopped)",
                        Outcome::Diverged => "",
                        Outcome::Refused => " r",
                    };
                    if *re == 0.0 { format!("< {}{mark}", LADDER[0]) } else { format!("{re}{mark}") }
                }
            })
            .collect();
        println!("| {g} | {s} | {} |", entries.join(" | "));
    }
    plot(&svg, &cells, &rows)?;
    println!("plot: {}", svg.display());
    Ok(())
}

/// A row of the map: geometry, collision, and per cell count (largest stable Re, how the next rung
/// ended), None where not run.
type Row = (String, String, Vec<Option<(f64, Outcome)>>);

/// The map as an SVG: largest stable Re (log) against cells across, one line per row.
fn plot(path: &Path, cells: &[f64], rows: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = cells.iter().copied().fold(0.0, f64::max) + 4.0;
    let mut chart = ChartBuilder::on(&root)
        .caption("Largest stable inlet Reynolds number", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(4.0..x_max, (25.0..LADDER[LADDER.len() - 1] * 1.5).log_scale())?;
    chart.configure_mesh().x_desc("cells across the inlet").y_desc("Re (inlet)").draw()?;
    for (i, (g, s, row)) in rows.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(f64, f64)> = cells
            .iter()
            .zip(row)
            .filter_map(|(&n, entry)| entry.map(|(re, _)| (n, if re == 0.0 { 25.0 } else { re })))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(format!("{g}, {s}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}
