//! The planner: virtual stenosis and stent on a patient vessel, baseline against treated.
//!
//! A [`Plan`] names a case, the outlet whose centreline path the edits follow, the lesion every
//! scenario shares and the treated scenarios. [`run_plan`] traces the path on the case's lattice,
//! edits the lumen of each scenario ([`crate::geometry::edit`]), runs each through the pipeline at
//! the same lattice spacing and boundary conditions, and measures what a planner reads
//! ([`ScenarioMetrics`]): `OUT/NAME/` holds each run's files and its edited surface
//! (treated.stl, treated.vtp), `OUT/plan.json` the figures, `OUT/report.html` and `OUT/view.py`
//! the report.

mod metrics;
mod report;
mod spec;

pub use metrics::{MetricRow, ScenarioMetrics, WallStress, WallStretch, measure, vertex_areas, wall_stress};
pub use report::write_report;
pub use spec::{CaseRef, EditSpec, Plan, PlanSpec, STENT_WALL_STIFFENING, ScenarioSpec};

use crate::error::{Error, Result};
use crate::fem::{Material, Stent};
use crate::geometry::edit::{CenterlinePath, Edit, EditReport, apply_edits_in_tree};
use crate::geometry::io_stl::write_stl;
use crate::geometry::vessel::Vessel;
use crate::io::folder::OutputFolder;
use crate::io::outputs::write_json;
use crate::lattice::PortRole;
use crate::pipeline::{
    Event, RunOptions, RunResult, flow_axis, prepare_observed, prepare_vessel_flow, run_prepared,
    write_vessel_vtp,
};
use nalgebra::Point3;
use serde::Serialize;
use std::path::PathBuf;

/// The embedded plan of `hemotwin demo`: a carotid-like bifurcation with a 70% internal carotid
/// stenosis at physiological flow, baseline against stented.
pub const DEMO_PLAN: &str = include_str!("../../meshes/demo_carotid_plan.toml");

/// One scenario run: its edits, the run and the planner's figures.
pub struct ScenarioResult {
    /// Its name (and output folder under the plan's).
    pub name: String,
    /// The plan lines of its edits.
    pub edit_lines: Vec<String>,
    /// What each edit did.
    pub edits: Vec<EditReport>,
    /// The run (summary, flow and wall in memory).
    pub run: RunResult,
    /// The planner's figures.
    pub metrics: ScenarioMetrics,
    /// Its output folder.
    pub dir: PathBuf,
}

/// A finished plan: the scenarios, baseline first, and the lesion's stretch of the branch.
pub struct PlanResult {
    /// The scenarios, the baseline first.
    pub scenarios: Vec<ScenarioResult>,
    /// The branch's port index.
    pub branch: usize,
    /// The stretch of the branch the edits cover (abscissa from the inlet, m).
    pub lesion: (f64, f64),
    /// The plan's output folder.
    pub out_dir: PathBuf,
    /// Abscissa (m) of the vessel's own inlet along the centrelines (the inlet flow extension's length).
    pub origin: f64,
}

/// plan.json: each scenario's figures, with the case and edit lines.
#[derive(Serialize)]
struct PlanJson<'a> {
    branch: &'a str,
    lesion_from_m: f64,
    lesion_to_m: f64,
    scenarios: Vec<ScenarioJson<'a>>,
}

/// One scenario in plan.json.
#[derive(Serialize)]
struct ScenarioJson<'a> {
    name: &'a str,
    edits: &'a [String],
    status: &'a str,
    metrics: &'a ScenarioMetrics,
}

