// y = A x for a CSR matrix, one thread per row (f32 values, u32 indices).
// CPU twin: src/fem/cpu.rs, fn fem_spmv. WORKGROUP and fem_common.wgsl are prepended.

@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> cols: array<u32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn fem_spmv(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x + gid.y * params.row_width;
    if row >= params.n {
        return;
    }
    var sum = 0.0;
    for (var k = offsets[row]; k < offsets[row + 1u]; k++) {
        sum += values[k] * x[cols[k]];
    }
    y[row] = sum;
}
