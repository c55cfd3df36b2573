//! The wall stage: the vessel's lumen extruded into a wall (TET10), loaded by the flow's lumen
//! pressure (in memory), a pressure file or the case's uniform pressure, and solved.

use super::observer::{Event, Observer};
use super::result::FlowResult;
use super::setup::{load_vessel, memory_budget, prepare};
use crate::case::Case;
use crate::error::{Error, Result};
use crate::fem::pcg::PcgSettings;
use crate::fem::{
    Axis, MAX_LUMEN_PRESSURE, MaterialMap, NewtonSettings, Pressure, WallCase, WallMesh, WallProblem,
    WallSolution, WallSolver, WallSpec, extrude, map_to_surface, read_wall_pressure, remesh_lumen,
    remeshed_vertices_estimate,
};
use crate::geometry::vessel::Vessel;
use crate::gpu::BackendChoice;
use nalgebra::Point3;
use std::path::Path;

/// The wall of a run: its mesh and solution.
pub struct WallResult {
    /// The TET10 wall mesh (m).
    pub mesh: WallMesh,
    /// Displacement, stress and strain at its nodes, with the peak values.
    pub solution: WallSolution,
}

/// The lumen pressure that loads the wall.
pub enum WallLoad<'a> {
    /// A pressure (Pa) at each of some points (m) on the lumen, e.g. the flow's wall vertices;
    /// `origin` names them in errors.
    Points {
        /// Where the pressures are (m).
        points: &'a [Point3<f64>],
        /// The pressure at each point (Pa, absolute).
        pressure: Vec<f64>,
        /// The file or run they come from.
        origin: &'a Path,
    },
    /// One pressure (Pa) everywhere.
    Uniform(f64),
}

/// The `[wall]` section of `case`, or the error that asks for it.
fn wall_spec(case: &Case) -> Result<&WallCase> {
    case.wall.as_ref().ok_or_else(|| {
        Error::parameter(
            "wall",
            "the case has no [wall] section (thickness, material; see docs/validation.md)",
        )
    })
}

/// The lumen a coupled run's wall is built on: the flow runs in it displaced, the wall carries the
/// pressure beyond `pressure`.
#[derive(Clone, Copy)]
pub struct Unloaded<'a> {
    /// The vessel as the case gives it (m); the flow's vessel is it with moved vertices.
    pub vessel: &'a Vessel,
    /// The lumen pressure (Pa, absolute) under which it has this shape.
    pub pressure: f64,
}

/// The axis of the wall of a flow's vessel: the line between the ports of a tube, else the flow's
/// centerlines.
pub fn flow_axis(flow: &FlowResult) -> Result<Axis> {
    if flow.vessel.ports.len() == 2 {
        Axis::between_ports(&flow.vessel.ports)
    } else {
        Axis::new(flow.lines.iter().map(|l| l.points.clone()).collect())
    }
}

/// Solves the wall of `case` after its flow: the flow's vessel, centerlines and time-averaged lumen
/// pressure, all in memory. With `unloaded`, the wall is built on that lumen (the flow's, before
/// the wall moved it) and carries the flow's pressure beyond the unloaded one.
pub fn wall_after_flow(
    case: &Case,
    flow: &FlowResult,
    unloaded: Option<Unloaded<'_>>,
    backend: BackendChoice,
    observer: &dyn Observer,
) -> Result<WallResult> {
    let spec = wall_spec(case)?;
    let (vessel, level) = match unloaded {
        Some(u) => (u.vessel, u.pressure),
        None => (&flow.vessel, 0.0),
    };
    let axis = flow_axis(flow)?;
    let absolute: Vec<f64> = flow.wall.pressure.iter().map(|&p| f64::from(p)).collect();
    // The solver refuses a negative load; a coupled run's load is relative, so its absolute
    // pressure is checked here.
    let lowest = absolute.iter().copied().reduce(f64::min).filter(|&p| p < 0.0);
    if let (Some(low), Some(_), false) = (lowest, unloaded, spec.allow_negative_pressure) {
        return Err(Error::parameter(
            "wall.allow_negative_pressure",
            format!(
                "the flow's lumen pressure falls to {low:.1} Pa: below zero the wall would be sucked in; check \
                 indices.aortic_pressure or the outlet pressures, or set wall.allow_negative_pressure = true"
            ),
        ));
    }
    // Beyond the unloaded pressure the load may be negative: a lumen imaged under pressure narrows
    // where the flow's pressure falls below it.
    let relative;
    let spec = match unloaded {
        Some(_) => {
            relative = WallCase { allow_negative_pressure: true, ..spec.clone() };
            &relative
        }
        None => spec,
    };
    let load = WallLoad::Points {
        points: &vessel.surface.vertices,
        pressure: absolute.iter().map(|p| p - level).collect(),
        origin: Path::new("the flow's lumen pressure"),
    };
    solve_wall(spec, vessel, &axis, load, (backend, memory_budget(case)), observer)
}

/// Solves the wall of `case` on its own (`hemotwin wall`): the pressure of `pressure_file` (a
/// wall.vtp with a `pressure` array) or the case's uniform `wall.pressure`; the axis between the
/// ports of a tube, else along the centerlines of the case's lattice.
pub fn wall_alone(
    case: &Case,
    pressure_file: Option<&Path>,
    backend: BackendChoice,
    observer: &dyn Observer,
) -> Result<WallResult> {
    let spec = wall_spec(case)?;
    let (vessel, axis) = wall_geometry(case)?;
    let read;
    let load = match (pressure_file, spec.pressure) {
        (Some(path), _) => {
            read = read_wall_pressure(path)?;
            WallLoad::Points { points: &read.0, pressure: read.1.clone(), origin: path }
        }
        (None, Some(p)) => WallLoad::Uniform(p),
        (None, None) => {
            return Err(Error::parameter(
                "wall.pressure",
                "give a uniform pressure in Pa (wall.pressure = 13000) or a pressure file (the flow's wall.vtp)",
            ));
        }
    };
    solve_wall(spec, &vessel, &axis, load, (backend, memory_budget(case)), observer)
}

