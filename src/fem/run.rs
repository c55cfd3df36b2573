//! The `[wall]` section of a case file and the `hemotwin wall` run: the case's vessel extruded into
//! a wall, loaded by a uniform pressure or by the flow's wall pressure (`wall.vtp`), solved, and
//! written as `wall_fe.vtu`, with the peak values under `wall` in `summary.json`.

use super::axis::Axis;
use super::material::{Material, MaterialMap, Region, Stent};
use super::pcg::{PcgSettings, Preconditioner};
use super::pressure_map::{map_to_surface, read_wall_pressure};
use super::solver::{
    EndCondition, NewtonSettings, Pressure, WallProblem, WallProgress, WallSolver, WallSummary,
};
use super::wall_mesh::{Thickness, WallSpec, extrude, remesh_lumen};
use crate::case::Case;
use crate::error::{Error, Result};
use crate::io::atomic::write_bytes_atomic;
use crate::io::vtu::write_wall_vtu;
use crate::lattice::{PortRole, centerlines};
use crate::lbm::BackendChoice;
use crate::simulation::Vessel;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The `[wall]` section of a case file.
#[derive(Debug, Clone, Deserialize)]
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

/// The case's vessel and its axis: the line between the ports of a tube, else the centerlines
/// traced on the case's lattice (which needs the voxelization).
pub fn wall_vessel(case: &Case) -> Result<(Vessel, Axis)> {
    let vessel = crate::simulation::load_vessel(case)?;
    if vessel.ports.len() == 2 {
        let axis = Axis::between_ports(&vessel.ports)?;
        return Ok((vessel, axis));
    }
    let setup = crate::simulation::prepare(case)?;
    let vessel = setup.vessel;
    let inlet = vessel.roles.iter().position(|r| *r == PortRole::Velocity).unwrap_or(0);
    let lines = centerlines(&vessel.surface, &vessel.tags, &setup.voxels, &vessel.ports, inlet)?;
    let axis = Axis::new(lines.into_iter().map(|l| l.points).collect())?;
    Ok((vessel, axis))
}

/// What `hemotwin wall` wrote.
pub struct WallRun {
    /// The summary (also under `wall` in summary.json).
    pub summary: WallSummary,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// Runs the wall of `case`: pressure from `pressure_file` (a wall.vtp with a `pressure` array) or
/// the case's uniform `wall.pressure`; results into `out`. `progress` hears from solves that run
/// longer than 2 s.
pub fn run_wall(
    case: &Case,
    pressure_file: Option<&Path>,
    out: &Path,
    backend: BackendChoice,
    progress: impl FnMut(&WallProgress),
) -> Result<WallRun> {
    let spec = case.wall.as_ref().ok_or_else(|| {
        Error::parameter(
            "wall",
            "the case has no [wall] section (thickness, material; see docs/validation.md)",
        )
    })?;
    let (vessel, axis) = wall_vessel(case)?;
    let wall =
        WallSpec { thickness: spec.thickness()?, layers: spec.layers, beyond_radius: spec.allow_thick_wall };
    let lumen = if spec.remesh {
        remesh_lumen(&vessel.surface, &vessel.ports, &axis, &wall)?
    } else {
        vessel.surface
    };
    let mesh = extrude(&lumen, &vessel.ports, &axis, &wall)?;
    let pressure = match (pressure_file, spec.pressure) {
        (Some(path), _) => {
            let (points, p) = read_wall_pressure(path)?;
            Pressure::PerVertex(map_to_surface(&lumen, &points, &p, path)?)
        }
        (None, Some(p)) => Pressure::Uniform(p),
        (None, None) => {
            return Err(Error::parameter(
                "wall.pressure",
                "give a uniform pressure in Pa (wall.pressure = 13000) or the flow's wall.vtp with --pressure",
            ));
        }
    };
    let problem = WallProblem {
        materials: MaterialMap {
            default: spec.material,
            regions: spec.regions.clone(),
            stents: spec.stents.clone(),
        },
        pressure,
        ends: spec.ends,
        pcg: PcgSettings {
            tolerance: spec.pcg_tolerance,
            max_iterations: spec.pcg_max_iterations,
            preconditioner: spec.preconditioner,
        },
        newton: NewtonSettings { load_steps: spec.load_steps, ..NewtonSettings::default() },
        backend,
        allow_negative_pressure: spec.allow_negative_pressure,
    };
    let solution = WallSolver::new(&mesh, &axis, problem).and_then(|mut solver| {
        solver.on_progress(progress);
        solver.solve()
    })?;
    let vtu = out.join("wall_fe.vtu");
    write_wall_vtu(&vtu, &mesh, Some(&solution.fields))?;
    let json = out.join("summary.json");
    merge_into_summary(&json, &solution.summary)?;
    Ok(WallRun { summary: solution.summary, files: vec![vtu, json] })
}

/// Writes `wall` into the run's summary.json (atomically), keeping what the flow wrote there.
fn merge_into_summary(path: &Path, wall: &WallSummary) -> Result<()> {
    let name = path.display().to_string();
    let mut summary = match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => {
                return Err(Error::parameter(
                    name,
                    "exists but is not a hemotwin summary: write the wall results to another directory (--out)",
                ));
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    let wall = serde_json::to_value(wall).map_err(|e| Error::parameter(&name, e.to_string()))?;
    summary.insert("wall".to_owned(), wall);
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(summary))
        .map_err(|e| Error::parameter(&name, e.to_string()))?;
    write_bytes_atomic(path, text.as_bytes())
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
