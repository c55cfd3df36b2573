//! Vessel-wall biomechanics by finite elements: the lumen surface extruded into a wall of
//! quadratic tetrahedra, linear elastic or neo-Hookean materials, the lumen pressure as load, and
//! PCG (3x3 block-Jacobi) on the CPU (rayon) or the GPU (WGSL).
//!
//! 1. [`extrude`] builds the [`WallMesh`] from a surface, its ports and an [`Axis`].
//! 2. [`WallSolver`] assembles, constrains the ends and solves a [`WallProblem`].
//! 3. [`crate::io::vtu::write_wall_vtu`] writes `wall_fe.vtu`; [`WallSummary`] goes to summary.json.

mod assemble;
mod axis;
pub mod cpu;
mod element;
mod gpu;
mod material;
pub mod pcg;
mod pressure_map;
mod run;
mod solver;
mod stress;
mod wall_mesh;

pub use assemble::{Assembled, Assembly, Constraints, FaceStiffness, Pattern, assemble, pressure_forces};
pub use axis::{Axis, AxisFrame};
pub use element::{FACES, scaled_jacobian};
pub use gpu::{FemGpu, GpuPcg};
pub use material::{Material, MaterialMap, Model, Region};
pub use pressure_map::{PRESSURE_ARRAY, map_to_surface, read_wall_pressure, write_pressure_vtp};
pub use run::{WallCase, WallRun, run_wall};
pub use solver::{
    EndCondition, NewtonSettings, Pressure, WallProblem, WallSolution, WallSolver, WallSummary,
};
pub use stress::{NodalFields, von_mises};
pub use wall_mesh::{InnerFace, Thickness, WallMesh, WallSpec, extrude};
