use super::*;
use crate::geometry::check::inspect;
use crate::geometry::mesh::Port;
use crate::geometry::ports::tag_triangles;
use crate::geometry::synth::{self, BifurcationSpec, StenosisSpec, TubeSpec};

/// Radius and length of the test tube (m).
const R: f64 = 2e-3;
const LENGTH: f64 = 32e-3;

/// A path's arrays, owned.
struct Line {
    points: Vec<Point3<f64>>,
    abscissa: Vec<f64>,
    radius: Vec<f64>,
}

impl Line {
    /// The polyline through `corners` sampled every 0.25 mm, with inscribed radius `radii[k]` on leg k.
    fn new(corners: &[Point3<f64>], radii: &[f64]) -> Line {
        let mut line = Line { points: vec![corners[0]], abscissa: vec![0.0], radius: vec![radii[0]] };
        for (leg, &r) in corners.windows(2).zip(radii) {
            let d = leg[1] - leg[0];
            let n = (d.norm() / 0.25e-3).round() as usize;
            let s0 = line.abscissa[line.abscissa.len() - 1];
            for i in 1..=n {
                let t = i as f64 / n as f64;
                line.points.push(leg[0] + d * t);
                line.abscissa.push(s0 + d.norm() * t);
                line.radius.push(r);
            }
        }
        line
    }

    fn path(&self) -> CenterlinePath<'_> {
        CenterlinePath { points: &self.points, abscissa: &self.abscissa, radius: &self.radius }
    }
}

/// The test tube (radius 2 mm, 32 mm long, 64 sides), its ports, tags and axis.
fn tube() -> (Surface, Vec<Port>, Vec<u16>, Line) {
    let (surface, ports) = synth::tube(&TubeSpec { radius: R, length: LENGTH }, 64).unwrap();
    let tags = tag_triangles(&surface, &ports).unwrap();
    let axis = Line::new(&[Point3::origin(), Point3::new(0.0, 0.0, LENGTH)], &[R]);
    (surface, ports, tags, axis)
}

/// A stenosis at `at` (m) of `length` (m) removing `area_reduction` of the area, concentric.
fn stenosis(at: f64, length: f64, area_reduction: f64) -> Edit {
    Edit::Stenosis { at: Place::Abscissa(at), length, area_reduction, eccentricity: 0.0, direction: None }
}

/// The 75 %, 8 mm stenosis at 16 mm of the tests.
fn tube_stenosis() -> Edit {
    stenosis(16e-3, 8e-3, 0.75)
}

/// Distance (m) from the z axis.
fn radial(p: &Point3<f64>) -> f64 {
    p.coords.xy().norm()
}

/// The vertices of `after` that differ from `before`.
fn moved(before: &Surface, after: &Surface) -> Vec<usize> {
    (0..before.vertices.len()).filter(|&v| before.vertices[v] != after.vertices[v]).collect()
}

/// Asserts that `surface` is closed, manifold, outward and free of self-intersections and that its
/// triangles tag as `tags` against `ports`, printing the figures.
fn assert_clean(name: &str, surface: &Surface, ports: &[Port], tags: &[u16]) {
    let r = inspect(surface);
    let (crossings, _) = self_intersections(surface, 1);
    println!(
        "{name}: boundary {}, non-manifold {}, degenerate {}, volume {:.6e} m^3, self-intersections {crossings}",
        r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles, r.volume
    );
    assert_eq!((r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles, crossings), (0, 0, 0, 0));
    assert!(r.holes.is_empty() && r.volume > 0.0);
    assert_eq!(tag_triangles(surface, ports).unwrap(), tags, "port ids changed");
}

#[test]
fn stenosis_75pct_on_a_tube_halves_the_radius_within_2pct_and_keeps_the_surface_clean() {
    let (surface, ports, tags, axis) = tube();
    let (edited, reports) = apply_edits(&surface, &tags, &axis.path(), &[tube_stenosis()]).unwrap();
    let moved = moved(&surface, &edited);
    let min_r = moved.iter().map(|&v| radial(&edited.vertices[v])).fold(f64::INFINITY, f64::min);
    let report = reports[0];
    println!(
        "75 % stenosis: {} vertices moved, smallest moved-vertex radius {:.4} mm (expected 1.0000), report: \
         stretch {:.2}-{:.2} mm, requested {:.4} mm, achieved {:.4} mm, minimal area {:.4} mm^2",
        moved.len(),
        min_r * 1e3,
        report.from * 1e3,
        report.to * 1e3,
        report.requested_min_radius * 1e3,
        report.achieved_min_radius.unwrap() * 1e3,
        report.min_area.unwrap() * 1e6
    );
    assert!((min_r - 1e-3).abs() < 0.02e-3);
    assert_eq!(moved.len(), report.moved_vertices);
    assert!((report.achieved_min_radius.unwrap() / report.requested_min_radius - 1.0).abs() < 0.02);
    assert!(moved.iter().all(|&v| (edited.vertices[v].z - 16e-3).abs() < 4e-3));
    assert_clean("75 % stenosis", &edited, &ports, &tags);
}

