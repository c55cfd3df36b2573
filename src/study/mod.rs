//! Batch studies: a study file varies a base case or plan (a grid, zipped lists, random or
//! Latin-hypercube draws, or an uncertainty section), runs every case in its own folder
//! `OUT/runs/<index>-<short case hash>/` on this machine (N at a time) or as a Slurm job array, skips
//! the runs already complete on the next call, and collects one table (`study.csv`), the
//! uncertainty bands (`uncertainty.csv`) and `report.html`.

mod design;
mod report;
pub mod slurm;
mod spec;
mod table;

pub use design::{Parameter, Setter, draw, number_at, set_path};
pub use spec::{Design, Distribution, ParameterSpec, StudySpec, UncertaintySpec};
use table::cell as table_cell;
pub use table::{Band, Row, StudyTable, collect};

use crate::case::Case;
use crate::error::{Error, Result};
use crate::gpu::BackendChoice;
use crate::identity::RunIdentity;
use crate::io::folder::{Existing, OutputFolder};
use crate::pipeline::{Event, Observer, RunOptions, Silent};
use crate::plan::Plan;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use toml::Value;

/// Default output folder of a study.
pub const DEFAULT_OUT: &str = "hemotwin-study";

/// A study with every run resolved: the case each one runs and its identity.
#[derive(Debug, Clone)]
pub struct Study {
    /// The study file (or its stand-in name).
    pub path: PathBuf,
    /// The study as written.
    pub spec: StudySpec,
    /// The varied inputs, in column order.
    pub parameters: Vec<Parameter>,
    /// Every run, by index.
    pub runs: Vec<StudyRun>,
    /// True for an uncertainty study (run 0 is the nominal case, the others samples).
    pub uncertainty: bool,
}

/// One run of a study.
#[derive(Debug, Clone)]
pub struct StudyRun {
    /// Index in the study (also the Slurm array index).
    pub index: usize,
    /// The value of each parameter (in [`Study::parameters`] order).
    pub values: Vec<Value>,
    /// What it runs, or why the case (plan) refuses its values (the run is then recorded as failed).
    pub job: std::result::Result<Job, String>,
    /// SHA-256 of its resolved case (plan) and input files (as in its summary.json).
    pub hash: String,
    /// Its folder's name under `OUT/runs/`: `<index>-<short hash>`.
    pub name: String,
}

/// What one run of a study runs.
#[derive(Debug, Clone)]
pub enum Job {
    /// A case (`hemotwin run`).
    Case(Box<Case>),
    /// A plan (`hemotwin plan`): its scenarios in sub-folders, plan.json beside them.
    Plan(Box<Plan>),
}

impl Job {
    /// The case it runs (a plan's base case).
    pub fn case(&self) -> &Case {
        match self {
            Job::Case(c) => c,
            Job::Plan(p) => &p.case,
        }
    }
}

/// Where a run stands, read from its folder.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Not run yet (or its folder holds another case).
    Pending,
    /// summary.json says complete, for this case.
    Complete,
    /// Stopped before its end (Ctrl-C, or killed with a checkpoint left): resumed next time.
    Interrupted,
    /// Ended with results that are not results: `diverged` or `invalid`, with the reasons.
    Unsound(String, String),
    /// Refused or failed before results: the error.
    Failed(String),
}

impl RunState {
    /// The status word of study.csv.
    pub fn word(&self) -> &str {
        match self {
            RunState::Pending => "pending",
            RunState::Complete => "complete",
            RunState::Interrupted => "interrupted",
            RunState::Unsound(status, _) => status,
            RunState::Failed(_) => "failed",
        }
    }

    /// What went wrong, empty when nothing did.
    pub fn reason(&self) -> &str {
        match self {
            RunState::Unsound(_, r) | RunState::Failed(r) => r,
            _ => "",
        }
    }
}

/// The file in a run's folder that records why it failed.
const FAILED_FILE: &str = "failed.txt";

