//! Centerlines on the voxelized vessel: from the inlet to each outlet, with the radius of the
//! maximal inscribed sphere along them.
//!
//! 1. A distance-to-wall field over the fluid nodes (Dijkstra over the D3Q19 links, seeded with the
//!    wall distance q |c| dx of every wall link).
//! 2. For each outlet, the path from the inlet that minimises the sum of |step| / d^2, which keeps
//!    it in the middle of the lumen.
//! 3. The path, from the inlet's cap centre to the outlet's, is smoothed (centred moving average over
//!    up to 7 nodes) and resampled every lattice spacing.
//! 4. The radius at each point is its exact distance to the nearest wall triangle.

use super::voxelize::{Grid, Voxels};
use crate::error::{Error, Result};
use crate::geometry::mesh::Entry;
use crate::geometry::{Port, Surface};
use crate::stencil::d3q19::{C, Q};
use nalgebra::{Point3, Vector3};
use rayon::prelude::*;
use std::collections::BinaryHeap;

/// One centerline, from the inlet to one outlet.
#[derive(Debug, Clone)]
pub struct Centerline {
    /// Index of the outlet port (in the vessel's port list) this line ends at.
    pub outlet: usize,
    /// Points along the line (m), about one lattice spacing apart.
    pub points: Vec<Point3<f64>>,
    /// Radius of the maximal inscribed sphere at each point (m).
    pub radius: Vec<f64>,
    /// Arc length from the inlet at each point (m).
    pub abscissa: Vec<f64>,
}

fn step_length(c: [i32; 3], dx: f64) -> f64 {
    ((c[0] * c[0] + c[1] * c[1] + c[2] * c[2]) as f64).sqrt() * dx
}

/// Distance to the wall (m) of every node: infinite outside the fluid.
fn wall_distance(vox: &Voxels) -> Vec<f64> {
    let grid = &vox.grid;
    let mut dist = vec![f64::INFINITY; grid.len()];
    for l in &vox.links {
        let d = l.q as f64 * step_length(C[l.dir as usize], grid.dx);
        if d < dist[l.node] {
            dist[l.node] = d;
        }
    }
    let mut heap: BinaryHeap<Entry> =
        dist.iter().enumerate().filter(|(_, d)| d.is_finite()).map(|(n, d)| Entry(*d, n)).collect();
    while let Some(Entry(d, n)) = heap.pop() {
        if d > dist[n] {
            continue;
        }
        for &c in &C[1..Q] {
            if let Some(m) = grid.neighbour(n, c)
                && vox.fluid[m] == 1
            {
                let nd = d + step_length(c, grid.dx);
                if nd < dist[m] {
                    dist[m] = nd;
                    heap.push(Entry(nd, m));
                }
            }
        }
    }
    dist
}

/// The fluid node nearest to `p`, searching outward from the node containing it.
fn nearest_fluid(vox: &Voxels, p: Point3<f64>) -> Option<usize> {
    let g = &vox.grid;
    let rel = (p - g.origin) / g.dx;
    let centre = [0, 1, 2].map(|a| rel[a].round() as i64);
    for r in 0..8i64 {
        let mut best: Option<(f64, usize)> = None;
        for k in -r..=r {
            for j in -r..=r {
                for i in -r..=r {
                    let c = [centre[0] + i, centre[1] + j, centre[2] + k];
                    if (0..3).any(|a| c[a] < 0 || c[a] >= g.dims[a] as i64) {
                        continue;
                    }
                    let idx = g.index(c[0] as usize, c[1] as usize, c[2] as usize);
                    let d = (g.point(g.coords(idx)) - p).norm();
                    if vox.fluid[idx] == 1 && best.is_none_or(|(b, _)| d < b) {
                        best = Some((d, idx));
                    }
                }
            }
        }
        if let Some((_, idx)) = best {
            return Some(idx);
        }
    }
    None
}

