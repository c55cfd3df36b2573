// Shared by the LBM kernels (prepended to each): the per-step parameters, the lattice bindings and
// the pull of populations from neighbours and boundary links.
// Prepended before it: WORKGROUP (src/gpu/kernels.rs), the lattice constants (Q, CX, CY, CZ, W, OPP,
// H3) and COLLISION_REGULARIZED (src/stencil/), the link constants (BOUNDARY_BIT, LINK_*,
// PROFILE_SAMPLES, MAX_PORTS) from src/lattice/sparse.rs and the viscosity constants from
// src/lbm/viscosity.rs.

// Keep in sync with `StepParams` in src/lbm/mod.rs (checked by tests/shader_layout.rs).
struct StepParams {
    n_cells: u32,
    row_width: u32,
    omega_plus: f32,
    omega_minus: f32,
    inflow_scale: f32,
    collision: u32,
    pad: vec2<u32>,
    profile: array<vec4<f32>, PROFILE_SAMPLES / 4u>,
    port_rho: array<vec4<f32>, MAX_PORTS / 4u>,
    rheology: u32,
    smagorinsky: f32,
    tau_min: f32,
    tau_max: f32,
    nu_zero: f32,
    nu_inf: f32,
    lambda: f32,
    power_a: f32,
    power_n: f32,
    yield_stress: f32,
    regularisation: f32,
    magic: f32,
}