/// Runs `plan`: every scenario into `OUT/NAME` (OUT: `opts.out_dir`, else the plan's), then
/// `OUT/plan.json`.
pub fn run_plan(plan: &Plan, opts: &RunOptions) -> Result<PlanResult> {
    let out_dir = opts.out_dir.clone().unwrap_or_else(|| plan.out_dir.clone());
    // The plan's own files; each scenario's folder is claimed by its run.
    let is_plan_file = |name: &str| ["plan.json", "report.html", "view.py"].contains(&name);
    let _folder = OutputFolder::claim(&out_dir, opts.existing, is_plan_file)?;
    let say = |s: &str| opts.observer.event(&Event::Info(s));
    // The path the edits follow, on the unedited vessel's lattice.
    let base = prepare_observed(&plan.case, opts.observer.as_ref())?;
    let vessel = &base.vessel;
    let branch = vessel
        .ports
        .iter()
        .zip(&vessel.roles)
        .position(|(p, r)| p.name == plan.branch && *r == PortRole::Pressure)
        .ok_or_else(|| {
            let outlets: Vec<&str> = vessel
                .ports
                .iter()
                .zip(&vessel.roles)
                .filter(|(_, r)| **r == PortRole::Pressure)
                .map(|(p, _)| p.name.as_str())
                .collect();
            Error::parameter(
                "branch",
                format!("no outlet named {:?}; the outlets are {}", plan.branch, outlets.join(", ")),
            )
        })?;
    let line = base.lines.iter().find(|l| l.outlet == branch).ok_or_else(|| {
        Error::parameter(
            "branch",
            format!("no centreline could be traced to {:?}; see `hemotwin mesh check`", plan.branch),
        )
    })?;
    let on_wall = wall_vertices(vessel);
    let (origin, own_end) = own_stretch(vessel, &on_wall, line);
    // Abscissae from the vessel's own inlet (behind any flow extension).
    let shifted: Vec<Vec<f64>> =
        base.lines.iter().map(|l| l.abscissa.iter().map(|s| s - origin).collect()).collect();
    let smooth: Vec<Vec<Point3<f64>>> =
        base.lines.iter().map(|l| recentred(&smoothed(l), l, &vessel.surface, &on_wall)).collect();
    // The lattice's inscribed radius falls short of the lumen's by about half a spacing (the
    // distance from the wall's nearest fluid node to the wall): the edits take the lumen's.
    let radius: Vec<Vec<f64>> =
        base.lines.iter().map(|l| l.radius.iter().map(|r| r + 0.5 * base.units.dx_m).collect()).collect();
    let path_of = |k: usize| CenterlinePath { points: &smooth[k], abscissa: &shifted[k], radius: &radius[k] };
    let index = base.lines.iter().position(|l| l.outlet == branch).unwrap_or(0);
    // The edits stay on the vessel's own wall: the branch's path stops where the flow extensions
    // begin (an edit reaching into one is refused, naming the path's own span).
    let own: Vec<usize> = (0..shifted[index].len())
        .filter(|&k| (0.0..=own_end - origin).contains(&shifted[index][k]))
        .collect();
    let span = match (own.first(), own.last()) {
        (Some(&a), Some(&b)) => a..b + 1,
        _ => 0..shifted[index].len(),
    };
    let path = CenterlinePath {
        points: &smooth[index][span.clone()],
        abscissa: &shifted[index][span.clone()],
        radius: &radius[index][span],
    };
    let others: Vec<CenterlinePath<'_>> =
        (0..base.lines.len()).filter(|&k| k != index).map(path_of).collect();
    // Every scenario on the baseline's spacing: the same lattice resolution, whatever the edits.
    let mut case = plan.case.clone();
    case.lattice.dx = Some(base.units.dx_m);
    case.lattice.cells_across_inlet = None;
    // Each scenario's vessel, edited.
    let mut edited = Vec::new();
    let mut lesion = (f64::INFINITY, f64::NEG_INFINITY);
    let lesion_edits = plan.scenarios.first().map_or(0, |s| s.1.len());
    for (scenario, (name, edits, edit_lines)) in plan.scenarios.iter().enumerate() {
        say(&format!(
            "scenario {name}: {}",
            if edit_lines.is_empty() { "no edits".into() } else { edit_lines.join("; ") }
        ));
        let (surface, reports) = apply_edits_in_tree(&vessel.surface, &vessel.tags, &path, &others, edits)
            .map_err(|e| match e {
                Error::Parameter { field, message } => {
                    Error::Parameter { field: plan_field(&field, scenario, lesion_edits), message }
                }
                e => e,
            })?;
        for r in &reports {
            lesion = (lesion.0.min(r.from), lesion.1.max(r.to));
        }
        let v = Vessel { report: crate::geometry::check::inspect(&surface), surface, ..vessel.clone() };
        edited.push((v, reports));
    }
    if !lesion.0.is_finite() {
        return Err(Error::parameter(
            "edit",
            "the plan has no edits: give the lesion ([[edit]]) or a treatment",
        ));
    }
    // One time step and one LES choice for all: the smallest step any scenario needs (its narrowest
    // lumen's), LES when any needs it; so that the scenarios differ only by their lumen.
    let mut units = Vec::new();
    for (v, _) in &edited {
        units.push(prepare_vessel_flow(&case, v.clone(), opts.observer.as_ref())?.units);
    }
    let dt = units.iter().map(|u| u.dt_s).fold(f64::INFINITY, f64::min);
    let les = units.iter().any(|u| u.les);
    if case.lattice.tau.is_none() {
        case.lattice.dt = Some(dt);
        case.lattice.mach = None;
    }
    case.fluid.les = Some(les);
    // With a [wall], a stent stiffens the wall's innermost layer over its stretch of the branch;
    // the lesion's wall stress is read in the tissue outside that layer, in every scenario alike.
    let branch_line = &base.lines[index].points;
    // The stented layers and their material, with a wall.
    let stent_wall = match &case.wall {
        Some(wall) if wall.layers < 2 && plan.scenarios.iter().any(|s| s.1.iter().any(is_stent)) => {
            return Err(Error::parameter(
                "case.wall.layers",
                "a stent takes the wall's innermost layer: give at least 2 layers so that tissue remains",
            ));
        }
        Some(wall) => {
            let modulus =
                plan.stent_wall_modulus_pa.unwrap_or(STENT_WALL_STIFFENING * wall.material.youngs_modulus);
            say(&format!(
                "wall: a stent stiffens the innermost of the wall's {} layers over its stretch to E = {modulus:.3e} Pa \
                 ({}); the lesion's wall stress is read in the other layers",
                wall.layers,
                match plan.stent_wall_modulus_pa {
                    Some(_) => "stent_wall_modulus_pa".to_string(),
                    None => format!("{STENT_WALL_STIFFENING} times the wall's; set stent_wall_modulus_pa"),
                }
            ));
            Some((1, Material { youngs_modulus: modulus, ..wall.material }))
        }
        None => None,
    };
    let stented_layers = stent_wall.map_or(0, |(layers, _)| layers);
    let mut scenarios = Vec::new();
    for ((name, edits, edit_lines), (v, reports)) in plan.scenarios.iter().zip(edited) {
        let mut case = case.clone();
        if let (Some(wall), Some((layers, material))) = (&mut case.wall, stent_wall) {
            for (_, r) in edits.iter().zip(&reports).filter(|(e, _)| is_stent(e)) {
                wall.stents.push(Stent {
                    from: r.from + origin,
                    to: r.to + origin,
                    branch: Some(branch_line.clone()),
                    layers,
                    material,
                });
            }
        }
        let dir = out_dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        write_stl(&dir.join("treated.stl"), &v.surface, v.units)?;
        write_vessel_vtp(&dir.join("treated.vtp"), &v)?;
        let setup = prepare_vessel_flow(&case, v, opts.observer.as_ref())?;
        // The edits are part of the scenario's identity (its case is the baseline's).
        let edits = Some(serde_json::Value::String(format!("{edits:?}")));
        let run =
            run_prepared(&case, setup, &RunOptions { out_dir: Some(dir.clone()), edits, ..opts.clone() })?;
        scenarios.push(ScenarioResult {
            name: name.clone(),
            edit_lines: edit_lines.clone(),
            edits: reports,
            metrics: measure(&run.flow, branch, (0.0, 0.0), plan.high_tawss_pa),
            run,
            dir,
        });
    }
    // The figures over the lesion, in each run's own centreline abscissa (from the inlet port).
    let range = (lesion.0 + origin, lesion.1 + origin);
    for s in &mut scenarios {
        s.metrics = measure(&s.run.flow, branch, range, plan.high_tawss_pa);
        if let Some(wall) = &s.run.wall {
            let axis = flow_axis(&s.run.flow)?;
            s.metrics.wall_stress = Some(wall_stress(wall, &axis, branch_line, range, stented_layers));
        }
    }
    let json = PlanJson {
        branch: &plan.branch,
        lesion_from_m: lesion.0,
        lesion_to_m: lesion.1,
        scenarios: scenarios
            .iter()
            .map(|s| ScenarioJson {
                name: &s.name,
                edits: &s.edit_lines,
                status: &s.run.summary.status,
                metrics: &s.metrics,
            })
            .collect(),
    };
    write_json(&out_dir.join("plan.json"), &json)?;
    let result = PlanResult { scenarios, branch, lesion, out_dir, origin };
    let case_lines = vec![format!("branch: the centreline path from the inlet to outlet `{}`", plan.branch)];
    write_report(&result, &format!("hemotwin plan: {}", plan.branch), case_lines)?;
    Ok(result)
}

