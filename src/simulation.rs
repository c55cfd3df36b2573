//! A whole run: case -> geometry -> lattice -> LBM time loop -> VTK frames and summary.json.

use crate::case::{Case, CellsAcross, FluidSpec, Rheology, WallModel};
use crate::error::{Error, Result};
use crate::geometry::{Port, Surface};
use crate::hemo::{Section, SectionMeasure, WallAverages, WallSampler, measure_cells, section_cells};
use crate::io::summary::{LOW_TAWSS_PA, PdPa, PortSummary, Summary, WallSummary};
use crate::io::vtk::{
    ImageGrid, PointField, PvdEntry, write_pvd, write_vti, write_vtp, write_vtp_lines, write_vtp_with_ports,
};
use crate::lattice::{Centerline, Grid, Lattice, MAX_PORTS, PortRole, voxelize};
use crate::lbm::{BackendChoice, FluxEntry, Solver};
use crate::physiology::inflow::DEFAULT_HARMONICS;
use crate::physiology::{Inflow, Outlet, OutletModel, Waveform, steady_shape, windkessels_from_targets};
use crate::units::{AUTO_MACH, CELL_REYNOLDS_REGULARIZED, LatticeUnits, MACH_MAX, PhysicalScales, TimeStep};
use nalgebra::Point3;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub use crate::geometry::vessel::{Vessel, generate, guess_units};

/// Loads or generates the case's vessel: [`prepare_vessel`](crate::geometry::vessel::prepare_vessel)
/// of its geometry at its cells across the inlet.
pub fn load_vessel(case: &Case) -> Result<Vessel> {
    let cells = match case.lattice.cells_across_inlet {
        Some(CellsAcross::Count(n)) => n,
        _ => 24.0,
    };
    crate::geometry::vessel::prepare_vessel(&case.geometry, cells)
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
    /// The voxels the lattice was built from.
    pub voxels: crate::lattice::Voxels,
    /// The inflow (steady or a waveform) and its profile.
    pub inflow: Inflow,
    /// The centerlines from the inlet to every outlet (empty when they cannot be traced).
    pub lines: Vec<crate::lattice::Centerline>,
}

/// Smagorinsky constant of `fluid.les`.
pub const SMAGORINSKY: f64 = 0.17;

/// The fluid's viscosity model in lattice units, set on `solver` for every later step.
pub fn apply_rheology(f: &FluidSpec, units: &LatticeUnits, solver: &mut Solver) {
    let nu = |mu: f64| (mu / f.density * units.dt_s / (units.dx_m * units.dx_m)) as f32;
    let mut p = *solver.template();
    p.rheology = match f.rheology {
        Rheology::Newtonian => 0,
        Rheology::CarreauYasuda => 1,
        Rheology::Casson => 2,
    };
    p.smagorinsky = if units.les { (SMAGORINSKY * SMAGORINSKY) as f32 } else { 0.0 };
    p.tau_min = units.tau.min(crate::units::TAU_MIN) as f32;
    p.tau_max = f.tau_max as f32;
    p.nu_zero = nu(f.mu_zero);
    p.nu_inf = if f.rheology == Rheology::Casson { nu(f.casson_viscosity) } else { nu(f.mu_inf) };
    p.lambda = (f.lambda / units.dt_s) as f32;
    p.power_a = f.power_a as f32;
    p.power_n = f.power_n as f32;
    p.yield_stress = (f.yield_stress / f.density * (units.dt_s / units.dx_m).powi(2)) as f32;
    p.regularisation = (f.regularisation / units.dt_s) as f32;
    solver.set_rheology(&p);
}

