//! Isotropic remeshing of the vessel wall (Botsch and Kobbelt 2004): edges split above 4/3 of the
//! target length and collapsed below 4/5 of it, flips towards valence 6, tangential relaxation,
//! and every moved vertex projected back on the original surface. The port caps and their rims
//! and the sharp edges (dihedral angle above [`FEATURE_DEGREES`]) are kept as they are.

use super::mesh::{Port, Surface};
use super::ports::{WALL_TAG, check_tags};
use crate::error::Result;
use nalgebra::{Point3, Vector3};
use std::collections::{HashMap, HashSet};

/// Edges whose triangles meet at more than this angle (degrees) are sharp features, kept.
pub const FEATURE_DEGREES: f64 = 90.0;

/// Triangles near each cell of a uniform grid, for closest-point queries on the original wall.
struct Projector {
    vertices: Vec<Point3<f64>>,
    triangles: Vec<[u32; 3]>,
    cell: f64,
    bins: HashMap<[i64; 3], Vec<u32>>,
}

/// The point of triangle (a, b, c) closest to p (Ericson, Real-Time Collision Detection 5.1.5).
pub(crate) fn closest_on_triangle(
    p: &Point3<f64>,
    a: &Point3<f64>,
    b: &Point3<f64>,
    c: &Point3<f64>,
) -> Point3<f64> {
    let (ab, ac, ap) = (b - a, c - a, p - a);
    let (d1, d2) = (ab.dot(&ap), ac.dot(&ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return *a;
    }
    let bp = p - b;
    let (d3, d4) = (ab.dot(&bp), ac.dot(&bp));
    if d3 >= 0.0 && d4 <= d3 {
        return *b;
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return a + ab * (d1 / (d1 - d3));
    }
    let cp = p - c;
    let (d5, d6) = (ab.dot(&cp), ac.dot(&cp));
    if d6 >= 0.0 && d5 <= d6 {
        return *c;
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return a + ac * (d2 / (d2 - d6));
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && d4 - d3 >= 0.0 && d5 - d6 >= 0.0 {
        return b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6)));
    }
    let denom = 1.0 / (va + vb + vc);
    a + ab * (vb * denom) + ac * (vc * denom)
}

impl Projector {
    fn new(vertices: Vec<Point3<f64>>, triangles: Vec<[u32; 3]>, cell: f64) -> Self {
        let mut bins: HashMap<[i64; 3], Vec<u32>> = HashMap::new();
        for (t, tri) in triangles.iter().enumerate() {
            let p = tri.map(|v| vertices[v as usize]);
            let lo = p.iter().fold(Vector3::repeat(f64::INFINITY), |m, x| m.inf(&x.coords));
            let hi = p.iter().fold(Vector3::repeat(f64::NEG_INFINITY), |m, x| m.sup(&x.coords));
            let (l, h) = (lo.map(|x| (x / cell).floor() as i64), hi.map(|x| (x / cell).floor() as i64));
            for i in l.x..=h.x {
                for j in l.y..=h.y {
                    for k in l.z..=h.z {
                        bins.entry([i, j, k]).or_default().push(t as u32);
                    }
                }
            }
        }
        Projector { vertices, triangles, cell, bins }
    }

    /// The closest point of the original wall to p, searched within a few cells (p itself if none).
    fn project(&self, p: &Point3<f64>) -> Point3<f64> {
        let c = p.coords.map(|x| (x / self.cell).floor() as i64);
        let mut best = (f64::INFINITY, *p);
        for reach in 1..=3i64 {
            for i in -reach..=reach {
                for j in -reach..=reach {
                    for k in -reach..=reach {
                        for &t in self.bins.get(&[c.x + i, c.y + j, c.z + k]).into_iter().flatten() {
                            let v = self.triangles[t as usize].map(|v| self.vertices[v as usize]);
                            let q = closest_on_triangle(p, &v[0], &v[1], &v[2]);
                            let d = (q - p).norm_squared();
                            if d < best.0 {
                                best = (d, q);
                            }
                        }
                    }
                }
            }
            if best.0.is_finite() {
                break;
            }
        }
        best.1
    }
}

