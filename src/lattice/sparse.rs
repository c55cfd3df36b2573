//! The sparse lattice: fluid cells only, a pull neighbour table and the boundary links.

use super::voxelize::{Grid, Voxels};
use crate::geometry::PortRole;
use crate::stencil::d3q19::{C, Q, opposite};
use bytemuck::{Pod, Zeroable};
use nalgebra::{Point3, Vector3};

/// Neighbour-table flag: the entry is `BOUNDARY_BIT | link index` instead of a source cell.
pub const BOUNDARY_BIT: u32 = 0x8000_0000;
/// Link kind: a no-slip wall (interpolated bounce-back).
pub const LINK_WALL: u32 = 0;
/// Link kind: a prescribed velocity (moving-wall interpolated bounce-back).
pub const LINK_VELOCITY: u32 = 1;
/// Link kind: a prescribed pressure (anti-bounce-back).
pub const LINK_PRESSURE: u32 = 2;

/// Samples of the inlet profile table over the radial coordinate ρ in [0, 1] (a multiple of 4).
pub const PROFILE_SAMPLES: usize = 64;
/// Most ports a lattice can have (each outlet's density is a kernel parameter; a multiple of 4).
pub const MAX_PORTS: usize = 16;

/// WGSL declarations of the neighbour-table flag, link kinds and table sizes, prepended to the LBM
/// shaders.
pub fn wgsl_constants() -> String {
    format!(
        "const BOUNDARY_BIT: u32 = {BOUNDARY_BIT}u;\nconst LINK_WALL: u32 = {LINK_WALL}u;\n\
         const LINK_VELOCITY: u32 = {LINK_VELOCITY}u;\nconst LINK_PRESSURE: u32 = {LINK_PRESSURE}u;\n\
         const PROFILE_SAMPLES: u32 = {PROFILE_SAMPLES}u;\nconst MAX_PORTS: u32 = {MAX_PORTS}u;\n"
    )
}

/// One boundary link as the kernels read it (lattice units).
/// Keep in sync with `struct BoundaryLink` in shaders/lbm_common.wgsl (checked by tests/shader_layout.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct BoundaryLink {
    /// Wall distance q in (0, 1] along the link from the fluid cell.
    pub q: f32,
    /// `LINK_WALL`, `LINK_VELOCITY` or `LINK_PRESSURE`.
    pub kind: u32,
    /// Inflow direction times the inlet's mean velocity at full inflow (velocity links), lattice
    /// units, which the profile table scales by the local shape; the port's outward unit normal
    /// (pressure links), for backflow stabilisation.
    pub u: [f32; 3],
    /// Radial coordinate ρ in [0, 1] of the link's wall crossing on its inlet (0 centre, 1 rim).
    pub radial: f32,
    /// Port index of a velocity or pressure link.
    pub port: u32,
    /// Padding to 32 bytes.
    pub pad: u32,
}

/// The fluid cells of a voxelized vessel, ready for the LBM kernels.
#[derive(Debug, Clone)]
pub struct Lattice {
    /// The grid the cells live on.
    pub grid: Grid,
    /// Grid index of each fluid cell, in increasing order.
    pub cells: Vec<u32>,
    /// Pull table, direction-major: entry `(i - 1) * n + cell` is the cell at `x - c_i`, or
    /// `BOUNDARY_BIT | link` when that node is not fluid.
    pub neighbours: Vec<u32>,
    /// Boundary links referenced from the neighbour table.
    pub links: Vec<BoundaryLink>,
    /// Wall links that fell back to halfway bounce-back (q < 1/2 without a second fluid node).
    pub halfway_fallbacks: usize,
    /// Steady inlet profile: axial velocity relative to the mean at ρ = k / (PROFILE_SAMPLES - 1).
    pub inlet_profile: [f32; PROFILE_SAMPLES],
}

impl Lattice {
    /// Number of fluid cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True when there is no fluid cell.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Device memory per fluid cell (bytes): two population arrays, the neighbour table and the links.
    pub fn bytes_per_cell(&self) -> f64 {
        let n = self.len().max(1) as f64;
        (2 * Q * 4 + (Q - 1) * 4) as f64 + (self.links.len() * size_of::<BoundaryLink>()) as f64 / n
    }

