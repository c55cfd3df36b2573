//! The wall answering back (`[wall.coupling]`): a partitioned, cycle-mean flow-wall iteration.
//!
//! Each iteration runs the flow in the lumen as the wall last moved it, solves the wall (built
//! once more on the unloaded lumen) under the flow's lumen pressure beyond the unloaded one, and
//! moves the lumen towards the wall's displacement with Aitken's relaxation (Küttler and Wall
//! 2008). It stops once no lumen vertex moves by more than `tolerance` of its local radius. The
//! lattice spacing and time step of the first iteration are kept, so that the lattice follows the
//! lumen and nothing else changes between iterations. The output folder always holds the latest
//! whole iteration; summary.json's `coupling` tells their story.

use super::observer::{Event, Observer};
use super::result::FlowResult;
use super::setup::{Setup, prepare_vessel_flow};
use super::wall::{Unloaded, flow_axis};
use super::{RunOptions, RunResult, run_in_folder};
use crate::case::Case;
use crate::error::{Error, Result};
use crate::fem::{CouplingSpec, lumen_displacement, moved_ports, vertex_tags};
use crate::geometry::check::inspect;
use crate::geometry::vessel::Vessel;
use crate::io::folder::Existing;
use crate::io::outputs::write_json;
use nalgebra::Vector3;
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Passes events on to `inner`, each warning only the first time: every iteration sets the
/// vessel up again and would repeat them.
struct WarnOnce {
    inner: Arc<dyn Observer>,
    seen: Mutex<HashSet<String>>,
}

impl Observer for WarnOnce {
    fn event(&self, event: &Event<'_>) {
        if let Event::Warning(line) = event {
            let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !seen.insert((*line).to_string()) {
                return;
            }
        }
        self.inner.event(event);
    }
}

/// Largest Aitken factor taken: beyond, a nearly flat residual history would throw the lumen far.
const MAX_RELAXATION: f64 = 2.0;

/// The flow-wall coupling of a run (summary.json `coupling`).
#[derive(Debug, Clone, Serialize)]
pub struct CouplingSummary {
    /// Lumen pressure (Pa) under which the case's surface is the unloaded lumen.
    pub reference_pressure_pa: f64,
    /// Whether the last iteration moved no lumen vertex by more than `tolerance` of its radius.
    pub converged: bool,
    /// The tolerance: a move over the local radius.
    pub tolerance: f64,
    /// The iterations, in order; the folder's flow and wall are those of the last.
    pub iterations: Vec<CouplingIteration>,
}

/// One flow-wall iteration.
#[derive(Debug, Clone, Serialize)]
pub struct CouplingIteration {
    /// Largest move of a lumen vertex the wall still asked for, over its local radius.
    pub max_radius_change: f64,
    /// Mean distension of the lumen the flow ran in: radial displacement over local radius.
    pub mean_distension: f64,
    /// Aitken factor applied to the move (none after the last iteration).
    pub relaxation: Option<f64>,
    /// Mean pressure drop from the inlet to the first outlet (Pa).
    pub pressure_drop_pa: f64,
    /// Wall-clock seconds of the iteration (flow and wall).
    pub seconds: f64,
}

