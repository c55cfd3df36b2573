//! Output files: atomic writes, VTK for ParaView, and the run summary.

pub mod atomic;
pub mod summary;
pub mod vtk;
pub mod vtu;
