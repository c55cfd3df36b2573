// y = a (w * x) + b y with w an inverted diagonal (the Jacobi step of the multigrid smoother).
// CPU twin: src/fem/cpu.rs, fn fem_scaled_axpby. WORKGROUP and fem_common.wgsl are prepended.

@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn fem_scaled_axpby(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.row_width;
    if i >= params.n {
        return;
    }
    y[i] = params.a * (w[i] * x[i]) + params.b * y[i];
}
