//! The stability map of the flow solver: the largest inlet Reynolds number that runs without
//! divergence, against cells across the inlet, for a straight tube along a lattice axis and along
//! (1, 2, 3), the Y bifurcation, and the shared aorta (steady and pulsatile), for each collision
//! (TRT, regularized, regularized with LES). Prints a markdown table and writes an SVG plot.
//!
//! Run with `cargo run --release --example stability_map -- [OUT.svg] [CELLS...]`
//! (default: docs/stability_map.svg, cells 8 12 16 24 32). The aorta needs ../shared.

use hemotwin::Error;
use hemotwin::case::Case;
use hemotwin::simulation::{RunOptions, run};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

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
        Ok(s) if s.max_mach.is_finite() && s.pressure_drop_pa.is_finite() => Outcome::Stable,
        Ok(_) | Err(Error::Diverged(_)) => Outcome::Diverged,
        Err(e) => {
            eprintln!("    refused: {e}");
            Outcome::Refused
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let svg = args.first().map_or_else(|| PathBuf::from("docs/stability_map.svg"), PathBuf::from);
    let cells: Vec<f64> = if args.len() > 1 {
        args[1..].iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    } else {
        vec![8.0, 12.0, 16.0, 24.0, 32.0]
    };
    let schemes = [
        Scheme { label: "TRT", collision: "trt", les: false },
        Scheme { label: "regularized", collision: "regularized", les: false },
        Scheme { label: "regularized + LES", collision: "regularized", les: true },
    ];
    let dir = std::env::temp_dir().join(format!("hemotwin-stability-{}", std::process::id()));
    let geometries = geometries(Path::new("../shared"));
    // (geometry, scheme) -> largest stable Re per cell count (0: none on the ladder), and how the
    // next rung failed.
    let mut rows = Vec::new();
    for g in &geometries {
        for s in &schemes {
            let mut row = Vec::new();
            for &n in &cells {
                let mut best = (0.0, Outcome::Stable);
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
                    if outcome != Outcome::Stable {
                        best.1 = outcome;
                        break;
                    }
                    best.0 = re;
                }
                row.push(best);
            }
            rows.push((g.name, s.label, row));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "| geometry | collision | {} |",
        cells.iter().map(|n| format!("{n} cells")).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|---|{}", "---|".repeat(cells.len()));
    for (g, s, row) in &rows {
        let entries: Vec<String> = row
            .iter()
            .map(|&(re, why)| {
                let mark = match why {
                    Outcome::Stable => "",
                    Outcome::Diverged => " d",
                    Outcome::Refused => " r",
                };
                if re == 0.0 { format!("< {}{mark}", LADDER[0]) } else { format!("{re}{mark}") }
            })
            .collect();
        println!("| {g} | {s} | {} |", entries.join(" | "));
    }
    plot(&svg, &cells, &rows)?;
    println!("plot: {}", svg.display());
    Ok(())
}

type Row = (&'static str, &'static str, Vec<(f64, Outcome)>);

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
        let points: Vec<(f64, f64)> =
            cells.iter().zip(row).map(|(&n, &(re, _))| (n, if re == 0.0 { 25.0 } else { re })).collect();
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
