//! The GPU backend of the wall PCG: the CSR matrix, preconditioner and vectors in f32 storage
//! buffers, one pipeline per kernel of shaders/fem_*.wgsl. Work between two dot products is
//! recorded into one command buffer; each dot product reads its partial sums back.

use super::multigrid::{Cycle, MgKernels, Multigrid, Operator, operators, vcycle};
use super::pcg::{PcgKernels, PcgReport, PcgSettings, Slot, block_jacobi_inverse, pcg};
use crate::error::{Error, Result};
use crate::gpu::kernels::{
    WORKGROUP, compute_pipeline, map_staging, params_entry, read_buffer, staging_buffer, storage_entry,
    with_workgroup,
};
use crate::gpu::{AdapterSummary, GpuContext};
use nalgebra_sparse::CsrMatrix;
use wgpu::util::DeviceExt;

/// The parameters of every FEM kernel; keep in sync with `FemParams` in shaders/fem_common.wgsl
/// (checked by tests/shader_layout.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FemParams {
    /// Items the kernel covers (rows, nodes or vector entries).
    pub n: u32,
    /// Invocations per row of the 2D dispatch.
    pub row_width: u32,
    /// The scalar a of the axpby kernels.
    pub a: f32,
    /// The scalar b of the axpby kernels.
    pub b: f32,
}

/// Stride of one FemParams slot in the uniform buffer (the dynamic-offset alignment).
const PARAMS_STRIDE: u64 = 256;
/// Parameter slots: dispatches recorded into one command buffer at most.
const PARAMS_SLOTS: u64 = 32;
/// Dot products read back together at most (PCG needs two: r·r and r·z).
const DOT_SLOTS: u64 = 2;

/// The FEM kernels: entry point, shader file, and the storage bindings after the uniform at
/// binding 0 as read-only flags.
const KERNELS: [(&str, &str, &[bool]); 5] = [
    ("fem_spmv", include_str!("../../shaders/fem_spmv.wgsl"), &[true, true, true, true, false]),
    ("fem_dot", include_str!("../../shaders/fem_dot.wgsl"), &[true, true, false]),
    ("fem_axpby", include_str!("../../shaders/fem_axpby.wgsl"), &[true, false]),
    ("fem_block_jacobi", include_str!("../../shaders/fem_block_jacobi.wgsl"), &[true, true, false]),
    ("fem_scaled_axpby", include_str!("../../shaders/fem_scaled_axpby.wgsl"), &[true, true, false]),
];

/// The FEM shaders (entry point, source) as compiled: each with the workgroup size and
/// shaders/fem_common.wgsl prepended. Pipeline creation then writes out the constant loops.
pub fn shader_sources() -> [(&'static str, String); 5] {
    let prelude = with_workgroup(WORKGROUP, include_str!("../../shaders/fem_common.wgsl"));
    KERNELS.map(|(entry, code, _)| (entry, format!("{prelude}\n{code}")))
}

/// One compiled kernel and its bind group layout.
struct Kernel {
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

/// The FEM pipelines on one device, reused by every solve.
pub struct FemGpu {
    ctx: GpuContext,
    spmv: Kernel,
    dot: Kernel,
    axpby: Kernel,
    block_jacobi: Kernel,
    scaled_axpby: Kernel,
}

fn kernel(device: &wgpu::Device, entry: &str, code: &str, storage: &[bool]) -> Kernel {
    let mut entries = vec![params_entry(size_of::<FemParams>())];
    entries.extend(storage.iter().enumerate().map(|(k, &read_only)| storage_entry(k as u32 + 1, read_only)));
    let layout = device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(entry), entries: &entries });
    let pipeline = compute_pipeline(device, entry, code, &layout);
    Kernel { layout, pipeline }
}

