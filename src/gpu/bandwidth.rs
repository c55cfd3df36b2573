//! The GPU's sustained memory bandwidth, measured with a triad kernel (shaders/triad.wgsl): the
//! roofline that `hemotwin bench` sets GPU throughput against.

use super::GpuContext;
use super::kernels::{
    WORKGROUP, compute_pipeline, dispatch_shape, params_entry, read_buffer, storage_entry, with_workgroup,
};
use crate::error::{Error, Result};
use bytemuck::{Pod, Zeroable};
use std::time::Instant;
use wgpu::util::DeviceExt;

/// Largest array of the triad (bytes): three of them far exceed any GPU cache.
const MAX_ARRAY_BYTES: u64 = 512 << 20;

/// Triads per timed submission, so that submission overhead is negligible.
const TRIADS_PER_SUBMIT: usize = 20;

/// Leading elements of the arrays given values and checked after the runs.
const CHECKED: usize = 4096;

/// The triad's scalar.
const SCALAR: f32 = 1.5;

/// The parameters of `triad`; keep in sync with `TriadParams` in shaders/triad.wgsl (checked by
/// tests/shader_layout.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct TriadParams {
    /// Elements (vec4) per array.
    pub n: u32,
    /// Invocations per row of the 2D dispatch.
    pub row_width: u32,
    /// The scalar s of a = b + s c.
    pub s: f32,
    /// Padding to 16 bytes.
    pub pad: u32,
}

/// The triad shader as compiled: shaders/triad.wgsl with the workgroup size prepended.
pub fn triad_shader_source() -> String {
    with_workgroup(WORKGROUP, include_str!("../../shaders/triad.wgsl"))
}

/// Sustained memory bandwidth (bytes/s) of `ctx`'s GPU: a triad `a = b + s c` over three f32
/// arrays of up to 512 MiB each (within the device's storage-binding limit), counting 12 bytes per
/// element, best of `reps` submissions of 20 triads each. Errors when the kernel's leading results
/// are not `b + s c`, so that a figure is only reported for a triad that really ran.
pub fn triad_bandwidth(ctx: &GpuContext, reps: usize) -> Result<f64> {
    let device = &ctx.device;
    let limits = device.limits();
    let bytes =
        MAX_ARRAY_BYTES.min(limits.max_storage_buffer_binding_size).min(limits.max_buffer_size) / 16 * 16;
    let n = u32::try_from(bytes / 16)
        .map_err(|_| Error::Gpu(format!("triad of {bytes} bytes does not fit a u32 index")))?;
    let (gx, gy, row_width) = dispatch_shape(device, n, WORKGROUP);
    let array = |label: &str| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    };
    let (a, b, c) = (array("triad a"), array("triad b"), array("triad c"));
    let checked = CHECKED.min(4 * n as usize);
    let b_head: Vec<f32> = (0..checked).map(|i| i as f32).collect();
    let c_head: Vec<f32> = (0..checked).map(|i| 1.0 - 0.25 * i as f32).collect();
    ctx.queue.write_buffer(&b, 0, bytemuck::cast_slice(&b_head));
    ctx.queue.write_buffer(&c, 0, bytemuck::cast_slice(&c_head));
    let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("triad params"),
        contents: bytemuck::bytes_of(&TriadParams { n, row_width, s: SCALAR, pad: 0 }),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("triad"),
        entries: &[
            params_entry(std::mem::size_of::<TriadParams>()),
            storage_entry(1, true),
            storage_entry(2, true),
            storage_entry(3, false),
        ],
    });
    let pipeline = compute_pipeline(device, "triad", &triad_shader_source(), &layout);
    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("triad"),
        layout: &layout,
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: b.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: c.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 3, resource: a.as_entire_binding() },
        ],
    });
    let submit = || -> Result<f64> {
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("triad") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &group, &[0]);
            for _ in 0..TRIADS_PER_SUBMIT {
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        let t = Instant::now();
        ctx.queue.submit([encoder.finish()]);
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("device poll: {e}")))?;
        Ok(t.elapsed().as_secs_f64())
    };
    submit()?; // warm-up: pipeline creation and first touch of the arrays
    let mut best = f64::INFINITY;
    for _ in 0..reps.max(1) {
        best = best.min(submit()?);
    }
    let head = read_buffer(device, &ctx.queue, &a, 4 * checked as u64)?;
    let a_head: &[f32] = bytemuck::cast_slice(&head);
    if let Some(i) = (0..checked).find(|&i| a_head[i] != b_head[i] + SCALAR * c_head[i]) {
        return Err(Error::Gpu(format!(
            "the triad kernel on {} computed a[{i}] = {} instead of {}",
            ctx.adapter.name,
            a_head[i],
            b_head[i] + SCALAR * c_head[i]
        )));
    }
    Ok(3.0 * bytes as f64 * TRIADS_PER_SUBMIT as f64 / best)
}

#[cfg(test)]
mod tests {
    use super::triad_shader_source;
    use crate::gpu::kernels::validate_wgsl;

    /// The triad parses and validates without a GPU, so a broken kernel fails every test run.
    #[test]
    fn triad_validates_with_naga() {
        validate_wgsl("triad", &triad_shader_source());
    }
}
