//! `hemotwin study`: many cases from one study file, here or as a Slurm job array.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hemotwin::gpu::BackendChoice;
use hemotwin::pipeline::{Event, Observer};
use hemotwin::study::slurm::{SlurmOptions, submit, write_scripts};
use hemotwin::study::{Study, StudyOptions, StudyTable, collect, describe, estimate, run_one, run_study};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Exit status of a study with runs that failed or are not valid (study.csv says which).
pub const EXIT_RUNS_NOT_COMPLETE: i32 = 5;
/// Exit status of a study stopped by Ctrl-C (runs in flight keep their checkpoints).
pub const EXIT_INTERRUPTED: i32 = 4;

/// `hemotwin study STUDY.toml`, or one of its steps.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StudyArgs {
    #[command(subcommand)]
    action: Option<StudyAction>,
    #[command(flatten)]
    run: StudyRunArgs,
}

/// Running a whole study.
#[derive(Args)]
struct StudyRunArgs {
    /// The study file (TOML; see meshes/study_grid.toml).
    study: Option<PathBuf>,
    /// Output folder (default: the study's `out`, else hemotwin-study).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs at a time on this machine (default: the study's `parallel`, else 1); the CPU threads are
    /// divided between them.
    #[arg(long)]
    parallel: Option<usize>,
    /// Backend of every run: auto, gpu or cpu (default: each case's run.backend).
    #[arg(long)]
    backend: Option<BackendChoice>,
    /// List the runs with each one's estimated memory and time, and run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write and submit a Slurm job array (one task per unfinished run) and a collect job.
    #[arg(long)]
    slurm: bool,
    /// With --slurm: write the scripts only (OUT/slurm/submit.sh submits them).
    #[arg(long, requires = "slurm")]
    no_submit: bool,
    /// With --slurm: the partition.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// With --slurm: each task's time limit, e.g. 02:00:00.
    #[arg(long, requires = "slurm")]
    time: Option<String>,
    /// With --slurm: GPUs per task.
    #[arg(long, requires = "slurm")]
    gpus_per_task: Option<u32>,
    /// With --slurm: CPU cores per task.
    #[arg(long, requires = "slurm")]
    cpus_per_task: Option<u32>,
    /// With --slurm: tasks running at once.
    #[arg(long, requires = "slurm")]
    max_parallel: Option<usize>,
}

/// The steps of a study a Slurm job runs.
#[derive(Subcommand)]
enum StudyAction {
    /// Run one run of a study (a Slurm array task): skipped when complete, resumed when interrupted.
    RunOne {
        /// The study file.
        study: PathBuf,
        /// The run's index (e.g. $SLURM_ARRAY_TASK_ID).
        #[arg(long)]
        index: usize,
        /// Output folder of the study.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend: auto, gpu or cpu.
        #[arg(long)]
        backend: Option<BackendChoice>,
    },
    /// Collect the runs' results into study.csv, uncertainty.csv and report.html.
    Collect {
        /// The study file.
        study: PathBuf,
        /// Output folder of the study.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The study's observer: one bar of runs with its ETA, a line per finished run.
struct StudyTerminal {
    bar: indicatif::ProgressBar,
}

impl Observer for StudyTerminal {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Info(line) => self.bar.suspend(|| eprintln!("{line}")),
            Event::StudyRun { done, total, line } => {
                self.bar.set_length(*total as u64);
                self.bar.set_position(*done as u64);
                self.bar.suspend(|| eprintln!("[{done}/{total}] {line}"));
            }
            _ => {}
        }
    }
}

/// Runs `hemotwin study`; returns the exit status.
pub fn study(args: StudyArgs) -> Result<i32> {
    match args.action {
        Some(StudyAction::RunOne { study, index, out, backend }) => {
            let loaded = Study::load(&study)?;
            let mut opts = StudyOptions::new(loaded.out_dir(out.as_deref()));
            opts.backend = backend;
            let state = run_one(&loaded, index, &opts)?;
            let run = &loaded.runs[index];
            println!("run {index} ({}): {}", describe(&loaded.parameters, &run.values), state.word());
            Ok(if state.word() == "complete" { 0 } else { EXIT_RUNS_NOT_COMPLETE })
        }
        Some(StudyAction::Collect { study, out }) => {
            let loaded = Study::load(&study)?;
            let table = collect(&loaded, &loaded.out_dir(out.as_deref()))?;
            Ok(print_summary(&loaded, &table, &loaded.out_dir(out.as_deref())))
        }
        None => run_all(args.run),
    }
}

