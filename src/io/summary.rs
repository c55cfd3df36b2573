//! summary.json: the key figures of a run, with units in the key names.

use crate::gpu::AdapterSummary;
use crate::hemo::SectionMeasure;
use crate::units::LatticeUnits;
use serde::Serialize;

/// Everything a script needs from a finished (or interrupted) run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// hemotwin version that wrote the file.
    pub hemotwin_version: String,
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
    /// Each port's section, by name.
    pub ports: Vec<PortSummary>,
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
    /// What the section measured.
    #[serde(flatten)]
    pub measure: SectionMeasure,
}
