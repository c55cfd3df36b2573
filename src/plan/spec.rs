//! The plan file (TOML): a case, the branch the edits follow, the lesion every scenario shares
//! and the treated scenarios. Lengths in the plan are in mm (the `_mm` fields), as a clinician
//! reads them; everything the library computes is SI.

use crate::case::Case;
use crate::error::{Error, Result};
use crate::geometry::edit::{Edit, Place};
use nalgebra::{Point3, Vector3};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The case of a plan: a case file (relative to the plan file) or the case's tables inline.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CaseRef {
    /// A case file.
    File(PathBuf),
    /// The case's tables (`[case.geometry]`, `[case.fluid]`, ...).
    Inline(toml::Table),
}

/// One lumen edit of a plan file (`[[edit]]` or `[[scenario.edit]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum EditSpec {
    /// A virtual stenosis.
    Stenosis {
        /// Centre as the abscissa along the branch (mm from the inlet).
        at_mm: Option<f64>,
        /// Centre as the branch point nearest this point (mm, the vessel's coordinates).
        near_mm: Option<[f64; 3]>,
        /// Length (mm).
        length_mm: f64,
        /// Area reduction (percent of the local lumen area).
        area_reduction_percent: f64,
        /// 0 axisymmetric, 1 all the narrowing from one side.
        #[serde(default)]
        eccentricity: f64,
        /// The side the narrowing comes from (a direction; default: any fixed normal of the branch).
        direction: Option<[f64; 3]>,
    },
    /// A stent: the lumen restored over [from_mm, to_mm] along the branch.
    Stent {
        /// Proximal end (mm from the inlet along the branch).
        from_mm: f64,
        /// Distal end (mm from the inlet along the branch).
        to_mm: f64,
        /// Nominal stent diameter (mm); default: the healthy radius interpolated between the
        /// segment's ends.
        diameter_mm: Option<f64>,
        /// Oversizing (percent of the diameter).
        #[serde(default)]
        oversize_percent: f64,
    },
}

/// A treated scenario: a name and the edits it adds to the plan's lesion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// Name (also its output folder).
    pub name: String,
    /// Its edits, applied after the plan's `[[edit]]`s.
    #[serde(default)]
    pub edit: Vec<EditSpec>,
}

/// A plan file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// The case: its geometry, fluid, inflow, outlets, lattice and run.
    pub case: CaseRef,
    /// Name of the outlet port whose centreline path from the inlet the edits follow.
    pub branch: String,
    /// The lesion: edits of every scenario, the baseline included (e.g. a virtual stenosis).
    #[serde(default)]
    pub edit: Vec<EditSpec>,
    /// The treated scenarios.
    #[serde(default)]
    pub scenario: Vec<ScenarioSpec>,
    /// Output folder (default: the case's output.dir).
    pub out: Option<PathBuf>,
    /// TAWSS above which the wall counts as highly sheared (Pa).
    #[serde(default = "default_high_tawss")]
    pub high_tawss_pa: f64,
    /// Effective Young's modulus (Pa) of the wall's innermost layer under a stent, when the case
    /// has a `[wall]` (a homogenised stent-tissue layer); default 20 times the wall's.
    pub stent_wall_modulus_pa: Option<f64>,
}

/// A stented wall layer is this many times stiffer than the wall unless the plan says otherwise
/// (`stent_wall_modulus_pa`).
pub const STENT_WALL_STIFFENING: f64 = 20.0;

fn default_high_tawss() -> f64 {
    10.0
}

/// A plan ready to run: the case, the branch, the baseline's edits and each scenario's.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The case every scenario runs.
    pub case: Case,
    /// The outlet port name the edits follow.
    pub branch: String,
    /// Scenarios: (name, edits, the edits' plan lines); the first is the baseline.
    pub scenarios: Vec<(String, Vec<Edit>, Vec<String>)>,
    /// Output folder.
    pub out_dir: PathBuf,
    /// High-TAWSS threshold (Pa).
    pub high_tawss_pa: f64,
    /// Effective Young's modulus (Pa) of the stented innermost wall layer (with a `[wall]`).
    pub stent_wall_modulus_pa: Option<f64>,
}

