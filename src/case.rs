//! The case file (TOML): geometry, fluid, inflow, lattice, run control and output, with validation.

use crate::error::{Error, Result};
/// The `[geometry]` section, defined with the geometry it describes.
pub use crate::geometry::spec::{
    DEFAULT_FLOW_EXTENSIONS, GenerateSpec, GeometrySpec, PortRoleSpec, PortSpec,
};
use crate::gpu::BackendChoice;
/// The inlet velocity profile (`inflow.profile`), defined with the inflow it shapes.
pub use crate::physiology::Profile;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A whole simulation case, as read from TOML. Every quantity is SI unless its field says otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Outlet models by port name (outlets not listed: zero pressure, or `windkessel`).
    #[serde(default)]
    pub outlets: Vec<crate::physiology::OutletSpec>,
    /// Windkessels for every outlet not listed in `outlets`, sized from physiological targets.
    pub windkessel: Option<WindkesselSpec>,
    /// Settings of the hemodynamic indices.
    #[serde(default)]
    pub indices: IndicesSpec,
}

/// Settings of the hemodynamic indices.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicesSpec {
    /// Mean aortic pressure Pa (Pa) for Pd/Pa when the outlets are fixed pressures (default 12400 Pa,
    /// 93 mmHg); outlet models set the pressure level themselves.
    #[serde(default = "default_aortic_pressure")]
    pub aortic_pressure: f64,
    /// A point (m, the surface's coordinates in metres) where Pd/Pa is reported: at the centerline
    /// point nearest to it.
    pub point: Option<[f64; 3]>,
}

impl Default for IndicesSpec {
    fn default() -> Self {
        IndicesSpec { aortic_pressure: default_aortic_pressure(), point: None }
    }
}

fn default_aortic_pressure() -> f64 {
    12400.0
}

/// Targets from which every unlisted outlet gets an RCR Windkessel (flow split by Murray's law).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindkesselSpec {
    /// Mean pressure at the outlets (Pa) at the mean inflow.
    pub mean_pressure: f64,
    /// Total compliance of the downstream vasculature (m^3/Pa), shared by the outlets' flow split.
    pub total_compliance: f64,
    /// Share of each outlet's resistance that is proximal (default 0.09).
    #[serde(default = "default_proximal_fraction")]
    pub proximal_fraction: f64,
}

fn default_proximal_fraction() -> f64 {
    0.09
}

/// Newtonian blood.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FluidSpec {
    /// Density (kg/m^3).
    pub density: f64,
    /// Dynamic viscosity (Pa s): the Newtonian one, and the reference that sets tau otherwise.
    pub viscosity: f64,
    /// Viscosity model.
    #[serde(default)]
    pub rheology: Rheology,
    /// Carreau-Yasuda zero-shear viscosity (Pa s; default Cho & Kensey's 0.056).
    #[serde(default = "default_mu_zero")]
    pub mu_zero: f64,
    /// Carreau-Yasuda infinite-shear viscosity (Pa s; default 0.00345).
    #[serde(default = "default_mu_inf")]
    pub mu_inf: f64,
    /// Carreau-Yasuda time constant (s; default 1.902).
    #[serde(default = "default_lambda")]
    pub lambda: f64,
    /// Carreau-Yasuda exponent a (default 1.25).
    #[serde(default = "default_power_a")]
    pub power_a: f64,
    /// Carreau-Yasuda power-law index n (default 0.22).
    #[serde(default = "default_power_n")]
    pub power_n: f64,
    /// Casson yield stress (Pa; default 0.004).
    #[serde(default = "default_yield_stress")]
    pub yield_stress: f64,
    /// Casson viscosity (Pa s; default 0.0035).
    #[serde(default = "default_casson_viscosity")]
    pub casson_viscosity: f64,
    /// Casson regularisation time m (s; default 100): the yield term fades below shear rates ~1/m.
    #[serde(default = "default_regularisation")]
    pub regularisation: f64,
    /// Smagorinsky LES (C_s = 0.17, filter width one spacing): true, false, or left out for on
    /// exactly when the lattice does not resolve the flow (tau below 0.501, regularized collision).
    pub les: Option<bool>,
    /// Largest local relaxation time tau (default 2); the local tau is kept in [0.501, tau_max].
    #[serde(default = "default_tau_max")]
    pub tau_max: f64,
}

