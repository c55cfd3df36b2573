//! Wall links: every link from a fluid node to a non-fluid node, and the fraction q of the link at
//! which it crosses the surface.
//!
//! 1. The fluid mask is packed into bit rows along x; word shifts give each row's wall nodes (fluid
//!    nodes with a non-fluid neighbour) and their link directions.
//! 2. Links are crossed with the surface by scanlines, as [`classify`](super::classify) crosses
//!    x-rows: for each of the 9 lattice line directions (the 18 link directions in opposite pairs),
//!    each triangle is rasterised onto the lattice lines of that direction through it, and each
//!    crossing is recorded on the link it falls in, keeping the one nearest the link's fluid node.
//!    Triangles are swept upwards in z; a z-slab's links are built and take their crossings once
//!    no triangle to come can reach it, while its data is in cache. Parallel tasks own bands of
//!    slabs and sweep the triangles that reach them.
//!
//! A crossing counts when its barycentric coordinates and its position along the link are within a
//! relative 1e-9 of the triangle and the link, so that edges, vertices and nodes lying on the surface
//! are found whatever the round-off: a crossing that close to a node is recorded on both links that
//! meet there, and one that close to an edge on both triangles that share it.

use super::voxelize::{Grid, WallLink};
use crate::geometry::mesh::Surface;
use crate::stencil::d3q19::{C, Q, opposite};
use nalgebra::Vector3;
use rayon::prelude::*;
use std::collections::VecDeque;

/// Relative tolerance of the crossing tests (barycentric coordinates, position along the link).
const EPS: f64 = 1e-9;

/// Bands of z-slabs per thread (parallel tasks).
const BANDS_PER_THREAD: usize = 4;

/// Every link from a fluid node of `fluid` to a non-fluid or off-grid node, with its q and the tag
/// of the triangle crossed; also the number of links whose crossing was not found (given q = 1/2).
/// Links come in grid order of their fluid node, then in direction order; a link crossed several
/// times gets the smallest q (the smallest tag among equal q).
pub fn wall_links(surface: &Surface, tags: &[u16], grid: &Grid, fluid: &[u8]) -> (Vec<WallLink>, usize) {
    let walls = WallNodes::new(grid, fluid);
    let lattice: Vec<[f64; 3]> =
        surface.vertices.iter().map(|p| ((p - grid.origin) / grid.dx).into()).collect();
    let families: Vec<LineFamily> =
        (1..Q).filter(|&d| d < opposite(d)).map(|d| LineFamily::new(d, grid)).collect();
    // Triangles in sweep order, with the z-slabs their crossings' link ends can reach (the crossing
    // lies in the triangle and the ends within one spacing of it; one more slab each side spares
    // round-off).
    let mut order: Vec<([i64; 2], u32)> = surface
        .triangles
        .iter()
        .enumerate()
        .map(|(t, tri)| {
            let z = tri.map(|v| lattice[v as usize][2]);
            ([floor(z[0].min(z[1]).min(z[2])) - 2, floor(z[0].max(z[1]).max(z[2])) + 3], t as u32)
        })
        .collect();
    order.sort_unstable();
    let threads = rayon::current_num_threads();
    let bands = walls.bands(if threads > 1 { BANDS_PER_THREAD * threads } else { 1 });
    let per_band: Vec<(Vec<WallLink>, usize)> = bands
        .par_iter()
        .map(|&slabs| {
            let mut sweep = Sweep::new(&walls, slabs);
            for &(reach, t) in &order {
                if reach[1] <= slabs[0] as i64 || reach[0] >= slabs[1] as i64 {
                    continue;
                }
                sweep.settle_below(reach[0]);
                let x = surface.triangles[t as usize].map(|v| lattice[v as usize]);
                let tag = tags[t as usize];
                let size = (Vector3::from(x[1]) - Vector3::from(x[0])).norm()
                    * (Vector3::from(x[2]) - Vector3::from(x[0])).norm();
                for f in &families {
                    f.cross(x, size, |start, along| {
                        // The link's fluid end, if any; settling drops links that are not wall links.
                        if walls.is_fluid(start) {
                            sweep.record(start, f.dir, along, tag);
                        } else {
                            let end = [0, 1, 2].map(|a| start[a] + f.c[a]);
                            sweep.record(end, opposite(f.dir), 1.0 - along, tag);
                        }
                    });
                }
            }
            sweep.settle_below(slabs[1] as i64);
            (sweep.links, sweep.unresolved)
        })
        .collect();
    let unresolved = per_band.iter().map(|(_, u)| u).sum();
    let mut per_band = per_band.into_iter().map(|(l, _)| l);
    let mut links = per_band.next().unwrap_or_default();
    for band in per_band {
        links.extend_from_slice(&band);
    }
    (links, unresolved)
}

