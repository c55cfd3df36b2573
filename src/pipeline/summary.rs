//! summary.json: the key figures of a run (flow, and wall mechanics when the case has a wall), with
//! units in the key names.

use crate::fem::WallSummary;
use crate::gpu::AdapterSummary;
use crate::hemo::{PdPa, SectionMeasure, WallShearSummary};
use crate::units::LatticeUnits;
use serde::Serialize;

/// Everything a script needs from a finished (or interrupted) run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// "complete", "interrupted" (Ctrl-C), "diverged" (the figures measured up to the last stable
    /// batch; those of the diverged state are null) or "invalid" (see `status_reasons`).
    pub status: String,
    /// Why the status is not complete: the divergence (where, when, advice), non-finite results, no
    /// net flow, an outlet that only took flow in, or a mass error beyond 10%.
    pub status_reasons: Vec<String>,
    /// hemotwin version that wrote the file.
    pub hemotwin_version: String,
    /// SHA-256 of the resolved case (case.toml, less output.dir and run.backend) and of its input
    /// files' contents: two runs with equal hashes ran the same case on the same inputs.
    pub case_hash: String,
    /// The files the case read, with their SHA-256.
    pub inputs: Vec<crate::identity::InputFile>,
    /// Lattice parameters: dx, dt, tau, Mach.
    pub lattice: LatticeUnits,
    /// Highest Mach number seen in the flow during the run.
    pub max_mach: f64,
    /// Reynolds number on the inlet diameter and mean velocity.
    pub reynolds_inlet: f64,
    /// "gpu" or "cpu".
    pub backend: String,
    /// GPU adapter, when the GPU ran.
    pub adapter: Option<AdapterSummary>,
    /// Fluid cells.
    pub fluid_cells: usize,
    /// Lattice nodes in the bounding box.
    pub grid_nodes: usize,
    /// Device memory per fluid cell (bytes).
    pub bytes_per_fluid_cell: f64,
    /// Boundary links (wall, inlet and outlet).
    pub boundary_links: usize,
    /// Steps done.
    pub steps: u64,
    /// Physical time simulated (s).
    pub simulated_time_s: f64,
    /// Wall-clock time of the time loop (s).
    pub wall_time_s: f64,
    /// Million lattice updates per second of the time loop.
    pub mlups: f64,
    /// True when the steady-state criterion was met.
    pub converged: bool,
    /// Last relative change of the velocity field per 1000 steps.
    pub residual_per_1000_steps: f64,
    /// True when the run was stopped by Ctrl-C before its end.
    pub interrupted: bool,
    /// Mean pressure at the inlet section, relative to the outlet (Pa).
    pub inlet_pressure_pa: f64,
    /// Mean pressure at the outlet section (Pa).
    pub outlet_pressure_pa: f64,
    /// Inlet minus outlet section pressure (Pa).
    pub pressure_drop_pa: f64,
    /// Flow into the inlet section (m^3/s).
    pub inflow_m3_s: f64,
    /// Flow out of all outlet sections (m^3/s).
    pub outflow_m3_s: f64,
    /// |inflow - outflow| / inflow.
    pub mass_conservation_error: f64,
    /// Each port's section, by name; flows and pressures are means over `averaged_over_s`.
    pub ports: Vec<PortSummary>,
    /// Wall shear stress indices on the lumen (wall.vtp holds them per vertex).
    pub wall: WallShearSummary,
    /// Peak values of the wall mechanics (wall_fe.vtu holds the fields), when the case has a wall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_mechanics: Option<WallSummary>,
    /// The flow-wall iterations, when the case's wall answers back (`[wall.coupling]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupling: Option<super::coupling::CouplingSummary>,
    /// The lowest Pd/Pa (FFR-like) along the centerlines over the window, and where.
    pub pd_pa_min: Option<PdPa>,
    /// Pd/Pa at the centerline point nearest `indices.point`, when the case names one.
    pub pd_pa_at_point: Option<PdPa>,
    /// Pressure (Pa) that lattice pressures are relative to: section, frame and wall pressures add
    /// to it (0 with zero-pressure outlets; the outlets' pressure at mean flow with models).
    pub pressure_reference_pa: f64,
    /// Length of the averaging window (s): the last cycle of a pulsatile run, the last check
    /// interval of a steady one.
    pub averaged_over_s: f64,
    /// Warnings raised during set-up and the run.
    pub warnings: Vec<String>,
}

/// One port's measured section.
#[derive(Debug, Clone, Serialize)]
pub struct PortSummary {
    /// Port name.
    pub name: String,
    /// "inlet" or "outlet".
    pub role: String,
    /// Distance of the measuring section inside the port (m).
    pub section_offset_m: f64,
    /// What the section measured (means over the averaging window).
    #[serde(flatten)]
    pub measure: SectionMeasure,
    /// Highest mean section pressure over the window (Pa).
    pub peak_pressure_pa: f64,
    /// Outlets: share of the total outflow.
    pub flow_split: Option<f64>,
    /// Outlets: inlet minus outlet section pressure, time-averaged over the window (Pa).
    pub pressure_drop_mean_pa: Option<f64>,
    /// Outlets: the largest inlet minus outlet section pressure over the window (Pa).
    pub pressure_drop_peak_pa: Option<f64>,
    /// Outlets: mean pressure the outlet model imposed over the window (Pa, absolute).
    pub imposed_pressure_pa: Option<f64>,
}
