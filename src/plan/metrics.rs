//! What a planner reads off a scenario: pressure drops and Pd/Pa across the lesion, flows, the jet,
//! the lumen's narrowest area, and the wall shear in the treated segment and downstream.

use crate::fem::{Axis, on_stretch};
use crate::hemo::LOW_TAWSS_PA;
use crate::lattice::Centerline;
use crate::pipeline::{FlowResult, WallResult};
use nalgebra::Point3;
use serde::Serialize;

/// Wall shear figures over a stretch of the branch's wall.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WallStretch {
    /// Wall area of the stretch (m^2).
    pub area_m2: f64,
    /// Area-weighted mean TAWSS (Pa).
    pub tawss_mean_pa: f64,
    /// Largest OSI.
    pub osi_max: f64,
    /// Area-weighted mean RRT (1/Pa).
    pub rrt_mean_per_pa: f64,
    /// Share of the area with TAWSS below 0.4 Pa.
    pub low_tawss_fraction: f64,
    /// Share of the area with TAWSS above the plan's high threshold.
    pub high_tawss_fraction: f64,
}

/// Wall mechanics over the lesion's stretch of the branch: the tissue, outside the layer a stent
/// takes, so that baseline and stented scenarios compare the same tissue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WallStress {
    /// Largest hoop (circumferential) stress of the tissue (Pa).
    pub tissue_hoop_max_pa: f64,
    /// Mean hoop stress of the tissue's nodes (Pa).
    pub tissue_hoop_mean_pa: f64,
    /// Largest von Mises stress of the tissue (Pa).
    pub tissue_von_mises_max_pa: f64,
    /// Largest displacement of the wall over the stretch (m).
    pub displacement_max_m: f64,
    /// Wall nodes the figures are taken over.
    pub nodes: usize,
}

/// The planner's figures of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioMetrics {
    /// Inlet minus branch outlet section pressure, mean over the window (Pa).
    pub pressure_drop_mean_pa: f64,
    /// Its peak over the window (Pa).
    pub pressure_drop_peak_pa: f64,
    /// Pressure drop along the branch centreline from one reference diameter proximal of the lesion
    /// to one distal (Pa, mean over the window).
    pub translesional_drop_pa: f64,
    /// The largest of that drop over the window (Pa): its peak through the cycle.
    pub translesional_drop_peak_pa: f64,
    /// Pd/Pa one reference diameter distal of the lesion.
    pub pd_pa_distal: f64,
    /// Lowest Pd/Pa along the branch.
    pub pd_pa_min: f64,
    /// Flow out of the branch outlet (m^3/s) and its share of the outflow.
    pub branch_flow_m3_s: f64,
    /// The branch outlet's share of the total outflow.
    pub branch_flow_split: f64,
    /// Highest velocity in the flow over the window (m/s).
    pub peak_velocity_m_s: f64,
    /// Minimal lumen area over the lesion, from the centreline's inscribed radius (m^2).
    pub minimal_lumen_area_m2: f64,
    /// Area stenosis: 1 - (narrowest / reference radius)^2, in percent.
    pub area_stenosis_percent: f64,
    /// The lesion's stretch of wall.
    pub segment: WallStretch,
    /// The wall three reference diameters downstream of the lesion.
    pub downstream: WallStretch,
    /// Wall stress over the lesion, when the case has a `[wall]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_stress: Option<WallStress>,
}

/// The figures of `flow` along the centreline to port `branch` over the lesion `range` (abscissa,
/// m, along that centreline), with TAWSS above `high_tawss` (Pa) counted as high.
pub fn measure(flow: &FlowResult, branch: usize, range: (f64, f64), high_tawss: f64) -> ScenarioMetrics {
    let s = &flow.summary;
    let port = &s.ports[branch];
    let line = flow.lines.iter().find(|l| l.outlet == branch);
    let (a, b) = range;
    let reference = line.map_or(f64::NAN, |l| reference_radius(l, a, b) + 0.5 * flow.units.dx_m);
    let diameter = 2.0 * reference;
    let along: Vec<_> = flow.pd_pa_along.iter().filter(|p| p.outlet == branch).collect();
    let ratio_at = |x: f64| {
        along
            .iter()
            .min_by(|p, q| (p.abscissa_m - x).abs().total_cmp(&(q.abscissa_m - x).abs()))
            .map_or(f64::NAN, |p| p.ratio)
    };
    let aortic = along.first().map_or(f64::NAN, |p| p.aortic_pressure_pa);
    let (proximal, distal) = (ratio_at(a - diameter), ratio_at(b + diameter));
    let narrowest =
        line.map_or(f64::NAN, |l| inside(l, a, b).map(|k| l.radius[k]).fold(f64::INFINITY, f64::min));
    ScenarioMetrics {
        pressure_drop_mean_pa: port.pressure_drop_mean_pa.unwrap_or(f64::NAN),
        pressure_drop_peak_pa: port.pressure_drop_peak_pa.unwrap_or(f64::NAN),
        translesional_drop_pa: aortic * (proximal - distal),
        translesional_drop_peak_pa: flow
            .lines
            .iter()
            .position(|l| l.outlet == branch)
            .map_or(f64::NAN, |k| flow.pressure_along.peak_drop(&flow.lines, k, a - diameter, b + diameter)),
        pd_pa_distal: distal,
        pd_pa_min: along.iter().map(|p| p.ratio).fold(f64::NAN, f64::min),
        branch_flow_m3_s: port.measure.flow_m3_s,
        branch_flow_split: port.flow_split.unwrap_or(f64::NAN),
        peak_velocity_m_s: flow.peak_velocity_m_s,
        minimal_lumen_area_m2: std::f64::consts::PI * narrowest * narrowest,
        area_stenosis_percent: 100.0 * (1.0 - (narrowest / reference).powi(2)),
        segment: wall_stretch(flow, line, (a, b), high_tawss),
        downstream: wall_stretch(flow, line, (b, b + 3.0 * diameter), high_tawss),
        wall_stress: None,
    }
}