impl Study {
    /// Reads and resolves a study file.
    pub fn load(path: &Path) -> Result<Study> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Study::from_toml(&text, path, path.parent().unwrap_or(Path::new(".")))
    }

    /// Resolves a study from TOML text; `origin` names it in errors, relative paths are taken from
    /// `folder`.
    pub fn from_toml(text: &str, origin: &Path, folder: &Path) -> Result<Study> {
        let spec: StudySpec =
            toml::from_str(text).map_err(|e| Error::input(origin, format!("invalid study file: {e}")))?;
        let (base_path, is_plan) = match (&spec.case, &spec.plan) {
            (Some(c), None) => (folder.join(c), false),
            (None, Some(p)) => (folder.join(p), true),
            _ => {
                return Err(Error::input(
                    origin,
                    "give `case` (a case file) or `plan` (a plan file), one of them",
                ));
            }
        };
        let base_text = std::fs::read_to_string(&base_path).map_err(|e| Error::io(&base_path, e))?;
        let base: Value = Value::Table(
            base_text
                .parse::<toml::Table>()
                .map_err(|e| Error::input(&base_path, format!("invalid TOML: {e}")))?,
        );
        let base_folder = base_path.parent().unwrap_or(Path::new(".")).to_path_buf();
        // The base must stand on its own: a study of a broken case or plan fails at once.
        job_of(&base_text, &base_path, &base_folder, is_plan)?;
        if is_plan && spec.uncertainty.is_some() {
            return Err(Error::input(
                origin,
                "[uncertainty] takes a base `case`; vary a plan with [[parameter]]s",
            ));
        }
        let in_study = |e: Error| Error::input(origin, e.to_string());
        let (parameters, rows, uncertainty) = match (&spec.uncertainty, spec.parameters.is_empty()) {
            (Some(_), false) => {
                return Err(Error::input(
                    origin,
                    "give either [[parameter]] tables or an [uncertainty] section, not both (two studies)",
                ));
            }
            (Some(u), true) => {
                let parameters = uncertainty_parameters(u, &base).map_err(in_study)?;
                let mut rows = vec![parameters.iter().map(|p| nominal(p, &base)).collect()];
                rows.extend(draw(Design::Lhs, &parameters, Some(u.samples), spec.seed).map_err(in_study)?);
                (parameters, rows, true)
            }
            (None, true) => {
                return Err(Error::input(origin, "no [[parameter]] and no [uncertainty]: nothing varies"));
            }
            (None, false) => {
                let parameters: Vec<Parameter> = spec
                    .parameters
                    .iter()
                    .map(|p| Parameter {
                        name: p.path.clone(),
                        setter: Setter::Path(p.path.clone()),
                        values: p.values.clone(),
                        distribution: p.distribution,
                    })
                    .collect();
                let rows = draw(spec.design, &parameters, spec.samples, spec.seed).map_err(in_study)?;
                (parameters, rows, false)
            }
        };
        // A run whose values the case refuses is recorded as failed, the others run; when every run
        // is refused the study is (a parameter path or value wrong for them all).
        let runs: Vec<StudyRun> = rows
            .into_iter()
            .enumerate()
            .map(|(index, values)| {
                let job = resolve(&base, &parameters, &values, folder, &base_folder, is_plan).map_err(|e| {
                    format!("the {} refuses these values: {e}", if is_plan { "plan" } else { "case" })
                });
                let hash = match &job {
                    Ok(Job::Case(case)) => RunIdentity::of(case, None)?.case_hash,
                    Ok(Job::Plan(plan)) => {
                        let edits =
                            serde_json::to_value(plan.scenarios.iter().map(|s| &s.2).collect::<Vec<_>>())
                                .map_err(|e| Error::parameter("plan", e.to_string()))?;
                        let plan_json = serde_json::json!([plan.branch, edits, plan.high_tawss_pa]);
                        RunIdentity::of(&plan.case, Some(("plan", plan_json)))?.case_hash
                    }
                    Err(_) => {
                        crate::identity::hex(&sha2::Sha256::digest(describe(&parameters, &values).as_bytes()))
                    }
                };
                let name = format!("{index:04}-{}", &hash[..12]);
                Ok(StudyRun { index, values, job, hash, name })
            })
            .collect::<Result<_>>()?;
        if let Some(Err(first)) = runs.first().map(|r| &r.job)
            && runs.iter().all(|r| r.job.is_err())
        {
            return Err(Error::input(
                origin,
                format!("run 0 ({}): {first}", describe(&parameters, &runs[0].values)),
            ));
        }
        Ok(Study { path: origin.to_path_buf(), spec, parameters, runs, uncertainty })
    }

    /// The study's output folder: `out`, else the study's `out`, else [`DEFAULT_OUT`].
    pub fn out_dir(&self, out: Option<&Path>) -> PathBuf {
        out.map(Path::to_path_buf)
            .or_else(|| self.spec.out.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT))
    }

    /// The folder of run `run` under `out`.
    pub fn run_dir(&self, out: &Path, run: &StudyRun) -> PathBuf {
        out.join("runs").join(&run.name)
    }

    /// Where run `run` stands in `out`.
    pub fn state(&self, out: &Path, run: &StudyRun) -> RunState {
        self.state_from(out, run, self.record(out, run).as_ref())
    }

    /// The record run `run` ends with in `out`, when there is one: a case's summary.json (of this
    /// case hash), a plan's plan.json (the folder, named by the plan's hash, is its identity).
    pub(crate) fn record(&self, out: &Path, run: &StudyRun) -> Option<serde_json::Value> {
        let dir = self.run_dir(out, run);
        match &run.job {
            Ok(Job::Plan(_)) => read_json(&dir.join("plan.json")),
            _ => read_json(&dir.join("summary.json")).filter(|s| s["case_hash"] == run.hash.as_str()),
        }
    }

    /// Where run `run` stands in `out`, given its `record` (see [`Study::record`]).
    pub(crate) fn state_from(
        &self,
        out: &Path,
        run: &StudyRun,
        record: Option<&serde_json::Value>,
    ) -> RunState {
        let dir = self.run_dir(out, run);
        let plan = match &run.job {
            Err(e) => return RunState::Failed(e.clone()),
            Ok(job) => matches!(job, Job::Plan(_)),
        };
        if let Ok(error) = std::fs::read_to_string(dir.join(FAILED_FILE)) {
            return RunState::Failed(error.trim().to_string());
        }
        if plan {
            return plan_state(&dir, record);
        }
        match record {
            Some(s) => match s["status"].as_str() {
                Some("complete") => RunState::Complete,
                Some("interrupted") => RunState::Interrupted,
                Some(other) => RunState::Unsound(other.to_string(), reasons(s)),
                None => RunState::Pending,
            },
            None if dir.join("checkpoint.bin").exists() => RunState::Interrupted,
            None => RunState::Pending,
        }
    }

    /// The indices of the runs not complete in `out`.
    pub fn unfinished(&self, out: &Path) -> Vec<usize> {
        self.runs.iter().filter(|r| self.state(out, r) != RunState::Complete).map(|r| r.index).collect()
    }
}

