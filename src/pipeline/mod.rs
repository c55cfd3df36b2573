//! The run as stages, each a library call that keeps its results in memory:
//!
//! 1. [`prepare`]: case -> vessel -> lattice parameters -> fluid lattice ([`Setup`]);
//! 2. [`FlowRun`]: the flow, stepped by the caller (`advance`), read at any time, checkpointed and
//!    resumed, finished into a [`FlowResult`] (vessel, centerlines, wall fields, port table);
//! 3. [`wall_after_flow`]: the wall mechanics under the flow's lumen pressure ([`WallResult`]);
//! 4. [`run`]: the whole chain with its output files (frames, wall.vtp, ports.csv, wall_fe.vtu and
//!    one summary.json), as `hemotwin run` does it; [`write_flow_outputs`] writes a finished flow's.
//!
//! The library never prints: progress and notes go to an [`Observer`].

mod coupling;
mod divergence;
mod flow;
mod observer;
mod outlets;
mod result;
mod setup;
pub mod summary;
mod wall;

pub use coupling::{CouplingIteration, CouplingSummary};
pub use divergence::{DIVERGENCE_CHECK_STEPS, Divergence, relative_change};
pub use flow::{FlowRun, PortSample, clipped_cells, port_section, ramp};
pub use observer::{Event, Observer, Silent};
pub use outlets::OutletCoupling;
pub use result::{FlowResult, MAX_MASS_ERROR};
pub use setup::{
    Setup, available_memory, inflow_of, lattice_estimate, load_vessel, planned_steps, prepare,
    prepare_observed, prepare_vessel_flow,
};
pub use summary::Summary;
pub use wall::{
    Unloaded, WallLoad, WallResult, flow_axis, solve_wall, wall_after_flow, wall_alone, wall_geometry,
};

use crate::case::Case;
use crate::error::{Error, Result};
use crate::fem::write_wall_vtu;
use crate::geometry::vessel::Vessel;
use crate::gpu::BackendChoice;
use crate::identity::RunIdentity;
use crate::io::folder::{Existing, OutputFolder, is_run_file};
use crate::io::outputs::{
    CenterlineField, LumenSurface, frame_name, keep_frames_until, write_centerlines, write_json,
    write_surfaces,
};
use crate::io::vtk::{PointField, PvdEntry};
use crate::lattice::{Centerline, PortRole};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Options of a run that are not part of the case.
#[derive(Clone)]
pub struct RunOptions {
    /// Overrides the case's backend.
    pub backend: Option<BackendChoice>,
    /// Overrides the case's output folder.
    pub out_dir: Option<PathBuf>,
    /// Hears the run's progress and notes (default: [`Silent`]).
    pub observer: Arc<dyn Observer>,
    /// Set to true (e.g. by Ctrl-C) to stop after the current batch, writing what is done.
    pub stop: Arc<AtomicBool>,
    /// What to do when the output folder holds another run's results: refuse (default),
    /// overwrite them, or resume that run from its checkpoint.bin.
    pub existing: Existing,
    /// What the run is beyond its case (e.g. a plan's edits of the vessel): part of its identity.
    pub edits: Option<serde_json::Value>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            backend: None,
            out_dir: None,
            observer: Arc::new(Silent),
            stop: Arc::new(AtomicBool::new(false)),
            existing: Existing::Refuse,
            edits: None,
        }
    }
}

/// A whole run: summary.json's figures (flow and wall), the flow and the wall in memory.
pub struct RunResult {
    /// The figures written to summary.json.
    pub summary: Summary,
    /// The flow.
    pub flow: FlowResult,
    /// The wall, when the case has a `[wall]` and the flow ran to its end.
    pub wall: Option<WallResult>,
}

impl std::fmt::Debug for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunResult").field("summary", &self.summary).finish_non_exhaustive()
    }
}

