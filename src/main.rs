//! The hemotwin command line: demo, run, mesh generate, info, bench.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use hemotwin::bench::{KERNEL_VARIANTS, bench_fluid, dense_box, lbm_throughput, triad_bandwidth};
use hemotwin::case::{Case, DEMO_CASE, GenerateSpec};
use hemotwin::geometry::io_stl::{Units, neutral_header, stl_header, write_stl, write_stl_with_header};
use hemotwin::geometry::synth::FDA_PIPE_DIAMETER;
use hemotwin::geometry::vessel::{generate, guess_units};
use hemotwin::lbm::{BackendChoice, Collision};
use hemotwin::pipeline::{Event, Observer, RunOptions, prepare, run};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "hemotwin",
    version,
    about = "Vessel geometry to lattice-Boltzmann blood flow, on the GPU or the CPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the embedded demo: a 75% stenosis in a 4 mm artery, no input files needed.
    Demo {
        /// Output folder.
        #[arg(long, default_value = "hemotwin-demo")]
        out: PathBuf,
        /// Backend: auto (GPU when a hardware one is found, else CPU), gpu or cpu.
        #[arg(long, value_enum)]
        backend: Option<BackendChoice>,
    },
    /// Run a case file (TOML).
    Run {
        /// The case file.
        case: PathBuf,
        /// Output folder (default: the case's output.dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend: auto, gpu or cpu (default: the case's run.backend).
        #[arg(long, value_enum)]
        backend: Option<BackendChoice>,
        /// Continue from the output folder's checkpoint.bin (written at every frame).
        #[arg(long)]
        resume: bool,
    },
    /// Surface meshes.
    Mesh {
        #[command(subcommand)]
        action: MeshCommand,
    },
    /// Solve the vessel wall of a case (its [wall] section) by finite elements: wall_fe.vtu, and
    /// the peak values under `wall` in summary.json.
    Wall {
        /// The case file.
        case: PathBuf,
        /// The flow's wall.vtp with a `pressure` array (Pa); default: the case's wall.pressure.
        #[arg(long)]
        pressure: Option<PathBuf>,
        /// Output folder (default: the case's output.dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend of the PCG solves: auto, gpu (f32) or cpu (f64).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendChoice,
    },
    /// List the GPU adapters found and which one each backend choice would use.
    Info,
    /// Measure memory bandwidth and LBM throughput (MLUPS) per backend, with the roofline.
    Bench {
        /// Edge of the dense box (cells).
        #[arg(long, default_value_t = 128)]
        size: usize,
        /// Steps per measurement.
        #[arg(long, default_value_t = 50)]
        steps: u64,
        /// Also run GPU adapters that are software rasterisers (lavapipe).
        #[arg(long)]
        software_gpu: bool,
        /// Also measure the cost of the local viscosity models (Carreau-Yasuda, Casson, Smagorinsky
        /// LES) against the Newtonian kernel on the dense box, on each backend measured.
        #[arg(long)]
        rheology: bool,
        /// Measure only this backend (default, or auto: the CPU, and the GPU when one is found).
        #[arg(long, value_enum)]
        backend: Option<BackendChoice>,
    },
}

