//! Surface defects beyond topology counts (near-duplicate vertices, locally flipped triangles,
//! self-intersections) and the safe repairs `hemotwin mesh check --repair` makes.

use super::mesh::Surface;
use crate::geometry::mesh::segment_triangle;
use nalgebra::Point3;
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

/// Length below which two vertices are the same point: `1e-6` of the bounding-box diagonal.
pub fn duplicate_tolerance(surface: &Surface) -> f64 {
    let r = super::check::inspect(surface);
    1e-6 * (r.bbox_max - r.bbox_min).norm()
}

/// For each vertex, the lowest-numbered vertex within `tol` of it (itself when unique).
fn representatives(surface: &Surface, tol: f64) -> Vec<u32> {
    let key = |p: &Point3<f64>| [p.x, p.y, p.z].map(|v| (v / tol).floor() as i64);
    let mut cells: HashMap<[i64; 3], Vec<u32>> = HashMap::default();
    for (i, p) in surface.vertices.iter().enumerate() {
        cells.entry(key(p)).or_default().push(i as u32);
    }
    let mut rep: Vec<u32> = (0..surface.vertices.len() as u32).collect();
    for (i, p) in surface.vertices.iter().enumerate() {
        let k = key(p);
        for d in 0..27 {
            let c = [k[0] + d % 3 - 1, k[1] + (d / 3) % 3 - 1, k[2] + d / 9 - 1];
            for &j in cells.get(&c).map(Vec::as_slice).unwrap_or(&[]) {
                if (j as usize) < i && (surface.vertices[j as usize] - p).norm() <= tol {
                    rep[i] = rep[i].min(rep[j as usize]);
                }
            }
        }
    }
    rep
}

/// Number of vertices that lie within `tol` of a lower-numbered one.
pub fn duplicate_vertices(surface: &Surface, tol: f64) -> usize {
    representatives(surface, tol).iter().enumerate().filter(|(i, r)| **r as usize != *i).count()
}

