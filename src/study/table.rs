//! The study's table: one row per run from its summary.json (study.csv), the uncertainty bands and
//! each input's share of the variance (uncertainty.csv), and report.html.

use super::{RunState, Study};
use crate::atomic::write_bytes_atomic;
use crate::error::{Error, Result};
use serde_json::Value as Json;
use std::path::Path;
use toml::Value;

/// The figures of a case run in study.csv: column name and where it is in summary.json.
const METRICS: [(&str, &str); 18] = [
    ("pressure_drop_pa", "/pressure_drop_pa"),
    ("pd_pa_min", "/pd_pa_min/ratio"),
    ("pd_pa_at_point", "/pd_pa_at_point/ratio"),
    ("inflow_m3_s", "/inflow_m3_s"),
    ("outflow_m3_s", "/outflow_m3_s"),
    ("mass_conservation_error", "/mass_conservation_error"),
    ("tawss_mean_pa", "/wall/tawss_mean_pa"),
    ("tawss_p5_pa", "/wall/tawss_p5_pa"),
    ("tawss_p95_pa", "/wall/tawss_p95_pa"),
    ("tawss_max_pa", "/wall/tawss_max_pa"),
    ("osi_max", "/wall/osi_max"),
    ("low_tawss_area_fraction", "/wall/low_tawss_area_fraction"),
    ("reynolds_inlet", "/reynolds_inlet"),
    ("max_mach", "/max_mach"),
    ("fluid_cells", "/fluid_cells"),
    ("steps", "/steps"),
    ("mlups", "/mlups"),
    ("wall_time_s", "/wall_time_s"),
];

/// The per-outlet figures of study.csv: column pattern (`{}` the outlet's name) and the field of
/// the port's entry in summary.json.
const OUTLET_METRICS: [(&str, &str); 3] = [
    ("flow_{}_m3_s", "flow_m3_s"),
    ("pressure_drop_mean_{}_pa", "pressure_drop_mean_pa"),
    ("pressure_drop_peak_{}_pa", "pressure_drop_peak_pa"),
];

/// The outputs an uncertainty study puts bands on.
const BANDED: [&str; 4] = ["pd_pa_min", "pressure_drop_pa", "tawss_mean_pa", "low_tawss_area_fraction"];

/// One run's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Run index.
    pub index: usize,
    /// Its folder under `runs/`.
    pub name: String,
    /// complete, interrupted, diverged, invalid, failed or pending.
    pub status: String,
    /// Why it is not complete.
    pub reason: String,
    /// Its parameters' values as written in the table.
    pub values: Vec<String>,
    /// One figure per metric column (NaN where not measured).
    pub metrics: Vec<f64>,
}

/// An uncertainty band on one output over the samples that completed.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The output (a study.csv column).
    pub output: String,
    /// Its value in the nominal run (NaN when that run is not complete).
    pub nominal: f64,
    /// Mean over the samples.
    pub mean: f64,
    /// 5th percentile over the samples.
    pub p5: f64,
    /// 95th percentile over the samples.
    pub p95: f64,
    /// Samples that completed.
    pub samples: usize,
    /// Per input: (name, Spearman rank correlation with the output, share of the variance as
    /// rho^2 / sum of rho^2).
    pub inputs: Vec<(String, f64, f64)>,
}

/// Everything collected from a study's folders.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyTable {
    /// The parameters' column names.
    pub parameters: Vec<String>,
    /// The metric column names.
    pub metrics: Vec<String>,
    /// One row per run, by index.
    pub rows: Vec<Row>,
    /// The uncertainty bands (an uncertainty study; empty otherwise).
    pub bands: Vec<Band>,
}

impl StudyTable {
    /// The metric column `name` of every row.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.metrics.iter().position(|m| m == name)?;
        Some(self.rows.iter().map(|r| r.metrics[k]).collect())
    }

    /// Runs by status word, e.g. `[("complete", 3), ("failed", 1)]`.
    pub fn counts(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for r in &self.rows {
            match counts.iter_mut().find(|(s, _)| *s == r.status) {
                Some((_, n)) => *n += 1,
                None => counts.push((r.status.clone(), 1)),
            }
        }
        counts
    }
}

/// A parameter value as the table writes it.
pub(super) fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Float(f) if f.is_finite() => number(*f),
        other => other.to_string(),
    }
}