/// Blood viscosity model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rheology {
    /// Constant viscosity.
    #[default]
    Newtonian,
    /// Shear-thinning Carreau-Yasuda.
    CarreauYasuda,
    /// Casson with a yield stress, regularised.
    Casson,
}

fn default_mu_zero() -> f64 {
    0.056
}
fn default_mu_inf() -> f64 {
    0.00345
}
fn default_lambda() -> f64 {
    1.902
}
fn default_power_a() -> f64 {
    1.25
}
fn default_power_n() -> f64 {
    0.22
}
fn default_yield_stress() -> f64 {
    0.004
}
fn default_casson_viscosity() -> f64 {
    0.0035
}
fn default_regularisation() -> f64 {
    100.0
}
fn default_tau_max() -> f64 {
    2.0
}

/// The inlet's flow: steady, or a periodic waveform.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InflowSpec {
    /// Mean volume flow rate (m^3/s); with a waveform, the waveform is scaled to this mean.
    pub flow_rate: Option<f64>,
    /// A periodic waveform: a built-in name (carotid, coronary, aortic) or a CSV file (see
    /// docs/physiology.md), relative to the case file.
    pub waveform: Option<String>,
    /// Cycle length of a CSV waveform (s) when the file does not close the cycle itself.
    pub period: Option<f64>,
    /// Fourier harmonics of a Womersley profile (default 20).
    pub harmonics: Option<usize>,
    /// Velocity profile across the inlet.
    #[serde(default)]
    pub profile: Profile,
    /// Duration of the smooth (half-cosine) start-up ramp (s); default: 1/10 of the run.
    pub ramp: Option<f64>,
}

/// Lattice resolution and time step; give exactly one of dx / cells_across_inlet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeSpec {
    /// Lattice spacing (m).
    pub dx: Option<f64>,
    /// Lattice cells across the inlet diameter, or "auto": enough to resolve the flow without LES
    /// (a cell Reynolds number of at most 30 at the peak velocity) within the memory budget
    /// (`run.max_memory_gib`) and the time budget (`run.max_wall_time_s`), else the most that fit.
    pub cells_across_inlet: Option<CellsAcross>,
    /// Relaxation time (lattice units).
    pub tau: Option<f64>,
    /// Time step (s).
    pub dt: Option<f64>,
    /// Mach number of the peak inlet velocity. When none of tau, dt and mach is given, the time step
    /// keeps the peak velocity expected anywhere in the vessel (e.g. a stenosis throat) at Mach 0.1.
    pub mach: Option<f64>,
    /// Wall treatment: "bouzidi" (interpolated, default) or "halfway" bounce-back.
    #[serde(default)]
    pub wall: WallModel,
    /// Collision: "regularized" (default, stable as tau -> 1/2) or "trt".
    #[serde(default)]
    pub collision: crate::stencil::Collision,
}

/// Cells across the inlet: a number, or chosen by the set-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CellsAcross {
    /// This many cells across the inlet diameter.
    Count(f64),
    /// Chosen by the set-up (`"auto"`).
    Auto(Auto),
}

/// The keyword `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auto {
    /// `"auto"`.
    Auto,
}

/// Wall boundary scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WallModel {
    /// Bouzidi interpolated bounce-back with the exact wall distance.
    #[default]
    Bouzidi,
    /// Halfway bounce-back (wall at q = 1/2).
    Halfway,
}

