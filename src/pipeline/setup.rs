//! The set-up stage: case -> vessel -> lattice parameters -> fluid lattice, with the inflow, the
//! outlet models and the centerlines.

use super::observer::{Event, Observer, Silent};
use super::outlets::{outlet_models, outlet_pressure_swing};
use crate::case::{Case, CellsAcross, MIN_CELLS_ACROSS_INLET, WallModel};
use crate::error::{Error, Result};
use crate::geometry::vessel::Vessel;
use crate::lattice::{Centerline, Grid, InletMap, Lattice, PortRole, voxelize};
use crate::physiology::inflow::DEFAULT_HARMONICS;
use crate::physiology::{Inflow, Outlet, Waveform, steady_shape};
use crate::units::{CELL_REYNOLDS_REGULARIZED, LatticeUnits, PhysicalScales, TimeStep};
use nalgebra::Point3;
use std::path::Path;

/// Loads or generates the case's vessel: [`prepare_vessel`](crate::geometry::vessel::prepare_vessel)
/// of its geometry at its cells across the inlet.
pub fn load_vessel(case: &Case) -> Result<Vessel> {
    let cells = match case.lattice.cells_across_inlet {
        Some(CellsAcross::Count(n)) => n,
        _ => 24.0,
    };
    if case.geometry.generate.is_some() {
        // A generated vessel's surface grows with the lattice it is made for: check the lattice's
        // memory on a coarse one first, so that a lattice that cannot fit is refused at once.
        let coarse = crate::geometry::vessel::prepare_vessel(&case.geometry, MIN_CELLS_ACROSS_INLET)?;
        let inlet = coarse.inlet().ok_or_else(|| Error::parameter("geometry.ports", "no inlet port"))?;
        let r_in = coarse.ports[inlet].radius;
        let dx = match (case.lattice.dx, case.lattice.cells_across_inlet) {
            (Some(dx), _) => Some(dx),
            (None, Some(CellsAcross::Count(n))) => Some(2.0 * r_in / n),
            _ => None,
        };
        if let Some(dx) = dx {
            check_memory(&coarse, r_in, dx, memory_budget(case))?;
        }
    }
    crate::geometry::vessel::prepare_vessel(&case.geometry, cells)
}

/// The memory a run of `case` may use (bytes): run.max_memory_gib, else 80% of what is available.
pub(super) fn memory_budget(case: &Case) -> f64 {
    match case.run.max_memory_gib {
        Some(g) => g * 1024f64.powi(3),
        None => 0.8 * available_memory().unwrap_or(8.0 * 1024f64.powi(3)),
    }
}

/// The grid of `vessel` (inlet radius `r_in`, m) at spacing `dx` (m), or
/// a memory error with advice the case accepts when they need more than `budget` bytes.
fn check_memory(vessel: &Vessel, r_in: f64, dx: f64, budget: f64) -> Result<Grid> {
    let (grid, fluid_estimate, need) = lattice_estimate(vessel, dx);
    if need <= budget {
        return Ok(grid);
    }
    let across = 2.0 * r_in / dx;
    let fits = (across * (budget / need).cbrt()).floor();
    let advice = if fits >= MIN_CELLS_ACROSS_INLET {
        format!("use a coarser lattice (cells_across_inlet = {fits} or fewer) or raise run.max_memory_gib")
    } else {
        // Not even the coarsest lattice the case accepts fits: only a larger budget helps.
        let (_, _, least) = lattice_estimate(vessel, 2.0 * r_in / MIN_CELLS_ACROSS_INLET);
        format!(
            "not even the coarsest lattice ({MIN_CELLS_ACROSS_INLET} cells across the inlet, about {}) fits: raise \
             run.max_memory_gib to at least {:.3}",
            memory_text(least),
            (least / 1024f64.powi(3) * 1000.0).ceil() / 1000.0
        )
    };
    Err(Error::Memory(format!(
        "the lattice needs about {} ({} grid nodes, about {fluid_estimate:.0} fluid cells at dx = {dx:.3e} m) but {} \
         are available; {advice}",
        memory_text(need),
        grid.len(),
        memory_text(budget),
    )))
}

