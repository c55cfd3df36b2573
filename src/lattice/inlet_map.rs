//! The radial coordinate of an inlet cap of any shape, for the inlet velocity profile.

use crate::geometry::Surface;
use nalgebra::Point3;

/// The radial coordinate of an inlet of any shape: ρ = 1 − (distance to the cap's rim) / (its
/// largest value on the cap), which is r / R on a circle and 1 all along the rim of any shape.
pub struct InletMap {
    rim: Vec<[Point3<f64>; 2]>,
    depth: f64,
    /// Factor on the mean velocity that makes the profile carry the port's flow over the cap's
    /// actual shape (1 on a circle).
    pub flow_correction: f64,
}

impl InletMap {
    /// The map of port `k`'s cap (the triangles of `surface` tagged k + 1 in `tags`), with the flow
    /// correction for the steady `profile`.
    pub fn new(surface: &Surface, tags: &[u16], k: usize, profile: &dyn Fn(f64) -> f64) -> Self {
        let tag = (k + 1) as u16;
        let mut uses: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
        let cap: Vec<[u32; 3]> =
            surface.triangles.iter().zip(tags).filter(|(_, t)| **t == tag).map(|(t, _)| *t).collect();
        for t in &cap {
            for e in 0..3 {
                let (a, b) = (t[e], t[(e + 1) % 3]);
                *uses.entry((a.min(b), a.max(b))).or_insert(0) += 1;
            }
        }
        let v = |i: u32| surface.vertices[i as usize];
        let rim: Vec<[Point3<f64>; 2]> =
            uses.iter().filter(|(_, n)| **n == 1).map(|(&(a, b), _)| [v(a), v(b)]).collect();
        let mut map = InletMap { rim, depth: 1.0, flow_correction: 1.0 };
        // Sample the cap with the edge-midpoint rule (exact for quadratics, as the Poiseuille shape
        // is across a fan triangle) on the m² congruent sub-triangles of each triangle.
        let m = 8usize;
        let samples: Vec<(Point3<f64>, f64)> = cap
            .iter()
            .flat_map(|t| {
                let [a, b, c] = t.map(v);
                let w = 0.5 * (b - a).cross(&(c - a)).norm() / (3 * m * m) as f64;
                let at = move |i: usize, j: usize| {
                    a + (b - a) * (i as f64 / m as f64) + (c - a) * (j as f64 / m as f64)
                };
                (0..m).flat_map(move |i| {
                    (0..m - i).flat_map(move |j| {
                        let upright = Some([at(i, j), at(i + 1, j), at(i, j + 1)]);
                        let inverted =
                            (i + j + 1 < m).then(|| [at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)]);
                        upright.into_iter().chain(inverted).flat_map(move |[p, q, r]| {
                            [nalgebra::center(&p, &q), nalgebra::center(&q, &r), nalgebra::center(&r, &p)]
                                .map(|x| (x, w))
                        })
                    })
                })
            })
            .collect();
        // The deepest point: over the samples and the cap's vertices (a fan cap's centre among them).
        let corners = cap.iter().flatten().map(|&i| v(i));
        map.depth = samples
            .iter()
            .map(|(p, _)| *p)
            .chain(corners)
            .map(|p| map.rim_distance(p))
            .fold(f64::MIN_POSITIVE, f64::max);
        let (mut flow, mut area) = (0.0, 0.0);
        for (p, w) in &samples {
            flow += profile(map.radial(*p)) * w;
            area += w;
        }
        if flow > 0.0 {
            map.flow_correction = area / flow;
        }
        map
    }

    fn rim_distance(&self, p: Point3<f64>) -> f64 {
        self.rim
            .iter()
            .map(|[a, b]| {
                let ab = b - a;
                let t = ((p - a).dot(&ab) / ab.norm_squared().max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
                (p - (a + ab * t)).norm()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Radial coordinate ρ in [0, 1] of point `p` (m) on or near the cap.
    pub fn radial(&self, p: Point3<f64>) -> f64 {
        (1.0 - self.rim_distance(p) / self.depth).clamp(0.0, 1.0)
    }
}
