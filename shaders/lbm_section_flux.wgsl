// Momentum flux of listed cells through their port's measuring section (the coupling of outlet
// models): out[i] = weight_i * (sum_j g_j c_j) . normal_i for entry i, lattice units; the host sums
// the entries of each port. CPU twin: src/lbm/cpu.rs, fn section_flux.
// shaders/lbm_common.wgsl is prepended (bindings 0 and 1 used). A 1D dispatch: entry = gid.x.

// Keep in sync with `FluxEntry` in src/lbm/mod.rs (checked by tests/shader_layout.rs).
struct FluxEntry {
    cell: u32,
    weight: f32,
    normal: array<f32, 3>,
    port: u32,
    pad: array<u32, 2>,
}

@group(0) @binding(2) var<storage, read_write> flux_out: array<f32>;
@group(0) @binding(5) var<storage, read> entries: array<FluxEntry>;

@compute @workgroup_size(WORKGROUP)
fn lbm_section_flux(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&entries) {
        return;
    }
    let e = entries[i];
    let n = params.n_cells;
    var mx = 0.0;
    var my = 0.0;
    var mz = 0.0;
    for (var j = 0u; j < Q; j++) {
        let g = g_src[j * n + e.cell];
        mx += g * CX[j];
        my += g * CY[j];
        mz += g * CZ[j];
    }
    flux_out[i] = e.weight * (mx * e.normal[0] + my * e.normal[1] + mz * e.normal[2]);
}
