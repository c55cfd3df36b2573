//! The case file (TOML): geometry, fluid, inflow, lattice, run control and output, with validation.

use crate::error::{Error, Result};
use crate::lbm::BackendChoice;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A whole simulation case, as read from TOML. Every quantity is SI unless its field says otherwise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The vessel surface and its ports.
    pub geometry: GeometrySpec,
    /// Blood properties.
    pub fluid: FluidSpec,
    /// Inlet flow.
    pub inflow: InflowSpec,
    /// Lattice resolution and time step.
    pub lattice: LatticeSpec,
    /// The vessel wall for `hemotwin wall` (finite elements); absent for flow-only cases.
    #[serde(default)]
    pub wall: Option<crate::fem::WallCase>,
    /// How long to run and when to stop.
    #[serde(default)]
    pub run: RunSpec,
    /// Where results go.
    #[serde(default)]
    pub output: OutputSpec,
}

/// Where the surface comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeometrySpec {
    /// A closed STL surface (relative paths are taken from the case file's folder).
    pub surface: Option<PathBuf>,
    /// Length unit of the surface and of the port positions: "mm", "cm", "m", or "auto" (guessed from
    /// the surface's size and reported).
    #[serde(default = "default_units")]
    pub units: String,
    /// A generated vessel instead of a file.
    pub generate: Option<GenerateSpec>,
    /// Straight flow extensions added at every open end of a surface file, in diameters of that end.
    pub flow_extensions: Option<f64>,
    /// The ports of a surface file (generated vessels bring their own). Leave empty for a surface
    /// with open ends: each end is capped flat and becomes a port, the largest the inlet.
    #[serde(default)]
    pub ports: Vec<PortSpec>,
}

fn default_units() -> String {
    "mm".into()
}

/// A synthetic vessel along +z from z = 0, in the geometry's units.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "shape", rename_all = "lowercase")]
pub enum GenerateSpec {
    /// A straight tube.
    Tube {
        /// Radius.
        radius: f64,
        /// Length.
        length: f64,
    },
    /// A tube with a cosine-shaped axisymmetric narrowing.
    Stenosis {
        /// Unobstructed radius.
        radius: f64,
        /// Tube length.
        length: f64,
        /// Area reduction at the throat, in percent (75 = three quarters of the area blocked).
        area_reduction_percent: f64,
        /// Length of the narrowing.
        stenosis_length: f64,
        /// Axial position of the throat.
        center: f64,
        /// 0 (default) axisymmetric, up to 1 for a narrowing entirely from one side.
        #[serde(default)]
        eccentricity: f64,
    },
    /// The FDA benchmark nozzle (fixed 12 mm pipe, 4 mm throat; lengths of the straight pipes).
    #[serde(rename = "fda_nozzle")]
    FdaNozzle {
        /// Straight pipe before the cone.
        inlet_length: f64,
        /// Straight pipe after the sudden expansion.
        outlet_length: f64,
    },
}

/// A port of a surface file: a flat cap, given in the geometry's units.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    /// Port name.
    pub name: String,
    /// "inlet" (prescribed flow) or "outlet" (zero pressure).
    pub role: PortRoleSpec,
    /// Cap centre.
    pub center: [f64; 3],
    /// Cap normal pointing out of the vessel.
    pub normal: [f64; 3],
    /// Cap radius.
    pub radius: f64,
}

/// What a port of the case file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortRoleSpec {
    /// Prescribed inflow.
    Inlet,
    /// Zero pressure outflow.
    Outlet,
}

/// Newtonian blood.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FluidSpec {
    /// Density (kg/m^3).
    pub density: f64,
    /// Dynamic viscosity (Pa s).
    pub viscosity: f64,
}

/// The inlet's steady flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InflowSpec {
    /// Volume flow rate (m^3/s).
    pub flow_rate: f64,
    /// Velocity profile across the inlet.
    #[serde(default)]
    pub profile: Profile,
    /// Duration of the smooth (half-cosine) start-up ramp (s); default: 1/10 of the run.
    pub ramp: Option<f64>,
}

/// Inlet velocity profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Parabolic, peak twice the mean.
    #[default]
    Poiseuille,
    /// Uniform.
    Plug,
}

/// Lattice resolution and time step; give exactly one of dx / cells_across_inlet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeSpec {
    /// Lattice spacing (m).
    pub dx: Option<f64>,
    /// Lattice cells across the inlet diameter.
    pub cells_across_inlet: Option<f64>,
    /// Relaxation time (lattice units).
    pub tau: Option<f64>,
    /// Time step (s).
    pub dt: Option<f64>,
    /// Mach number of the peak inlet velocity (default 0.1 when neither tau nor dt is given).
    pub mach: Option<f64>,
    /// Wall treatment: "bouzidi" (interpolated, default) or "halfway" bounce-back.
    #[serde(default)]
    pub wall: WallModel,
}

/// Wall boundary scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WallModel {
    /// Bouzidi interpolated bounce-back with the exact wall distance.
    #[default]
    Bouzidi,
    /// Halfway bounce-back (wall at q = 1/2).
    Halfway,
}

/// Run control.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Physical time to simulate (s); the run may stop earlier when steady.
    pub time: Option<f64>,
    /// Number of steps instead of a time.
    pub steps: Option<u64>,
    /// Stop once the relative change of the velocity field per 1000 steps falls below this (0 = never).
    #[serde(default = "default_steady_tolerance")]
    pub steady_tolerance: f64,
    /// Number of field frames written over the run (the last state is always written).
    #[serde(default = "default_frames")]
    pub frames: u32,
    /// Backend: auto, gpu or cpu.
    #[serde(default = "default_backend")]
    pub backend: BackendChoice,
    /// Memory the lattice may use (GiB); default: 80% of the available memory.
    pub max_memory_gib: Option<f64>,
}

