//! The flow stage: a lattice-Boltzmann run the caller steps (`advance`), reads at any time
//! (moments, port sections, pressure drop), checkpoints and resumes, and finishes into a
//! [`FlowResult`](super::FlowResult).

use super::RunOptions;
use super::divergence::{DIVERGENCE_CHECK_STEPS, Divergence, check_stability, relative_change};
use super::observer::{Event, Observer};
use super::outlets::OutletCoupling;
use super::setup::{Setup, prepare_observed};
use crate::case::Case;
use crate::error::{Error, Result};
use crate::geometry::Port;
use crate::geometry::vessel::Vessel;
use crate::hemo::{
    CenterlinePressure, PdPa, Section, SectionMeasure, WallAverages, WallSample, WallSampler, measure_cells,
    section_cells,
};
use crate::identity::RunIdentity;
use crate::io::outputs::{Frame, write_frame, write_table};
use crate::io::vtk::{ImageGrid, PvdEntry};
use crate::lattice::{Centerline, Lattice, PortRole};
use crate::lbm::viscosity::apply_rheology;
use crate::lbm::{BackendInfo, FluxEntry, Solver, StepParams};
use crate::physiology::Inflow;
use crate::stencil::d3q19;
use crate::units::LatticeUnits;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

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

/// The port sections' measures after one batch of steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortSample {
    /// Time at the end of the batch (s).
    pub time: f64,
    /// Length of the batch (s): the weight of this sample in time averages.
    pub duration: f64,
    /// One measure per port.
    pub measures: Vec<SectionMeasure>,
    /// Pressure each outlet model imposes (Pa; NaN at inlets).
    pub imposed: Vec<f64>,
}

/// What a run has measured so far, beyond the populations: the port series, the running and the
/// last complete cycle's averages, Pd/Pa, the peaks and the loop time (checkpoint.bin holds it).
#[derive(Serialize, Deserialize)]
pub(super) struct Progress {
    /// Pressure along the centerlines, summed over the running cycle.
    pub(super) along: CenterlinePressure,
    /// Pd/Pa at every centerline probe over the last complete cycle.
    pub(super) pd_pa_along: Vec<PdPa>,
    /// The pressure along the centerlines over the last complete cycle, sample by sample.
    pub(super) window_along: Option<CenterlinePressure>,
    /// Highest Mach number of the running cycle, of the last complete one, and of the whole run.
    cycle_peak_mach: f64,
    pub(super) window_peak_mach: f64,
    pub(super) max_mach: f64,
    pub(super) residual: f64,
    pub(super) converged: bool,
    /// Most cells whose local tau was clipped after any batch.
    pub(super) clipped_max: usize,
    /// The running cycle's wall averages, and where its samples start in `series`.
    averages: WallAverages,
    cycle_start: usize,
    /// The last complete cycle: its samples in `series`, its wall averages and its last wall sample.
    pub(super) complete: Option<(Range<usize>, WallAverages, WallSample)>,
    /// Each complete cycle's mean port pressures (Pa).
    cycle_means: Vec<Vec<f64>>,
    pub(super) series: Vec<PortSample>,
    /// Seconds spent stepping.
    pub(super) loop_seconds: f64,
}

/// A flow run on one case: its set-up, solver and the measures taken after every batch of steps.
pub struct FlowRun {
    pub(super) case: Case,
    pub(super) vessel: Vessel,
    pub(super) units: LatticeUnits,
    pub(super) lattice: Lattice,
    pub(super) inflow: Inflow,
    pub(super) lines: Vec<Centerline>,
    pub(super) reynolds: f64,
    pub(super) warnings: Vec<String>,
    pub(super) solver: Solver,
    pub(super) backend: BackendInfo,
    pub(super) coupling: OutletCoupling,
    sections: Vec<Section>,
    /// The sections' cells, found once; every batch measures them.
    section_lists: Vec<Vec<(u32, f64)>>,
    pub(super) section_offset: f64,
    pub(super) sampler: WallSampler,
    pub(super) total: u64,
    ramp_steps: u64,
    check_every: u64,
    per_cycle: Option<u64>,
    pub(super) moments: Vec<[f32; 4]>,
    previous: Option<Vec<[f32; 4]>>,
    /// Everything measured so far: checkpointed whole, so that a resumed run reports what an
    /// uninterrupted one would.
    pub(super) progress: Progress,
    divergence: Option<Divergence>,
    observer: Arc<dyn Observer>,
    /// The case and input files this run belongs to (summary.json, checkpoint.bin).
    identity: RunIdentity,
}