/// Edges shared by exactly two triangles that traverse it in the same direction (one of the two is
/// flipped relative to the other), and the midpoint (m) of the lowest-numbered such edge.
pub fn inconsistent_edges(surface: &Surface) -> (usize, Option<Point3<f64>>) {
    // Per undirected edge: how many triangles traverse it low -> high and high -> low.
    let mut uses: HashMap<(u32, u32), (u32, u32)> = HashMap::default();
    for t in &surface.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            let e = uses.entry((a.min(b), a.max(b))).or_insert((0, 0));
            if a < b {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    let bad = uses.iter().filter(|(_, (up, down))| up + down == 2 && *up != 1).map(|(e, _)| *e);
    let (count, first) = bad
        .fold((0, None), |(n, lo): (usize, Option<(u32, u32)>), e| (n + 1, Some(lo.map_or(e, |l| l.min(e)))));
    let at =
        first.map(|(a, b)| nalgebra::center(&surface.vertices[a as usize], &surface.vertices[b as usize]));
    (count, at)
}

/// Pairs of triangles sharing no vertex whose interiors cross (an edge of one passes through the
/// other), with the crossing point of each; at most `limit` locations are kept, the count is exact.
pub fn self_intersections(surface: &Surface, limit: usize) -> (usize, Vec<Point3<f64>>) {
    use rayon::prelude::*;
    let r = super::check::inspect(surface);
    let n = surface.triangles.len().max(1);
    // Bins about as large as a triangle, keyed by their integer coordinates.
    let extent = (r.bbox_max - r.bbox_min).amax();
    let size = ((r.area / n as f64).sqrt() * 2.0).max(extent / f64::from(1u32 << 20)).max(1e-12);
    let origin = r.bbox_min;
    let cell = |p: &Point3<f64>| ((p - origin) / size).map(|v| v.floor().max(0.0) as u64);
    let tri = |t: usize| surface.triangles[t].map(|v| surface.vertices[v as usize]);
    let bounds: Vec<([u64; 3], [u64; 3])> = (0..surface.triangles.len())
        .into_par_iter()
        .map(|t| {
            let v = tri(t);
            let lo = cell(&v.iter().fold(v[0], |a, p| a.inf(p)));
            let hi = cell(&v.iter().fold(v[0], |a, p| a.sup(p)));
            ([lo.x, lo.y, lo.z], [hi.x, hi.y, hi.z])
        })
        .collect();
    let key = |c: [u64; 3]| (c[2] << 42) | (c[1] << 21) | c[0];
    let mut entries: Vec<(u64, u32)> = bounds
        .par_iter()
        .enumerate()
        .flat_map_iter(|(t, (lo, hi))| {
            (lo[2]..=hi[2]).flat_map(move |k| {
                (lo[1]..=hi[1]).flat_map(move |j| (lo[0]..=hi[0]).map(move |i| (key([i, j, k]), t as u32)))
            })
        })
        .collect();
    entries.par_sort_unstable();
    let starts: Vec<usize> =
        (0..entries.len()).filter(|&i| i == 0 || entries[i].0 != entries[i - 1].0).collect();
    let found: Vec<(usize, Option<Point3<f64>>)> = starts
        .par_iter()
        .enumerate()
        .map(|(g, &from)| {
            let to = starts.get(g + 1).copied().unwrap_or(entries.len());
            let members = &entries[from..to];
            let (mut count, mut first) = (0, None);
            for (x, &(bin, a)) in members.iter().enumerate() {
                for &(_, b) in &members[x + 1..] {
                    let (ba, bb) = (bounds[a as usize], bounds[b as usize]);
                    // Test each pair once: in the bin at the low corner of their boxes' overlap.
                    let low: [u64; 3] = std::array::from_fn(|d| ba.0[d].max(bb.0[d]));
                    if key(low) != bin || (0..3).any(|d| ba.0[d] > bb.1[d] || bb.0[d] > ba.1[d]) {
                        continue;
                    }
                    let (ta, tb) = (surface.triangles[a as usize], surface.triangles[b as usize]);
                    if ta.iter().any(|v| tb.contains(v)) {
                        continue;
                    }
                    let (va, vb) = (tri(a as usize), tri(b as usize));
                    let crossing = [(va, vb), (vb, va)].iter().find_map(|(e, f)| {
                        (0..3).find_map(|k| {
                            let (p, q) = (e[k], e[(k + 1) % 3]);
                            segment_triangle(p, q - p, *f)
                                .filter(|t| *t > 1e-9 && *t < 1.0 - 1e-9)
                                .map(|t| p + (q - p) * t)
                        })
                    });
                    if let Some(p) = crossing {
                        count += 1;
                        first.get_or_insert(p);
                    }
                }
            }
            (count, first)
        })
        .collect();
    let count = found.iter().map(|(c, _)| c).sum();
    (count, found.iter().filter_map(|(_, p)| *p).take(limit).collect())
}

/// What [`repair`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepairLog {
    /// Vertices merged into a coincident one.
    pub merged_vertices: usize,
    /// Triangles removed as degenerate (repeated vertex or zero area).
    pub dropped_triangles: usize,
    /// Triangles flipped to agree with their neighbours or to face outward.
    pub flipped_triangles: usize,
}

