// y = a x + b y. CPU twin: src/fem/cpu.rs, fn fem_axpby. WORKGROUP is prepended from src/fem/cpu.rs.

// Keep in sync with `FemParams` in src/fem/gpu.rs.
struct FemParams {
    n: u32,
    row_width: u32,
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> params: FemParams;
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
