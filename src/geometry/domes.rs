//! Closed vessel surfaces with rounded (domed) caps, as some segmentation tools write them: the
//! vessel ends are found as the persistent maxima of the geodesic distance over the surface, and
//! each is clipped by a plane square to the local vessel axis, leaving an open end that
//! [`cap_open_ends`](super::ports::cap_open_ends) closes with a flat cap.

use super::mesh::Surface;
use crate::error::{Error, Result};
use nalgebra::{Point3, Vector3};
use rustc_hash::FxHashMap;
use std::collections::BinaryHeap;
use std::path::Path;

/// A plane that clips one domed end: a point on it and its unit normal towards the tip (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndPlane {
    /// Point on the plane, on the vessel axis (m).
    pub center: Point3<f64>,
    /// Unit normal pointing out of the vessel, towards the dome's tip.
    pub normal: Vector3<f64>,
    /// Vessel radius where the plane cuts (m).
    pub radius: f64,
    /// The tip vertex of the dome.
    pub tip: u32,
}

/// Vertex neighbours with edge lengths (m), as a compressed adjacency list.
struct Graph {
    start: Vec<usize>,
    to: Vec<(u32, f64)>,
}

impl Graph {
    fn new(surface: &Surface) -> Self {
        let n = surface.vertices.len();
        let mut degree = vec![0usize; n + 1];
        for t in &surface.triangles {
            for &v in t {
                degree[v as usize + 1] += 2;
            }
        }
        for i in 0..n {
            degree[i + 1] += degree[i];
        }
        let mut fill = degree.clone();
        let mut to = vec![(0u32, 0.0); degree[n]];
        for t in &surface.triangles {
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                let len = (surface.vertices[a as usize] - surface.vertices[b as usize]).norm();
                for (x, y) in [(a, b), (b, a)] {
                    to[fill[x as usize]] = (y, len);
                    fill[x as usize] += 1;
                }
            }
        }
        Graph { start: degree, to }
    }

    fn neighbours(&self, v: usize) -> &[(u32, f64)] {
        &self.to[self.start[v]..self.start[v + 1]]
    }

    /// Geodesic distance (m, along edges) from `source` to every vertex.
    fn distances(&self, source: usize) -> Vec<f64> {
        use crate::geometry::mesh::Entry;
        let mut d = vec![f64::INFINITY; self.start.len() - 1];
        d[source] = 0.0;
        let mut heap = BinaryHeap::from([Entry(0.0, source)]);
        while let Some(Entry(here, v)) = heap.pop() {
            if here > d[v] {
                continue;
            }
            for &(w, len) in self.neighbours(v) {
                let nd = here + len;
                if nd < d[w as usize] {
                    d[w as usize] = nd;
                    heap.push(Entry(nd, w as usize));
                }
            }
        }
        d
    }
}

fn argmax(d: &[f64]) -> usize {
    d.iter().enumerate().filter(|(_, x)| x.is_finite()).fold(0, |b, (i, &x)| if x > d[b] { i } else { b })
}

/// The maxima of `d` over the graph whose persistence (height above the level where their region
/// merges with a higher one) is at least `min_persistence`.
fn persistent_maxima(graph: &Graph, d: &[f64], min_persistence: f64) -> Vec<usize> {
    let n = d.len();
    let mut order: Vec<usize> = (0..n).filter(|&v| d[v].is_finite()).collect();
    order.sort_by(|&a, &b| d[b].total_cmp(&d[a]));
    let mut parent: Vec<usize> = (0..n).collect();
    let mut done = vec![false; n];
    // Per component root: the vertex of its maximum.
    let peak: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    let mut kept = Vec::new();
    for &v in &order {
        done[v] = true;
        for &(w, _) in graph.neighbours(v) {
            let w = w as usize;
            if !done[w] {
                continue;
            }
            let (rv, rw) = (root(&mut parent, v), root(&mut parent, w));
            if rv == rw {
                continue;
            }
            // The component with the lower peak dies here.
            let (high, low) = if d[peak[rv]] >= d[peak[rw]] { (rv, rw) } else { (rw, rv) };
            if d[peak[low]] - d[v] >= min_persistence {
                kept.push(peak[low]);
            }
            parent[low] = high;
        }
    }
    if let Some(&top) = order.first() {
        kept.push(top);
    }
    kept
}

