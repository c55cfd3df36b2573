//! hemotwin: patient vessel geometry to lattice-Boltzmann blood flow on the GPU (wgpu) or the CPU
//! (rayon), with ParaView-ready VTK output.
//!
//! The modules follow the data: [`geometry`] (surfaces) -> [`lattice`] (voxels, wall distances) ->
//! [`lbm`] (the flow solver) -> [`hemo`] (measurements) -> [`io`] (VTK, summary). [`simulation`] runs
//! the whole chain for a [`case::Case`]. [`stencil`] (the D3Q19 constants and collision models) lies
//! below both `lattice` and `lbm`; [`gpu`] (devices, the backend choice, kernel plumbing) below `lbm` and
//! [`fem`].

pub mod bench;
pub mod case;
pub mod error;
pub mod fem;
pub mod geometry;
pub mod gpu;
pub mod hemo;
pub mod io;
pub mod lattice;
pub mod lbm;
pub mod memory;
pub mod physiology;
pub mod simulation;
pub mod stencil;
pub mod units;

pub use error::{Error, Result};
