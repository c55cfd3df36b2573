//! CPU twins of the LBM kernels (rayon): the same names, loops and order of operations as
//! shaders/lbm_stream_collide.wgsl and shaders/lbm_moments.wgsl.

use super::StepParams;
use super::viscosity::{local_tau, local_taus};
use crate::lattice::{BOUNDARY_BIT, BoundaryLink, LINK_PRESSURE, LINK_VELOCITY, LINK_WALL, PROFILE_SAMPLES};
use crate::stencil::COLLISION_REGULARIZED;
use crate::stencil::d3q19::{C, HERMITE3, Q, W, opposite};
use rayon::prelude::*;

/// Cells per rayon task: large enough to amortise scheduling, small enough to balance 2-64 threads
/// (a multiple of `LANES`, so that tasks start at a block of the plan).
const CHUNK: usize = 4096;
const _: () = assert!(CHUNK.is_multiple_of(LANES));

const CX: [f32; Q] = axis(0);
const CY: [f32; Q] = axis(1);
const CZ: [f32; Q] = axis(2);

const fn axis(a: usize) -> [f32; Q] {
    let mut out = [0.0; Q];
    let mut i = 0;
    while i < Q {
        out[i] = C[i][a] as f32;
        i += 1;
    }
    out
}

/// Twin of `stored_moments` in shaders/lbm_common.wgsl: density deviation, density and velocity of
/// a cell from its stored (post-collision) populations.
fn stored_moments(g_src: &[f32], cell: usize, n: usize) -> (f32, f32, [f32; 3]) {
    moments_of(&std::array::from_fn(|i| g_src[i * n + cell]))
}

/// The inlet profile table at radial coordinate `radial`, linearly interpolated.
fn inlet_profile(p: &StepParams, radial: f32) -> f32 {
    let x = radial.clamp(0.0, 1.0) * (PROFILE_SAMPLES - 1) as f32;
    let k = (x as usize).min(PROFILE_SAMPLES - 2);
    let t = x - k as f32;
    let (a, b) = (p.profile[k], p.profile[k + 1]);
    a + (b - a) * t
}

/// The population arriving along direction j at a cell whose pull source is a boundary link.
#[inline(always)]
fn boundary_population(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    cell: usize,
    n: usize,
    j: usize,
    link: &BoundaryLink,
) -> f32 {
    let d = opposite(j);
    let g_out = g_src[d * n + cell];
    if link.kind == LINK_PRESSURE {
        let (_, _, mut u) = stored_moments(g_src, cell, n);
        // Backflow stabilisation: flow entering through an outlet keeps only its component along
        // the outward normal `link.u`, so no tangential inflow builds up at the outlet.
        let un = link.u[0] * u[0] + link.u[1] * u[1] + link.u[2] * u[2];
        if un < 0.0 {
            u = [link.u[0] * un, link.u[1] * un, link.u[2] * un];
        }
        let cu = CX[j] * u[0] + CY[j] * u[1] + CZ[j] * u[2];
        let usq = u[0] * u[0] + u[1] * u[1] + u[2] * u[2];
        let rho_out = p.port_rho[link.port as usize];
        return -g_out + 2.0 * W[j] * (rho_out * (1.0 + 4.5 * cu * cu - 1.5 * usq) - 1.0);
    }
    // A wall is at rest: only an inlet's links carry the moving-wall term.
    let moving = if link.kind == LINK_VELOCITY {
        let shape = inlet_profile(p, link.radial);
        let cu_wall = (CX[j] * link.u[0] + CY[j] * link.u[1] + CZ[j] * link.u[2]) * shape * p.inflow_scale;
        6.0 * W[j] * cu_wall
    } else {
        0.0
    };
    let far = g_src[far_population(link.q, j, n, cell, || neighbours[(d - 1) * n + cell] as usize)];
    bouzidi(link.q, g_out, far, moving)
}

/// Index in `g_src` of the population that interpolated bounce-back at wall distance `q` weighs
/// against `g_out` for direction j at `cell`: that of the second fluid cell (`second()`, the pull
/// source of opposite(j)) in direction opposite(j) when q < 1/2, else the cell's own in direction j.
#[inline(always)]
fn far_population(q: f32, j: usize, n: usize, cell: usize, second: impl FnOnce() -> usize) -> usize {
    if q < 0.5 { opposite(j) * n + second() } else { j * n + cell }
}

/// Interpolated (Bouzidi) bounce-back at wall distance `q` of the population `g_out` leaving
/// towards the wall, with `far` from `far_population` and the moving-wall term `moving`.
#[inline(always)]
fn bouzidi(q: f32, g_out: f32, far: f32, moving: f32) -> f32 {
    if q < 0.5 {
        return 2.0 * q * g_out + (1.0 - 2.0 * q) * far + moving;
    }
    (g_out + (2.0 * q - 1.0) * far + moving) / (2.0 * q)
}

/// Step 1 of the fused kernel for one cell. Load: pull each population from its upstream cell or its
/// boundary link. Interpolated bounce-back does not conserve mass by itself: the wall's net gain is
/// taken back from the rest population, so a wall link returns exactly what left through it, as
/// halfway bounce-back does.
fn pull_cell(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    cell: usize,
) -> [f32; Q] {
    let mut g = [0.0f32; Q];
    g[0] = g_src[cell];
    let mut wall_gain = 0.0f32;
    for (j, gj) in g.iter_mut().enumerate().skip(1) {
        *gj = pull(p, g_src, neighbours, links, cell, j, &mut wall_gain);
    }
    g[0] -= wall_gain;
    g
}

/// Population j (>= 1) arriving at `cell`: from its upstream cell or its boundary link; a wall link
/// adds its net gain to `wall_gain`.
#[inline(always)]
fn pull(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    cell: usize,
    j: usize,
    wall_gain: &mut f32,
) -> f32 {
    let n = p.n_cells as usize;
    let s = neighbours[(j - 1) * n + cell];
    if s & BOUNDARY_BIT == 0 {
        return g_src[j * n + s as usize];
    }
    pull_link(p, g_src, neighbours, links, cell, j, s, wall_gain)
}