impl FemGpu {
    /// Compiles the FEM kernels on `ctx`'s device.
    pub fn new(ctx: GpuContext) -> Result<Self> {
        let sources = shader_sources();
        let [spmv, dot, axpby, block_jacobi, scaled_axpby] =
            std::array::from_fn(|k| kernel(&ctx.device, sources[k].0, &sources[k].1, KERNELS[k].2));
        Ok(FemGpu { ctx, spmv, dot, axpby, block_jacobi, scaled_axpby })
    }

    /// The adapter in use.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.ctx.adapter
    }

    /// Solves A x = b with f32 PCG on the GPU, preconditioned by `multigrid` (built for `a`) or
    /// else block-Jacobi, telling `progress` (iterations, relative residual) after each iteration;
    /// x is returned in f64.
    pub fn solve(
        &self,
        a: &CsrMatrix<f64>,
        b: &[f64],
        settings: &PcgSettings,
        multigrid: Option<&Multigrid>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<(Vec<f64>, PcgReport)> {
        let mut state = GpuPcg::new(self, a, b)?;
        if let Some(mg) = multigrid {
            state.add_multigrid(mg)?;
        }
        let report = pcg(&mut state, settings, progress);
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        let x = state.read(Slot::X)?;
        Ok((x.into_iter().map(f64::from).collect(), report))
    }
}

/// Buffers of one solve, and the dispatches recorded since the last read-back.
pub struct GpuPcg<'a> {
    gpu: &'a FemGpu,
    n: u32,
    /// CSR matrices (offsets, cols, values): the stiffness, then the multigrid's operators in the
    /// order of [`operators`] after it.
    matrices: Vec<[wgpu::Buffer; 3]>,
    /// Rows of each matrix.
    rows: Vec<u32>,
    inverse: wgpu::Buffer,
    /// The PCG slots, then the V-cycle's vectors.
    vectors: Vec<wgpu::Buffer>,
    /// Length of each vector.
    lengths: Vec<u32>,
    /// The V-cycle and the inverted diagonal of each level, when multigrid preconditions.
    multigrid: Option<(Cycle, Vec<wgpu::Buffer>)>,
    partials: wgpu::Buffer,
    groups: u32,
    /// Bytes between the partial sums of two dot products read back together (offset-aligned).
    partial_stride: u64,
    params: wgpu::Buffer,
    pending: Vec<(FemParams, Op)>,
    error: Option<Error>,
}

/// A recorded dispatch.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Matrix k times vector x into vector y.
    Spmv(usize, usize, usize),
    /// a · b into partial-sum slot k.
    Dot(Slot, Slot, usize),
    /// y = a x + b y on vectors (x, y).
    Axpby(usize, usize),
    BlockJacobi,
    /// y = a D^-1 x + b y with level l's inverted diagonal: (l, x, y).
    ScaledAxpby(usize, usize, usize),
}

