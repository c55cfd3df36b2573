//! Centreline paths as plain data: their checks, the nearest path point to a point, and the position,
//! radius and direction of a path at an abscissa.

use crate::error::{Error, Result};
use nalgebra::{Point3, Vector3};

/// A centreline path from the inlet to one outlet: points (m), arc length from the inlet (m) and
/// maximal inscribed radius (m) at each point.
#[derive(Debug, Clone, Copy)]
pub struct CenterlinePath<'a> {
    /// Points along the path from the inlet (m), at least two.
    pub points: &'a [Point3<f64>],
    /// Arc length from the inlet at each point (m), strictly increasing.
    pub abscissa: &'a [f64],
    /// Radius of the maximal inscribed sphere at each point (m).
    pub radius: &'a [f64],
}

/// The point of a path nearest to a given point.
#[derive(Debug, Clone, Copy)]
pub(super) struct Foot {
    /// Its abscissa (m from the inlet).
    pub s: f64,
    /// Its position (m).
    pub point: Point3<f64>,
    /// Distance from the given point to it (m).
    pub distance: f64,
    /// True when the given point lies beyond an end of the path (its nearest point is an end, seen at
    /// an angle past the end's segment).
    pub beyond_end: bool,
}

impl CenterlinePath<'_> {
    /// Checks the lengths and values of the three arrays, naming the first bad entry.
    pub(super) fn check(&self) -> Result<()> {
        let n = self.points.len();
        if n < 2 || self.abscissa.len() != n || self.radius.len() != n {
            return Err(Error::parameter(
                "centerline",
                format!(
                    "needs at least two points with one abscissa and one radius each; got {n} points, {} \
                     abscissae and {} radii",
                    self.abscissa.len(),
                    self.radius.len()
                ),
            ));
        }
        if let Some(i) = self.points.iter().position(|p| !p.coords.iter().all(|c| c.is_finite())) {
            return Err(Error::parameter(format!("centerline.points[{i}]"), "must be finite (m)"));
        }
        let increasing =
            |i: usize| self.abscissa[i].is_finite() && (i == 0 || self.abscissa[i] > self.abscissa[i - 1]);
        if let Some(i) = (0..n).find(|&i| !increasing(i)) {
            return Err(Error::parameter(
                format!("centerline.abscissa[{i}]"),
                format!("must be finite and increase strictly along the path (m), got {}", self.abscissa[i]),
            ));
        }
        if let Some(i) = self.radius.iter().position(|r| !(r.is_finite() && *r > 0.0)) {
            return Err(Error::parameter(
                format!("centerline.radius[{i}]"),
                format!("must be a positive inscribed radius (m), got {}", self.radius[i]),
            ));
        }
        Ok(())
    }

    /// Abscissa of the first point (m).
    pub(super) fn start(&self) -> f64 {
        self.abscissa[0]
    }

    /// Abscissa of the last point (m).
    pub(super) fn end(&self) -> f64 {
        self.abscissa[self.abscissa.len() - 1]
    }

    /// The segment holding abscissa `s` (m, clamped to the path) and the fraction along it.
    fn locate(&self, s: f64) -> (usize, f64) {
        let a = self.abscissa;
        let i = a.partition_point(|&x| x <= s).clamp(1, a.len() - 1) - 1;
        (i, ((s - a[i]) / (a[i + 1] - a[i])).clamp(0.0, 1.0))
    }

    /// Position (m) at abscissa `s` (m), linear between points.
    pub(super) fn point_at(&self, s: f64) -> Point3<f64> {
        let (i, t) = self.locate(s);
        self.points[i] + (self.points[i + 1] - self.points[i]) * t
    }

    /// Inscribed radius (m) at abscissa `s` (m), linear between points.
    pub(super) fn radius_at(&self, s: f64) -> f64 {
        let (i, t) = self.locate(s);
        self.radius[i] + (self.radius[i + 1] - self.radius[i]) * t
    }

    /// Unit direction of the path at abscissa `s` (m): the chord from one local radius before to one
    /// after, which smooths the staircase of a path traced on a lattice.
    pub(super) fn tangent_at(&self, s: f64) -> Vector3<f64> {
        let h = self.radius_at(s);
        let chord = self.point_at((s + h).min(self.end())) - self.point_at((s - h).max(self.start()));
        chord.try_normalize(0.0).unwrap_or_else(|| {
            let (i, _) = self.locate(s);
            (self.points[i + 1] - self.points[i]).try_normalize(0.0).unwrap_or_else(Vector3::z)
        })
    }

    /// The points (m) of the path averaged over one local radius each way along it (less near the
    /// ends, which stay put): the staircase of a path traced on a lattice smoothed out.
    pub(super) fn smoothed_points(&self) -> Vec<Point3<f64>> {
        const SAMPLES: usize = 9;
        (0..self.points.len())
            .map(|i| {
                let s = self.abscissa[i];
                let h = self.radius[i].min(s - self.start()).min(self.end() - s);
                let sum = (0..SAMPLES)
                    .map(|k| self.point_at(s + h * (2.0 * k as f64 / (SAMPLES - 1) as f64 - 1.0)).coords)
                    .sum::<Vector3<f64>>();
                Point3::from(sum / SAMPLES as f64)
            })
            .collect()
    }

    /// The path point nearest to `p` (over the segments between points).
    pub(super) fn project(&self, p: &Point3<f64>) -> Foot {
        let last = self.points.len() - 2;
        let mut best = (f64::INFINITY, 0, 0.0, false);
        for (i, w) in self.points.windows(2).enumerate() {
            let d = w[1] - w[0];
            let raw = (p - w[0]).dot(&d) / d.norm_squared().max(f64::MIN_POSITIVE);
            let t = raw.clamp(0.0, 1.0);
            let dist2 = (w[0] + d * t - p).norm_squared();
            if dist2 < best.0 {
                best = (dist2, i, t, (i == 0 && raw < 0.0) || (i == last && raw > 1.0));
            }
        }
        let (dist2, i, t, beyond_end) = best;
        Foot {
            s: self.abscissa[i] + (self.abscissa[i + 1] - self.abscissa[i]) * t,
            point: self.points[i] + (self.points[i + 1] - self.points[i]) * t,
            distance: dist2.sqrt(),
            beyond_end,
        }
    }
}
