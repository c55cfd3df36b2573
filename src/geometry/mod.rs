//! Vessel surfaces: triangle meshes, STL input and output, checks, ports and synthetic vessels.

pub mod caps;
pub mod check;
pub mod domes;
pub mod edit;
pub mod implicit;
pub mod io_stl;
pub mod io_vtp;
pub mod mesh;
pub mod ports;
pub mod remesh;
pub mod repair;
pub mod spec;
pub mod synth;
pub mod vessel;

pub use mesh::{Port, PortRole, Surface, segment_triangle};
