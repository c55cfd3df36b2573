//! The end of a flow run: its averaging window, port table, wall fields, Pd/Pa and the validity
//! gate, in memory as a [`FlowResult`].

use super::flow::{FlowRun, PortSample};
use super::summary::{PortSummary, Summary};
use crate::error::Result;
use crate::geometry::vessel::Vessel;
use crate::hemo::{
    CenterlinePressure, PdPa, SectionMeasure, WallAverages, WallFields, WallShearSummary, lowest_and_at,
};
use crate::lattice::{Centerline, Lattice, PortRole};
use crate::units::LatticeUnits;

/// Largest mass-conservation error of a run whose status is complete (above it: invalid).
pub const MAX_MASS_ERROR: f64 = 0.10;

/// A finished flow run, in memory: the figures of summary.json, the vessel with its wall fields,
/// the centerlines, the port series and the final flow on the lattice.
pub struct FlowResult {
    /// The figures (summary.json; `wall_mechanics` is filled in by the wall stage).
    pub summary: Summary,
    /// The vessel the flow ran in.
    pub vessel: Vessel,
    /// TAWSS, OSI, RRT, pressures and WSS on every vertex of `vessel.surface`.
    pub wall: WallFields,
    /// The centerlines from the inlet to every outlet (empty when they could not be traced).
    pub lines: Vec<Centerline>,
    /// The port sections measured after every batch (ports.csv).
    pub series: Vec<PortSample>,
    /// The lattice parameters.
    pub units: LatticeUnits,
    /// The fluid lattice.
    pub lattice: Lattice,
    /// (drho, ux, uy, uz) of every fluid cell at the end, lattice units.
    pub moments: Vec<[f32; 4]>,
    /// Pd/Pa at every centerline probe, time-averaged over the window.
    pub pd_pa_along: Vec<PdPa>,
    /// The pressure along the centerlines over the window, sample by sample (peaks of drops).
    pub pressure_along: CenterlinePressure,
    /// Highest velocity magnitude in the flow over the window (m/s).
    pub peak_velocity_m_s: f64,
}

