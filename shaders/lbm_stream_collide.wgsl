// One fused D3Q19 step on the sparse lattice: pull streaming with boundary links, then the TRT or
// regularized collision.
// Populations are stored shifted (g_i = f_i - w_i) in structure-of-arrays order: g[i * n + cell].
// CPU twin: src/lbm/cpu.rs, fn stream_collide (same names, same order of operations).
// shaders/lbm_common.wgsl (parameters, bindings 0, 1, 3, 4, pull_cell) is prepended.

@group(0) @binding(2) var<storage, read_write> g_dst: array<f32>;

// TRT collision of populations g with moments drho, rho, u: the rest population, then each opposite
// pair (i, i + 1). CPU twin: src/lbm/cpu.rs, fn trt.
fn trt(g_in: array<f32, Q>, omega_plus: f32, omega_minus: f32, drho: f32, rho: f32, u: vec3<f32>) -> array<f32, Q> {
    var g = g_in;
    let usq = u.x * u.x + u.y * u.y + u.z * u.z;
    let geq0 = W[0] * (drho - 1.5 * rho * usq);
    g[0] = g[0] - omega_plus * (g[0] - geq0);
    for (var i = 1u; i < Q; i += 2u) {
        let cu = CX[i] * u.x + CY[i] * u.y + CZ[i] * u.z;
        let geq_plus = W[i] * (drho + rho * (4.5 * cu * cu - 1.5 * usq));
        let geq_minus = W[i] * rho * 3.0 * cu;
        let relax_plus = omega_plus * (0.5 * (g[i] + g[i + 1u]) - geq_plus);
        let relax_minus = omega_minus * (0.5 * (g[i] - g[i + 1u]) - geq_minus);
        g[i] = g[i] - relax_plus - relax_minus;
        g[i + 1u] = g[i + 1u] - relax_plus + relax_minus;
    }
    return g;
}

// Recursive regularized collision (Malaspinas 2015; Coreixas et al. 2017): populations rebuilt from
// drho, u and Pi^neq alone, equilibrium and non-equilibrium to third order, the non-equilibrium
// relaxed with omega, its third-order part derived from u and Pi^neq. CPU twin: src/lbm/cpu.rs,
// fn regularize.
fn regularize(g: array<f32, Q>, omega: f32, drho: f32, rho: f32, u: vec3<f32>) -> array<f32, Q> {
    var out: array<f32, Q>;
    let p = pi_neq(g, drho, rho, u);
    let usq = u.x * u.x + u.y * u.y + u.z * u.z;
    let keep = 1.0 - omega;
    let trace = (p[0] + p[1] + p[2]) / 3.0;
    let xyy = rho * u.x * u.y * u.y + keep * (2.0 * u.y * p[3] + u.x * p[1]);
    let xzz = rho * u.x * u.z * u.z + keep * (2.0 * u.z * p[4] + u.x * p[2]);
    let yzz = rho * u.y * u.z * u.z + keep * (2.0 * u.z * p[5] + u.y * p[2]);
    let xxy = rho * u.x * u.x * u.y + keep * (2.0 * u.x * p[3] + u.y * p[0]);
    let xxz = rho * u.x * u.x * u.z + keep * (2.0 * u.x * p[4] + u.z * p[0]);
    let yyz = rho * u.y * u.y * u.z + keep * (2.0 * u.y * p[5] + u.z * p[1]);
    let third = array<f32, 6>(xyy + xzz, xyy - xzz, yzz + xxy, yzz - xxy, xxz + yyz, xxz - yyz);
    out[0] = W[0] * (drho - 1.5 * rho * usq - keep * 4.5 * trace);
    for (var i = 1u; i < Q; i += 2u) {
        let cu = CX[i] * u.x + CY[i] * u.y + CZ[i] * u.z;
        let cpc = CX[i] * CX[i] * p[0] + CY[i] * CY[i] * p[1] + CZ[i] * CZ[i] * p[2]
            + 2.0 * CX[i] * CY[i] * p[3] + 2.0 * CX[i] * CZ[i] * p[4] + 2.0 * CY[i] * CZ[i] * p[5];
        var t3 = 0.0;
        for (var k = 0u; k < 6u; k++) {
            t3 += third[k] * H3[i][k];
        }
        let even = W[i] * (drho + rho * (4.5 * cu * cu - 1.5 * usq) + keep * 4.5 * (cpc - trace));
        let odd = W[i] * (rho * 3.0 * cu + t3);
        out[i] = even + odd;
        out[i + 1u] = even - odd;
    }
    return out;
}

@compute @workgroup_size(WORKGROUP)
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
    let u = m.yzw;
    // 3. Collision (TRT or regularized), with a local relaxation time for non-Newtonian blood or LES.
    var omega_plus = params.omega_plus;
    var omega_minus = params.omega_minus;
    if params.rheology != 0u || params.smagorinsky > 0.0 {
        let p = pi_neq(g, drho, rho, u);
        let pi_norm = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + 2.0 * (p[3] * p[3] + p[4] * p[4] + p[5] * p[5]));
        let tau = local_tau(pi_norm, rho);
        omega_plus = 1.0 / tau;
        omega_minus = 1.0 / (0.5 + params.magic / (tau - 0.5));
    }
    if params.collision == COLLISION_REGULARIZED {
        g = regularize(g, omega_plus, drho, rho, u);
    } else {
        g = trt(g, omega_plus, omega_minus, drho, rho, u);
    }
    // 4. Store.
    for (var i = 0u; i < Q; i++) {
        g_dst[i * n + cell] = g[i];
    }
}
