//! The planner's output for a surgeon: baseline against treated scenarios of one vessel as a
//! self-contained `report.html` (metrics table and inline SVG plots, no network, no JavaScript) and
//! a ParaView script `view.py` that opens the scenarios side by side.
//!
//! The module takes plain data ([`PlanReport`]), filled by the planner from its runs, and knows
//! nothing of how the numbers were made. Quantities are SI in the data; the report shows lengths
//! in mm, flows in mL/s and pressures in mmHg beside Pa.
//!
//! ```
//! use hemotwin::report::{Metric, PlanReport, ScenarioData, write_report_html};
//!
//! let scenario = |name: &str, drop_pa: f64| ScenarioData {
//!     name: name.into(),
//!     dir: name.into(),
//!     radius_along: vec![[0.0, 3e-3], [0.02, 1.6e-3], [0.04, 3e-3]],
//!     pressure_along: vec![[0.0, 13_000.0, 1.0], [0.04, 13_000.0 - drop_pa, 1.0 - drop_pa / 13_000.0]],
//!     ..Default::default()
//! };
//! let report = PlanReport {
//!     title: "plan.toml".into(),
//!     scenarios: vec![scenario("baseline", 2_000.0), scenario("stent", 150.0)],
//!     metrics: vec![Metric {
//!         name: "translesional pressure drop, cycle mean".into(),
//!         unit: "Pa".into(),
//!         values: vec![2_000.0, 150.0],
//!         mmhg: true,
//!     }],
//!     ..Default::default()
//! };
//! let dir = tempfile::tempdir()?;
//! write_report_html(&dir.path().join("report.html"), &report)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod html;
mod plots;
mod view;

pub(crate) use html::STYLE;
pub use html::write_report_html;
pub(crate) use plots::padded_range;
pub use view::write_view_py;

use serde::Serialize;

/// Everything report.html shows: the case, one entry per scenario, the metrics and the warnings.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PlanReport {
    /// Heading of the report, e.g. the plan file's name.
    pub title: String,
    /// The case and each edit, one human-readable line each.
    pub case_lines: Vec<String>,
    /// The scenarios in table-column order; `[0]` is the baseline the others are compared with.
    pub scenarios: Vec<ScenarioData>,
    /// Rows of the metrics table.
    pub metrics: Vec<Metric>,
    /// What the reader must know before trusting the numbers (resolution, Mach, convergence,
    /// invalid status...), shown first.
    pub warnings: Vec<String>,
}

/// The curves of one scenario (SI units); an empty curve is left out of its plot.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ScenarioData {
    /// Name shown in legends and table headers, e.g. `baseline` or `stent`.
    pub name: String,
    /// The scenario's output folder relative to the report's folder (holds wall.vtp, fluid.pvd).
    pub dir: String,
    /// Along the treated branch: (abscissa from the inlet, m; lumen radius, m).
    pub radius_along: Vec<[f64; 2]>,
    /// Along the centreline: (abscissa from the inlet, m; pressure, Pa; Pd/Pa, dimensionless).
    pub pressure_along: Vec<[f64; 3]>,
    /// Per outlet: (outlet name, (time, s; flow out, m^3/s) over the last cycle).
    pub outlet_flows: Vec<(String, Vec<[f64; 2]>)>,
    /// Per wall vertex: (time-averaged wall shear stress, Pa; area the vertex stands for, m^2).
    pub tawss: Vec<[f64; 2]>,
}

/// One row of the metrics table.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metric {
    /// What is measured, e.g. `Pd/Pa distal to the lesion`.
    pub name: String,
    /// Unit of `values` as shown, e.g. `Pa`, `mL/s`, `%` (empty when dimensionless).
    pub unit: String,
    /// One value per scenario, in the order of [`PlanReport::scenarios`]; NaN when not measured.
    pub values: Vec<f64>,
    /// True when `values` are pressures in Pa: the table also shows them in mmHg.
    pub mmhg: bool,
}

/// `value` as the report prints it: four significant digits, plain decimals from 1e-3 to 1e6 and
/// scientific notation outside (`1.234e-7`), `n/a` when not finite.
pub fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    if value == 0.0 {
        return "0".into();
    }
    let exponent = value.abs().log10().floor();
    if (-3.0..6.0).contains(&exponent) {
        let decimals = (3.0 - exponent).max(0.0) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.3e}")
    }
}