/// Population j (>= 1) arriving at `cell` from the boundary link of its neighbour entry `s` (which
/// has `BOUNDARY_BIT` set); a wall link adds its net gain to `wall_gain`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pull_link(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    cell: usize,
    j: usize,
    s: u32,
    wall_gain: &mut f32,
) -> f32 {
    let n = p.n_cells as usize;
    let link = &links[(s & !BOUNDARY_BIT) as usize];
    let g = boundary_population(p, g_src, neighbours, cell, n, j, link);
    if link.kind == LINK_WALL {
        *wall_gain += g - g_src[opposite(j) * n + cell];
    }
    g
}

/// Steps 2 and 3 of the fused kernel for one cell: moments, then TRT collision in place, with the
/// local relaxation time of non-Newtonian blood or LES when `p` asks for it (the per-cell reference
/// of `collide_lanes`).
fn collide(p: &StepParams, g: &mut [f32; Q]) {
    let (drho, rho, u) = moments_of(g);
    let (omega_plus, omega_minus) = if p.local_viscosity() {
        local_omegas(p, local_tau(p, tensor_norm(&pi_neq(g, drho, rho, u)), rho).0)
    } else {
        (p.omega_plus, p.omega_minus)
    };
    relax(g, p.collision, omega_plus, omega_minus, drho, rho, u);
}

/// Twin of `moments_of` in shaders/lbm_common.wgsl: density deviation, density and velocity of
/// populations `g` (the momentum sums without their zero terms, `Terms`).
#[inline(always)]
fn moments_of(g: &[f32; Q]) -> (f32, f32, [f32; 3]) {
    let mut drho = 0.0f32;
    for gi in g {
        drho += gi;
    }
    let [mx, my, mz] = [MOMENT_TERMS[0].sum(g), MOMENT_TERMS[1].sum(g), MOMENT_TERMS[2].sum(g)];
    let rho = 1.0 + drho;
    (drho, rho, [mx / rho, my / rho, mz / rho])
}

/// The nonzero terms of a sum sum_k c_k x_k over `N` constant coefficients c_k, in increasing k.
/// A sum over a constant table unrolls into one addition (or subtraction: c_k is 1 or -1) per
/// nonzero term; LLVM does not drop the WGSL twin's `acc + x * 0.0` itself (x may be -0, infinite or
/// NaN), and for finite x that term does not change the sum (up to the sign of a zero sum).
struct Terms<const N: usize> {
    index: [usize; N],
    coef: [f32; N],
    len: usize,
}

impl<const N: usize> Terms<N> {
    /// The nonzero ones of the coefficients `coef`.
    const fn new(coef: [f32; N]) -> Self {
        let mut t = Terms { index: [0; N], coef: [0.0; N], len: 0 };
        let mut k = 0;
        while k < N {
            if coef[k] != 0.0 {
                (t.index[t.len], t.coef[t.len]) = (k, coef[k]);
                t.len += 1;
            }
            k += 1;
        }
        t
    }

    /// sum_k c_k x_k, in increasing k from 0.
    #[inline(always)]
    fn sum(&self, x: &[f32; N]) -> f32 {
        let mut s = 0.0f32;
        for k in 0..self.len {
            s += x[self.index[k]] * self.coef[k];
        }
        s
    }
}

/// The momentum sums of `moments_of`: sum_i c_i g_i per axis.
const MOMENT_TERMS: [Terms<Q>; 3] = [Terms::new(CX), Terms::new(CY), Terms::new(CZ)];

/// c_i . u for each direction i (`relax`).
const VELOCITY_TERMS: [Terms<3>; Q] = {
    let mut t = [const { Terms { index: [0; 3], coef: [0.0; 3], len: 0 } }; Q];
    let mut i = 0;
    while i < Q {
        t[i] = Terms::new([CX[i], CY[i], CZ[i]]);
        i += 1;
    }
    t
};

/// Opposite pairs (2k + 1, 2k + 2) of directions.
const PAIRS: usize = Q / 2;

/// sum over the pairs k of c_a c_b (even part of pair k) for (a, b) = xx, yy, zz, xy, xz, yz
/// (`pi_neq`; opposite directions share c_a c_b).
const STRESS_TERMS: [Terms<PAIRS>; 6] = {
    const AXES: [(usize, usize); 6] = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)];
    let mut t = [const { Terms { index: [0; PAIRS], coef: [0.0; PAIRS], len: 0 } }; 6];
    let mut m = 0;
    while m < 6 {
        let mut coef = [0.0; PAIRS];
        let mut k = 0;
        while k < PAIRS {
            coef[k] = (C[2 * k + 1][AXES[m].0] * C[2 * k + 1][AXES[m].1]) as f32;
            k += 1;
        }
        t[m] = Terms::new(coef);
        m += 1;
    }
    t
};

/// Step 3 of the fused kernel in place: the collision `p.collision` selects (TRT or regularized)
/// with rates (omega+, omega-) and moments (drho, rho, u).
#[inline(always)]
fn relax(g: &mut [f32; Q], kind: u32, omega_plus: f32, omega_minus: f32, drho: f32, rho: f32, u: [f32; 3]) {
    if kind == COLLISION_REGULARIZED {
        regularize(g, omega_plus, drho, rho, u);
    } else {
        trt(g, omega_plus, omega_minus, drho, rho, u);
    }
}

/// Twin of `trt` in shaders/lbm_stream_collide.wgsl: TRT collision in place, the rest population
/// then each opposite pair (i, i + 1).
#[inline(always)]
fn trt(g: &mut [f32; Q], omega_plus: f32, omega_minus: f32, drho: f32, rho: f32, [ux, uy, uz]: [f32; 3]) {
    let usq = ux * ux + uy * uy + uz * uz;
    let geq0 = W[0] * (drho - 1.5 * rho * usq);
    g[0] -= omega_plus * (g[0] - geq0);
    for i in (1..Q).step_by(2) {
        let cu = VELOCITY_TERMS[i].sum(&[ux, uy, uz]);
        let geq_plus = W[i] * (drho + rho * (4.5 * cu * cu - 1.5 * usq));
        let geq_minus = W[i] * rho * 3.0 * cu;
        let relax_plus = omega_plus * (0.5 * (g[i] + g[i + 1]) - geq_plus);
        let relax_minus = omega_minus * (0.5 * (g[i] - g[i + 1]) - geq_minus);
        g[i] = g[i] - relax_plus - relax_minus;
        g[i + 1] = g[i + 1] - relax_plus + relax_minus;
    }
}

