//! Shared helpers of the validation tests: case construction and steady-state runs.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset; tests unwrap their own fixtures

use hemotwin::case::Case;
use hemotwin::gpu::BackendChoice;
use hemotwin::pipeline::{FlowRun, RunOptions, relative_change};
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
    /// The run at its end: lattice, units and vessel.
    pub flow: FlowRun,
    /// (drho, ux, uy, uz) per cell, lattice units.
    pub moments: Vec<[f32; 4]>,
    /// Steps run.
    pub steps: u64,
    /// Relative L2 change of the velocity per step at the end.
    pub residual_per_step: f64,
    /// Non-equilibrium second moment per cell at the end (see `Solver::stress`).
    pub stress: Vec<[f32; 6]>,
}

/// Runs `case` on the CPU from rest, its inflow ramped up over `ramp_steps`, until the relative
/// velocity change per step falls below `tol` (checked every 200 steps, after at least
/// `min_steps`), or `max_steps`.
pub fn run_steady(case: &Case, ramp_steps: u64, min_steps: u64, max_steps: u64, tol: f64) -> Steady {
    let opts = RunOptions { backend: Some(BackendChoice::Cpu), ..Default::default() };
    let mut flow = FlowRun::new(case, &opts).unwrap();
    flow.set_ramp(ramp_steps);
    let check = 200;
    let mut prev = flow.moments().to_vec();
    let mut residual = f64::INFINITY;
    while flow.steps_done() < max_steps {
        flow.advance(check).unwrap_or_else(|e| panic!("{e} ({})", flow.units().describe()));
        residual = relative_change(&prev, flow.moments()) / check as f64;
        prev = flow.moments().to_vec();
        if flow.steps_done() >= min_steps && residual < tol {
            break;
        }
    }
    let stress = flow.stress().unwrap();
    Steady { steps: flow.steps_done(), flow, moments: prev, residual_per_step: residual, stress }
}

/// The first `program` on the PATH.
pub fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// `page` loaded by a headless Chromium: its exit status and the DOM it built; `None` (with a
/// line saying so) where no chromium is installed.
pub fn chromium_dom(page: &Path) -> Option<(std::process::ExitStatus, String, String)> {
    let Some(chromium) = on_path("chromium").or_else(|| on_path("chromium-browser")) else {
        println!("skipped: no chromium");
        return None;
    };
    let output = std::process::Command::new(&chromium)
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--dump-dom"])
        .arg(page)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout).to_string();
    println!("{}: {}, DOM {} bytes", chromium.display(), output.status, dom.len());
    Some((output.status, dom, String::from_utf8_lossy(&output.stderr).to_string()))
}
