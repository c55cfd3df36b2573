//! The `[wall]` section of a case file: thickness, layers, material, regions, stents, ends, load
//! and solver settings.

use super::material::{Material, Region, Stent};
use super::pcg::Preconditioner;
use super::solver::EndCondition;
use super::wall_mesh::Thickness;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Largest lumen pressure magnitude a case's wall accepts (Pa; 100 kPa, 750 mmHg: about twice the
/// highest blood pressures measured).
pub const MAX_LUMEN_PRESSURE: f64 = 1.0e5;

/// The `[wall]` section of a case file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallCase {
    /// Wall thickness: "10%" of the local radius, or a length with its unit ("0.6 mm", "6e-4 m").
    pub thickness: String,
    /// Element layers through the wall.
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// The wall material.
    pub material: Material,
    /// Stretches of the wall (by axial abscissa, m) with other moduli.
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Stents: stretches whose inner layers take a stent's stiffness (`[[wall.stents]]`).
    #[serde(default)]
    pub stents: Vec<Stent>,
    /// "axial-fixed" (default; radial motion free) or "fixed".
    #[serde(default = "default_ends")]
    pub ends: EndCondition,
    /// Uniform lumen pressure (Pa) used when no `--pressure` file is given.
    pub pressure: Option<f64>,
    /// Relative residual of the PCG solves.
    #[serde(default = "default_tolerance")]
    pub pcg_tolerance: f64,
    /// The PCG preconditioner: "multigrid" (default) or "block-jacobi".
    #[serde(default)]
    pub preconditioner: Preconditioner,
    /// PCG iterations allowed per linear solve before the run stops with an error.
    #[serde(default = "default_max_iterations")]
    pub pcg_max_iterations: usize,
    /// Remesh the lumen isotropically before extruding it (default true).
    #[serde(default = "default_remesh")]
    pub remesh: bool,
    /// Accept a wall thicker than the local lumen radius.
    #[serde(default)]
    pub allow_thick_wall: bool,
    /// Accept negative lumen pressures.
    #[serde(default)]
    pub allow_negative_pressure: bool,
    /// Load steps of the large-deformation models.
    #[serde(default = "default_load_steps")]
    pub load_steps: usize,
    /// The wall answering back (`[wall.coupling]`): the flow reruns in the lumen the wall's
    /// displacement opens, until the two agree; absent for a rigid lumen.
    pub coupling: Option<CouplingSpec>,
}

/// `[wall.coupling]`: the cycle-mean, partitioned flow-wall coupling (flow -> wall displacement ->
/// deformed lumen -> flow, Aitken-relaxed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouplingSpec {
    /// Lumen pressure (Pa, absolute) at which the case's surface is the wall's shape: 0 for an
    /// unloaded (zero-pressure) lumen, the imaging pressure to linearise about the imaged one.
    pub reference_pressure: f64,
    /// Stop once no lumen vertex moves by more than this fraction of its local radius between two
    /// iterations (default 0.001).
    #[serde(default = "default_coupling_tolerance")]
    pub tolerance: f64,
    /// Flow-wall iterations allowed before the run stops with an error (default 20).
    #[serde(default = "default_coupling_iterations")]
    pub max_iterations: usize,
}

fn default_coupling_tolerance() -> f64 {
    1e-3
}
fn default_coupling_iterations() -> usize {
    20
}

impl CouplingSpec {
    /// Checks the ranges: a pressure an artery holds, a tolerance in (0, 0.1], at least one iteration.
    pub fn validate(&self) -> Result<()> {
        let max = MAX_LUMEN_PRESSURE;
        if !(self.reference_pressure.is_finite() && self.reference_pressure.abs() <= max) {
            return Err(Error::parameter(
                "wall.coupling.reference_pressure",
                format!(
                    "must be a lumen pressure in Pa within +-{max:.0} Pa, got {} (0 when the surface is the \
                     unloaded lumen; 1 mmHg = 133.322 Pa)",
                    self.reference_pressure
                ),
            ));
        }
        if !(self.tolerance > 0.0 && self.tolerance <= 0.1) {
            return Err(Error::parameter(
                "wall.coupling.tolerance",
                format!(
                    "must be a fraction of the radius in (0, 0.1], got {} (default 0.001)",
                    self.tolerance
                ),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::parameter("wall.coupling.max_iterations", "must be at least 1 (default 20)"));
        }
        Ok(())
    }
}

fn default_layers() -> usize {
    3
}
fn default_ends() -> EndCondition {
    EndCondition::AxialFixed
}
fn default_tolerance() -> f64 {
    1e-8
}
fn default_load_steps() -> usize {
    10
}
fn default_remesh() -> bool {
    true
}
fn default_max_iterations() -> usize {
    5000
}

impl WallCase {
    /// The thickness as a [`Thickness`]: "N%" or "X mm|cm|m".
    pub fn thickness(&self) -> Result<Thickness> {
        let t = self.thickness.trim();
        let bad = || {
            Error::parameter(
                "wall.thickness",
                format!("`{t}`: write a percentage of the local radius (\"10%\") or a length (\"0.6 mm\")"),
            )
        };
        if let Some(pct) = t.strip_suffix('%') {
            return Ok(Thickness::RadiusFraction(pct.trim().parse::<f64>().map_err(|_| bad())? / 100.0));
        }
        let (number, scale) = [("mm", 1e-3), ("cm", 1e-2), ("m", 1.0)]
            .iter()
            .find_map(|(unit, scale)| t.strip_suffix(unit).map(|n| (n.trim(), *scale)))
            .ok_or_else(bad)?;
        Ok(Thickness::Absolute(number.parse::<f64>().map_err(|_| bad())? * scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(thickness: &str) -> WallCase {
        let text = format!(
            "thickness = \"{thickness}\"\nmaterial = {{ model = \"neo-hookean\", youngs_modulus = 1e6, \
             poisson_ratio = 0.45 }}\n"
        );
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn thickness_reads_percentages_and_lengths() {
        assert_eq!(spec("10%").thickness().unwrap(), Thickness::RadiusFraction(0.1));
        assert_eq!(spec("0.6 mm").thickness().unwrap(), Thickness::Absolute(0.6e-3));
        assert_eq!(spec("6e-4 m").thickness().unwrap(), Thickness::Absolute(6e-4));
        assert!(spec("thick").thickness().unwrap_err().to_string().starts_with("wall.thickness"));
    }
}