/// Finds the domed ends of a closed tubular `surface` and the plane that clips each, one vessel
/// radius inside the end of the dome, square to the axis there.
pub fn find_domed_ends(surface: &Surface, origin: &Path) -> Result<Vec<EndPlane>> {
    let report = super::check::inspect(surface);
    if report.volume <= 0.0 || report.area <= 0.0 {
        return Err(Error::input(origin, "the surface encloses no volume; cannot find its ends"));
    }
    // Radius of a cylinder with the surface's volume-to-area ratio.
    let typical = 2.0 * report.volume / report.area;
    let graph = Graph::new(surface);
    let first = argmax(&graph.distances(0));
    let from_first = graph.distances(first);
    let mut tips = vec![first];
    tips.extend(persistent_maxima(&graph, &from_first, 2.0 * typical));
    tips.sort_unstable();
    tips.dedup();
    tips.iter().map(|&tip| end_plane(surface, &graph, tip, typical, origin)).collect()
}

/// The clipping plane of the end whose tip is vertex `tip`, from rings of equal geodesic distance
/// from the tip: their radius grows over the dome and levels off on the vessel beyond it.
fn end_plane(surface: &Surface, graph: &Graph, tip: usize, typical: f64, origin: &Path) -> Result<EndPlane> {
    let d = graph.distances(tip);
    let band = typical / 8.0;
    let bands = 64;
    let mut sums = vec![(Vector3::zeros(), 0usize); bands];
    for (v, &g) in d.iter().enumerate() {
        let k = (g / band) as usize;
        if k < bands {
            sums[k].0 += surface.vertices[v].coords;
            sums[k].1 += 1;
        }
    }
    let centre: Vec<Option<Point3<f64>>> =
        sums.iter().map(|&(s, n)| (n >= 6).then(|| Point3::from(s / n as f64))).collect();
    let mut radius = vec![0.0; bands];
    let mut count = vec![0usize; bands];
    for (v, &g) in d.iter().enumerate() {
        let k = (g / band) as usize;
        if let Some(Some(c)) = centre.get(k) {
            radius[k] += (surface.vertices[v] - c).norm();
            count[k] += 1;
        }
    }
    for k in 0..bands {
        radius[k] /= count[k].max(1) as f64;
    }
    let at = surface.vertices[tip] * 1e3;
    let fail = || {
        Error::input(
            origin,
            format!(
                "cannot find the vessel's axis behind the rounded end at ({:.2}, {:.2}, {:.2}) mm (too short \
                 or irregular); trim the ends square in the segmentation tool, or give [[geometry.ports]]",
                at.x, at.y, at.z
            ),
        )
    };
    // The dome ends where the ring radius reaches 95 % of its largest value over the next two radii.
    let steps = |r: f64| ((r / band).round() as usize).max(1);
    let base = (1..bands)
        .find(|&k| {
            let ahead = (k + 2 * steps(radius[k])).min(bands - 1);
            centre[k].is_some()
                && ahead > k
                && radius[k] >= 0.95 * radius[k..=ahead].iter().fold(0.0f64, |a, &b| a.max(b))
        })
        .ok_or_else(fail)?;
    let r = radius[base];
    let (cut, further) = (base + steps(r), base + 3 * steps(r));
    let (Some(Some(c_base)), Some(Some(c_cut)), Some(Some(c_far))) =
        (centre.get(base), centre.get(cut), centre.get(further))
    else {
        return Err(fail());
    };
    let mut axis = (c_base - c_far).try_normalize(1e-12 * typical).ok_or_else(fail)?;
    // Rings around an off-centre tip are tilted; refine the axis as the direction the wall's
    // normals avoid over two radii of vessel behind the cut.
    for _ in 0..3 {
        axis = wall_axis(surface, c_cut, axis, r).unwrap_or(axis);
    }
    Ok(EndPlane { center: *c_cut, normal: axis, radius: r, tip: tip as u32 })
}

