//! The lattice-Boltzmann model that `lattice`, `units` and `lbm` share, below all three: the D3Q19
//! velocity set and the collision models with their kernel codes, written once for Rust and WGSL.

pub mod d3q19;

use serde::{Deserialize, Serialize};

/// `StepParams::collision` of [`Collision::Trt`].
pub const COLLISION_TRT: u32 = 0;
/// `StepParams::collision` of [`Collision::Regularized`].
pub const COLLISION_REGULARIZED: u32 = 1;

/// The collision of the lattice Boltzmann kernel (`lattice.collision`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Collision {
    /// Recursive regularized BGK (Malaspinas 2015, Coreixas et al. 2017): every non-equilibrium
    /// moment but the stress is dropped, so the ghost modes cannot grow as tau -> 1/2.
    #[default]
    Regularized,
    /// Two relaxation times with the magic parameter 3/16 (bounce-back walls exact for Poiseuille
    /// flow); its ghost modes are barely damped as tau -> 1/2.
    Trt,
}

impl Collision {
    /// The `StepParams::collision` code of this collision.
    pub fn code(self) -> u32 {
        match self {
            Collision::Regularized => COLLISION_REGULARIZED,
            Collision::Trt => COLLISION_TRT,
        }
    }
}

/// WGSL declarations of the collision codes the kernels test, prepended to every LBM shader.
pub fn wgsl_constants() -> String {
    format!("const COLLISION_REGULARIZED: u32 = {COLLISION_REGULARIZED}u;\n{}", d3q19::wgsl_constants())
}
