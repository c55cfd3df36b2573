//! The backends of the LBM solver: the operations each provides ([`LbmKernels`]), written once
//! over the CPU ([`CpuLbm`], the rayon twins in `cpu.rs`) and the GPU (`gpu::GpuLbm`, the WGSL
//! kernels), and the CPU backend's state.

use super::{BackendInfo, FluxEntry, StepParams, cpu};
use crate::error::Result;
use crate::lattice::{BoundaryLink, Lattice};
use crate::memory::zeroed_huge;
use crate::stencil::d3q19::Q;

/// The operations the solver needs from a backend; each is one GPU kernel (or its CPU twin).
/// Populations cross this boundary shifted (g_i = f_i - w_i) and direction-major.
pub(crate) trait LbmKernels: Send + Sync {
    /// Where the kernels run, for reports.
    fn info(&self) -> BackendInfo;
    /// Cells that stream straight from the population planes, without reading the neighbour table.
    fn streamed_cells(&self) -> usize;
    /// Advances one step per entry of `params` (`lbm_stream_collide`); the GPU only queues them.
    fn step(&mut self, params: &[StepParams]);
    /// Waits until the queued steps have run.
    fn finish(&self) -> Result<()>;
    /// (drho, ux, uy, uz) of every cell, lattice units (`lbm_moments`).
    fn moments(&mut self, template: &StepParams) -> Result<Vec<[f32; 4]>>;
    /// Pi^neq of every cell before collision with the boundary values of `params` (`lbm_stress`).
    fn stress(&mut self, params: &StepParams) -> Result<Vec<[f32; 6]>>;
    /// Sets the section cells `section_flux` measures.
    fn set_flux_sections(&mut self, entries: Vec<FluxEntry>) -> Result<()>;
    /// The section cells set by `set_flux_sections`, in the order of `section_flux`'s values.
    fn flux_entries(&self) -> &[FluxEntry];
    /// The flux through each section cell (`lbm_section_flux`).
    fn section_flux(&mut self, template: &StepParams) -> Result<Vec<f32>>;
    /// Overwrites the current populations.
    fn restore(&mut self, populations: &[f32]);
    /// The current populations.
    fn populations(&self) -> Result<Vec<f32>>;
}

/// The rayon backend: two population sets (read one, write the other), the lattice's tables and
/// the blocking plan of `cpu::stream_collide`.
pub(crate) struct CpuLbm {
    n: usize,
    populations: [Vec<f32>; 2],
    current: usize,
    neighbours: Vec<u32>,
    links: Vec<BoundaryLink>,
    plan: cpu::Plan,
    flux: Vec<FluxEntry>,
}

impl CpuLbm {
    /// The backend for `lattice`, populations at rest.
    pub(crate) fn new(lattice: &Lattice) -> Self {
        let n = lattice.len();
        CpuLbm {
            n,
            populations: [zeroed_huge(Q * n), zeroed_huge(Q * n)],
            current: 0,
            neighbours: lattice.neighbours.clone(),
            links: lattice.links.clone(),
            plan: cpu::Plan::new(&lattice.neighbours, &lattice.links, n),
            flux: Vec::new(),
        }
    }
}

impl LbmKernels for CpuLbm {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "cpu".into(), adapter: None, cpu_threads: rayon::current_num_threads() }
    }

    fn streamed_cells(&self) -> usize {
        self.plan.streamed_cells()
    }

    fn step(&mut self, params: &[StepParams]) {
        for p in params {
            let [a, b] = &mut self.populations;
            let (src, dst) = if self.current == 0 { (&*a, b) } else { (&*b, a) };
            cpu::stream_collide(p, src, dst, &self.neighbours, &self.links, &self.plan);
            self.current = 1 - self.current;
        }
    }

    fn finish(&self) -> Result<()> {
        Ok(())
    }

    fn moments(&mut self, _template: &StepParams) -> Result<Vec<[f32; 4]>> {
        Ok(cpu::moments(self.n, &self.populations[self.current]))
    }

    fn stress(&mut self, params: &StepParams) -> Result<Vec<[f32; 6]>> {
        Ok(cpu::stress(params, &self.populations[self.current], &self.neighbours, &self.links))
    }

    fn set_flux_sections(&mut self, entries: Vec<FluxEntry>) -> Result<()> {
        self.flux = entries;
        Ok(())
    }

    fn flux_entries(&self) -> &[FluxEntry] {
        &self.flux
    }

    fn section_flux(&mut self, _template: &StepParams) -> Result<Vec<f32>> {
        Ok(cpu::section_flux(self.n, &self.populations[self.current], &self.flux))
    }

    fn restore(&mut self, populations: &[f32]) {
        self.populations[self.current].copy_from_slice(populations);
    }

    fn populations(&self) -> Result<Vec<f32>> {
        Ok(self.populations[self.current].clone())
    }
}