impl<'a> GpuPcg<'a> {
    /// Uploads A (as f32 with u32 indices), its block-Jacobi inverse and b; X, Z, P, Q start at zero.
    pub fn new(gpu: &'a FemGpu, a: &CsrMatrix<f64>, b: &[f64]) -> Result<Self> {
        let device = &gpu.ctx.device;
        let n = a.nrows();
        let (offsets, cols, values) = a.csr_data();
        let limits = device.limits();
        let max = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        let biggest = 4 * values.len().max(offsets.len()) as u64;
        if biggest > max || u32::try_from(values.len()).is_err() {
            return Err(Error::Gpu(format!(
                "the stiffness matrix needs {:.0} MiB in one buffer but {} allows {:.0} MiB; use the CPU backend (run.backend = \"cpu\")",
                biggest as f64 / 1048576.0,
                gpu.ctx.adapter.name,
                max as f64 / 1048576.0
            )));
        }
        let init = |label: &str, contents: &[u8], usage: wgpu::BufferUsages| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
        };
        let storage = wgpu::BufferUsages::STORAGE;
        let rw = storage | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let to_u32 = |v: &[usize]| v.iter().map(|&x| x as u32).collect::<Vec<u32>>();
        let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let matrix = [
            init("fem offsets", bytemuck::cast_slice(&to_u32(offsets)), storage),
            init("fem cols", bytemuck::cast_slice(&to_u32(cols)), storage),
            init("fem values", bytemuck::cast_slice(&to_f32(values)), storage),
        ];
        let inverse =
            init("fem block jacobi", bytemuck::cast_slice(&to_f32(&block_jacobi_inverse(a))), storage);
        let zeros = vec![0f32; n.max(1)];
        let vectors = [Slot::X, Slot::R, Slot::Z, Slot::P, Slot::Q]
            .map(|s| {
                let data = if s == Slot::R { to_f32(b) } else { zeros.clone() };
                init(&format!("fem {s:?}"), bytemuck::cast_slice(&data), rw)
            })
            .into();
        let groups = n.div_ceil(WORKGROUP as usize).max(1) as u32;
        let align = u64::from(limits.min_storage_buffer_offset_alignment);
        let partial_stride = (4 * u64::from(groups)).div_ceil(align) * align;
        let partials = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("fem partials"),
            size: partial_stride * DOT_SLOTS,
            usage: rw,
            mapped_at_creation: false,
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("fem params"),
            size: PARAMS_STRIDE * PARAMS_SLOTS,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(GpuPcg {
            gpu,
            n: n as u32,
            matrices: vec![matrix],
            rows: vec![n as u32],
            inverse,
            vectors,
            lengths: vec![n as u32; 5],
            multigrid: None,
            partials,
            groups,
            partial_stride,
            params,
            pending: Vec::new(),
            error: None,
        })
    }

    /// Workgroups (x, y) covering `items`, and the items per row of the 2D dispatch.
    fn shape(&self, items: u32) -> (u32, u32, u32) {
        crate::gpu::kernels::dispatch_shape(&self.gpu.ctx.device, items, WORKGROUP)
    }

    /// Uploads the operators of `mg` (built for this matrix) and the V-cycle's vectors; the
    /// preconditioner becomes a V-cycle.
    pub fn add_multigrid(&mut self, mg: &Multigrid) -> Result<()> {
        let device = &self.gpu.ctx.device;
        let limits = device.limits();
        let max = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        let upload = |label: &str, contents: &[u8]| {
            if contents.len() as u64 > max {
                return Err(Error::Gpu(format!(
                    "the multigrid {label} needs {:.0} MiB in one buffer but {} allows {:.0} MiB; use \
                     --backend cpu or wall.preconditioner = \"block-jacobi\"",
                    contents.len() as f64 / 1048576.0,
                    self.gpu.ctx.adapter.name,
                    max as f64 / 1048576.0
                )));
            }
            Ok(device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: if contents.is_empty() { &[0; 4] } else { contents },
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            }))
        };
        for m in &operators(mg.levels.len())[1..] {
            let a = mg.operator(*m).unwrap_or_else(|| unreachable!("only the finest is held outside"));
            let (offsets, cols, values) = a.csr_data();
            let offsets: Vec<u32> = offsets.iter().map(|&x| x as u32).collect();
            let cols: Vec<u32> = cols.iter().map(|&x| x as u32).collect();
            let values: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            self.matrices.push([
                upload("fem multigrid offsets", bytemuck::cast_slice(&offsets))?,
                upload("fem multigrid cols", bytemuck::cast_slice(&cols))?,
                upload("fem multigrid values", bytemuck::cast_slice(&values))?,
            ]);
            self.rows.push(a.nrows() as u32);
        }
        let cycle = mg.cycle();
        for n in cycle.work_vectors() {
            self.vectors.push(upload("fem multigrid vector", bytemuck::cast_slice(&vec![0f32; n]))?);
            self.lengths.push(n as u32);
        }
        let diagonals = mg
            .levels
            .iter()
            .map(|l| {
                let d: Vec<f32> = l.dinv.iter().map(|&x| x as f32).collect();
                upload("fem multigrid diagonal", bytemuck::cast_slice(&d))
            })
            .collect::<Result<Vec<_>>>()?;
        self.multigrid = Some((cycle, diagonals));
        Ok(())
    }

    fn record(&mut self, op: Op, a: f64, b: f64) {
        let items = match op {
            Op::BlockJacobi => self.n / 3,
            Op::Spmv(m, _, _) => self.rows[m],
            Op::Axpby(_, y) | Op::ScaledAxpby(_, _, y) => self.lengths[y],
            Op::Dot(..) => self.n,
        };
        let (_, _, row_width) = self.shape(items);
        self.pending.push((FemParams { n: items, row_width, a: a as f32, b: b as f32 }, op));
        if self.pending.len() as u64 == PARAMS_SLOTS {
            self.flush(0);
        }
    }

    /// Submits the recorded dispatches, and copies the partial sums of the first `dots` slots back.
    fn flush(&mut self, dots: u64) -> Option<wgpu::Buffer> {
        let gpu = self.gpu;
        let device = &gpu.ctx.device;
        let mut bytes = vec![0u8; (PARAMS_STRIDE * PARAMS_SLOTS) as usize];
        for (k, (p, _)) in self.pending.iter().enumerate() {
            let at = k * PARAMS_STRIDE as usize;
            bytes[at..at + size_of::<FemParams>()].copy_from_slice(bytemuck::bytes_of(p));
        }
        gpu.ctx.queue.write_buffer(&self.params, 0, &bytes);
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("fem pcg") });
        let params = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.params,
            offset: 0,
            size: wgpu::BufferSize::new(size_of::<FemParams>() as u64),
        });
        let v = |s: usize| self.vectors[s].as_entire_binding();
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("fem pcg"),
                timestamp_writes: None,
            });
            for (k, (p, op)) in self.pending.iter().enumerate() {
                let (kernel, resources) = match *op {
                    Op::Spmv(m, x, y) => (
                        &gpu.spmv,
                        vec![
                            self.matrices[m][0].as_entire_binding(),
                            self.matrices[m][1].as_entire_binding(),
                            self.matrices[m][2].as_entire_binding(),
                            v(x),
                            v(y),
                        ],
                    ),
                    Op::Dot(a, b, slot) => {
                        let partials = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: &self.partials,
                            offset: slot as u64 * self.partial_stride,
                            size: wgpu::BufferSize::new(4 * u64::from(self.groups)),
                        });
                        (&gpu.dot, vec![v(a as usize), v(b as usize), partials])
                    }
                    Op::Axpby(x, y) => (&gpu.axpby, vec![v(x), v(y)]),
                    Op::BlockJacobi => (
                        &gpu.block_jacobi,
                        vec![self.inverse.as_entire_binding(), v(Slot::R as usize), v(Slot::Z as usize)],
                    ),
                    Op::ScaledAxpby(level, x, y) => {
                        let diagonals = self.multigrid.as_ref().map(|(_, d)| &d[level]);
                        let w = diagonals.unwrap_or(&self.inverse).as_entire_binding();
                        (&gpu.scaled_axpby, vec![w, v(x), v(y)])
                    }
                };
                let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: params.clone() }];
                entries.extend(
                    resources
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| wgpu::BindGroupEntry { binding: i as u32 + 1, resource: r }),
                );
                let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("fem pcg"),
                    layout: &kernel.layout,
                    entries: &entries,
                });
                let (gx, gy, _) = self.shape(p.n);
                pass.set_pipeline(&kernel.pipeline);
                pass.set_bind_group(0, &group, &[(k as u64 * PARAMS_STRIDE) as u32]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        self.pending.clear();
        let staging = (dots > 0).then(|| {
            let size = dots * self.partial_stride;
            let staging = staging_buffer(device, "fem partials readback", size);
            encoder.copy_buffer_to_buffer(&self.partials, 0, &staging, 0, size);
            staging
        });
        gpu.ctx.queue.submit([encoder.finish()]);
        staging
    }

    /// Maps `buffer` (already copied into) and returns its f32 contents.
    fn map(&self, buffer: &wgpu::Buffer) -> Result<Vec<f32>> {
        Ok(bytemuck::pod_collect_to_vec(&map_staging(&self.gpu.ctx.device, buffer)?))
    }

    /// Up to [`DOT_SLOTS`] dot products with one read-back.
    fn dot_chunk(&mut self, pairs: &[(Slot, Slot)]) -> Vec<f64> {
        for (k, &(a, b)) in pairs.iter().enumerate() {
            self.record(Op::Dot(a, b, k), 0.0, 0.0);
        }
        let Some(staging) = self.flush(pairs.len() as u64) else {
            return vec![f64::NAN; pairs.len()];
        };
        match self.map(&staging) {
            Ok(p) => {
                let stride = (self.partial_stride / 4) as usize;
                (0..pairs.len())
                    .map(|k| {
                        p.get(k * stride..k * stride + self.groups as usize)
                            .map_or(f64::NAN, |s| s.iter().map(|&x| f64::from(x)).sum())
                    })
                    .collect()
            }
            Err(e) => {
                self.error.get_or_insert(e);
                vec![f64::NAN; pairs.len()]
            }
        }
    }

    /// Reads the vector in `slot` back to the host.
    pub fn read(&mut self, slot: Slot) -> Result<Vec<f32>> {
        self.read_vector(slot as usize)
    }

    /// Reads vector `k` (0-4: the slots; then the V-cycle's) back to the host.
    pub fn read_vector(&mut self, k: usize) -> Result<Vec<f32>> {
        self.flush(0);
        let ctx = &self.gpu.ctx;
        let n = self.lengths[k];
        let bytes = read_buffer(&ctx.device, &ctx.queue, &self.vectors[k], 4 * u64::from(n.max(1)))?;
        let mut v: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes);
        v.truncate(n as usize);
        Ok(v)
    }
}

