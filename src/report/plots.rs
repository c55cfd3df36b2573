//! The report's plots as SVG strings (plotters' SVG backend): lumen radius, pressure and Pd/Pa along
//! the centreline, outlet flow through the cycle, and area-weighted TAWSS histograms.

use super::{PlanReport, ScenarioData};
use crate::hemo::LOW_TAWSS_PA;
use crate::units::PA_PER_MMHG;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

/// Errors of the plotting backend (writing into a String, so in practice none).
pub(super) type PlotError = Box<dyn std::error::Error + Send + Sync>;

/// Size of a full-width plot, px.
const WIDE: (u32, u32) = (760, 360);
/// Size of one histogram (two sit side by side), px.
const SMALL: (u32, u32) = (375, 300);
/// Histogram bins between zero and the shared upper TAWSS bound.
const BINS: usize = 30;
/// Fraction of the wall area below the histograms' upper bound (the rest falls in the last bin).
const HISTOGRAM_AREA_COVERED: f64 = 0.99;
/// Pd/Pa below which a lesion is usually considered ischaemic (the FFR cut-off), dimensionless.
const PD_PA_CUT_OFF: f64 = 0.80;
/// Scenario colours: the baseline dark grey, then treated scenarios; repeats after six.
const PALETTE: [RGBColor; 6] = [
    RGBColor(70, 70, 70),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

/// The colour of scenario `index`.
fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The colour of scenario `index` as CSS (`#rrggbb`), for the table's swatches.
pub(super) fn css_colour(index: usize) -> String {
    let RGBColor(r, g, b) = colour(index);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// One plot of the report: a heading, a sentence on how to read it, and the SVG markup (`None`
/// when no scenario has data for it).
pub(super) struct Figure {
    /// Heading above the plot.
    pub title: String,
    /// How to read the plot (units, reference lines).
    pub note: String,
    /// The plot, `<svg ...>...</svg>`.
    pub svg: Option<String>,
    /// True for a half-width plot (histograms, two per row).
    pub small: bool,
}

/// Every plot of `report`, in reading order.
pub(super) fn figures(report: &PlanReport) -> Result<Vec<Figure>, PlotError> {
    let scenarios = &report.scenarios;
    let series = |points: &dyn Fn(&ScenarioData) -> Vec<(f64, f64)>| -> Vec<Series> {
        scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| Series { name: &s.name, index: i, points: points(s) })
            .collect()
    };
    let mut figures = vec![
        Figure {
            title: "Lumen radius along the treated branch".into(),
            note: "Radius of the lumen from the centreline, mm, against the distance from the inlet, mm."
                .into(),
            svg: line_chart(&LineChart {
                x_desc: "distance from the inlet, mm",
                y_desc: "lumen radius, mm",
                series: series(&|s| s.radius_along.iter().map(|p| (p[0] * 1e3, p[1] * 1e3)).collect()),
                from_zero: true,
                reference: None,
                secondary: None,
                legend: SeriesLabelPosition::LowerRight,
            })?,
            small: false,
        },
        Figure {
            title: "Pressure along the centreline".into(),
            note: "Cycle-mean pressure, mmHg (left axis) and Pa (right axis), against the distance from \
                   the inlet, mm."
                .into(),
            svg: line_chart(&LineChart {
                x_desc: "distance from the inlet, mm",
                y_desc: "pressure, mmHg",
                series: series(&|s| {
                    s.pressure_along.iter().map(|p| (p[0] * 1e3, p[1] / PA_PER_MMHG)).collect()
                }),
                from_zero: false,
                reference: None,
                secondary: Some(("pressure, Pa", PA_PER_MMHG)),
                legend: SeriesLabelPosition::UpperRight,
            })?,
            small: false,
        },
        Figure {
            title: "Pd/Pa along the centreline".into(),
            note: format!(
                "Distal over proximal (inlet) pressure against the distance from the inlet, mm; the \
                 horizontal line marks {PD_PA_CUT_OFF:.2}, the FFR cut-off below which a lesion is \
                 usually considered ischaemic."
            ),
            svg: line_chart(&LineChart {
                x_desc: "distance from the inlet, mm",
                y_desc: "Pd/Pa",
                series: series(&|s| s.pressure_along.iter().map(|p| (p[0] * 1e3, p[2])).collect()),
                from_zero: false,
                reference: Some(PD_PA_CUT_OFF),
                secondary: None,
                legend: SeriesLabelPosition::LowerLeft,
            })?,
            small: false,
        },
    ];
    for outlet in outlet_names(scenarios) {
        figures.push(Figure {
            title: format!("Flow through outlet {outlet}"),
            note: "Flow out of the vessel, mL/s, over the last cycle (time from the cycle's start, s)."
                .into(),
            svg: line_chart(&LineChart {
                x_desc: "time in the cycle, s",
                y_desc: "flow, mL/s",
                series: series(&|s| outlet_flow(s, outlet)),
                from_zero: true,
                reference: None,
                secondary: None,
                legend: SeriesLabelPosition::UpperRight,
            })?,
            small: false,
        });
    }
    figures.extend(tawss_histograms(scenarios)?);
    Ok(figures)
}

/// The outlet names of all scenarios, each once, in order of first appearance.
fn outlet_names(scenarios: &[ScenarioData]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in scenarios.iter().flat_map(|s| &s.outlet_flows) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
}

/// The flow of `scenario` through `outlet` as (time from the first sample, s; flow, mL/s).
fn outlet_flow(scenario: &ScenarioData, outlet: &str) -> Vec<(f64, f64)> {
    let Some((_, flow)) = scenario.outlet_flows.iter().find(|(name, _)| name == outlet) else {
        return Vec::new();
    };
    let start = flow.iter().map(|p| p[0]).filter(|t| t.is_finite()).fold(f64::INFINITY, f64::min);
    flow.iter().map(|p| (p[0] - start, p[1] * 1e6)).collect()
}

/// One curve of a line chart: the scenario's name and index (its colour) and its points.
struct Series<'a> {
    /// Scenario name (legend).
    name: &'a str,
    /// Scenario index (colour).
    index: usize,
    /// (x, y) in the chart's units; non-finite points are left out.
    points: Vec<(f64, f64)>,
}

