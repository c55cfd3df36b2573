//! Lumen cross-sections: the area where a plane across the path cuts the surface.

use crate::geometry::mesh::Surface;
use nalgebra::{Point3, Vector3};
use rustc_hash::FxHashMap;
use std::f64::consts::PI;

/// A mesh edge as its vertex indices, smaller first.
type Edge = (u32, u32);

/// Area (m²) of the lumen cut by the plane through `center` with unit `normal`: of the closed loops
/// where the triangles with a vertex within `reach` (m) of `center` cross the plane, the one that winds
/// around `center`, else the one passing nearest to it; None when no loop closes.
pub(super) fn cross_section(
    surface: &Surface,
    center: Point3<f64>,
    normal: Vector3<f64>,
    reach: f64,
) -> Option<f64> {
    // Each crossing triangle gives one segment from the edge where the contour enters it to the edge
    // where it leaves, oriented counter-clockwise about `normal` for an outward surface.
    let mut segments: Vec<(Point3<f64>, Point3<f64>, Edge)> = Vec::new();
    let mut starting: FxHashMap<Edge, usize> = FxHashMap::default();
    for t in &surface.triangles {
        let p = t.map(|v| surface.vertices[v as usize]);
        if p.iter().all(|q| (q - center).norm() > reach) {
            continue;
        }
        let h = p.map(|q| (q - center).dot(&normal));
        let above = h.map(|x| x >= 0.0);
        let mut cuts = (0..3).filter(|&i| above[i] != above[(i + 1) % 3]).map(|i| {
            let j = (i + 1) % 3;
            ((t[i].min(t[j]), t[i].max(t[j])), p[i] + (p[j] - p[i]) * (h[i] / (h[i] - h[j])))
        });
        let (Some(a), Some(b)) = (cuts.next(), cuts.next()) else { continue };
        let along = normal.cross(&(p[1] - p[0]).cross(&(p[2] - p[0])));
        let (enter, leave) = if (b.1 - a.1).dot(&along) >= 0.0 { (a, b) } else { (b, a) };
        starting.insert(enter.0, segments.len());
        segments.push((enter.1, leave.1, leave.0));
    }
    let mut used = vec![false; segments.len()];
    // (winds around the centre, distance from the centre, area) of the best closed loop so far.
    let mut best: Option<(bool, f64, f64)> = None;
    for first in 0..segments.len() {
        if used[first] {
            continue;
        }
        let (mut s, mut area, mut turn, mut nearest) = (first, 0.0, 0.0, f64::INFINITY);
        let closed = loop {
            used[s] = true;
            let (a, b) = (segments[s].0 - center, segments[s].1 - center);
            let cross = a.cross(&b).dot(&normal);
            area += cross / 2.0;
            turn += cross.atan2(a.dot(&b));
            nearest = nearest.min(a.norm());
            match starting.get(&segments[s].2) {
                Some(&next) if next == first => break true,
                Some(&next) if !used[next] => s = next,
                _ => break false,
            }
        };
        let winds = (turn.abs() - 2.0 * PI).abs() < 1.0;
        let better = best.is_none_or(|(w, d, _)| (winds, -nearest) > (w, -d));
        if closed && better {
            best = Some((winds, nearest, area.abs()));
        }
    }
    best.map(|(_, _, area)| area)
}