/// Cells whose local relaxation time the range [tau_min, tau_max] clipped, from the solver's
/// non-equilibrium stress and moments (the same arithmetic as the kernels).
pub fn clipped_cells(solver: &mut Solver, moments: &[[f32; 4]]) -> Result<usize> {
    let p = *solver.template();
    let stress = solver.stress()?;
    Ok(stress
        .par_iter()
        .zip(moments)
        .filter(|(s, m)| crate::lbm::viscosity::local_tau(&p, crate::lbm::cpu::tensor_norm(s), 1.0 + m[0]).1)
        .count())
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
fn lattice_estimate(vessel: &Vessel, dx: f64) -> (Grid, f64, f64) {
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

/// Memory available to this process (bytes), from /proc/meminfo where there is one.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Builds the lattice for `case`: lattice parameters, memory check, voxelization, boundary links.
pub fn prepare(case: &Case) -> Result<Setup> {
    let vessel = load_vessel(case)?;
    let inlet = vessel
        .roles
        .iter()
        .position(|r| *r == PortRole::Velocity)
        .ok_or_else(|| Error::parameter("geometry.ports", "no inlet port"))?;
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
    let budget = match case.run.max_memory_gib {
        Some(g) => g * 1024f64.powi(3),
        None => 0.8 * available_memory().unwrap_or(8.0 * 1024f64.powi(3)),
    };
    let mut warnings = Vec::new();
    let peak = PeakEstimate { case, vessel: &vessel, inflow: &inflow, outlets: &outlets, inlet, peak_u };
    let dx = match (case.lattice.dx, case.lattice.cells_across_inlet) {
        (Some(dx), _) => dx,
        (None, Some(CellsAcross::Count(n))) => 2.0 * r_in / n,
        (None, Some(CellsAcross::Auto(_))) => auto_dx(&peak, r_in, step, &scales_at, budget, &mut warnings)?,
        (None, None) => return Err(Error::parameter("lattice", "give `dx` or `cells_across_inlet`")),
    };
    let (grid, fluid_estimate, need) = lattice_estimate(&vessel, dx);
    if need > budget {
        let across = 2.0 * r_in / dx;
        let fits = (across * (budget / need).cbrt()).floor();
        return Err(Error::Memory(format!(
            "the lattice needs about {:.2} GiB ({} grid nodes, about {:.0} fluid cells at dx = {dx:.3e} m) but \
             {:.2} GiB are available; use a coarser lattice (cells_across_inlet = {fits} or fewer) or raise \
             run.max_memory_gib",
            need / 1024f64.powi(3),
            grid.len(),
            fluid_estimate,
            budget / 1024f64.powi(3)
        )));
    }
    let voxels = voxelize(&vessel.surface, &vessel.tags, &grid);
    if voxels.unresolved_links > 0 {
        warnings.push(format!(
            "{} wall links found no surface crossing and use q = 1/2 (a surface defect near the wall?)",
            voxels.unresolved_links
        ));
    }
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
        .map(|k| (vessel.roles[k] == PortRole::Velocity).then(|| InletMap::new(&vessel, k, &steady)))
        .collect();
    let u_mean = units.velocity_to_lattice(mean_u);
    let inlet = |k: usize, x: Point3<f64>| match &inlets[k] {
        Some(map) => (-vessel.ports[k].normal * (u_mean * map.flow_correction), map.radial(x)),
        None => (vessel.ports[k].normal, 0.0),
    };
    let lattice =
        Lattice::build(&voxels, &vessel.roles, inlet, steady, case.lattice.wall == WallModel::Halfway);
    if lattice.is_empty() {
        return Err(Error::parameter(
            "lattice",
            format!("no lattice node lies inside the surface at dx = {dx:.3e} m; use a finer lattice"),
        ));
    }
    let reynolds = mean_u * 2.0 * r_in / units.nu_m2_s;
    Ok(Setup { vessel, units, lattice, inlet_velocity: mean_u, reynolds, warnings, voxels, inflow, lines })
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
    // This machine's CPU throughput on a lattice larger than its caches (an 80^3 box, 78 MB of
    // populations, 5 steps); a GPU only runs faster.
    let fluid = crate::bench::bench_fluid("newtonian", false)?;
    let calibration = crate::bench::dense_box(80);
    let (throughput, _) =
        crate::bench::lbm_throughput(&calibration, BackendChoice::Cpu, &fluid, case.lattice.collision, 5)?;
    let mlups = throughput.mlups;
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

/// The radial coordinate of an inlet of any shape: ρ = 1 − (distance to the cap's rim) / (its
/// largest value on the cap), which is r / R on a circle and 1 all along the rim of any shape.
pub struct InletMap {
    rim: Vec<[Point3<f64>; 2]>,
    depth: f64,
    /// Factor on the mean velocity that makes the profile carry the port's flow over the cap's
    /// actual shape (1 on a circle).
    pub flow_correction: f64,
}

impl InletMap {
    /// The map of port `k`'s cap (triangles tagged k + 1), with the flow correction for the
    /// steady `profile`.
    pub fn new(vessel: &Vessel, k: usize, profile: &dyn Fn(f64) -> f64) -> Self {
        let tag = (k + 1) as u16;
        let mut uses: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
        let cap: Vec<[u32; 3]> = vessel
            .surface
            .triangles
            .iter()
            .zip(&vessel.tags)
            .filter(|(_, t)| **t == tag)
            .map(|(t, _)| *t)
            .collect();
        for t in &cap {
            for e in 0..3 {
                let (a, b) = (t[e], t[(e + 1) % 3]);
                *uses.entry((a.min(b), a.max(b))).or_insert(0) += 1;
            }
        }
        let v = |i: u32| vessel.surface.vertices[i as usize];
        let rim: Vec<[Point3<f64>; 2]> =
            uses.iter().filter(|(_, n)| **n == 1).map(|(&(a, b), _)| [v(a), v(b)]).collect();
        let mut map = InletMap { rim, depth: 1.0, flow_correction: 1.0 };
        // Sample the cap with the edge-midpoint rule (exact for quadratics, as the Poiseuille shape
        // is across a fan triangle) on the m² congruent sub-triangles of each triangle.
        let m = 8usize;
        let samples: Vec<(Point3<f64>, f64)> = cap
            .iter()
            .flat_map(|t| {
                let [a, b, c] = t.map(v);
                let w = 0.5 * (b - a).cross(&(c - a)).norm() / (3 * m * m) as f64;
                let at = move |i: usize, j: usize| {
                    a + (b - a) * (i as f64 / m as f64) + (c - a) * (j as f64 / m as f64)
                };
                (0..m).flat_map(move |i| {
                    (0..m - i).flat_map(move |j| {
                        let upright = Some([at(i, j), at(i + 1, j), at(i, j + 1)]);
                        let inverted =
                            (i + j + 1 < m).then(|| [at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)]);
                        upright.into_iter().chain(inverted).flat_map(move |[p, q, r]| {
                            [nalgebra::center(&p, &q), nalgebra::center(&q, &r), nalgebra::center(&r, &p)]
                                .map(|x| (x, w))
                        })
                    })
                })
            })
            .collect();
        // The deepest point: over the samples and the cap's vertices (a fan cap's centre among them).
        let corners = cap.iter().flatten().map(|&i| v(i));
        map.depth = samples
            .iter()
            .map(|(p, _)| *p)
            .chain(corners)
            .map(|p| map.rim_distance(p))
            .fold(f64::MIN_POSITIVE, f64::max);
        let (mut flow, mut area) = (0.0, 0.0);
        for (p, w) in &samples {
            flow += profile(map.radial(*p)) * w;
            area += w;
        }
        if flow > 0.0 {
            map.flow_correction = area / flow;
        }
        map
    }

    fn rim_distance(&self, p: Point3<f64>) -> f64 {
        self.rim
            .iter()
            .map(|[a, b]| {
                let ab = b - a;
                let t = ((p - a).dot(&ab) / ab.norm_squared().max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
                (p - (a + ab * t)).norm()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Radial coordinate ρ in [0, 1] of point `p` (m) on or near the cap.
    pub fn radial(&self, p: Point3<f64>) -> f64 {
        (1.0 - self.rim_distance(p) / self.depth).clamp(0.0, 1.0)
    }
}

/// Options of a run that are not part of the case.
#[derive(Clone)]
pub struct RunOptions {
    /// Overrides the case's backend.
    pub backend: Option<BackendChoice>,
    /// Overrides the case's output folder.
    pub out_dir: Option<PathBuf>,
    /// Show a progress bar and print set-up lines on stderr.
    pub verbose: bool,
    /// Set to true (e.g. by Ctrl-C) to stop after the current batch, writing what is done.
    pub stop: Arc<AtomicBool>,
    /// Continue from the output folder's checkpoint.bin instead of starting from rest.
    pub resume: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            backend: None,
            out_dir: None,
            verbose: false,
            stop: Arc::new(AtomicBool::new(false)),
            resume: false,
        }
    }
}

/// Section offset inside each port: far enough from the boundary links to read the bulk flow.
fn section_offset(dx: f64) -> f64 {
    3.0 * dx
}

/// The measuring section of port `p`, `offset` inside it; flow is positive into the vessel at a
/// velocity port and out of it at a pressure port.
pub fn port_section(p: &Port, role: PortRole, offset: f64) -> Section {
    let sign = if role == PortRole::Velocity { -1.0 } else { 1.0 };
    Section { center: p.center - p.normal * offset, normal: p.normal * sign, radius: 1.5 * p.radius }
}

/// Smooth start-up: half a cosine from 0 to 1 over `ramp_steps`.
pub fn ramp(step: u64, ramp_steps: u64) -> f64 {
    if step >= ramp_steps {
        1.0
    } else {
        0.5 * (1.0 - (std::f64::consts::PI * step as f64 / ramp_steps as f64).cos())
    }
}

/// Runs `case`: writes frames (fluid.pvd + fluid_NNNN.vti) and summary.json into the output folder.
pub fn run(case: &Case, opts: &RunOptions) -> Result<Summary> {
    let say = |s: &str| {
        if opts.verbose {
            eprintln!("{s}");
        }
    };
    let out_dir = opts.out_dir.clone().unwrap_or_else(|| case.output.dir.clone());
    let t0 = Instant::now();
    let setup = prepare(case)?;
    let Setup { vessel, units, lattice, reynolds, mut warnings, voxels, inflow, lines, .. } = setup;
    say(&format!(
        "lattice: {} fluid cells in a {}x{}x{} grid ({:.1}% fill), {} boundary links, {:.0} bytes per fluid cell; \
         set-up {:.2} s",
        lattice.len(),
        lattice.grid.dims[0],
        lattice.grid.dims[1],
        lattice.grid.dims[2],
        100.0 * lattice.len() as f64 / lattice.grid.len() as f64,
        lattice.links.len(),
        lattice.bytes_per_cell(),
        t0.elapsed().as_secs_f64()
    ));
    say(&format!("units: {}; Reynolds {reynolds:.1}", units.describe()));
    for w in &warnings {
        say(&format!("warning: {w}"));
    }
    write_surfaces(&out_dir, &vessel, Vec::new())?;
    write_centerlines(&out_dir, &lines)?;
    drop(voxels);
    let sampler = WallSampler::new(&vessel.surface, &vessel.wall_tags(), &lattice);
    let mut along = CenterlinePressure::new(&lines, &lattice);
    let mut pd_pa = (None, None);
    let offset = section_offset(units.dx_m);
    let sections: Vec<Section> =
        vessel.ports.iter().zip(&vessel.roles).map(|(p, r)| port_section(p, *r, offset)).collect();
    // The sections' cells are found once; every check measures them.
    let section_lists: Vec<Vec<(u32, f64)>> = sections.iter().map(|s| section_cells(&lattice, s)).collect();
    let mut outlets = outlet_models(case, &vessel, inflow.mean_flow)?;
    // The lattice holds pressures relative to a reference: the outlets' pressure at the mean flow.
    let reference = {
        let at_mean: Vec<f64> =
            outlets.iter().flatten().map(|(o, share)| o.pressure(share * inflow.mean_flow)).collect();
        at_mean.iter().sum::<f64>() / at_mean.len().max(1) as f64
    };
    let pressure_unit = units.pressure_to_si(1.0);
    let mut port_rho = [1.0f32; MAX_PORTS];
    let mut imposed = vec![f64::NAN; vessel.ports.len()];
    for (k, o) in outlets.iter().enumerate() {
        if let Some((o, share)) = o {
            imposed[k] = o.pressure(share * inflow.mean_flow);
        }
    }
    // The lattice carries pressures relative to a gauge that follows the outlets: incompressible
    // flow sees only pressure differences, while the weakly compressible lattice would store a
    // uniform swing of the outlet pressures (kPa over a cycle) as density, an artificial compliance.
    // The gauge is the mean of the outlets' imposed pressures; reported pressures add back
    // `gauge - reference`.
    let modelled: Vec<bool> = outlets.iter().map(Option::is_some).collect();
    let gauge_of = |imposed: &[f64], port_rho: &mut [f32; MAX_PORTS]| -> f64 {
        let outlet = |k: &usize| modelled[*k];
        let count = (0..imposed.len()).filter(outlet).count().max(1);
        let gauge = (0..imposed.len()).filter(outlet).map(|k| imposed[k]).sum::<f64>() / count as f64;
        for k in (0..imposed.len()).filter(outlet) {
            port_rho[k] = (1.0 + (imposed[k] - gauge) / pressure_unit) as f32;
        }
        gauge
    };
    let mut gauge = gauge_of(&imposed, &mut port_rho);
    let coupled = outlets.iter().flatten().any(|(o, _)| !matches!(o.model, OutletModel::Pressure(_)));
    // With outlet models the lattice pressures sit on an absolute level; else Pd/Pa needs the
    // case's aortic pressure.
    let levelled = coupled.then_some(reference);
    // Characteristic impedance rho c / A of each port at the lattice's speed of sound (Pa s/m^3).
    let sound = crate::lbm::d3q19::CS2.sqrt() * units.dx_m / units.dt_s;
    let impedance: Vec<f64> = vessel
        .ports
        .iter()
        .map(|p| units.density_kg_m3 * sound / (std::f64::consts::PI * p.radius * p.radius))
        .collect();
    // The coupling reads the flow one spacing inside each outlet: the nearer the boundary, the
    // shorter the acoustic delay between the pressure it sets and the flow it reads back.
    let flux_entries: Vec<FluxEntry> = if coupled {
        vessel
            .ports
            .iter()
            .zip(&vessel.roles)
            .map(|(p, r)| port_section(p, *r, units.dx_m))
            .enumerate()
            .filter(|(k, _)| outlets[*k].is_some())
            .flat_map(|(k, sec)| {
                section_cells(&lattice, &sec).into_iter().map(move |(cell, w)| FluxEntry {
                    cell,
                    weight: w as f32,
                    normal: [sec.normal.x as f32, sec.normal.y as f32, sec.normal.z as f32],
                    port: k as u32,
                    pad: [0; 2],
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let backend = opts.backend.unwrap_or(case.run.backend);
    let mut solver = Solver::new(&lattice, &units, backend)?;
    if let Some(n) = solver.notice() {
        say(n);
    }
    if coupled {
        solver.set_flux_sections(flux_entries)?;
        say(&format!(
            "outlets: coupled every step; pressures relative to {reference:.1} Pa ({pressure_unit:.3e} Pa per unit \
             of lattice density)"
        ));
    }
    apply_rheology(&case.fluid, &units, &mut solver);
    let mut clipped_max = 0usize;
    let info = solver.backend();
    say(&format!(
        "backend: {}{}",
        info.kind,
        info.adapter.as_ref().map(|a| format!(" ({}, {})", a.name, a.backend)).unwrap_or_default()
    ));
    let total = match (case.run.steps, case.run.time, case.run.cycles.zip(inflow.period())) {
        (Some(s), _, _) => s,
        (None, Some(t), _) => units.steps(t),
        (None, None, Some((c, period))) => units.steps(c * period),
        (None, None, None) => return Err(Error::parameter("run", "give `time`, `steps` or `cycles`")),
    };
    if let Some(period) = inflow.period() {
        say(&format!(
            "inflow: {} waveform, mean {:.3e} m^3/s, period {period} s ({} steps), {:?} profile{}",
            inflow.waveform.as_ref().map_or("", |w| w.source.as_str()),
            inflow.mean_flow,
            units.steps(period),
            case.inflow.profile,
            if inflow.alpha > 0.0 {
                format!(", Womersley number {:.2}", inflow.alpha)
            } else {
                String::new()
            }
        ));
    }
    let ramp_steps = case.inflow.ramp.map(|r| units.steps(r)).unwrap_or(total / 10).max(1);
    // The stability check follows every batch: a divergence stops the run within this many steps.
    let check_every = (total / 200).clamp(DIVERGENCE_CHECK_STEPS / 2, DIVERGENCE_CHECK_STEPS);
    let frame_every = (total / case.run.frames.max(1) as u64).max(1);
    let bar = opts.verbose.then(|| progress_bar(total));
    let mut frames: Vec<PvdEntry> = Vec::new();
    let mut previous: Option<Vec<[f32; 4]>> = None;
    let (mut residual, mut converged, mut max_mach) = (f64::INFINITY, false, 0.0f64);
    let loop_start = Instant::now();
    let mut interrupted = false;
    let mut moments = solver.moments()?;
    // A pulsatile run averages (wall indices, port means) over each cycle and reports the last
    // complete one; it stops early once the ports' mean pressures change by less than
    // run.cycle_tolerance from one cycle to the next. A steady run averages its final state.
    let per_cycle = inflow.period().map(|p| units.steps(p));
    let mut averages = WallAverages::default();
    let mut cycle_start = 0usize;
    let mut complete: Option<(std::ops::Range<usize>, WallAverages, crate::hemo::WallSample)> = None;
    let mut cycle_means: Vec<Vec<f64>> = Vec::new();
    let mut cycles_converged = false;
    let mut series: Vec<PortSample> = Vec::new();
    if opts.resume {
        let at = read_checkpoint(&out_dir, &lattice, &mut solver, &mut outlets)?;
        for (k, o) in outlets.iter().enumerate() {
            if let Some((o, _)) = o {
                imposed[k] = o.imposed;
            }
        }
        gauge = gauge_of(&imposed, &mut port_rho);
        series = read_ports_csv(&out_dir, vessel.ports.len(), (at as f64 + 0.5) * units.dt_s)?;
        frames = resumed_frames(&out_dir, at, units.dt_s)?;
        if let Some(c) = per_cycle {
            // Restart the cycle bookkeeping at the checkpoint's cycle.
            let start = at - at % c;
            cycle_start =
                series.iter().position(|x| x.time > start as f64 * units.dt_s).unwrap_or(series.len());
        }
        moments = solver.moments()?;
        say(&format!(
            "resumed from {} at step {at} (t = {:.4e} s)",
            out_dir.join("checkpoint.bin").display(),
            at as f64 * units.dt_s
        ));
    }
    let checkpoint_every = case.run.checkpoint_steps.unwrap_or(frame_every).max(1);
    while solver.steps_done() < total {
        let mut batch = check_every.min(total - solver.steps_done());
        if let Some(c) = per_cycle {
            batch = batch.min(c - solver.steps_done() % c);
        }
        let boundary = |s: u64, p: &mut crate::lbm::StepParams, rho: &[f32; MAX_PORTS]| {
            p.inflow_scale = ramp(s, ramp_steps) as f32;
            if inflow.waveform.is_some() {
                p.profile = inflow.table(s as f64 * units.dt_s);
            }
            p.port_rho = *rho;
        };
        if coupled {
            // One step at a time: each outlet model reads the flow of the step just done and sets
            // the pressure of the next.
            for _ in 0..batch {
                let rho = port_rho;
                solver.advance_with(1, |s, p| boundary(s, p, &rho));
                let flows = solver.port_flows(vessel.ports.len())?;
                for (k, o) in outlets.iter_mut().enumerate() {
                    if let Some((o, _)) = o {
                        imposed[k] = o.advance(units.flow_to_si(flows[k]), units.dt_s, impedance[k]);
                    }
                }
                gauge = gauge_of(&imposed, &mut port_rho);
            }
        } else {
            solver.advance_with(batch, |s, p| boundary(s, p, &port_rho));
        }
        moments = solver.moments()?;
        let step = solver.steps_done();
        let mach = check_stability(&lattice, &moments, &units, step).map_err(|d| {
            // Keep what is sound: the port series up to the last good batch (frames and the
            // checkpoint are written only from checked states).
            let kept = write_ports_csv(&out_dir, &vessel.ports, &series);
            d.into_error(case, &vessel, &units, frames.last(), kept.err())
        })?;
        max_mach = max_mach.max(mach);
        let duration = batch as f64 * units.dt_s;
        let shift = gauge - reference;
        series.push(PortSample {
            time: step as f64 * units.dt_s,
            duration,
            measures: sections
                .iter()
                .zip(&section_lists)
                .map(|(sec, cells)| {
                    let mut m = measure_cells(cells, sec.normal, &moments, &units);
                    m.mean_pressure_pa += shift;
                    m
                })
                .collect(),
            imposed: imposed.clone(),
        });
        if let Some(c) = per_cycle {
            let mut sample = sampler.sample(&solver.stress()?, &moments, &units);
            sample.pressure.iter_mut().for_each(|p| *p += shift);
            averages.add(&sample, duration);
            along.add(&moments, &units, shift, duration);
            if step % c == 0 {
                let range = cycle_start..series.len();
                let span: f64 = series[range.clone()].iter().map(|x| x.duration).sum();
                let means: Vec<f64> = (0..vessel.ports.len())
                    .map(|k| {
                        series[range.clone()]
                            .iter()
                            .map(|x| x.measures[k].mean_pressure_pa * x.duration)
                            .sum::<f64>()
                            / span
                            + reference
                    })
                    .collect();
                if let Some(prev) = cycle_means.last() {
                    let scale = means.iter().map(|p| p.abs()).fold(f64::MIN_POSITIVE, f64::max);
                    let change =
                        means.iter().zip(prev).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
                    say(&format!(
                        "cycle {}: port pressures changed by {:.3} %",
                        cycle_means.len() + 1,
                        100.0 * change
                    ));
                    cycles_converged = case.run.cycle_tolerance > 0.0 && change < case.run.cycle_tolerance;
                }
                cycle_means.push(means);
                let finished = std::mem::take(&mut averages);
                complete = Some((range, finished, sample));
                pd_pa = along.summary(&lines, case.indices.aortic_pressure, levelled, case.indices.point);
                along.reset();
                cycle_start = series.len();
            }
        }
        if solver.template().local_viscosity() {
            clipped_max = clipped_max.max(clipped_cells(&mut solver, &moments)?);
        }
        if let Some(prev) = &previous {
            residual = relative_change(prev, &moments) * 1000.0 / batch as f64;
            // A pulsatile flow never settles: it runs its cycles.
            converged = step > ramp_steps
                && inflow.waveform.is_none()
                && case.run.steady_tolerance > 0.0
                && residual < case.run.steady_tolerance;
        }
        previous = Some(moments.clone());
        converged |= cycles_converged;
        let done = converged || step >= total;
        if step / frame_every != (step - batch) / frame_every || done {
            write_frame(&out_dir, &lattice, &units, &moments, gauge - reference, step, &mut frames)?;
            write_ports_csv(&out_dir, &vessel.ports, &series)?;
        }
        // Only a state that passed the stability check becomes a checkpoint: a diverging run keeps
        // the last good one.
        if step / checkpoint_every != (step - batch) / checkpoint_every
            || done
            || opts.stop.load(Ordering::SeqCst)
        {
            write_checkpoint(&out_dir, &lattice, &solver, step, &outlets)?;
        }
        if let Some(b) = &bar {
            let mlups = lattice.len() as f64 * step as f64 / loop_start.elapsed().as_secs_f64() / 1e6;
            b.set_position(step);
            b.set_message(format!("{mlups:.1} MLUPS, residual {residual:.1e}"));
        }
        if opts.stop.load(Ordering::SeqCst) {
            interrupted = step < total && !converged;
            if frames.last().map(|f| f.file.clone()) != Some(frame_name(step)) {
                write_frame(&out_dir, &lattice, &units, &moments, gauge - reference, step, &mut frames)?;
                write_ports_csv(&out_dir, &vessel.ports, &series)?;
            }
            break;
        }
        if converged {
            break;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let wall = loop_start.elapsed().as_secs_f64();
    let steps = solver.steps_done();
    if clipped_max > 0 {
        warnings.push(format!(
            "the local relaxation time left [{}, {}] in up to {clipped_max} cells and was clipped there: the \
             viscosity is wrong in those cells; use a finer lattice (lower shear per step) or raise fluid.tau_max",
            crate::units::TAU_MIN,
            case.fluid.tau_max
        ));
    }
    if max_mach > crate::units::MACH_WARN {
        warnings.push(format!(
            "the flow reached Mach {max_mach:.3}: consider a smaller time step (lattice.mach)"
        ));
    }
    // The window: the last complete cycle, else (steady, or less than a cycle run) the final state.
    if complete.is_none() {
        along.reset();
        along.add(&moments, &units, gauge - reference, 1.0);
        pd_pa = along.summary(&lines, case.indices.aortic_pressure, levelled, case.indices.point);
    }
    let (window_range, averages, last_wall) = match complete {
        Some(c) => c,
        None => {
            let mut sample = sampler.sample(&solver.stress()?, &moments, &units);
            sample.pressure.iter_mut().for_each(|p| *p += gauge - reference);
            let mut final_state = WallAverages::default();
            final_state.add(&sample, 1.0);
            (series.len().saturating_sub(1)..series.len(), final_state, sample)
        }
    };
    let (mut scalars, wss) = wall_fields(&vessel, &sampler, &averages, &last_wall);
    // `pressure`: the lumen pressure on an absolute level (Pa), the load of the wall mechanics: the
    // reference where outlet models set it, else the inlet at the case's aortic pressure.
    let level = if coupled {
        reference
    } else {
        let inlet = vessel.roles.iter().position(|r| *r == PortRole::Velocity).unwrap_or(0);
        let span: f64 =
            series[window_range.clone()].iter().map(|x| x.duration).sum::<f64>().max(f64::MIN_POSITIVE);
        case.indices.aortic_pressure
            - series[window_range.clone()]
                .iter()
                .map(|x| x.measures[inlet].mean_pressure_pa * x.duration)
                .sum::<f64>()
                / span
    };
    let absolute: Vec<f32> = scalars
        .iter()
        .find(|(name, _)| *name == "pressure_pa")
        .map(|(_, p)| p.iter().map(|v| (f64::from(*v) + level) as f32).collect())
        .unwrap_or_default();
    scalars.push(("pressure", absolute));
    let mut fields: Vec<PointField> =
        scalars.iter().map(|(name, values)| PointField::Scalar { name, values }).collect();
    fields.push(PointField::Vector { name: "wss_pa", values: &wss });
    write_surfaces(&out_dir, &vessel, fields)?;
    write_ports_csv(&out_dir, &vessel.ports, &series)?;
    // Port figures: means over the window.
    let window = &series[window_range];
    let span: f64 = window.iter().map(|x| x.duration).sum::<f64>().max(f64::MIN_POSITIVE);
    let mean_of = |k: usize, f: fn(&SectionMeasure) -> f64| -> f64 {
        window.iter().map(|x| f(&x.measures[k]) * x.duration).sum::<f64>() / span
    };
    let inlet = vessel.roles.iter().position(|r| *r == PortRole::Velocity).unwrap_or(0);
    let prescribed_flow = inflow.mean_flow;
    let inflow: f64 = (0..vessel.ports.len())
        .filter(|&k| vessel.roles[k] == PortRole::Velocity)
        .map(|k| mean_of(k, |m| m.flow_m3_s))
        .sum();
    let outflow: f64 = (0..vessel.ports.len())
        .filter(|&k| vessel.roles[k] == PortRole::Pressure)
        .map(|k| mean_of(k, |m| m.flow_m3_s))
        .sum();
    let ports: Vec<PortSummary> = (0..vessel.ports.len())
        .map(|k| {
            let outlet = vessel.roles[k] == PortRole::Pressure;
            let drop = |x: &PortSample| x.measures[inlet].mean_pressure_pa - x.measures[k].mean_pressure_pa;
            PortSummary {
                name: vessel.ports[k].name.clone(),
                role: if outlet { "outlet" } else { "inlet" }.into(),
                section_offset_m: offset,
                measure: SectionMeasure {
                    flow_m3_s: mean_of(k, |m| m.flow_m3_s),
                    mean_pressure_pa: mean_of(k, |m| m.mean_pressure_pa),
                    cells: window.last().map_or(0, |x| x.measures[k].cells),
                },
                peak_pressure_pa: window
                    .iter()
                    .map(|x| x.measures[k].mean_pressure_pa)
                    .fold(f64::NAN, f64::max),
                flow_split: outlet.then(|| mean_of(k, |m| m.flow_m3_s) / outflow),
                pressure_drop_mean_pa: outlet
                    .then(|| window.iter().map(|x| drop(x) * x.duration).sum::<f64>() / span),
                pressure_drop_peak_pa: outlet.then(|| window.iter().map(drop).fold(f64::NAN, f64::max)),
                imposed_pressure_pa: outlet
                    .then(|| window.iter().map(|x| x.imposed[k] * x.duration).sum::<f64>() / span),
            }
        })
        .collect();
    let sum_of = |role: &str, f: fn(&SectionMeasure) -> f64| -> Vec<f64> {
        ports.iter().filter(|p| p.role == role).map(|p| f(&p.measure)).collect()
    };
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let p_in = mean(sum_of("inlet", |m| m.mean_pressure_pa));
    let p_out = mean(sum_of("outlet", |m| m.mean_pressure_pa));
    let wall_indices = wall_summary(&sampler, &averages);
    let mass_conservation_error = (inflow - outflow).abs() / inflow.abs().max(1e-300);
    // The validity gate: results that are not results are marked, never passed off as complete.
    let mut status_reasons = Vec::new();
    if ![p_in, p_out, inflow, outflow, mass_conservation_error, max_mach].iter().all(|v| v.is_finite()) {
        status_reasons.push("non-finite results (pressure, flow or Mach)".to_string());
    }
    // False for a NaN inflow too.
    let flowing = inflow > 1e-3 * prescribed_flow;
    if !flowing {
        status_reasons.push(format!(
            "no net flow: {inflow:.3e} m^3/s through the inlet over the averaging window against the prescribed mean \
             {prescribed_flow:.3e} m^3/s (a run shorter than its ramp?)"
        ));
    }
    if mass_conservation_error > MAX_MASS_ERROR && flowing {
        status_reasons.push(format!(
            "mass error {:.2}% beyond {:.0}%",
            100.0 * mass_conservation_error,
            100.0 * MAX_MASS_ERROR
        ));
    }
    for (k, p) in vessel.ports.iter().enumerate().filter(|(k, _)| vessel.roles[*k] == PortRole::Pressure) {
        if !series.is_empty() && series.iter().all(|x| x.measures[k].flow_m3_s < 0.0) {
            status_reasons.push(format!(
                "outlet `{}`: flow entered the vessel through it for the whole run (an inward normal?)",
                p.name
            ));
        }
    }
    let status = match (interrupted, status_reasons.is_empty()) {
        (true, _) => "interrupted",
        (false, true) => "complete",
        (false, false) => "invalid",
    };
    let summary = Summary {
        status: status.into(),
        status_reasons,
        hemotwin_version: env!("CARGO_PKG_VERSION").into(),
        lattice: units,
        max_mach,
        reynolds_inlet: reynolds,
        backend: info.kind,
        adapter: info.adapter,
        fluid_cells: lattice.len(),
        grid_nodes: lattice.grid.len(),
        bytes_per_fluid_cell: lattice.bytes_per_cell(),
        boundary_links: lattice.links.len(),
        steps,
        simulated_time_s: steps as f64 * units.dt_s,
        wall_time_s: wall,
        mlups: lattice.len() as f64 * steps as f64 / wall.max(1e-9) / 1e6,
        converged,
        residual_per_1000_steps: residual,
        interrupted,
        inlet_pressure_pa: p_in,
        outlet_pressure_pa: p_out,
        pressure_drop_pa: p_in - p_out,
        inflow_m3_s: inflow,
        outflow_m3_s: outflow,
        mass_conservation_error,
        ports,
        wall: wall_indices,
        pressure_reference_pa: reference,
        pd_pa_min: pd_pa.0,
        pd_pa_at_point: pd_pa.1,
        averaged_over_s: span,
        warnings,
    };
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| Error::io(out_dir.join("summary.json"), std::io::Error::other(e)))?;
    crate::io::atomic::write_bytes_atomic(&out_dir.join("summary.json"), &json)?;
    Ok(summary)
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} steps, {msg}, {elapsed} elapsed, ~{eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Relative L2 change of the velocity field between two moment snapshots.
pub fn relative_change(a: &[[f32; 4]], b: &[[f32; 4]]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        for c in 1..4 {
            diff += (x[c] as f64 - y[c] as f64).powi(2);
            norm += (y[c] as f64).powi(2);
        }
    }
    (diff / norm.max(1e-300)).sqrt()
}

/// Largest mass-conservation error of a run whose status is complete (above it: invalid).
pub const MAX_MASS_ERROR: f64 = 0.10;

/// Most steps a run goes between two stability checks.
pub const DIVERGENCE_CHECK_STEPS: u64 = 100;

/// Where and when a run diverged.
struct Divergence {
    /// Time (s) and step of the check that found it.
    time: f64,
    step: u64,
    /// Where (m), and the Mach number there (infinite when a value is not finite).
    at: Point3<f64>,
    mach: f64,
}

impl Divergence {
    /// The error of this divergence for `case` on `vessel`: where, the nearest port, when, the last
    /// frame written (if any), and advice that the set-up accepts when followed.
    fn into_error(
        self,
        case: &Case,
        vessel: &Vessel,
        units: &LatticeUnits,
        last_frame: Option<&PvdEntry>,
        series_error: Option<Error>,
    ) -> Error {
        let Divergence { time, step, at, mach } = self;
        let nearest = vessel
            .ports
            .iter()
            .min_by(|a, b| (a.center - at).norm().total_cmp(&(b.center - at).norm()))
            .map(|p| format!(", {:.1} mm from port `{}`", (p.center - at).norm() * 1e3, p.name))
            .unwrap_or_default();
        let what = if mach < 100.0 {
            format!("the flow reached Mach {mach:.3} (limit {MACH_MAX})")
        } else if mach.is_finite() {
            format!("the flow reached Mach {mach:.2e} (limit {MACH_MAX})")
        } else {
            "a value became infinite or NaN".to_string()
        };
        let kept = match (last_frame, series_error) {
            (_, Some(e)) => format!("ports.csv could not be kept ({e})"),
            (Some(f), None) => format!(
                "the frames up to {} (t = {:.4e} s), ports.csv and the last checkpoint are intact",
                f.file, f.time
            ),
            (None, None) => "no frame had been written yet; ports.csv holds the steps before".to_string(),
        };
        Error::Diverged(format!(
            "at t = {time:.4e} s (step {step}) {what} at ({:.2}, {:.2}, {:.2}) mm{nearest}; {kept}. {}",
            at.x * 1e3,
            at.y * 1e3,
            at.z * 1e3,
            divergence_advice(case, units, mach)
        ))
    }
}

/// What to change after a divergence of `case` run at `units`, chosen so that the set-up accepts it:
/// the regularized collision for TRT; LES or enough cells to bring the cell Reynolds number to
/// `CELL_REYNOLDS_REGULARIZED` when LES was off; else a smaller time step when the flow passed the
/// Mach limit and tau stays at its limit, else 1.5x the cells across the inlet.
fn divergence_advice(case: &Case, units: &LatticeUnits, mach: f64) -> String {
    use crate::lbm::Collision;
    let cells = |factor: f64| match case.lattice.cells_across_inlet {
        Some(CellsAcross::Count(n)) => format!("cells_across_inlet = {}", (factor * n).ceil()),
        _ => format!("lattice.dx = {:.3e} (m)", units.dx_m / factor),
    };
    if units.collision == Collision::Trt {
        return format!(
            "Use the regularized collision (lattice.collision = \"regularized\"), which holds where TRT \
             diverges, or a finer lattice ({})",
            cells(1.5)
        );
    }
    if !units.les {
        let cell_reynolds = units.cell_reynolds();
        return format!(
            "The lattice resolves the flow too coarsely for its speed (cell Reynolds number {cell_reynolds:.0}; \
             the regularized collision holds to about {CELL_REYNOLDS_REGULARIZED:.0} without LES). Use LES for \
             the unresolved scales (fluid.les = true) or a finer lattice ({})",
            cells((cell_reynolds / CELL_REYNOLDS_REGULARIZED).max(1.5))
        );
    }
    // A smaller step: Mach 0.1 where it peaked (the same dx), accepted when tau stays at its limit.
    let smaller = if mach.is_finite() { AUTO_MACH / mach } else { 0.5 };
    let tau_then = 0.5 + (units.tau - 0.5) * smaller;
    if smaller < 1.0 && tau_then >= crate::units::TAU_MIN_LES {
        format!(
            "Use a smaller time step (lattice.dt = {:.3e} s, or lattice.mach = {:.3e}) or a finer lattice ({})",
            units.dt_s * smaller,
            units.mach_inlet * smaller,
            cells(1.5)
        )
    } else {
        format!("Use a finer lattice ({}), keeping the time step automatic", cells(1.5))
    }
}

/// Highest Mach number of the field, or the divergence: a value that is not finite, or a Mach
/// number above the limit.
fn check_stability(
    lattice: &Lattice,
    moments: &[[f32; 4]],
    units: &LatticeUnits,
    step: u64,
) -> std::result::Result<f64, Divergence> {
    let mut worst = (0.0f64, 0usize);
    for (cell, m) in moments.iter().enumerate() {
        let u2 = (m[1] as f64).powi(2) + (m[2] as f64).powi(2) + (m[3] as f64).powi(2);
        if !u2.is_finite() || !(m[0] as f64).is_finite() {
            worst = (f64::INFINITY, cell);
            break;
        }
        if u2 > worst.0 {
            worst = (u2, cell);
        }
    }
    let mach = units.mach(worst.0.sqrt());
    if mach > MACH_MAX || !mach.is_finite() {
        return Err(Divergence { time: step as f64 * units.dt_s, step, at: lattice.point(worst.1), mach });
    }
    Ok(mach)
}

/// Writes `wall.vtp` (the whole lumen surface) and `ports.vtp` (the port caps) with the cell array
/// `port_id`: -1 on the wall, k on the cap of port k (the order of `ports` in summary.json).
/// The model of every port (None at inlets) and its share of the mean flow (Murray's law among the
/// outlets): from `[[outlets]]`, else `[windkessel]`, else zero pressure.
fn outlet_models(case: &Case, vessel: &Vessel, mean_flow: f64) -> Result<Vec<Option<(Outlet, f64)>>> {
    if vessel.ports.len() > MAX_PORTS {
        return Err(Error::parameter(
            "geometry",
            format!("{} ports; the solver handles at most {MAX_PORTS}", vessel.ports.len()),
        ));
    }
    for (k, spec) in case.outlets.iter().enumerate() {
        let found = vessel.ports.iter().zip(&vessel.roles).find(|(p, _)| p.name == spec.port);
        match found {
            Some((_, PortRole::Pressure)) => {}
            Some(_) => {
                return Err(Error::parameter(
                    format!("outlets[{k}].port"),
                    format!("{:?} is an inlet", spec.port),
                ));
            }
            None => {
                let names: Vec<&str> = vessel.ports.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::parameter(
                    format!("outlets[{k}].port"),
                    format!("no port named {:?}; the ports are {}", spec.port, names.join(", ")),
                ));
            }
        }
    }
    let outlet_ports: Vec<usize> =
        (0..vessel.ports.len()).filter(|&k| vessel.roles[k] == PortRole::Pressure).collect();
    let cubes: f64 = outlet_ports.iter().map(|&k| vessel.ports[k].radius.powi(3)).sum();
    let auto = match &case.windkessel {
        Some(w) => Some(windkessels_from_targets(
            &outlet_ports.iter().map(|&k| vessel.ports[k].radius).collect::<Vec<_>>(),
            w.mean_pressure,
            mean_flow,
            w.total_compliance,
            w.proximal_fraction,
        )?),
        None => None,
    };
    (0..vessel.ports.len())
        .map(|k| {
            let Some(j) = outlet_ports.iter().position(|&o| o == k) else { return Ok(None) };
            let share = vessel.ports[k].radius.powi(3) / cubes;
            let listed = case.outlets.iter().enumerate().find(|(_, o)| o.port == vessel.ports[k].name);
            let model = match (listed, &auto) {
                (Some((i, spec)), _) => spec.model(i)?,
                (None, Some(models)) => models[j],
                (None, None) => OutletModel::Pressure(0.0),
            };
            Ok(Some((Outlet::new(model, share * mean_flow), share)))
        })
        .collect()
}

/// How far (Pa) the outlet models' pressures swing apart over a run: the flow's range (from rest to
/// its peak) through each outlet's impedance at the waveform's fundamental (its total resistance
/// when steady), largest minus smallest over the outlets.
/// The lattice carries only these differences: the common swing rides on the gauge (`run`).
fn outlet_pressure_swing(outlets: &[Option<(Outlet, f64)>], inflow: &Inflow) -> f64 {
    let peak = inflow.mean_flow * inflow.peak_factor() / 2.0;
    let omega = inflow.period().map_or(0.0, |p| 2.0 * std::f64::consts::PI / p);
    let (lo, hi) = outlets
        .iter()
        .flatten()
        .map(|(o, share)| {
            let impedance = match o.model {
                OutletModel::Pressure(_) => 0.0,
                OutletModel::Resistance { resistance, .. } => resistance,
                OutletModel::Rcr { proximal, compliance, distal, .. } => {
                    let distal = nalgebra::Complex::new(distal, 0.0)
                        / nalgebra::Complex::new(1.0, omega * distal * compliance);
                    (nalgebra::Complex::new(proximal, 0.0) + distal).norm()
                }
            };
            impedance * share * peak.max(inflow.mean_flow)
        })
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), s| (lo.min(s), hi.max(s)));
    hi - lo.min(hi)
}

/// First bytes of checkpoint.bin, with the format version.
const CHECKPOINT_MAGIC: &[u8; 8] = b"HTCKPT01";

/// Writes OUT/checkpoint.bin atomically: the step, the lattice's cell and link counts (to refuse a
/// different lattice on resume), each outlet's state and the populations.
fn write_checkpoint(
    dir: &Path,
    lattice: &Lattice,
    solver: &Solver,
    step: u64,
    outlets: &[Option<(Outlet, f64)>],
) -> Result<()> {
    let populations = solver.populations()?;
    let mut bytes = Vec::with_capacity(64 + 4 * populations.len());
    bytes.extend_from_slice(CHECKPOINT_MAGIC);
    for v in [step, lattice.len() as u64, lattice.links.len() as u64, outlets.len() as u64] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    for o in outlets {
        let (c, p) = o.as_ref().map_or((0.0, 0.0), |(o, _)| (o.capacitor, o.imposed));
        bytes.extend_from_slice(&c.to_le_bytes());
        bytes.extend_from_slice(&p.to_le_bytes());
    }
    bytes.extend_from_slice(bytemuck::cast_slice(&populations));
    crate::io::atomic::write_bytes_atomic(&dir.join("checkpoint.bin"), &bytes)
}

/// Restores the solver and the outlets from OUT/checkpoint.bin; returns its step.
fn read_checkpoint(
    dir: &Path,
    lattice: &Lattice,
    solver: &mut Solver,
    outlets: &mut [Option<(Outlet, f64)>],
) -> Result<u64> {
    let path = dir.join("checkpoint.bin");
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::input(
            &path,
            format!("cannot read the checkpoint ({e}); run without --resume to start from rest"),
        )
    })?;
    let bad = |what: &str| Error::input(&path, format!("{what}; run without --resume to start from rest"));
    if bytes.len() < 40 || &bytes[..8] != CHECKPOINT_MAGIC {
        return Err(bad("not a hemotwin checkpoint of this version"));
    }
    let word = |k: usize| u64::from_le_bytes(bytes[8 + 8 * k..16 + 8 * k].try_into().unwrap_or([0; 8]));
    let (step, cells, links, ports) = (word(0), word(1), word(2), word(3) as usize);
    if cells != lattice.len() as u64 || links != lattice.links.len() as u64 || ports != outlets.len() {
        return Err(bad(&format!(
            "it was written for a lattice of {cells} cells, {links} links and {ports} ports, this case makes {} \
             cells, {} links and {} ports (was the case changed?)",
            lattice.len(),
            lattice.links.len(),
            outlets.len()
        )));
    }
    let head = 40 + 16 * ports;
    let expected = head + 4 * crate::lbm::d3q19::Q * lattice.len();
    if bytes.len() != expected {
        return Err(bad(&format!("it has {} bytes, {expected} expected: cut short?", bytes.len())));
    }
    for (k, o) in outlets.iter_mut().enumerate() {
        let f = |at: usize| f64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        if let Some((o, _)) = o {
            o.capacitor = f(40 + 16 * k);
            o.imposed = f(48 + 16 * k);
        }
    }
    let populations: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes[head..]);
    solver.restore(&populations, step)?;
    Ok(step)
}

/// The rows of OUT/ports.csv up to time `until` (s), as port samples (durations from the times).
/// The file's times carry 10 significant digits: give `until` half a step beyond the last row wanted.
fn read_ports_csv(dir: &Path, ports: usize, until: f64) -> Result<Vec<PortSample>> {
    let path = dir.join("ports.csv");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Vec::new()) };
    let mut out: Vec<PortSample> = Vec::new();
    for (line, row) in text.lines().enumerate().skip(1) {
        let v: Vec<f64> = row.split(',').map(|x| x.trim().parse().unwrap_or(f64::NAN)).collect();
        if v.len() != 1 + 3 * ports || !v[0].is_finite() {
            return Err(Error::input(
                &path,
                format!("line {}: not a row of this case's ports.csv", line + 1),
            ));
        }
        if v[0] > until {
            break;
        }
        let duration = v[0] - out.last().map_or(0.0, |x| x.time);
        out.push(PortSample {
            time: v[0],
            duration,
            measures: (0..ports)
                .map(|k| SectionMeasure { flow_m3_s: v[1 + 3 * k], mean_pressure_pa: v[2 + 3 * k], cells: 0 })
                .collect(),
            imposed: (0..ports).map(|k| v[3 + 3 * k]).collect(),
        });
    }
    Ok(out)
}

/// The frames already written up to step `at`, for fluid.pvd.
fn resumed_frames(dir: &Path, at: u64, dt: f64) -> Result<Vec<PvdEntry>> {
    let mut steps: Vec<u64> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_prefix("fluid_")?.strip_suffix(".vti")?.parse::<u64>().ok()
        })
        .filter(|&s| s <= at)
        .collect();
    steps.sort_unstable();
    Ok(steps.into_iter().map(|s| PvdEntry { time: s as f64 * dt, file: frame_name(s) }).collect())
}

