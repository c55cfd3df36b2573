//! The hemotwin command line: demo, run, plan, study, wall, mesh, info, bench.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod cli;

use cli::mesh::MeshCommand;
use cli::terminal::Terminal;
use hemotwin::case::{Case, DEMO_CASE};
use hemotwin::gpu::BackendChoice;
use hemotwin::io::folder::Existing;
use hemotwin::pipeline::{RunOptions, run};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// Run the embedded demo, no input files needed: a stent planned on a carotid bifurcation
    /// (report.html), or `--case tube`. It replaces an earlier demo's results in its folder.
    Demo {
        /// Output folder.
        #[arg(long, default_value = "hemotwin-demo")]
        out: PathBuf,
        /// Backend: auto (GPU when a hardware one is found, else CPU), gpu or cpu.
        #[arg(long)]
        backend: Option<BackendChoice>,
        /// Which demo: `plan` (a carotid bifurcation with a 70% internal carotid stenosis at
        /// physiological flow, baseline against stented, with report.html) or `tube` (steady flow
        /// through a 75% stenosis in a 4 mm artery).
        #[arg(long, default_value = "plan", value_parser = ["plan", "tube"])]
        case: String,
    },
    /// Run a case file (TOML).
    Run {
        /// The case file.
        case: PathBuf,
        /// Output folder (default: the case's output.dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend: auto, gpu or cpu (default: the case's run.backend).
        #[arg(long)]
        backend: Option<BackendChoice>,
        /// Continue the run in the output folder from its checkpoint.bin (written at every frame);
        /// refused when the case or its input files changed since, naming what changed.
        #[arg(long, conflicts_with = "overwrite")]
        resume: bool,
        /// Replace the results of another run in the output folder (its files only).
        #[arg(long)]
        overwrite: bool,
    },
    /// Surface meshes.
    Mesh {
        #[command(subcommand)]
        action: MeshCommand,
    },
    /// Run a plan: baseline against treated (virtual stenosis, stent) scenarios of a vessel, with
    /// pressure drops, Pd/Pa, flows and wall shear per scenario (plan.json, one folder each).
    Plan {
        /// The plan file (TOML; see meshes/plan_stent.toml).
        plan: PathBuf,
        /// Output folder (default: the plan's `out`, else the case's output.dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend: auto, gpu or cpu (default: the case's run.backend).
        #[arg(long)]
        backend: Option<BackendChoice>,
        /// Continue an interrupted plan: each scenario from its folder's checkpoint (finished
        /// scenarios are not run again).
        #[arg(long, conflicts_with = "overwrite")]
        resume: bool,
        /// Replace the results of an earlier plan in the output folder.
        #[arg(long)]
        overwrite: bool,
    },
    /// Run a study: many cases varied from one (grid, zip, random or Latin-hypercube designs, or an
    /// uncertainty section) into OUT/runs/, study.csv and report.html; again to resume; or as a Slurm
    /// job array (--slurm).
    Study(cli::study::StudyArgs),
    /// Solve the vessel wall of a case (its [wall] section) by finite elements: wall_fe.vtu, and
    /// the peak values under `wall_mechanics` in summary.json.
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
        #[arg(long, default_value = "cpu")]
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
        #[arg(long)]
        backend: Option<BackendChoice>,
    },
}

const EXIT_DIVERGED: i32 = 3;
/// Exit status of a run stopped by Ctrl-C after writing its partial results.
const EXIT_INTERRUPTED: i32 = 4;
/// Exit status of a run whose results fail the validity gate (summary.json `status`).
const EXIT_INVALID: i32 = 5;
/// Exit status of a run refused its output folder: in use by another run, holding another run's
/// results, or (`--resume`) holding a checkpoint of another case.
const EXIT_FOLDER: i32 = 6;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli) {
        eprintln!("error: {e:#}");
        if let Some(hemotwin::Error::Diverged(_)) = e.downcast_ref::<hemotwin::Error>() {
            eprintln!("(to run again into the same folder, give --overwrite: it replaces this run's files)");
        }
        std::process::exit(match e.downcast_ref::<hemotwin::Error>() {
            Some(hemotwin::Error::Diverged(_)) => EXIT_DIVERGED,
            Some(hemotwin::Error::Folder { .. }) => EXIT_FOLDER,
            _ => 1,
        });
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo { out, backend, case } if case == "tube" => {
            let case = Case::from_toml(DEMO_CASE, Path::new("<embedded demo case>"))?;
            run_case(&case, Some(out), backend, true, Existing::Overwrite)
        }
        Command::Demo { out, backend, .. } => {
            let plan = hemotwin::plan::Plan::from_toml(
                hemotwin::plan::DEMO_PLAN,
                Path::new("<embedded demo plan>"),
                Path::new("."),
            )?;
            let result = cli::plan::run(&plan, Some(out), backend, Existing::Overwrite)?;
            println!(
                "open {}/report.html in a browser; `paraview --script={}/view.py` shows the scenarios side by side",
                result.out_dir.display(),
                result.out_dir.display()
            );
            Ok(())
        }
        Command::Run { case, out, backend, resume, overwrite } => {
            let case = Case::load(&case)?;
            run_case(&case, out, backend, false, existing(resume, overwrite))
        }
        Command::Mesh { action } => cli::mesh::mesh(action),
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
        Command::Plan { plan, out, backend, resume, overwrite } => {
            let plan = hemotwin::plan::Plan::load(&plan)?;
            let result = cli::plan::run(&plan, out, backend, existing(resume, overwrite))?;
            // A scenario whose results fail the validity gate makes the plan's results invalid.
            if result.scenarios.iter().any(|s| s.run.summary.status != "complete") {
                eprintln!("error: a scenario's results are not valid (its summary.json status)");
                std::process::exit(EXIT_INVALID);
            }
            Ok(())
        }
        Command::Study(args) => {
            let code = cli::study::study(args)?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Command::Info => cli::bench::info(),
        Command::Bench { size, steps, software_gpu, rheology, backend } => {
            cli::bench::bench(size, steps, software_gpu, rheology, backend.unwrap_or(BackendChoice::Auto))
        }
    }
}

/// What `--resume` and `--overwrite` ask of a folder holding another run's results.
fn existing(resume: bool, overwrite: bool) -> Existing {
    match (resume, overwrite) {
        (true, _) => Existing::Resume,
        (false, true) => Existing::Overwrite,
        (false, false) => Existing::Refuse,
    }
}

fn run_case(
    case: &Case,
    out: Option<PathBuf>,
    backend: Option<BackendChoice>,
    demo: bool,
    existing: Existing,
) -> Result<()> {
    let stop = cli::terminal::stop_on_ctrl_c(
        "finishing the current batch and writing what is done (Ctrl-C again to quit)",
    )?;
    let out_dir = out.clone().unwrap_or_else(|| case.output.dir.clone());
    let observer = Arc::new(Terminal::new());
    let opts = RunOptions {
        backend,
        out_dir: out,
        observer: observer.clone(),
        stop,
        existing,
        ..Default::default()
    };
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
