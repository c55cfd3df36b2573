//! The GPU backend of the LBM solver: buffers, pipelines and batched dispatches (wgpu).

use super::backend::LbmKernels;
use super::{BackendInfo, FluxEntry, StepParams};
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::gpu::kernels::{
    LBM_WORKGROUP, compute_pipeline, params_entry, read_buffer, storage_entry, with_workgroup,
};
use crate::lattice::Lattice;
use crate::stencil::d3q19::Q;
use wgpu::util::DeviceExt;
/// Steps recorded into one command buffer.
const BATCH: usize = 64;
/// Stride of one StepParams slot in the uniform buffer (the dynamic-offset alignment).
const PARAMS_STRIDE: u64 = 512;

/// Device-resident state of one lattice.
pub struct GpuLbm {
    ctx: GpuContext,
    n: u32,
    params: wgpu::Buffer,
    populations: [wgpu::Buffer; 2],
    moments: wgpu::Buffer,
    stress: wgpu::Buffer,
    step_pipeline: wgpu::ComputePipeline,
    moments_pipeline: wgpu::ComputePipeline,
    stress_pipeline: wgpu::ComputePipeline,
    /// step_groups[k] reads populations[k] and writes populations[1 - k].
    step_groups: [wgpu::BindGroup; 2],
    /// moments_groups[k] reads populations[k].
    moments_groups: [wgpu::BindGroup; 2],
    /// stress_groups[k] reads populations[k].
    stress_groups: [wgpu::BindGroup; 2],
    /// The section-flux kernel, once sections are set.
    flux: Option<FluxState>,
    current: usize,
}

/// Buffers, pipeline and bind groups of `lbm_section_flux`.
struct FluxState {
    entries: Vec<FluxEntry>,
    out: wgpu::Buffer,
    pipeline: wgpu::ComputePipeline,
    /// groups[k] reads populations[k].
    groups: [wgpu::BindGroup; 2],
}