#[derive(Subcommand)]
enum MeshCommand {
    /// Report a surface's size, topology and defects and the ports a run uses (a surface file:
    /// without [[geometry.ports]]; a case file: its own); exits with status 2 when `run` would refuse it.
    Check {
        /// The surface (.stl or .vtp), or a case file (.toml): its surface with its ports, units and
        /// flow extensions, as `run` prepares them.
        file: PathBuf,
        /// Length unit of the file: mm, cm, m, or auto (guessed from its size, as in a case file).
        #[arg(long, default_value = "mm")]
        units: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The inlet's centre x,y,z in --units (the case file's `geometry.inlet`): chooses the inlet
        /// among caps of equal radius.
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        inlet: Option<Vec<f64>>,
        /// Make the safe repairs (merge duplicate vertices, drop degenerate triangles, orient
        /// consistently outward), report them, and write the result to --output.
        #[arg(long, requires = "output")]
        repair: bool,
        /// Where --repair writes the repaired surface (binary STL, in --units).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Copy the input's STL header (which may name the patient) into --output instead of a
        /// neutral "hemotwin" header.
        #[arg(long, requires = "output")]
        keep_metadata: bool,
    },
    /// Write a closed synthetic vessel as binary STL (along +z from z = 0).
    Generate {
        /// tube, stenosis, fda-nozzle (the FDA benchmark: 12 mm pipe, 4 mm throat; --length is then
        /// the pipe length after the expansion, with 2 pipe diameters before the cone), bifurcation
        /// (--length is the parent's) or aneurysm (a sidewall sphere on the +x side).
        #[arg(value_parser = ["tube", "stenosis", "fda-nozzle", "bifurcation", "aneurysm"])]
        shape: String,
        /// Radius (of the parent vessel), in --units.
        #[arg(long, default_value_t = 2.0)]
        radius: f64,
        /// Length (of the parent vessel), in --units.
        #[arg(long, default_value_t = 32.0)]
        length: f64,
        /// Stenosis area reduction (percent).
        #[arg(long, default_value_t = 75.0)]
        area_reduction: f64,
        /// Stenosis length, in --units.
        #[arg(long, default_value_t = 8.0)]
        stenosis_length: f64,
        /// Axial position of the stenosis throat or the aneurysm's centre, in --units (default:
        /// mid-length).
        #[arg(long)]
        center: Option<f64>,
        /// Stenosis eccentricity: 0 axisymmetric, 1 all the narrowing from one side.
        #[arg(long, default_value_t = 0.0)]
        eccentricity: f64,
        /// Bifurcation daughter radii, in --units, comma separated (default: Murray's law,
        /// symmetric; one value gives the other by Murray's law).
        #[arg(long, value_delimiter = ',')]
        daughter_radii: Vec<f64>,
        /// Total angle between the bifurcation's daughters (degrees).
        #[arg(long, default_value_t = 60.0)]
        angle: f64,
        /// Length of each daughter, in --units.
        #[arg(long, default_value_t = 16.0)]
        daughter_length: f64,
        /// Aneurysm sphere radius, in --units.
        #[arg(long, default_value_t = 3.0)]
        sphere_radius: f64,
        /// Aneurysm neck width, in --units.
        #[arg(long, default_value_t = 3.0)]
        neck: f64,
        /// Facets around the circumference.
        #[arg(long, default_value_t = 64)]
        segments: usize,
        /// Length unit of the numbers above and of the file: mm, cm or m.
        #[arg(long, default_value = "mm")]
        units: String,
        /// Output STL file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Exit status of a run that diverged (README: exit codes).
const EXIT_DIVERGED: i32 = 3;
/// Exit status of a run stopped by Ctrl-C after writing its partial results.
const EXIT_INTERRUPTED: i32 = 4;
/// Exit status of a run whose results fail the validity gate (summary.json `status`).
const EXIT_INVALID: i32 = 5;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli) {
        eprintln!("error: {e:#}");
        let diverged = matches!(e.downcast_ref::<hemotwin::Error>(), Some(hemotwin::Error::Diverged(_)));
        std::process::exit(if diverged { EXIT_DIVERGED } else { 1 });
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo { out, backend } => {
            let case = Case::from_toml(DEMO_CASE, Path::new("<embedded demo case>"))?;
            run_case(&case, Some(out), backend, true, false)
        }
        Command::Run { case, out, backend, resume } => {
            let case = Case::load(&case)?;
            run_case(&case, out, backend, false, resume)
        }
        Command::Mesh { action } => mesh(action),
        Command::Wall { case, pressure, out, backend } => {
            let case = Case::load(&case)?;
            let out = out.unwrap_or_else(|| case.output.dir.clone());
            let observer = Terminal::new();
            let result = hemotwin::pipeline::run_wall(&case, pressure.as_deref(), &out, backend, &observer);
            observer.bar.finish_and_clear();
            let (wall, files) = result?;
            print_wall(&wall.solution.summary, &files);
            Ok(())
        }
        Command::Info => info(),
        Command::Bench { size, steps, software_gpu, rheology, backend } => {
            bench(size, steps, software_gpu, rheology, backend.unwrap_or(BackendChoice::Auto))
        }
    }
}

/// Seconds between two progress lines when stderr is not a terminal (a log).
const LOG_EVERY_S: f64 = 10.0;

/// The command line's observer: set-up lines and warnings on stderr, a progress bar for the time
/// loop and a spinner for the wall on a terminal, a line every few seconds in a log.
struct Terminal {
    bar: indicatif::ProgressBar,
    /// Seconds since the start of the last line logged (logs only).
    logged: std::sync::Mutex<f64>,
}