/// A chart of curves, one per scenario.
struct LineChart<'a> {
    /// x-axis label with its unit.
    x_desc: &'a str,
    /// y-axis label with its unit.
    y_desc: &'a str,
    /// The curves.
    series: Vec<Series<'a>>,
    /// True when the y axis starts at zero (radii, flows).
    from_zero: bool,
    /// A horizontal reference line at this y, drawn dashed and kept in view.
    reference: Option<f64>,
    /// A right-hand axis: its label and the factor from left-axis to right-axis units.
    secondary: Option<(&'a str, f64)>,
    /// Where the legend sits.
    legend: SeriesLabelPosition,
}

/// The range of `values` (finite ones only), padded by 5% of its width (of the value when all are
/// equal, 1 when all are zero); `None` when there are none.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else if lo != 0.0 {
        0.05 * lo.abs()
    } else {
        1.0
    };
    Some(lo - pad..hi + pad)
}

/// `chart` as SVG, or `None` when no curve has a finite point.
fn line_chart(chart: &LineChart) -> Result<Option<String>, PlotError> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let points = || chart.series.iter().flat_map(|s| s.points.iter().filter(finite));
    let (Some(x_range), Some(mut y_range)) =
        (padded_range(points().map(|p| p.0)), padded_range(points().map(|p| p.1).chain(chart.reference)))
    else {
        return Ok(None);
    };
    if chart.from_zero && y_range.start > 0.0 {
        y_range.start = 0.0;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, WIDE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(12).x_label_area_size(42).y_label_area_size(64);
        if chart.secondary.is_some() {
            builder.right_y_label_area_size(72);
        }
        let mut context = builder.build_cartesian_2d(x_range.clone(), y_range.clone())?;
        match chart.secondary {
            Some((desc, scale)) => {
                let mut dual =
                    context.set_secondary_coord(x_range, y_range.start * scale..y_range.end * scale);
                dual.configure_secondary_axes().y_desc(desc).draw()?;
                draw_curves(&mut dual, chart)?;
            }
            None => draw_curves(&mut context, chart)?,
        }
        root.present()?;
    }
    Ok(Some(svg))
}