impl Plan {
    /// Reads a plan file; a relative case path is resolved against its folder.
    pub fn load(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Plan::from_toml(&text, path, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parses plan text; `origin` names it in errors, `base` resolves a relative case path.
    pub fn from_toml(text: &str, origin: &Path, base: &Path) -> Result<Plan> {
        let spec: PlanSpec =
            toml::from_str(text).map_err(|e| Error::input(origin, format!("invalid plan file: {e}")))?;
        let case = match &spec.case {
            CaseRef::File(p) => Case::load(&base.join(p))?,
            CaseRef::Inline(table) => {
                let text = toml::to_string(table).map_err(|e| Error::input(origin, format!("case: {e}")))?;
                Case::from_toml(&text, origin)?
            }
        };
        let above_low = spec.high_tawss_pa > crate::hemo::LOW_TAWSS_PA; // false for NaN too
        if !above_low {
            return Err(Error::parameter(
                "high_tawss_pa",
                format!("must exceed the low-shear threshold {} Pa", crate::hemo::LOW_TAWSS_PA),
            ));
        }
        if let Some(e) = spec.stent_wall_modulus_pa
            && !(e.is_finite() && e > 0.0)
        {
            return Err(Error::parameter(
                "stent_wall_modulus_pa",
                format!("must be a positive Young's modulus in Pa, got {e}"),
            ));
        }
        let lesion = edits(&spec.edit, "edit")?;
        let lesion_lines = describe(&spec.edit);
        let mut scenarios = vec![("baseline".to_string(), lesion.clone(), lesion_lines.clone())];
        for (k, s) in spec.scenario.iter().enumerate() {
            let name = s.name.trim();
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid || scenarios.iter().any(|(n, _, _)| n == name) {
                return Err(Error::parameter(
                    format!("scenario[{k}].name"),
                    format!(
                        "{name:?}: give each scenario its own name of letters, digits, - and _ (it names its output \
                         folder; \"baseline\" is taken)"
                    ),
                ));
            }
            let mut all = lesion.clone();
            all.extend(edits(&s.edit, &format!("scenario[{k}].edit"))?);
            let mut lines = lesion_lines.clone();
            lines.extend(describe(&s.edit));
            scenarios.push((name.to_string(), all, lines));
        }
        Ok(Plan {
            out_dir: spec.out.clone().map(|o| base.join(o)).unwrap_or_else(|| case.output.dir.clone()),
            case,
            branch: spec.branch,
            scenarios,
            high_tawss_pa: spec.high_tawss_pa,
            stent_wall_modulus_pa: spec.stent_wall_modulus_pa,
        })
    }
}

/// The library edits of `specs` (mm to m), checked; `field` names them in errors.
fn edits(specs: &[EditSpec], field: &str) -> Result<Vec<Edit>> {
    let mm = 1e-3;
    specs
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let at = |what: &str| format!("{field}[{k}].{what}");
            Ok(match e {
                EditSpec::Stenosis {
                    at_mm,
                    near_mm,
                    length_mm,
                    area_reduction_percent,
                    eccentricity,
                    direction,
                } => {
                    let place = match (at_mm, near_mm) {
                        (Some(a), None) => Place::Abscissa(a * mm),
                        (None, Some(p)) => Place::Near(Point3::from(p.map(|c| c * mm))),
                        _ => {
                            return Err(Error::parameter(
                                at("at_mm"),
                                "give exactly one of at_mm and near_mm",
                            ));
                        }
                    };
                    Edit::Stenosis {
                        at: place,
                        length: length_mm * mm,
                        area_reduction: area_reduction_percent / 100.0,
                        eccentricity: *eccentricity,
                        direction: direction.map(Vector3::from),
                    }
                }
                EditSpec::Stent { from_mm, to_mm, diameter_mm, oversize_percent } => Edit::Stent {
                    from: Place::Abscissa(from_mm * mm),
                    to: Place::Abscissa(to_mm * mm),
                    diameter: diameter_mm.map(|d| d * mm),
                    oversize: oversize_percent / 100.0,
                },
            })
        })
        .collect()
}

/// One line per edit, as the report shows them.
fn describe(specs: &[EditSpec]) -> Vec<String> {
    specs
        .iter()
        .map(|e| match e {
            EditSpec::Stenosis { at_mm, near_mm, length_mm, area_reduction_percent, eccentricity, .. } => format!(
                "stenosis: {area_reduction_percent}% area over {length_mm} mm at {}, eccentricity {eccentricity}",
                match (at_mm, near_mm) {
                    (Some(a), _) => format!("{a} mm along the branch"),
                    (_, Some(p)) => format!("the branch point nearest ({}, {}, {}) mm", p[0], p[1], p[2]),
                    _ => String::new(),
                }
            ),
            EditSpec::Stent { from_mm, to_mm, diameter_mm, oversize_percent } => format!(
                "stent: {from_mm} to {to_mm} mm along the branch, {}, oversize {oversize_percent}%",
                diameter_mm.map_or("healthy reference diameter".to_string(), |d| format!("{d} mm diameter"))
            ),
        })
        .collect()
}
