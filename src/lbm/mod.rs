//! The lattice-Boltzmann flow solver: D3Q19, regularized or TRT collision, interpolated bounce-back, on the GPU
//! (wgpu) or the CPU (rayon) with the same arithmetic.

mod backend;
pub mod cpu;
mod gpu;
pub mod viscosity;

use crate::error::Result;
use crate::gpu::{AdapterSummary, BackendChoice, Resolved, resolve};
use crate::lattice::{Lattice, MAX_PORTS, PROFILE_SAMPLES};
use crate::stencil::COLLISION_TRT;
use crate::stencil::d3q19::Q;
use crate::units::LatticeUnits;
use backend::{CpuLbm, LbmKernels};
use bytemuck::{Pod, Zeroable};
use serde::Serialize;

pub use gpu::shader_sources;

/// Per-step parameters of the kernels (lattice units).
/// Keep in sync with `struct StepParams` in shaders/lbm_common.wgsl (checked by tests/shader_layout.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct StepParams {
    /// Number of fluid cells.
    pub n_cells: u32,
    /// Cells per row of a 2D dispatch (set by the GPU backend).
    pub row_width: u32,
    /// Symmetric relaxation rate 1/tau+.
    pub omega_plus: f32,
    /// Antisymmetric relaxation rate 1/tau-.
    pub omega_minus: f32,
    /// Factor on the prescribed inlet velocities (the start-up ramp), 0..1.
    pub inflow_scale: f32,
    /// Collision model: `COLLISION_TRT` or `COLLISION_REGULARIZED`.
    pub collision: u32,
    /// Padding to 32 bytes.
    pub pad: [u32; 2],
    /// Inlet profile: axial velocity relative to the inlet's mean velocity at full inflow, at
    /// ρ = k / (PROFILE_SAMPLES - 1), linearly interpolated between samples.
    pub profile: [f32; PROFILE_SAMPLES],
    /// Density imposed at the pressure links of each port (1 = the reference pressure).
    pub port_rho: [f32; MAX_PORTS],
    /// Local viscosity model: 0 Newtonian, 1 Carreau-Yasuda, 2 Casson (regularised).
    pub rheology: u32,
    /// Smagorinsky constant squared (0 = no LES), filter width one spacing.
    pub smagorinsky: f32,
    /// Range the local relaxation time tau is kept in.
    pub tau_min: f32,
    /// Upper end of the tau range.
    pub tau_max: f32,
    /// Carreau-Yasuda zero-shear kinematic viscosity (lattice units).
    pub nu_zero: f32,
    /// Carreau-Yasuda infinite-shear, or Casson, kinematic viscosity (lattice units).
    pub nu_inf: f32,
    /// Carreau-Yasuda time constant lambda (lattice time steps).
    pub lambda: f32,
    /// Carreau-Yasuda exponent a.
    pub power_a: f32,
    /// Carreau-Yasuda power-law index n.
    pub power_n: f32,
    /// Casson yield stress over density (lattice units).
    pub yield_stress: f32,
    /// Casson (Papanastasiou) regularisation m (lattice time steps).
    pub regularisation: f32,
    /// TRT magic parameter Lambda = (tau+ - 1/2)(tau- - 1/2).
    pub magic: f32,
}

impl StepParams {
    /// Newtonian parameters for `n_cells` cells relaxing with `tau` and `tau_minus`: full inflow
    /// with the inlet `profile`, every port at the reference density, the TRT magic parameter.
    pub fn newtonian(n_cells: usize, tau: f64, tau_minus: f64, profile: [f32; PROFILE_SAMPLES]) -> Self {
        StepParams {
            n_cells: n_cells as u32,
            row_width: 0,
            omega_plus: (1.0 / tau) as f32,
            omega_minus: (1.0 / tau_minus) as f32,
            inflow_scale: 1.0,
            collision: COLLISION_TRT,
            pad: [0; 2],
            profile,
            port_rho: [1.0; MAX_PORTS],
            rheology: 0,
            smagorinsky: 0.0,
            tau_min: crate::units::TAU_MIN as f32,
            tau_max: 2.0,
            nu_zero: 0.0,
            nu_inf: 0.0,
            lambda: 0.0,
            power_a: 1.0,
            power_n: 1.0,
            yield_stress: 0.0,
            regularisation: 0.0,
            magic: crate::units::TRT_MAGIC as f32,
        }
    }

    /// True when the relaxation time varies from cell to cell (non-Newtonian blood or LES).
    pub fn local_viscosity(&self) -> bool {
        self.rheology != 0 || self.smagorinsky > 0.0
    }
}

/// One cell of a port's measuring section, for the per-step outlet coupling.
/// Keep in sync with `struct FluxEntry` in shaders/lbm_section_flux.wgsl (checked by tests/shader_layout.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct FluxEntry {
    /// The fluid cell.
    pub cell: u32,
    /// Its weight in the section (1 - |distance to the plane| / dx).
    pub weight: f32,
    /// Unit normal of the section, the direction of positive flow.
    pub normal: [f32; 3],
    /// Index of the port the section belongs to.
    pub port: u32,
    /// Padding to 32 bytes.
    pub pad: [u32; 2],
}

/// A D3Q19 TRT solver on one lattice; populations start at rest (rho = 1, u = 0).
pub struct Solver {
    template: StepParams,
    /// The parameters of the last step advanced (its boundary values), for readouts.
    last: StepParams,
    kernels: Box<dyn LbmKernels>,
    steps_done: u64,
    notice: Option<String>,
}

/// Where the solver runs, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct BackendInfo {
    /// "gpu" or "cpu".
    pub kind: String,
    /// The GPU adapter, or None on the CPU.
    pub adapter: Option<AdapterSummary>,
    /// CPU threads used by the rayon backend.
    pub cpu_threads: usize,
}