/// Whether `edit` is a stent.
fn is_stent(edit: &Edit) -> bool {
    matches!(edit, Edit::Stent { .. })
}

/// The points of a lattice centreline averaged over two local radii of abscissa on each side (a
/// window that shrinks to stay symmetric at the ends): the lattice's staircase about a straight
/// axis averages out, so that edits scale the lumen about its axis.
fn smoothed(line: &crate::lattice::Centerline) -> Vec<Point3<f64>> {
    let s = &line.abscissa;
    let (first, last) = (s.first().copied().unwrap_or(0.0), s.last().copied().unwrap_or(0.0));
    (0..line.points.len())
        .map(|k| {
            let w = (2.0 * line.radius[k]).min(s[k] - first).min(last - s[k]);
            let near: Vec<&Point3<f64>> = (0..line.points.len())
                .filter(|&j| (s[j] - s[k]).abs() <= w)
                .map(|j| &line.points[j])
                .collect();
            let sum = near.iter().fold(nalgebra::Vector3::zeros(), |acc, p| acc + p.coords);
            Point3::from(sum / near.len().max(1) as f64)
        })
        .collect()
}

/// `points` (a smoothed centreline of `line`) moved to the centroid of the wall around each: the
/// wall vertices within a slab of half a local radius across the path and 1.5 radii of it,
/// projected onto the slab's mid-plane. A lattice centreline sits up to half a spacing off the
/// lumen's axis; edits scale the lumen about this centroid.
fn recentred(
    points: &[Point3<f64>],
    line: &crate::lattice::Centerline,
    surface: &crate::geometry::Surface,
    wall: &[bool],
) -> Vec<Point3<f64>> {
    let n = points.len();
    (0..n)
        .map(|k| {
            let p = points[k];
            let tangent = (points[(k + 1).min(n - 1)] - points[k.saturating_sub(1)]).normalize();
            let r = line.radius[k];
            if !tangent.iter().all(|c| c.is_finite()) {
                return p;
            }
            let (mut sum, mut count) = (nalgebra::Vector3::zeros(), 0usize);
            for (v, q) in surface.vertices.iter().enumerate() {
                let d = q - p;
                let along = d.dot(&tangent);
                if wall[v] && along.abs() < 0.5 * r && d.norm() < 1.5 * r {
                    sum += d - tangent * along;
                    count += 1;
                }
            }
            if count >= 8 { p + sum / count as f64 } else { p }
        })
        .collect()
}