/// A vessel turned into a lattice, with its lattice parameters.
pub struct Setup {
    /// The vessel.
    pub vessel: Vessel,
    /// Lattice parameters.
    pub units: LatticeUnits,
    /// The fluid lattice.
    pub lattice: Lattice,
    /// Inlet mean velocity (m/s).
    pub inlet_velocity: f64,
    /// Reynolds number on the inlet diameter.
    pub reynolds: f64,
    /// Set-up warnings.
    pub warnings: Vec<String>,
    /// The inflow (steady or a waveform) and its profile.
    pub inflow: Inflow,
    /// The model of every port (None at inlets) and its share of the mean flow.
    pub outlets: Vec<Option<(Outlet, f64)>>,
    /// The centerlines from the inlet to every outlet (empty when they cannot be traced).
    pub lines: Vec<Centerline>,
    /// Seconds the lattice set-up took (after the vessel was loaded).
    pub seconds: f64,
}

/// The case's inflow on an inlet of equivalent radius `r_in` (m).
pub fn inflow_of(case: &Case, r_in: f64) -> Result<Inflow> {
    let spec = &case.inflow;
    let waveform = match &spec.waveform {
        None => None,
        Some(name) if crate::physiology::BUILTIN.contains(&name.as_str()) => Some(Waveform::builtin(name)?),
        Some(path) => Some(Waveform::from_csv(Path::new(path), spec.period)?),
    };
    let waveform = match (waveform, spec.flow_rate) {
        (Some(w), Some(q)) => Some(w.scaled_to_mean(q)),
        (w, _) => w,
    };
    let mean_flow = match (&waveform, spec.flow_rate) {
        (Some(w), _) => w.mean(),
        (None, Some(q)) => q,
        (None, None) => return Err(Error::parameter("inflow", "give `flow_rate` or `waveform`")),
    };
    if !(mean_flow.is_finite() && mean_flow > 0.0) {
        return Err(Error::parameter(
            "inflow.waveform",
            format!("the waveform's mean flow is {mean_flow} m^3/s; it must be positive"),
        ));
    }
    let nu = case.fluid.viscosity / case.fluid.density;
    Inflow::new(mean_flow, waveform, spec.profile, r_in, nu, spec.harmonics.unwrap_or(DEFAULT_HARMONICS))
}

/// The grid covering `vessel` at spacing `dx` (m), its fluid cells as estimated from the vessel's
/// volume, and the memory (bytes) a run on it needs on the host.
pub fn lattice_estimate(vessel: &Vessel, dx: f64) -> (Grid, f64, f64) {
    let grid = Grid::covering(vessel.report.bbox_min, vessel.report.bbox_max, dx, 2);
    let fluid = vessel.report.volume / dx.powi(3);
    let links = 5.0 * vessel.report.area / (dx * dx);
    // mask + sparse index (transient) + output frame arrays (velocity, pressure, mask) per grid node;
    // two population sets, neighbour table, cell index and moments per fluid cell; voxel + kernel links.
    let per_node = 1.0 + 4.0 + 17.0;
    let per_cell = (2 * 19 * 4 + 18 * 4 + 4 + 16) as f64;
    let bytes = grid.len() as f64 * per_node + fluid * per_cell + links * 56.0;
    (grid, fluid, bytes)
}

/// The steps `case` asks for at `units`: `run.steps`, or `run.time`, or `run.cycles` of the
/// inflow's period.
pub fn planned_steps(case: &Case, units: &LatticeUnits, inflow: &Inflow) -> Result<u64> {
    match (case.run.steps, case.run.time, case.run.cycles.zip(inflow.period())) {
        (Some(s), _, _) => Ok(s),
        (None, Some(t), _) => Ok(units.steps(t)),
        // Whole cycles of whole steps: the cycle closes at multiples of `steps(period)`, and a run
        // of `cycles` cycles ends exactly at one of them (ceil(c P / dt) falls a step short of c
        // ceil(P / dt) for about half of all time steps, leaving the last cycle unclosed).
        (None, None, Some((c, period))) => Ok((c * units.steps(period) as f64).ceil() as u64),
        (None, None, None) => Err(Error::parameter("run", "give `time`, `steps` or `cycles`")),
    }
}

/// Memory available to this process (bytes), from /proc/meminfo where there is one.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Builds the lattice for `case`: lattice parameters, memory check, voxelization, boundary links.
pub fn prepare(case: &Case) -> Result<Setup> {
    prepare_observed(case, &Silent)
}