/// A JSON file's content, when it reads.
pub(crate) fn read_json(path: &Path) -> Option<serde_json::Value> {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

/// The `status_reasons` of a summary, joined.
fn reasons(summary: &serde_json::Value) -> String {
    summary["status_reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("; "))
        .unwrap_or_default()
}

/// Where a plan run stands in `dir`, given its `plan` json: complete when it says every scenario
/// is; interrupted when, without it, a scenario left a checkpoint.
fn plan_state(dir: &Path, plan: Option<&serde_json::Value>) -> RunState {
    match plan {
        Some(plan) => {
            let scenarios = plan["scenarios"].as_array().cloned().unwrap_or_default();
            let unsound: Vec<String> = scenarios
                .iter()
                .filter(|s| s["status"] != "complete")
                .map(|s| {
                    let name = s["name"].as_str().unwrap_or("?");
                    let why = read_json(&dir.join(name).join("summary.json"))
                        .map(|x| reasons(&x))
                        .unwrap_or_default();
                    format!("scenario {name} {}: {why}", s["status"].as_str().unwrap_or("?"))
                })
                .collect();
            if unsound.is_empty() && !scenarios.is_empty() {
                RunState::Complete
            } else {
                RunState::Unsound("invalid".into(), unsound.join("; "))
            }
        }
        None => {
            let interrupted = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| e.path().join("checkpoint.bin").exists());
            if interrupted { RunState::Interrupted } else { RunState::Pending }
        }
    }
}

/// The case (`is_plan`: the plan) of `text` read from `origin`, relative paths from `folder`.
fn job_of(text: &str, origin: &Path, folder: &Path, is_plan: bool) -> Result<Job> {
    Ok(if is_plan {
        Job::Plan(Box::new(Plan::from_toml(text, origin, folder)?))
    } else {
        Job::Case(Box::new(Case::from_toml_in(text, origin, folder)?))
    })
}

/// The parameters of an uncertainty study over `base` (a case as TOML).
fn uncertainty_parameters(u: &UncertaintySpec, base: &Value) -> Result<Vec<Parameter>> {
    use spec::Distribution::Uniform;
    let range = |name: &str, [low, high]: [f64; 2]| {
        if low.is_finite() && high.is_finite() && 0.0 < low && low <= high {
            Ok(Uniform { low, high })
        } else {
            Err(Error::parameter(format!("uncertainty.{name}"), "give [low, high] with 0 < low <= high"))
        }
    };
    let mut parameters = Vec::new();
    if let Some(a) = u.lumen_offset {
        if !(a.is_finite() && a > 0.0) {
            return Err(Error::parameter(
                "uncertainty.lumen_offset",
                "give a positive length (geometry units)",
            ));
        }
        parameters.push(Parameter {
            name: "lumen_offset".into(),
            setter: Setter::Path("geometry.offset".into()),
            values: None,
            distribution: Some(Uniform { low: -a, high: a }),
        });
    }
    if let Some(r) = u.inflow_scale {
        if number_at(base, "inflow.flow_rate").is_none() {
            return Err(Error::parameter(
                "uncertainty.inflow_scale",
                "the base case has no inflow.flow_rate to scale",
            ));
        }
        parameters.push(Parameter {
            name: "inflow_scale".into(),
            setter: Setter::Scale(vec!["inflow.flow_rate".into()]),
            values: None,
            distribution: Some(range("inflow_scale", r)?),
        });
    }
    if let Some(r) = u.outlet_resistance_scale {
        let outlets = base.get("outlets").and_then(Value::as_array).map_or(0, Vec::len);
        let paths: Vec<String> = (0..outlets)
            .flat_map(|k| ["resistance", "proximal", "distal"].map(|f| format!("outlets.{k}.{f}")))
            .filter(|p| number_at(base, p).is_some())
            .collect();
        if paths.is_empty() {
            return Err(Error::parameter(
                "uncertainty.outlet_resistance_scale",
                "the base case has no outlet resistances ([[outlets]] resistance, proximal or distal) to scale",
            ));
        }
        parameters.push(Parameter {
            name: "outlet_resistance_scale".into(),
            setter: Setter::Scale(paths),
            values: None,
            distribution: Some(range("outlet_resistance_scale", r)?),
        });
    }
    if let Some(models) = &u.rheology {
        if models.is_empty() {
            return Err(Error::parameter("uncertainty.rheology", "give at least one model"));
        }
        parameters.push(Parameter {
            name: "rheology".into(),
            setter: Setter::Path("fluid.rheology".into()),
            values: Some(models.iter().map(|m| Value::String(m.clone())).collect()),
            distribution: None,
        });
    }
    if parameters.is_empty() {
        return Err(Error::parameter(
            "uncertainty",
            "names no input: give lumen_offset, inflow_scale, outlet_resistance_scale or rheology",
        ));
    }
    if u.samples < 2 {
        return Err(Error::parameter(
            "uncertainty.samples",
            "give at least 2 samples (16 or more for a band)",
        ));
    }
    Ok(parameters)
}

/// The value of `p` in the base case itself: no offset, a factor of 1, the base rheology.
fn nominal(p: &Parameter, base: &Value) -> Value {
    match &p.setter {
        Setter::Scale(_) => Value::Float(1.0),
        Setter::Path(path) if path == "fluid.rheology" => Value::String(
            base.get("fluid")
                .and_then(|f| f.get("rheology"))
                .and_then(Value::as_str)
                .unwrap_or("newtonian")
                .to_string(),
        ),
        Setter::Path(_) => Value::Float(0.0),
    }
}

/// The base case or plan with `values` set: paths given relative to the study file are made
/// absolute.
fn resolve(
    base: &Value,
    parameters: &[Parameter],
    values: &[Value],
    folder: &Path,
    base_folder: &Path,
    is_plan: bool,
) -> Result<Job> {
    let mut table = base.clone();
    for (p, v) in parameters.iter().zip(values) {
        match &p.setter {
            Setter::Path(path) => {
                let v = match v {
                    Value::String(s)
                        if (path.ends_with("geometry.surface")
                            || path.ends_with("inflow.waveform")
                            || path == "case")
                            && !crate::physiology::BUILTIN.contains(&s.as_str())
                            && Path::new(s).is_relative() =>
                    {
                        Value::String(folder.join(s).display().to_string())
                    }
                    v => v.clone(),
                };
                set_path(&mut table, path, v)?;
            }
            Setter::Scale(paths) => {
                let factor = v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN);
                for path in paths {
                    let x = number_at(base, path).unwrap_or(f64::NAN);
                    set_path(&mut table, path, Value::Float(x * factor))?;
                }
            }
        }
    }
    let text =
        toml::to_string(&table).map_err(|e| Error::parameter("case", format!("cannot be written: {e}")))?;
    job_of(&text, Path::new("these values"), base_folder, is_plan)
}

