// STREAM-like triad a = b + s c over vec4<f32>: the GPU's sustained memory bandwidth, the roofline of
// `hemotwin bench`. CPU twin: src/bench.rs, fn triad_bandwidth (the same triad in f64).
// WORKGROUP is prepended (src/gpu/kernels.rs).

// Keep in sync with `TriadParams` in src/gpu/bandwidth.rs (checked by tests/shader_layout.rs).
struct TriadParams {
    n: u32,
    row_width: u32,
    s: f32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: TriadParams;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> c: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> a: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP)
fn triad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.row_width;
    if i < params.n {
        a[i] = b[i] + params.s * c[i];
    }
}