/// The axis of the vessel segment from `center` back along `-axis` for two radii `r`: the
/// eigenvector of least weight of the area-weighted wall normals' scatter matrix, signed like `axis`.
fn wall_axis(surface: &Surface, center: &Point3<f64>, axis: Vector3<f64>, r: f64) -> Option<Vector3<f64>> {
    let mut scatter = nalgebra::Matrix3::zeros();
    let mut used = 0;
    for t in &surface.triangles {
        let [a, b, c] = t.map(|v| surface.vertices[v as usize]);
        let d = a + ((b - a) + (c - a)) / 3.0 - center;
        let along = -d.dot(&axis);
        if along <= 0.0 || along > 2.0 * r || (d + axis * along).norm() > 2.0 * r {
            continue;
        }
        let n = (b - a).cross(&(c - a));
        scatter += n * n.transpose() / n.norm().max(f64::MIN_POSITIVE);
        used += 1;
    }
    if used < 12 {
        return None;
    }
    let eigen = nalgebra::SymmetricEigen::new(scatter);

    let (k, _) = eigen.eigenvalues.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
    let v: Vector3<f64> = eigen.eigenvectors.column(k).into();
    Some(if v.dot(&axis) < 0.0 { -v } else { v })
}

/// Removes the part of `surface` beyond each plane that is connected to that plane's tip, splitting
/// the triangles the plane crosses, so that each end becomes an open planar loop.
pub fn clip_ends(surface: &mut Surface, planes: &[EndPlane], origin: &Path) -> Result<()> {
    let mut edge_triangles: FxHashMap<(u32, u32), Vec<usize>> = FxHashMap::default();
    for (t, tri) in surface.triangles.iter().enumerate() {
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            edge_triangles.entry((a.min(b), a.max(b))).or_default().push(t);
        }
    }
    let mut removed = vec![false; surface.triangles.len()];
    let mut added = Vec::new();
    for plane in planes {
        let mean_edge = 0.1 * plane.radius;
        let mut h: FxHashMap<u32, f64> = FxHashMap::default();
        let mut height = |surface: &mut Surface, v: u32| -> f64 {
            *h.entry(v).or_insert_with(|| {
                let x = (surface.vertices[v as usize] - plane.center).dot(&plane.normal);
                if x.abs() < 1e-3 * mean_edge {
                    // Snap onto the plane: no sliver triangles next to the cut.
                    surface.vertices[v as usize] -= plane.normal * x;
                    0.0
                } else {
                    x
                }
            })
        };
        if height(surface, plane.tip) <= 0.0 {
            let at = surface.vertices[plane.tip as usize] * 1e3;
            return Err(Error::input(
                origin,
                format!("the rounded end at ({:.2}, {:.2}, {:.2}) mm could not be clipped", at.x, at.y, at.z),
            ));
        }
        // Triangles beyond or across the plane, connected to the tip.
        let mut region = Vec::new();
        let mut seen = vec![false; surface.triangles.len()];
        let mut stack: Vec<usize> =
            (0..surface.triangles.len()).filter(|&t| surface.triangles[t].contains(&plane.tip)).collect();
        while let Some(t) = stack.pop() {
            if seen[t] || removed[t] {
                continue;
            }
            seen[t] = true;
            let tri = surface.triangles[t];
            if !tri.iter().any(|&v| height(surface, v) > 0.0) {
                continue;
            }
            region.push(t);
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                stack.extend(edge_triangles[&(a.min(b), a.max(b))].iter().copied());
            }
        }
        let mut on_edge: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for t in region {
            removed[t] = true;
            let tri = surface.triangles[t];
            let hs = tri.map(|v| height(surface, v));
            let mut cut = |surface: &mut Surface, a: usize, b: usize| -> u32 {
                let (va, vb) = (tri[a], tri[b]);
                *on_edge.entry((va.min(vb), va.max(vb))).or_insert_with(|| {
                    let s = hs[a] / (hs[a] - hs[b]);
                    let (pa, pb) = (surface.vertices[va as usize], surface.vertices[vb as usize]);
                    surface.vertices.push(pa + (pb - pa) * s);
                    surface.vertices.len() as u32 - 1
                })
            };
            // Walk the triangle's corners in order, keeping those on or below the plane and
            // inserting the crossing point on each edge that crosses it.
            let mut polygon = Vec::with_capacity(4);
            for k in 0..3 {
                let next = (k + 1) % 3;
                if hs[k] <= 0.0 {
                    polygon.push(tri[k]);
                }
                if (hs[k] < 0.0 && hs[next] > 0.0) || (hs[k] > 0.0 && hs[next] < 0.0) {
                    let (inside, outside) = if hs[k] < 0.0 { (k, next) } else { (next, k) };
                    let p = cut(surface, inside, outside);
                    polygon.push(p);
                }
            }
            polygon.dedup();
            if polygon.len() >= 3 {
                added.extend((1..polygon.len() - 1).map(|i| [polygon[0], polygon[i], polygon[i + 1]]));
            }
        }
    }
    let kept = surface.triangles.iter().zip(&removed).filter(|(_, r)| !**r).map(|(t, _)| *t);
    surface.triangles = kept.chain(added).collect();
    // Drop the vertices no triangle uses any more.
    surface.drop_unused_vertices();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::implicit::{cylinder, sphere, surface_of};
    use crate::geometry::ports::cap_open_ends;

    /// A tube of radius 2 mm from z = 0 to 30 mm, with hemispherical ends beyond.
    fn capsule() -> Surface {
        let (r, l) = (2e-3, 30e-3);
        let (a, b) = (Point3::origin(), Point3::new(0.0, 0.0, l));
        surface_of(
            |p| cylinder(p, &a, &Vector3::z(), l, r).min(sphere(p, &a, r)).min(sphere(p, &b, r)),
            Point3::new(-r, -r, -r),
            Point3::new(r, r, l + r),
            r / 10.0,
        )
    }

    #[test]
    fn hemispherical_ends_of_a_tube_are_found_and_clipped_square_to_the_axis() {
        let mut s = capsule();
        let planes = find_domed_ends(&s, Path::new("capsule.stl")).unwrap();
        for p in &planes {
            println!(
                "end: centre ({:.3}, {:.3}, {:.3}) mm, normal ({:.4}, {:.4}, {:.4}), radius {:.3} mm",
                p.center.x * 1e3,
                p.center.y * 1e3,
                p.center.z * 1e3,
                p.normal.x,
                p.normal.y,
                p.normal.z,
                p.radius * 1e3
            );
        }
        assert_eq!(planes.len(), 2);
        for p in &planes {
            assert!(p.normal.z.abs() > 0.9998, "normal within 1 degree of the axis");
            assert!((p.radius / 2e-3 - 1.0).abs() < 0.03);
            assert!(p.center.coords.xy().norm() < 0.05e-3);
            // Cut inside the straight part, beyond the dome.
            assert!(p.center.z > 0.0 && p.center.z < 30e-3);
        }
        clip_ends(&mut s, &planes, Path::new("capsule.stl")).unwrap();
        let (ports, _) = cap_open_ends(&mut s, Path::new("capsule.stl")).unwrap();
        let r = crate::geometry::check::inspect(&s);
        assert_eq!((r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles), (0, 0, 0));
        for p in &ports {
            println!("port {}: radius {:.4} mm, normal z {:.5}", p.name, p.radius * 1e3, p.normal.z);
            assert!((p.radius / 2e-3 - 1.0).abs() < 0.02);
        }
    }
}
