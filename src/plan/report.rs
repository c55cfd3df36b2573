//! The plan's report: report.html (the figures per scenario with their changes, and the plots) and
//! view.py (ParaView, the scenarios side by side), from the scenarios' results in memory.

use super::PlanResult;
use super::metrics::vertex_areas;
use crate::error::Result;
use crate::report::{Metric, PlanReport, ScenarioData, write_report_html, write_view_py};
use std::path::PathBuf;

/// Writes `OUT/report.html` and `OUT/view.py` for `result` (the plan titled `title`, its case
/// described by `case_lines`); returns their paths.
pub fn write_report(result: &PlanResult, title: &str, case_lines: Vec<String>) -> Result<Vec<PathBuf>> {
    let branch = result.branch;
    let scenarios: Vec<ScenarioData> = result
        .scenarios
        .iter()
        .map(|s| {
            let flow = &s.run.flow;
            let half = 0.5 * flow.units.dx_m;
            let origin = result.origin;
            let radius_along = flow
                .lines
                .iter()
                .filter(|l| l.outlet == branch)
                .flat_map(|l| l.abscissa.iter().zip(&l.radius).map(|(a, r)| [a - origin, r + half]))
                .collect();
            let pressure_along = flow
                .pd_pa_along
                .iter()
                .filter(|p| p.outlet == branch)
                .map(|p| [p.abscissa_m - origin, p.ratio * p.aortic_pressure_pa, p.ratio])
                .collect();
            // The flow through each outlet over the averaging window.
            let end = flow.series.last().map_or(0.0, |x| x.time);
            let start = end - s.run.summary.averaged_over_s - 0.5 * flow.units.dt_s;
            let outlet_flows = s
                .run
                .summary
                .ports
                .iter()
                .enumerate()
                .filter(|(_, p)| p.role == "outlet")
                .map(|(k, p)| {
                    let series = flow
                        .series
                        .iter()
                        .filter(|x| x.time >= start)
                        .map(|x| [x.time, x.measures[k].flow_m3_s]);
                    (p.name.clone(), series.collect())
                })
                .collect();
            let areas = vertex_areas(flow);
            let tawss = areas
                .iter()
                .zip(&flow.wall.tawss_pa)
                .filter(|(a, _)| **a > 0.0)
                .map(|(a, t)| [f64::from(*t), *a])
                .collect();
            ScenarioData {
                name: s.name.clone(),
                dir: s.name.clone(),
                radius_along,
                pressure_along,
                outlet_flows,
                tawss,
            }
        })
        .collect();
    let rows: Vec<_> = result.scenarios.iter().map(|s| s.metrics.rows()).collect();
    let metrics = rows[0]
        .iter()
        .enumerate()
        .map(|(i, (name, unit, _, pressure))| Metric {
            name: name.to_string(),
            unit: unit.to_string(),
            values: rows.iter().map(|r| r[i].2).collect(),
            mmhg: *pressure,
        })
        .collect();
    let mut warnings = Vec::new();
    for s in &result.scenarios {
        let summary = &s.run.summary;
        if summary.status != "complete" {
            warnings.push(format!(
                "{}: results {} ({})",
                s.name,
                summary.status,
                summary.status_reasons.join("; ")
            ));
        }
        for w in &summary.warnings {
            let line = format!("{}: {w}", s.name);
            if !warnings.contains(&line) {
                warnings.push(line);
            }
        }
    }
    let mut case_lines = case_lines;
    for s in &result.scenarios {
        let edits = if s.edit_lines.is_empty() { "no edits".to_string() } else { s.edit_lines.join("; ") };
        case_lines.push(format!(
            "scenario {}: {edits}; lattice {}",
            s.name,
            s.run.summary.lattice.describe()
        ));
    }
    let report = PlanReport { title: title.to_string(), case_lines, scenarios, metrics, warnings };
    let html = result.out_dir.join("report.html");
    write_report_html(&html, &report)?;
    let view = result.out_dir.join("view.py");
    let dirs: Vec<(String, String)> =
        result.scenarios.iter().map(|s| (s.name.clone(), s.name.clone())).collect();
    write_view_py(&view, &dirs)?;
    Ok(vec![html, view])
}