impl Terminal {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::hidden();
        Terminal { bar, logged: std::sync::Mutex::new(f64::NEG_INFINITY) }
    }

    /// Shows `line` on the bar (a terminal), or logs it at most every LOG_EVERY_S seconds.
    fn status(&self, line: String, elapsed: f64) {
        if self.bar.is_hidden() {
            if let Ok(mut logged) = self.logged.lock()
                && elapsed - *logged >= LOG_EVERY_S
            {
                *logged = elapsed;
                eprintln!("{line}");
            }
        } else {
            self.bar.set_message(line);
        }
    }
}

impl Observer for Terminal {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Info(line) => self.bar.suspend(|| eprintln!("{line}")),
            Event::Warning(line) => self.bar.suspend(|| eprintln!("warning: {line}")),
            Event::Started { step, total } => {
                self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                self.bar.set_length(*total);
                self.bar.set_position(*step);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} steps, {msg}, {elapsed} elapsed, ~{eta} left",
                ) {
                    self.bar.set_style(style);
                }
            }
            Event::Progress { step, mlups, residual } => {
                self.bar.set_position(*step);
                let line = format!("{mlups:.1} MLUPS, residual {residual:.1e}");
                if self.bar.is_hidden() {
                    self.status(format!("step {step}: {line}"), self.bar.elapsed().as_secs_f64());
                } else {
                    self.bar.set_message(line);
                }
            }
            Event::Finished => self.bar.finish_and_clear(),
            Event::Wall(p) => {
                if self.bar.is_finished() || self.bar.length().is_none() {
                    self.bar.reset();
                    self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    if let Ok(style) =
                        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    {
                        self.bar.set_style(style);
                    }
                }
                let line = format!(
                    "wall: {} dofs, pressure fraction {:.2}, Newton {}, PCG iteration {} at relative residual {:.2e} \
                     ({:.0} s)",
                    p.dofs,
                    p.load_fraction,
                    p.newton_iterations,
                    p.pcg_iterations,
                    p.relative_residual,
                    p.elapsed_s
                );
                self.bar.tick();
                self.status(line, p.elapsed_s);
            }
        }
    }
}

fn run_case(
    case: &Case,
    out: Option<PathBuf>,
    backend: Option<BackendChoice>,
    demo: bool,
    resume: bool,
) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: exiting now (files already written are complete)");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing the current batch and writing what is done (Ctrl-C again to quit)"
        );
    })
    .context("installing the Ctrl-C handler")?;
    let out_dir = out.clone().unwrap_or_else(|| case.output.dir.clone());
    let observer = Arc::new(Terminal::new());
    let opts = RunOptions { backend, out_dir: out, observer: observer.clone(), stop, resume };
    let result = run(case, &opts);
    observer.bar.finish_and_clear();
    let result = result?;
    let s = &result.summary;
    println!("{}", if s.interrupted { "run interrupted; partial results written" } else { "run finished" });
    println!(
        "  {} steps ({:.3} s simulated) in {:.1} s on {} at {:.1} MLUPS; {}",
        s.steps,
        s.simulated_time_s,
        s.wall_time_s,
        s.adapter
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| format!("{} CPU threads", rayon::current_num_threads())),
        s.mlups,
        if s.converged {
            "steady state reached".to_string()
        } else {
            format!("residual {:.1e}", s.residual_per_1000_steps)
        }
    );
    println!("  lattice: {}", s.lattice.describe());
    println!(
        "  pressure drop {:.1} Pa ({:.2} mmHg); inflow {:.4e} m^3/s, outflow {:.4e} m^3/s (mass error {:.3}%)",
        s.pressure_drop_pa,
        s.pressure_drop_pa / 133.322,
        s.inflow_m3_s,
        s.outflow_m3_s,
        100.0 * s.mass_conservation_error
    );
    if let Some(wall) = &s.wall_mechanics {
        print_wall(wall, &[out_dir.join("wall_fe.vtu")]);
    }
    println!("results in {}/: summary.json, fluid.pvd (+ fluid_*.vti frames)", out_dir.display());
    if demo {
        println!(
            "open in ParaView: File > Open > {}/fluid.pvd, Apply, colour by `velocity` or `pressure`; \
             Threshold on `fluid` >= 1 hides the solid nodes, and Slice along z shows the jet",
            out_dir.display()
        );
    }
    if s.interrupted {
        std::process::exit(EXIT_INTERRUPTED);
    }
    if s.status == "invalid" {
        eprintln!("error: the results are not valid (summary.json status \"invalid\"):");
        for reason in &s.status_reasons {
            eprintln!("  - {reason}");
        }
        std::process::exit(EXIT_INVALID);
    }
    Ok(())
}