/// Run control.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Physical time to simulate (s); the run may stop earlier when steady.
    pub time: Option<f64>,
    /// Cardiac cycles to simulate instead of a time (needs inflow.waveform).
    pub cycles: Option<f64>,
    /// Number of steps instead of a time.
    pub steps: Option<u64>,
    /// Stop once the relative change of the velocity field per 1000 steps falls below this (0 = never).
    #[serde(default = "default_steady_tolerance")]
    pub steady_tolerance: f64,
    /// Pulsatile runs stop once the ports' cycle-mean pressures change by less than this fraction
    /// from one cycle to the next (0 = run every cycle).
    #[serde(default = "default_cycle_tolerance")]
    pub cycle_tolerance: f64,
    /// Steps between checkpoints (OUT/checkpoint.bin, for `hemotwin run --resume`); default: at
    /// every frame.
    pub checkpoint_steps: Option<u64>,
    /// Number of field frames written over the run (the last state is always written).
    #[serde(default = "default_frames")]
    pub frames: u32,
    /// Backend: auto, gpu or cpu.
    #[serde(default = "default_backend")]
    pub backend: BackendChoice,
    /// Memory the lattice may use (GiB); default: 80% of the available memory.
    pub max_memory_gib: Option<f64>,
    /// Wall-clock time (s) `cells_across_inlet = "auto"` plans the time loop to fit in (default
    /// one hour), at the throughput measured on this machine before the run.
    #[serde(default = "default_max_wall_time")]
    pub max_wall_time_s: f64,
}

fn default_max_wall_time() -> f64 {
    3600.0
}

fn default_steady_tolerance() -> f64 {
    1e-4
}
fn default_cycle_tolerance() -> f64 {
    0.01
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
            cycles: None,
            steps: None,
            steady_tolerance: default_steady_tolerance(),
            cycle_tolerance: default_cycle_tolerance(),
            checkpoint_steps: None,
            frames: default_frames(),
            backend: default_backend(),
            max_memory_gib: None,
            max_wall_time_s: default_max_wall_time(),
        }
    }
}

