//! Shared helpers of the validation tests: case construction and steady-state runs.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset; tests unwrap their own fixtures

use hemotwin::case::Case;
use hemotwin::gpu::BackendChoice;
use hemotwin::lbm::Solver;
use hemotwin::simulation::{Setup, prepare, ramp, relative_change};
use std::path::Path;

/// Blood density (kg/m^3) and viscosity (Pa s) of shared/VALIDATION.md.
pub const RHO: f64 = 1060.0;
/// Newtonian blood viscosity (Pa s).
pub const MU: f64 = 3.5e-3;

/// A case TOML for a generated vessel (`generate` is the inline table), in mm, on the CPU.
pub fn case(generate: &str, flow_rate: f64, cells: f64, step: &str) -> Case {
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {generate}\n\
         [fluid]\ndensity = {RHO}\nviscosity = {MU}\n\
         [inflow]\nflow_rate = {flow_rate:e}\nramp = 0.0\n\
         [lattice]\ncells_across_inlet = {cells}\n{step}\n\
         [run]\nsteps = 1\nbackend = \"cpu\"\n"
    );
    Case::from_toml(&text, Path::new("test case")).unwrap()
}

/// Result of a steady run.
pub struct Steady {
    /// The prepared lattice and its units.
    pub setup: Setup,
    /// (drho, ux, uy, uz) per cell, lattice units.
    pub moments: Vec<[f32; 4]>,
    /// Steps run.
    pub steps: u64,
    /// Relative L2 change of the velocity per step at the end.
    pub residual_per_step: f64,
    /// Non-equilibrium second moment per cell at the end (see `Solver::stress`).
    pub stress: Vec<[f32; 6]>,
}

/// Runs `case` on the CPU from rest until the relative velocity change per step falls below `tol`
/// (checked every `check` steps, after at least `min_steps`), or `max_steps`.
pub fn run_steady(case: &Case, ramp_steps: u64, min_steps: u64, max_steps: u64, tol: f64) -> Steady {
    let setup = prepare(case).unwrap();
    let mut solver = Solver::new(&setup.lattice, &setup.units, BackendChoice::Cpu).unwrap();
    let check = 200;
    let mut prev = solver.moments().unwrap();
    let mut residual = f64::INFINITY;
    while solver.steps_done() < max_steps {
        solver.advance(check, |s| ramp(s, ramp_steps));
        let m = solver.moments().unwrap();
        residual = relative_change(&prev, &m) / check as f64;
        assert!(
            residual.is_finite(),
            "diverged by step {} ({})",
            solver.steps_done(),
            setup.units.describe()
        );
        prev = m;
        if solver.steps_done() >= min_steps && residual < tol {
            break;
        }
    }
    let stress = solver.stress().unwrap();
    Steady { steps: solver.steps_done(), setup, moments: prev, residual_per_step: residual, stress }
}