/// Runs `case` into its output folder: frames (fluid.pvd + fluid_NNNNNNNN.vti), ports.csv and
/// checkpoint.bin as it goes; then the flow's files ([`write_flow_outputs`]: wall.vtp, ports.vtp,
/// centerline.vtp), the wall (wall_fe.vtu) when the case has one, and summary.json once, flow and
/// wall together (the flow's alone when the wall fails).
pub fn run(case: &Case, opts: &RunOptions) -> Result<RunResult> {
    run_prepared(case, prepare_observed(case, opts.observer.as_ref())?, opts)
}

/// [`run`] on a prepared `setup` (e.g. of an edited vessel); with the wall answering back when the
/// case asks (`[wall.coupling]`).
pub fn run_prepared(case: &Case, setup: Setup, opts: &RunOptions) -> Result<RunResult> {
    let out_dir = opts.out_dir.clone().unwrap_or_else(|| case.output.dir.clone());
    // Held until the run returns: no second run writes into this folder meanwhile.
    let _folder = OutputFolder::claim(&out_dir, opts.existing, is_run_file)?;
    match case.wall.as_ref().and_then(|w| w.coupling) {
        Some(spec) => coupling::run_coupled(case, setup, opts, &out_dir, spec),
        None => run_in_folder(case, setup, opts, &out_dir, None),
    }
}