/// `hemotwin study STUDY.toml [...]`.
fn run_all(args: StudyRunArgs) -> Result<i32> {
    let path = args.study.context("give the study file: hemotwin study STUDY.toml")?;
    let loaded = Study::load(&path)?;
    let out = loaded.out_dir(args.out.as_deref());
    if args.dry_run {
        let mlups = hemotwin::bench::cpu_calibration_mlups(
            loaded
                .runs
                .iter()
                .find_map(|r| r.job.as_ref().ok().map(hemotwin::study::Job::case))
                .map(|c| c.lattice.collision)
                .unwrap_or_default(),
        )?;
        println!("{} runs; this machine's CPU: {mlups:.0} MLUPS", loaded.runs.len());
        let (mut memory, mut seconds) = (0.0f64, 0.0);
        for (index, e) in estimate(&loaded, &out, mlups) {
            let params = describe(&loaded.parameters, &loaded.runs[index].values);
            match e {
                Ok(e) => {
                    println!(
                        "run {index} ({params}): {} fluid cells, {:.1} MiB, {} steps, about {:.1} s on the CPU",
                        e.fluid_cells,
                        e.memory_bytes / 1024f64.powi(2),
                        e.steps,
                        e.seconds
                    );
                    memory = memory.max(e.memory_bytes);
                    seconds += e.seconds;
                }
                Err(e) => println!("run {index} ({params}): would fail: {e}"),
            }
        }
        let done = loaded.runs.len() - loaded.unfinished(&out).len();
        println!(
            "{done} complete already; the rest: about {seconds:.0} s of CPU time loop in all, at most {:.1} MiB each",
            memory / 1024f64.powi(2)
        );
        return Ok(0);
    }
    if args.slurm {
        let binary = std::env::current_exe().context("finding the hemotwin executable for the tasks")?;
        let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let opts = SlurmOptions {
            partition: args.partition,
            time: args.time,
            gpus_per_task: args.gpus_per_task,
            cpus_per_task: args.cpus_per_task,
            max_parallel: args.max_parallel,
        };
        let out = absolute(&out);
        let scripts = write_scripts(&loaded, &absolute(&path), &out, &binary, &opts)?;
        if scripts.indices.is_empty() {
            println!("every run is complete: nothing to submit");
            collect(&loaded, &out)?;
            return Ok(0);
        }
        println!("{} runs to submit; scripts in {}", scripts.indices.len(), out.join("slurm").display());
        if args.no_submit {
            println!("submit with: bash {}", scripts.submit.display());
        } else {
            let (array, collect_job) = submit(&scripts)?;
            println!("submitted: array job {array}, collect job {collect_job} (after the array)");
        }
        return Ok(0);
    }
    let stop = super::terminal::stop_on_ctrl_c(
        "the runs in flight write their checkpoints; the same command resumes them (Ctrl-C again to quit)",
    )?;
    let bar = indicatif::ProgressBar::new(loaded.runs.len() as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, ~{eta} left")
    {
        bar.set_style(style);
    }
    let opts = StudyOptions {
        out_dir: out.clone(),
        parallel: args.parallel.or(loaded.spec.parallel).unwrap_or(1),
        backend: args.backend,
        observer: Arc::new(StudyTerminal { bar: bar.clone() }),
        stop: stop.clone(),
    };
    let table = run_study(&loaded, &opts);
    bar.finish_and_clear();
    let table = table?;
    let code = print_summary(&loaded, &table, &out);
    Ok(if stop.load(Ordering::SeqCst) { EXIT_INTERRUPTED } else { code })
}

/// Prints the runs by status, each failure, and where the table is; the exit status it means.
fn print_summary(study: &Study, table: &StudyTable, out: &std::path::Path) -> i32 {
    let counts = table.counts();
    println!(
        "study: {} runs: {}",
        table.rows.len(),
        counts.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
    );
    for r in table.rows.iter().filter(|r| r.status != "complete") {
        println!(
            "  run {} ({}): {}{}",
            r.index,
            describe(&study.parameters, &study.runs[r.index].values),
            r.status,
            if r.reason.is_empty() { String::new() } else { format!(": {}", r.reason) }
        );
    }
    for b in &table.bands {
        println!(
            "  {}: nominal {:.4}, mean {:.4}, 5-95% [{:.4}, {:.4}] over {} samples",
            b.output, b.nominal, b.mean, b.p5, b.p95, b.samples
        );
    }
    println!("results: {}/study.csv and report.html", out.display());
    if counts.iter().all(|(s, _)| s == "complete") { 0 } else { EXIT_RUNS_NOT_COMPLETE }
}