/// The LBM shaders (entry point, source) as compiled: each with the workgroup size, the D3Q19,
/// collision, link and viscosity constants and shaders/lbm_common.wgsl prepended. Pipeline
/// creation then writes out the constant loops.
pub fn shader_sources() -> [(&'static str, String); 4] {
    let prelude = with_workgroup(
        LBM_WORKGROUP,
        &format!(
            "{}{}{}\n{}",
            crate::stencil::wgsl_constants(),
            crate::lattice::wgsl_constants(),
            super::viscosity::wgsl_constants(),
            include_str!("../../shaders/lbm_common.wgsl")
        ),
    );
    [
        ("lbm_stream_collide", include_str!("../../shaders/lbm_stream_collide.wgsl")),
        ("lbm_moments", include_str!("../../shaders/lbm_moments.wgsl")),
        ("lbm_stress", include_str!("../../shaders/lbm_stress.wgsl")),
        ("lbm_section_flux", include_str!("../../shaders/lbm_section_flux.wgsl")),
    ]
    .map(|(entry, code)| (entry, format!("{prelude}\n{code}")))
}

impl GpuLbm {
    /// Uploads the lattice and builds the pipelines; errors when a buffer exceeds the device limits.
    pub fn new(ctx: GpuContext, lattice: &Lattice) -> Result<Self> {
        let device = &ctx.device;
        let n = lattice.len();
        let pop_bytes = (Q * n * 4) as u64;
        let limits = device.limits();
        let max_binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        if pop_bytes > max_binding {
            return Err(Error::Gpu(format!(
                "the populations of {n} cells need {:.0} MiB in one buffer but {} allows {:.0} MiB; use \
                 --backend cpu or a coarser lattice",
                pop_bytes as f64 / 1048576.0,
                ctx.adapter.name,
                max_binding as f64 / 1048576.0
            )));
        }
        let zeros = vec![0u8; pop_bytes as usize];
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let populations = ["populations A", "populations B"].map(|label| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &zeros,
                usage,
            })
        });
        let neighbours = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("neighbours"),
            contents: bytemuck::cast_slice(&lattice.neighbours),
            usage: wgpu::BufferUsages::STORAGE,
        });
        // A zero-length storage binding is invalid: keep one dummy link when there is none.
        let dummy = [<crate::lattice::BoundaryLink as bytemuck::Zeroable>::zeroed()];
        let links_data = if lattice.links.is_empty() { &dummy[..] } else { &lattice.links[..] };
        let links = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("boundary links"),
            contents: bytemuck::cast_slice(links_data),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let moments = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("moments"),
            size: (n.max(1) * 16) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let stress = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stress"),
            size: (n.max(1) * 24) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("step params"),
            size: PARAMS_STRIDE * BATCH as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let step_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("lbm_stream_collide"),
            entries: &[
                params_entry(size_of::<StepParams>()),
                storage_entry(1, true),
                storage_entry(2, false),
                storage_entry(3, true),
                storage_entry(4, true),
            ],
        });
        let moments_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("lbm_moments"),
            entries: &[
                params_entry(size_of::<StepParams>()),
                storage_entry(1, true),
                storage_entry(2, false),
            ],
        });
        let params_binding = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &params,
            offset: 0,
            size: wgpu::BufferSize::new(size_of::<StepParams>() as u64),
        });
        let step_groups = [0, 1].map(|k| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("lbm_stream_collide"),
                layout: &step_layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: params_binding.clone() },
                    wgpu::BindGroupEntry { binding: 1, resource: populations[k].as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 2, resource: populations[1 - k].as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 3, resource: neighbours.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 4, resource: links.as_entire_binding() },
                ],
            })
        });
        let moments_groups = [0, 1].map(|k| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("lbm_moments"),
                layout: &moments_layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: params_binding.clone() },
                    wgpu::BindGroupEntry { binding: 1, resource: populations[k].as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 2, resource: moments.as_entire_binding() },
                ],
            })
        });
        // The stress kernel reads what a step reads and writes its own output at binding 2.
        let stress_groups = [0, 1].map(|k| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("lbm_stress"),
                layout: &step_layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: params_binding.clone() },
                    wgpu::BindGroupEntry { binding: 1, resource: populations[k].as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 2, resource: stress.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 3, resource: neighbours.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 4, resource: links.as_entire_binding() },
                ],
            })
        });
        let [(step_entry, step_code), (moments_entry, moments_code), (stress_entry, stress_code), _] =
            shader_sources();
        let step_pipeline = compute_pipeline(device, step_entry, &step_code, &step_layout);
        let moments_pipeline = compute_pipeline(device, moments_entry, &moments_code, &moments_layout);
        let stress_pipeline = compute_pipeline(device, stress_entry, &stress_code, &step_layout);
        Ok(GpuLbm {
            ctx,
            n: n as u32,
            params,
            populations,
            moments,
            stress,
            step_pipeline,
            moments_pipeline,
            stress_pipeline,
            step_groups,
            moments_groups,
            stress_groups,
            flux: None,
            current: 0,
        })
    }

    /// Workgroups (x, y) and cells per row of a dispatch over the cells.
    fn shape(&self) -> (u32, u32, u32) {
        crate::gpu::kernels::dispatch_shape(&self.ctx.device, self.n, LBM_WORKGROUP)
    }

    /// Copies `buffer` (`bytes` long) back to the host after the queued work has finished.
    fn read_back(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        read_buffer(&self.ctx.device, &self.ctx.queue, buffer, bytes)
    }

    /// Runs one per-cell readout kernel on the current populations with `params` and reads back its
    /// `bytes_per_cell` output per cell.
    fn readout(&mut self, params: &StepParams, stress: bool, bytes_per_cell: u64) -> Result<Vec<u8>> {
        let (gx, gy, row) = self.shape();
        let p = StepParams { row_width: row, ..*params };
        self.ctx.queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&p));
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("lbm readout") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("lbm readout"),
                timestamp_writes: None,
            });
            if stress {
                pass.set_pipeline(&self.stress_pipeline);
                pass.set_bind_group(0, &self.stress_groups[self.current], &[0]);
            } else {
                pass.set_pipeline(&self.moments_pipeline);
                pass.set_bind_group(0, &self.moments_groups[self.current], &[0]);
            }
            pass.dispatch_workgroups(gx, gy, 1);
        }
        self.ctx.queue.submit([encoder.finish()]);
        let out = if stress { &self.stress } else { &self.moments };
        self.read_back(out, self.n as u64 * bytes_per_cell)
    }
}