/// A crossing on a link from a fluid node (a wall link unless both ends are fluid), waiting for its
/// slab to be settled. Indices within a slab are u32, as the lattice's node indices are.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Node (x, y) in its slab.
    node: [u32; 2],
    /// Fraction of the link from the node, in [1e-6, 1].
    q: f32,
    /// Tag of the triangle crossed.
    tag: u16,
    /// Direction of the link.
    dir: u8,
}

/// The links of a band of z-slabs, swept upwards with the triangles: crossings wait in per-slab
/// lists until no triangle to come can reach their slab, then the slab's links are built and take
/// their crossings while in cache.
struct Sweep<'a> {
    /// The wall nodes.
    walls: &'a WallNodes,
    /// The band's slabs [first, last).
    slabs: [usize; 2],
    /// Slabs whose links are settled: from the band's first up to, not including, this one.
    settled: usize,
    /// Crossings waiting, for slabs settled, settled + 1, ...
    pending: VecDeque<Vec<Hit>>,
    /// Emptied lists, for reuse.
    spare: Vec<Vec<Hit>>,
    /// Per node (x + nx y) of the slab being settled: its first link and wall directions, or no
    /// directions (all nodes between settlements).
    map: Vec<(u32, u32)>,
    /// The band's links so far.
    links: Vec<WallLink>,
    /// Links settled with no crossing.
    unresolved: usize,
}

impl<'a> Sweep<'a> {
    fn new(walls: &'a WallNodes, slabs: [usize; 2]) -> Self {
        let links = Vec::with_capacity(walls.first_link[slabs[1]] - walls.first_link[slabs[0]]);
        let (pending, spare) = (VecDeque::new(), Vec::new());
        let map = vec![(0, 0); walls.grid.dims[0] * walls.grid.dims[1]];
        Sweep { walls, slabs, settled: slabs[0], pending, spare, map, links, unresolved: 0 }
    }

    /// Settles the slabs below `slab` (no triangle to come reaches them): builds their links, in
    /// order, each with its nearest crossing (the smallest (q, tag)) or none (q = 1/2, unresolved).
    fn settle_below(&mut self, slab: i64) {
        while (self.settled as i64) < slab.min(self.slabs[1] as i64) {
            let k = self.settled;
            let from = self.links.len();
            self.walls.push_links(k, &mut self.links, &mut self.map);
            let links = &mut self.links[from..];
            let mut hits = self.pending.pop_front().unwrap_or_default();
            let nx = self.walls.grid.dims[0];
            for hit in &hits {
                // A crossing on a link that is not a wall link finds no direction here.
                let (first, dirs) = self.map[hit.node[0] as usize + nx * hit.node[1] as usize];
                let dir = u32::from(hit.dir);
                if dirs >> dir & 1 == 0 {
                    continue;
                }
                let link = &mut links[first as usize + (dirs & ((1 << dir) - 1)).count_ones() as usize];
                if (hit.q, hit.tag) < (link.q, link.tag) {
                    (link.q, link.tag) = (hit.q, hit.tag);
                }
            }
            for node in &self.walls.slabs[k].nodes {
                self.map[node.index as usize].1 = 0;
            }
            for link in links.iter_mut().filter(|l| l.q == f32::INFINITY) {
                (link.q, link.tag) = (0.5, 0);
                self.unresolved += 1;
            }
            hits.clear();
            self.spare.push(hits);
            self.settled += 1;
        }
    }

