//! hemotwin: patient vessel geometry to lattice-Boltzmann blood flow on the GPU (wgpu) or the CPU
//! (rayon), with ParaView-ready VTK output.
//!
//! The modules follow the data: [`geometry`] (surfaces) -> [`lattice`] (voxels, wall distances) ->
//! [`lbm`] (the flow solver) and [`fem`] (the wall) -> [`hemo`] (measurements) -> [`io`] (files).
//! [`stencil`] (the D3Q19 constants and collision models) lies below both `lattice` and `lbm`;
//! [`gpu`] (devices, the backend choice, kernel plumbing) below `lbm` and [`fem`]. [`pipeline`]
//! runs the chain for a [`case::Case`] as stages that keep their results in memory; [`report`] writes a
//! plan's scenarios side by side for the surgeon (report.html, view.py).
//!
//! A run from code: the demo case, 100 steps, the pressure drop, then again at twice the inflow.
//! Nothing touches the disk.
//!
//! ```
//! use hemotwin::case::{Case, DEMO_CASE};
//! use hemotwin::pipeline::{FlowRun, RunOptions};
//!
//! let mut case = Case::from_toml(DEMO_CASE, std::path::Path::new("demo"))?;
//! case.run.backend = hemotwin::gpu::BackendChoice::Cpu;
//! case.inflow.ramp = Some(0.001);
//! let mut drops = Vec::new();
//! for flow_rate in [5.19e-7, 1.038e-6] {
//!     case.inflow.flow_rate = Some(flow_rate);
//!     let mut flow = FlowRun::new(&case, &RunOptions::default())?;
//!     flow.advance(100)?;
//!     drops.push(flow.pressure_drop_pa());
//! }
//! // More flow, more pressure drop.
//! assert!(drops[1] > drops[0] && drops[0] > 0.0, "{drops:?}");
//! # Ok::<(), hemotwin::Error>(())
//! ```

pub mod atomic;
pub mod bench;
pub mod case;
pub mod error;
pub mod fem;
pub mod geometry;
pub mod gpu;
pub mod hemo;
pub mod identity;
pub mod io;
pub mod lattice;
pub mod lbm;
pub mod memory;
pub mod physiology;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod stencil;
pub mod study;
pub mod units;

pub use error::{Error, Result};
