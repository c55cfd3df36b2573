//! The study's report.html: runs by status, the uncertainty bands, and each key figure plotted
//! against each parameter (inline SVG, no network, no JavaScript).

use super::Study;
use super::table::StudyTable;
use crate::atomic::write_bytes_atomic;
use crate::error::{Error, Result};
use crate::report::{STYLE, format_number, padded_range};
use plotters::prelude::*;
use quick_xml::escape::escape;
use std::fmt::Write;
use std::path::Path;

/// The figures plotted against each parameter: a case run's column, or a plan run's scenario
/// figure (`<scenario>.<figure>`), with its axis label.
const PLOTTED: [(&str, &str); 7] = [
    ("pressure_drop_pa", "pressure drop inlet to outlet (Pa)"),
    ("pd_pa_min", "lowest Pd/Pa along the centrelines"),
    ("tawss_mean_pa", "area-weighted mean TAWSS (Pa)"),
    ("low_tawss_area_fraction", "wall area fraction with low TAWSS"),
    ("translesional_drop_pa", "translesional pressure drop (Pa)"),
    ("pd_pa_distal", "Pd/Pa distal to the lesion"),
    ("segment.tawss_mean_pa", "mean TAWSS over the lesion (Pa)"),
];

/// The columns of `table` to plot, with their axis labels.
fn plotted(table: &StudyTable) -> Vec<(String, String)> {
    let mut chosen = Vec::new();
    for (key, label) in PLOTTED {
        for m in &table.metrics {
            match m.split_once('.') {
                _ if m == key => chosen.push((m.clone(), label.to_string())),
                Some((scenario, rest)) if rest == key => {
                    chosen.push((m.clone(), format!("{scenario}: {label}")))
                }
                _ => {}
            }
        }
    }
    chosen
}

/// Size of one scatter plot, px.
const PLOT: (u32, u32) = (360, 270);

/// Writes report.html for `table` of `study` to `path`, atomically.
pub fn write_study_report(path: &Path, study: &Study, table: &StudyTable) -> Result<()> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| {
        Error::io(path, std::io::Error::other(format!("drawing the plots: {e}")))
    };
    let mut page = String::new();
    let title = escape(&study.path.display().to_string()).to_string();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Study {title}</title>\
         <style>{STYLE}</style></head><body><h1>Study {title}</h1><p class=\"meta\">hemotwin {}; {} runs: {}</p>",
        env!("CARGO_PKG_VERSION"),
        table.rows.len(),
        table.counts().iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
    );
    let unsound: Vec<_> = table.rows.iter().filter(|r| r.status != "complete").collect();
    if !unsound.is_empty() {
        page.push_str("<div class=\"warnings\"><h2>Runs not complete</h2><ul>");
        for r in unsound {
            let _ = write!(page, "<li>run {} ({}): {}</li>", r.index, r.status, escape(r.reason.as_str()));
        }
        page.push_str("</ul></div>");
    }
    if !table.bands.is_empty() {
        page.push_str(
            "<h2>Uncertainty</h2><p>Over the samples that completed (run 0 is the nominal case): mean, 5-95% band, \
             and each input's Spearman rank correlation with the output and share of the variance (rho<sup>2</sup> \
             over their sum).</p><table><tr><th>output</th><th>nominal</th><th>mean</th><th>5%</th><th>95%</th>\
             <th>samples</th>",
        );
        for p in &table.parameters {
            let _ = write!(page, "<th>{} (rho, share)</th>", escape(p.as_str()));
        }
        page.push_str("</tr>");
        for b in &table.bands {
            let _ = write!(page, "<tr><td>{}</td>", escape(b.output.as_str()));
            for v in [b.nominal, b.mean, b.p5, b.p95] {
                let _ = write!(page, "<td class=\"num\">{}</td>", format_number(v));
            }
            let _ = write!(page, "<td class=\"num\">{}</td>", b.samples);
            for (_, rho, share) in &b.inputs {
                let _ =
                    write!(page, "<td class=\"num\">{}, {}</td>", format_number(*rho), format_number(*share));
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>");
    }
    let plotted = plotted(table);
    page.push_str("<h2>Figures against each parameter</h2><div class=\"figures\">");
    for (k, parameter) in table.parameters.iter().enumerate() {
        let categories = study.parameters[k].values.as_ref().filter(|v| v.iter().any(|x| x.is_str()));
        let x: Vec<f64> = table
            .rows
            .iter()
            .map(|r| match categories {
                Some(list) => list
                    .iter()
                    .position(|v| super::table_cell(v) == r.values[k])
                    .map_or(f64::NAN, |i| i as f64),
                None => r.values[k].parse().unwrap_or(f64::NAN),
            })
            .collect();
        let x_desc = match categories {
            Some(list) => format!(
                "{parameter} ({})",
                list.iter()
                    .enumerate()
                    .map(|(i, v)| format!("{i}: {}", super::table_cell(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => parameter.clone(),
        };
        for (metric, y_desc) in &plotted {
            let Some(y) = table.column(metric) else { continue };
            if let Some(svg) = scatter(&x, &y, &x_desc, y_desc).map_err(fail)? {
                let _ = write!(
                    page,
                    "<figure class=\"small\"><figcaption>{} against {}</figcaption>{svg}</figure>",
                    escape(y_desc.as_str()),
                    escape(x_desc.as_str())
                );
            }
        }
    }
    page.push_str("</div><h2>Runs</h2><table><tr><th>run</th><th>status</th>");
    for p in &table.parameters {
        let _ = write!(page, "<th>{}</th>", escape(p.as_str()));
    }
    for (metric, _) in &plotted {
        let _ = write!(page, "<th>{}</th>", escape(metric.as_str()));
    }
    page.push_str("</tr>");
    for r in &table.rows {
        let _ = write!(page, "<tr><td>{}</td><td>{}</td>", escape(r.name.as_str()), r.status);
        for v in &r.values {
            let _ = write!(page, "<td>{}</td>", escape(v.as_str()));
        }
        for (metric, _) in &plotted {
            let v = table.metrics.iter().position(|m| m == metric).map_or(f64::NAN, |i| r.metrics[i]);
            let _ = write!(page, "<td class=\"num\">{}</td>", format_number(v));
        }
        page.push_str("</tr>");
    }
    page.push_str(
        "</table><p class=\"meta\">study.csv holds every figure of every run; each run's folder its \
                   summary.json, case.toml and fields for ParaView.</p></body></html>\n",
    );
    write_bytes_atomic(path, page.as_bytes())
}

/// A scatter plot of the finite (x, y) pairs as SVG; `None` when there are none.
fn scatter(
    x: &[f64],
    y: &[f64],
    x_desc: &str,
    y_desc: &str,
) -> std::result::Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let points: Vec<(f64, f64)> =
        x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).collect();
    let (Some(xr), Some(yr)) =
        (padded_range(points.iter().map(|p| p.0)), padded_range(points.iter().map(|p| p.1)))
    else {
        return Ok(None);
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(xr, yr)?;
        chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).x_labels(5).y_labels(5).draw()?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, RGBColor(31, 119, 180).filled())))?;
        root.present()?;
    }
    Ok(Some(svg))
}