    /// Position of fluid cell `cell` (m).
    pub fn point(&self, cell: usize) -> Point3<f64> {
        self.grid.point(self.grid.coords(self.cells[cell] as usize))
    }

    /// Builds the lattice from voxels. `roles[k]` says what port `k` (tag `k + 1`) imposes;
    /// `inlet(k, x)` gives, at crossing point `x` (m) of velocity port `k`, the inflow direction
    /// times the port's mean velocity (lattice units) and the radial coordinate ρ in [0, 1], and
    /// for pressure port `k` its outward unit normal (the second value unused); `profile(ρ)` is the steady velocity profile relative to the mean. With `halfway`, every
    /// wall uses q = 1/2 (simple bounce-back).
    pub fn build(
        vox: &Voxels,
        roles: &[PortRole],
        inlet: impl Fn(usize, Point3<f64>) -> (Vector3<f64>, f64),
        profile: impl Fn(f64) -> f64,
        halfway: bool,
    ) -> Lattice {
        let grid = vox.grid;
        let cells: Vec<u32> = (0..grid.len()).filter(|&i| vox.fluid[i] == 1).map(|i| i as u32).collect();
        let n = cells.len();
        let mut sparse = vec![u32::MAX; grid.len()];
        for (c, &g) in cells.iter().enumerate() {
            sparse[g as usize] = c as u32;
        }
        let mut neighbours = vec![0u32; (Q - 1) * n];
        for (c, &g) in cells.iter().enumerate() {
            for i in 1..Q {
                let back = C[i].map(|v| -v);
                neighbours[(i - 1) * n + c] = grid
                    .neighbour(g as usize, back)
                    .map(|s| sparse[s])
                    .filter(|&s| s != u32::MAX)
                    .unwrap_or(BOUNDARY_BIT);
            }
        }
        let mut links = Vec::with_capacity(vox.links.len());
        let mut halfway_fallbacks = 0;
        for l in &vox.links {
            let cell = sparse[l.node] as usize;
            let d = l.dir as usize;
            // The population arriving at the cell from the wall side moves along c_j = -c_d.
            let j = opposite(d);
            let role = (l.tag as usize).checked_sub(1).and_then(|k| roles.get(k).map(|r| (k, *r)));
            let mut link =
                BoundaryLink { q: l.q, kind: LINK_WALL, u: [0.0; 3], radial: 0.0, port: 0, pad: 0 };
            match role {
                Some((k, PortRole::Velocity)) => {
                    let c = Vector3::new(C[d][0] as f64, C[d][1] as f64, C[d][2] as f64);
                    let x = grid.point(grid.coords(l.node)) + c * (l.q as f64 * grid.dx);
                    let (u, radial) = inlet(k, x);
                    link.kind = LINK_VELOCITY;
                    link.u = [u.x as f32, u.y as f32, u.z as f32];
                    link.radial = radial.clamp(0.0, 1.0) as f32;
                    link.port = k as u32;
                }
                Some((k, PortRole::Pressure)) => {
                    let (normal, _) = inlet(k, grid.point(grid.coords(l.node)));
                    link.kind = LINK_PRESSURE;
                    link.u = [normal.x as f32, normal.y as f32, normal.z as f32];
                    link.port = k as u32;
                }
                None => {}
            }
            if link.kind != LINK_PRESSURE {
                // q < 1/2 needs the second fluid cell x + c_j, the pull source of direction d.
                let second_is_fluid = neighbours[(d - 1) * n + cell] & BOUNDARY_BIT == 0;
                if halfway || (link.q < 0.5 && !second_is_fluid) {
                    halfway_fallbacks += usize::from(!halfway);
                    link.q = 0.5;
                }
            }
            neighbours[(j - 1) * n + cell] = BOUNDARY_BIT | links.len() as u32;
            links.push(link);
        }
        let inlet_profile = std::array::from_fn(|k| profile(k as f64 / (PROFILE_SAMPLES - 1) as f64) as f32);
        Lattice { grid, cells, neighbours, links, halfway_fallbacks, inlet_profile }
    }
}
