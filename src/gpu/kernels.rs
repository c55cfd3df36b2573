//! What every compute kernel needs from wgpu, shared by the LBM and FEM backends: the workgroup
//! sizes, bind-group layout entries, a pipeline from WGSL source, and reading a buffer back to the
//! host.

use crate::error::{Error, Result};

/// Invocations per workgroup of every kernel but the LBM ones (the FEM kernels, the triad); also
/// the length of `fem_dot`'s reduction tree, which its CPU twin in src/fem/cpu.rs repeats.
pub(crate) const WORKGROUP: u32 = 256;

/// Invocations per workgroup of the LBM kernels (one fluid cell or section entry each).
pub(crate) const LBM_WORKGROUP: u32 = 64;

/// WGSL `code` with `const WORKGROUP: u32` set to `size` prepended: every shader declares
/// `@workgroup_size(WORKGROUP)` and takes the size from here.
pub(crate) fn with_workgroup(size: u32, code: &str) -> String {
    format!("const WORKGROUP: u32 = {size}u;\n{code}")
}

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

/// `code` with every `for (var i = A; i < B; i++)` or `i += S` loop whose bounds are integer
/// literals or `const NAME: u32` values of `code` written out once per value of `i`, each copy in
/// its own block with `i` replaced by the literal. Indices into the direction arrays then become
/// constants, so the populations stay in registers: a loop-indexed private array otherwise goes
/// to local memory on drivers that do not unroll (the H100's Vulkan driver ran the looped LBM
/// kernel at 3% of its memory bandwidth). Loops with other bounds are kept.
pub(crate) fn unroll_loops(code: &str) -> String {
    let consts: Vec<(&str, u32)> = code
        .lines()
        .filter_map(|l| {
            let (name, value) = l.trim().strip_prefix("const ")?.split_once(": u32 = ")?;
            Some((name, value.trim_end_matches(';').strip_suffix('u')?.parse().ok()?))
        })
        .collect();
    unroll_with(code, &consts)
}

/// The value of a loop bound: an integer literal (`8u`, `8`) or a named constant.
fn loop_bound(text: &str, consts: &[(&str, u32)]) -> Option<u32> {
    let t = text.trim();
    t.trim_end_matches('u').parse().ok().or_else(|| consts.iter().find(|(n, _)| *n == t).map(|&(_, v)| v))
}

/// (variable, first, end, step) of a loop header `var i = A; i < B; i++` (or `i += S`).
fn loop_header(header: &str, consts: &[(&str, u32)]) -> Option<(String, u32, u32, u32)> {
    let mut parts = header.split(';');
    let (var, start) = parts.next()?.trim().strip_prefix("var ")?.split_once('=')?;
    let var = var.trim();
    let (cond_var, end) = parts.next()?.split_once('<')?;
    let incr = parts.next()?.trim();
    let step = if incr == format!("{var}++") {
        1
    } else {
        loop_bound(incr.strip_prefix(var)?.trim().strip_prefix("+=")?, consts)?
    };
    (cond_var.trim() == var && !end.starts_with('=') && step > 0).then_some((
        var.to_string(),
        loop_bound(start, consts)?,
        loop_bound(end, consts)?,
        step,
    ))
}

/// `text` with the identifier `var` replaced by `value` wherever it stands as a whole word.
fn substitute(text: &str, var: &str, value: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if word(c) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !word(d) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            out.push_str(if &text[i..end] == var { value } else { &text[i..end] });
        } else {
            out.push(c);
        }
    }
    out
}

fn unroll_with(code: &str, consts: &[(&str, u32)]) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(pos) = rest.find("for (var ") {
        out.push_str(&rest[..pos]);
        let header_start = pos + "for (".len();
        let Some(open) = rest[pos..].find(") {").map(|o| pos + o) else { break };
        let body_start = open + ") {".len();
        let mut depth = 1;
        let mut close = body_start;
        for (i, c) in rest[body_start..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                close = body_start + i;
                break;
            }
        }
        let body = &rest[body_start..close];
        match loop_header(&rest[header_start..open], consts) {
            Some((var, start, end, step)) => {
                for value in (start..end).step_by(step as usize) {
                    out.push('{');
                    out.push_str(&unroll_with(&substitute(body, &var, &format!("{value}u")), consts));
                    out.push('}');
                }
            }
            None => {
                out.push_str(&rest[pos..body_start]);
                out.push_str(&unroll_with(body, consts));
                out.push('}');
            }
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Compiles the WGSL `code` (loops unrolled by [`unroll_loops`]) and its entry point `entry` into
/// a pipeline with one bind group.
pub(crate) fn compute_pipeline(
    device: &wgpu::Device,
    entry: &str,
    code: &str,
    layout: &wgpu::BindGroupLayout,
) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(entry),
        source: wgpu::ShaderSource::Wgsl(unroll_loops(code).into()),
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

/// Parses and validates WGSL `code`, as written and with its loops unrolled, with naga and checks
/// it has the entry point `entry`: a broken kernel then fails every test run, GPU or not.
#[cfg(test)]
pub(crate) fn validate_wgsl(entry: &str, code: &str) {
    validate_one(entry, code);
    validate_one(entry, &unroll_loops(code));
}

#[cfg(test)]
fn validate_one(entry: &str, code: &str) {
    let module =
        naga::front::wgsl::parse_str(code).unwrap_or_else(|e| panic!("{entry}: {}", e.emit_to_string(code)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{entry}: {e:?}"));
    assert!(module.entry_points.iter().any(|e| e.name == entry), "{entry} has no entry point of that name");
}

#[cfg(test)]
mod tests {
    use super::unroll_loops;

    #[test]
    fn loops_with_constant_bounds_are_written_out_and_others_kept() {
        let code = "const Q: u32 = 3u;\nfn f(n: u32) {\n\
                    for (var i = 1u; i < Q; i += 1u) { for (var k = 0u; k < 2u; k++) { a[i * 2u + k] = ki; } }\n\
                    for (var i = 0u; i < n; i++) { b[i] = 0.0; }\n}\n";
        let unrolled = unroll_loops(code);
        assert_eq!(
            unrolled,
            "const Q: u32 = 3u;\nfn f(n: u32) {\n\
             { { a[1u * 2u + 0u] = ki; }{ a[1u * 2u + 1u] = ki; } }{ { a[2u * 2u + 0u] = ki; }{ a[2u * 2u + 1u] = ki; } }\n\
             for (var i = 0u; i < n; i++) { b[i] = 0.0; }\n}\n"
        );
    }
}