impl Solver {
    /// Sets up the solver for `lattice` with relaxation times from `units` on the chosen backend.
    /// With `Auto`, a missing or software-only GPU falls back to the CPU and `notice()` says why.
    pub fn new(lattice: &Lattice, units: &LatticeUnits, backend: BackendChoice) -> Result<Self> {
        let template = StepParams {
            collision: units.collision.code(),
            ..StepParams::newtonian(lattice.len(), units.tau, units.tau_minus, lattice.inlet_profile)
        };
        let (kernels, notice): (Box<dyn LbmKernels>, _) =
            match resolve(backend, |ctx| gpu::GpuLbm::new(ctx, lattice))? {
                Resolved::Gpu(g) => (Box::new(g), None),
                Resolved::Cpu { reason } => (Box::new(CpuLbm::new(lattice)), reason),
            };
        Ok(Solver { template, last: template, kernels, steps_done: 0, notice })
    }

    /// Why `Auto` fell back to the CPU, if it did.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// Memory traffic of one cell update, averaged over the lattice (bytes): the populations read and
    /// written, plus the neighbour table for the cells that read it (all on the GPU; on the CPU
    /// those outside blocks that stream straight from the planes). Boundary links are not counted.
    pub fn bytes_per_update(&self) -> f64 {
        let populations = (2 * Q * 4) as f64;
        let table = ((Q - 1) * 4) as f64;
        let n = self.template.n_cells.max(1) as f64;
        populations + table * (1.0 - self.kernels.streamed_cells() as f64 / n)
    }

    /// The backend in use.
    pub fn backend(&self) -> BackendInfo {
        self.kernels.info()
    }

    /// Sets the viscosity model of every later step: the rheology fields of `params` are copied.
    pub fn set_rheology(&mut self, params: &StepParams) {
        let t = &mut self.template;
        (t.rheology, t.smagorinsky, t.tau_min, t.tau_max) =
            (params.rheology, params.smagorinsky, params.tau_min, params.tau_max);
        (t.nu_zero, t.nu_inf, t.lambda, t.power_a, t.power_n) =
            (params.nu_zero, params.nu_inf, params.lambda, params.power_a, params.power_n);
        (t.yield_stress, t.regularisation) = (params.yield_stress, params.regularisation);
    }

    /// The parameters every step starts from.
    pub fn template(&self) -> &StepParams {
        &self.template
    }

    /// Advances `steps` steps with the steady inlet profile; `inflow_scale(step)` gives the inlet
    /// ramp factor of each global step.
    pub fn advance(&mut self, steps: u64, inflow_scale: impl Fn(u64) -> f64) {
        self.advance_with(steps, |step, p| p.inflow_scale = inflow_scale(step) as f32);
    }

    /// Advances `steps` steps; `set(step, params)` adjusts each global step's boundary values
    /// (inflow scale, inlet profile, port densities), starting from the steady ones.
    pub fn advance_with(&mut self, steps: u64, mut set: impl FnMut(u64, &mut StepParams)) {
        let params: Vec<StepParams> = (0..steps)
            .map(|s| {
                let mut p = self.template;
                set(self.steps_done + s, &mut p);
                p
            })
            .collect();
        if let Some(p) = params.last() {
            self.last = *p;
        }
        self.kernels.step(&params);
        self.steps_done += steps;
    }

    /// Waits until the steps queued by `advance` have run (the CPU backend runs them at once).
    pub fn finish(&self) -> Result<()> {
        self.kernels.finish()
    }

    /// (drho, ux, uy, uz) of every cell, lattice units.
    pub fn moments(&mut self) -> Result<Vec<[f32; 4]>> {
        self.kernels.moments(&self.template)
    }

    /// The non-equilibrium second moment Pi^neq (xx, yy, zz, xy, xz, yz) of every cell before
    /// collision, lattice units: the viscous stress is -(1 - 1/(2 tau)) Pi^neq.
    pub fn stress(&mut self) -> Result<Vec<[f32; 6]>> {
        self.kernels.stress(&self.last)
    }

    /// Sets the section cells whose flux `port_flows` sums (uploaded once).
    pub fn set_flux_sections(&mut self, entries: Vec<FluxEntry>) -> Result<()> {
        self.kernels.set_flux_sections(entries)
    }

    /// Mass flux (lattice units, rho u . n summed over the section cells) of each of `ports` ports
    /// through the sections set by `set_flux_sections`.
    pub fn port_flows(&mut self, ports: usize) -> Result<Vec<f64>> {
        let per_entry = self.kernels.section_flux(&self.template)?;
        let mut sums = vec![0.0f64; ports];
        for (e, f) in self.kernels.flux_entries().iter().zip(&per_entry) {
            if let Some(s) = sums.get_mut(e.port as usize) {
                *s += f64::from(*f);
            }
        }
        Ok(sums)
    }

    /// Replaces the populations (shifted, direction-major, as `populations` returns them) and the
    /// step count: a restart from a checkpoint.
    pub fn restore(&mut self, populations: &[f32], steps_done: u64) -> Result<()> {
        let expected = Q * self.template.n_cells as usize;
        if populations.len() != expected {
            return Err(crate::Error::parameter(
                "checkpoint",
                format!("holds {} populations, the lattice needs {expected}", populations.len()),
            ));
        }
        self.kernels.restore(populations);
        self.steps_done = steps_done;
        Ok(())
    }

    /// The current populations, shifted by the weights (g_i = f_i - w_i), direction-major.
    pub fn populations(&self) -> Result<Vec<f32>> {
        self.kernels.populations()
    }
}
