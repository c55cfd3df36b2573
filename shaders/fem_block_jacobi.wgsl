// z = D^-1 r with the inverted 3x3 diagonal blocks (9 per node, row-major), one thread per node.
// CPU twin: src/fem/cpu.rs, fn fem_block_jacobi. WORKGROUP and fem_common.wgsl are prepended;
// params.n counts nodes here.

@group(0) @binding(1) var<storage, read> inverse: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read_write> z: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn fem_block_jacobi(@builtin(global_invocation_id) gid: vec3<u32>) {
    let node = gid.x + gid.y * params.row_width;
    if node >= params.n {
        return;
    }
    let m = 9u * node;
    let v = 3u * node;
    for (var i = 0u; i < 3u; i++) {
        z[v + i] = inverse[m + 3u * i] * r[v] + inverse[m + 3u * i + 1u] * r[v + 1u] + inverse[m + 3u * i + 2u] * r[v + 2u];
    }
}