/// Prints what a wall-mechanics run found and wrote.
fn print_wall(s: &hemotwin::fem::WallSummary, files: &[PathBuf]) {
    println!(
        "wall: {} TET10 elements, {} dofs (min scaled Jacobian {:.3}); max displacement {:.3e} m, \
         von Mises {:.4e} Pa, hoop {:.4e} Pa; {} Newton / {} PCG iterations on {}",
        s.elements,
        s.dofs,
        s.min_scaled_jacobian,
        s.max_displacement_m,
        s.max_von_mises_pa,
        s.max_hoop_pa,
        s.newton_iterations,
        s.pcg_iterations,
        s.backend
    );
    for f in files {
        println!("wrote {}", f.display());
    }
}

fn mesh(action: MeshCommand) -> Result<()> {
    match action {
        MeshCommand::Check { file, units, json, inlet, repair, output, keep_metadata } => {
            let inlet = match inlet.as_deref() {
                None => None,
                Some(&[x, y, z]) => Some([x, y, z]),
                Some(other) => bail!("--inlet takes x,y,z (3 numbers), got {} numbers", other.len()),
            };
            mesh_check(&file, &units, inlet, json, output.filter(|_| repair).as_deref(), keep_metadata)
        }
        MeshCommand::Generate {
            shape,
            radius,
            length,
            area_reduction,
            stenosis_length,
            center,
            eccentricity,
            daughter_radii,
            angle,
            daughter_length,
            sphere_radius,
            neck,
            segments,
            units,
            output,
        } => {
            let units: Units = units.parse()?;
            let s = units.scale();
            let center = center.unwrap_or(length / 2.0);
            let spec = match shape.as_str() {
                "tube" => GenerateSpec::Tube { radius, length },
                "fda-nozzle" => GenerateSpec::FdaNozzle {
                    inlet_length: 2.0 * FDA_PIPE_DIAMETER / s,
                    outlet_length: length,
                },
                "bifurcation" => GenerateSpec::Bifurcation {
                    radius,
                    length,
                    daughter_radii,
                    angle_degrees: angle,
                    daughter_length,
                },
                "aneurysm" => GenerateSpec::Aneurysm { radius, length, sphere_radius, neck, center },
                _ => GenerateSpec::Stenosis {
                    radius,
                    length,
                    area_reduction_percent: area_reduction,
                    stenosis_length,
                    center,
                    eccentricity,
                },
            };
            let (surface, ports) = generate(&spec, s, segments)?;
            write_stl(&output, &surface, units)?;
            println!(
                "wrote {} ({} triangles, {})",
                output.display(),
                surface.triangles.len(),
                units.symbol()
            );
            for p in &ports {
                let (c, n) = (p.center / s, p.normal.map(|e| e + 0.0));
                println!(
                    "  port {}: centre ({:.4}, {:.4}, {:.4}), normal ({:.4}, {:.4}, {:.4}), radius {:.4} {}",
                    p.name,
                    c.x,
                    c.y,
                    c.z,
                    n.x,
                    n.y,
                    n.z,
                    p.radius / s,
                    units.symbol()
                );
            }
            Ok(())
        }
    }
}

