//! Synthetic vessels: closed, watertight, outward-oriented axisymmetric tubes along +z from z = 0,
//! in metres, with flat caps and their inlet and outlet ports.

use crate::error::{Error, Result};
use crate::geometry::mesh::{Port, Surface};
use nalgebra::{Point3, Vector3};
use std::f64::consts::PI;

/// A straight circular tube: radius and length in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TubeSpec {
    /// Radius (m).
    pub radius: f64,
    /// Length along z (m).
    pub length: f64,
}

/// A circular tube with a cosine-shaped stenosis; lengths in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StenosisSpec {
    /// Radius away from the stenosis (m).
    pub radius: f64,
    /// Length along z (m).
    pub length: f64,
    /// Fraction of the lumen area removed at the throat, in [0, 0.99] (0.75 = 75 %).
    pub area_reduction: f64,
    /// Axial length of the narrowing (m).
    pub stenosis_length: f64,
    /// z of the throat (m).
    pub center: f64,
}

impl StenosisSpec {
    /// Radius (m) at axial position `z` (m): R0 outside the stenosis, a raised-cosine dip to
    /// R1 = R0 √(1 − area_reduction) at the throat.
    pub fn radius_at(&self, z: f64) -> f64 {
        let throat = self.radius * (1.0 - self.area_reduction).sqrt();
        let s = (z - self.center) / self.stenosis_length;
        if s.abs() < 0.5 {
            self.radius - (self.radius - throat) * (1.0 + (2.0 * PI * s).cos()) / 2.0
        } else {
            self.radius
        }
    }
}

/// Checks that `value` is positive and finite.
fn positive(field: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::parameter(field, format!("must be a positive finite length in metres, got {value}")))
    }
}

/// Ring z positions (m): `breaks` split [breaks[0], last] into pieces, piece i subdivided evenly
/// with spacing at most `spacing[i]` (pieces much shorter than their spacing are merged into the
/// next), after checking that `segments` vertices per ring fit 32-bit indices.
fn rings(breaks: &[f64], spacing: &[f64], segments: usize) -> Result<Vec<f64>> {
    let counts: Vec<usize> = breaks
        .windows(2)
        .zip(spacing)
        .map(|(piece, &h)| {
            let len = piece[1] - piece[0];
            if len < 1e-6 * h { 0 } else { (len / h).ceil() as usize }
        })
        .collect();
    let vertices = (counts.iter().sum::<usize>() + 2).saturating_mul(segments).saturating_add(2);
    if u32::try_from(vertices).is_err() {
        return Err(Error::parameter(
            "segments",
            format!("{vertices} vertices do not fit 32-bit indices; use fewer segments or a shorter vessel"),
        ));
    }
    let mut z = vec![breaks[0]];
    for (piece, n) in breaks.windows(2).zip(counts) {
        let from = *z.last().unwrap_or(&piece[0]);
        z.extend((1..=n).map(|i| from + (piece[1] - from) * i as f64 / n as f64));
    }
    // A merged last piece leaves the last ring just short of the end: move it there.
    let end = breaks[breaks.len() - 1];
    match z.as_mut_slice() {
        [_] => z.push(end),
        [.., last] => *last = end,
        [] => {}
    }
    Ok(z)
}

