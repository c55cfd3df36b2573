//! Voxelization: lattice nodes inside a closed surface, then the wall links
//! ([`wall_links`](mod@super::wall_links)).
//!
//! Inside/outside uses a scanline along x per (y, z) row with the winding number of the crossings.
//! Edge functions are evaluated with canonically ordered endpoints and ties broken by a symbolic
//! perturbation of the ray, so a ray through an edge or vertex shared by several triangles counts
//! exactly the crossings an infinitesimally shifted ray would: vertices on lattice planes are safe.

use super::wall_links::wall_links;
use crate::geometry::mesh::Surface;
use nalgebra::{Point3, Vector3};
use rayon::prelude::*;

/// A uniform grid of lattice nodes: node (i, j, k) sits at `origin + dx (i, j, k)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Position of node (0, 0, 0) (m).
    pub origin: Point3<f64>,
    /// Lattice spacing (m).
    pub dx: f64,
    /// Nodes per axis.
    pub dims: [usize; 3],
}

impl Grid {
    /// The grid covering `[min, max]` with `pad` spare nodes on each side; nodes sit half a spacing off
    /// the bounding box so that axis-aligned caps and symmetric tubes fall between node planes.
    pub fn covering(min: Point3<f64>, max: Point3<f64>, dx: f64, pad: usize) -> Self {
        let ext = max - min;
        let dims = [0, 1, 2].map(|a| (ext[a] / dx).floor() as usize + 2 * pad + 1);
        let origin = min + Vector3::repeat((0.5 - pad as f64) * dx);
        Grid { origin, dx, dims }
    }

    /// Total number of nodes.
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// True when the grid has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Linear index of node (i, j, k), x fastest.
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// Node (i, j, k) of a linear index.
    pub fn coords(&self, idx: usize) -> [usize; 3] {
        let i = idx % self.dims[0];
        let j = (idx / self.dims[0]) % self.dims[1];
        [i, j, idx / (self.dims[0] * self.dims[1])]
    }

    /// Position of node (i, j, k) (m).
    pub fn point(&self, [i, j, k]: [usize; 3]) -> Point3<f64> {
        self.origin + Vector3::new(i as f64, j as f64, k as f64) * self.dx
    }

    /// Linear index of the neighbour of `idx` along `c`, or None when it falls off the grid.
    pub fn neighbour(&self, idx: usize, c: [i32; 3]) -> Option<usize> {
        let p = self.coords(idx);
        let mut q = [0usize; 3];
        for a in 0..3 {
            let v = p[a] as i64 + c[a] as i64;
            if v < 0 || v >= self.dims[a] as i64 {
                return None;
            }
            q[a] = v as usize;
        }
        Some(self.index(q[0], q[1], q[2]))
    }
}

/// A link from a fluid node towards a node outside the surface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WallLink {
    /// Linear grid index of the fluid node.
    pub node: usize,
    /// Direction of the link (index into the D3Q19 velocities).
    pub dir: u8,
    /// Fraction of the link, from the fluid node, at which it crosses the surface, in (0, 1].
    pub q: f32,
    /// Tag of the triangle crossed (0 wall, k + 1 port k).
    pub tag: u16,
}

/// The voxelized vessel: a fluid mask over the grid and the wall links.
#[derive(Debug, Clone)]
pub struct Voxels {
    /// The lattice grid.
    pub grid: Grid,
    /// 1 for nodes inside the surface, 0 outside.
    pub fluid: Vec<u8>,
    /// Every link from a fluid node to a non-fluid node, with its q.
    pub links: Vec<WallLink>,
    /// Links whose crossing was not found geometrically (given q = 1/2); zero on a clean surface.
    pub unresolved_links: usize,
}

/// Voxelizes `surface` (with per-triangle `tags`) on `grid`: [`classify`] then [`wall_links`].
pub fn voxelize(surface: &Surface, tags: &[u16], grid: &Grid) -> Voxels {
    let fluid = classify(surface, grid);
    let (links, unresolved_links) = wall_links(surface, tags, grid, &fluid);
    Voxels { grid: *grid, fluid, links, unresolved_links }
}