fn default_steady_tolerance() -> f64 {
    1e-4
}
fn default_frames() -> u32 {
    5
}
fn default_backend() -> BackendChoice {
    BackendChoice::Auto
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            time: None,
            steps: None,
            steady_tolerance: default_steady_tolerance(),
            frames: default_frames(),
            backend: default_backend(),
            max_memory_gib: None,
        }
    }
}

/// Output location.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Output folder (relative to the working directory).
    #[serde(default = "default_out")]
    pub dir: PathBuf,
}

fn default_out() -> PathBuf {
    PathBuf::from("hemotwin-out")
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec { dir: default_out() }
    }
}

/// The embedded demo: a 75% stenosis in a 4 mm artery at a Reynolds number of 50.
pub const DEMO_CASE: &str = include_str!("../meshes/demo_stenosis.toml");

impl Case {
    /// Parses a case from TOML text; `origin` names the source in error messages.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Case> {
        let case: Case =
            toml::from_str(text).map_err(|e| Error::input(origin, format!("invalid case file: {e}")))?;
        case.validate()?;
        Ok(case)
    }

    /// Reads and parses a case file; relative surface paths are resolved against its folder.
    pub fn load(path: &Path) -> Result<Case> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut case = Case::from_toml(&text, path)?;
        if let (Some(s), Some(dir)) = (&case.geometry.surface, path.parent())
            && s.is_relative()
        {
            case.geometry.surface = Some(dir.join(s));
        }
        Ok(case)
    }

    /// Checks the ranges and combinations the TOML types cannot express.
    pub fn validate(&self) -> Result<()> {
        let positive = |field: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::parameter(field, format!("must be a positive number, got {v}")))
            }
        };
        positive("fluid.density", self.fluid.density)?;
        positive("fluid.viscosity", self.fluid.viscosity)?;
        positive("inflow.flow_rate", self.inflow.flow_rate)?;
        if let Some(r) = self.inflow.ramp
            && !(r.is_finite() && r >= 0.0)
        {
            return Err(Error::parameter("inflow.ramp", format!("must be >= 0 s, got {r}")));
        }
        match (self.lattice.dx, self.lattice.cells_across_inlet) {
            (Some(dx), None) => positive("lattice.dx", dx)?,
            (None, Some(n)) => {
                if !(n.is_finite() && n >= 4.0) {
                    return Err(Error::parameter(
                        "lattice.cells_across_inlet",
                        format!("must be at least 4 (16-32 resolves a vessel well), got {n}"),
                    ));
                }
            }
            _ => {
                return Err(Error::parameter(
                    "lattice",
                    "give exactly one of `dx` (m) or `cells_across_inlet` (e.g. cells_across_inlet = 24)",
                ));
            }
        }
        let steps =
            [self.lattice.tau, self.lattice.dt, self.lattice.mach].iter().filter(|v| v.is_some()).count();
        if steps > 1 {
            return Err(Error::parameter("lattice", "give at most one of `tau`, `dt` or `mach`"));
        }
        match (self.run.time, self.run.steps) {
            (Some(t), None) => positive("run.time", t)?,
            (None, Some(s)) if s > 0 => {}
            _ => return Err(Error::parameter("run", "give exactly one of `time` (s) or `steps` (> 0)")),
        }
        if !(self.run.steady_tolerance.is_finite() && self.run.steady_tolerance >= 0.0) {
            return Err(Error::parameter("run.steady_tolerance", "must be >= 0 (0 runs to the end)"));
        }
        if let Some(m) = self.run.max_memory_gib {
            positive("run.max_memory_gib", m)?;
        }
        if let Some(d) = self.geometry.flow_extensions {
            positive("geometry.flow_extensions", d)?;
            if self.geometry.generate.is_some() || !self.geometry.ports.is_empty() {
                return Err(Error::parameter(
                    "geometry.flow_extensions",
                    "applies to the open ends of a surface file given without ports; generated vessels have \
                     straight ends already (lengthen them instead)",
                ));
            }
        }
        match (&self.geometry.surface, &self.geometry.generate) {
            (Some(_), None) => {
                let inlets = self.geometry.ports.iter().filter(|p| p.role == PortRoleSpec::Inlet).count();
                let outlets = self.geometry.ports.len() - inlets;
                if !self.geometry.ports.is_empty() && (inlets != 1 || outlets == 0) {
                    return Err(Error::parameter(
                        "geometry.ports",
                        format!(
                            "give one inlet and at least one outlet port, found {inlets} inlets and {outlets} outlets \
                             (or no ports at all, for a surface with open ends to be capped automatically)"
                        ),
                    ));
                }
                for p in &self.geometry.ports {
                    positive(&format!("geometry.ports.{}.radius", p.name), p.radius)?;
                    let n = p.normal.iter().map(|v| v * v).sum::<f64>().sqrt();
                    if !(n.is_finite() && n > 0.0) || p.center.iter().any(|v| !v.is_finite()) {
                        return Err(Error::parameter(
                            format!("geometry.ports.{}", p.name),
                            "center must be finite and normal non-zero",
                        ));
                    }
                }
            }
            (None, Some(_)) => {}
            _ => {
                return Err(Error::parameter(
                    "geometry",
                    "give exactly one of `surface` (an STL file) or `generate` (a synthetic vessel)",
                ));
            }
        }
        Ok(())
    }
}