/// Safe repairs only: merges vertices within `tol`, drops degenerate triangles, orients every
/// connected component consistently and (when closed) outward. Holes and self-intersections are
/// left alone: they need the segmentation fixed or explicit caps.
pub fn repair(surface: &mut Surface, tol: f64) -> RepairLog {
    let mut log = RepairLog::default();
    let rep = representatives(surface, tol);
    log.merged_vertices = rep.iter().enumerate().filter(|(i, r)| **r as usize != *i).count();
    for t in &mut surface.triangles {
        *t = t.map(|v| rep[v as usize]);
    }
    let diag = {
        let r = super::check::inspect(surface);
        (r.bbox_max - r.bbox_min).norm()
    };
    let before = surface.triangles.len();
    let vertices = surface.vertices.clone();
    surface.triangles.retain(|t| {
        let [a, b, c] = t.map(|v| vertices[v as usize]);
        t[0] != t[1]
            && t[1] != t[2]
            && t[0] != t[2]
            && (b - a).cross(&(c - a)).norm() * 0.5 > 1e-12 * diag * diag
    });
    log.dropped_triangles = before - surface.triangles.len();
    // Breadth-first over manifold edges: a neighbour must traverse the shared edge the other way.
    let mut by_edge: HashMap<(u32, u32), Vec<usize>> = HashMap::default();
    for (i, t) in surface.triangles.iter().enumerate() {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            by_edge.entry((a.min(b), a.max(b))).or_default().push(i);
        }
    }
    let n = surface.triangles.len();
    let mut done = vec![false; n];
    for seed in 0..n {
        if done[seed] {
            continue;
        }
        let mut component = vec![seed];
        done[seed] = true;
        let mut queue = VecDeque::from([seed]);
        while let Some(i) = queue.pop_front() {
            let t = surface.triangles[i];
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                let Some(users) = by_edge.get(&(a.min(b), a.max(b))) else { continue };
                if users.len() != 2 {
                    continue;
                }
                let j = if users[0] == i { users[1] } else { users[0] };
                if done[j] {
                    continue;
                }
                let u = surface.triangles[j];
                if (0..3).any(|m| u[m] == a && u[(m + 1) % 3] == b) {
                    surface.triangles[j].swap(1, 2);
                    log.flipped_triangles += 1;
                }
                done[j] = true;
                component.push(j);
                queue.push_back(j);
            }
        }
        let volume: f64 = component
            .iter()
            .map(|&i| {
                let [a, b, c] = surface.triangles[i].map(|v| vertices[v as usize].coords);
                a.dot(&b.cross(&c)) / 6.0
            })
            .sum();
        if volume < 0.0 {
            for &i in &component {
                surface.triangles[i].swap(1, 2);
            }
            log.flipped_triangles += component.len();
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::check::inspect;
    use crate::geometry::synth::{TubeSpec, tube};
    use nalgebra::Vector3;

    fn tube_surface() -> Surface {
        tube(&TubeSpec { radius: 1.0, length: 4.0 }, 32).unwrap().0
    }

    #[test]
    fn a_flipped_triangle_is_found_and_flipped_back() {
        let mut s = tube_surface();
        s.triangles[10].swap(1, 2);
        assert_eq!(inconsistent_edges(&s).0, 3);
        let tol = duplicate_tolerance(&s);
        let log = repair(&mut s, tol);
        println!("{log:?}");
        assert_eq!((log.flipped_triangles, inconsistent_edges(&s).0), (1, 0));
        assert!(inspect(&s).volume > 0.0);
    }

    #[test]
    fn an_inside_out_surface_is_turned_outward() {
        let mut s = tube_surface();
        for t in &mut s.triangles {
            t.swap(1, 2);
        }
        let tol = duplicate_tolerance(&s);
        let log = repair(&mut s, tol);
        assert_eq!(log.flipped_triangles, s.triangles.len());
        assert!(inspect(&s).volume > 0.0);
    }

    #[test]
    fn a_split_vertex_is_a_duplicate_and_is_merged() {
        let mut s = tube_surface();
        // Give triangle 5 its own copy of its first vertex: two open edges appear.
        let copy = s.vertices[s.triangles[5][0] as usize];
        s.vertices.push(copy);
        s.triangles[5][0] = s.vertices.len() as u32 - 1;
        assert!(inspect(&s).boundary_edges > 0);
        assert_eq!(duplicate_vertices(&s, duplicate_tolerance(&s)), 1);
        let tol = duplicate_tolerance(&s);
        let log = repair(&mut s, tol);
        assert_eq!(log.merged_vertices, 1);
        assert_eq!(inspect(&s).boundary_edges, 0);
    }

    #[test]
    fn crossing_tubes_self_intersect_and_a_single_tube_does_not() {
        let s = tube_surface();
        assert_eq!(self_intersections(&s, 5).0, 0);
        let mut two = s.clone();
        let n = s.vertices.len() as u32;
        two.vertices.extend(s.vertices.iter().map(|p| p + Vector3::new(0.5, 0.0, 0.0)));
        two.triangles.extend(s.triangles.iter().map(|t| t.map(|v| v + n)));
        let (count, at) = self_intersections(&two, 5);
        println!("overlapping tubes: {count} crossing triangle pairs, e.g. {:?}", at.first());
        assert!(count > 0 && !at.is_empty());
    }
}
