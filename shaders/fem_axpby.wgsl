// y = a x + b y. CPU twin: src/fem/cpu.rs, fn fem_axpby. WORKGROUP and fem_common.wgsl are prepended.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn fem_axpby(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.row_width;
    if i >= params.n {
        return;
    }
    y[i] = params.a * x[i] + params.b * y[i];
}