/// The port sections' measures after one batch of steps.
struct PortSample {
    /// Time at the end of the batch (s).
    time: f64,
    /// Length of the batch (s): the weight of this sample in time averages.
    duration: f64,
    /// One measure per port.
    measures: Vec<SectionMeasure>,
    /// Pressure each outlet model imposes (Pa; NaN at inlets).
    imposed: Vec<f64>,
}

/// Writes `ports.csv`: time (s), then for each port its section's flow (m^3/s) and mean pressure (Pa,
/// relative to the pressure reference) and the pressure its outlet model imposes (Pa, absolute; NaN
/// at inlets).
fn write_ports_csv(dir: &Path, ports: &[Port], series: &[PortSample]) -> Result<()> {
    use std::fmt::Write as _;
    let mut text = String::from("time_s");
    for p in ports {
        let _ = write!(text, ",{0}_flow_m3_s,{0}_pressure_pa,{0}_imposed_pressure_pa", p.name);
    }
    text.push('\n');
    for x in series {
        let _ = write!(text, "{:.9e}", x.time);
        for (m, p) in x.measures.iter().zip(&x.imposed) {
            let _ = write!(text, ",{:.9e},{:.9e},{:.9e}", m.flow_m3_s, m.mean_pressure_pa, p);
        }
        text.push('\n');
    }
    crate::io::atomic::write_bytes_atomic(&dir.join("ports.csv"), text.as_bytes())
}