/// The wall triangles being remeshed, with each vertex's triangles.
struct Mesh {
    points: Vec<Point3<f64>>,
    triangles: Vec<[u32; 3]>,
    alive: Vec<bool>,
    around: Vec<Vec<u32>>,
    /// Vertices that never move or disappear (rims, sharp features).
    locked: Vec<bool>,
    /// Sharp edges and rims (sorted pairs): never flipped; only rim edges collapse.
    features: HashSet<(u32, u32)>,
    /// The port whose rim each vertex is on (rim vertices slide along the rim only by collapse).
    rim: Vec<Option<usize>>,
}

fn key(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

impl Mesh {
    fn normal(&self, t: [u32; 3]) -> Vector3<f64> {
        let p = t.map(|v| self.points[v as usize]);
        (p[1] - p[0]).cross(&(p[2] - p[0]))
    }

    fn add(&mut self, t: [u32; 3]) {
        let id = self.triangles.len() as u32;
        self.triangles.push(t);
        self.alive.push(true);
        for v in t {
            self.around[v as usize].push(id);
        }
    }

    fn remove(&mut self, id: u32) {
        self.alive[id as usize] = false;
        for v in self.triangles[id as usize] {
            self.around[v as usize].retain(|&x| x != id);
        }
    }

    /// Live triangles holding edge (a, b).
    fn edge_triangles(&self, a: u32, b: u32) -> Vec<u32> {
        self.around[a as usize].iter().copied().filter(|&t| self.triangles[t as usize].contains(&b)).collect()
    }

    /// Neighbouring vertices of v.
    fn ring(&self, v: u32) -> Vec<u32> {
        let mut r: Vec<u32> = self.around[v as usize]
            .iter()
            .flat_map(|&t| self.triangles[t as usize])
            .filter(|&x| x != v)
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Unique live edges.
    fn edges(&self) -> Vec<(u32, u32)> {
        let mut e: Vec<(u32, u32)> = self
            .triangles
            .iter()
            .zip(&self.alive)
            .filter(|(_, a)| **a)
            .flat_map(|(t, _)| [key(t[0], t[1]), key(t[1], t[2]), key(t[2], t[0])])
            .collect();
        e.sort_unstable();
        e.dedup();
        e
    }

    fn length(&self, (a, b): (u32, u32)) -> f64 {
        (self.points[a as usize] - self.points[b as usize]).norm()
    }

    fn split(&mut self, a: u32, b: u32) {
        let m = self.points.len() as u32;
        self.points
            .push(Point3::from((self.points[a as usize].coords + self.points[b as usize].coords) / 2.0));
        let sharp = self.features.remove(&key(a, b));
        self.locked.push(sharp);
        self.around.push(Vec::new());
        let rim = if self.rim[a as usize] == self.rim[b as usize] { self.rim[a as usize] } else { None };
        self.rim.push(rim.filter(|_| sharp));
        if sharp {
            self.features.insert(key(a, m));
            self.features.insert(key(m, b));
        }
        for t in self.edge_triangles(a, b) {
            let tri = self.triangles[t as usize];
            self.remove(t);
            // Replace the edge's two ends in turn by m, keeping the orientation.
            for end in [a, b] {
                self.add(tri.map(|v| if v == end { m } else { v }));
            }
        }
    }

    /// Collapses a into b (b moved to `to`) when the link condition holds and no triangle folds.
    fn collapse(&mut self, a: u32, b: u32, to: Point3<f64>) -> bool {
        let shared = self.edge_triangles(a, b);
        let (ra, rb) = (self.ring(a), self.ring(b));
        let common = ra.iter().filter(|v| rb.contains(v)).count();
        if shared.is_empty() || common != shared.len() {
            return false;
        }
        let moved: Vec<u32> = self.around[a as usize]
            .iter()
            .chain(&self.around[b as usize])
            .copied()
            .filter(|t| !shared.contains(t))
            .collect();
        for &t in &moved {
            let tri = self.triangles[t as usize];
            let before = self.normal(tri);
            let p = tri.map(|v| if v == a || v == b { to } else { self.points[v as usize] });
            let after = (p[1] - p[0]).cross(&(p[2] - p[0]));
            if after.dot(&before) <= 0.2 * before.norm() * after.norm() {
                return false;
            }
        }
        for t in shared {
            self.remove(t);
        }
        for t in self.around[a as usize].clone() {
            let tri = self.triangles[t as usize];
            self.remove(t);
            self.add(tri.map(|v| if v == a { b } else { v }));
        }
        self.points[b as usize] = to;
        // a's sharp edges now end at b.
        let ends: Vec<(u32, u32)> = self.features.iter().filter(|e| e.0 == a || e.1 == a).copied().collect();
        for e in ends {
            self.features.remove(&e);
            let other = if e.0 == a { e.1 } else { e.0 };
            if other != b {
                self.features.insert(key(other, b));
            }
        }
        true
    }

    /// Flips edge (a, b) when that brings the four vertices' valences closer to 6 (or, with
    /// `delaunay`, when the angles facing it sum to more than 180 degrees) and folds nothing.
    fn flip(&mut self, a: u32, b: u32, valence: &mut [i64], target: &[i64], delaunay: bool) {
        let shared = self.edge_triangles(a, b);
        if shared.len() != 2 || self.features.contains(&key(a, b)) {
            return;
        }
        let opposite = |t: u32| self.triangles[t as usize].into_iter().find(|&v| v != a && v != b);
        let (Some(c), Some(d)) = (opposite(shared[0]), opposite(shared[1])) else { return };
        if self.ring(c).contains(&d) {
            return;
        }
        let dev = |v: &[i64]| -> i64 {
            [a, b, c, d].iter().zip(v).map(|(x, n)| (n - target[*x as usize]).abs()).sum::<i64>()
        };
        let now = [valence[a as usize], valence[b as usize], valence[c as usize], valence[d as usize]];
        let after = [now[0] - 1, now[1] - 1, now[2] + 1, now[3] + 1];
        let facing = |o: u32| {
            let p = |v: u32| self.points[v as usize];
            (p(a) - p(o)).angle(&(p(b) - p(o)))
        };
        let better = if delaunay {
            facing(c) + facing(d) > std::f64::consts::PI + 1e-9
        } else {
            dev(&after) < dev(&now)
        };
        if !better {
            return;
        }
        // Orient: the first triangle runs a -> b.
        let t0 = self.triangles[shared[0] as usize];
        let forward = (0..3).any(|i| t0[i] == a && t0[(i + 1) % 3] == b);
        let (c, d) = if forward { (c, d) } else { (d, c) };
        let new = [[c, a, d], [d, b, c]];
        let old = self.normal(t0) + self.normal(self.triangles[shared[1] as usize]);
        if new.iter().any(|t| {
            let n = self.normal(*t);
            n.dot(&old) <= 0.5 * n.norm() * old.norm()
        }) {
            return;
        }
        for t in shared {
            self.remove(t);
        }
        for t in new {
            self.add(t);
        }
        valence[a as usize] -= 1;
        valence[b as usize] -= 1;
        valence[c as usize] += 1;
        valence[d as usize] += 1;
    }
}

/// Remeshes the wall of `surface` (closed, each triangle tagged in `tags` as wall, 0, or the cap
/// of port k, k + 1) towards edge length `target(x)` (m) in `iterations` rounds; the rims and sharp
/// edges are kept and each cap becomes a fan from its port's centre. Returns the surface and its
/// tags.
pub fn remesh(
    surface: &Surface,
    tags: &[u16],
    ports: &[Port],
    target: &dyn Fn(&Point3<f64>) -> f64,
    iterations: usize,
) -> Result<(Surface, Vec<u16>)> {
    check_tags(surface, tags, ports)?;
    let (wall, caps): (Vec<_>, Vec<_>) =
        surface.triangles.iter().zip(tags).partition(|(_, t)| **t == WALL_TAG);
    let wall: Vec<[u32; 3]> = wall.into_iter().map(|(t, _)| *t).collect();
    let n = surface.vertices.len();
    let mut mesh = Mesh {
        points: surface.vertices.clone(),
        triangles: Vec::new(),
        alive: Vec::new(),
        around: vec![Vec::new(); n],
        locked: vec![false; n],
        features: HashSet::new(),
        rim: vec![None; n],
    };
    for (t, tag) in surface.triangles.iter().zip(tags) {
        if *tag != WALL_TAG {
            for v in t {
                mesh.rim[*v as usize] = Some(*tag as usize - 1);
            }
        }
    }
    for t in &wall {
        mesh.add(*t);
    }
    // Rims (edges with one wall triangle) and sharp edges are locked.
    let cos = FEATURE_DEGREES.to_radians().cos();
    for (a, b) in mesh.edges() {
        let ts = mesh.edge_triangles(a, b);
        let sharp = ts.len() == 2 && {
            let (n0, n1) =
                (mesh.normal(mesh.triangles[ts[0] as usize]), mesh.normal(mesh.triangles[ts[1] as usize]));
            n0.dot(&n1) < cos * n0.norm() * n1.norm()
        };
        if ts.len() != 2 || sharp {
            mesh.locked[a as usize] = true;
            mesh.locked[b as usize] = true;
            mesh.features.insert((a, b));
        }
    }
    // The original rims, per port, for rim vertices sliding along them.
    let mut rims: Vec<Vec<(Point3<f64>, Point3<f64>)>> = vec![Vec::new(); ports.len()];
    for (a, b) in mesh.edges() {
        if let (Some(k), 1) = (
            mesh.rim[a as usize].filter(|k| mesh.rim[b as usize] == Some(*k)),
            mesh.edge_triangles(a, b).len(),
        ) {
            rims[k].push((mesh.points[a as usize], mesh.points[b as usize]));
        }
    }
    let on_rim = |k: usize, p: &Point3<f64>| {
        rims[k]
            .iter()
            .map(|(a, b)| {
                let ab = b - a;
                let s = ((p - a).dot(&ab) / ab.norm_squared().max(1e-300)).clamp(0.0, 1.0);
                a + ab * s
            })
            .min_by(|x, y| (x - p).norm_squared().total_cmp(&(y - p).norm_squared()))
            .unwrap_or(*p)
    };
    let mean_edge =
        mesh.edges().iter().map(|&e| mesh.length(e)).sum::<f64>() / mesh.edges().len().max(1) as f64;
    let projector = Projector::new(surface.vertices.clone(), wall.clone(), mean_edge.max(1e-300) * 2.0);
    let length_at = |m: &Mesh, (a, b): (u32, u32)| {
        target(&Point3::from((m.points[a as usize].coords + m.points[b as usize].coords) / 2.0))
    };
    // The last round only collapses and flips: relaxation can bring a vertex close to a rim.
    for round in 0..=iterations {
        let last = round == iterations;
        // 1. Split long edges.
        for e in mesh.edges().into_iter().filter(|_| !last) {
            if mesh.length(e) > 4.0 / 3.0 * length_at(&mesh, e) {
                mesh.split(e.0, e.1);
            }
        }
        // 2. Collapse short edges (not touching a locked vertex at both ends, not sharp) where no
        // edge gets longer than 4/3 targets (against oscillation).
        for (a, b) in mesh.edges() {
            if mesh.around[a as usize].is_empty() || mesh.around[b as usize].is_empty() {
                continue;
            }
            let l = length_at(&mesh, (a, b));
            let along_rim = mesh.rim[a as usize].is_some()
                && mesh.rim[a as usize] == mesh.rim[b as usize]
                && mesh.edge_triangles(a, b).len() == 1;
            if mesh.length((a, b)) >= 0.8 * l || mesh.features.contains(&(a, b)) && !along_rim {
                continue;
            }
            let (from, to, at) = match (mesh.locked[a as usize], mesh.locked[b as usize]) {
                (true, true) if along_rim => (a, b, mesh.points[b as usize]),
                (true, true) => continue,
                (true, false) => (b, a, mesh.points[a as usize]),
                (false, true) => (a, b, mesh.points[b as usize]),
                (false, false) => (
                    a,
                    b,
                    Point3::from((mesh.points[a as usize].coords + mesh.points[b as usize].coords) / 2.0),
                ),
            };
            let too_long = mesh
                .ring(from)
                .iter()
                .chain(&mesh.ring(to))
                .any(|&v| (mesh.points[v as usize] - at).norm() > 4.0 / 3.0 * l && v != from && v != to);
            if !too_long {
                mesh.collapse(from, to, at);
            }
        }
        // 3. Flip towards valence 6 (4 on the rims).
        let count = mesh.points.len();
        let mut valence = vec![0i64; count];
        for (a, b) in mesh.edges() {
            valence[a as usize] += 1;
            valence[b as usize] += 1;
        }
        let target_valence: Vec<i64> =
            (0..count).map(|v| if mesh.locked[v] && !mesh.around[v].is_empty() { 4 } else { 6 }).collect();
        for (a, b) in mesh.edges() {
            mesh.flip(a, b, &mut valence, &target_valence, last);
        }
        // 4. Tangential relaxation, then back onto the original wall.
        let moved: Vec<(usize, Point3<f64>)> = (0..mesh.points.len())
            .filter(|&v| !last && !mesh.locked[v] && !mesh.around[v].is_empty())
            .map(|v| {
                let ring = mesh.ring(v as u32);
                let centre = ring.iter().map(|&u| mesh.points[u as usize].coords).sum::<Vector3<f64>>()
                    / ring.len() as f64;
                let normal = mesh.around[v]
                    .iter()
                    .map(|&t| mesh.normal(mesh.triangles[t as usize]))
                    .sum::<Vector3<f64>>();
                let p = mesh.points[v];
                let step = centre - p.coords;
                let step = match normal.try_normalize(0.0) {
                    Some(n) => step - n * n.dot(&step),
                    None => step,
                };
                (v, projector.project(&(p + step)))
            })
            .collect();
        for (v, p) in moved {
            mesh.points[v] = p;
        }
        // Rim vertices slide to the middle of their two rim neighbours, on the original rim.
        let mut along: HashMap<u32, Vec<u32>> = HashMap::new();
        for (a, b) in mesh.edges() {
            if mesh.rim[a as usize].is_some()
                && mesh.rim[a as usize] == mesh.rim[b as usize]
                && mesh.edge_triangles(a, b).len() == 1
            {
                along.entry(a).or_default().push(b);
                along.entry(b).or_default().push(a);
            }
        }
        let slid: Vec<(u32, Point3<f64>)> = along
            .iter()
            .filter(|(_, n)| n.len() == 2 && !last)
            .filter_map(|(&v, n)| {
                let k = mesh.rim[v as usize]?;
                let mid = (mesh.points[n[0] as usize].coords + mesh.points[n[1] as usize].coords) / 2.0;
                Some((v, on_rim(k, &Point3::from(mid))))
            })
            .collect();
        for (v, p) in slid {
            mesh.points[v as usize] = p;
        }
    }
    let mut triangles: Vec<[u32; 3]> =
        mesh.triangles.iter().zip(&mesh.alive).filter(|(_, a)| **a).map(|(t, _)| *t).collect();
    // The caps again: a fan from each port's centre over its (remeshed) rim.
    drop(caps);
    let mut count: HashMap<(u32, u32), usize> = HashMap::new();
    for t in &triangles {
        for i in 0..3 {
            *count.entry(key(t[i], t[(i + 1) % 3])).or_default() += 1;
        }
    }
    let mut points = mesh.points;
    let centres: Vec<u32> = ports
        .iter()
        .map(|p| {
            points.push(p.center);
            points.len() as u32 - 1
        })
        .collect();
    let mut fans = Vec::new();
    for t in &triangles {
        for i in 0..3 {
            let (a, b) = (t[i], t[(i + 1) % 3]);
            if count[&key(a, b)] == 1
                && let Some(k) = mesh.rim[a as usize].filter(|k| mesh.rim[b as usize] == Some(*k))
            {
                fans.push(([b, a, centres[k]], k as u16 + 1));
            }
        }
    }
    let mut out_tags = vec![WALL_TAG; triangles.len()];
    for (t, tag) in fans {
        triangles.push(t);
        out_tags.push(tag);
    }
    let mut out = Surface { vertices: points, triangles };
    out.drop_unused_vertices();
    Ok((out, out_tags))
}
