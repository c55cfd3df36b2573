//! CPU twins of the LBM kernels (rayon): the same names, loops and order of operations as
//! shaders/lbm_stream_collide.wgsl and shaders/lbm_moments.wgsl.

use super::StepParams;
use super::d3q19::{C, Q, W, opposite};
use crate::lattice::{BOUNDARY_BIT, BoundaryLink, LINK_PRESSURE, LINK_WALL};
use rayon::prelude::*;

/// Cells per rayon task: large enough to amortise scheduling, small enough to balance 2-64 threads.
const CHUNK: usize = 4096;

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

/// Velocity of a cell from its stored (post-collision) populations.
fn cell_velocity(g_src: &[f32], cell: usize, n: usize) -> [f32; 3] {
    let (mut drho, mut mx, mut my, mut mz) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for i in 0..Q {
        let g = g_src[i * n + cell];
        drho += g;
        mx += g * CX[i];
        my += g * CY[i];
        mz += g * CZ[i];
    }
    let rho = 1.0 + drho;
    [mx / rho, my / rho, mz / rho]
}

/// The population arriving along direction j at a cell whose pull source is a boundary link.
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
        let u = cell_velocity(g_src, cell, n);
        let cu = CX[j] * u[0] + CY[j] * u[1] + CZ[j] * u[2];
        let usq = u[0] * u[0] + u[1] * u[1] + u[2] * u[2];
        return -g_out + 2.0 * W[j] * (p.rho_outlet * (1.0 + 4.5 * cu * cu - 1.5 * usq) - 1.0);
    }
    let cu_wall = (CX[j] * link.u[0] + CY[j] * link.u[1] + CZ[j] * link.u[2]) * p.inflow_scale;
    let moving = 6.0 * W[j] * cu_wall;
    let q = link.q;
    if q < 0.5 {
        let second = neighbours[(d - 1) * n + cell] as usize;
        return 2.0 * q * g_out + (1.0 - 2.0 * q) * g_src[d * n + second] + moving;
    }
    let g_back = g_src[j * n + cell];
    (g_out + (2.0 * q - 1.0) * g_back + moving) / (2.0 * q)
}

/// One fused step for one cell; returns the post-collision populations.
fn stream_collide_cell(
    p: &StepParams,
    g_src: &[f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
    cell: usize,
) -> [f32; Q] {
    let n = p.n_cells as usize;
    // 1. Load: pull each population from its upstream cell or its boundary link. Interpolated
    //    bounce-back does not conserve mass by itself: the wall's net gain is taken back from the rest
    //    population, so a wall link returns exactly what left through it, as halfway bounce-back does.
    let mut g = [0.0f32; Q];
    g[0] = g_src[cell];
    let mut wall_gain = 0.0f32;
    for j in 1..Q {
        let s = neighbours[(j - 1) * n + cell];
        if s & BOUNDARY_BIT == 0 {
            g[j] = g_src[j * n + s as usize];
        } else {
            let link = &links[(s & !BOUNDARY_BIT) as usize];
            g[j] = boundary_population(p, g_src, neighbours, cell, n, j, link);
            if link.kind == LINK_WALL {
                wall_gain += g[j] - g_src[opposite(j) * n + cell];
            }
        }
    }
    g[0] -= wall_gain;
    // 2. Moments.
    let (mut drho, mut mx, mut my, mut mz) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for i in 0..Q {
        drho += g[i];
        mx += g[i] * CX[i];
        my += g[i] * CY[i];
        mz += g[i] * CZ[i];
    }
    let rho = 1.0 + drho;
    let (ux, uy, uz) = (mx / rho, my / rho, mz / rho);
    let usq = ux * ux + uy * uy + uz * uz;
    // 3. TRT collision, the rest population then each opposite pair (i, i + 1).
    let geq0 = W[0] * (drho - 1.5 * rho * usq);
    g[0] -= p.omega_plus * (g[0] - geq0);
    for i in (1..Q).step_by(2) {
        let cu = CX[i] * ux + CY[i] * uy + CZ[i] * uz;
        let geq_plus = W[i] * (drho + rho * (4.5 * cu * cu - 1.5 * usq));
        let geq_minus = W[i] * rho * 3.0 * cu;
        let relax_plus = p.omega_plus * (0.5 * (g[i] + g[i + 1]) - geq_plus);
        let relax_minus = p.omega_minus * (0.5 * (g[i] - g[i + 1]) - geq_minus);
        g[i] = g[i] - relax_plus - relax_minus;
        g[i + 1] = g[i + 1] - relax_plus + relax_minus;
    }
    g
}

/// CPU twin of `lbm_stream_collide`: reads `g_src`, writes every cell of `g_dst` (same layout).
pub fn stream_collide(
    p: &StepParams,
    g_src: &[f32],
    g_dst: &mut [f32],
    neighbours: &[u32],
    links: &[BoundaryLink],
) {
    let n = p.n_cells as usize;
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
        for local in 0..out[0].len() {
            let g = stream_collide_cell(p, g_src, neighbours, links, start + local);
            for i in 0..Q {
                out[i][local] = g[i];
            }
        }
    });
}

/// CPU twin of `lbm_moments`: (drho, ux, uy, uz) of every cell, lattice units.
pub fn moments(n: usize, g_src: &[f32]) -> Vec<[f32; 4]> {
    (0..n)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|cell| {
            let (mut drho, mut mx, mut my, mut mz) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for i in 0..Q {
                let g = g_src[i * n + cell];
                drho += g;
                mx += g * CX[i];
                my += g * CY[i];
                mz += g * CZ[i];
            }
            let rho = 1.0 + drho;
            [drho, mx / rho, my / rho, mz / rho]
        })
        .collect()
}