/// A named point array.
type NamedValues = (&'static str, Vec<f32>);

/// Point arrays of wall.vtp (zero on the caps): the window's TAWSS, OSI, RRT and mean pressure, and
/// the last WSS vector.
fn wall_fields(
    vessel: &Vessel,
    sampler: &WallSampler,
    averages: &WallAverages,
    last: &crate::hemo::WallSample,
) -> (Vec<NamedValues>, Vec<[f32; 3]>) {
    let n = vessel.surface.vertices.len();
    let spread = |values: Vec<f64>| {
        let mut out = vec![0.0f32; n];
        for (&v, x) in sampler.vertices.iter().zip(values) {
            out[v as usize] = x as f32;
        }
        out
    };
    let mut wss = vec![[0.0f32; 3]; n];
    for (&v, w) in sampler.vertices.iter().zip(&last.wss) {
        wss[v as usize] = [w.x as f32, w.y as f32, w.z as f32];
    }
    let scalars = vec![
        ("tawss_pa", spread(averages.tawss())),
        ("osi", spread(averages.osi())),
        ("rrt_per_pa", spread(averages.rrt())),
        ("pressure_pa", spread(averages.pressure())),
    ];
    (scalars, wss)
}

/// Peak and low-shear figures of the wall indices for summary.json.
fn wall_summary(sampler: &WallSampler, averages: &WallAverages) -> WallSummary {
    let tawss = averages.tawss();
    let osi = averages.osi();
    let area: f64 = sampler.areas.iter().sum();
    let low: f64 = sampler.areas.iter().zip(&tawss).filter(|(_, t)| **t < LOW_TAWSS_PA).map(|(a, _)| a).sum();
    WallSummary {
        vertices: sampler.vertices.len(),
        tawss_max_pa: tawss.iter().copied().fold(0.0, f64::max),
        tawss_mean_pa: sampler.areas.iter().zip(&tawss).map(|(a, t)| a * t).sum::<f64>()
            / area.max(f64::MIN_POSITIVE),
        tawss_p5_pa: area_percentile(&tawss, &sampler.areas, 0.05),
        tawss_p95_pa: area_percentile(&tawss, &sampler.areas, 0.95),
        osi_max: osi.iter().copied().fold(0.0, f64::max),
        low_tawss_threshold_pa: LOW_TAWSS_PA,
        low_tawss_area_fraction: low / area.max(f64::MIN_POSITIVE),
    }
}

/// The value below which a `fraction` of the area lies, for `values` on vertices of `areas`.
fn area_percentile(values: &[f64], areas: &[f64], fraction: f64) -> f64 {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let goal = fraction * areas.iter().sum::<f64>();
    let mut covered = 0.0;
    for &k in &order {
        covered += areas[k];
        if covered >= goal {
            return values[k];
        }
    }
    order.last().map_or(0.0, |&k| values[k])
}

/// Writes wall.vtp (the surface with `port_id` per triangle and `point_fields`) and ports.vtp.
fn write_surfaces(dir: &Path, vessel: &Vessel, point_fields: Vec<PointField<'_>>) -> Result<()> {
    let port_id: Vec<i32> = vessel.tags.iter().map(|&t| t as i32 - 1).collect();
    let extension: Vec<i32> = (0..port_id.len()).map(|t| vessel.extension.contains(&t) as i32).collect();
    let names_roles: Vec<(&str, &str)> = vessel
        .ports
        .iter()
        .zip(&vessel.roles)
        .map(|(p, r)| (p.name.as_str(), if *r == PortRole::Velocity { "inlet" } else { "outlet" }))
        .collect();
    write_vtp_with_ports(
        &dir.join("wall.vtp"),
        &vessel.surface,
        &[("port_id", &port_id), ("flow_extension", &extension)],
        point_fields,
        &names_roles,
    )?;
    let (caps, cap_ids): (Vec<[u32; 3]>, Vec<i32>) = vessel
        .surface
        .triangles
        .iter()
        .zip(&port_id)
        .filter(|(_, id)| **id >= 0)
        .map(|(t, id)| (*t, *id))
        .unzip();
    let ports = Surface { vertices: vessel.surface.vertices.clone(), triangles: caps };
    write_vtp(&dir.join("ports.vtp"), &ports, &[("port_id", &cap_ids)], Vec::new())
}

/// Writes `centerline.vtp`: one line from the inlet to each outlet with point arrays `radius` (m,
/// maximal inscribed sphere) and `abscissa` (m from the inlet) and the cell array `branch_id` (the
/// outlet's port index). Nothing is written when the vessel has no centerlines.
fn write_centerlines(dir: &Path, lines: &[crate::lattice::Centerline]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let radius = lines.iter().flat_map(|l| l.radius.iter().map(|&r| r as f32)).collect();
    let abscissa = lines.iter().flat_map(|l| l.abscissa.iter().map(|&s| s as f32)).collect();
    let branch = lines.iter().map(|l| l.outlet as i32).collect();
    let points: Vec<_> = lines.iter().map(|l| l.points.clone()).collect();
    write_vtp_lines(
        &dir.join("centerline.vtp"),
        &points,
        &[("radius", radius), ("abscissa", abscissa)],
        &[("branch_id", branch)],
    )
}

/// Pd/Pa along the centerlines: the fluid cell under each centerline point, and the time-averaged
/// pressure there.
struct CenterlinePressure {
    /// (line, point index, cell) of every point that lies on a fluid cell.
    probes: Vec<(usize, usize, u32)>,
    /// Time-weighted sum of the pressure (Pa) at each probe, and the total weight (s).
    sums: Vec<f64>,
    weight: f64,
}

impl CenterlinePressure {
    fn new(lines: &[crate::lattice::Centerline], lattice: &Lattice) -> Self {
        let grid = lattice.grid;
        let mut probes = Vec::new();
        for (l, line) in lines.iter().enumerate() {
            for (i, p) in line.points.iter().enumerate() {
                let idx = ((p - grid.origin) / grid.dx).map(|v| v.round());
                if idx.iter().any(|&v| v < 0.0) {
                    continue;
                }
                let [a, b, c] = [idx.x as usize, idx.y as usize, idx.z as usize];
                if a >= grid.dims[0] || b >= grid.dims[1] || c >= grid.dims[2] {
                    continue;
                }
                if let Ok(cell) = lattice.cells.binary_search(&(grid.index(a, b, c) as u32)) {
                    probes.push((l, i, cell as u32));
                }
            }
        }
        let sums = vec![0.0; probes.len()];
        CenterlinePressure { probes, sums, weight: 0.0 }
    }

    fn add(&mut self, moments: &[[f32; 4]], units: &LatticeUnits, shift: f64, duration: f64) {
        for (s, &(_, _, cell)) in self.sums.iter_mut().zip(&self.probes) {
            *s += (units.pressure_to_si(f64::from(moments[cell as usize][0])) + shift) * duration;
        }
        self.weight += duration;
    }

    fn reset(&mut self) {
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.weight = 0.0;
    }

    /// The lowest Pd/Pa along the lines and where it is. The proximal (aortic) pressure is the first
    /// probe's absolute pressure, lattice pressure plus `reference` (Pa), when outlet models fix
    /// the pressure level, else `aortic` (Pa).
    /// Pd/Pa at every probe of the lines. The proximal (aortic) pressure is the first probe's
    /// absolute pressure, lattice pressure plus `reference` (Pa), when outlet models fix the
    /// pressure level, else `aortic` (Pa).
    fn ratios(&self, lines: &[crate::lattice::Centerline], aortic: f64, reference: Option<f64>) -> Vec<PdPa> {
        let w = self.weight.max(f64::MIN_POSITIVE);
        let mut out = Vec::new();
        for (l, line) in lines.iter().enumerate() {
            let on: Vec<(usize, f64)> = self
                .probes
                .iter()
                .zip(&self.sums)
                .filter(|((pl, _, _), _)| *pl == l)
                .map(|((_, i, _), s)| (*i, s / w))
                .collect();
            let Some(&(_, proximal)) = on.first() else { continue };
            let aortic = reference.map_or(aortic, |r| r + proximal);
            out.extend(on.into_iter().map(|(i, p)| {
                let x = line.points[i];
                PdPa {
                    ratio: (aortic - (proximal - p)) / aortic,
                    outlet: line.outlet,
                    abscissa_m: line.abscissa[i],
                    point_m: [x.x, x.y, x.z],
                    aortic_pressure_pa: aortic,
                }
            }));
        }
        out
    }

    /// The lowest Pd/Pa along the lines, and Pd/Pa at the centerline point nearest `point` (m).
    fn summary(
        &self,
        lines: &[crate::lattice::Centerline],
        aortic: f64,
        reference: Option<f64>,
        point: Option<[f64; 3]>,
    ) -> (Option<PdPa>, Option<PdPa>) {
        let all = self.ratios(lines, aortic, reference);
        let lowest = all.iter().min_by(|a, b| a.ratio.total_cmp(&b.ratio)).cloned();
        let distance = |a: &PdPa, p: [f64; 3]| (0..3).map(|k| (a.point_m[k] - p[k]).powi(2)).sum::<f64>();
        let at =
            point.and_then(|p| all.iter().min_by(|a, b| distance(a, p).total_cmp(&distance(b, p))).cloned());
        (lowest, at)
    }
}

fn frame_name(step: u64) -> String {
    format!("fluid_{step:08}.vti")
}

/// Writes the fields of `moments` as a .vti frame and rewrites fluid.pvd to include it.
fn write_frame(
    dir: &Path,
    lattice: &Lattice,
    units: &LatticeUnits,
    moments: &[[f32; 4]],
    shift: f64,
    step: u64,
    frames: &mut Vec<PvdEntry>,
) -> Result<()> {
    let n = lattice.grid.len();
    let mut velocity = vec![[0.0f32; 3]; n];
    let mut pressure = vec![0.0f32; n];
    let mut mask = vec![0u8; n];
    for (cell, m) in moments.iter().enumerate() {
        let g = lattice.cells[cell] as usize;
        velocity[g] = [1, 2, 3].map(|c| units.velocity_to_si(m[c] as f64) as f32);
        pressure[g] = (units.pressure_to_si(m[0] as f64) + shift) as f32;
        mask[g] = 1;
    }
    let o = lattice.grid.origin;
    let grid = ImageGrid { origin: [o.x, o.y, o.z], spacing: lattice.grid.dx, dims: lattice.grid.dims };
    let name = frame_name(step);
    write_vti(
        &dir.join(&name),
        &grid,
        &[
            PointField::Vector { name: "velocity", values: &velocity },
            PointField::Scalar { name: "pressure", values: &pressure },
            PointField::Mask { name: "fluid", values: &mask },
        ],
    )?;
    frames.push(PvdEntry { time: step as f64 * units.dt_s, file: name });
    write_pvd(&dir.join("fluid.pvd"), frames)
}
