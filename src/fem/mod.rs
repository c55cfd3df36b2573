//! Vessel-wall biomechanics by finite elements: the lumen surface extruded into a wall of
//! quadratic tetrahedra, linear elastic or neo-Hookean materials, the lumen pressure as load, and
//! PCG (3x3 block-Jacobi) on the CPU (rayon) or the GPU (WGSL).
//!
//! 1. [`extrude`] builds the [`WallMesh`] from a surface, its ports and an [`Axis`].
//! 2. [`WallSolver`] assembles, constrains the ends and solves a [`WallProblem`].
//! 3. [`crate::fem::write_wall_vtu`] writes `wall_fe.vtu`; [`WallSummary`] goes to summary.json.
//!
//! # Example
//! A 4 mm artery with a 0.4 mm wall at 13.3 kPa (100 mmHg), ends held axially:
//! ```
//! use hemotwin::fem::{
//!     Axis, EndCondition, Material, MaterialMap, Model, NewtonSettings, Pressure, Thickness, WallProblem,
//!     WallSolver, WallSpec, extrude, pcg::{PcgSettings, Preconditioner},
//! };
//! use hemotwin::geometry::ports::tag_triangles;
//! use hemotwin::geometry::synth::{TubeSpec, tube};
//! use hemotwin::gpu::BackendChoice;
//!
//! let (surface, ports) = tube(&TubeSpec { radius: 2e-3, length: 1e-3 }, 32)?;
//! let axis = Axis::between_ports(&ports)?;
//! let mesh = extrude(&surface, &tag_triangles(&surface, &ports)?, &ports, &axis, &WallSpec { thickness: Thickness::RadiusFraction(0.2), layers: 2, beyond_radius: false })?;
//! let material = Material { model: Model::LinearElastic, youngs_modulus: 1e6, poisson_ratio: 0.45 };
//! let problem = WallProblem {
//!     materials: MaterialMap::uniform(material),
//!     pressure: Pressure::Uniform(13.3e3),
//!     ends: EndCondition::AxialFixed,
//!     pcg: PcgSettings { tolerance: 1e-8, max_iterations: 10_000, preconditioner: Preconditioner::Multigrid },
//!     newton: NewtonSettings::default(),
//!     backend: BackendChoice::Cpu,
//!     allow_negative_pressure: false,
//! };
//! let solution = WallSolver::new(&mesh, &axis, problem)?.solve()?;
//! // Lamé at the inner surface: p (a² + b²) / (b² - a²) = 73.8 kPa.
//! let lame = 13.3e3 * (2.0f64.powi(2) + 2.4f64.powi(2)) / (2.4f64.powi(2) - 2.0f64.powi(2));
//! assert!((solution.summary.max_hoop_pa - lame).abs() < 0.03 * lame);
//! # Ok::<(), hemotwin::Error>(())
//! ```

mod aggregation;
mod assemble;
mod axis;
pub mod cpu;
mod element;
mod gpu;
mod lumen_motion;
mod material;
pub mod multigrid;
pub mod pcg;
mod pressure_map;
mod prestress;
mod solver;
mod sparse;
mod spec;
mod stress;
mod vtu;
mod wall_mesh;

pub use assemble::{Assembled, Assembly, Constraints, FaceStiffness, Pattern, assemble, pressure_forces};
pub use axis::{Axis, AxisFrame, project_on};
pub use element::{FACES, scaled_jacobian};
pub use gpu::{FemGpu, FemParams, GpuPcg, shader_sources};
pub use lumen_motion::{lumen_displacement, moved_ports, vertex_tags};
pub use material::{Material, MaterialMap, Model, Region, Stent, on_stretch};
pub use pressure_map::{PRESSURE_ARRAY, map_to_surface, read_wall_pressure, write_pressure_vtp};
pub use prestress::{PrestressSettings, ZeroPressure, zero_pressure_geometry};
pub use solver::{
    EndCondition, GPU_MIN_TOLERANCE, NewtonSettings, Pressure, WallProblem, WallProgress, WallSolution,
    WallSolver, WallSummary,
};
pub use spec::{CouplingSpec, MAX_LUMEN_PRESSURE, WallCase};
pub use stress::{NodalFields, von_mises};
pub use vtu::write_wall_vtu;
pub use wall_mesh::{
    InnerFace, Thickness, WallMesh, WallSpec, extrude, remesh_lumen, remeshed_vertices_estimate,
};
