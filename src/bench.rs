//! Performance measurement: STREAM-like triad bandwidth, LBM throughput and the roofline.

use crate::case::FluidSpec;
use crate::error::{Error, Result};
use crate::gpu::BackendChoice;
use crate::lattice::{Grid, Lattice, Voxels, WallLink};
use crate::lbm::Solver;
use crate::lbm::viscosity::apply_rheology;
use crate::memory::zeroed_huge;
use crate::stencil::Collision;
use crate::stencil::d3q19::{C, Q, W};
use crate::units::{LatticeUnits, PhysicalScales, TimeStep};
use nalgebra::Point3;
use rayon::prelude::*;
use std::time::Instant;

/// Sustained memory bandwidth (bytes/s) of a parallel triad `a = b + s c` over `len` f64 elements,
/// counting 24 bytes per element, best of `reps` repetitions.
pub fn triad_bandwidth(len: usize, reps: usize) -> f64 {
    // The same huge-page backing as the LBM populations, all three faulted in before the clock starts.
    let [mut a, mut b, mut c] = [0; 3].map(|_| zeroed_huge::<f64>(len));
    b.fill(1.0);
    c.fill(2.0);
    a.fill(0.0);
    let mut best = f64::INFINITY;
    for r in 0..reps.max(1) {
        let s = 1.0 + r as f64 * 1e-3;
        let t = Instant::now();
        a.par_chunks_mut(1 << 16).zip(b.par_chunks(1 << 16)).zip(c.par_chunks(1 << 16)).for_each(
            |((a, b), c)| {
                for i in 0..a.len() {
                    a[i] = b[i] + s * c[i];
                }
            },
        );
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&a);
    }
    24.0 * len as f64 / best
}

/// A closed box of `n^3` fluid cells with no-slip walls all round (halfway bounce-back).
pub fn dense_box(n: usize) -> Lattice {
    let grid = Grid { origin: Point3::origin(), dx: 1.0, dims: [n; 3] };
    let mut links = Vec::new();
    for node in 0..grid.len() {
        let p = grid.coords(node);
        if p.iter().all(|&v| v > 0 && v + 1 < n) {
            continue;
        }
        for (dir, c) in C.iter().enumerate().skip(1) {
            if grid.neighbour(node, *c).is_none() {
                links.push(WallLink { node, dir: dir as u8, q: 0.5, tag: 0 });
            }
        }
    }
    let vox = Voxels { grid, fluid: vec![1; grid.len()], links, unresolved_links: 0 };
    Lattice::build(&vox, &[], |_, _| (nalgebra::Vector3::zeros(), 0.0), |_| 1.0, true)
}

/// Density of the fluid of throughput runs (kg/m^3).
const DENSITY: f64 = 1060.0;

/// Reference dynamic viscosity of the fluid of throughput runs (Pa s).
const VISCOSITY: f64 = 3.5e-3;

/// Lattice parameters for throughput runs with `collision` (tau = 0.8; the values do not change the
/// work done).
pub fn bench_units(collision: Collision) -> Result<LatticeUnits> {
    let scales = PhysicalScales {
        density: DENSITY,
        viscosity: VISCOSITY,
        dx: 1e-4,
        peak_velocity: 0.01,
        vessel_peak_velocity: 0.01,
        inlet_diameter: 1e-2,
        pressure_scale: 1.0,
        pulsation: None,
        collision,
        les: None,
    };
    Ok(LatticeUnits::new(&scales, TimeStep::Tau(0.8))?.0)
}

/// The kernel variants `hemotwin bench --rheology` compares, the default (Newtonian, regularized)
/// first: (label, a case file's `fluid.rheology`, `fluid.les`, `lattice.collision`).
pub const KERNEL_VARIANTS: [(&str, &str, bool, Collision); 5] = [
    ("newtonian", "newtonian", false, Collision::Regularized),
    ("newtonian trt", "newtonian", false, Collision::Trt),
    ("carreau-yasuda", "carreau-yasuda", false, Collision::Regularized),
    ("casson", "casson", false, Collision::Regularized),
    ("smagorinsky les", "newtonian", true, Collision::Regularized),
];