/// Runs `case` with its wall answering back, into `out_dir` (claimed by the caller): `setup` is
/// the first iteration's, on the unloaded vessel.
pub(super) fn run_coupled(
    case: &Case,
    setup: Setup,
    opts: &RunOptions,
    out_dir: &Path,
    spec: CouplingSpec,
) -> Result<RunResult> {
    if opts.existing == Existing::Resume {
        return Err(Error::parameter(
            "wall.coupling",
            "a coupled run cannot resume from a checkpoint yet: run it again with --overwrite",
        ));
    }
    let observer: Arc<dyn Observer> =
        Arc::new(WarnOnce { inner: opts.observer.clone(), seen: Mutex::default() });
    let opts = &RunOptions { observer, ..opts.clone() };
    let unloaded = setup.vessel.clone();
    // Later iterations keep the first one's spacing and time step (and so tau).
    let mut fixed = case.clone();
    fixed.lattice.dx = Some(setup.units.dx_m);
    fixed.lattice.cells_across_inlet = None;
    fixed.lattice.dt = Some(setup.units.dt_s);
    (fixed.lattice.tau, fixed.lattice.mach) = (None, None);
    let mut moved = vec![Vector3::zeros(); unloaded.surface.vertices.len()];
    // The previous residual and relaxation (Aitken's recursion).
    let mut previous: Option<(Vec<Vector3<f64>>, f64)> = None;
    let mut summary = CouplingSummary {
        reference_pressure_pa: spec.reference_pressure,
        converged: false,
        tolerance: spec.tolerance,
        iterations: Vec::new(),
    };
    let mut setup = Some(setup);
    // The move the last iteration asked for (over the radius), for the error when none agrees.
    let mut last = f64::NAN;
    for k in 0..spec.max_iterations {
        let t0 = Instant::now();
        let setup = match setup.take() {
            Some(first) => first,
            None => prepare_vessel_flow(&fixed, displaced(&unloaded, &moved), opts.observer.as_ref())?,
        };
        let line = format!("wall coupling: iteration {} of at most {}", k + 1, spec.max_iterations);
        opts.observer.event(&Event::Info(&line));
        let reference = Unloaded { vessel: &unloaded, pressure: spec.reference_pressure };
        let result = run_in_folder(case, setup, opts, out_dir, Some(reference))?;
        let Some(wall) = &result.wall else {
            // Interrupted: the folder holds this iteration, summary.json the story so far.
            return with_story(result, summary, out_dir);
        };
        let target = lumen_displacement(
            &wall.mesh,
            &wall.solution.fields.displacement,
            &unloaded.surface,
            &unloaded.tags,
            &unloaded.ports,
        )?;
        let frames = local_frames(&result.flow, &unloaded)?;
        let on_wall: Vec<(f64, f64)> =
            moved.iter().zip(&frames).filter_map(|(m, f)| f.radial.map(|e| (m.dot(&e), f.radius))).collect();
        let residual: Vec<Vector3<f64>> = target.iter().zip(&moved).map(|(t, m)| t - m).collect();
        let change = residual.iter().zip(&frames).map(|(r, f)| r.norm() / f.radius).fold(0.0, f64::max);
        let distension = on_wall.iter().map(|(u, a)| u / a).sum::<f64>() / on_wall.len().max(1) as f64;
        let done = change < spec.tolerance;
        let relaxation = (!done).then(|| aitken(previous.as_ref(), &residual));
        summary.iterations.push(CouplingIteration {
            max_radius_change: change,
            mean_distension: distension,
            relaxation,
            pressure_drop_pa: result.summary.pressure_drop_pa,
            seconds: t0.elapsed().as_secs_f64(),
        });
        let line = format!(
            "wall coupling: iteration {}: the wall asks the lumen to move by up to {:.3} % of its radius (tolerance \
             {:.3} %); mean distension {:.3} %, pressure drop {:.1} Pa",
            k + 1,
            100.0 * change,
            100.0 * spec.tolerance,
            100.0 * distension,
            result.summary.pressure_drop_pa
        );
        opts.observer.event(&Event::Info(&line));
        if done {
            summary.converged = true;
            return with_story(result, summary, out_dir);
        }
        last = change;
        if k + 1 == spec.max_iterations {
            // The folder keeps the last iteration, summary.json the whole story.
            with_story(result, summary, out_dir)?;
            break;
        }
        let omega = relaxation.unwrap_or(1.0);
        for (m, r) in moved.iter_mut().zip(&residual) {
            *m += r * omega;
        }
        previous = Some((residual, omega));
    }
    Err(Error::parameter(
        "wall.coupling.max_iterations",
        format!(
            "the flow and the wall did not agree within {n} iterations (the last asked for a move of {:.3} % of the \
             radius, tolerance {:.3} %); the folder holds iteration {n} and summary.json the history: raise \
             wall.coupling.max_iterations, or check that the wall is not too soft",
            100.0 * last,
            100.0 * spec.tolerance,
            n = spec.max_iterations,
        ),
    ))
}

/// `result` with the coupling's `story` in its summary, rewritten to `out_dir`/summary.json.
fn with_story(mut result: RunResult, story: CouplingSummary, out_dir: &Path) -> Result<RunResult> {
    result.summary.coupling = Some(story);
    write_json(&out_dir.join("summary.json"), &result.summary)?;
    Ok(result)
}

/// Aitken's relaxation factor for `residual` after the `previous` residual and factor (the first
/// iteration takes the wall's displacement whole), within +-[`MAX_RELAXATION`].
fn aitken(previous: Option<&(Vec<Vector3<f64>>, f64)>, residual: &[Vector3<f64>]) -> f64 {
    let Some((last, omega)) = previous else {
        return 1.0;
    };
    let (mut num, mut den) = (0.0, 0.0);
    for (r, l) in residual.iter().zip(last) {
        let dr = r - l;
        num += l.dot(&dr);
        den += dr.norm_squared();
    }
    if den > 0.0 { (-omega * num / den).clamp(-MAX_RELAXATION, MAX_RELAXATION) } else { *omega }
}

/// `unloaded` with its vertices moved by `moved` (m) and its ports following their rims.
fn displaced(unloaded: &Vessel, moved: &[Vector3<f64>]) -> Vessel {
    let mut surface = unloaded.surface.clone();
    for (v, m) in surface.vertices.iter_mut().zip(moved) {
        *v += m;
    }
    let ports = moved_ports(&unloaded.surface, &unloaded.tags, &unloaded.ports, moved);
    Vessel { report: inspect(&surface), surface, ports, ..unloaded.clone() }
}

/// Where a lumen vertex lies about the vessel's axis.
struct Around {
    /// Local radius (m); its port's on a cap.
    radius: f64,
    /// Radial direction, for a vertex on the wall alone.
    radial: Option<Vector3<f64>>,
}

/// Per vertex of `unloaded`: where it lies about the flow's axis.
fn local_frames(flow: &FlowResult, unloaded: &Vessel) -> Result<Vec<Around>> {
    let axis = flow_axis(flow)?;
    Ok(unloaded
        .surface
        .vertices
        .iter()
        .zip(vertex_tags(&unloaded.surface, &unloaded.tags))
        .map(|(p, (_, port))| {
            let frame = axis.frame(p);
            let radius = port.map_or(frame.radius, |k| unloaded.ports[k].radius);
            Around { radius: radius.max(f64::MIN_POSITIVE), radial: port.is_none().then_some(frame.radial) }
        })
        .collect())
}
