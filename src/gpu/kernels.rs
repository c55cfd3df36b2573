//! What every compute kernel needs from wgpu, shared by the LBM and FEM backends: bind-group
//! layout entries, a pipeline from WGSL source, and reading a buffer back to the host.

use crate::error::{Error, Result};

/// A read-only or read-write storage buffer at `binding`, visible to compute shaders.
pub(crate) fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// The uniform parameter block at binding 0, `size` bytes, addressed with a dynamic offset.
pub(crate) fn params_entry(size: usize) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: wgpu::BufferSize::new(size as u64),
        },
        count: None,
    }
}

/// Workgroup counts (x, y) of a 2D dispatch covering `n` items with `workgroup` invocations per
/// group on `device`, and the number of items per row (a kernel's `row_width`).
pub(crate) fn dispatch_shape(device: &wgpu::Device, n: u32, workgroup: u32) -> (u32, u32, u32) {
    let groups = n.div_ceil(workgroup).max(1);
    let x = groups.min(device.limits().max_compute_workgroups_per_dimension);
    (x, groups.div_ceil(x), x * workgroup)
}

/// Compiles the WGSL `code` and its entry point `entry` into a pipeline with one bind group.
pub(crate) fn compute_pipeline(
    device: &wgpu::Device,
    entry: &str,
    code: &str,
    layout: &wgpu::BindGroupLayout,
) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(entry),
        source: wgpu::ShaderSource::Wgsl(code.to_owned().into()),
    });
    let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(entry),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: Some(&pl),
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    })
}

/// A host-readable buffer of `size` bytes to copy results into.
pub(crate) fn staging_buffer(device: &wgpu::Device, label: &str, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Waits for the queued work, maps `staging` (a [`staging_buffer`] already copied into) and
/// returns its bytes.
pub(crate) fn map_staging(device: &wgpu::Device, staging: &wgpu::Buffer) -> Result<Vec<u8>> {
    let slice = staging.slice(..);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| Error::Gpu(format!("device poll: {e}")))?;
    rx.recv()
        .map_err(|e| Error::Gpu(format!("readback channel: {e}")))?
        .map_err(|e| Error::Gpu(format!("readback: {e}")))?;
    let data = slice.get_mapped_range().map_err(|e| Error::Gpu(format!("readback: {e:?}")))?.to_vec();
    staging.unmap();
    Ok(data)
}

/// Copies the first `bytes` of `buffer` back to the host after the queued work has finished.
pub(crate) fn read_buffer(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    buffer: &wgpu::Buffer,
    bytes: u64,
) -> Result<Vec<u8>> {
    let staging = staging_buffer(device, "readback", bytes);
    let mut encoder =
        device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
    encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
    queue.submit([encoder.finish()]);
    map_staging(device, &staging)
}

/// Parses and validates WGSL `code` with naga and checks it has the entry point `entry`: a
/// broken kernel then fails every test run, GPU or not.
#[cfg(test)]
pub(crate) fn validate_wgsl(entry: &str, code: &str) {
    let module =
        naga::front::wgsl::parse_str(code).unwrap_or_else(|e| panic!("{entry}: {}", e.emit_to_string(code)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{entry}: {e:?}"));
    assert!(module.entry_points.iter().any(|e| e.name == entry), "{entry} has no entry point of that name");
}