/// The figures of a case run's summary.json: [`METRICS`], then [`OUTLET_METRICS`] per outlet.
fn case_figures(summary: &Json) -> Vec<(String, f64)> {
    let number = |v: Option<&Json>| v.and_then(Json::as_f64).unwrap_or(f64::NAN);
    let mut figures: Vec<(String, f64)> =
        METRICS.iter().map(|(name, pointer)| (name.to_string(), number(summary.pointer(pointer)))).collect();
    for p in summary["ports"].as_array().into_iter().flatten().filter(|p| p["role"] == "outlet") {
        let name = p["name"].as_str().unwrap_or("?");
        figures.extend(
            OUTLET_METRICS.iter().map(|(pattern, field)| (pattern.replace("{}", name), number(p.get(field)))),
        );
    }
    figures
}

/// The figures of a plan run's plan.json: every scenario's metrics as `<scenario>.<metric>`
/// (nested ones joined by dots, e.g. `stent.segment.tawss_mean_pa`).
fn plan_figures(plan: &Json) -> Vec<(String, f64)> {
    fn flatten(prefix: &str, value: &Json, into: &mut Vec<(String, f64)>) {
        match value {
            Json::Object(map) => map.iter().for_each(|(k, v)| flatten(&format!("{prefix}.{k}"), v, into)),
            v => into.push((prefix.to_string(), v.as_f64().unwrap_or(f64::NAN))),
        }
    }
    let mut figures = Vec::new();
    for s in plan["scenarios"].as_array().into_iter().flatten() {
        flatten(s["name"].as_str().unwrap_or("?"), &s["metrics"], &mut figures);
    }
    figures
}

/// A figure as the tables write it: exact (it reads back to the same f64), in scientific notation
/// below 1e-3 and from 1e6; empty when not finite.
fn number(v: f64) -> String {
    match v {
        v if !v.is_finite() => String::new(),
        v if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:e}"),
        v => format!("{v}"),
    }
}

/// Reads every run's folder under `out` and writes study.csv, uncertainty.csv (an uncertainty
/// study) and report.html, atomically.
pub fn collect(study: &Study, out: &Path) -> Result<StudyTable> {
    // Each run's state and figures as (column, value), in the order they come, from its record read
    // once; the columns are the figures' union.
    let (states, figures): (Vec<RunState>, Vec<Vec<(String, f64)>>) = study
        .runs
        .iter()
        .map(|r| {
            let record = study.record(out, r);
            let figures = match (&r.job, &record) {
                (Ok(super::Job::Plan(_)), Some(plan)) => plan_figures(plan),
                (_, Some(summary)) => case_figures(summary),
                (_, None) => Vec::new(),
            };
            (study.state_from(out, r, record.as_ref()), figures)
        })
        .unzip();
    let mut metrics: Vec<String> = Vec::new();
    for (name, _) in figures.iter().flatten() {
        if !metrics.contains(name) {
            metrics.push(name.clone());
        }
    }
    let rows: Vec<Row> = study
        .runs
        .iter()
        .zip(states.iter().zip(&figures))
        .map(|(run, (state, figures))| Row {
            index: run.index,
            name: run.name.clone(),
            status: state.word().to_string(),
            reason: state.reason().to_string(),
            values: run.values.iter().map(cell).collect(),
            metrics: metrics
                .iter()
                .map(|m| figures.iter().find(|(n, _)| n == m).map_or(f64::NAN, |f| f.1))
                .collect(),
        })
        .collect();
    let parameters: Vec<String> = study.parameters.iter().map(|p| p.name.clone()).collect();
    let mut table = StudyTable { parameters, metrics, rows, bands: Vec::new() };
    if study.uncertainty {
        table.bands = bands(study, &table);
    }
    write_csv(&out.join("study.csv"), &table)?;
    if study.uncertainty {
        write_bands(&out.join("uncertainty.csv"), &table)?;
    }
    super::report::write_study_report(&out.join("report.html"), study, &table)?;
    Ok(table)
}

/// Writes the table as CSV: index, run, status, reason, the parameters, the metrics.
fn write_csv(path: &Path, table: &StudyTable) -> Result<()> {
    let mut header = vec!["index".to_string(), "run".into(), "status".into(), "reason".into()];
    header.extend(table.parameters.iter().cloned());
    header.extend(table.metrics.iter().cloned());
    let records = table.rows.iter().map(|r| {
        let mut record = vec![r.index.to_string(), r.name.clone(), r.status.clone(), r.reason.clone()];
        record.extend(r.values.iter().cloned());
        record.extend(r.metrics.iter().map(|v| number(*v)));
        record
    });
    write_records(path, header, records)
}

