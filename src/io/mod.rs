//! Files: VTK for ParaView, CSV tables, JSON, and the files of a run from plain fields.

pub mod folder;
pub mod outputs;
pub mod vtk;