    /// Records a crossing at fraction `q` of the link from node `p` (lattice coordinates) along
    /// `dir`, if `p` is on the grid in the band (settling checks that it is a wall link).
    fn record(&mut self, p: [i64; 3], dir: usize, q: f64, tag: u16) {
        if !self.walls.on_grid(p) || !(self.slabs[0] as i64..self.slabs[1] as i64).contains(&p[2]) {
            return;
        }
        // Triangles come no lower than the settled slabs (their reach is widened for round-off).
        let Some(at) = (p[2] as usize).checked_sub(self.settled) else { return };
        while self.pending.len() <= at {
            self.pending.push_back(self.spare.pop().unwrap_or_default());
        }
        let hit = Hit { node: [p[0] as u32, p[1] as u32], q: q.clamp(1e-6, 1.0) as f32, tag, dir: dir as u8 };
        self.pending[at].push(hit);
    }
}

/// A fluid node with a non-fluid (or off-grid) neighbour.
#[derive(Debug, Clone, Copy)]
struct WallNode {
    /// Its index x + nx y in its slab.
    index: u32,
    /// Directions of its wall links (bit d for direction d).
    dirs: u32,
}

/// The wall nodes of one z-slab.
#[derive(Debug, Default)]
struct Slab {
    /// Wall nodes, in grid order.
    nodes: Vec<WallNode>,
    /// Number of wall links.
    links: usize,
}

/// The fluid mask packed into bit rows, and its wall nodes slab by slab.
struct WallNodes {
    /// The lattice grid.
    grid: Grid,
    /// 64-bit words per grid row.
    words: usize,
    /// Fluid bits: bit i of word `words r + w` for node x = 64 w + i of row r = y + ny z.
    fluid: Vec<u64>,
    /// Wall nodes of each slab.
    slabs: Vec<Slab>,
    /// Index of each slab's first link among all, and the number of links at the end.
    first_link: Vec<usize>,
}

impl WallNodes {
    fn new(grid: &Grid, mask: &[u8]) -> Self {
        let [nx, ny, nz] = grid.dims;
        let words = nx.div_ceil(64);
        let mut fluid = vec![0u64; words * ny * nz];
        if words > 0 {
            fluid
                .par_chunks_mut(words)
                .zip(mask.par_chunks(nx))
                .with_min_len(64)
                .for_each(|(packed, row)| pack_row(row, packed));
        }
        let fluid_row = |y: i64, z: i64| {
            ((0..ny as i64).contains(&y) && (0..nz as i64).contains(&z)).then(|| {
                let r = y as usize + ny * z as usize;
                &fluid[r * words..(r + 1) * words]
            })
        };
        let slabs: Vec<Slab> = (0..nz as i64)
            .into_par_iter()
            .map(|z| {
                let mut slab = Slab::default();
                // Directions of the wall node at each bit of the current word.
                let mut node_dirs = [0u32; 64];
                for y in 0..ny as i64 {
                    let Some(f) = fluid_row(y, z) else { continue };
                    // Words holding fluid nodes.
                    let (Some(w0), Some(w1)) =
                        (f.iter().position(|&w| w != 0), f.iter().rposition(|&w| w != 0))
                    else {
                        continue;
                    };
                    let next: [_; Q] =
                        std::array::from_fn(|d| fluid_row(y + C[d][1] as i64, z + C[d][2] as i64));
                    for (w, &word) in f.iter().enumerate().take(w1 + 1).skip(w0) {
                        let mut any = 0;
                        for d in 1..Q {
                            // Fluid nodes whose neighbour along c_d is not fluid.
                            let mut rest = word & !next[d].map_or(0, |n| shifted(n, w, C[d][0]));
                            any |= rest;
                            while rest != 0 {
                                node_dirs[rest.trailing_zeros() as usize] |= 1 << d;
                                rest &= rest - 1;
                            }
                        }
                        while any != 0 {
                            let b = any.trailing_zeros() as usize;
                            any &= any - 1;
                            let dirs = std::mem::take(&mut node_dirs[b]);
                            let index = (64 * w + b + nx * y as usize) as u32;
                            slab.nodes.push(WallNode { index, dirs });
                            slab.links += dirs.count_ones() as usize;
                        }
                    }
                }
                slab.nodes.shrink_to_fit();
                slab
            })
            .collect();
        let mut first_link = Vec::with_capacity(nz + 1);
        let mut count = 0;
        for slab in &slabs {
            first_link.push(count);
            count += slab.links;
        }
        first_link.push(count);
        WallNodes { grid: *grid, words, fluid, slabs, first_link }
    }