/// The stress of `wall` (solved about `axis`) over abscissae [a, b] (m) of the polyline `branch`
/// (m, from the inlet), in the tissue: the nodes no element of the innermost `stented_layers`
/// layers touches.
pub fn wall_stress(
    wall: &WallResult,
    axis: &Axis,
    branch: &[Point3<f64>],
    (a, b): (f64, f64),
    stented_layers: usize,
) -> WallStress {
    let mesh = &wall.mesh;
    let fields = &wall.solution.fields;
    let (mut tissue, mut stretch) = (vec![true; mesh.nodes.len()], vec![false; mesh.nodes.len()]);
    for (e, nodes) in mesh.elements.iter().enumerate() {
        if usize::from(mesh.layer[e]) < stented_layers {
            nodes.iter().for_each(|&n| tissue[n as usize] = false);
        }
        let centre = mesh.centre(e);
        if on_stretch(a, b, Some(branch), &axis.frame(&centre), &centre) {
            nodes.iter().for_each(|&n| stretch[n as usize] = true);
        }
    }
    let (mut hoop_max, mut hoop_sum, mut mises_max, mut moved_max, mut count) =
        (f64::NAN, 0.0, f64::NAN, f64::NAN, 0usize);
    for n in (0..mesh.nodes.len()).filter(|&n| stretch[n]) {
        moved_max = moved_max.max(fields.displacement[n].norm());
        if tissue[n] {
            hoop_max = hoop_max.max(fields.hoop[n]);
            mises_max = mises_max.max(fields.von_mises[n]);
            hoop_sum += fields.hoop[n];
            count += 1;
        }
    }
    WallStress {
        tissue_hoop_max_pa: hoop_max,
        tissue_hoop_mean_pa: if count > 0 { hoop_sum / count as f64 } else { f64::NAN },
        tissue_von_mises_max_pa: mises_max,
        displacement_max_m: moved_max,
        nodes: count,
    }
}

/// The wall area each vertex of the flow's vessel stands for (m^2): a third of its wall triangles'
/// (zero on caps and flow extensions).
pub fn vertex_areas(flow: &FlowResult) -> Vec<f64> {
    let surface = &flow.vessel.surface;
    let mut area = vec![0.0; surface.vertices.len()];
    for (t, tag) in surface.triangles.iter().zip(flow.vessel.wall_tags()) {
        if tag != 0 {
            continue;
        }
        let [p, q, r] = t.map(|i| surface.vertices[i as usize]);
        let third = (q - p).cross(&(r - p)).norm() / 6.0;
        t.iter().for_each(|&i| area[i as usize] += third);
    }
    area
}

/// Indices of the points of `line` whose abscissa lies in [a, b].
fn inside(line: &Centerline, a: f64, b: f64) -> impl Iterator<Item = usize> + '_ {
    (0..line.points.len()).filter(move |&k| (a..=b).contains(&line.abscissa[k]))
}