impl FlowRun {
    /// Sets up `case` (vessel, lattice, solver on `opts.backend` or the case's) at rest; tells
    /// `opts.observer` the lattice, units, warnings and backend.
    pub fn new(case: &Case, opts: &RunOptions) -> Result<Self> {
        FlowRun::from_setup(case, prepare_observed(case, opts.observer.as_ref())?, opts)
    }

    /// The run of `case` on a prepared `setup` (e.g. of an edited vessel), at rest.
    pub fn from_setup(case: &Case, setup: Setup, opts: &RunOptions) -> Result<Self> {
        let say = |s: &str| opts.observer.event(&Event::Info(s));
        let Setup { vessel, units, lattice, reynolds, warnings, inflow, outlets, lines, seconds, .. } = setup;
        say(&format!(
            "lattice: {} fluid cells in a {}x{}x{} grid ({:.1}% fill), {} boundary links, {:.0} bytes per fluid \
             cell; set-up {:.2} s",
            lattice.len(),
            lattice.grid.dims[0],
            lattice.grid.dims[1],
            lattice.grid.dims[2],
            100.0 * lattice.len() as f64 / lattice.grid.len() as f64,
            lattice.links.len(),
            lattice.bytes_per_cell(),
            seconds
        ));
        say(&format!("units: {}; Reynolds {reynolds:.1}", units.describe()));
        for w in &warnings {
            opts.observer.event(&Event::Warning(w));
        }
        let sampler = WallSampler::new(&vessel.surface, &vessel.wall_tags(), &lattice);
        let along = CenterlinePressure::new(&lines, &lattice);
        let offset = section_offset(units.dx_m);
        let sections: Vec<Section> =
            vessel.ports.iter().zip(&vessel.roles).map(|(p, r)| port_section(p, *r, offset)).collect();
        let section_lists = sections.iter().map(|s| section_cells(&lattice, s)).collect();
        let coupling = OutletCoupling::new(outlets, &vessel, &inflow, &units);
        let mut solver = Solver::new(&lattice, &units, opts.backend.unwrap_or(case.run.backend))?;
        if let Some(n) = solver.notice() {
            say(n);
        }
        if coupling.coupled {
            solver.set_flux_sections(flux_entries(&vessel, &lattice, &units, &coupling))?;
            say(&format!(
                "outlets: coupled every step; pressures relative to {:.1} Pa ({:.3e} Pa per unit of lattice density)",
                coupling.reference,
                units.pressure_to_si(1.0)
            ));
        }
        apply_rheology(&case.fluid, &units, &mut solver);
        let backend = solver.backend();
        say(&format!(
            "backend: {}{}",
            backend.kind,
            backend.adapter.as_ref().map(|a| format!(" ({}, {})", a.name, a.backend)).unwrap_or_default()
        ));
        let total = super::setup::planned_steps(case, &units, &inflow)?;
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
        let moments = solver.moments()?;
        let identity = RunIdentity::of(case, opts.edits.clone().map(|e| ("edits", e)))?;
        Ok(FlowRun {
            ramp_steps: case.inflow.ramp.map(|r| units.steps(r)).unwrap_or(total / 10).max(1),
            // The stability check follows every batch: a divergence stops the run within this many steps.
            check_every: (total / 200).clamp(DIVERGENCE_CHECK_STEPS / 2, DIVERGENCE_CHECK_STEPS),
            per_cycle: inflow.period().map(|p| units.steps(p)),
            case: case.clone(),
            vessel,
            units,
            lattice,
            inflow,
            lines,
            reynolds,
            warnings,
            solver,
            backend,
            coupling,
            sections,
            section_lists,
            section_offset: offset,
            sampler,
            total,
            moments,
            previous: None,
            progress: Progress {
                along,
                pd_pa_along: Vec::new(),
                window_along: None,
                cycle_peak_mach: 0.0,
                window_peak_mach: 0.0,
                max_mach: 0.0,
                residual: f64::INFINITY,
                converged: false,
                clipped_max: 0,
                averages: WallAverages::default(),
                cycle_start: 0,
                complete: None,
                cycle_means: Vec::new(),
                series: Vec::new(),
                loop_seconds: 0.0,
            },
            divergence: None,
            observer: opts.observer.clone(),
            identity,
        })
    }