    /// Up to `n` bands of whole slabs [from, to) with about equal numbers of links, covering the grid.
    fn bands(&self, n: usize) -> Vec<[usize; 2]> {
        let nz = self.grid.dims[2];
        let total = self.first_link[nz];
        let mut bands = Vec::with_capacity(n);
        let mut from = 0;
        for b in 1..=n {
            let mut to = from;
            while to < nz && (self.first_link[to] < total * b / n || b == n) {
                to += 1;
            }
            if to > from {
                bands.push([from, to]);
                from = to;
            }
        }
        bands
    }

    /// True when node `p` (lattice coordinates) is on the grid.
    fn on_grid(&self, p: [i64; 3]) -> bool {
        (0..3).all(|a| (0..self.grid.dims[a] as i64).contains(&p[a]))
    }

    /// True when node `p` (lattice coordinates) is on the grid and fluid.
    fn is_fluid(&self, p: [i64; 3]) -> bool {
        self.on_grid(p) && {
            let w = (p[1] as usize + self.grid.dims[1] * p[2] as usize) * self.words + p[0] as usize / 64;
            self.fluid[w] >> (p[0] % 64) & 1 == 1
        }
    }

    /// Appends the wall links of slab `z`, in order, with no crossing yet (q infinite), to `links`,
    /// and enters each wall node's first link (counted from the slab's first) and directions in
    /// `map`.
    fn push_links(&self, z: usize, links: &mut Vec<WallLink>, map: &mut [(u32, u32)]) {
        let [nx, ny, _] = self.grid.dims;
        let from = links.len();
        for node in &self.slabs[z].nodes {
            map[node.index as usize] = ((links.len() - from) as u32, node.dirs);
            let index = node.index as usize + nx * ny * z;
            let mut dirs = node.dirs;
            while dirs != 0 {
                let dir = dirs.trailing_zeros() as u8;
                dirs &= dirs - 1;
                links.push(WallLink { node: index, dir, q: f32::INFINITY, tag: u16::MAX });
            }
        }
    }
}