/// c_a c_b of each direction for (a, b) = xx, yy, zz and twice that for xy, xz, yz: c_i . P c_i
/// of a symmetric tensor P stored as (xx, yy, zz, xy, xz, yz) (`regularize`).
const STRESS_PROJECTION: [Terms<6>; Q] = {
    let mut t = [const { Terms { index: [0; 6], coef: [0.0; 6], len: 0 } }; Q];
    let mut i = 0;
    while i < Q {
        let (x, y, z) = (CX[i], CY[i], CZ[i]);
        t[i] = Terms::new([x * x, y * y, z * z, 2.0 * x * y, 2.0 * x * z, 2.0 * y * z]);
        i += 1;
    }
    t
};

/// The weighted third-order Hermite polynomials of each direction (`d3q19::HERMITE3`).
const THIRD_ORDER: [Terms<6>; Q] = {
    let mut t = [const { Terms { index: [0; 6], coef: [0.0; 6], len: 0 } }; Q];
    let mut i = 0;
    while i < Q {
        t[i] = Terms::new(HERMITE3[i]);
        i += 1;
    }
    t
};

/// Twin of `regularize` in shaders/lbm_stream_collide.wgsl: the recursive regularized collision
/// (Malaspinas 2015; Coreixas et al. 2017) in place. The populations are rebuilt from drho, u and
/// the non-equilibrium stress Pi^neq alone (every other non-equilibrium moment, the ghosts that
/// BGK and TRT leave to oscillate as tau -> 1/2, is dropped): equilibrium and non-equilibrium to
/// third order, the non-equilibrium relaxed with `omega`, its third-order part derived from u and
/// Pi^neq. Rest population first, then each opposite pair (i, i + 1) from its even and odd parts.
#[inline(always)]
fn regularize(g: &mut [f32; Q], omega: f32, drho: f32, rho: f32, u: [f32; 3]) {
    let [ux, uy, uz] = u;
    let p = pi_neq(g, drho, rho, u);
    let [pxx, pyy, pzz, pxy, pxz, pyz] = p;
    let usq = ux * ux + uy * uy + uz * uz;
    let keep = 1.0 - omega;
    let trace = (pxx + pyy + pzz) / 3.0;
    // Third-order coefficients a_abc = rho u_a u_b u_c + (1 - omega) (u_a P_bc + u_b P_ac + u_c P_ab).
    let xyy = rho * ux * uy * uy + keep * (2.0 * uy * pxy + ux * pyy);
    let xzz = rho * ux * uz * uz + keep * (2.0 * uz * pxz + ux * pzz);
    let yzz = rho * uy * uz * uz + keep * (2.0 * uz * pyz + uy * pzz);
    let xxy = rho * ux * ux * uy + keep * (2.0 * ux * pxy + uy * pxx);
    let xxz = rho * ux * ux * uz + keep * (2.0 * ux * pxz + uz * pxx);
    let yyz = rho * uy * uy * uz + keep * (2.0 * uy * pyz + uz * pyy);
    let third = [xyy + xzz, xyy - xzz, yzz + xxy, yzz - xxy, xxz + yyz, xxz - yyz];
    g[0] = W[0] * (drho - 1.5 * rho * usq - keep * 4.5 * trace);
    for i in (1..Q).step_by(2) {
        let cu = VELOCITY_TERMS[i].sum(&[ux, uy, uz]);
        let cpc = STRESS_PROJECTION[i].sum(&p);
        let even = W[i] * (drho + rho * (4.5 * cu * cu - 1.5 * usq) + keep * 4.5 * (cpc - trace));
        let odd = W[i] * (rho * 3.0 * cu + THIRD_ORDER[i].sum(&third));
        g[i] = even + odd;
        g[i + 1] = even - odd;
    }
}

/// CPU twin of `pi_neq` in shaders/lbm_common.wgsl: the non-equilibrium second moment (xx, yy, zz,
/// xy, xz, yz) of populations `g` whose moments are `drho`, `rho` and `u`. Opposite directions share
/// c_i c_i, so the sum runs over the pairs' even parts (and is short enough for LLVM to unroll inside
/// the lane loops of `stream_collide_block`).
#[inline(always)]
fn pi_neq(g: &[f32; Q], drho: f32, rho: f32, [ux, uy, uz]: [f32; 3]) -> [f32; 6] {
    let mut even = [0.0f32; PAIRS];
    for (k, e) in even.iter_mut().enumerate() {
        *e = g[2 * k + 1] + g[2 * k + 2];
    }
    let t = &STRESS_TERMS;
    let [pxx, pyy, pzz] = [t[0].sum(&even), t[1].sum(&even), t[2].sum(&even)];
    let [pxy, pxz, pyz] = [t[3].sum(&even), t[4].sum(&even), t[5].sum(&even)];
    let iso = drho / 3.0;
    [
        pxx - (iso + rho * ux * ux),
        pyy - (iso + rho * uy * uy),
        pzz - (iso + rho * uz * uz),
        pxy - rho * ux * uy,
        pxz - rho * ux * uz,
        pyz - rho * uy * uz,
    ]
}

/// Frobenius norm of a symmetric tensor stored as (xx, yy, zz, xy, xz, yz).
#[inline(always)]
pub fn tensor_norm(p: &[f32; 6]) -> f32 {
    (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + 2.0 * (p[3] * p[3] + p[4] * p[4] + p[5] * p[5])).sqrt()
}

/// TRT rates (omega+, omega-) of a cell whose local relaxation time is `tau`, at the magic
/// parameter of `p`.
#[inline(always)]
fn local_omegas(p: &StepParams, tau: f32) -> (f32, f32) {
    (1.0 / tau, 1.0 / (0.5 + p.magic / (tau - 0.5)))
}

