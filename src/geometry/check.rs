//! Surface checks: edge topology, holes, orientation, area and volume, and the closed-surface
//! requirement of the flow solver.

use crate::error::{Error, Result};
use crate::geometry::mesh::Surface;
use nalgebra::Point3;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;
use std::path::Path;

/// Topology and size of a triangle surface; lengths in metres, area in m², volume in m³.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceReport {
    /// Number of triangles.
    pub triangles: usize,
    /// Number of vertices.
    pub vertices: usize,
    /// Edges used by exactly one triangle (open edges).
    pub boundary_edges: usize,
    /// Edges used by more than two triangles.
    pub nonmanifold_edges: usize,
    /// Triangles with area below 1e-12 times the squared bounding-box diagonal.
    pub degenerate_triangles: usize,
    /// Connected groups of open edges, largest (most edges) first.
    pub holes: Vec<Hole>,
    /// Lower corner of the bounding box (m).
    pub bbox_min: Point3<f64>,
    /// Upper corner of the bounding box (m).
    pub bbox_max: Point3<f64>,
    /// Total triangle area (m²).
    pub area: f64,
    /// Signed enclosed volume (m³), positive when triangles face outward.
    pub volume: f64,
}

/// A connected group of open edges (usually one loop around a hole).
#[derive(Debug, Clone, PartialEq)]
pub struct Hole {
    /// Number of open edges in the group.
    pub edges: usize,
    /// Mean position of the group's vertices (m).
    pub center: Point3<f64>,
}

/// An edge as its vertex indices, smaller first.
type Edge = (u32, u32);

/// How many triangles use each edge; edges joining a vertex to itself are skipped.
fn edge_uses(surface: &Surface) -> HashMap<Edge, u32> {
    let mut uses = HashMap::with_capacity_and_hasher(surface.triangles.len() * 3 / 2, Default::default());
    for tri in &surface.triangles {
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            if a != b {
                *uses.entry((a.min(b), a.max(b))).or_insert(0u32) += 1;
            }
        }
    }
    uses
}

/// Lower and upper corners of the box around `points` (the origin twice when there are none).
fn bounding_box(points: &[Point3<f64>]) -> (Point3<f64>, Point3<f64>) {
    match points.split_first() {
        None => (Point3::origin(), Point3::origin()),
        Some((first, rest)) => rest.iter().fold((*first, *first), |(lo, hi), p| (lo.inf(p), hi.sup(p))),
    }
}

/// Groups open edges into connected components, largest first.
fn holes(surface: &Surface, open: &[Edge]) -> Vec<Hole> {
    let mut neighbours: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(a, b) in open {
        neighbours.entry(a).or_default().push(b);
        neighbours.entry(b).or_default().push(a);
    }
    let mut seen = HashSet::default();
    let mut found = Vec::new();
    for &start in neighbours.keys() {
        if !seen.insert(start) {
            continue;
        }
        let (mut stack, mut members) = (vec![start], Vec::new());
        while let Some(v) = stack.pop() {
            members.push(v);
            for &w in &neighbours[&v] {
                if seen.insert(w) {
                    stack.push(w);
                }
            }
        }
        let degree_sum: usize = members.iter().map(|v| neighbours[v].len()).sum();
        let sum =
            members.iter().fold(Point3::origin().coords, |s, &v| s + surface.vertices[v as usize].coords);
        found.push(Hole { edges: degree_sum / 2, center: Point3::from(sum / members.len() as f64) });
    }
    found.sort_by_key(|h| std::cmp::Reverse(h.edges));
    found
}

/// Measures `surface`: counts, open and non-manifold edges, degenerate triangles, holes,
/// bounding box (m), area (m²) and signed volume (m³).
pub fn inspect(surface: &Surface) -> SurfaceReport {
    let (bbox_min, bbox_max) = bounding_box(&surface.vertices);
    let tiny_area = 1e-12 * (bbox_max - bbox_min).norm_squared();
    // Volume relative to the box centre keeps round-off small for surfaces far from the origin.
    let origin = nalgebra::center(&bbox_min, &bbox_max);
    let (mut area, mut volume, mut degenerate_triangles) = (0.0, 0.0, 0);
    for tri in &surface.triangles {
        let [a, b, c] = tri.map(|i| surface.vertices[i as usize] - origin);
        let twice_area = (b - a).cross(&(c - a)).norm();
        if 0.5 * twice_area <= tiny_area {
            degenerate_triangles += 1;
        }
        area += 0.5 * twice_area;
        volume += a.dot(&b.cross(&c)) / 6.0;
    }
    let uses = edge_uses(surface);
    let mut open: Vec<Edge> = uses.iter().filter(|&(_, &n)| n == 1).map(|(&e, _)| e).collect();
    open.sort_unstable();
    SurfaceReport {
        triangles: surface.triangles.len(),
        vertices: surface.vertices.len(),
        boundary_edges: open.len(),
        nonmanifold_edges: uses.values().filter(|&&n| n > 2).count(),
        degenerate_triangles,
        holes: holes(surface, &open),
        bbox_min,
        bbox_max,
        area,
        volume,
    }
}