// Keep in sync with `BoundaryLink` in src/lattice/sparse.rs (checked by tests/shader_layout.rs).
struct BoundaryLink {
    q: f32,
    kind: u32,
    u: array<f32, 3>,
    radial: f32,
    port: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: StepParams;
@group(0) @binding(1) var<storage, read> g_src: array<f32>;
@group(0) @binding(3) var<storage, read> neighbours: array<u32>;
@group(0) @binding(4) var<storage, read> links: array<BoundaryLink>;

// Density deviation and velocity (drho, ux, uy, uz) of populations g. CPU twin: src/lbm/cpu.rs,
// fn moments_of.
fn moments_of(g: array<f32, Q>) -> vec4<f32> {
    var drho = 0.0;
    var mx = 0.0;
    var my = 0.0;
    var mz = 0.0;
    for (var i = 0u; i < Q; i++) {
        drho += g[i];
        mx += g[i] * CX[i];
        my += g[i] * CY[i];
        mz += g[i] * CZ[i];
    }
    let rho = 1.0 + drho;
    return vec4<f32>(drho, mx / rho, my / rho, mz / rho);
}

// (drho, ux, uy, uz) of a cell from its stored (post-collision) populations.
fn stored_moments(cell: u32, n: u32) -> vec4<f32> {
    var g: array<f32, Q>;
    for (var i = 0u; i < Q; i++) {
        g[i] = g_src[i * n + cell];
    }
    return moments_of(g);
}

// The inlet profile table at radial coordinate `radial`, linearly interpolated.
fn inlet_profile(radial: f32) -> f32 {
    let x = clamp(radial, 0.0, 1.0) * f32(PROFILE_SAMPLES - 1u);
    let k = min(u32(x), PROFILE_SAMPLES - 2u);
    let t = x - f32(k);
    let a = params.profile[k / 4u][k % 4u];
    let b = params.profile[(k + 1u) / 4u][(k + 1u) % 4u];
    return a + (b - a) * t;
}

// The population arriving along direction j at a cell whose pull source is a boundary link.
fn boundary_population(cell: u32, n: u32, j: u32, link: BoundaryLink) -> f32 {
    let d = OPP[j];
    let g_out = g_src[d * n + cell];
    if link.kind == LINK_PRESSURE {
        var u = stored_moments(cell, n).yzw;
        // Backflow stabilisation: flow entering through an outlet keeps only its component along
        // the outward normal (link.u).
        let un = link.u[0] * u.x + link.u[1] * u.y + link.u[2] * u.z;
        if un < 0.0 {
            u = vec3<f32>(link.u[0] * un, link.u[1] * un, link.u[2] * un);
        }
        let cu = CX[j] * u.x + CY[j] * u.y + CZ[j] * u.z;
        let usq = u.x * u.x + u.y * u.y + u.z * u.z;
        let rho_out = params.port_rho[link.port / 4u][link.port % 4u];
        return -g_out + 2.0 * W[j] * (rho_out * (1.0 + 4.5 * cu * cu - 1.5 * usq) - 1.0);
    }
    // A wall is at rest: only an inlet's links carry the moving-wall term.
    var moving = 0.0;
    if link.kind == LINK_VELOCITY {
        let shape = inlet_profile(link.radial);
        let cu_wall = (CX[j] * link.u[0] + CY[j] * link.u[1] + CZ[j] * link.u[2]) * shape * params.inflow_scale;
        moving = 6.0 * W[j] * cu_wall;
    }
    let q = link.q;
    if q < 0.5 {
        let second = neighbours[(d - 1u) * n + cell];
        return 2.0 * q * g_out + (1.0 - 2.0 * q) * g_src[d * n + second] + moving;
    }
    let g_back = g_src[j * n + cell];
    return (g_out + (2.0 * q - 1.0) * g_back + moving) / (2.0 * q);
}

// Load: pull each population from its upstream cell or its boundary link. Interpolated bounce-back
// does not conserve mass by itself: the wall's net gain is taken back from the rest population, so a
// wall link returns exactly what left through it, as halfway bounce-back does.
// CPU twin: src/lbm/cpu.rs, fn pull_cell.
fn pull_cell(cell: u32, n: u32) -> array<f32, Q> {
    var g: array<f32, Q>;
    g[0] = g_src[cell];
    var wall_gain = 0.0;
    for (var j = 1u; j < Q; j++) {
        let s = neighbours[(j - 1u) * n + cell];
        if (s & BOUNDARY_BIT) == 0u {
            g[j] = g_src[j * n + s];
        } else {
            let link = links[s & ~BOUNDARY_BIT];
            g[j] = boundary_population(cell, n, j, link);
            if link.kind == LINK_WALL {
                wall_gain += g[j] - g_src[OPP[j] * n + cell];
            }
        }
    }
    g[0] = g[0] - wall_gain;
    return g;
}

// 2^x (about 2 ulp); x is kept in [-125, 126] so the result stays a normal number.
// CPU twin: src/lbm/viscosity.rs, fn exp2_poly.
fn exp2_poly(x: f32) -> f32 {
    let xc = clamp(x, -125.0, 126.0);
    let i = round(xc);
    let f = xc - i;
    var p = EXP2_POLY[6];
    for (var k = 1u; k < 7u; k++) {
        p = fma(p, f, EXP2_POLY[6u - k]);
    }
    return p * bitcast<f32>(u32(i32(i) + 127) << 23u);
}

// log2(x) (about 1e-7 absolute plus 1 ulp); x below the smallest normal number counts as it.
// CPU twin: src/lbm/viscosity.rs, fn log2_poly.
fn log2_poly(x: f32) -> f32 {
    let bits = bitcast<u32>(max(x, 1.17549435e-38)) + (0x3f800000u - 0x3f3504f3u);
    let k = i32(bits >> 23u) - 127;
    let m = bitcast<f32>((bits & 0x007fffffu) + 0x3f3504f3u);
    let y = m - 1.0;
    var p = LOG2_POLY[7];
    for (var k = 1u; k < 8u; k++) {
        p = fma(p, y, LOG2_POLY[7u - k]);
    }
    return fma(y, p, f32(k));
}

// The relaxation time at which the viscosity model's viscosity at the shear rate
// 3 |Pi^neq| / (sqrt 2 rho tau) gives back tau, within [tau_min, tau_max]: from the reference tau a
// plain fixed-point step, then secant steps on goal(tau) - tau where the residual shrank and the
// secant is not flat (else plain steps), a step that does not move ending the motion;
// CARREAU_YASUDA_ITERATIONS steps for Carreau-Yasuda, TAU_ITERATIONS for the others.
// CPU twin: src/lbm/viscosity.rs, fn fixed_point.
fn local_tau(pi_norm: f32, rho: f32) -> f32 {
    let tau0 = 1.0 / params.omega_plus;
    let iterations = select(TAU_ITERATIONS, CARREAU_YASUDA_ITERATIONS, params.rheology == 1u);
    var tau = tau0;
    var prev = 0.0;
    var prev_res = 0.0;
    for (var k = 0u; k < TAU_ITERATIONS; k++) {
        if k < iterations {
            let shear = 3.0 * pi_norm / (1.4142135 * rho * tau);
            var nu = (tau0 - 0.5) / 3.0;
            if params.rheology == 1u {
                let lambda_a = exp2_poly(params.power_a * log2_poly(params.lambda * shear));
                let exponent = (params.power_n - 1.0) / params.power_a;
                nu = params.nu_inf + (params.nu_zero - params.nu_inf) * exp2_poly(exponent * log2_poly(1.0 + lambda_a));
            } else if params.rheology == 2u {
                let g = max(shear, 1e-12);
                let e = exp2_poly(-params.regularisation * g * 1.44269504);
                let s = sqrt(params.yield_stress * (1.0 - e) / g) + sqrt(params.nu_inf);
                nu = s * s;
            }
            let goal = clamp(0.5 + 3.0 * (nu + params.smagorinsky * shear), params.tau_min, params.tau_max);
            let res = goal - tau;
            let den = res - prev_res;
            var next = goal;
            if k > 0u && tau == prev {
                next = tau;
            } else if k > 0u && den != 0.0 && abs(res) < abs(prev_res) {
                next = clamp(tau - res * (tau - prev) / den, params.tau_min, params.tau_max);
            }
            prev = tau;
            prev_res = res;
            tau = next;
        }
    }
    return tau;
}

// The non-equilibrium second moment (xx, yy, zz, xy, xz, yz) of populations g whose moments are
// drho, rho and u: sum_i c_i c_i g_i - (drho / 3 I + rho u u) for shifted populations, the sum over
// the opposite pairs' even parts. CPU twin: src/lbm/cpu.rs, fn pi_neq.
fn pi_neq(g: array<f32, Q>, drho: f32, rho: f32, u: vec3<f32>) -> array<f32, 6> {
    var pxx = 0.0;
    var pyy = 0.0;
    var pzz = 0.0;
    var pxy = 0.0;
    var pxz = 0.0;
    var pyz = 0.0;
    for (var i = 1u; i < Q; i += 2u) {
        let even = g[i] + g[i + 1u];
        pxx += even * (CX[i] * CX[i]);
        pyy += even * (CY[i] * CY[i]);
        pzz += even * (CZ[i] * CZ[i]);
        pxy += even * (CX[i] * CY[i]);
        pxz += even * (CX[i] * CZ[i]);
        pyz += even * (CY[i] * CZ[i]);
    }
    let iso = drho / 3.0;
    return array<f32, 6>(
        pxx - (iso + rho * u.x * u.x),
        pyy - (iso + rho * u.y * u.y),
        pzz - (iso + rho * u.z * u.z),
        pxy - rho * u.x * u.y,
        pxz - rho * u.x * u.z,
        pyz - rho * u.y * u.z,
    );
}