    /// The lattice parameters.
    pub fn units(&self) -> &LatticeUnits {
        &self.units
    }

    /// The fluid lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The vessel, with its ports.
    pub fn vessel(&self) -> &Vessel {
        &self.vessel
    }

    /// The centerlines from the inlet to every outlet (empty when they could not be traced).
    pub fn centerlines(&self) -> &[Centerline] {
        &self.lines
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> u64 {
        self.solver.steps_done()
    }

    /// Steps of the whole run (`run.steps`, `run.time` or `run.cycles`).
    pub fn total_steps(&self) -> u64 {
        self.total
    }

    /// True when the run converged (steady state, or pulsatile cycles that repeat).
    pub fn converged(&self) -> bool {
        self.progress.converged
    }

    /// Relative change of the velocity per 1000 steps over the last batch (infinite before the
    /// second batch).
    pub fn residual(&self) -> f64 {
        self.progress.residual
    }

    /// What the run adds to the lattice's pressures (Pa) to report them relative to the pressure
    /// reference (summary.json `pressure_reference_pa`): 0 unless outlet models move the level.
    pub fn pressure_shift_pa(&self) -> f64 {
        self.coupling.shift()
    }

    /// True when the run has done its steps or converged.
    pub fn done(&self) -> bool {
        self.progress.converged || self.steps_done() >= self.total
    }

    /// (drho, ux, uy, uz) of every fluid cell after the last batch, lattice units.
    pub fn moments(&self) -> &[[f32; 4]] {
        &self.moments
    }

    /// The port sections measured after every batch so far.
    pub fn port_series(&self) -> &[PortSample] {
        &self.progress.series
    }

    /// Inlet minus mean outlet section pressure after the last batch (Pa; NaN before any step).
    pub fn pressure_drop_pa(&self) -> f64 {
        let Some(last) = self.progress.series.last() else { return f64::NAN };
        let mean = |role: PortRole| {
            let values: Vec<f64> = (0..self.vessel.ports.len())
                .filter(|&k| self.vessel.roles[k] == role)
                .map(|k| last.measures[k].mean_pressure_pa)
                .collect();
            values.iter().sum::<f64>() / values.len().max(1) as f64
        };
        mean(PortRole::Velocity) - mean(PortRole::Pressure)
    }

    /// Sets the start-up ramp to `steps` steps (default: `inflow.ramp`, else a tenth of the run).
    pub fn set_ramp(&mut self, steps: u64) {
        self.ramp_steps = steps.max(1);
    }

    /// The non-equilibrium second moment Pi^neq (xx, yy, zz, xy, xz, yz) of every cell, lattice units
    /// (see [`Solver::stress`]).
    pub fn stress(&mut self) -> Result<Vec<[f32; 6]>> {
        self.solver.stress()
    }

    /// Cells whose local relaxation time is clipped in the current state (see [`clipped_cells`]).
    pub fn clipped_cells(&mut self) -> Result<usize> {
        clipped_cells(&mut self.solver, &self.moments)
    }

    /// The divergence that stopped the last `advance`, if one did.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    /// The next batch of the run: up to the next stability check, cycle end or the run's end.
    pub fn next_batch(&self) -> u64 {
        self.batch_within(self.total.saturating_sub(self.steps_done()))
    }

    /// The next batch within `steps` more steps.
    fn batch_within(&self, steps: u64) -> u64 {
        let mut batch = self.check_every.min(steps);
        if let Some(c) = self.per_cycle {
            batch = batch.min(c - self.steps_done() % c);
        }
        batch
    }

    /// Advances `steps` steps in batches, checking stability and measuring the ports after each
    /// (averaging the wall over each cycle of a pulsatile run). A divergence is an
    /// [`Error::Diverged`] that says where, when and what to change; `divergence()` then holds it.
    pub fn advance(&mut self, steps: u64) -> Result<()> {
        let end = self.steps_done() + steps;
        while self.steps_done() < end {
            let batch = self.batch_within(end - self.steps_done());
            let start = Instant::now();
            let outcome = self.advance_batch(batch);
            self.progress.loop_seconds += start.elapsed().as_secs_f64();
            outcome?;
        }
        Ok(())
    }

    /// Advances until the run has done its steps or converged (no files: [`super::run`] writes them).
    pub fn run_to_end(&mut self) -> Result<()> {
        while !self.done() {
            self.advance(self.next_batch())?;
        }
        Ok(())
    }

    /// One batch of `batch` steps and the measures after it.
    fn advance_batch(&mut self, batch: u64) -> Result<()> {
        let (units, inflow, ramp_steps) = (self.units, &self.inflow, self.ramp_steps);
        let boundary = |s: u64, p: &mut StepParams, rho: &[f32; crate::lattice::MAX_PORTS]| {
            p.inflow_scale = ramp(s, ramp_steps) as f32;
            if inflow.waveform.is_some() {
                p.profile = inflow.table(s as f64 * units.dt_s);
            }
            p.port_rho = *rho;
        };
        if self.coupling.coupled {
            // One step at a time: each outlet model reads the flow of the step just done and sets
            // the pressure of the next.
            for _ in 0..batch {
                let rho = self.coupling.port_rho;
                self.solver.advance_with(1, |s, p| boundary(s, p, &rho));
                let flows = self.solver.port_flows(self.vessel.ports.len())?;
                self.coupling.advance(&flows, &units);
            }
        } else {
            let rho = self.coupling.port_rho;
            self.solver.advance_with(batch, |s, p| boundary(s, p, &rho));
        }
        self.moments = self.solver.moments()?;
        let step = self.solver.steps_done();
        match check_stability(&self.lattice, &self.moments, &units, step) {
            Ok(mach) => {
                self.progress.max_mach = self.progress.max_mach.max(mach);
                self.progress.cycle_peak_mach = self.progress.cycle_peak_mach.max(mach);
                if self.per_cycle.is_none() {
                    // A steady run's window is its final state.
                    self.progress.window_peak_mach = mach;
                }
            }
            Err(d) => {
                let error = d.to_error(&self.case, &self.vessel, &units, None);
                self.divergence = Some(d);
                return Err(error);
            }
        }
        let duration = batch as f64 * units.dt_s;
        let shift = self.coupling.shift();
        self.progress.series.push(PortSample {
            time: step as f64 * units.dt_s,
            duration,
            measures: self
                .sections
                .iter()
                .zip(&self.section_lists)
                .map(|(sec, cells)| {
                    let mut m = measure_cells(cells, sec.normal, &self.moments, &units);
                    m.mean_pressure_pa += shift;
                    m
                })
                .collect(),
            imposed: self.coupling.imposed.clone(),
        });
        let mut cycles_converged = false;
        if let Some(c) = self.per_cycle {
            let mut sample = self.sampler.sample(&self.solver.stress()?, &self.moments, &units);
            sample.pressure.iter_mut().for_each(|p| *p += shift);
            self.progress.averages.add(&sample, duration);
            self.progress.along.add(&self.moments, &units, shift, duration);
            if step.is_multiple_of(c) {
                cycles_converged = self.close_cycle(sample);
            }
        }
        if self.solver.template().local_viscosity() {
            self.progress.clipped_max =
                self.progress.clipped_max.max(clipped_cells(&mut self.solver, &self.moments)?);
        }
        if let Some(prev) = &self.previous {
            self.progress.residual = relative_change(prev, &self.moments) * 1000.0 / batch as f64;
            // A pulsatile flow never settles: it runs its cycles.
            self.progress.converged = step > self.ramp_steps
                && self.inflow.waveform.is_none()
                && self.case.run.steady_tolerance > 0.0
                && self.progress.residual < self.case.run.steady_tolerance;
        }
        self.previous = Some(self.moments.clone());
        self.progress.converged |= cycles_converged;
        Ok(())
    }

    /// Closes the cycle that ends with `sample`: keeps its averages, Pd/Pa and port means; true
    /// when the ports' mean pressures changed by less than run.cycle_tolerance from the last cycle.
    fn close_cycle(&mut self, sample: WallSample) -> bool {
        let range = self.progress.cycle_start..self.progress.series.len();
        let window = &self.progress.series[range.clone()];
        let span: f64 = window.iter().map(|x| x.duration).sum();
        let reference = self.coupling.reference;
        let means: Vec<f64> = (0..self.vessel.ports.len())
            .map(|k| {
                window.iter().map(|x| x.measures[k].mean_pressure_pa * x.duration).sum::<f64>() / span
                    + reference
            })
            .collect();
        let mut converged = false;
        if let Some(prev) = self.progress.cycle_means.last() {
            let scale = means.iter().map(|p| p.abs()).fold(f64::MIN_POSITIVE, f64::max);
            let change = means.iter().zip(prev).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
            let line = format!(
                "cycle {}: port pressures changed by {:.3} %",
                self.progress.cycle_means.len() + 1,
                100.0 * change
            );
            self.observer.event(&Event::Info(&line));
            converged = self.case.run.cycle_tolerance > 0.0 && change < self.case.run.cycle_tolerance;
        }
        self.progress.cycle_means.push(means);
        let finished = std::mem::take(&mut self.progress.averages);
        self.progress.complete = Some((range, finished, sample));
        self.progress.pd_pa_along = self.progress.along.ratios(
            &self.lines,
            self.case.indices.aortic_pressure,
            self.coupling.levelled(),
        );
        self.progress.window_peak_mach = std::mem::take(&mut self.progress.cycle_peak_mach);
        self.progress.window_along = Some(self.progress.along.clone());
        self.progress.along.reset();
        self.progress.cycle_start = self.progress.series.len();
        converged
    }

    /// Million lattice updates per second of the steps run so far.
    pub fn mlups(&self) -> f64 {
        self.lattice.len() as f64 * self.steps_done() as f64 / self.progress.loop_seconds.max(1e-9) / 1e6
    }

    /// Writes the current flow as the frame of this step into `dir` and adds it to `frames`
    /// (rewriting fluid.pvd).
    pub fn write_frame(&self, dir: &Path, frames: &mut Vec<PvdEntry>) -> Result<()> {
        let (lattice, units) = (&self.lattice, &self.units);
        let shift = self.coupling.shift();
        let n = lattice.grid.len();
        let mut velocity = vec![[0.0f32; 3]; n];
        let mut pressure = vec![0.0f32; n];
        let mut fluid = vec![0u8; n];
        for (cell, m) in self.moments.iter().enumerate() {
            let g = lattice.cells[cell] as usize;
            velocity[g] = [1, 2, 3].map(|c| units.velocity_to_si(m[c] as f64) as f32);
            pressure[g] = (units.pressure_to_si(m[0] as f64) + shift) as f32;
            fluid[g] = 1;
        }
        let o = lattice.grid.origin;
        let grid = ImageGrid { origin: [o.x, o.y, o.z], spacing: lattice.grid.dx, dims: lattice.grid.dims };
        let frame = Frame { grid: &grid, velocity: &velocity, pressure: &pressure, fluid: &fluid };
        let step = self.steps_done();
        write_frame(dir, &frame, step, step as f64 * units.dt_s, frames)
    }

    /// Writes `ports.csv` into `dir`: time (s), then for each port its section's flow (m^3/s) and
    /// mean pressure (Pa, relative to the pressure reference) and the pressure its outlet model
    /// imposes (Pa, absolute; NaN at inlets).
    pub fn write_ports_csv(&self, dir: &Path) -> Result<()> {
        let mut header = vec!["time_s".to_string()];
        for p in &self.vessel.ports {
            for column in ["flow_m3_s", "pressure_pa", "imposed_pressure_pa"] {
                header.push(format!("{}_{column}", p.name));
            }
        }
        let rows: Vec<Vec<f64>> = self
            .progress
            .series
            .iter()
            .map(|x| {
                std::iter::once(x.time)
                    .chain(
                        x.measures
                            .iter()
                            .zip(&x.imposed)
                            .flat_map(|(m, p)| [m.flow_m3_s, m.mean_pressure_pa, *p]),
                    )
                    .collect()
            })
            .collect();
        write_table(&dir.join("ports.csv"), &header, &rows)
    }

    /// Writes `dir`/checkpoint.bin atomically: the step, the lattice's cell and link counts, each
    /// outlet's state, the run's identity (its case and input files), everything measured so far
    /// (the port series, peaks and cycle means) and the populations.
    pub fn write_checkpoint(&self, dir: &Path) -> Result<()> {
        let populations = self.solver.populations()?;
        let states = self.coupling.states();
        let identity = serde_json::to_vec(&self.identity)
            .map_err(|e| Error::parameter("case", format!("cannot be serialised: {e}")))?;
        let progress = postcard::to_stdvec(&self.progress)
            .map_err(|e| Error::io(dir.join("checkpoint.bin"), std::io::Error::other(e)))?;
        let mut bytes = Vec::with_capacity(128 + identity.len() + progress.len() + 4 * populations.len());
        bytes.extend_from_slice(CHECKPOINT_MAGIC);
        for v in [
            self.steps_done(),
            self.lattice.len() as u64,
            self.lattice.links.len() as u64,
            states.len() as u64,
            identity.len() as u64,
            progress.len() as u64,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for (c, p) in states {
            bytes.extend_from_slice(&c.to_le_bytes());
            bytes.extend_from_slice(&p.to_le_bytes());
        }
        bytes.extend_from_slice(&identity);
        bytes.extend_from_slice(&progress);
        bytes.extend_from_slice(bytemuck::cast_slice(&populations));
        crate::atomic::write_bytes_atomic(&dir.join("checkpoint.bin"), &bytes)
    }

    /// Continues from `dir`/checkpoint.bin: refused (naming the changed fields) when the checkpoint
    /// belongs to another case or other input files; returns the checkpoint's step.
    pub fn resume(&mut self, dir: &Path) -> Result<u64> {
        let path = dir.join("checkpoint.bin");
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::input(
                &path,
                format!("cannot read the checkpoint ({e}); start from rest instead of resuming"),
            )
        })?;
        let bad = |what: &str| Error::input(&path, format!("{what}; start from rest instead of resuming"));
        if bytes.len() < HEADER || &bytes[..8] != CHECKPOINT_MAGIC {
            return Err(bad("not a hemotwin checkpoint of this version"));
        }
        let word = |k: usize| u64::from_le_bytes(bytes[8 + 8 * k..16 + 8 * k].try_into().unwrap_or([0; 8]));
        let [step, cells, links, ports, identity_len, progress_len] = [0, 1, 2, 3, 4, 5].map(word);
        let states_end = HEADER as u64 + 16 * ports;
        let identity_end = states_end.saturating_add(identity_len);
        let progress_end = identity_end.saturating_add(progress_len);
        if progress_end > bytes.len() as u64 {
            return Err(bad(&format!("it has {} bytes, its header promises more: cut short?", bytes.len())));
        }
        let (states_end, identity_end, progress_end) =
            (states_end as usize, identity_end as usize, progress_end as usize);
        let identity: RunIdentity = serde_json::from_slice(&bytes[states_end..identity_end])
            .map_err(|e| bad(&format!("its case record is unreadable ({e})")))?;
        let changes = self.identity.changes_from(&identity);
        if !changes.is_empty() {
            return Err(Error::folder(
                dir,
                format!(
                    "its checkpoint belongs to another case; changed since that run started:\n  - {}\nresume with \
                     the case as it was, or start afresh (`--overwrite`, or another output folder)",
                    changes.join("\n  - ")
                ),
            ));
        }
        let lattice = &self.lattice;
        let outlets = self.coupling.outlets.len() as u64;
        if cells != lattice.len() as u64 || links != lattice.links.len() as u64 || ports != outlets {
            return Err(bad(&format!(
                "it was written for a lattice of {cells} cells, {links} links and {ports} ports, this case makes {} \
                 cells, {} links and {outlets} ports (another hemotwin version?)",
                lattice.len(),
                lattice.links.len(),
            )));
        }
        let expected = progress_end + 4 * d3q19::Q * lattice.len();
        if bytes.len() != expected {
            return Err(bad(&format!("it has {} bytes, {expected} expected: cut short?", bytes.len())));
        }
        let progress: Progress = postcard::from_bytes(&bytes[identity_end..progress_end])
            .map_err(|e| bad(&format!("its record of the run so far is unreadable ({e})")))?;
        let f = |at: usize| f64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        let states: Vec<(f64, f64)> =
            (0..ports as usize).map(|k| (f(HEADER + 16 * k), f(HEADER + 8 + 16 * k))).collect();
        let populations: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes[progress_end..]);
        self.solver.restore(&populations, step)?;
        self.coupling.restore(&states);
        self.progress = progress;
        self.moments = self.solver.moments()?;
        // The residual of the next batch is measured against this state, as in the run that wrote it.
        self.previous = Some(self.moments.clone());
        let line = format!(
            "resumed from {} at step {step} (t = {:.4e} s)",
            path.display(),
            step as f64 * self.units.dt_s
        );
        self.observer.event(&Event::Info(&line));
        Ok(step)
    }

    /// The run's identity: its resolved case, input files and their hash.
    pub fn identity(&self) -> &RunIdentity {
        &self.identity
    }
}

/// First bytes of checkpoint.bin, with the format version.
const CHECKPOINT_MAGIC: &[u8; 8] = b"HTCKPT03";

/// Bytes of checkpoint.bin before the outlet states: the magic and six counts.
const HEADER: usize = 8 + 6 * 8;

/// The section cells whose flux the outlet coupling reads, one spacing inside each modelled outlet:
/// the nearer the boundary, the shorter the acoustic delay between the pressure it sets and the
/// flow it reads back.
fn flux_entries(
    vessel: &Vessel,
    lattice: &Lattice,
    units: &LatticeUnits,
    coupling: &OutletCoupling,
) -> Vec<FluxEntry> {
    vessel
        .ports
        .iter()
        .zip(&vessel.roles)
        .map(|(p, r)| port_section(p, *r, units.dx_m))
        .enumerate()
        .filter(|(k, _)| coupling.outlets[*k].is_some())
        .flat_map(|(k, sec)| {
            section_cells(lattice, &sec).into_iter().map(move |(cell, w)| FluxEntry {
                cell,
                weight: w as f32,
                normal: [sec.normal.x as f32, sec.normal.y as f32, sec.normal.z as f32],
                port: k as u32,
                pad: [0; 2],
            })
        })
        .collect()
}