/// The healthy radius (m) of a lesion [a, b] on `line`: the median inscribed radius over half a
/// diameter to two diameters on both sides (at least its ends' radii).
fn reference_radius(line: &Centerline, a: f64, b: f64) -> f64 {
    let near = |x: f64| {
        (0..line.points.len())
            .min_by(|&i, &j| (line.abscissa[i] - x).abs().total_cmp(&(line.abscissa[j] - x).abs()))
            .map_or(f64::NAN, |k| line.radius[k])
    };
    let d = 2.0 * near(a).max(near(b));
    let mut values: Vec<f64> = (0..line.points.len())
        .filter(|&k| {
            let s = line.abscissa[k];
            (a - 2.0 * d..=a - 0.5 * d).contains(&s) || (b + 0.5 * d..=b + 2.0 * d).contains(&s)
        })
        .map(|k| line.radius[k])
        .collect();
    if values.is_empty() {
        return near(a).max(near(b));
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The wall shear over the stretch [a, b] (abscissa, m) of `line`: the wall vertices whose nearest
/// centreline point lies there, within twice the local inscribed radius.
fn wall_stretch(flow: &FlowResult, line: Option<&Centerline>, (a, b): (f64, f64), high: f64) -> WallStretch {
    let surface = &flow.vessel.surface;
    let area = vertex_areas(flow);
    let Some(line) = line else {
        return WallStretch {
            area_m2: 0.0,
            tawss_mean_pa: f64::NAN,
            osi_max: f64::NAN,
            rrt_mean_per_pa: f64::NAN,
            low_tawss_fraction: f64::NAN,
            high_tawss_fraction: f64::NAN,
        };
    };
    let (mut total, mut tawss, mut rrt, mut low, mut high_area, mut osi) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0f64);
    for (v, p) in surface.vertices.iter().enumerate() {
        if area[v] == 0.0 {
            continue;
        }
        let nearest = (0..line.points.len()).min_by(|&i, &j| {
            (line.points[i] - p).norm_squared().total_cmp(&(line.points[j] - p).norm_squared())
        });
        let Some(k) = nearest else { continue };
        if !(a..=b).contains(&line.abscissa[k]) || (line.points[k] - p).norm() > 2.0 * line.radius[k] {
            continue;
        }
        let w = area[v];
        let t = f64::from(flow.wall.tawss_pa[v]);
        total += w;
        tawss += w * t;
        rrt += w * f64::from(flow.wall.rrt_per_pa[v]);
        low += if t < LOW_TAWSS_PA { w } else { 0.0 };
        high_area += if t > high { w } else { 0.0 };
        osi = osi.max(f64::from(flow.wall.osi[v]));
    }
    let share = |x: f64| if total > 0.0 { x / total } else { f64::NAN };
    WallStretch {
        area_m2: total,
        tawss_mean_pa: share(tawss),
        osi_max: if total > 0.0 { osi } else { f64::NAN },
        rrt_mean_per_pa: share(rrt),
        low_tawss_fraction: share(low),
        high_tawss_fraction: share(high_area),
    }
}

/// One figure of [`ScenarioMetrics`] as tables show it: name, unit, value in that unit, and
/// whether it is a pressure in Pa (shown in mmHg beside).
pub type MetricRow = (&'static str, &'static str, f64, bool);

impl ScenarioMetrics {
    /// The figures as table rows, in the order reports print them.
    pub fn rows(&self) -> Vec<MetricRow> {
        let (s, d) = (&self.segment, &self.downstream);
        let mut rows = vec![
            ("pressure drop to the branch outlet, mean", "Pa", self.pressure_drop_mean_pa, true),
            ("pressure drop to the branch outlet, peak", "Pa", self.pressure_drop_peak_pa, true),
            ("translesional pressure drop, mean", "Pa", self.translesional_drop_pa, true),
            ("translesional pressure drop, peak", "Pa", self.translesional_drop_peak_pa, true),
            ("Pd/Pa distal to the lesion", "", self.pd_pa_distal, false),
            ("lowest Pd/Pa along the branch", "", self.pd_pa_min, false),
            ("branch flow", "mL/s", self.branch_flow_m3_s * 1e6, false),
            ("branch share of the outflow", "%", 100.0 * self.branch_flow_split, false),
            ("peak velocity", "m/s", self.peak_velocity_m_s, false),
            ("minimal lumen area", "mm^2", self.minimal_lumen_area_m2 * 1e6, false),
            ("area stenosis", "%", self.area_stenosis_percent, false),
            ("lesion: mean TAWSS", "Pa", s.tawss_mean_pa, false),
            ("lesion: area with TAWSS < 0.4 Pa", "%", 100.0 * s.low_tawss_fraction, false),
            ("lesion: area with high TAWSS", "%", 100.0 * s.high_tawss_fraction, false),
            ("lesion: largest OSI", "", s.osi_max, false),
            ("downstream: mean TAWSS", "Pa", d.tawss_mean_pa, false),
            ("downstream: area with TAWSS < 0.4 Pa", "%", 100.0 * d.low_tawss_fraction, false),
            ("downstream: largest OSI", "", d.osi_max, false),
            ("downstream: mean RRT", "1/Pa", d.rrt_mean_per_pa, false),
        ];
        if let Some(w) = &self.wall_stress {
            rows.extend([
                ("lesion wall: peak hoop stress, tissue", "kPa", w.tissue_hoop_max_pa * 1e-3, false),
                ("lesion wall: mean hoop stress, tissue", "kPa", w.tissue_hoop_mean_pa * 1e-3, false),
                ("lesion wall: peak von Mises, tissue", "kPa", w.tissue_von_mises_max_pa * 1e-3, false),
                ("lesion wall: largest displacement", "mm", w.displacement_max_m * 1e3, false),
            ]);
        }
        rows
    }
}