/// The fluid of throughput runs with viscosity model `rheology` (a case file's `fluid.rheology`)
/// and LES on or off; the models' parameters are the case file's defaults (blood).
pub fn bench_fluid(rheology: &str, les: bool) -> Result<FluidSpec> {
    let text =
        format!("density = {DENSITY:e}\nviscosity = {VISCOSITY:e}\nrheology = \"{rheology}\"\nles = {les}\n");
    toml::from_str(&text).map_err(|e| Error::parameter("fluid.rheology", e.to_string()))
}

/// Peak velocity of the start vortex (lattice units).
const VORTEX_PEAK: f64 = 0.05;

/// Populations (shifted, direction-major) at equilibrium with a Taylor-Green vortex of one period
/// across the grid and peak velocity `VORTEX_PEAK`: on a 128^3 box shear rates up to about 8 /s at
/// `bench_units`, where blood is shear-thinning, so the local viscosity models do the work of a real
/// flow (a fluid at rest would make their fixed point trivial).
pub fn vortex(lattice: &Lattice) -> Vec<f32> {
    let n = lattice.len();
    let mut g = vec![0.0f32; Q * n];
    let k = lattice.grid.dims.map(|d| std::f64::consts::TAU / d as f64);
    for (cell, &node) in lattice.cells.iter().enumerate() {
        let [x, y, z] = lattice.grid.coords(node as usize).map(|v| v as f64);
        let [x, y, z] = [k[0] * x, k[1] * y, k[2] * z];
        let u = [VORTEX_PEAK * x.sin() * y.cos() * z.cos(), -VORTEX_PEAK * x.cos() * y.sin() * z.cos(), 0.0];
        let usq = u[0] * u[0] + u[1] * u[1];
        for (i, c) in C.iter().enumerate() {
            let cu = c[0] as f64 * u[0] + c[1] as f64 * u[1] + c[2] as f64 * u[2];
            g[i * n + cell] = (W[i] as f64 * (3.0 * cu + 4.5 * cu * cu - 1.5 * usq)) as f32;
        }
    }
    g
}

/// A solver for throughput runs on `lattice`: `fluid`'s viscosity model and `collision` at
/// `bench_units`, started from `vortex`.
pub fn bench_solver(
    lattice: &Lattice,
    backend: BackendChoice,
    fluid: &FluidSpec,
    collision: Collision,
) -> Result<Solver> {
    let units = LatticeUnits { les: fluid.les.unwrap_or(false), ..bench_units(collision)? };
    let mut solver = Solver::new(lattice, &units, backend)?;
    apply_rheology(fluid, &units, &mut solver);
    solver.restore(&vortex(lattice), 0)?;
    Ok(solver)
}

/// One throughput measurement.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Million lattice updates per second.
    pub mlups: f64,
    /// Memory traffic of one update (bytes), `Solver::bytes_per_update`.
    pub bytes_per_update: f64,
    /// Effective memory traffic (bytes/s) at `bytes_per_update`.
    pub bytes_per_s: f64,
}

/// This machine's CPU throughput (MLUPS) with `collision` on a lattice larger than its caches (an
/// 80^3 box, 78 MB of populations, 5 steps): what time estimates before a run rest on (a GPU only
/// runs faster).
pub fn cpu_calibration_mlups(collision: Collision) -> Result<f64> {
    let fluid = bench_fluid("newtonian", false)?;
    Ok(lbm_throughput(&dense_box(80), BackendChoice::Cpu, &fluid, collision, 5)?.0.mlups)
}

/// Runs `steps` steps of `bench_solver` on `lattice` after a warm-up and returns the throughput.
pub fn lbm_throughput(
    lattice: &Lattice,
    backend: BackendChoice,
    fluid: &FluidSpec,
    collision: Collision,
    steps: u64,
) -> Result<(Throughput, Solver)> {
    let mut solver = bench_solver(lattice, backend, fluid, collision)?;
    solver.advance(2, |_| 1.0);
    solver.finish()?;
    let t = Instant::now();
    solver.advance(steps, |_| 1.0);
    solver.finish()?;
    let secs = t.elapsed().as_secs_f64();
    let mlups = lattice.len() as f64 * steps as f64 / secs / 1e6;
    let bytes_per_update = solver.bytes_per_update();
    Ok((Throughput { mlups, bytes_per_update, bytes_per_s: mlups * 1e6 * bytes_per_update }, solver))
}