/// [`prepare`], telling `observer` each stage as it begins ([`Event::Stage`]).
pub fn prepare_observed(case: &Case, observer: &dyn Observer) -> Result<Setup> {
    let what = match &case.geometry.surface {
        Some(path) => format!("reading and checking {}", path.display()),
        None => "generating the vessel".to_string(),
    };
    observer.event(&Event::Stage(&what));
    prepare_vessel_flow(case, load_vessel(case)?, observer)
}

/// Builds the lattice for `case` on a vessel already loaded (or edited): [`prepare`] without loading
/// the case's geometry.
pub fn prepare_vessel_flow(case: &Case, vessel: Vessel, observer: &dyn Observer) -> Result<Setup> {
    let t0 = std::time::Instant::now();
    let inlet = vessel.inlet().ok_or_else(|| Error::parameter("geometry.ports", "no inlet port"))?;
    let r_in = vessel.ports[inlet].radius;
    let inflow = inflow_of(case, r_in)?;
    let mean_u = inflow.mean_flow / (std::f64::consts::PI * r_in * r_in);
    let peak_u = mean_u * inflow.peak_factor();
    let step = match (case.lattice.tau, case.lattice.dt, case.lattice.mach) {
        (Some(t), _, _) => TimeStep::Tau(t),
        (_, Some(dt), _) => TimeStep::Dt(dt),
        (_, _, Some(m)) => TimeStep::Mach(m),
        (None, None, None) => TimeStep::Auto,
    };
    let outlets = outlet_models(case, &vessel, inflow.mean_flow)?;
    // Poiseuille drop over the vessel's largest extent at the inlet radius: the pressure scale that
    // sets the lattice density variation (a stenosis adds to it; the run reports what it reached).
    let extent = (vessel.report.bbox_max - vessel.report.bbox_min).amax();
    let poiseuille =
        8.0 * case.fluid.viscosity * extent * inflow.mean_flow / (std::f64::consts::PI * r_in.powi(4));
    let pressure_scale = poiseuille.max(outlet_pressure_swing(&outlets, &inflow));
    let scales_at = |dx: f64, vessel_peak_velocity: f64| PhysicalScales {
        density: case.fluid.density,
        viscosity: case.fluid.viscosity,
        dx,
        peak_velocity: peak_u,
        vessel_peak_velocity,
        inlet_diameter: 2.0 * r_in,
        pressure_scale,
        pulsation: inflow.period().map(|period| (period, extent)),
        collision: case.lattice.collision,
        les: case.fluid.les,
    };
    let budget = memory_budget(case);
    let mut warnings = Vec::new();
    let peak = PeakEstimate { case, vessel: &vessel, inflow: &inflow, outlets: &outlets, inlet, peak_u };
    let dx = match (case.lattice.dx, case.lattice.cells_across_inlet) {
        (Some(dx), _) => dx,
        (None, Some(CellsAcross::Count(n))) => 2.0 * r_in / n,
        (None, Some(CellsAcross::Auto(_))) => auto_dx(&peak, r_in, step, &scales_at, budget, &mut warnings)?,
        (None, None) => return Err(Error::parameter("lattice", "give `dx` or `cells_across_inlet`")),
    };
    let grid = check_memory(&vessel, r_in, dx, budget)?;
    let stage = format!(
        "voxelizing {} triangles on a {}x{}x{} grid (dx = {dx:.3e} m)",
        vessel.surface.triangles.len(),
        grid.dims[0],
        grid.dims[1],
        grid.dims[2]
    );
    observer.event(&Event::Stage(&stage));
    let voxels = voxelize(&vessel.surface, &vessel.tags, &grid);
    if voxels.unresolved_links > 0 {
        warnings.push(format!(
            "{} wall links found no surface crossing and use q = 1/2 (a surface defect near the wall?)",
            voxels.unresolved_links
        ));
    }
    observer.event(&Event::Stage("tracing the centerlines and the peak velocity"));
    let (lines, vessel_peak_u) = peak.on(&voxels, dx, &mut warnings);
    let scales = scales_at(dx, vessel_peak_u);
    let (units, unit_warnings) = LatticeUnits::new(&scales, step)?;
    if units.les && case.fluid.les.is_none() {
        let cell_reynolds = units.cell_reynolds();
        warnings.push(format!(
            "the lattice is too coarse for the flow (tau {:.5}, cell Reynolds number {cell_reynolds:.0} at the peak \
             velocity; the regularized collision holds without LES to tau {} and about {}): Smagorinsky LES \
             carries the unresolved scales, at the cost of extra viscosity in laminar regions. {} cells across \
             the inlet would resolve it (fluid.les = false turns LES off)",
            units.tau,
            crate::units::TAU_MIN,
            CELL_REYNOLDS_REGULARIZED,
            (2.0 * r_in / dx * cell_reynolds / CELL_REYNOLDS_REGULARIZED).ceil()
        ));
    }
    warnings.extend(unit_warnings);
    warnings.extend(vessel.notes.iter().cloned());
    warnings.extend(inflow.notes.iter().cloned());
    let profile = case.inflow.profile;
    let steady = move |rho: f64| steady_shape(profile, rho);
    let inlets: Vec<Option<InletMap>> = (0..vessel.ports.len())
        .map(|k| {
            (vessel.roles[k] == PortRole::Velocity)
                .then(|| InletMap::new(&vessel.surface, &vessel.tags, k, &steady))
        })
        .collect();
    let u_mean = units.velocity_to_lattice(mean_u);
    let inlet = |k: usize, x: Point3<f64>| match &inlets[k] {
        Some(map) => (-vessel.ports[k].normal * (u_mean * map.flow_correction), map.radial(x)),
        None => (vessel.ports[k].normal, 0.0),
    };
    observer.event(&Event::Stage("building the lattice and its boundary links"));
    let lattice =
        Lattice::build(&voxels, &vessel.roles, inlet, steady, case.lattice.wall == WallModel::Halfway);
    if lattice.is_empty() {
        return Err(Error::parameter(
            "lattice",
            format!("no lattice node lies inside the surface at dx = {dx:.3e} m; use a finer lattice"),
        ));
    }
    let reynolds = mean_u * 2.0 * r_in / units.nu_m2_s;
    let seconds = t0.elapsed().as_secs_f64();
    Ok(Setup {
        vessel,
        units,
        lattice,
        inlet_velocity: mean_u,
        reynolds,
        warnings,
        inflow,
        outlets,
        lines,
        seconds,
    })
}