/// The generator's 75 % stenosis, 8 mm long at 16 mm, of the test tube, with `eccentricity`.
fn generated_stenosis(eccentricity: f64) -> StenosisSpec {
    StenosisSpec {
        radius: R,
        length: LENGTH,
        area_reduction: 0.75,
        stenosis_length: 8e-3,
        center: 16e-3,
        eccentricity,
    }
}

#[test]
fn stenosis_matches_the_generated_stenosis_within_2pct_of_the_radius() {
    let (surface, _, tags, axis) = tube();
    let (edited, _) = apply_edits(&surface, &tags, &axis.path(), &[tube_stenosis()]).unwrap();
    let spec = generated_stenosis(0.0);
    let worst = edited
        .vertices
        .iter()
        .filter(|p| radial(p) > 0.1 * R)
        .map(|p| (radial(p) - spec.radius_at(p.z)).abs() / R)
        .fold(0.0, f64::max);
    let generated = inspect(&synth::stenosis(&spec, 64).unwrap().0).volume;
    let volume = inspect(&edited).volume;
    println!(
        "edited against generated stenosis: worst radius difference {:.2e} of R, volumes {volume:.6e} and \
         {generated:.6e} m^3 ({:+.3} %)",
        worst,
        100.0 * (volume / generated - 1.0)
    );
    assert!(worst < 0.02);
    assert!((volume / generated - 1.0).abs() < 0.01);
}

#[test]
fn eccentric_stenosis_keeps_the_generators_straight_wall_within_2pct() {
    let (surface, ports, tags, axis) = tube();
    let edit = Edit::Stenosis {
        at: Place::Near(Point3::new(R, 0.0, 16e-3)),
        length: 8e-3,
        area_reduction: 0.75,
        eccentricity: 1.0,
        direction: Some(Vector3::new(1.0, 0.0, 0.3)),
    };
    let (edited, _) = apply_edits(&surface, &tags, &axis.path(), &[edit]).unwrap();
    let spec = generated_stenosis(1.0);
    // The generator's ring at z: centre x = -(R - r(z)), radius r(z).
    let worst = edited
        .vertices
        .iter()
        .filter(|p| radial(p) > 0.1 * R)
        .map(|p| {
            let r = spec.radius_at(p.z);
            ((p.coords.xy() - nalgebra::Vector2::new(r - R, 0.0)).norm() - r).abs() / R
        })
        .fold(0.0, f64::max);
    let min_x = edited.vertices.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
    println!(
        "eccentric stenosis: worst distance to the generator's rings {worst:.2e} of R, min x {min_x:.4e} m"
    );
    assert!(worst < 0.02);
    assert!((min_x + R).abs() < 1e-3 * R);
    assert_clean("eccentric stenosis", &edited, &ports, &tags);
}