/// The case's vessel and its axis: the line between the ports of a tube, else the centerlines
/// traced on the case's lattice (which needs the voxelization).
pub fn wall_geometry(case: &Case) -> Result<(Vessel, Axis)> {
    let vessel = load_vessel(case)?;
    if vessel.ports.len() == 2 {
        let axis = Axis::between_ports(&vessel.ports)?;
        return Ok((vessel, axis));
    }
    let setup = prepare(case)?;
    let axis = Axis::new(setup.lines.into_iter().map(|l| l.points).collect())?;
    Ok((setup.vessel, axis))
}

/// Host memory per degree of freedom of a wall solve (bytes): stiffness, multigrid hierarchy and
/// fields, measured at 2.9 kB on a 1.0 M-dof wall (2.97 GB peak).
const WALL_BYTES_PER_DOF: f64 = 3000.0;

/// Builds the wall of `vessel` along `axis` as `spec` says, loads it with `load` and solves it on
/// `backend` within `budget` bytes of memory (`limits`); `observer` hears each stage and the solves.
pub fn solve_wall(
    spec: &WallCase,
    vessel: &Vessel,
    axis: &Axis,
    load: WallLoad<'_>,
    limits: (BackendChoice, f64),
    observer: &dyn Observer,
) -> Result<WallResult> {
    let (backend, budget) = limits;
    // Bounded before any meshing: a pressure no artery holds is a unit slip, and would run for
    // minutes into a meaningless answer.
    let (largest, source) = match &load {
        WallLoad::Points { pressure, origin, .. } => {
            (pressure.iter().fold(0.0f64, |m, p| m.max(p.abs())), origin.display().to_string())
        }
        WallLoad::Uniform(p) => (p.abs(), "wall.pressure".to_string()),
    };
    if largest > MAX_LUMEN_PRESSURE {
        return Err(Error::parameter(
            source,
            format!(
                "the lumen pressure reaches {largest:.4e} Pa ({:.0} mmHg), beyond the {MAX_LUMEN_PRESSURE:.0} Pa \
                 ({:.0} mmHg) no artery holds: give it in Pa (1 mmHg = 133.322 Pa, 1 kPa = 1000 Pa)",
                largest / 133.322,
                MAX_LUMEN_PRESSURE / 133.322
            ),
        ));
    }
    let wall =
        WallSpec { thickness: spec.thickness()?, layers: spec.layers, beyond_radius: spec.allow_thick_wall };
    // About 7 TET10 nodes per lumen vertex and layer boundary (measured on extruded tubes): the
    // memory is known before the lumen is remeshed or the mesh built.
    let vertices = if spec.remesh {
        remeshed_vertices_estimate(&vessel.surface, axis, &wall)
    } else {
        vessel.surface.vertices.len() as f64
    };
    let dofs = 21.0 * vertices * (spec.layers + 1) as f64;
    let need = dofs * WALL_BYTES_PER_DOF;
    if need > budget {
        let gib = |b: f64| b / 1024f64.powi(3);
        return Err(Error::Memory(format!(
            "the wall needs about {:.2} GiB (about {dofs:.2e} degrees of freedom: {} layers on about {vertices:.0} \
             lumen vertices) but {:.2} GiB are available; use fewer wall.layers (thinner layers also refine the \
             lumen), or raise run.max_memory_gib",
            gib(need),
            spec.layers,
            gib(budget),
        )));
    }
    let (lumen, tags) = if spec.remesh {
        observer.event(&Event::Stage("wall: remeshing the lumen"));
        remesh_lumen(&vessel.surface, &vessel.tags, &vessel.ports, axis, &wall)?
    } else {
        (vessel.surface.clone(), vessel.tags.clone())
    };
    observer.event(&Event::Stage("wall: extruding the lumen into TET10 layers"));
    let mesh = extrude(&lumen, &tags, &vessel.ports, axis, &wall)?;
    let pressure = match load {
        WallLoad::Points { points, pressure, origin } => {
            Pressure::PerVertex(map_to_surface(&lumen, points, &pressure, origin)?)
        }
        WallLoad::Uniform(p) => Pressure::Uniform(p),
    };
    let problem = WallProblem {
        materials: MaterialMap {
            default: spec.material,
            regions: spec.regions.clone(),
            stents: spec.stents.clone(),
        },
        pressure,
        ends: spec.ends,
        pcg: PcgSettings {
            tolerance: spec.pcg_tolerance,
            max_iterations: spec.pcg_max_iterations,
            preconditioner: spec.preconditioner,
        },
        newton: NewtonSettings { load_steps: spec.load_steps, ..NewtonSettings::default() },
        backend,
        allow_negative_pressure: spec.allow_negative_pressure,
    };
    let solution = {
        observer.event(&Event::Stage("wall: assembling the stiffness and the multigrid hierarchy"));
        let mut solver = WallSolver::new(&mesh, axis, problem)?;
        solver.on_progress(|p| observer.event(&Event::Wall(p)));
        solver.solve()?
    };
    Ok(WallResult { mesh, solution })
}
