//! Physiological boundary conditions: inflow waveforms, Womersley inlet profiles and outlet
//! resistances and Windkessels.

pub mod inflow;
pub mod outlets;
pub mod waveform;

pub use inflow::{Inflow, Profile, steady_shape};
pub use outlets::{Outlet, OutletModel, OutletSpec, windkessels_from_targets};
pub use waveform::{BUILTIN, Waveform, bessel_j, womersley_shape};