#[test]
fn stent_restores_the_tube_radius_within_1pct_and_never_narrows() {
    let (surface, ports, tags, axis) = tube();
    let path = axis.path();
    let (stenosed, _) = apply_edits(&surface, &tags, &path, &[tube_stenosis()]).unwrap();
    let stent = |diameter| Edit::Stent {
        from: Place::Abscissa(10e-3),
        to: Place::Abscissa(22e-3),
        diameter,
        oversize: 0.0,
    };
    let (stented, reports) = apply_edits(&stenosed, &tags, &path, &[stent(None)]).unwrap();
    let worst = stented
        .vertices
        .iter()
        .filter(|p| radial(p) > 0.1 * R && (10e-3..=22e-3).contains(&p.z))
        .map(|p| (radial(p) / R - 1.0).abs())
        .fold(0.0, f64::max);
    let report = reports[0];
    println!(
        "stent over 10-22 mm: worst radius error {worst:.2e}, reference {:.4} mm, restored minimal radius \
         {:.4} mm, minimal area {:.4} mm^2, {} vertices moved",
        report.requested_min_radius * 1e3,
        report.achieved_min_radius.unwrap() * 1e3,
        report.min_area.unwrap() * 1e6,
        report.moved_vertices
    );
    assert!(worst < 0.01);
    assert!((report.requested_min_radius - R).abs() < 1e-12);
    assert_clean("stented tube", &stented, &ports, &tags);

    // A 3 mm stent leaves the 4 mm tube as it is and opens the stenosis to 1.5 mm, never narrowing.
    let (same, reports) = apply_edits(&surface, &tags, &path, &[stent(Some(3e-3))]).unwrap();
    println!("3 mm stent in the 4 mm tube: {} vertices moved", reports[0].moved_vertices);
    assert!(moved(&surface, &same).is_empty() && reports[0].moved_vertices == 0);
    let (opened, _) = apply_edits(&stenosed, &tags, &path, &[stent(Some(3e-3))]).unwrap();
    let narrowed = (0..surface.vertices.len())
        .filter(|&v| radial(&opened.vertices[v]) < radial(&stenosed.vertices[v]) - 1e-15)
        .count();
    let min_r = opened
        .vertices
        .iter()
        .filter(|p| (10e-3..=22e-3).contains(&p.z) && radial(p) > 0.1 * R)
        .map(radial)
        .fold(f64::INFINITY, f64::min);
    println!(
        "3 mm stent in the stenosis: {narrowed} vertices narrowed, smallest radius {:.4} mm",
        min_r * 1e3
    );
    assert_eq!(narrowed, 0);
    assert!((min_r - 1.5e-3).abs() < 1e-9);
}

#[test]
fn edit_on_one_daughter_moves_no_vertex_of_the_other() {
    let r1 = R / 2f64.cbrt();
    let spec = BifurcationSpec {
        radius: R,
        length: 16e-3,
        daughter_radii: [r1, BifurcationSpec::murray(R, r1)],
        angle: 60f64.to_radians(),
        daughter_length: 16e-3,
    };
    let (surface, ports) = synth::bifurcation(&spec, 64).unwrap();
    let tags = tag_triangles(&surface, &ports).unwrap();
    let (j, axes) = (spec.junction(), [spec.daughter_axis(0), spec.daughter_axis(1)]);
    let [line, sister_line] =
        [0, 1].map(|k| Line::new(&[Point3::origin(), j, j + axes[k] * spec.daughter_length], &[R, r1]));
    // Distance (m) from p to daughter k's axis.
    let to_axis = |p: &Point3<f64>, k: usize| {
        let along = (p - j).dot(&axes[k]).clamp(0.0, spec.daughter_length);
        (p - (j + axes[k] * along)).norm()
    };
    // The other daughter: nearer its axis than daughter 1's (the crease where both meet, about equally
    // near both axes, is shared).
    let sister = |p: &Point3<f64>| p.z > j.z && to_axis(p, 1) < to_axis(p, 0) - SHARED_MARGIN * r1;
    // A 50 % stenosis 1.5 to 7.5 mm along daughter 1 from the junction.
    let edits = [stenosis(16e-3 + 4.5e-3, 6e-3, 0.5)];
    let (edited, reports) =
        apply_edits_in_tree(&surface, &tags, &line.path(), &[sister_line.path()], &edits).unwrap();
    let sister_moved =
        |edited: &Surface| moved(&surface, edited).iter().filter(|&&v| sister(&surface.vertices[v])).count();
    let alone = sister_moved(&apply_edits(&surface, &tags, &line.path(), &edits).unwrap().0);
    println!(
        "bifurcation: {} vertices moved, {} of the other daughter ({alone} without its path), minimal \
         radius {:.4} mm requested {:.4} mm",
        reports[0].moved_vertices,
        sister_moved(&edited),
        reports[0].achieved_min_radius.unwrap() * 1e3,
        reports[0].requested_min_radius * 1e3
    );
    assert!(reports[0].moved_vertices > 500);
    assert_eq!(sister_moved(&edited), 0);
    assert_clean("edited bifurcation", &edited, &ports, &tags);
}

