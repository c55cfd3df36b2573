//! The `[geometry]` section of a case file: the surface file or the generated vessel, its units,
//! axis, flow extensions and ports.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the surface comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Direction of a generated vessel's axis (default +z): the vessel is rotated about the origin so
    /// that its +z axis points along it (e.g. [1, 2, 3] for a vessel along no lattice direction).
    pub axis: Option<[f64; 3]>,
    /// Straight flow extensions added at every open end of a surface file given without ports, in
    /// diameters of that end (default [`DEFAULT_FLOW_EXTENSIONS`]; 0 turns them off). They are wall
    /// for the flow and left out of the wall indices (`flow_extension` = 1 in wall.vtp).
    pub flow_extensions: Option<f64>,
    /// The ports of a surface file (generated vessels bring their own). Leave empty for a surface
    /// with open ends: each end is capped flat and becomes a port, the largest the inlet.
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    /// A point (in the surface's units) nearest the centre of the cap to use as the inlet, when the
    /// ports are found automatically: needed when the largest caps have equal radii.
    pub inlet: Option<[f64; 3]>,
    /// Offset of the lumen along its outward normal, in the geometry's units (negative narrows):
    /// the wall moves by it and every cap grows by it about its centre, e.g. the segmentation
    /// uncertainty of a study's `[uncertainty] lumen_offset`.
    pub offset: Option<f64>,
}

fn default_units() -> String {
    "mm".into()
}

/// A synthetic vessel along +z from z = 0, in the geometry's units.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// A Y bifurcation: parent along +z, daughters symmetric about it in the x–z plane.
    Bifurcation {
        /// Parent radius.
        radius: f64,
        /// Parent length up to the junction.
        length: f64,
        /// Daughter radii; default from Murray's law for a symmetric split, r0 / 2^(1/3) each; a
        /// single value gives the other daughter by Murray's law.
        #[serde(default)]
        daughter_radii: Vec<f64>,
        /// Total angle between the daughters (degrees).
        #[serde(default = "default_bifurcation_angle")]
        angle_degrees: f64,
        /// Length of each daughter from the junction.
        daughter_length: f64,
    },
    /// A straight tube with a spherical sidewall aneurysm on its +x side.
    Aneurysm {
        /// Tube radius.
        radius: f64,
        /// Tube length.
        length: f64,
        /// Aneurysm sphere radius.
        sphere_radius: f64,
        /// Neck width.
        neck: f64,
        /// Axial position of the aneurysm's centre.
        center: f64,
    },
}

fn default_bifurcation_angle() -> f64 {
    60.0
}

/// A port of a surface file: a flat cap, given in the geometry's units.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortRoleSpec {
    /// Prescribed inflow.
    Inlet,
    /// Zero pressure outflow.
    Outlet,
}

/// Length of the flow extensions of a surface file's open ends when the case gives none, in
/// diameters of each end: the prescribed inlet profile meets a straight circular pipe, and flow
/// leaving an outlet is carried clear of the vessel before the outlet condition.
pub const DEFAULT_FLOW_EXTENSIONS: f64 = 2.0;