/// The flow of `setup` and then the wall into the claimed folder `out_dir`; the wall built on
/// `unloaded` when the flow's lumen is a displaced one.
fn run_in_folder(
    case: &Case,
    setup: Setup,
    opts: &RunOptions,
    out_dir: &Path,
    unloaded: Option<Unloaded<'_>>,
) -> Result<RunResult> {
    let out_dir = out_dir.to_path_buf();
    let mut flow = FlowRun::from_setup(case, setup, opts)?;
    let checkpoint = out_dir.join("checkpoint.bin");
    let resume = opts.existing == Existing::Resume && checkpoint.exists();
    if opts.existing == Existing::Resume && !resume {
        let line = format!("no checkpoint in {}: starting from rest", out_dir.display());
        opts.observer.event(&Event::Info(&line));
    }
    // A resumed run keeps the frames up to its checkpoint; later ones are written anew.
    let at = if resume { flow.resume(&out_dir)? } else { 0 };
    let mut frames = keep_frames_until(&out_dir, at, flow.units().dt_s)?;
    write_case_toml(&out_dir, case, flow.identity())?;
    write_lumen(&out_dir, flow.vessel(), Vec::new())?;
    write_centerline_vtp(&out_dir, flow.centerlines())?;
    let total = flow.total_steps();
    opts.observer.event(&Event::Started { step: flow.steps_done(), total });
    let frame_every = (total / case.run.frames.max(1) as u64).max(1);
    let checkpoint_every = case.run.checkpoint_steps.unwrap_or(frame_every).max(1);
    let mut stopped = false;
    while !flow.done() {
        let batch = flow.next_batch();
        if let Err(e) = flow.advance(batch) {
            return Err(match flow.divergence().copied() {
                Some(d) => diverged(case, flow, &out_dir, d, frames.last()),
                None => e,
            });
        }
        let step = flow.steps_done();
        let crossed = |every: u64| step / every != (step - batch) / every;
        let stop = opts.stop.load(Ordering::SeqCst);
        if crossed(frame_every)
            || flow.done()
            || (stop && frames.last().map(|f| &f.file) != Some(&frame_name(step)))
        {
            flow.write_frame(&out_dir, &mut frames)?;
            flow.write_ports_csv(&out_dir)?;
        }
        // Only a state that passed the stability check becomes a checkpoint: a diverging run keeps
        // the last good one.
        if crossed(checkpoint_every) || flow.done() || stop {
            flow.write_checkpoint(&out_dir)?;
        }
        opts.observer.event(&Event::Progress { step, mlups: flow.mlups(), residual: flow.residual() });
        if stop {
            stopped = true;
            break;
        }
    }
    opts.observer.event(&Event::Finished);
    flow.write_ports_csv(&out_dir)?;
    let flow = flow.finish(stopped)?;
    // The flow's files first: they are kept even when the wall fails.
    write_flow_outputs(&out_dir, &flow)?;
    let mut summary = flow.summary.clone();
    let summary_path = out_dir.join("summary.json");
    let wall = match (&case.wall, summary.interrupted) {
        (Some(_), false) => {
            let backend = opts.backend.unwrap_or(case.run.backend);
            let solved =
                wall_after_flow(case, &flow, unloaded, backend, opts.observer.as_ref()).and_then(|wall| {
                    write_wall_vtu(&out_dir.join("wall_fe.vtu"), &wall.mesh, Some(&wall.solution.fields))?;
                    Ok(wall)
                });
            match solved {
                Ok(wall) => {
                    summary.wall_mechanics = Some(wall.solution.summary.clone());
                    Some(wall)
                }
                Err(e) => {
                    // The flow's figures are never lost to a failing wall.
                    write_json(&summary_path, &summary)?;
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    write_json(&summary_path, &summary)?;
    Ok(RunResult { summary, flow, wall })
}

/// The error of a run that diverged at `d`, after keeping what is sound: the port series up to the
/// last good batch and a summary.json with status "diverged" (frames and the checkpoint are
/// written only from checked states).
fn diverged(
    case: &Case,
    flow: FlowRun,
    out_dir: &Path,
    d: Divergence,
    last_frame: Option<&PvdEntry>,
) -> Error {
    let (vessel, units) = (flow.vessel().clone(), *flow.units());
    let ports = match flow.write_ports_csv(out_dir) {
        Err(e) => format!("ports.csv could not be kept ({e})"),
        Ok(()) => "ports.csv".to_string(),
    };
    let summary = match flow.finish(false).and_then(|f| write_json(&out_dir.join("summary.json"), &f.summary))
    {
        Err(e) => format!("summary.json could not be written ({e})"),
        Ok(()) => "summary.json (status \"diverged\")".to_string(),
    };
    let kept = match last_frame {
        Some(f) => format!(
            "the frames up to {} (t = {:.4e} s), {ports}, {summary} and the last checkpoint are intact",
            f.file, f.time
        ),
        None => {
            format!("no frame had been written yet; {ports} holds the steps before; {summary} is written")
        }
    };
    d.to_error(case, &vessel, &units, Some(&kept))
}

/// Writes `dir`/case.toml: `case` resolved (every default filled in, file paths absolute), which
/// `hemotwin run` reruns as it is.
fn write_case_toml(dir: &Path, case: &Case, identity: &RunIdentity) -> Result<()> {
    let mut resolved = case.clone();
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    resolved.geometry.surface = resolved.geometry.surface.as_deref().map(absolute);
    if let Some(w) = &resolved.inflow.waveform
        && !crate::physiology::BUILTIN.contains(&w.as_str())
    {
        resolved.inflow.waveform = Some(absolute(Path::new(w)).display().to_string());
    }
    resolved.output.dir = absolute(dir);
    let text = toml::to_string(&resolved)
        .map_err(|e| Error::parameter("case", format!("cannot be written as TOML: {e}")))?;
    let head = format!(
        "# The case of this run, resolved by hemotwin {} (case hash {}{}).\n# `hemotwin run case.toml --out OTHER` \
         runs it again.\n\n",
        env!("CARGO_PKG_VERSION"),
        identity.short_hash(),
        if identity.case.get("edits").is_some() { "; the vessel was edited: see treated.stl" } else { "" }
    );
    crate::atomic::write_bytes_atomic(&dir.join("case.toml"), format!("{head}{text}").as_bytes())
}

/// Writes the files of a finished flow into `dir`: wall.vtp with its wall fields (TAWSS, OSI, RRT,
/// pressures, WSS), ports.vtp and centerline.vtp (summary.json is written by the caller, once).
pub fn write_flow_outputs(dir: &Path, flow: &FlowResult) -> Result<()> {
    let fields = &flow.wall;
    let mut point_fields: Vec<PointField<'_>> = [
        ("tawss_pa", &fields.tawss_pa),
        ("osi", &fields.osi),
        ("rrt_per_pa", &fields.rrt_per_pa),
        ("pressure_pa", &fields.pressure_pa),
        ("pressure", &fields.pressure),
    ]
    .into_iter()
    .map(|(name, values)| PointField::Scalar { name, values })
    .collect();
    point_fields.push(PointField::Vector { name: "wss_pa", values: &fields.wss_pa });
    write_lumen(dir, &flow.vessel, point_fields)?;
    write_centerline_vtp(dir, &flow.lines)
}

/// Writes centerline.vtp of `lines` (nothing for no lines).
fn write_centerline_vtp(dir: &Path, lines: &[Centerline]) -> Result<()> {
    let fields: Vec<CenterlineField<'_>> = lines
        .iter()
        .map(|l| CenterlineField {
            points: &l.points,
            radius: &l.radius,
            abscissa: &l.abscissa,
            branch: l.outlet,
        })
        .collect();
    write_centerlines(dir, &fields)
}

/// Calls `write` with the lumen surface of `vessel`: port ids and flow-extension flags per
/// triangle, and the ports' names and roles.
fn with_lumen<R>(vessel: &Vessel, write: impl FnOnce(&LumenSurface<'_>) -> R) -> R {
    let port_id: Vec<i32> = vessel.tags.iter().map(|&t| t as i32 - 1).collect();
    let flow_extension: Vec<i32> = (0..port_id.len()).map(|t| vessel.extension.contains(&t) as i32).collect();
    let ports: Vec<(&str, &str)> = vessel
        .ports
        .iter()
        .zip(&vessel.roles)
        .map(|(p, r)| (p.name.as_str(), if *r == PortRole::Velocity { "inlet" } else { "outlet" }))
        .collect();
    write(&LumenSurface {
        surface: &vessel.surface,
        port_id: &port_id,
        flow_extension: &flow_extension,
        ports: &ports,
    })
}

/// Writes wall.vtp and ports.vtp of `vessel` with `point_fields`.
fn write_lumen(dir: &Path, vessel: &Vessel, point_fields: Vec<PointField<'_>>) -> Result<()> {
    with_lumen(vessel, |lumen| write_surfaces(dir, lumen, point_fields))
}

/// Writes `vessel`'s surface as one .vtp at `path`, with `port_id` and `flow_extension` per
/// triangle and the ports' names and roles (e.g. an edited vessel for inspection and reuse).
pub fn write_vessel_vtp(path: &Path, vessel: &Vessel) -> Result<()> {
    with_lumen(vessel, |lumen| {
        crate::io::vtk::write_vtp_with_ports(
            path,
            lumen.surface,
            &[("port_id", lumen.port_id), ("flow_extension", lumen.flow_extension)],
            Vec::new(),
            lumen.ports,
        )
    })
}

/// Solves the wall of `case` on its own (`hemotwin wall`) into `out`: wall_fe.vtu, and the peak
/// values under `wall_mechanics` in the folder's summary.json (kept, when a flow wrote it). Returns
/// the wall and the files written.
pub fn run_wall(
    case: &Case,
    pressure_file: Option<&Path>,
    out: &Path,
    backend: BackendChoice,
    observer: &dyn Observer,
) -> Result<(WallResult, Vec<PathBuf>)> {
    // The folder's flow results stay: the wall joins them (but no other run writes meanwhile).
    let _folder = OutputFolder::claim(out, Existing::Resume, is_run_file)?;
    let wall = wall_alone(case, pressure_file, backend, observer)?;
    let vtu = out.join("wall_fe.vtu");
    write_wall_vtu(&vtu, &wall.mesh, Some(&wall.solution.fields))?;
    let json = out.join("summary.json");
    let name = json.display().to_string();
    let mut summary = match std::fs::read_to_string(&json) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => {
                return Err(Error::parameter(
                    name,
                    "exists but is not a hemotwin summary: write the wall results to another folder",
                ));
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(Error::io(&json, e)),
    };
    let value =
        serde_json::to_value(&wall.solution.summary).map_err(|e| Error::parameter(&name, e.to_string()))?;
    summary.insert("wall_mechanics".to_owned(), value);
    write_json(&json, &serde_json::Value::Object(summary))?;
    Ok((wall, vec![vtu, json]))
}