#[test]
fn stenosis_and_stent_along_a_lattice_staircase_path_of_an_oblique_tube_stay_clean_within_2pct() {
    // The tube turned off the lattice axes, and the path a centreline traced on a 0.2 mm lattice
    // would give: the nodes nearest the axis, their inscribed radius and their stepped arc length.
    let (mut surface, ports, tags, _) = tube();
    let turn = nalgebra::Rotation3::from_axis_angle(
        &nalgebra::Unit::new_normalize(Vector3::new(1.0, 2.0, 0.5)),
        0.7,
    );
    surface.vertices.iter_mut().for_each(|p| *p = turn * *p);
    let ports: Vec<Port> =
        ports.into_iter().map(|p| Port { center: turn * p.center, normal: turn * p.normal, ..p }).collect();
    let (dx, axis) = (0.2e-3, turn * Vector3::z());
    let mut line = Line { points: vec![], abscissa: vec![], radius: vec![] };
    for i in 0..=(LENGTH / (dx / 4.0)) as usize {
        let node = (axis * (i as f64 * dx / 4.0) / dx).map(f64::round) * dx;
        if line.points.last() != Some(&Point3::from(node)) {
            let s = line
                .points
                .last()
                .map_or(0.0, |q| line.abscissa[line.abscissa.len() - 1] + (node - q.coords).norm());
            line.radius.push(R - (node - axis * node.dot(&axis)).norm());
            line.points.push(node.into());
            line.abscissa.push(s);
        }
    }
    let middle = line.abscissa[line.abscissa.len() - 1] / 2.0;
    let path = line.path();
    let (stenosed, narrowed) = apply_edits(&surface, &tags, &path, &[stenosis(middle, 8e-3, 0.75)]).unwrap();
    let stent = Edit::Stent {
        from: Place::Abscissa(middle - 6e-3),
        to: Place::Abscissa(middle + 6e-3),
        diameter: None,
        oversize: 0.0,
    };
    let (stented, widened) = apply_edits(&stenosed, &tags, &path, &[stent]).unwrap();
    let (n, w) = (narrowed[0], widened[0]);
    let (n_min, w_min) = (n.achieved_min_radius.unwrap(), w.achieved_min_radius.unwrap());
    println!(
        "staircase path ({} points, {:.2} mm long for {:.2} mm of axis): stenosis radius {:.4} mm requested \
         {:.4} mm, stent radius {:.4} mm requested {:.4} mm",
        line.points.len(),
        2.0 * middle * 1e3,
        LENGTH * 1e3,
        n_min * 1e3,
        n.requested_min_radius * 1e3,
        w_min * 1e3,
        w.requested_min_radius * 1e3
    );
    assert!((n_min / n.requested_min_radius - 1.0).abs() < 0.02);
    assert!((w_min / w.requested_min_radius - 1.0).abs() < 0.02);
    assert_clean("stenosis on the staircase path", &stenosed, &ports, &tags);
    assert_clean("stent on the staircase path", &stented, &ports, &tags);
}

#[test]
fn bad_edits_are_rejected_naming_the_field() {
    let (surface, _, tags, axis) = tube();
    let stent = |from: f64, to: f64, diameter, oversize| Edit::Stent {
        from: Place::Abscissa(from),
        to: Place::Abscissa(to),
        diameter,
        oversize,
    };
    let eccentric = |direction| Edit::Stenosis {
        at: Place::Abscissa(16e-3),
        length: 8e-3,
        area_reduction: 0.5,
        eccentricity: 0.5,
        direction: Some(direction),
    };
    let cases = [
        (vec![stenosis(16e-3, 8e-3, 0.96)], "plan.edits[0].area_reduction"),
        (vec![stenosis(16e-3, -8e-3, 0.5)], "plan.edits[0].length"),
        (vec![stenosis(40e-3, 8e-3, 0.5)], "plan.edits[0].at"),
        (vec![stenosis(30e-3, 8e-3, 0.5)], "plan.edits[0].length"),
        (vec![tube_stenosis(), stenosis(28e-3, 8e-3, 0.5)], "plan.edits[1]: the edit reshapes"),
        (vec![stent(22e-3, 10e-3, None, 0.0)], "plan.edits[0].to"),
        (vec![stent(10e-3, 22e-3, Some(-3e-3), 0.0)], "plan.edits[0].diameter"),
        (vec![stent(10e-3, 22e-3, None, 0.8)], "plan.edits[0].oversize"),
        (vec![eccentric(Vector3::z())], "plan.edits[0].direction"),
        (
            vec![Edit::Stenosis {
                at: Place::Near(Point3::new(0.02, 0.0, 16e-3)),
                length: 8e-3,
                area_reduction: 0.5,
                eccentricity: 0.0,
                direction: None,
            }],
            "plan.edits[0].at",
        ),
    ];
    for (edits, field) in cases {
        let error = apply_edits(&surface, &tags, &axis.path(), &edits).unwrap_err().to_string();
        println!("error: {error}");
        assert!(error.starts_with(field), "{error} should name {field}");
    }
    let short =
        CenterlinePath { points: &axis.points[..1], abscissa: &axis.abscissa[..1], radius: &axis.radius };
    let error = apply_edits(&surface, &tags, &short, &[tube_stenosis()]).unwrap_err().to_string();
    println!("error: {error}");
    assert!(error.starts_with("centerline"));
}