impl LbmKernels for GpuLbm {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "gpu".into(), adapter: Some(self.ctx.adapter.clone()), cpu_threads: 0 }
    }

    /// No cell: on the GPU every cell reads the neighbour table.
    fn streamed_cells(&self) -> usize {
        0
    }

    /// Advances one step per entry of `params` (their `row_width` is filled in here).
    fn step(&mut self, params: &[StepParams]) {
        let (gx, gy, row) = self.shape();
        for batch in params.chunks(BATCH) {
            let mut bytes = vec![0u8; PARAMS_STRIDE as usize * batch.len()];
            for (k, p) in batch.iter().enumerate() {
                let p = StepParams { row_width: row, ..*p };
                let at = k * PARAMS_STRIDE as usize;
                bytes[at..at + size_of::<StepParams>()].copy_from_slice(bytemuck::bytes_of(&p));
            }
            self.ctx.queue.write_buffer(&self.params, 0, &bytes);
            let mut encoder = self
                .ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("lbm steps") });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("lbm_stream_collide"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.step_pipeline);
                for k in 0..batch.len() {
                    pass.set_bind_group(
                        0,
                        &self.step_groups[self.current],
                        &[(k as u64 * PARAMS_STRIDE) as u32],
                    );
                    pass.dispatch_workgroups(gx, gy, 1);
                    self.current = 1 - self.current;
                }
            }
            self.ctx.queue.submit([encoder.finish()]);
        }
    }

    fn finish(&self) -> Result<()> {
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Gpu(format!("device poll: {e}")))
    }

    /// (drho, ux, uy, uz) of every cell, lattice units, computed by `lbm_moments`.
    fn moments(&mut self, template: &StepParams) -> Result<Vec<[f32; 4]>> {
        let bytes = self.readout(template, false, 16)?;
        Ok(bytemuck::pod_collect_to_vec::<u8, [f32; 4]>(&bytes))
    }

    /// The non-equilibrium second moment of every cell before collision, computed by `lbm_stress`
    /// with the boundary values of `params` (those of the last step).
    fn stress(&mut self, params: &StepParams) -> Result<Vec<[f32; 6]>> {
        let bytes = self.readout(params, true, 24)?;
        Ok(bytemuck::pod_collect_to_vec::<u8, [f32; 6]>(&bytes))
    }

    /// Uploads the section cells of `lbm_section_flux` and builds its pipeline.
    fn set_flux_sections(&mut self, entries: Vec<FluxEntry>) -> Result<()> {
        let device = &self.ctx.device;
        let dummy = [<FluxEntry as bytemuck::Zeroable>::zeroed()];
        let data = if entries.is_empty() { &dummy[..] } else { &entries[..] };
        let list = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("flux entries"),
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let out = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("flux out"),
            size: (data.len() * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("lbm_section_flux"),
            entries: &[
                params_entry(size_of::<StepParams>()),
                storage_entry(1, true),
                storage_entry(2, false),
                storage_entry(5, true),
            ],
        });
        let params_binding = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.params,
            offset: 0,
            size: wgpu::BufferSize::new(size_of::<StepParams>() as u64),
        });
        let groups = [0, 1].map(|k| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("lbm_section_flux"),
                layout: &layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: params_binding.clone() },
                    wgpu::BindGroupEntry { binding: 1, resource: self.populations[k].as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 2, resource: out.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 5, resource: list.as_entire_binding() },
                ],
            })
        });
        let [.., (entry, code)] = shader_sources();
        let pipeline = compute_pipeline(device, entry, &code, &layout);
        self.flux = Some(FluxState { entries: data.to_vec(), out, pipeline, groups });
        Ok(())
    }

    /// The section cells set by `set_flux_sections` (one zero-weight dummy when there were none).
    fn flux_entries(&self) -> &[FluxEntry] {
        self.flux.as_ref().map_or(&[], |f| &f.entries)
    }

    /// Per-entry section flux by `lbm_section_flux`, in the order of `flux_entries`.
    fn section_flux(&mut self, template: &StepParams) -> Result<Vec<f32>> {
        let Some(flux) = &self.flux else { return Ok(Vec::new()) };
        self.ctx.queue.write_buffer(&self.params, 0, bytemuck::bytes_of(template));
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("lbm section flux") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("lbm_section_flux"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&flux.pipeline);
            pass.set_bind_group(0, &flux.groups[self.current], &[0]);
            pass.dispatch_workgroups((flux.entries.len() as u32).div_ceil(LBM_WORKGROUP), 1, 1);
        }
        self.ctx.queue.submit([encoder.finish()]);
        let bytes = self.read_back(&flux.out, flux.entries.len() as u64 * 4)?;
        Ok(bytemuck::pod_collect_to_vec::<u8, f32>(&bytes))
    }

    /// Overwrites the current populations (shifted, direction-major).
    fn restore(&mut self, populations: &[f32]) {
        self.ctx.queue.write_buffer(&self.populations[self.current], 0, bytemuck::cast_slice(populations));
    }

    /// The current populations (shifted, direction-major).
    fn populations(&self) -> Result<Vec<f32>> {
        let bytes = self.read_back(&self.populations[self.current], (Q * self.n as usize * 4) as u64)?;
        Ok(bytemuck::pod_collect_to_vec::<u8, f32>(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::kernels::validate_wgsl;

    /// The shaders parse and validate without a GPU, so a broken kernel fails every test run.
    #[test]
    fn shaders_validate_with_naga() {
        for (entry, code) in shader_sources() {
            validate_wgsl(entry, &code);
        }
    }
}
