//! report.html: one self-contained, well-formed (XHTML-compatible) page: warnings, the case, the
//! metrics table with the changes against the baseline, and the plots as inline SVG.

use super::plots::{self, Figure};
use super::{Metric, PlanReport, format_number};
use crate::atomic::write_bytes_atomic;
use crate::error::{Error, Result};
use crate::units::PA_PER_MMHG;
use quick_xml::escape::escape;
use std::fmt::Write;
use std::path::Path;

/// The page's style sheet: readable on screen and on paper, warnings impossible to miss.
pub(crate) const STYLE: &str = "
body { font-family: system-ui, sans-serif; color: #222; max-width: 1120px; margin: 1.5em auto;
       padding: 0 1em; }
h1 { margin-bottom: 0.2em; }
.meta { color: #666; margin-top: 0; }
.warnings { border: 3px solid #b00020; background: #fdecea; padding: 0.6em 1.2em; margin: 1em 0; }
.warnings h2 { color: #b00020; margin: 0.2em 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; vertical-align: top; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mmhg { display: block; color: #555; font-size: 0.9em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
.figures { display: flex; flex-wrap: wrap; gap: 0 10px; }
figure { margin: 0 0 1.2em; flex: 1 1 100%; break-inside: avoid; }
figure.small { flex: 1 1 360px; }
figcaption { color: #444; font-size: 0.9em; margin-bottom: 0.3em; }
figure svg { max-width: 100%; height: auto; }
.empty { color: #888; font-style: italic; }
";

/// Writes `report` to `path` as one self-contained HTML page (no network, no JavaScript; plots as
/// inline SVG), atomically. Fails when there is no scenario or a metric lacks a value per scenario.
pub fn write_report_html(path: &Path, report: &PlanReport) -> Result<()> {
    check(report)?;
    let figures = plots::figures(report)
        .map_err(|e| Error::io(path, std::io::Error::other(format!("drawing the plots: {e}"))))?;
    write_bytes_atomic(path, page(report, &figures).as_bytes())
}

/// Checks that `report` has a baseline and one value per scenario in every metric.
fn check(report: &PlanReport) -> Result<()> {
    if report.scenarios.is_empty() {
        return Err(Error::parameter(
            "report.scenarios",
            "is empty; give the baseline first, then the treated scenarios",
        ));
    }
    for m in &report.metrics {
        if m.values.len() != report.scenarios.len() {
            return Err(Error::parameter(
                format!("report.metrics[{}]", m.name),
                format!(
                    "has {} values for {} scenarios; give one per scenario (NaN where not measured)",
                    m.values.len(),
                    report.scenarios.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The whole page. Every piece of user text goes through `escape`; `write!` into a String cannot
/// fail, so its results are ignored.
fn page(report: &PlanReport, figures: &[Figure]) -> String {
    let title = escape(report.title.as_str());
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{title}: treatment plan</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p class=\"meta\">Treatment plan by hemotwin {}: {} against the baseline \
         &#8220;{}&#8221;.</p>\n",
        env!("CARGO_PKG_VERSION"),
        match report.scenarios.len() - 1 {
            1 => "1 treated scenario".to_string(),
            n => format!("{n} treated scenarios"),
        },
        escape(report.scenarios[0].name.as_str()),
    );
    if !report.warnings.is_empty() {
        let _ = write!(
            html,
            "<section class=\"warnings\">\n<h2>&#9888; Warnings: read before trusting the numbers</h2>\n{}\
             </section>\n",
            list(&report.warnings)
        );
    }
    if !report.case_lines.is_empty() {
        let _ = write!(html, "<h2>Case and edits</h2>\n{}", list(&report.case_lines));
    }
    let _ = write!(html, "<h2>Metrics</h2>\n{}", table(report));
    html.push_str("<h2>Plots</h2>\n<div class=\"figures\">\n");
    for f in figures {
        let class = if f.small { " class=\"small\"" } else { "" };
        let body = match &f.svg {
            Some(svg) => svg.as_str(),
            None => "<p class=\"empty\">No scenario has data for this plot.</p>",
        };
        let _ = write!(
            html,
            "<figure{class}>\n<h3>{}</h3>\n<figcaption>{}</figcaption>\n{body}\n</figure>\n",
            escape(f.title.as_str()),
            escape(f.note.as_str())
        );
    }
    html.push_str("</div>\n</body>\n</html>\n");
    html
}

/// `items` as an escaped `<ul>` list.
fn list(items: &[String]) -> String {
    let mut out = String::from("<ul>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", escape(item.as_str()));
    }
    out.push_str("</ul>\n");
    out
}

/// The metrics table: one column per scenario, then per treated scenario its change against the
/// baseline, absolute and in %. Pressures also show mmHg under the Pa value.
fn table(report: &PlanReport) -> String {
    let scenarios = &report.scenarios;
    let mut out = String::from("<table>\n<thead>\n<tr><th>Metric</th><th>Unit</th>");
    for (i, s) in scenarios.iter().enumerate() {
        let _ = write!(
            out,
            "<th><span class=\"swatch\" style=\"background: {}\"></span>{}</th>",
            plots::css_colour(i),
            escape(s.name.as_str())
        );
    }
    for s in &scenarios[1..] {
        let name = escape(s.name.as_str());
        let _ = write!(out, "<th>change, {name}</th><th>change, {name} (%)</th>");
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for m in &report.metrics {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td>", escape(m.name.as_str()), escape(m.unit.as_str()));
        for &v in &m.values {
            out.push_str(&cell(m, v, false));
        }
        let baseline = m.values[0];
        for &v in &m.values[1..] {
            let change = v - baseline;
            out.push_str(&cell(m, change, true));
            let percent = if baseline != 0.0 { 100.0 * change / baseline.abs() } else { f64::NAN };
            let percent = if percent.is_finite() { format!("{percent:+.1}") } else { "n/a".into() };
            let _ = write!(out, "<td class=\"num\">{percent}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// A number cell showing `value` (with its sign when `with_sign`); for a pressure metric (`value` in
/// Pa) also in mmHg below it.
fn cell(metric: &Metric, value: f64, with_sign: bool) -> String {
    let text = |v: f64| if with_sign { signed(v) } else { format_number(v) };
    if metric.mmhg && value.is_finite() {
        format!(
            "<td class=\"num\">{}<span class=\"mmhg\">{} mmHg</span></td>",
            text(value),
            text(value / PA_PER_MMHG)
        )
    } else {
        format!("<td class=\"num\">{}</td>", text(value))
    }
}

/// `value` as [`format_number`] prints it, with a `+` before a positive value.
fn signed(value: f64) -> String {
    let text = format_number(value);
    if value > 0.0 { format!("+{text}") } else { text }
}