/// What the peak velocity expected in a vessel depends on (`PeakEstimate::on`).
struct PeakEstimate<'a> {
    case: &'a Case,
    vessel: &'a Vessel,
    inflow: &'a Inflow,
    outlets: &'a [Option<(Outlet, f64)>],
    inlet: usize,
    /// Peak inlet velocity (m/s).
    peak_u: f64,
}

impl PeakEstimate<'_> {
    /// The centerlines on `voxels` (spacing `dx`, m) and the peak velocity expected in the vessel
    /// (m/s, at least the inlet's): the section-mean velocity peaks where the lumen is narrowest
    /// for the flow it carries, and the profile there is at most parabolic (twice the mean: the
    /// inlet's peak factor over its centre value, times 2) at the waveform's peak. Says in
    /// `warnings` where it is when it passes the inlet's by 10%, and when no centerline is traced.
    fn on(
        &self,
        voxels: &crate::lattice::Voxels,
        dx: f64,
        warnings: &mut Vec<String>,
    ) -> (Vec<Centerline>, f64) {
        let v = self.vessel;
        let lines = match crate::lattice::centerlines(&v.surface, &v.tags, voxels, &v.ports, self.inlet) {
            Ok(l) => l,
            Err(e) => {
                warnings
                    .push(format!("no centerline ({e}): the time step follows the inlet's velocity only"));
                Vec::new()
            }
        };
        let shares: Vec<f64> =
            self.outlets.iter().map(|o| o.as_ref().map_or(0.0, |(_, share)| *share)).collect();
        let inflow = self.inflow;
        let profile_peak =
            inflow.peak_factor() * (2.0 / steady_shape(self.case.inflow.profile, 0.0)).max(1.0);
        let peak = match crate::lattice::peak_mean_velocity(&lines, &shares, inflow.mean_flow, dx) {
            Some((u, at)) if u * profile_peak > 1.1 * self.peak_u => {
                warnings.push(format!(
                    "the velocity peaks at about {:.3} m/s near ({:.2}, {:.2}, {:.2}) mm, {:.2}x the inlet's: the \
                     time step and the Mach limits follow it",
                    u * profile_peak,
                    at.x * 1e3,
                    at.y * 1e3,
                    at.z * 1e3,
                    u * profile_peak / self.peak_u
                ));
                u * profile_peak
            }
            Some((u, _)) => (u * profile_peak).max(self.peak_u),
            None => self.peak_u,
        };
        (lines, peak)
    }
}