/// Output location.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Fewest cells across the inlet a case may ask for (`lattice.cells_across_inlet`).
pub const MIN_CELLS_ACROSS_INLET: f64 = 4.0;

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
        Case::from_toml_in(&text, path, path.parent().unwrap_or(Path::new(".")))
    }

    /// [`Case::from_toml`] with relative surface and waveform paths taken from `folder`.
    pub fn from_toml_in(text: &str, origin: &Path, folder: &Path) -> Result<Case> {
        let mut case = Case::from_toml(text, origin)?;
        if let Some(s) = &case.geometry.surface
            && s.is_relative()
        {
            case.geometry.surface = Some(folder.join(s));
        }
        if let Some(w) = &case.inflow.waveform
            && !crate::physiology::BUILTIN.contains(&w.as_str())
            && Path::new(w).is_relative()
        {
            case.inflow.waveform = Some(folder.join(w).display().to_string());
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
        positive("indices.aortic_pressure", self.indices.aortic_pressure)?;
        if let Some(coupling) = self.wall.as_ref().and_then(|w| w.coupling.as_ref()) {
            coupling.validate()?;
        }
        for (field, v) in [
            ("fluid.mu_zero", self.fluid.mu_zero),
            ("fluid.mu_inf", self.fluid.mu_inf),
            ("fluid.lambda", self.fluid.lambda),
            ("fluid.power_a", self.fluid.power_a),
            ("fluid.power_n", self.fluid.power_n),
            ("fluid.casson_viscosity", self.fluid.casson_viscosity),
            ("fluid.regularisation", self.fluid.regularisation),
        ] {
            positive(field, v)?;
        }
        if !(self.fluid.yield_stress.is_finite() && self.fluid.yield_stress >= 0.0) {
            return Err(Error::parameter("fluid.yield_stress", "must be >= 0 Pa"));
        }
        if !(self.fluid.tau_max.is_finite() && self.fluid.tau_max > crate::units::TAU_MIN) {
            return Err(Error::parameter(
                "fluid.tau_max",
                format!("must exceed {} (the stability limit of tau)", crate::units::TAU_MIN),
            ));
        }
        match (self.inflow.flow_rate, &self.inflow.waveform) {
            (Some(q), _) => positive("inflow.flow_rate", q)?,
            (None, Some(_)) => {}
            (None, None) => {
                return Err(Error::parameter(
                    "inflow",
                    "give `flow_rate` (m^3/s, steady or the mean of a waveform) or `waveform`",
                ));
            }
        }
        if self.run.cycles.is_some() && self.inflow.waveform.is_none() {
            return Err(Error::parameter(
                "run.cycles",
                "counts cycles of inflow.waveform; give one, or run.time",
            ));
        }
        if let Some(c) = self.run.cycles {
            positive("run.cycles", c)?;
        }
        if let Some(r) = self.inflow.ramp
            && !(r.is_finite() && r >= 0.0)
        {
            return Err(Error::parameter("inflow.ramp", format!("must be >= 0 s, got {r}")));
        }
        match (self.lattice.dx, self.lattice.cells_across_inlet) {
            (Some(dx), None) => positive("lattice.dx", dx)?,
            (None, Some(CellsAcross::Auto(_))) => {}
            (None, Some(CellsAcross::Count(n))) => {
                if !(n.is_finite() && n >= MIN_CELLS_ACROSS_INLET) {
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
        match (self.run.time, self.run.steps, self.run.cycles) {
            (Some(t), None, None) => positive("run.time", t)?,
            (None, Some(s), None) if s > 0 => {}
            (None, None, Some(_)) => {}
            _ => {
                return Err(Error::parameter(
                    "run",
                    "give exactly one of `time` (s), `steps` (> 0) or `cycles` (of inflow.waveform)",
                ));
            }
        }
        if !(self.run.steady_tolerance.is_finite() && self.run.steady_tolerance >= 0.0) {
            return Err(Error::parameter("run.steady_tolerance", "must be >= 0 (0 runs to the end)"));
        }
        positive("run.max_wall_time_s", self.run.max_wall_time_s)?;
        if let Some(m) = self.run.max_memory_gib {
            positive("run.max_memory_gib", m)?;
        }
        if let Some(d) = self.geometry.flow_extensions {
            if !(d.is_finite() && d >= 0.0) {
                return Err(Error::parameter(
                    "geometry.flow_extensions",
                    format!("must be a number of diameters >= 0 (0 turns them off), got {d}"),
                ));
            }
            if self.geometry.generate.is_some() || !self.geometry.ports.is_empty() {
                return Err(Error::parameter(
                    "geometry.flow_extensions",
                    "applies to the open ends of a surface file given without ports; generated vessels have \
                     straight ends already (lengthen them instead)",
                ));
            }
        }
        if let Some(a) = self.geometry.axis {
            let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
            if self.geometry.generate.is_none() || !(norm.is_finite() && norm > 0.0) {
                return Err(Error::parameter(
                    "geometry.axis",
                    "orients a generated vessel (`generate`) and must be a finite, non-zero direction",
                ));
            }
        }
        for (k, o) in self.outlets.iter().enumerate() {
            if let Some(j) = self.outlets[..k].iter().position(|e| e.port == o.port) {
                return Err(Error::parameter(
                    format!("outlets[{k}].port"),
                    format!(
                        "{:?} already has a model (outlets[{j}]); give each outlet port one [[outlets]] entry",
                        o.port
                    ),
                ));
            }
        }
        for (k, p) in self.geometry.ports.iter().enumerate() {
            if self.geometry.ports[..k].iter().any(|e| e.name == p.name) {
                return Err(Error::parameter(
                    format!("geometry.ports.{}", p.name),
                    "the name is given to two ports; give each port its own name",
                ));
            }
        }
        if self.geometry.inlet.is_some()
            && (!self.geometry.ports.is_empty() || self.geometry.generate.is_some())
        {
            return Err(Error::parameter(
                "geometry.inlet",
                "chooses the inlet among the caps found on a surface file without ports; with [[geometry.ports]] \
                 (or a generated vessel) the roles are given there",
            ));
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
