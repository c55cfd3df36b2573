// Density deviation and velocity of every cell from its stored populations: out[cell] = (drho, ux, uy, uz).
// CPU twin: src/lbm/cpu.rs, fn moments. shaders/lbm_common.wgsl is prepended (bindings 0 and 1 used).

@group(0) @binding(2) var<storage, read_write> moments_out: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP)
fn lbm_moments(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x + gid.y * params.row_width;
    let n = params.n_cells;
    if cell >= n {
        return;
    }
    moments_out[cell] = stored_moments(cell, n);
}
