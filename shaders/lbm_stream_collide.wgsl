// One fused D3Q19 step on the sparse lattice: pull streaming with boundary links, then TRT collision.
// Populations are stored shifted (g_i = f_i - w_i) in structure-of-arrays order: g[i * n + cell].
// CPU twin: src/lbm/cpu.rs, fn stream_collide (same names, same order of operations).
// shaders/lbm_common.wgsl (parameters, bindings 0, 1, 3, 4, pull_cell) is prepended.

@group(0) @binding(2) var<storage, read_write> g_dst: array<f32>;

@compute @workgroup_size(64)
fn lbm_stream_collide(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x + gid.y * params.row_width;
    let n = params.n_cells;
    if cell >= n {
        return;
    }
    // 1. Load.
    var g = pull_cell(cell, n);
    // 2. Moments.
    let m = moments_of(g);
    let drho = m.x;
    let rho = 1.0 + drho;
    let ux = m.y;
    let uy = m.z;
    let uz = m.w;
    let usq = ux * ux + uy * uy + uz * uz;
    // 3. TRT collision, the rest population then each opposite pair (i, i + 1), with a local
    //    relaxation time for non-Newtonian blood or LES.
    var omega_plus = params.omega_plus;
    var omega_minus = params.omega_minus;
    if params.rheology != 0u || params.smagorinsky > 0.0 {
        let p = pi_neq(g, drho, rho, vec3<f32>(ux, uy, uz));
        let pi_norm = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + 2.0 * (p[3] * p[3] + p[4] * p[4] + p[5] * p[5]));
        let tau = local_tau(pi_norm, rho);
        omega_plus = 1.0 / tau;
        omega_minus = 1.0 / (0.5 + params.magic / (tau - 0.5));
    }
    let geq0 = W[0] * (drho - 1.5 * rho * usq);
    g[0] = g[0] - omega_plus * (g[0] - geq0);
    for (var i = 1u; i < Q; i += 2u) {
        let cu = CX[i] * ux + CY[i] * uy + CZ[i] * uz;
        let geq_plus = W[i] * (drho + rho * (4.5 * cu * cu - 1.5 * usq));
        let geq_minus = W[i] * rho * 3.0 * cu;
        let relax_plus = omega_plus * (0.5 * (g[i] + g[i + 1u]) - geq_plus);
        let relax_minus = omega_minus * (0.5 * (g[i] - g[i + 1u]) - geq_minus);
        g[i] = g[i] - relax_plus - relax_minus;
        g[i + 1u] = g[i + 1u] - relax_plus + relax_minus;
    }
    // 4. Store.
    for (var i = 0u; i < Q; i++) {
        g_dst[i * n + cell] = g[i];
    }
}