impl FlowRun {
    /// Ends the run: averages over the window (the last complete cycle, else the final state),
    /// measures the ports, the wall and Pd/Pa, and marks the status (`stopped`: the caller stopped
    /// it before its end).
    pub fn finish(mut self, stopped: bool) -> Result<FlowResult> {
        let units = self.units;
        let shift = self.coupling.shift();
        let interrupted = stopped && self.steps_done() < self.total && !self.progress.converged;
        // A diverged run's summary holds what was measured up to its last good batch; the fields
        // taken from the diverged state are non-finite and written as null.
        let diverged =
            self.divergence().map(|d| d.to_error(&self.case, &self.vessel, &units, None).to_string());
        let mut warnings = std::mem::take(&mut self.warnings);
        if self.progress.clipped_max > 0 {
            warnings.push(format!(
                "the local relaxation time left [{}, {}] in up to {} cells and was clipped there: the viscosity is \
                 wrong in those cells; use a finer lattice (lower shear per step) or raise fluid.tau_max",
                crate::units::TAU_MIN,
                self.case.fluid.tau_max,
                self.progress.clipped_max
            ));
        }
        if self.progress.max_mach > crate::units::MACH_WARN {
            warnings.push(format!(
                "the flow reached Mach {:.3}: consider a smaller time step (lattice.mach)",
                self.progress.max_mach
            ));
        }
        let (aortic, levelled) = (self.case.indices.aortic_pressure, self.coupling.levelled());
        // The window: the last complete cycle, else (steady, or less than a cycle run) the final state.
        let (pd_pa_along, pressure_along) = match self.progress.window_along.take() {
            Some(window) if self.progress.complete.is_some() => {
                (std::mem::take(&mut self.progress.pd_pa_along), window)
            }
            _ => {
                self.progress.along.reset();
                self.progress.along.add(&self.moments, &units, shift, 1.0);
                (self.progress.along.ratios(&self.lines, aortic, levelled), self.progress.along.clone())
            }
        };
        let pd_pa = lowest_and_at(&pd_pa_along, self.case.indices.point);
        let series = &self.progress.series;
        let (window_range, averages, last_wall) = match self.progress.complete.take() {
            Some(c) => c,
            None => {
                let mut sample = self.sampler.sample(&self.solver.stress()?, &self.moments, &units);
                sample.pressure.iter_mut().for_each(|p| *p += shift);
                let mut final_state = WallAverages::default();
                final_state.add(&sample, 1.0);
                (series.len().saturating_sub(1)..series.len(), final_state, sample)
            }
        };
        let vessel = &self.vessel;
        let inlet = vessel.inlet().unwrap_or(0);
        let window = &series[window_range];
        let span: f64 = window.iter().map(|x| x.duration).sum::<f64>().max(f64::MIN_POSITIVE);
        let mean_of = |k: usize, f: fn(&SectionMeasure) -> f64| -> f64 {
            window.iter().map(|x| f(&x.measures[k]) * x.duration).sum::<f64>() / span
        };
        // `pressure`: the lumen pressure on an absolute level (Pa), the load of the wall mechanics:
        // the reference where outlet models set it, else the inlet at the case's aortic pressure.
        let level = if self.coupling.coupled {
            self.coupling.reference
        } else {
            aortic - mean_of(inlet, |m| m.mean_pressure_pa)
        };
        let wall =
            WallFields::new(vessel.surface.vertices.len(), &self.sampler, &averages, &last_wall, level);
        let prescribed_flow = self.inflow.mean_flow;
        let role_flow = |role: PortRole| -> f64 {
            (0..vessel.ports.len())
                .filter(|&k| vessel.roles[k] == role)
                .map(|k| mean_of(k, |m| m.flow_m3_s))
                .sum()
        };
        let (inflow, outflow) = (role_flow(PortRole::Velocity), role_flow(PortRole::Pressure));
        let ports: Vec<PortSummary> = (0..vessel.ports.len())
            .map(|k| {
                let outlet = vessel.roles[k] == PortRole::Pressure;
                let drop =
                    |x: &PortSample| x.measures[inlet].mean_pressure_pa - x.measures[k].mean_pressure_pa;
                PortSummary {
                    name: vessel.ports[k].name.clone(),
                    role: if outlet { "outlet" } else { "inlet" }.into(),
                    section_offset_m: self.section_offset,
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
        let mean_pressure = |role: &str| {
            let values: Vec<f64> =
                ports.iter().filter(|p| p.role == role).map(|p| p.measure.mean_pressure_pa).collect();
            values.iter().sum::<f64>() / values.len().max(1) as f64
        };
        let (p_in, p_out) = (mean_pressure("inlet"), mean_pressure("outlet"));
        let mass_conservation_error = (inflow - outflow).abs() / inflow.abs().max(1e-300);
        // The validity gate: results that are not results are marked, never passed off as complete.
        let mut status_reasons = Vec::new();
        if ![p_in, p_out, inflow, outflow, mass_conservation_error, self.progress.max_mach]
            .iter()
            .all(|v| v.is_finite())
        {
            status_reasons.push("non-finite results (pressure, flow or Mach)".to_string());
        }
        // False for a NaN inflow too.
        let flowing = inflow > 1e-3 * prescribed_flow;
        if !flowing {
            status_reasons.push(format!(
                "no net flow: {inflow:.3e} m^3/s through the inlet over the averaging window against the prescribed \
                 mean {prescribed_flow:.3e} m^3/s (a run shorter than its ramp?)"
            ));
        }
        if mass_conservation_error > MAX_MASS_ERROR && flowing {
            status_reasons.push(format!(
                "mass error {:.2}% beyond {:.0}%",
                100.0 * mass_conservation_error,
                100.0 * MAX_MASS_ERROR
            ));
        }
        for (k, p) in vessel.ports.iter().enumerate().filter(|(k, _)| vessel.roles[*k] == PortRole::Pressure)
        {
            if !series.is_empty() && series.iter().all(|x| x.measures[k].flow_m3_s < 0.0) {
                status_reasons.push(format!(
                    "outlet `{}`: flow entered the vessel through it for the whole run (an inward normal?)",
                    p.name
                ));
            }
        }
        let status = match (&diverged, interrupted, status_reasons.is_empty()) {
            (Some(_), _, _) => "diverged",
            (None, true, _) => "interrupted",
            (None, false, true) => "complete",
            (None, false, false) => "invalid",
        };
        if let Some(d) = diverged {
            status_reasons.insert(0, d);
        }
        let steps = self.steps_done();
        let lattice = &self.lattice;
        let summary = Summary {
            status: status.into(),
            status_reasons,
            hemotwin_version: env!("CARGO_PKG_VERSION").into(),
            case_hash: self.identity().case_hash.clone(),
            inputs: self.identity().inputs.clone(),
            lattice: units,
            max_mach: self.progress.max_mach,
            reynolds_inlet: self.reynolds,
            backend: self.backend.kind.clone(),
            adapter: self.backend.adapter.clone(),
            fluid_cells: lattice.len(),
            grid_nodes: lattice.grid.len(),
            bytes_per_fluid_cell: lattice.bytes_per_cell(),
            boundary_links: lattice.links.len(),
            steps,
            simulated_time_s: steps as f64 * units.dt_s,
            wall_time_s: self.progress.loop_seconds,
            mlups: self.mlups(),
            converged: self.progress.converged,
            residual_per_1000_steps: self.progress.residual,
            interrupted,
            inlet_pressure_pa: p_in,
            outlet_pressure_pa: p_out,
            pressure_drop_pa: p_in - p_out,
            inflow_m3_s: inflow,
            outflow_m3_s: outflow,
            mass_conservation_error,
            ports,
            wall: WallShearSummary::of(&self.sampler, &averages),
            wall_mechanics: None,
            coupling: None,
            pressure_reference_pa: self.coupling.reference,
            pd_pa_min: pd_pa.0,
            pd_pa_at_point: pd_pa.1,
            averaged_over_s: span,
            warnings,
        };
        Ok(FlowResult {
            summary,
            wall,
            lines: std::mem::take(&mut self.lines),
            series: std::mem::take(&mut self.progress.series),
            units,
            moments: std::mem::take(&mut self.moments),
            pd_pa_along,
            pressure_along,
            peak_velocity_m_s: self.progress.window_peak_mach * units.sound_speed_m_s(),
            vessel: self.vessel,
            lattice: self.lattice,
        })
    }
}