/// Draws the grid, the reference line, the curves and the legend of `chart` onto `context`.
fn draw_curves<'a>(
    context: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    chart: &LineChart,
) -> Result<(), PlotError> {
    context.configure_mesh().x_desc(chart.x_desc).y_desc(chart.y_desc).draw()?;
    if let Some(y) = chart.reference {
        let x = context.x_range();
        let style = RED.mix(0.7).stroke_width(1);
        context.draw_series(DashedLineSeries::new([(x.start, y), (x.end, y)], 6, 4, style))?;
    }
    for s in &chart.series {
        let points: Vec<(f64, f64)> =
            s.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        if points.is_empty() {
            continue;
        }
        let style = colour(s.index).stroke_width(2);
        context
            .draw_series(LineSeries::new(points, style))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    context
        .configure_series_labels()
        .position(chart.legend.clone())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// One histogram per scenario with TAWSS data: the share of wall area (%) per TAWSS bin (Pa), on
/// bins and axes shared by all scenarios so they compare at a glance.
fn tawss_histograms(scenarios: &[ScenarioData]) -> Result<Vec<Figure>, PlotError> {
    let upper = scenarios
        .iter()
        .filter_map(|s| area_quantile(&s.tawss, HISTOGRAM_AREA_COVERED))
        .fold(2.0 * LOW_TAWSS_PA, f64::max);
    let width = upper / BINS as f64;
    let shares: Vec<Option<Vec<f64>>> = scenarios.iter().map(|s| area_shares(&s.tawss, width)).collect();
    let top = shares.iter().flatten().flatten().copied().fold(1.0, f64::max) * 1.08;
    let mut figures = Vec::new();
    for (index, (scenario, shares)) in scenarios.iter().zip(&shares).enumerate() {
        let Some(shares) = shares else { continue };
        let low = area_fraction_below(&scenario.tawss, LOW_TAWSS_PA).unwrap_or(f64::NAN);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SMALL).into_drawing_area();
            root.fill(&WHITE)?;
            let mut context = ChartBuilder::on(&root)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(52)
                .build_cartesian_2d(0.0..upper, 0.0..top)?;
            context.configure_mesh().x_desc("TAWSS, Pa").y_desc("wall area, %").draw()?;
            let fill = colour(index).mix(0.65).filled();
            context.draw_series(shares.iter().enumerate().map(|(k, &share)| {
                let x0 = k as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, share)], fill)
            }))?;
            let style = RED.mix(0.7).stroke_width(1);
            context.draw_series(DashedLineSeries::new(
                [(LOW_TAWSS_PA, 0.0), (LOW_TAWSS_PA, top)],
                6,
                4,
                style,
            ))?;
            root.present()?;
        }
        figures.push(Figure {
            title: format!("TAWSS, {}", scenario.name),
            note: format!(
                "Share of the wall area per TAWSS bin; {}% of the area lies below {LOW_TAWSS_PA} Pa (dashed \
                 line, low shear); the last bin also holds higher values.",
                super::format_number(100.0 * low)
            ),
            svg: Some(svg),
            small: true,
        });
    }
    Ok(figures)
}

/// The finite (TAWSS, area) pairs of `tawss` with a positive area.
fn valid(tawss: &[[f64; 2]]) -> impl Iterator<Item = (f64, f64)> + '_ {
    tawss.iter().map(|p| (p[0], p[1])).filter(|(t, a)| t.is_finite() && a.is_finite() && *a > 0.0)
}

/// The TAWSS (Pa) below which `fraction` of the wall area lies; `None` without valid samples.
fn area_quantile(tawss: &[[f64; 2]], fraction: f64) -> Option<f64> {
    let mut samples: Vec<(f64, f64)> = valid(tawss).collect();
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = samples.iter().map(|s| s.1).sum();
    let mut below = 0.0;
    for (t, a) in &samples {
        below += a;
        if below >= fraction * total {
            return Some(*t);
        }
    }
    samples.last().map(|s| s.0)
}

/// The fraction of the wall area (0 to 1) with TAWSS below `threshold` Pa; `None` without valid
/// samples.
fn area_fraction_below(tawss: &[[f64; 2]], threshold: f64) -> Option<f64> {
    let total: f64 = valid(tawss).map(|(_, a)| a).sum();
    let below: f64 = valid(tawss).filter(|(t, _)| *t < threshold).map(|(_, a)| a).sum();
    (total > 0.0).then(|| below / total)
}

/// The share of the wall area (%) in each of [`BINS`] bins `width` Pa wide from zero, values
/// beyond the last bin counted in it; `None` without valid samples.
fn area_shares(tawss: &[[f64; 2]], width: f64) -> Option<Vec<f64>> {
    let total: f64 = valid(tawss).map(|(_, a)| a).sum();
    if total <= 0.0 {
        return None;
    }
    let mut shares = vec![0.0; BINS];
    for (t, a) in valid(tawss) {
        let bin = ((t / width).max(0.0) as usize).min(BINS - 1);
        shares[bin] += 100.0 * a / total;
    }
    Some(shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Half the area at 0.2 Pa and half at 1.0 Pa (a NaN sample ignored): half below 0.4 Pa, the
    /// median at 0.2 Pa, and 50% in each of the bins 0 and 4 of 0.25 Pa.
    #[test]
    fn report_area_weighted_tawss_statistics() {
        let tawss = [[0.2, 1e-6], [1.0, 0.5e-6], [1.0, 0.5e-6], [f64::NAN, 1.0]];
        let below = area_fraction_below(&tawss, 0.4).unwrap_or(f64::NAN);
        let median = area_quantile(&tawss, 0.5).unwrap_or(f64::NAN);
        let shares = area_shares(&tawss, 0.25).unwrap_or_default();
        println!("fraction below 0.4 Pa {below}, median {median} Pa, shares {shares:?}");
        assert!((below - 0.5).abs() < 1e-12);
        assert_eq!(median, 0.2);
        assert!((shares[0] - 50.0).abs() < 1e-9 && (shares[4] - 50.0).abs() < 1e-9);
        assert_eq!(area_shares(&[], 0.1), None);
    }
}