/// Closed surface of revolution about the z axis with radius `profile(z)` (m) at the rings `z`
/// (ascending, m), `segments` vertices per ring (alternate rings turned by half a segment so the
/// side triangles are near-equilateral), flat fan caps, and the `inlet` and `outlet` ports.
/// `z` has at least two rings and `z.len() * segments + 2` fits `u32` (see [`rings`]).
fn axisymmetric(profile: impl Fn(f64) -> f64, z: &[f64], segments: usize) -> (Surface, Vec<Port>) {
    let n = segments;
    let mut vertices = Vec::with_capacity(z.len() * n + 2);
    for (k, &zk) in z.iter().enumerate() {
        let r = profile(zk);
        let turn = 0.5 * (k % 2) as f64;
        vertices.extend((0..n).map(|j| {
            let angle = 2.0 * PI * (j as f64 + turn) / n as f64;
            Point3::new(r * angle.cos(), r * angle.sin(), zk)
        }));
    }
    let ring = |k: usize, j: usize| (k * n + j % n) as u32;
    let mut triangles = Vec::with_capacity(2 * n * (z.len() + 1));
    for k in 0..z.len() - 1 {
        for j in 0..n {
            let (a0, a1, b0, b1) = (ring(k, j), ring(k, j + 1), ring(k + 1, j), ring(k + 1, j + 1));
            if k % 2 == 0 {
                // Upper ring turned half a segment ahead: b0 lies between a0 and a1.
                triangles.extend([[a0, a1, b0], [a1, b1, b0]]);
            } else {
                // Lower ring turned half a segment ahead: a0 lies between b0 and b1.
                triangles.extend([[a0, b1, b0], [a0, a1, b1]]);
            }
        }
    }
    let last = z.len() - 1;
    let (start, end) = (z[0], z[last]);
    let (bottom, top) = (vertices.len() as u32, vertices.len() as u32 + 1);
    vertices.extend([Point3::new(0.0, 0.0, start), Point3::new(0.0, 0.0, end)]);
    for j in 0..n {
        triangles.push([bottom, ring(0, j + 1), ring(0, j)]);
        triangles.push([top, ring(last, j), ring(last, j + 1)]);
    }
    let port = |name: &str, z: f64, normal: f64| Port {
        name: name.to_string(),
        center: Point3::new(0.0, 0.0, z),
        normal: Vector3::new(0.0, 0.0, normal),
        radius: profile(z),
    };
    let ports = vec![port("inlet", start, -1.0), port("outlet", end, 1.0)];
    (Surface { vertices, triangles }, ports)
}

/// Axial spacing (m) that makes near-equilateral side triangles on a ring of `radius` (m) with
/// `segments` sides, after checking `segments`.
fn ring_spacing(radius: f64, segments: usize) -> Result<f64> {
    if segments < 8 {
        return Err(Error::parameter(
            "segments",
            format!("must be at least 8 (64 is typical), got {segments}"),
        ));
    }
    let side = 2.0 * radius * (PI / segments as f64).sin();
    Ok(side * 3f64.sqrt() / 2.0)
}

/// A closed straight tube (m) with `segments` sides around, from z = 0 to `spec.length`, and its
/// `inlet` (z = 0) and `outlet` ports.
pub fn tube(spec: &TubeSpec, segments: usize) -> Result<(Surface, Vec<Port>)> {
    positive("tube.radius", spec.radius)?;
    positive("tube.length", spec.length)?;
    let h = ring_spacing(spec.radius, segments)?;
    let z = rings(&[0.0, spec.length], &[h], segments)?;
    Ok(axisymmetric(|_| spec.radius, &z, segments))
}