/// Edge function of the projected edge (a, b) at p, with endpoints in canonical order so that two
/// triangles sharing the edge get exactly opposite values. Returns (raw value, sign after the
/// symbolic perturbation p + (eps, eps^2), never zero for a non-degenerate edge).
fn edge(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> (f64, f64) {
    let (s, a, b) = if (a[0], a[1]) <= (b[0], b[1]) { (1.0, a, b) } else { (-1.0, b, a) };
    let e = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
    let tie = if e != 0.0 {
        e
    } else if b[1] != a[1] {
        -(b[1] - a[1])
    } else {
        b[0] - a[0]
    };
    (s * e, s * tie.signum())
}

/// Fluid mask on `grid` (1 inside): nodes with a non-zero winding number of the surface along +x.
pub fn classify(surface: &Surface, grid: &Grid) -> Vec<u8> {
    let [nx, ny, nz] = grid.dims;
    let (y0, z0, dx) = (grid.origin.y, grid.origin.z, grid.dx);
    // Bin triangles by the z rows they span.
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); nz];
    for (t, tri) in surface.triangles.iter().enumerate() {
        let zs = tri.map(|v| surface.vertices[v as usize].z);
        let (lo, hi) = node_range(
            zs.iter().cloned().fold(f64::INFINITY, f64::min),
            zs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            z0,
            dx,
            nz,
        );
        for row in rows.iter_mut().take(hi).skip(lo) {
            row.push(t as u32);
        }
    }
    let mut mask = vec![0u8; grid.len()];
    mask.par_chunks_mut(nx * ny).enumerate().for_each(|(k, slab)| {
        let z = z0 + k as f64 * dx;
        let mut hits: Vec<Vec<(f64, f64)>> = vec![Vec::new(); ny];
        for &t in &rows[k] {
            let v = surface.triangles[t as usize].map(|v| surface.vertices[v as usize]);
            let ys = v.map(|p| p.y);
            let (lo, hi) = node_range(
                ys.iter().cloned().fold(f64::INFINITY, f64::min),
                ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                y0,
                dx,
                ny,
            );
            let pr = v.map(|p| [p.y, p.z]);
            let area =
                (pr[1][0] - pr[0][0]) * (pr[2][1] - pr[0][1]) - (pr[1][1] - pr[0][1]) * (pr[2][0] - pr[0][0]);
            if area == 0.0 {
                continue;
            }
            for (j, row_hits) in hits.iter_mut().enumerate().take(hi).skip(lo) {
                let p = [y0 + j as f64 * dx, z];
                let (e0, s0) = edge(pr[0], pr[1], p);
                let (e1, s1) = edge(pr[1], pr[2], p);
                let (e2, s2) = edge(pr[2], pr[0], p);
                if s0 == s1 && s1 == s2 {
                    let sum = e0 + e1 + e2;
                    let x = if sum != 0.0 {
                        (e1 * v[0].x + e2 * v[1].x + e0 * v[2].x) / sum
                    } else {
                        (v[0].x + v[1].x + v[2].x) / 3.0
                    };
                    row_hits.push((x, s0));
                }
            }
        }
        for (j, mut h) in hits.into_iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            h.sort_by(|a, b| a.0.total_cmp(&b.0));
            // A node counts the crossings strictly before it: fill the spans of non-zero winding.
            let row = &mut slab[nx * j..nx * (j + 1)];
            let node_x = |i: f64| grid.origin.x + i * dx;
            let first_after = |x: f64| {
                // The division only estimates; the node positions themselves decide, so that a node
                // sitting exactly on a crossing never counts it.
                let mut i = ((x - grid.origin.x) / dx).floor() + 1.0;
                if node_x(i - 1.0) > x {
                    i -= 1.0;
                }
                if node_x(i) <= x {
                    i += 1.0;
                }
                i.clamp(0.0, nx as f64) as usize
            };
            let mut winding = 0.0;
            for w in 0..h.len() {
                winding += h[w].1;
                if winding != 0.0 {
                    let from = first_after(h[w].0);
                    let to = h.get(w + 1).map_or(nx, |next| first_after(next.0));
                    row[from..to.max(from)].fill(1);
                }
            }
        }
    });
    mask
}

/// Node index range [lo, hi) whose coordinates `origin + i dx` lie in [min, max]. The division only
/// estimates; the node coordinates, computed as the classification computes them, decide, so that a
/// vertex lying exactly on a node plane never loses its row to round-off.
fn node_range(min: f64, max: f64, origin: f64, dx: f64, n: usize) -> (usize, usize) {
    let node = |i: f64| origin + i * dx;
    let mut lo = ((min - origin) / dx).ceil().max(0.0);
    while lo > 0.0 && node(lo - 1.0) >= min {
        lo -= 1.0;
    }
    while node(lo) < min && lo < n as f64 {
        lo += 1.0;
    }
    let mut hi = (((max - origin) / dx).floor() + 1.0).clamp(0.0, n as f64);
    while hi < n as f64 && node(hi) <= max {
        hi += 1.0;
    }
    while hi > 0.0 && node(hi - 1.0) > max {
        hi -= 1.0;
    }
    let (lo, hi) = (lo as usize, hi as usize);
    (lo.min(hi), hi)
}