/// Predecessor of every node on the cheapest paths from `start` (cost |step| / d^2).
fn cheapest_paths(vox: &Voxels, dist: &[f64], start: usize) -> Vec<u32> {
    let grid = &vox.grid;
    let mut cost = vec![f64::INFINITY; grid.len()];
    let mut prev = vec![u32::MAX; grid.len()];
    cost[start] = 0.0;
    let mut heap = BinaryHeap::from([Entry(0.0, start)]);
    while let Some(Entry(here, n)) = heap.pop() {
        if here > cost[n] {
            continue;
        }
        for &c in &C[1..Q] {
            if let Some(m) = grid.neighbour(n, c)
                && vox.fluid[m] == 1
            {
                let d = 0.5 * (dist[n] + dist[m]);
                let nc = here + step_length(c, grid.dx) / (d * d);
                if nc < cost[m] {
                    cost[m] = nc;
                    prev[m] = n as u32;
                    heap.push(Entry(nc, m));
                }
            }
        }
    }
    prev
}

/// Closest distance from `p` to the triangle (a, b, c).
fn point_triangle_distance(p: Point3<f64>, a: Point3<f64>, b: Point3<f64>, c: Point3<f64>) -> f64 {
    // Ericson, Real-Time Collision Detection, 5.1.5: closest point by Voronoi regions.
    let (ab, ac, ap) = (b - a, c - a, p - a);
    let (d1, d2) = (ab.dot(&ap), ac.dot(&ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return ap.norm();
    }
    let bp = p - b;
    let (d3, d4) = (ab.dot(&bp), ac.dot(&bp));
    if d3 >= 0.0 && d4 <= d3 {
        return bp.norm();
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return (p - (a + ab * (d1 / (d1 - d3)))).norm();
    }
    let cp = p - c;
    let (d5, d6) = (ab.dot(&cp), ac.dot(&cp));
    if d6 >= 0.0 && d5 <= d6 {
        return cp.norm();
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return (p - (a + ac * (d2 / (d2 - d6)))).norm();
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        return (p - (b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6))))).norm();
    }
    let denom = 1.0 / (va + vb + vc);
    (p - (a + ab * (vb * denom) + ac * (vc * denom))).norm()
}

