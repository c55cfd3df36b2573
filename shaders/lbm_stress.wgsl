// The non-equilibrium second moment of every cell before collision, from which the viscous stress
// follows: out[6 * cell + k] = Pi^neq (xx, yy, zz, xy, xz, yz), lattice units, with
// Pi^neq = sum_i c_i c_i g_i - (drho / 3 I + rho u u) for the shifted populations g_i = f_i - w_i.
// CPU twin: src/lbm/cpu.rs, fn stress. shaders/lbm_common.wgsl is prepended.

@group(0) @binding(2) var<storage, read_write> stress_out: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn lbm_stress(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x + gid.y * params.row_width;
    let n = params.n_cells;
    if cell >= n {
        return;
    }
    let g = pull_cell(cell, n);
    let m = moments_of(g);
    let p = pi_neq(g, m.x, 1.0 + m.x, m.yzw);
    for (var k = 0u; k < 6u; k++) {
        stress_out[6u * cell + k] = p[k];
    }
}