impl MgKernels for GpuPcg<'_> {
    fn apply(&mut self, m: Operator, x: usize, y: usize) {
        let levels = self.multigrid.as_ref().map_or(1, |(c, _)| c.sizes.len() - 1);
        let k = operators(levels)
            .iter()
            .position(|&o| o == m)
            .unwrap_or_else(|| unreachable!("{m:?} belongs to the hierarchy uploaded"));
        self.record(Op::Spmv(k, x, y), 0.0, 0.0);
    }

    fn combine(&mut self, a: f64, x: usize, b: f64, y: usize) {
        self.record(Op::Axpby(x, y), a, b);
    }

    fn jacobi(&mut self, level: usize, a: f64, x: usize, b: f64, y: usize) {
        self.record(Op::ScaledAxpby(level, x, y), a, b);
    }
}

impl PcgKernels for GpuPcg<'_> {
    fn spmv(&mut self) {
        self.apply(Operator::Stiffness(0), Slot::P as usize, Slot::Q as usize);
    }

    fn dots(&mut self, pairs: &[(Slot, Slot)]) -> Vec<f64> {
        pairs.chunks(DOT_SLOTS as usize).flat_map(|chunk| self.dot_chunk(chunk)).collect()
    }

    fn axpby(&mut self, a: f64, x: Slot, b: f64, y: Slot) {
        self.combine(a, x as usize, b, y as usize);
    }

    fn precondition(&mut self) {
        if let Some(cycle) = self.multigrid.as_ref().map(|(c, _)| c.clone()) {
            vcycle(self, &cycle);
            return;
        }
        self.record(Op::BlockJacobi, 0.0, 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::kernels::validate_wgsl;

    /// The FEM shaders parse and validate without a GPU, so a broken kernel fails every test run.
    #[test]
    fn fem_shaders_validate_with_naga() {
        for (entry, code) in shader_sources() {
            validate_wgsl(entry, &code);
        }
    }
}