/// Cells across the inlet that resolve the flow without LES.
const AUTO_CELLS_MIN: f64 = 12.0;
/// The fewest cells across the inlet `cells_across_inlet = "auto"` falls back to.
const AUTO_CELLS_FLOOR: f64 = 8.0;

/// The spacing (m) of `cells_across_inlet = "auto"` on an inlet of radius `r_in` (m): the cells that
/// keep the cell Reynolds number of the peak velocity (estimated on a trial lattice of
/// `AUTO_CELLS_MIN` cells) at `CELL_REYNOLDS_REGULARIZED`, at least `AUTO_CELLS_MIN`, when they fit
/// the memory `budget` (bytes) and `run.max_wall_time_s` at this machine's measured CPU throughput;
/// else the most that fit (from that count down by 5%, to `AUTO_CELLS_FLOOR`). Says which in
/// `warnings`.
fn auto_dx(
    peak: &PeakEstimate<'_>,
    r_in: f64,
    step: TimeStep,
    scales_at: &dyn Fn(f64, f64) -> PhysicalScales,
    budget: f64,
    warnings: &mut Vec<String>,
) -> Result<f64> {
    let (case, vessel) = (peak.case, peak.vessel);
    let trial = 2.0 * r_in / AUTO_CELLS_MIN;
    let voxels = voxelize(
        &vessel.surface,
        &vessel.tags,
        &Grid::covering(vessel.report.bbox_min, vessel.report.bbox_max, trial, 2),
    );
    let (_, u_peak) = peak.on(&voxels, trial, &mut Vec::new());
    let nu = case.fluid.viscosity / case.fluid.density;
    let resolved = (u_peak * 2.0 * r_in / (CELL_REYNOLDS_REGULARIZED * nu)).ceil().max(AUTO_CELLS_MIN);
    let mlups = crate::bench::cpu_calibration_mlups(case.lattice.collision)?;
    // Memory (bytes) and time-loop seconds at n cells across; None where the set-up would refuse.
    let cost = |n: f64| -> Option<(f64, f64)> {
        let dx = 2.0 * r_in / n;
        let (_, cells, memory) = lattice_estimate(vessel, dx);
        let (units, _) = LatticeUnits::new(&scales_at(dx, u_peak), step).ok()?;
        let steps = match (case.run.steps, case.run.time, case.run.cycles.zip(peak.inflow.period())) {
            (Some(s), _, _) => s as f64,
            (None, Some(t), _) => t / units.dt_s,
            (None, None, Some((c, period))) => c * period / units.dt_s,
            _ => 0.0,
        };
        Some((memory, cells * steps / (mlups * 1e6)))
    };
    let fits = |n: f64| cost(n).is_some_and(|(m, t)| m <= budget && t <= case.run.max_wall_time_s);
    let mut n = resolved;
    while n > AUTO_CELLS_FLOOR && !fits(n) {
        n = (0.95 * n).floor().max(AUTO_CELLS_FLOOR);
    }
    let (memory, seconds) = cost(n).unwrap_or((f64::NAN, f64::NAN));
    warnings.push(format!(
        "cells_across_inlet = \"auto\": {n} cells across the inlet ({}; resolving the peak velocity {u_peak:.3} m/s at a \
         cell Reynolds number of {CELL_REYNOLDS_REGULARIZED} takes {resolved}); about {:.2} GiB and {:.0} s of time loop \
         at {mlups:.0} MLUPS (this machine's CPU), within {:.2} GiB and run.max_wall_time_s = {}",
        if n == resolved { "resolved without LES" } else { "the most within the budgets; LES carries the rest" },
        memory / 1024f64.powi(3),
        seconds,
        budget / 1024f64.powi(3),
        case.run.max_wall_time_s
    ));
    Ok(2.0 * r_in / n)
}
/// `bytes` in GiB, or MiB below a tenth of a GiB.
fn memory_text(bytes: f64) -> String {
    let gib = bytes / 1024f64.powi(3);
    if gib >= 0.1 { format!("{gib:.2} GiB") } else { format!("{:.1} MiB", bytes / 1024f64.powi(2)) }
}