/// A closed tube (m) with a cosine stenosis, `segments` sides around, at least 16 ring intervals
/// across the narrowing, and its `inlet` (z = 0) and `outlet` ports.
pub fn stenosis(spec: &StenosisSpec, segments: usize) -> Result<(Surface, Vec<Port>)> {
    positive("stenosis.radius", spec.radius)?;
    positive("stenosis.length", spec.length)?;
    positive("stenosis.stenosis_length", spec.stenosis_length)?;
    if !(0.0..=0.99).contains(&spec.area_reduction) {
        return Err(Error::parameter(
            "stenosis.area_reduction",
            format!(
                "must be a fraction in [0, 0.99] (0.75 = 75 % area reduction), got {}",
                spec.area_reduction
            ),
        ));
    }
    let (from, to) = (spec.center - spec.stenosis_length / 2.0, spec.center + spec.stenosis_length / 2.0);
    // Round-off in centre ± half-length may overshoot a tube end by a few ulps.
    let slack = 1e-9 * spec.length;
    if !(from >= -slack && to <= spec.length + slack) {
        return Err(Error::parameter(
            "stenosis.center",
            format!(
                "the stenosis spans z = {from} to {to} m, outside the tube (0 to {} m); move the centre or \
                 shorten the stenosis",
                spec.length
            ),
        ));
    }
    let h = ring_spacing(spec.radius, segments)?;
    let (from, to) = (from.max(0.0), to.min(spec.length));
    let z = rings(&[0.0, from, to, spec.length], &[h, h.min(spec.stenosis_length / 16.0), h], segments)?;
    Ok(axisymmetric(|z| spec.radius_at(z), &z, segments))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::check::inspect;

    /// Checks closure, orientation and volume within 1 % of `analytic` (m³), printing the figures.
    fn check_closed_with_volume(surface: &Surface, analytic: f64, name: &str) {
        let r = inspect(surface);
        let rel = (r.volume - analytic) / analytic;
        println!(
            "{name}: {} triangles, {} vertices, boundary {}, non-manifold {}, degenerate {}, volume {:.6e} m^3, \
             analytic {analytic:.6e} m^3, relative error {rel:+.4e}",
            r.triangles, r.vertices, r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles, r.volume
        );
        assert_eq!((r.boundary_edges, r.nonmanifold_edges, r.degenerate_triangles), (0, 0, 0));
        assert!(r.holes.is_empty());
        assert!(r.volume > 0.0);
        assert!(rel.abs() < 0.01);
    }

    fn stenosis_spec() -> StenosisSpec {
        StenosisSpec {
            radius: 2e-3,
            length: 40e-3,
            area_reduction: 0.75,
            stenosis_length: 8e-3,
            center: 20e-3,
        }
    }

    #[test]
    fn tube_is_closed_outward_with_volume_within_one_percent() {
        let spec = TubeSpec { radius: 2e-3, length: 20e-3 };
        let (surface, ports) = tube(&spec, 64).unwrap();
        check_closed_with_volume(&surface, PI * spec.radius.powi(2) * spec.length, "tube");
        let faceting = (2.0 * PI / 64.0).sin() / (2.0 * PI / 64.0);
        println!("expected faceting factor sin(2pi/64)/(2pi/64) = {faceting:.6}");
        assert_eq!(ports.len(), 2);
        assert_eq!((ports[0].name.as_str(), ports[0].normal), ("inlet", Vector3::new(0.0, 0.0, -1.0)));
        assert_eq!((ports[1].name.as_str(), ports[1].center), ("outlet", Point3::new(0.0, 0.0, spec.length)));
        assert_eq!((ports[0].radius, ports[1].radius), (spec.radius, spec.radius));
    }

    #[test]
    fn stenosis_is_closed_outward_with_volume_within_one_percent_of_simpson() {
        let spec = stenosis_spec();
        let (surface, ports) = stenosis(&spec, 64).unwrap();
        // Simpson's rule on π r(z)² with 4000 intervals.
        let m = 4000;
        let dz = spec.length / m as f64;
        let area = |i: usize| PI * spec.radius_at(i as f64 * dz).powi(2);
        let weighted: f64 = (0..=m)
            .map(|i| {
                area(i)
                    * if i == 0 || i == m {
                        1.0
                    } else if i % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    }
            })
            .sum();
        check_closed_with_volume(&surface, weighted * dz / 3.0, "stenosis");
        let min_r = surface
            .vertices
            .iter()
            .map(|p| p.coords.xy().norm())
            .filter(|&r| r > 0.0)
            .fold(f64::MAX, f64::min);
        let rings_inside = surface
            .vertices
            .iter()
            .filter(|p| (p.z - spec.center).abs() < spec.stenosis_length / 2.0)
            .count()
            / 64;
        println!(
            "smallest ring radius {min_r:.6e} m (throat {:.6e} m), {rings_inside} rings inside the stenosis",
            spec.radius_at(spec.center)
        );
        assert!(rings_inside >= 15);
        assert!((min_r - spec.radius_at(spec.center)).abs() < 0.01 * spec.radius);
        assert_eq!((ports[0].radius, ports[1].radius), (spec.radius, spec.radius));
    }

    #[test]
    fn stenosis_ending_at_the_outlet_up_to_round_off_has_no_slivers() {
        // 0.036 + 0.004 is 0.039999999999999994 in f64, a few ulps short of the 0.04 m tube end.
        for (center, length) in [(0.036, 0.04), (0.004, 0.04), (0.1 + 0.2 - 0.004, 0.3)] {
            let spec = StenosisSpec { center, length, stenosis_length: 0.008, ..stenosis_spec() };
            let (surface, ports) = stenosis(&spec, 32).unwrap();
            let r = inspect(&surface);
            println!(
                "centre {center}, length {length}: degenerate {}, boundary {}, outlet z {}",
                r.degenerate_triangles, r.boundary_edges, ports[1].center.z
            );
            assert_eq!((r.degenerate_triangles, r.boundary_edges, r.nonmanifold_edges), (0, 0, 0));
            assert_eq!(ports[1].center.z, length);
        }
    }

    #[test]
    fn stenosis_profile_removes_the_requested_area_at_the_throat() {
        let spec = stenosis_spec();
        let ratio = (spec.radius_at(spec.center) / spec.radius).powi(2);
        println!("throat area / normal area = {ratio:.6} (expected 0.25)");
        assert!((ratio - 0.25).abs() < 1e-12);
        assert_eq!(spec.radius_at(spec.center + spec.stenosis_length / 2.0), spec.radius);
        assert_eq!(spec.radius_at(0.0), spec.radius);
    }

    #[test]
    fn tube_side_triangles_are_near_equilateral() {
        let (surface, _) = tube(&TubeSpec { radius: 2e-3, length: 20e-3 }, 64).unwrap();
        let worst = surface
            .triangles
            .iter()
            .filter(|t| t.iter().all(|&v| surface.vertices[v as usize].coords.xy().norm() > 0.0))
            .map(|t| {
                let p = t.map(|v| surface.vertices[v as usize]);
                let e = [(p[1] - p[0]).norm(), (p[2] - p[1]).norm(), (p[0] - p[2]).norm()];
                e.iter().cloned().fold(0.0, f64::max) / e.iter().cloned().fold(f64::MAX, f64::min)
            })
            .fold(0.0, f64::max);
        println!("worst side-triangle edge ratio (longest/shortest) {worst:.4}");
        assert!(worst < 1.2);
    }

    #[test]
    fn invalid_specs_are_rejected_naming_the_field() {
        let bad_tube = |spec: TubeSpec, segments| tube(&spec, segments).unwrap_err().to_string();
        let bad_stenosis = |spec: StenosisSpec| stenosis(&spec, 64).unwrap_err().to_string();
        let errors = [
            bad_tube(TubeSpec { radius: -1.0, length: 1.0 }, 64),
            bad_tube(TubeSpec { radius: 1.0, length: f64::NAN }, 64),
            bad_tube(TubeSpec { radius: 1.0, length: 1.0 }, 7),
            bad_stenosis(StenosisSpec { area_reduction: 0.995, ..stenosis_spec() }),
            bad_stenosis(StenosisSpec { center: 37e-3, ..stenosis_spec() }),
            bad_stenosis(StenosisSpec { stenosis_length: 0.0, ..stenosis_spec() }),
        ];
        for e in &errors {
            println!("error: {e}");
        }
        let fields = [
            "tube.radius",
            "tube.length",
            "segments",
            "stenosis.area_reduction",
            "stenosis.center",
            "stenosis.stenosis_length",
        ];
        for (e, field) in errors.iter().zip(fields) {
            assert!(e.starts_with(field), "{e} should name {field}");
        }
    }
}