/// `name = value, ...` of one run's parameters.
pub fn describe(parameters: &[Parameter], values: &[Value]) -> String {
    parameters
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{} = {}", p.name, table_cell(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a study runs on this machine.
#[derive(Clone)]
pub struct StudyOptions {
    /// The study's output folder.
    pub out_dir: PathBuf,
    /// Runs at a time: the CPU threads are divided between them, and the k-th runs on the k-th GPU
    /// where there are several.
    pub parallel: usize,
    /// Overrides every case's backend.
    pub backend: Option<BackendChoice>,
    /// Hears the study's events ([`Event::StudyRun`] after each run).
    pub observer: Arc<dyn Observer>,
    /// Set to true (e.g. by Ctrl-C) to stop the runs in flight (they keep a checkpoint) and start
    /// no more.
    pub stop: Arc<AtomicBool>,
}

impl StudyOptions {
    /// Options for `out_dir`, one run at a time, silent.
    pub fn new(out_dir: PathBuf) -> Self {
        StudyOptions {
            out_dir,
            parallel: 1,
            backend: None,
            observer: Arc::new(Silent),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Runs run `index` of `study` into its folder under `out` (resuming an interrupted one, replacing
/// a failed or unsound one), recording a failure in its folder; returns its state after.
pub fn run_one(study: &Study, index: usize, opts: &StudyOptions) -> Result<RunState> {
    let run = study.runs.get(index).ok_or_else(|| {
        Error::parameter("--index", format!("the study has runs 0 to {}", study.runs.len().saturating_sub(1)))
    })?;
    let out = &opts.out_dir;
    let dir = study.run_dir(out, run);
    let job = match &run.job {
        Ok(job) => job,
        Err(e) => return Ok(RunState::Failed(e.clone())),
    };
    let existing = match study.state(out, run) {
        RunState::Complete => return Ok(RunState::Complete),
        RunState::Interrupted => Existing::Resume,
        _ => Existing::Overwrite,
    };
    remove_failure(&dir)?;
    let run_opts = RunOptions {
        backend: opts.backend,
        out_dir: Some(dir.clone()),
        observer: Arc::new(Silent),
        stop: opts.stop.clone(),
        existing,
        edits: None,
    };
    let ran = match job {
        Job::Case(case) => crate::pipeline::run(case, &run_opts).map(|_| ()),
        Job::Plan(plan) => crate::plan::run_plan(plan, &run_opts).map(|_| ()),
    };
    match ran {
        Ok(()) | Err(Error::Diverged(_)) => Ok(study.state(out, run)),
        // Another process holds this run: not a failure of the run.
        Err(e @ Error::Folder { .. }) => Err(e),
        Err(e) => {
            std::fs::create_dir_all(&dir).map_err(|err| Error::io(&dir, err))?;
            crate::atomic::write_bytes_atomic(&dir.join(FAILED_FILE), format!("{e}\n").as_bytes())?;
            Ok(RunState::Failed(e.to_string()))
        }
    }
}

/// Removes the failure record of a run about to run again.
fn remove_failure(dir: &Path) -> Result<()> {
    match std::fs::remove_file(dir.join(FAILED_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(dir.join(FAILED_FILE), e)),
        _ => Ok(()),
    }
}

/// Runs every run of `study` not yet complete, `opts.parallel` at a time, rewriting study.csv as
/// each ends; then writes study.csv, uncertainty.csv (an uncertainty study) and report.html.
pub fn run_study(study: &Study, opts: &StudyOptions) -> Result<StudyTable> {
    let out = &opts.out_dir;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    // One study process per folder (runs of a Slurm array take their own runs' locks only).
    let (_lock, _) = OutputFolder::claim(out, Existing::Resume, |_| false)?;
    let todo = study.unfinished(out);
    let total = study.runs.len();
    let done = AtomicUsize::new(total - todo.len());
    opts.observer.event(&Event::Info(&format!(
        "study: {total} runs, {} complete already, {} to run, {} at a time",
        total - todo.len(),
        todo.len(),
        opts.parallel.max(1)
    )));
    let queue = Mutex::new(todo.into_iter());
    let threads = (rayon::current_num_threads() / opts.parallel.max(1)).max(1);
    let pools = (0..opts.parallel.max(1))
        .map(|_| rayon::ThreadPoolBuilder::new().num_threads(threads).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::parameter("parallel", format!("cannot start the runs' threads: {e}")))?;
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let collect_lock = Mutex::new(());
    std::thread::scope(|scope| {
        for (slot, pool) in pools.iter().enumerate() {
            let (queue, done, first_error, collect_lock) = (&queue, &done, &first_error, &collect_lock);
            scope.spawn(move || {
                loop {
                    if opts.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some(index) = next else { return };
                    // The worker's runs on its own GPU where there are several.
                    let state = pool.install(|| crate::gpu::on_adapter(slot, || run_one(study, index, opts)));
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    let line = match &state {
                        Ok(s) => format!(
                            "run {index} ({}): {}{}",
                            describe(&study.parameters, &study.runs[index].values),
                            s.word(),
                            if s.reason().is_empty() { String::new() } else { format!(": {}", s.reason()) }
                        ),
                        Err(e) => format!("run {index}: not run: {e}"),
                    };
                    opts.observer.event(&Event::StudyRun { done: n, total, line: &line });
                    if let Ok(_guard) = collect_lock.lock()
                        && let Err(e) = collect(study, out)
                        && let Ok(mut f) = first_error.lock()
                    {
                        f.get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    collect(study, out)
}

/// What a run will need, estimated before it runs.
#[derive(Debug, Clone)]
pub struct RunEstimate {
    /// Run index.
    pub index: usize,
    /// Fluid cells of its lattice.
    pub fluid_cells: usize,
    /// Memory of its lattice on the host (bytes).
    pub memory_bytes: f64,
    /// Steps it will do at most.
    pub steps: u64,
    /// Seconds of time loop at this machine's CPU throughput (a GPU runs faster).
    pub seconds: f64,
}

/// Prepares (voxelizes) every run of `study` not complete in `out` and estimates its memory and
/// time at `mlups` (e.g. [`crate::bench::cpu_calibration_mlups`]); a run whose set-up fails gives
/// its error.
pub fn estimate(study: &Study, out: &Path, mlups: f64) -> Vec<(usize, Result<RunEstimate>)> {
    study
        .unfinished(out)
        .into_iter()
        .map(|index| {
            let estimate =
                study.runs[index].job.as_ref().map_err(|e| Error::parameter("case", e.clone())).and_then(
                    |job| {
                        let case = job.case();
                        let setup = crate::pipeline::prepare(case)?;
                        let scenarios = match job {
                            Job::Plan(p) => p.scenarios.len() as u64,
                            Job::Case(_) => 1,
                        };
                        let steps =
                            scenarios * crate::pipeline::planned_steps(case, &setup.units, &setup.inflow)?;
                        let cells = setup.lattice.len();
                        Ok(RunEstimate {
                            index,
                            fluid_cells: cells,
                            memory_bytes: setup.lattice.bytes_per_cell() * cells as f64,
                            steps,
                            seconds: cells as f64 * steps as f64 / (mlups * 1e6),
                        })
                    },
                );
            (index, estimate)
        })
        .collect()
}