/// Centerlines from the inlet (port `inlet`) to every other port, on `vox`, with radii measured
/// against the wall triangles of `surface` (those with tag 0 in `tags`).
pub fn centerlines(
    surface: &Surface,
    tags: &[u16],
    vox: &Voxels,
    ports: &[Port],
    inlet: usize,
) -> Result<Vec<Centerline>> {
    let grid: &Grid = &vox.grid;
    let dist = wall_distance(vox);
    let inside = |p: &Port| nearest_fluid(vox, p.center - p.normal * (2.0 * grid.dx));
    let start = inside(&ports[inlet]).ok_or_else(|| {
        Error::parameter(format!("ports.{}", ports[inlet].name), "no fluid node near the inlet")
    })?;
    let prev = cheapest_paths(vox, &dist, start);
    let walls: Vec<[Point3<f64>; 3]> = surface
        .triangles
        .iter()
        .zip(tags)
        .filter(|(_, t)| **t == 0)
        .map(|(t, _)| t.map(|v| surface.vertices[v as usize]))
        .collect();
    let mut lines = Vec::new();
    for (k, port) in ports.iter().enumerate().filter(|(k, _)| *k != inlet) {
        let end = inside(port)
            .ok_or_else(|| Error::parameter(format!("ports.{}", port.name), "no fluid node near the port"))?;
        let mut nodes = vec![end];
        while *nodes.last().unwrap_or(&start) != start {
            let p = prev[*nodes.last().unwrap_or(&start)];
            if p == u32::MAX {
                return Err(Error::parameter(
                    format!("ports.{}", port.name),
                    "not connected to the inlet through the lattice; refine the lattice (narrow passages close at this dx)",
                ));
            }
            nodes.push(p as usize);
        }
        nodes.reverse();
        // From cap centre to cap centre, through the lattice path.
        let raw: Vec<Point3<f64>> = std::iter::once(ports[inlet].center)
            .chain(nodes.iter().map(|&n| grid.point(grid.coords(n))))
            .chain(std::iter::once(port.center))
            .collect();
        // A centred moving average over up to 7 points that narrows towards the ends, which stay put.
        let smooth: Vec<Point3<f64>> = (0..raw.len())
            .map(|i| {
                let half = i.min(raw.len() - 1 - i).min(3);
                let (a, b) = (i - half, i + half + 1);
                Point3::from(raw[a..b].iter().map(|p| p.coords).sum::<Vector3<f64>>() / (b - a) as f64)
            })
            .collect();
        let points = resample(&smooth, grid.dx);
        let radius: Vec<f64> = points
            .par_iter()
            .map(|p| {
                walls
                    .iter()
                    .map(|t| point_triangle_distance(*p, t[0], t[1], t[2]))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let mut abscissa = vec![0.0];
        for w in points.windows(2) {
            abscissa.push(abscissa[abscissa.len() - 1] + (w[1] - w[0]).norm());
        }
        lines.push(Centerline { outlet: k, points, radius, abscissa });
    }
    Ok(lines)
}

/// Points every `h` (m) along the polyline `p`, its ends included.
fn resample(p: &[Point3<f64>], h: f64) -> Vec<Point3<f64>> {
    let mut out = vec![p[0]];
    let mut carried = 0.0;
    for w in p.windows(2) {
        let seg = (w[1] - w[0]).norm();
        let mut s = h - carried;
        while s <= seg {
            out.push(w[0] + (w[1] - w[0]) * (s / seg));
            s += h;
        }
        carried = seg - (s - h);
    }
    if let Some(last) = p.last()
        && out.last().is_some_and(|o| (o - last).norm() > 1e-3 * h)
    {
        out.push(*last);
    }
    out
}

/// The largest section-mean velocity along `lines` (m/s) for a total inflow `flow` (m^3/s) that the
/// outlets share as `shares` (by port index), and where it is. At each point the flow is the sum of
/// the shares of every line passing within half its radius there (a common trunk carries them all),
/// through a disc of the inscribed radius (the median over five neighbouring points, so that one
/// point near a wall facet does not decide) plus `dx / 2` (m): the lines follow lattice nodes, up
/// to dx / sqrt(2) off the medial axis, which shortens the inscribed radius by as much.
pub fn peak_mean_velocity(
    lines: &[Centerline],
    shares: &[f64],
    flow: f64,
    dx: f64,
) -> Option<(f64, Point3<f64>)> {
    let mut best: Option<(f64, Point3<f64>)> = None;
    for line in lines {
        for (i, (&p, &s)) in line.points.iter().zip(&line.abscissa).enumerate() {
            let window = &line.radius[i.saturating_sub(2)..(i + 3).min(line.radius.len())];
            let mut sorted = window.to_vec();
            sorted.sort_by(f64::total_cmp);
            let r = sorted[sorted.len() / 2] + 0.5 * dx;
            let carried: f64 = lines
                .iter()
                .filter(|other| {
                    // Points of the other line within an abscissa window of this one (both start at
                    // the inlet, so a shared trunk has matching abscissae).
                    let from = other.abscissa.partition_point(|&a| a < s - 2.0 * r);
                    let to = other.abscissa.partition_point(|&a| a <= s + 2.0 * r);
                    other.points[from..to].iter().any(|q| (q - p).norm() <= 0.5 * r)
                })
                .map(|other| shares.get(other.outlet).copied().unwrap_or(0.0))
                .sum();
            let velocity = carried * flow / (std::f64::consts::PI * r * r);
            if best.is_none_or(|(v, _)| velocity > v) {
                best = Some((velocity, p));
            }
        }
    }
    best
}