/// `p` (m) written in millimetres with two decimals.
fn mm(p: &Point3<f64>) -> String {
    // Adding 0.0 after rounding turns -0.0 into 0.0, so round-off never prints "-0.00".
    let c = |v: f64| (v * 1e5).round() / 100.0 + 0.0;
    format!("({:.2}, {:.2}, {:.2}) mm", c(p.x), c(p.y), c(p.z))
}

/// Checks that `surface` (read from `path`) has triangles and only finite coordinates.
pub fn require_usable(surface: &Surface, path: &Path) -> Result<()> {
    if surface.triangles.is_empty() {
        return Err(Error::input(
            path,
            "the surface has no triangles; export the segmented vessel again (the segmentation may be empty)",
        ));
    }
    for (t, tri) in surface.triangles.iter().enumerate() {
        for (corner, &v) in tri.iter().enumerate() {
            let p = surface.vertices[v as usize];
            if let Some((axis, value)) =
                ["x", "y", "z"].into_iter().zip(p.iter()).find(|(_, c)| !c.is_finite())
            {
                return Err(Error::input(
                    path,
                    format!(
                        "triangle {t}, corner {corner} (vertex {v}) has a non-finite coordinate {axis} = {value}; \
                         NaN or infinite coordinates usually come from a failed smoothing, decimation or \
                         remeshing step: redo that step or export the surface again"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Checks that `surface` (read from `path`) is a closed, manifold, outward-oriented surface the
/// flow solver can voxelise, and returns its report.
pub fn require_closed(surface: &Surface, path: &Path) -> Result<SurfaceReport> {
    require_usable(surface, path)?;
    let report = inspect(surface);
    if let Some(largest) = report.holes.first() {
        let n = report.holes.len();
        return Err(Error::input(
            path,
            format!(
                "the surface has {n} hole{} ({} open edges); the largest at {} with {} edges; the flow \
                 solver needs a closed surface: cap the open ends (flat caps at the inlet and outlets) or \
                 fix the segmentation",
                if n == 1 { "" } else { "s" },
                report.boundary_edges,
                mm(&largest.center),
                largest.edges
            ),
        ));
    }
    if report.nonmanifold_edges > 0 {
        let first = edge_uses(surface).into_iter().filter(|&(_, n)| n > 2).map(|(e, _)| e).min();
        let at = first.map_or(String::new(), |(a, b)| {
            format!(
                ", the first at {}",
                mm(&nalgebra::center(&surface.vertices[a as usize], &surface.vertices[b as usize]))
            )
        });
        return Err(Error::input(
            path,
            format!(
                "the surface has {} non-manifold edges (shared by more than two triangles){at}; remove \
                 duplicated or overlapping triangles, or merge touching parts into one surface in the \
                 segmentation tool",
                report.nonmanifold_edges
            ),
        ));
    }
    let (flipped, at) = crate::geometry::repair::inconsistent_edges(surface);
    if let Some(at) = at {
        return Err(Error::input(
            path,
            format!(
                "{flipped} edges join triangles of opposite orientation (some triangles are flipped), the \
                 first at {}; run `hemotwin mesh check {} --repair -o FIXED.stl` to orient them consistently \
                 outward",
                mm(&at),
                path.display()
            ),
        ));
    }
    let (crossings, at) = crate::geometry::repair::self_intersections(surface, 3);
    if crossings > 0 {
        let places: Vec<String> = at.iter().map(mm).collect();
        return Err(Error::input(
            path,
            format!(
                "the surface intersects itself: {crossings} crossing triangle pairs, e.g. at {}; the inside \
                 of the vessel is ambiguous there; fix the segmentation (separate touching vessels, smooth \
                 the self-overlapping region) and export it again",
                places.join(", ")
            ),
        ));
    }
    let volume_mm3 = report.volume * 1e9;
    if report.volume < 0.0 {
        return Err(Error::input(
            path,
            format!(
                "the enclosed volume is negative ({volume_mm3:.3} mm^3): the triangles are oriented inward; \
                 flip them (run `hemotwin mesh check FILE --repair -o FIXED.stl`, or reverse the vertex \
                 order of every triangle: most mesh tools call this \"flip normals\")"
            ),
        ));
    }
    if report.volume == 0.0 {
        return Err(Error::input(
            path,
            "the surface encloses no volume (it is flat or collapsed); export the segmented vessel again",
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::synth::{TubeSpec, tube};

    const LENGTH: f64 = 20e-3;

    fn test_tube() -> Surface {
        tube(&TubeSpec { radius: 2e-3, length: LENGTH }, 32).unwrap().0
    }

    fn error_text(r: Result<SurfaceReport>) -> String {
        let e = r.expect_err("expected the check to fail").to_string();
        println!("error: {e}");
        e
    }

    #[test]
    fn tetrahedron_area_and_volume_are_exact() {
        let surface = Surface {
            vertices: vec![
                Point3::new(0.0, 0.0, 0.0),
                Point3::new(1.0, 0.0, 0.0),
                Point3::new(0.0, 1.0, 0.0),
                Point3::new(0.0, 0.0, 1.0),
            ],
            triangles: vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]],
        };
        let r = require_closed(&surface, Path::new("tet.stl")).unwrap();
        let area = 1.5 + 3f64.sqrt() / 2.0;
        println!("volume {} (1/6), area {} ({area})", r.volume, r.area);
        assert!((r.volume - 1.0 / 6.0).abs() < 1e-15 && (r.area - area).abs() < 1e-15);
        assert_eq!((r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles), (0, 0, 0));
        assert_eq!((r.bbox_min, r.bbox_max), (Point3::origin(), Point3::new(1.0, 1.0, 1.0)));
    }

    #[test]
    fn tube_with_one_triangle_removed_reports_one_three_edge_hole() {
        let mut surface = test_tube();
        surface.triangles.remove(10);
        let r = inspect(&surface);
        println!("boundary edges {}, holes {:?}", r.boundary_edges, r.holes);
        assert_eq!((r.boundary_edges, r.holes.len(), r.holes[0].edges), (3, 1, 3));
        assert!(error_text(require_closed(&surface, Path::new("t.stl"))).contains("1 hole"));
    }

    #[test]
    fn uncapped_tube_has_two_holes_at_its_ends() {
        let mut surface = test_tube();
        let on_end = |z: f64| z.abs() < 1e-12 || (z - LENGTH).abs() < 1e-12;
        let verts = surface.vertices.clone();
        surface.triangles.retain(|t| !t.iter().all(|&v| on_end(verts[v as usize].z)));
        let r = inspect(&surface);
        println!("holes {:?}", r.holes);
        assert_eq!(r.holes.len(), 2);
        for (hole, z) in r.holes.iter().zip([0.0, LENGTH]) {
            assert_eq!(hole.edges, 32);
            assert!((hole.center - Point3::new(0.0, 0.0, z)).norm() < 1e-12);
        }
        assert!(error_text(require_closed(&surface, Path::new("t.stl"))).contains("2 holes (64 open edges)"));
    }

    #[test]
    fn inside_out_tube_is_rejected_as_inward() {
        let mut surface = test_tube();
        for t in &mut surface.triangles {
            t.swap(1, 2);
        }
        let r = inspect(&surface);
        println!("volume {:.6e} m^3", r.volume);
        assert!(r.volume < 0.0);
        assert!(error_text(require_closed(&surface, Path::new("t.stl"))).contains("inward"));
    }

    #[test]
    fn duplicated_triangle_makes_nonmanifold_edges() {
        let mut surface = test_tube();
        surface.triangles.push(surface.triangles[5]);
        let r = inspect(&surface);
        println!("non-manifold edges {}", r.nonmanifold_edges);
        assert_eq!(r.nonmanifold_edges, 3);
        assert!(error_text(require_closed(&surface, Path::new("t.stl"))).contains("non-manifold"));
    }

    #[test]
    fn collinear_triangle_is_degenerate() {
        let surface = Surface {
            vertices: vec![
                Point3::new(0.0, 0.0, 0.0),
                Point3::new(1.0, 0.0, 0.0),
                Point3::new(2.0, 0.0, 0.0),
            ],
            triangles: vec![[0, 1, 2]],
        };
        let r = inspect(&surface);
        assert_eq!((r.degenerate_triangles, r.boundary_edges, r.holes.len()), (1, 3, 1));
    }

    #[test]
    fn empty_surface_is_rejected() {
        assert!(error_text(require_closed(&Surface::default(), Path::new("t.stl"))).contains("no triangles"));
    }
    #[test]
    fn a_flipped_triangle_is_refused_pointing_to_repair() {
        let mut s = test_tube();
        s.triangles[7].swap(0, 1);
        let e = error_text(require_closed(&s, Path::new("flip.stl")));
        assert!(e.contains("3 edges") && e.contains("--repair"), "{e}");
    }

    #[test]
    fn a_self_intersecting_surface_is_refused_with_locations() {
        let s = test_tube();
        let mut two = s.clone();
        let n = s.vertices.len() as u32;
        two.vertices.extend(s.vertices.iter().map(|p| p + nalgebra::Vector3::new(1e-3, 0.0, 0.0)));
        two.triangles.extend(s.triangles.iter().map(|t| t.map(|v| v + n)));
        let e = error_text(require_closed(&two, Path::new("overlap.stl")));
        assert!(e.contains("intersects itself") && e.contains(" mm"), "{e}");
    }
}
