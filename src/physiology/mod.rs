//! Physiological boundary conditions: inflow waveforms and Womersley inlet profiles.

pub mod inflow;
pub mod waveform;

pub use inflow::{Inflow, steady_shape};
pub use waveform::{BUILTIN, Waveform, bessel_j, womersley_shape};