/// One fused step for one cell (the WGSL kernel verbatim); returns the post-collision populations.
/// Used for the tail of each task and as the reference in the tests.
fn stream_collide_cell(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    cell: usize,
) -> [f32; Q] {
    let mut g = pull_cell(p, g_src, neighbours, links, cell);
    collide(p, &mut g);
    g
}

/// Cells per block of the vectorised path: each direction plane is read and written in runs of
/// `LANES` consecutive cells (8 cache lines), and the block buffers (19 x 512 bytes each) stay in L1.
/// Measured on a 2-core EPYC (dense 128^3 box): 64 lanes 51 MLUPS, 128 lanes 61, 256 lanes 51.
const LANES: usize = 128;

/// How far ahead (cells) the source and neighbour planes are prefetched; the hardware prefetchers
/// do not follow 37 read streams on their own (+10% on the dense box; 512 to 4096 measure the same).
const PREFETCH_AHEAD: usize = 1024;

/// Hints the cache to fetch the line at `ptr` (which need not be valid memory).
#[inline(always)]
fn prefetch<T>(ptr: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing the program sees, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ptr.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// How the `LANES` cells of one block pull their populations.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    /// In every direction j >= 1 each neighbour entry that is a cell index is `base[j - 1] + lane`,
    /// and `base[j - 1] + LANES <= n`: the block reads its populations straight from the planes
    /// without the neighbour table (a direction whose entries are all links has `base` at the
    /// block). The other entries are boundary links: wall links `Plan::walls[walls[0]..walls[1]]`,
    /// the others `Plan::edges[edges[0]..edges[1]]`.
    Runs { base: [u32; Q - 1], walls: [u32; 2], edges: [u32; 2] },
    /// Populations gathered through the neighbour table, boundary links pulled lane by lane.
    Gather,
}

/// A population of a `Block::Runs` block that comes from a wall link: what interpolated bounce-back
/// needs of the link, so that the link records are not read.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WallEdge {
    /// Lane of the cell in the block.
    lane: u16,
    /// Direction of the population.
    j: u16,
    /// Wall distance of the link.
    q: f32,
    /// The second fluid cell (`far_population`) where q < 1/2, else 0.
    second: u32,
}

/// A population of a `Block::Runs` block that comes from a velocity or pressure link.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    /// Lane of the cell in the block.
    lane: u32,
    /// Direction of the population.
    j: u32,
    /// The neighbour entry (`BOUNDARY_BIT` and the link index).
    entry: u32,
}

/// The pull pattern of each block of `LANES` cells of a lattice, found once from its neighbour
/// table so that most blocks stream without reading it (72 of the 224 bytes of a cell update).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    blocks: Vec<Block>,
    /// The wall links of the `Block::Runs` blocks, by block, lane and direction.
    walls: Vec<WallEdge>,
    /// The other boundary links of the `Block::Runs` blocks, by block, lane and direction.
    edges: Vec<Edge>,
}

impl Plan {
    /// Number of cells whose block streams straight from the planes, without the neighbour table.
    pub fn streamed_cells(&self) -> usize {
        LANES * self.blocks.iter().filter(|b| matches!(b, Block::Runs { .. })).count()
    }

    /// The plan of the lattice of `n` cells whose neighbour table is `neighbours` and boundary links
    /// `links`.
    pub fn new(neighbours: &[u32], links: &[BoundaryLink], n: usize) -> Plan {
        assert_eq!(neighbours.len(), (Q - 1) * n, "neighbours holds Q - 1 planes of n_cells");
        type Found = ([u32; Q - 1], Vec<WallEdge>, Vec<Edge>);
        let blocks: Vec<Option<Found>> = (0..n / LANES)
            .into_par_iter()
            .map(|b| {
                let entries = |j: usize| &neighbours[(j - 1) * n + b * LANES..][..LANES];
                let (mut walls, mut edges) = (Vec::new(), Vec::new());
                for l in 0..LANES {
                    for j in 1..Q {
                        let entry = entries(j)[l];
                        if entry as usize >= n {
                            // An entry past the cells that is not a link (or a link past the links,
                            // or a second cell that is not one): the gather path's checks.
                            if entry & BOUNDARY_BIT == 0 {
                                return None;
                            }
                            let link = links.get((entry & !BOUNDARY_BIT) as usize)?;
                            if link.kind != LINK_WALL {
                                edges.push(Edge { lane: l as u32, j: j as u32, entry });
                                continue;
                            }
                            let second = if link.q < 0.5 { entries(opposite(j))[l] } else { 0 };
                            if second as usize >= n {
                                return None;
                            }
                            walls.push(WallEdge { lane: l as u16, j: j as u16, q: link.q, second });
                        }
                    }
                }
                let mut base = [0u32; Q - 1];
                for j in 1..Q {
                    let nb = entries(j);
                    let run = match nb.iter().position(|&s| (s as usize) < n) {
                        Some(first) => (nb[first] as usize).checked_sub(first).filter(|r| r + LANES <= n)?,
                        None => b * LANES,
                    };
                    if nb.iter().enumerate().any(|(l, &s)| (s as usize) < n && s as usize != run + l) {
                        return None;
                    }
                    base[j - 1] = run as u32;
                }
                Some((base, walls, edges))
            })
            .collect();
        let mut plan =
            Plan { blocks: Vec::with_capacity(blocks.len()), walls: Vec::new(), edges: Vec::new() };
        for block in blocks {
            plan.blocks.push(match block {
                Some((base, walls, edges)) => {
                    let (first_wall, first_edge) = (plan.walls.len() as u32, plan.edges.len() as u32);
                    plan.walls.extend(walls);
                    plan.edges.extend(edges);
                    Block::Runs {
                        base,
                        walls: [first_wall, plan.walls.len() as u32],
                        edges: [first_edge, plan.edges.len() as u32],
                    }
                }
                None => Block::Gather,
            });
        }
        plan
    }
}