/// A port as `mesh check` reports it: name, role, centre and radius (file units), normal, planarity.
type PortRow = (String, &'static str, [f64; 3], [f64; 3], f64, f64);

fn mesh_check(
    file: &Path,
    units_text: &str,
    inlet: Option<[f64; 3]>,
    json: bool,
    repair_to: Option<&Path>,
    keep_metadata: bool,
) -> Result<()> {
    use hemotwin::geometry::repair::{
        duplicate_tolerance, duplicate_vertices, inconsistent_edges, repair, self_intersections,
    };
    // The vessel exactly as `run` prepares it: from a case file's [geometry], or from this surface
    // file without [[geometry.ports]].
    let is_case = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let spec = if is_case {
        let case = Case::load(file)?;
        if case.geometry.surface.is_none() {
            bail!(
                "{}: the case generates its vessel; mesh check takes a surface file or a case that reads one",
                file.display()
            );
        }
        case.geometry
    } else {
        hemotwin::case::GeometrySpec {
            surface: Some(file.to_path_buf()),
            units: units_text.to_string(),
            generate: None,
            axis: None,
            flow_extensions: None,
            ports: Vec::new(),
            inlet,
        }
    };
    let (file, units_text) = match &spec.surface {
        Some(surface) => (surface.as_path(), spec.units.as_str()),
        None => (file, units_text),
    };
    let prepared = hemotwin::geometry::vessel::prepare_vessel(&spec, 24.0);
    let units = match (&prepared, units_text.trim()) {
        (Ok(v), _) => v.units,
        (Err(_), "auto") => {
            let raw = hemotwin::geometry::vessel::read_surface(file, Units::Metre)?.surface;
            guess_units(&raw)
        }
        (Err(_), u) => u.parse()?,
    };
    let mut surface = hemotwin::geometry::vessel::read_surface(file, units)?.surface;
    let tol = duplicate_tolerance(&surface);
    let repaired = repair_to.map(|_| repair(&mut surface, tol));
    let r = hemotwin::geometry::check::inspect(&surface);
    let duplicates = duplicate_vertices(&surface, tol);
    let (flipped, _) = inconsistent_edges(&surface);
    let (crossings, where_) = self_intersections(&surface, 5);
    let closed =
        r.boundary_edges == 0 && r.nonmanifold_edges == 0 && r.volume > 0.0 && flipped == 0 && crossings == 0;
    let port_rows: Vec<PortRow> = match &prepared {
        Ok(v) => v
            .ports
            .iter()
            .zip(&v.roles)
            .zip(&v.planarity)
            .map(|((p, r), f)| {
                let role = if *r == hemotwin::lattice::PortRole::Velocity { "inlet" } else { "outlet" };
                let c = p.center / units.scale();
                (
                    p.name.clone(),
                    role,
                    [c.x, c.y, c.z],
                    [p.normal.x, p.normal.y, p.normal.z],
                    p.radius / units.scale(),
                    *f,
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let s = units.scale();
    let to_units = |p: &nalgebra::Point3<f64>| [p.x / s, p.y / s, p.z / s];
    let guess = guess_units(&hemotwin::geometry::Surface {
        vertices: surface.vertices.iter().map(|p| p / s).collect(),
        triangles: Vec::new(),
    });
    if json {
        let holes: Vec<_> = r
            .holes
            .iter()
            .map(|h| serde_json::json!({ "edges": h.edges, "center": to_units(&h.center) }))
            .collect();
        let report = serde_json::json!({
            "file": file.display().to_string(),
            "units": units.symbol(),
            "units_guess": guess.symbol(),
            "triangles": r.triangles,
            "vertices": r.vertices,
            "bbox_min": to_units(&r.bbox_min),
            "bbox_max": to_units(&r.bbox_max),
            "area_m2": r.area,
            "volume_m3": r.volume,
            "duplicate_vertices": duplicates,
            "degenerate_triangles": r.degenerate_triangles,
            "boundary_edges": r.boundary_edges,
            "holes": holes,
            "nonmanifold_edges": r.nonmanifold_edges,
            "inconsistently_oriented_edges": flipped,
            "self_intersections": crossings,
            "self_intersection_examples": where_.iter().map(to_units).collect::<Vec<_>>(),
            "repaired": repaired.as_ref().map(|l| serde_json::json!({
                "merged_vertices": l.merged_vertices,
                "dropped_triangles": l.dropped_triangles,
                "flipped_triangles": l.flipped_triangles,
            })),
            "closed_and_outward": closed,
            "ports": port_rows.iter().map(|(name, role, c, n, radius, f)| serde_json::json!({
                "name": name, "role": role, "center": c, "normal": n, "radius": radius, "planarity": f,
            })).collect::<Vec<_>>(),
            "run_notes": prepared.as_ref().map(|v| v.notes.clone()).unwrap_or_default(),
            "ready_to_run": prepared.is_ok(),
            "run_error": prepared.as_ref().err().map(ToString::to_string),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let (lo, hi) = (to_units(&r.bbox_min), to_units(&r.bbox_max));
        let u = units.symbol();
        println!("{}: {} triangles, {} vertices", file.display(), r.triangles, r.vertices);
        println!(
            "  bounding box ({:.3}, {:.3}, {:.3}) to ({:.3}, {:.3}, {:.3}) {u}; its size suggests {}",
            lo[0],
            lo[1],
            lo[2],
            hi[0],
            hi[1],
            hi[2],
            guess.symbol()
        );
        println!("  area {:.4e} m^2, enclosed volume {:.4e} m^3", r.area, r.volume);
        println!(
            "  duplicate vertices {duplicates} (within {:.1e} m), degenerate triangles {}, inconsistently oriented edges {flipped}",
            tol, r.degenerate_triangles
        );
        println!(
            "  open edges {} in {} holes, non-manifold edges {}, self-intersections {crossings}",
            r.boundary_edges,
            r.holes.len(),
            r.nonmanifold_edges
        );
        for h in r.holes.iter().take(10) {
            let c = to_units(&h.center);
            println!("    hole of {} edges around ({:.3}, {:.3}, {:.3}) {u}", h.edges, c[0], c[1], c[2]);
        }
        for p in &where_ {
            let c = to_units(p);
            println!("    triangles cross at ({:.3}, {:.3}, {:.3}) {u}", c[0], c[1], c[2]);
        }
        if let Some(l) = &repaired {
            println!(
                "  repaired: merged {} vertices, dropped {} degenerate triangles, flipped {} triangles",
                l.merged_vertices, l.dropped_triangles, l.flipped_triangles
            );
        }
        if !port_rows.is_empty() {
            println!("  ports the run uses (planarity: largest distance from the plane / radius):");
        }
        for (name, role, c, n, radius, f) in &port_rows {
            println!(
                "    {name} ({role}): centre ({:.3}, {:.3}, {:.3}) {u}, normal ({:.3}, {:.3}, {:.3}), radius {radius:.3} {u}, \
                 planarity {:.2}%",
                c[0],
                c[1],
                c[2],
                n[0] + 0.0,
                n[1] + 0.0,
                n[2] + 0.0,
                100.0 * f
            );
        }
        match &prepared {
            Ok(v) => {
                for note in &v.notes {
                    println!("  run: {note}");
                }
                println!("  ready for the flow solver (`run` prepares it as above)");
            }
            Err(e) => println!("  not ready: `run` refuses it: {e}"),
        }
    }
    if let (Some(out), Some(_)) = (repair_to, &repaired) {
        let header = if keep_metadata { stl_header(file)? } else { neutral_header() };
        write_stl_with_header(out, &surface, units, &header)?;
        if !json {
            println!(
                "wrote the repaired surface to {} (binary STL, {}, {})",
                out.display(),
                units.symbol(),
                if keep_metadata { "the input's header" } else { "neutral header" }
            );
        }
    }
    if prepared.is_err() {
        std::process::exit(2);
    }
    Ok(())
}

fn info() -> Result<()> {
    let adapters = hemotwin::gpu::list_adapters();
    if adapters.is_empty() {
        println!("no GPU adapter found; the CPU backend ({} threads) will run", rayon::current_num_threads());
        println!("for a software Vulkan driver on Debian: apt-get install mesa-vulkan-drivers libvulkan1");
        return Ok(());
    }
    println!("GPU adapters, best first:");
    for a in &adapters {
        println!(
            "  {} [{}; {}; {}]{}",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            if a.software { " (software)" } else { "" }
        );
    }
    let hw = adapters.iter().find(|a| !a.software);
    println!(
        "--backend auto: {}",
        hw.map(|a| a.name.clone()).unwrap_or_else(|| format!(
            "CPU ({} threads): only software adapters found",
            rayon::current_num_threads()
        ))
    );
    println!("--backend gpu:  {}", adapters[0].name);
    println!("--backend cpu:  rayon, {} threads", rayon::current_num_threads());
    Ok(())
}

fn bench(size: usize, steps: u64, software_gpu: bool, rheology: bool, only: BackendChoice) -> Result<()> {
    if size < 4 || steps == 0 {
        bail!("--size must be at least 4 and --steps positive");
    }
    let demo = Case::from_toml(
        &DEMO_CASE.replace("cells_across_inlet = 16", "cells_across_inlet = 24"),
        Path::new("demo"),
    )?;
    let cases = [
        (format!("dense box {size}^3"), dense_box(size)),
        ("stenosis, 24 cells across".to_string(), prepare(&demo)?.lattice),
    ];
    let newtonian = bench_fluid("newtonian", false)?;
    let mut backends = Vec::new();
    if only != BackendChoice::Gpu {
        let bandwidth = triad_bandwidth(1 << 25, 12);
        println!(
            "memory bandwidth (parallel triad, {} threads): {:.1} GB/s",
            rayon::current_num_threads(),
            bandwidth / 1e9
        );
        backends.push((BackendChoice::Cpu, bandwidth));
    }
    let gpu_ok = only != BackendChoice::Cpu
        && hemotwin::gpu::list_adapters().iter().any(|a| software_gpu || !a.software);
    if only == BackendChoice::Gpu && !gpu_ok {
        bail!("--backend gpu: no hardware GPU adapter found (--software-gpu admits lavapipe)");
    }
    if gpu_ok {
        let ctx = hemotwin::gpu::open(software_gpu)?;
        let gpu_bandwidth = hemotwin::gpu::triad_bandwidth(&ctx, 10)?;
        println!("GPU memory bandwidth (f32 triad on {}): {:.1} GB/s", ctx.adapter.name, gpu_bandwidth / 1e9);
        backends.push((BackendChoice::Gpu, gpu_bandwidth));
    }
    println!(
        "roofline: bandwidth / bytes per update (populations read and written, and the neighbour table \
         where the kernel reads it)"
    );
    println!(
        "{:<8} {:<28} {:<12} {:>10} {:>9} {:>8} {:>9} {:>11}",
        "backend", "case", "collision", "cells", "MLUPS", "B/update", "GB/s", "% roofline"
    );
    for &(backend, roofline) in &backends {
        for (name, lattice) in &cases {
            for collision in [Collision::Regularized, Collision::Trt] {
                let (t, solver) = match lbm_throughput(lattice, backend, &newtonian, collision, steps) {
                    Ok(r) => r,
                    Err(e) => {
                        println!("{:<8} {:<28} skipped: {e}", "gpu", name);
                        continue;
                    }
                };
                println!(
                    "{:<8} {:<28} {:<12} {:>10} {:>9.1} {:>8.0} {:>9.1} {:>10.0}%",
                    if backend == BackendChoice::Cpu { "cpu" } else { "gpu" },
                    name,
                    format!("{collision:?}").to_lowercase(),
                    lattice.len(),
                    t.mlups,
                    t.bytes_per_update,
                    t.bytes_per_s / 1e9,
                    100.0 * t.bytes_per_s / roofline
                );
                if let (BackendChoice::Gpu, Some(a)) = (backend, solver.backend().adapter) {
                    println!("         (adapter: {}; % roofline against the GPU's triad bandwidth)", a.name);
                }
            }
        }
    }
    if !gpu_ok && only == BackendChoice::Auto {
        println!("no hardware GPU adapter: GPU rows skipped (--software-gpu runs lavapipe)");
    }
    if rheology {
        for &(backend, _) in &backends {
            bench_rheology(&cases[0].1, size, steps, backend)?;
        }
    }
    Ok(())
}

/// Rounds of `bench_rheology`: each model's best round counts (the other load of a shared machine
/// only ever slows a round down).
const RHEOLOGY_ROUNDS: usize = 3;

/// The cost of each local viscosity model against the Newtonian kernel on `backend`, on `lattice`
/// (the dense box of edge `size`), every model started from the same Taylor-Green vortex; the models
/// take turns, best of `RHEOLOGY_ROUNDS` rounds.
fn bench_rheology(
    lattice: &hemotwin::lattice::Lattice,
    size: usize,
    steps: u64,
    backend: BackendChoice,
) -> Result<()> {
    let mut best = [0.0f64; KERNEL_VARIANTS.len()];
    for _ in 0..RHEOLOGY_ROUNDS {
        for ((_, rheology, les, collision), best) in KERNEL_VARIANTS.iter().zip(&mut best) {
            let (t, _) = lbm_throughput(lattice, backend, &bench_fluid(rheology, *les)?, *collision, steps)?;
            *best = best.max(t.mlups);
        }
    }
    println!(
        "kernel variants, {}, dense box {size}^3, from a Taylor-Green vortex, best of {RHEOLOGY_ROUNDS} rounds:",
        if backend == BackendChoice::Cpu { "cpu" } else { "gpu" }
    );
    println!("{:<16} {:>9} {:>10}", "model", "MLUPS", "cost");
    for ((label, _, _, _), mlups) in KERNEL_VARIANTS.iter().zip(best) {
        println!("{label:<16} {mlups:>9.1} {:>9.0}%", 100.0 * (1.0 - mlups / best[0]));
    }
    Ok(())
}