/// Packs a row of the fluid mask into bits (bit i of word w for node 64 w + i; 1 for a byte of 1).
fn pack_row(row: &[u8], packed: &mut [u64]) {
    /// Bits of the bytes equal to 1 among eight: the high bit of each byte is set where the byte
    /// differs from 1, moved to the low bit of the bytes equal to 1 and gathered (byte m's low bit
    /// lands in bit 56 + m of the product).
    fn ones(x: u64) -> u64 {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let y = x ^ 0x0101_0101_0101_0101;
        let differs = (((y & LOW7) + LOW7) | y) & !LOW7;
        ((!differs & !LOW7) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
    }
    for (word, bytes) in packed.iter_mut().zip(row.chunks(64)) {
        // Words left zero stay unwritten (untouched pages of the zeroed allocation).
        let bits = match <&[u8; 64]>::try_from(bytes) {
            Ok(full) => {
                let lanes: [u64; 8] =
                    std::array::from_fn(|k| u64::from_le_bytes(std::array::from_fn(|m| full[8 * k + m])));
                if lanes.iter().fold(0, |a, &l| a | l) == 0 {
                    0
                } else {
                    lanes.iter().enumerate().fold(0, |bits, (k, &l)| bits | ones(l) << (8 * k))
                }
            }
            Err(_) => bytes.iter().enumerate().fold(0, |bits, (i, &b)| bits | u64::from(b == 1) << i),
        };
        if bits != 0 {
            *word = bits;
        }
    }
}

/// Word `w` of bit row `row` shifted by `cx` nodes: bit i holds the bit of node i + cx (0 off the row).
fn shifted(row: &[u64], w: usize, cx: i32) -> u64 {
    match cx {
        1 => (row[w] >> 1) | row.get(w + 1).map_or(0, |n| n << 63),
        -1 => (row[w] << 1) | w.checked_sub(1).map_or(0, |p| row[p] >> 63),
        _ => row[w],
    }
}

/// Largest integer not above `x` (saturating; 0 for NaN), without a libm call.
fn floor(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_sub(i64::from(t as f64 > x))
}

/// Smallest integer not below `x` (saturating; 0 for NaN), without a libm call.
fn ceil(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_add(i64::from((t as f64) < x))
}

/// The lattice lines along direction `c` of a link. A line has integer coordinates (u, v) and its
/// nodes sit at integer steps w: node `x` has `x[a] = c[a] w`, `x[b] = u + c[b] w`,
/// `x[b'] = v + c[b'] w`, with `a` the first axis along which `c` moves and `b < b'` the others.
struct LineFamily {
    /// Link direction (index into the D3Q19 velocities); its opposite is the other link direction.
    dir: usize,
    /// Lattice velocity of `dir`.
    c: [i64; 3],
    /// Axes a, b, b'.
    axes: [usize; 3],
    /// Length of `c` (lattice spacings).
    len: f64,
    /// Lowest and highest line coordinates (u, v) that can hold a node on the grid or next to it.
    lines: [[i64; 2]; 2],
}

impl LineFamily {
    fn new(dir: usize, grid: &Grid) -> Self {
        let c = C[dir].map(i64::from);
        let a = (0..3).find(|&a| c[a] != 0).unwrap_or(0);
        let (b, b2) = ((a + 1) % 3, (a + 2) % 3);
        let (b, b2) = (b.min(b2), b.max(b2));
        let steps = grid.dims[a] as i64 + 1;
        let range = |b: usize| [-1 - c[b].abs() * steps, grid.dims[b] as i64 + c[b].abs() * steps];
        let (rb, rb2) = (range(b), range(b2));
        let len = ((c[0] * c[0] + c[1] * c[1] + c[2] * c[2]) as f64).sqrt();
        LineFamily { dir, c, axes: [a, b, b2], len, lines: [[rb[0], rb2[0]], [rb[1], rb2[1]]] }
    }

    /// Line coordinates (u, v, w) of a point `x` in lattice coordinates.
    fn to_line(&self, x: [f64; 3]) -> [f64; 3] {
        let [a, b, b2] = self.axes;
        let w = self.c[a] as f64 * x[a];
        [x[b] - self.c[b] as f64 * w, x[b2] - self.c[b2] as f64 * w, w]
    }

    /// Node at step `w` of line (u, v), in lattice coordinates.
    fn node(&self, u: i64, v: i64, w: i64) -> [i64; 3] {
        let [a, b, b2] = self.axes;
        let mut x = [0; 3];
        x[a] = self.c[a] * w;
        x[b] = u + self.c[b] * w;
        x[b2] = v + self.c[b2] * w;
        x
    }

    /// Crosses the triangle `x` (lattice coordinates; `size` the product of the lengths of its edges
    /// from vertex 0) with the lines of the family: calls `hit(start, t)` for each link crossed,
    /// `start` its node at the low end along `c` (lattice coordinates) and `t` in [0, 1] the
    /// crossing's fraction of the link from there.
    fn cross(&self, x: [[f64; 3]; 3], size: f64, mut hit: impl FnMut([i64; 3], f64)) {
        let p = x.map(|x| self.to_line(x));
        let area = (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[1][1] - p[0][1]) * (p[2][0] - p[0][0]);
        // A triangle parallel to the lines, to round-off, crosses none of them.
        if area.abs() <= 1e-14 * self.len * size {
            return;
        }
        // Work relative to an integer line near the triangle, so that round-off scales with its size.
        let shift = [floor(p[0][0]), floor(p[0][1])];
        let q = p.map(|p| [p[0] - shift[0] as f64, p[1] - shift[1] as f64]);
        let bounds = |k: usize| {
            q.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), q| (l.min(q[k]), h.max(q[k])))
        };
        let ((u_lo, u_hi), (v_lo, v_hi)) = (bounds(0), bounds(1));
        // Lines this close outside the triangle may still pass the tolerant barycentric test.
        let pad = 1e-8 * (1.0 + (u_hi - u_lo) + (v_hi - v_lo));
        let lines = |k: usize, lo: f64, hi: f64| {
            ceil(lo - pad).max(self.lines[0][k] - shift[k])..=floor(hi + pad).min(self.lines[1][k] - shift[k])
        };
        let (tol, sign, inv) = (EPS * area.abs(), area.signum(), 1.0 / area.abs());
        // Twice the signed areas of the sub-triangles opposite each vertex, positive inside: the
        // barycentric coordinates times the area, linear in (u, v) with slope `slope` along v.
        let edges = [(1, 2), (2, 0), (0, 1)];
        let slope = edges.map(|(i, j)| sign * (q[j][0] - q[i][0]));
        let w_slope = (slope[0] * p[0][2] + slope[1] * p[1][2] + slope[2] * p[2][2]) * inv;
        for u in lines(0, u_lo, u_hi) {
            let uf = u as f64;
            let e0 = edges.map(|(i, j)| sign * ((q[i][0] - uf) * q[j][1] - q[i][1] * (q[j][0] - uf)));
            // The lines of the row inside the triangle: e0 + slope v >= -tol for each edge.
            let (mut lo, mut hi) = (v_lo, v_hi);
            for (e, m) in e0.iter().zip(slope) {
                let v = (-tol - e) / m;
                if m > 0.0 {
                    lo = lo.max(v);
                } else if m < 0.0 {
                    hi = hi.min(v);
                } else if *e < -tol {
                    hi = f64::NEG_INFINITY;
                }
            }
            let row = lines(1, lo, hi);
            let v0 = *row.start() as f64;
            let mut e = [0, 1, 2].map(|i| e0[i] + slope[i] * v0);
            let mut w = (e[0] * p[0][2] + e[1] * p[1][2] + e[2] * p[2][2]) * inv;
            for v in row {
                if e.iter().all(|&e| e >= -tol) {
                    // The link holding the crossing, and its neighbour when the crossing is within
                    // round-off of their common node.
                    let n = floor(w);
                    let t = w - n as f64;
                    let node = |n| self.node(u + shift[0], v + shift[1], n);
                    hit(node(n), t);
                    if t <= EPS {
                        hit(node(n - 1), 1.0);
                    } else if t >= 1.0 - EPS {
                        hit(node(n + 1), 0.0);
                    }
                }
                for (e, m) in e.iter_mut().zip(slope) {
                    *e += m;
                }
                w += w_slope;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_row_sets_the_bits_of_bytes_equal_to_one_only() {
        for len in [1, 7, 8, 63, 64, 65, 130] {
            let row: Vec<u8> = (0..len).map(|i| [0, 1, 2, 255, 1, 1, 0, 3, 1][(i * 7 + i / 5) % 9]).collect();
            let mut packed = vec![0u64; len.div_ceil(64)];
            pack_row(&row, &mut packed);
            for (i, &b) in row.iter().enumerate() {
                assert_eq!(packed[i / 64] >> (i % 64) & 1 == 1, b == 1, "length {len}, node {i}");
            }
            assert!(packed.iter().enumerate().all(|(w, &p)| 64 * w + 64 <= len || p >> (len - 64 * w) == 0));
        }
    }

    #[test]
    fn floor_and_ceil_match_libm_and_saturate() {
        for x in [-2.5, -2.0, -1e-300, 0.0, 1e-300, 0.5, 1.0, 3.999_999_999, 1e17] {
            assert_eq!(floor(x), x.floor() as i64, "{x}");
            assert_eq!(ceil(x), x.ceil() as i64, "{x}");
        }
        assert_eq!((floor(f64::NEG_INFINITY), ceil(f64::INFINITY)), (i64::MIN, i64::MAX));
    }
}