/// The populations of block `block` of the cells `start..start + LANES`, pulled through the
/// neighbour table into `buf`. In lanes with a boundary link (or any neighbour entry that is not a
/// cell index) those populations are pulled by `pull`, in the same order of j as `pull_cell`, so the
/// wall gain sums the same way.
#[inline(always)]
fn gather(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    start: usize,
    buf: &mut [[f32; LANES]; Q],
) {
    let n = p.n_cells as usize;
    let mut slow = [0u32; LANES];
    buf[0].copy_from_slice(&g_src[start..start + LANES]);
    for j in 1..Q {
        let nb: &[u32; LANES] = neighbours[(j - 1) * n + start..][..LANES].try_into().expect("LANES entries");
        let plane = &g_src[j * n..(j + 1) * n];
        let ahead = (nb[LANES / 2] as usize).min(n - 1) + PREFETCH_AHEAD - LANES / 2;
        for k in (0..LANES).step_by(16) {
            prefetch(plane.as_ptr().wrapping_add(ahead + k));
            prefetch(nb.as_ptr().wrapping_add(PREFETCH_AHEAD + k));
        }
        // Entries >= n (BOUNDARY_BIT is set, or a corrupt entry) mark lanes for `pull` below.
        for l in 0..LANES {
            slow[l] |= u32::from(nb[l] as usize >= n);
        }
        // Often the sources are consecutive cells (an x-row of fluid, shifted): then copy them in
        // one run. Lanes marked slow may differ, they are overwritten below.
        let base = nb[LANES / 2].wrapping_sub(LANES as u32 / 2);
        let mut mismatch = 0u32;
        for (l, &s) in nb.iter().enumerate() {
            let fluid = if (s as usize) < n { u32::MAX } else { 0 };
            mismatch |= (s ^ base.wrapping_add(l as u32)) & fluid;
        }
        if mismatch == 0 && (base as usize) + LANES <= n {
            buf[j].copy_from_slice(&plane[base as usize..base as usize + LANES]);
            continue;
        }
        for l in 0..LANES {
            let s = nb[l] as usize;
            // An entry with BOUNDARY_BIT is >= 2^31 > n, so it is never used as an index here.
            let src = if s < n { s } else { 0 };
            // SAFETY: src < n == plane.len() (n > 0 since this block holds cells).
            buf[j][l] = unsafe { *plane.get_unchecked(src) };
        }
    }
    if slow.iter().any(|&s| s != 0) {
        for l in (0..LANES).filter(|&l| slow[l] != 0) {
            let mut wall_gain = 0.0f32;
            for j in 1..Q {
                if neighbours[(j - 1) * n + start + l] as usize >= n {
                    buf[j][l] = pull(p, g_src, neighbours, links, start + l, j, &mut wall_gain);
                }
            }
            buf[0][l] -= wall_gain;
        }
    }
}

/// Scratch memory of a rayon task for `stream_collide_block`: gathered (or patched) populations and
/// the collided block. (Separate locals of the task: no pointer to the collided block is ever
/// stored, so LLVM knows that the loads of the lane loops do not alias its stores and vectorises
/// them.)
type Scratch<'a> = (&'a mut [[f32; LANES]; Q], &'a mut [[f32; LANES]; Q]);

/// The fused step for the `LANES` cells `start..start + LANES`, pulled as `block` says, written to
/// `out[i][local..]`: the populations are read straight from the planes (`Block::Runs`, whose
/// boundary links are `edges`) or gathered, then all lanes collide together.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn stream_collide_block(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    block: &Block,
    (walls, edges): (&[WallEdge], &[Edge]),
    start: usize,
    (buffer, collided): Scratch,
    out: &mut [&mut [f32]],
    local: usize,
) {
    let n = p.n_cells as usize;
    let sources = match block {
        Block::Runs { base, .. } => {
            let from: [usize; Q] =
                std::array::from_fn(|j| if j == 0 { start } else { j * n + base[j - 1] as usize });
            for f in from {
                for k in (0..LANES).step_by(16) {
                    prefetch(g_src.as_ptr().wrapping_add(f + PREFETCH_AHEAD + k));
                }
            }
            let run =
                |j: usize| -> &[f32; LANES] { g_src[from[j]..][..LANES].try_into().expect("LANES floats") };
            // A link at lane l in direction j also reads the populations of its own cell in
            // directions j and opposite(j), which no run holds where the wall is across a face
            // (nor, then, does any other block's run): fetch those of the block as far ahead, whose
            // links usually lie the same way, one line per 16 lanes.
            let mut lines = [0u8; Q];
            let lanes_and_directions = walls.iter().map(|w| (w.lane as usize, w.j as usize));
            for (l, j) in lanes_and_directions.chain(edges.iter().map(|e| (e.lane as usize, e.j as usize))) {
                lines[j] |= 1 << (l / 16);
            }
            for (j, &line) in lines.iter().enumerate().filter(|(_, l)| **l != 0) {
                for k in (0..LANES / 16).filter(|k| line & (1 << k) != 0) {
                    let at = start + PREFETCH_AHEAD + 16 * k;
                    prefetch(g_src.as_ptr().wrapping_add(j * n + at));
                    prefetch(g_src.as_ptr().wrapping_add(opposite(j) * n + at));
                }
            }
            // The runs that hold a population from a boundary link, and the rest run (which gives
            // back the wall's gain), are copied to `buffer` and patched there. The wall links go
            // lane by lane in the order of j of `pull_cell`, so the wall gain sums the same way
            // (the other links add nothing to it).
            lines[0] = u8::from(!walls.is_empty());
            let patched = lines.map(|line| line != 0);
            for j in (0..Q).filter(|&j| patched[j]) {
                buffer[j] = *run(j);
            }
            for lane_walls in walls.chunk_by(|a, b| a.lane == b.lane) {
                let (l, mut wall_gain) = (lane_walls[0].lane as usize, 0.0f32);
                let cell = start + l;
                for w in lane_walls {
                    let j = w.j as usize;
                    let g_out = g_src[opposite(j) * n + cell];
                    let far = g_src[far_population(w.q, j, n, cell, || w.second as usize)];
                    let g = bouzidi(w.q, g_out, far, 0.0);
                    buffer[j][l] = g;
                    wall_gain += g - g_out;
                }
                buffer[0][l] -= wall_gain;
            }
            for e in edges {
                let (l, j) = (e.lane as usize, e.j as usize);
                buffer[j][l] = pull_link(p, g_src, neighbours, links, start + l, j, e.entry, &mut 0.0);
            }
            let buffer = &*buffer;
            Lanes { rows: std::array::from_fn(|j| if patched[j] { &buffer[j] } else { run(j) }) }
        }
        Block::Gather => {
            gather(p, g_src, neighbours, links, start, buffer);
            Lanes { rows: std::array::from_fn(|j| &buffer[j]) }
        }
    };
    collide_block(p, sources, collided);
    for (plane, row) in out.iter_mut().zip(collided.iter()) {
        store(&mut plane[local..local + LANES], row);
    }
}