/// Which vertices of `vessel` lie on its wall (the triangles tagged 0, flow extensions included).
fn wall_vertices(vessel: &Vessel) -> Vec<bool> {
    let mut wall = vec![false; vessel.surface.vertices.len()];
    for (tri, tag) in vessel.surface.triangles.iter().zip(&vessel.tags) {
        if *tag == 0 {
            tri.iter().for_each(|&i| wall[i as usize] = true);
        }
    }
    wall
}

/// The plan file's name for `field` of an edit error (`plan.edits[k].at`) in scenario `scenario`,
/// whose edits are the plan's `lesion` edits and then its own: `edit[k].at_mm` or
/// `scenario[j].edit[i].at_mm`.
fn plan_field(field: &str, scenario: usize, lesion: usize) -> String {
    let Some((k, rest)) = field.strip_prefix("plan.edits[").and_then(|f| f.split_once(']')) else {
        return field.to_string();
    };
    let Ok(k) = k.parse::<usize>() else { return field.to_string() };
    let place = if k < lesion || scenario == 0 {
        format!("edit[{k}]")
    } else {
        format!("scenario[{}].edit[{}]", scenario - 1, k - lesion)
    };
    let name = match rest.trim_start_matches('.') {
        "" => String::new(),
        n @ ("at" | "length" | "from" | "to" | "diameter") => format!(".{n}_mm"),
        n @ ("area_reduction" | "oversize") => format!(".{n}_percent"),
        n => format!(".{n}"),
    };
    format!("{place}{name}")
}