/// Writes `header` and `records` as CSV to `path`, atomically.
fn write_records(path: &Path, header: Vec<String>, records: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let fail = |e: csv::Error| Error::io(path, std::io::Error::other(e.to_string()));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(fail)?;
    for r in records {
        writer.write_record(&r).map_err(fail)?;
    }
    let bytes = writer.into_inner().map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    write_bytes_atomic(path, &bytes)
}

/// The bands of an uncertainty study: over the complete samples (runs 1..), each banded output's
/// mean, 5-95% range and each input's rank correlation and share of the variance.
fn bands(study: &Study, table: &StudyTable) -> Vec<Band> {
    let samples: Vec<&super::StudyRun> = study
        .runs
        .iter()
        .skip(1)
        .filter(|r| table.rows[r.index].status == RunState::Complete.word())
        .collect();
    // Each input as numbers: its value, or a categorical one's position in its list.
    let inputs: Vec<(String, Vec<f64>)> = study
        .parameters
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let x = samples
                .iter()
                .map(|r| match &r.values[k] {
                    Value::Float(f) => *f,
                    Value::Integer(i) => *i as f64,
                    v => p
                        .values
                        .as_ref()
                        .and_then(|l| l.iter().position(|x| x == v))
                        .map_or(f64::NAN, |i| i as f64),
                })
                .collect();
            (p.name.clone(), x)
        })
        .collect();
    BANDED
        .iter()
        .filter_map(|&output| {
            let column = table.column(output)?;
            let y: Vec<f64> = samples.iter().map(|r| column[r.index]).collect();
            let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
            let mut sorted = finite.clone();
            sorted.sort_by(f64::total_cmp);
            let rho: Vec<f64> = inputs.iter().map(|(_, x)| spearman(x, &y)).collect();
            let total: f64 = rho.iter().filter(|r| r.is_finite()).map(|r| r * r).sum();
            Some(Band {
                output: output.to_string(),
                nominal: column
                    .first()
                    .copied()
                    .filter(|_| table.rows[0].status == "complete")
                    .unwrap_or(f64::NAN),
                mean: finite.iter().sum::<f64>() / finite.len().max(1) as f64,
                p5: quantile(&sorted, 0.05),
                p95: quantile(&sorted, 0.95),
                samples: finite.len(),
                inputs: inputs
                    .iter()
                    .zip(&rho)
                    .map(|((name, _), &r)| {
                        (name.clone(), r, if total > 0.0 { r * r / total } else { f64::NAN })
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The `q` quantile of `sorted` values, linearly interpolated; NaN when empty.
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let at = q * (n - 1) as f64;
            let (i, t) = (at.floor() as usize, at - at.floor());
            sorted[i] + t * (sorted[(i + 1).min(n - 1)] - sorted[i])
        }
    }
}

/// Spearman's rank correlation of `x` and `y` over the pairs where both are finite (ties get their
/// mean rank); NaN when either is constant or fewer than 3 pairs.
pub(super) fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> =
        x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).collect();
    if pairs.len() < 3 {
        return f64::NAN;
    }
    let rx = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let ry = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    if vx == 0.0 || vy == 0.0 { f64::NAN } else { cov / (vx * vy).sqrt() }
}

/// The rank of each value (1-based), ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut rank = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            rank[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    rank
}

/// Writes the bands as CSV: output, nominal, mean, p5, p95, samples, then each input's rank
/// correlation and share of the variance.
fn write_bands(path: &Path, table: &StudyTable) -> Result<()> {
    let mut header: Vec<String> =
        ["output", "nominal", "mean", "p5", "p95", "samples"].iter().map(|s| s.to_string()).collect();
    for p in &table.parameters {
        header.push(format!("rank_correlation_{p}"));
        header.push(format!("variance_share_{p}"));
    }
    let records = table.bands.iter().map(|b| {
        let mut r = vec![b.output.clone(), number(b.nominal), number(b.mean), number(b.p5), number(b.p95)];
        r.push(b.samples.to_string());
        for (_, rho, share) in &b.inputs {
            r.push(number(*rho));
            r.push(number(*share));
        }
        r
    });
    write_records(path, header, records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_and_quantiles_match_hand_values() {
        // Monotone but not linear: rank correlation 1; reversed: -1; ties share ranks.
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 8.0, 27.0, 64.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        let sorted: Vec<f64> = (0..=100).map(f64::from).collect();
        assert!(
            (quantile(&sorted, 0.05) - 5.0).abs() < 1e-12 && (quantile(&sorted, 0.95) - 95.0).abs() < 1e-12
        );
        assert!((quantile(&[1.0, 2.0], 0.5) - 1.5).abs() < 1e-12);
    }
}