/// Where the lanes of a block read their populations: population i of lane l is `rows[i][l]`.
#[derive(Clone, Copy)]
struct Lanes<'a> {
    rows: [&'a [f32; LANES]; Q],
}

impl Lanes<'_> {
    /// The populations of lane `l`.
    #[inline(always)]
    fn lane(&self, l: usize) -> [f32; Q] {
        // Plain loops rather than `array::from_fn`, which LLVM does not always inline into the
        // large lane loops (a call per lane stops them vectorising).
        let mut g = [0.0f32; Q];
        for (g, row) in g.iter_mut().zip(&self.rows) {
            *g = row[l];
        }
        g
    }
}

/// Steps 2 and 3 of the fused kernel for the lanes of a block, from `sources` to `collided`:
/// moments, then TRT collision, with the local relaxation time of non-Newtonian blood or LES when
/// `p` asks for it (the lane loops vectorise: results are bitwise those of `collide`).
#[inline(always)]
fn collide_block(p: &StepParams, sources: Lanes, collided: &mut [[f32; LANES]; Q]) {
    if p.local_viscosity() {
        // Moments and |Pi^neq| of each lane, then the relaxation times (each pass vectorises),
        // then the collision with per-lane rates.
        let mut m = [[0.0f32; LANES]; 5];
        let mut pi_norm = [0.0f32; LANES];
        for l in 0..LANES {
            moments_and_stress(&sources.lane(l), l, &mut m, &mut pi_norm);
        }
        let (mut tau, mut clipped) = ([0.0f32; LANES], [false; LANES]);
        local_taus(p, &pi_norm, &m[1], &mut tau, &mut clipped);
        collide_lanes(sources, p.collision, collided, |l, _| {
            ((m[0][l], m[1][l], [m[2][l], m[3][l], m[4][l]]), local_omegas(p, tau[l]))
        });
    } else {
        collide_lanes(sources, p.collision, collided, |_, g| (moments_of(g), (p.omega_plus, p.omega_minus)));
    }
}

/// Step 3 of the fused kernel for every lane of a block, from `sources` to `collided`: TRT
/// collision with the moments (drho, rho, u) and rates (omega+, omega-) that `at(lane, populations)`
/// gives. LLVM vectorises the loop over `sources` across lanes (8 or 16 per vector) without
/// changing the per-cell order of operations (no reassociation, no FMA contraction: results are
/// bitwise those of `collide`).
#[inline(always)]
fn collide_lanes(
    sources: Lanes,
    kind: u32,
    collided: &mut [[f32; LANES]; Q],
    at: impl Fn(usize, &[f32; Q]) -> ((f32, f32, [f32; 3]), (f32, f32)),
) {
    for l in 0..LANES {
        collide_lane(sources.lane(l), kind, l, collided, &at);
    }
}

/// Moments (drho, rho, ux, uy, uz) of populations `g` into `m[..][l]`, |Pi^neq| into `pi_norm[l]`.
#[inline(always)]
fn moments_and_stress(g: &[f32; Q], l: usize, m: &mut [[f32; LANES]; 5], pi_norm: &mut [f32; LANES]) {
    let (drho, rho, u) = moments_of(g);
    pi_norm[l] = tensor_norm(&pi_neq(g, drho, rho, u));
    (m[0][l], m[1][l], m[2][l], m[3][l], m[4][l]) = (drho, rho, u[0], u[1], u[2]);
}

/// The TRT collision of populations `g` of lane `l` (moments and rates from `at`) into
/// `collided[..][l]`.
#[inline(always)]
fn collide_lane(
    mut g: [f32; Q],
    kind: u32,
    l: usize,
    collided: &mut [[f32; LANES]; Q],
    at: &impl Fn(usize, &[f32; Q]) -> ((f32, f32, [f32; 3]), (f32, f32)),
) {
    let ((drho, rho, u), (omega_plus, omega_minus)) = at(l, &g);
    relax(&mut g, kind, omega_plus, omega_minus, drho, rho, u);
    for (row, v) in collided.iter_mut().zip(g) {
        row[l] = v;
    }
}

