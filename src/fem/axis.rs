//! The vessel axis as polylines (centerlines, or the line between two ports): axial abscissa, local
//! radius and the cylindrical frame (axial, radial, circumferential) of any point of the wall.

use crate::error::{Error, Result};
use crate::geometry::Port;
use nalgebra::{Point3, Vector3};

/// Polylines along the vessel (m); a point belongs to the nearest segment of any of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    lines: Vec<Vec<Point3<f64>>>,
}

/// Where a point lies relative to the axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisFrame {
    /// Arc length from the start of the nearest polyline to the foot of the perpendicular, m.
    pub abscissa: f64,
    /// Distance from the axis, m.
    pub radius: f64,
    /// Unit tangent of the axis (axial direction).
    pub axial: Vector3<f64>,
    /// Unit vector from the axis to the point (radial direction); any normal of the axis on it.
    pub radial: Vector3<f64>,
    /// axial × radial (circumferential, hoop direction).
    pub hoop: Vector3<f64>,
}

impl Axis {
    /// An axis from polylines (m) of at least two distinct points each.
    pub fn new(lines: Vec<Vec<Point3<f64>>>) -> Result<Self> {
        let usable = |l: &Vec<Point3<f64>>| l.windows(2).any(|w| (w[1] - w[0]).norm() > 0.0);
        if lines.is_empty() || !lines.iter().all(usable) {
            return Err(Error::parameter(
                "wall.axis",
                "every axis polyline needs at least two distinct points (pass the centerlines)",
            ));
        }
        Ok(Axis { lines })
    }

    /// The straight line from the first port's centre to the second's: the axis of a single tube.
    /// Vessels with more than two ports need their centerlines ([`Axis::new`]).
    pub fn between_ports(ports: &[Port]) -> Result<Self> {
        match ports {
            [a, b] => Axis::new(vec![vec![a.center, b.center]]),
            _ => Err(Error::parameter(
                "wall.axis",
                format!(
                    "a vessel with {} ports needs its centerlines as the axis; only a tube with two ports \
                     has a default axis",
                    ports.len()
                ),
            )),
        }
    }

    /// The frame of point `p`.
    pub fn frame(&self, p: &Point3<f64>) -> AxisFrame {
        let best = self
            .lines
            .iter()
            .filter_map(|line| nearest_on(line, p))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((f64::INFINITY, 0.0, Vector3::z(), *p));
        let (radius, abscissa, axial, foot) = best;
        let off = p - foot;
        let off = off - axial * off.dot(&axial);
        let radial = if off.norm() > 0.0 {
            off.normalize()
        } else {
            // On the axis: any normal of it.
            let seed = if axial.x.abs() < 0.9 { Vector3::x() } else { Vector3::y() };
            (seed - axial * seed.dot(&axial)).normalize()
        };
        AxisFrame { abscissa, radius, axial, radial, hoop: axial.cross(&radial) }
    }
}

/// The point of polyline `line` (m) nearest `p`: its distance (m), its abscissa (m from the first
/// point), the unit tangent there and the point; None for a line without length.
fn nearest_on(line: &[Point3<f64>], p: &Point3<f64>) -> Option<(f64, f64, Vector3<f64>, Point3<f64>)> {
    let mut best: Option<(f64, f64, Vector3<f64>, Point3<f64>)> = None;
    let mut s0 = 0.0;
    for w in line.windows(2) {
        let d = w[1] - w[0];
        let len = d.norm();
        if len == 0.0 {
            continue;
        }
        let t = d / len;
        let along = (p - w[0]).dot(&t).clamp(0.0, len);
        let foot = w[0] + t * along;
        let dist = (p - foot).norm();
        if best.is_none_or(|(b, ..)| dist < b) {
            best = Some((dist, s0 + along, t, foot));
        }
        s0 += len;
    }
    best
}

/// Where `p` projects on polyline `line` (m): the abscissa (m from its first point) and the
/// distance (m) of its nearest point; None for a line without length.
pub fn project_on(line: &[Point3<f64>], p: &Point3<f64>) -> Option<(f64, f64)> {
    nearest_on(line, p).map(|(dist, abscissa, ..)| (abscissa, dist))
}
