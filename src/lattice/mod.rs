//! From a closed surface to a lattice: voxelization, wall distances and the sparse fluid lattice.

pub(crate) mod centerline;
mod inlet_map;
mod sparse;
mod voxelize;
mod wall_links;

/// The ports' roles, from the geometry (the lattice builds boundary links by them).
pub use crate::geometry::PortRole;
pub use centerline::{Centerline, centerlines, peak_mean_velocity};
pub use inlet_map::InletMap;
pub use sparse::{
    BOUNDARY_BIT, BoundaryLink, LINK_PRESSURE, LINK_VELOCITY, LINK_WALL, Lattice, MAX_PORTS, PROFILE_SAMPLES,
    wgsl_constants,
};
pub use voxelize::{Grid, Voxels, WallLink, classify, voxelize};
pub use wall_links::wall_links;