/// Copies `row` to `dst`, on x86-64 with non-temporal (streaming) stores, so the write does not
/// first read the destination lines into the cache (+10% on the dense box): 16-byte stores from the
/// first 16-byte aligned float on, 4-byte ones before and after. The caller fences before the task
/// ends.
#[inline(always)]
fn store(dst: &mut [f32], row: &[f32; LANES]) {
    assert_eq!(dst.len(), LANES);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_loadu_ps, _mm_stream_ps, _mm_stream_si32};
        let head = dst.as_ptr().align_offset(16).min(LANES);
        let body = (LANES - head) / 4 * 4;
        let (d, r) = (dst.as_mut_ptr(), row.as_ptr());
        // SAFETY (all three loops): every index is below LANES == dst.len() == row.len(); the
        // 16-byte stores start at head + a multiple of 4, which is 16-byte aligned.
        for k in (0..head).chain(head + body..LANES) {
            unsafe { _mm_stream_si32(d.add(k).cast(), r.add(k).read().to_bits() as i32) };
        }
        for k in (head..head + body / 16 * 16).step_by(16) {
            for q in (k..k + 16).step_by(4) {
                unsafe { _mm_stream_ps(d.add(q), _mm_loadu_ps(r.add(q))) };
            }
        }
        for k in (head + body / 16 * 16..head + body).step_by(4) {
            unsafe { _mm_stream_ps(d.add(k), _mm_loadu_ps(r.add(k))) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst.copy_from_slice(row);
}

/// The fused step for the cells `start..start + out[0].len()` of one rayon task (`start` a multiple
/// of `LANES`).
#[inline(always)]
fn stream_collide_task(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    plan: &Plan,
    start: usize,
    out: &mut [&mut [f32]],
) {
    let len = out[0].len();
    let blocks = len / LANES * LANES;
    let (mut buffer, mut collided) = ([[0.0; LANES]; Q], [[0.0; LANES]; Q]);
    for local in (0..blocks).step_by(LANES) {
        let block = &plan.blocks[(start + local) / LANES];
        let links_of_block = match block {
            Block::Runs { walls: [a, b], edges: [c, d], .. } => {
                (&plan.walls[*a as usize..*b as usize], &plan.edges[*c as usize..*d as usize])
            }
            Block::Gather => (&[][..], &[][..]),
        };
        let (cells, scratch) = (start + local, (&mut buffer, &mut collided));
        stream_collide_block(p, g_src, neighbours, links, block, links_of_block, cells, scratch, out, local);
    }
    for local in blocks..len {
        let g = stream_collide_cell(p, g_src, neighbours, links, start + local);
        for (plane, v) in out.iter_mut().zip(g) {
            plane[local] = v;
        }
    }
}

/// `stream_collide_task` compiled for AVX-512 (16 lanes per vector).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn stream_collide_task_avx512(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    plan: &Plan,
    start: usize,
    out: &mut [&mut [f32]],
) {
    stream_collide_task(p, g_src, neighbours, links, plan, start, out);
}

/// `stream_collide_task` compiled for AVX2 (8 lanes per vector). Enabling FMA only makes the
/// instructions available: Rust never contracts a * b + c on its own, so results stay bitwise equal.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn stream_collide_task_avx2(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    plan: &Plan,
    start: usize,
    out: &mut [&mut [f32]],
) {
    stream_collide_task(p, g_src, neighbours, links, plan, start, out);
}

/// Instruction sets `stream_collide` can use, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

impl Isa {
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }
}