/// The vessel's own stretch of `line` (abscissa, m) between its flow extensions: the first and last
/// points whose nearest wall vertex (`on_wall`) is not on an extension (0 to the line's end
/// without extensions).
fn own_stretch(vessel: &Vessel, on_wall: &[bool], line: &crate::lattice::Centerline) -> (f64, f64) {
    let last = line.abscissa.last().copied().unwrap_or(0.0);
    if vessel.extension.is_empty() {
        return (0.0, last);
    }
    let surface = &vessel.surface;
    // The vertices of the vessel's own wall: of a wall triangle outside the extensions.
    let mut own = vec![false; surface.vertices.len()];
    for (t, tri) in surface.triangles.iter().enumerate() {
        if vessel.tags[t] == 0 && !vessel.extension.contains(&t) {
            tri.iter().for_each(|&i| own[i as usize] = true);
        }
    }
    let wall: Vec<usize> = (0..surface.vertices.len()).filter(|&v| on_wall[v]).collect();
    let on_own = |p: &Point3<f64>| {
        wall.iter()
            .min_by(|&&a, &&b| {
                (surface.vertices[a] - p).norm_squared().total_cmp(&(surface.vertices[b] - p).norm_squared())
            })
            .is_some_and(|&v| own[v])
    };
    let first = line.points.iter().position(on_own);
    let after = line.points.iter().rposition(on_own);
    match (first, after) {
        (Some(a), Some(b)) => (line.abscissa[a], line.abscissa[b]),
        _ => (0.0, last),
    }
}

#[cfg(test)]
mod tests {
    use super::plan_field;

    #[test]
    fn edit_errors_name_the_plan_files_fields() {
        assert_eq!(plan_field("plan.edits[0].at", 0, 1), "edit[0].at_mm");
        assert_eq!(plan_field("plan.edits[0].area_reduction", 1, 1), "edit[0].area_reduction_percent");
        assert_eq!(plan_field("plan.edits[1].to", 1, 1), "scenario[0].edit[0].to_mm");
        assert_eq!(plan_field("plan.edits[3]", 2, 1), "scenario[1].edit[2]");
        assert_eq!(plan_field("geometry.ports", 0, 1), "geometry.ports");
    }
}
