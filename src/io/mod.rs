//! Files: VTK for ParaView, CSV tables, JSON, and the files of a run from plain fields.

pub mod outputs;
pub mod vtk;