/// CPU twin of `lbm_stream_collide`: reads `g_src`, writes every cell of `g_dst` (same layout);
/// `plan` is `Plan::new(neighbours, links, n_cells)`.
pub fn stream_collide(
    p: &StepParams,
    g_src: &[f32],
    g_dst: &mut [f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    plan: &Plan,
) {
    stream_collide_with(Isa::detect(), p, g_src, g_dst, neighbours, links, plan);
}

fn stream_collide_with(
    isa: Isa,
    p: &StepParams,
    g_src: &[f32],
    g_dst: &mut [f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    plan: &Plan,
) {
    let n = p.n_cells as usize;
    assert_eq!(g_src.len(), Q * n, "g_src holds Q planes of n_cells");
    assert_eq!(g_dst.len(), Q * n, "g_dst holds Q planes of n_cells");
    assert_eq!(neighbours.len(), (Q - 1) * n, "neighbours holds Q - 1 planes of n_cells");
    assert_eq!(plan.blocks.len(), n / LANES, "plan made for another lattice");
    if n == 0 {
        return;
    }
    // Direction-major storage: split g_dst into its Q direction planes, then hand each rayon task the
    // same cell range of every plane, so tasks write disjoint memory without synchronisation.
    let mut planes: Vec<&mut [f32]> = g_dst.chunks_mut(n).collect();
    let mut tasks: Vec<Vec<&mut [f32]>> = (0..n.div_ceil(CHUNK)).map(|_| Vec::with_capacity(Q)).collect();
    for plane in planes.iter_mut() {
        for (task, part) in tasks.iter_mut().zip(plane.chunks_mut(CHUNK)) {
            task.push(part);
        }
    }
    tasks.into_par_iter().enumerate().for_each(|(t, mut out)| {
        let start = t * CHUNK;
        match isa {
            // SAFETY (both arms): `Isa::detect` found these features on this CPU.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe {
                stream_collide_task_avx512(p, g_src, neighbours, links, plan, start, &mut out)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe {
                stream_collide_task_avx2(p, g_src, neighbours, links, plan, start, &mut out)
            },
            Isa::Portable => stream_collide_task(p, g_src, neighbours, links, plan, start, &mut out),
        }
        // Make the streaming stores globally visible before rayon hands the task back.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: sfence has no preconditions (SSE is part of x86-64).
        unsafe {
            std::arch::x86_64::_mm_sfence()
        };
    });
}

/// CPU twin of `lbm_stress`: the non-equilibrium second moment (xx, yy, zz, xy, xz, yz) of every
/// cell before collision, lattice units, with the boundary values of `p`.
pub fn stress(p: &StepParams, g_src: &[f32], neighbours: &[u32], links: &[BoundaryLink]) -> Vec<[f32; 6]> {
    (0..p.n_cells as usize)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|cell| {
            let g = pull_cell(p, g_src, neighbours, links, cell);
            let (drho, rho, u) = moments_of(&g);
            pi_neq(&g, drho, rho, u)
        })
        .collect()
}

/// CPU twin of `lbm_section_flux`: weight * (momentum . normal) of each entry's cell, lattice units.
pub fn section_flux(n: usize, g_src: &[f32], entries: &[super::FluxEntry]) -> Vec<f32> {
    entries
        .iter()
        .map(|e| {
            let cell = e.cell as usize;
            let (mut mx, mut my, mut mz) = (0.0f32, 0.0f32, 0.0f32);
            for j in 0..Q {
                let g = g_src[j * n + cell];
                mx += g * CX[j];
                my += g * CY[j];
                mz += g * CZ[j];
            }
            e.weight * (mx * e.normal[0] + my * e.normal[1] + mz * e.normal[2])
        })
        .collect()
}

/// CPU twin of `lbm_moments`: (drho, ux, uy, uz) of every cell, lattice units.
pub fn moments(n: usize, g_src: &[f32]) -> Vec<[f32; 4]> {
    (0..n)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|cell| {
            let (drho, _, [ux, uy, uz]) = stored_moments(g_src, cell, n);
            [drho, ux, uy, uz]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lattice::{Grid, Lattice, PortRole, Voxels, WallLink};
    use nalgebra::{Point3, Vector3};

    /// A 23 x 19 x 17 box (7429 cells: several rayon tasks, a partial last block) with a solid
    /// pillar inside; x = 0 is a velocity inlet, x = max a pressure outlet, the rest are walls with
    /// wall distances on both sides of 1/2.
    fn test_lattice() -> Lattice {
        let dims = [23, 19, 17];
        let grid = Grid { origin: Point3::origin(), dx: 1.0, dims };
        let solid = |p: [usize; 3]| (9..12).contains(&p[0]) && (7..10).contains(&p[1]) && p[2] > 3;
        let fluid: Vec<u8> = (0..grid.len()).map(|i| u8::from(!solid(grid.coords(i)))).collect();
        let mut links = Vec::new();
        for node in (0..grid.len()).filter(|&i| fluid[i] == 1) {
            let x = grid.coords(node)[0];
            for (dir, c) in C.iter().enumerate().skip(1) {
                if grid.neighbour(node, *c).is_some_and(|s| fluid[s] == 1) {
                    continue;
                }
                let tag = match (c[0], x) {
                    (-1, 0) => 1,
                    (1, x) if x + 1 == dims[0] => 2,
                    _ => 0,
                };
                let q = [0.3, 0.5, 0.8, 0.15, 1.0][(node + dir) % 5];
                links.push(WallLink { node, dir: dir as u8, q, tag });
            }
        }
        let vox = Voxels { grid, fluid, links, unresolved_links: 0 };
        let roles = [PortRole::Velocity, PortRole::Pressure];
        Lattice::build(
            &vox,
            &roles,
            |_, p| (Vector3::new(0.05, 0.01 * p.y, -0.002 * p.z), p.y / 20.0),
            |r| 2.0 * (1.0 - r * r),
            false,
        )
    }

    /// The kernel one cell at a time, the way the WGSL shader runs it.
    fn reference(
        p: &StepParams,
        g_src: &[f32],
        g_dst: &mut [f32],
        neighbours: &[u32],
        links: &[BoundaryLink],
    ) {
        let n = p.n_cells as usize;
        for cell in 0..n {
            let g = stream_collide_cell(p, g_src, neighbours, links, cell);
            for i in 0..Q {
                g_dst[i * n + cell] = g[i];
            }
        }
    }

    /// Every ISA path, with every viscosity model (the local relaxation time included) and blocks
    /// streamed from the planes or gathered, gives the per-cell kernel's populations bit for bit.
    #[test]
    fn stream_collide_is_bitwise_equal_to_the_per_cell_kernel() {
        let lattice = test_lattice();
        let kinds: Vec<u32> = lattice.links.iter().map(|l| l.kind).collect();
        for kind in [crate::lattice::LINK_WALL, crate::lattice::LINK_VELOCITY, LINK_PRESSURE] {
            assert!(kinds.contains(&kind), "link kind {kind} missing from the test lattice");
        }
        assert!(lattice.links.iter().any(|l| l.q < 0.5) && lattice.links.iter().any(|l| l.q > 0.5));
        let n = lattice.len();
        assert!(n > CHUNK && !n.is_multiple_of(LANES));
        let p = StepParams {
            inflow_scale: 0.7,
            port_rho: [0.999; crate::lattice::MAX_PORTS],
            ..StepParams::newtonian(n, 0.8, 0.55, std::array::from_fn(|k| 1.0 + 0.01 * k as f32))
        };
        // Deterministic pseudo-random populations around rest.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let g0: Vec<f32> = (0..Q * n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.02
            })
            .collect();
        // Carreau-Yasuda with LES (low shear clipped at tau_max), and Casson.
        let carreau_yasuda = StepParams {
            rheology: 1,
            smagorinsky: 0.0289,
            nu_zero: 0.8,
            nu_inf: 0.05,
            lambda: 50.0,
            power_a: 1.25,
            power_n: 0.22,
            ..p
        };
        let casson = StepParams { rheology: 2, nu_inf: 0.05, yield_stress: 1e-3, regularisation: 100.0, ..p };
        let mut isas = vec![Isa::Portable, Isa::detect()];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            isas.push(Isa::Avx2);
        }
        // The plan (blocks of consecutive sources streamed from the planes, their boundary lanes
        // patched, the others gathered), and one that gathers every block.
        let gather_all =
            Plan { blocks: vec![Block::Gather; n / LANES], walls: Vec::new(), edges: Vec::new() };
        let plans = [Plan::new(&lattice.neighbours, &lattice.links, n), gather_all];
        let runs = |walls: bool| {
            let with_links = |b: &&Block| match b {
                Block::Runs { walls: [a, b], .. } if walls => b > a,
                Block::Runs { edges: [a, b], .. } => b > a,
                Block::Gather => false,
            };
            plans[0].blocks.iter().filter(with_links).count()
        };
        assert!(runs(true) > 10 && runs(false) > 0 && plans[0].blocks.contains(&Block::Gather));
        assert!(plans[0].walls.iter().any(|w| w.q < 0.5) && plans[0].walls.iter().any(|w| w.q > 0.5));
        let mut newtonian = Vec::new();
        for p in [p, carreau_yasuda, casson] {
            for (&isa, plan) in isas.iter().flat_map(|isa| plans.iter().map(move |plan| (isa, plan))) {
                let (mut want, mut got) = (g0.clone(), g0.clone());
                for _ in 0..3 {
                    let mut next = vec![0.0; Q * n];
                    reference(&p, &want, &mut next, &lattice.neighbours, &lattice.links);
                    want = next;
                    let mut next = vec![f32::NAN; Q * n];
                    stream_collide_with(isa, &p, &got, &mut next, &lattice.neighbours, &lattice.links, plan);
                    got = next;
                    let first = want.iter().zip(&got).position(|(a, b)| a.to_bits() != b.to_bits());
                    assert_eq!(first, None, "{isa:?}, rheology {}: first differing population", p.rheology);
                }
                if !p.local_viscosity() {
                    newtonian = want;
                } else {
                    assert!(want != newtonian, "rheology {} left the populations Newtonian", p.rheology);
                }
            }
        }
    }
}
