//! Synthetic vessels: closed, watertight, outward-oriented axisymmetric tubes along +z from z = 0,
//! in metres, with flat caps and their inlet and outlet ports.

use crate::error::{Error, Result};
use crate::geometry::domes::{EndPlane, clip_ends};
use crate::geometry::implicit;
use crate::geometry::mesh::{Port, Surface};
use crate::geometry::ports::cap_open_ends;
use nalgebra::{Point3, Vector3};
use std::f64::consts::PI;
use std::path::Path;

mod branched;

pub use branched::{
    AneurysmSpec, BifurcationSpec, Solid, aneurysm, bifurcation, inside_union, union_distance,
};

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
    /// 0 for an axisymmetric narrowing, up to 1 for one whose -x wall stays straight.
    pub eccentricity: f64,
}

impl StenosisSpec {
    /// Radius (m) at axial position `z` (m): R0 outside the stenosis, a raised-cosine dip to
    /// R1 = R0 √(1 − area_reduction) at the throat.
    pub fn radius_at(&self, z: f64) -> f64 {
        let throat = self.radius * (1.0 - self.area_reduction).sqrt();
        self.radius - (self.radius - throat) * stenosis_shape((z - self.center) / self.stenosis_length)
    }
}

/// The raised-cosine shape of a stenosis at `u` (distance from the throat in stenosis lengths):
/// (1 + cos 2πu) / 2, that is 1 at the throat falling with zero slope to 0 at |u| = 1/2, and 0 beyond.
pub fn stenosis_shape(u: f64) -> f64 {
    if u.abs() < 0.5 { (1.0 + (2.0 * PI * u).cos()) / 2.0 } else { 0.0 }
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

/// One ring of a generated vessel: axial position, radius and sideways (x) offset of its centre (m).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ring {
    z: f64,
    r: f64,
    x: f64,
}

/// Closed tube through `rings` (z non-decreasing; equal z with different radii make a flat annular
/// step), `segments` vertices per ring (alternate rings turned by half a segment so the side
/// triangles are near-equilateral), flat fan caps, and the `inlet` and `outlet` ports.
/// `rings` has at least two entries and `rings.len() * segments + 2` fits `u32` (see [`rings`]).
fn swept(rings: &[Ring], segments: usize) -> (Surface, Vec<Port>) {
    let n = segments;
    let mut vertices = Vec::with_capacity(rings.len() * n + 2);
    for (k, ring) in rings.iter().enumerate() {
        let turn = 0.5 * (k % 2) as f64;
        vertices.extend((0..n).map(|j| {
            let angle = 2.0 * PI * (j as f64 + turn) / n as f64;
            Point3::new(ring.x + ring.r * angle.cos(), ring.r * angle.sin(), ring.z)
        }));
    }
    let index = |k: usize, j: usize| (k * n + j % n) as u32;
    let mut triangles = Vec::with_capacity(2 * n * (rings.len() + 1));
    for k in 0..rings.len() - 1 {
        for j in 0..n {
            let (a0, a1, b0, b1) = (index(k, j), index(k, j + 1), index(k + 1, j), index(k + 1, j + 1));
            if k % 2 == 0 {
                // Upper ring turned half a segment ahead: b0 lies between a0 and a1.
                triangles.extend([[a0, a1, b0], [a1, b1, b0]]);
            } else {
                // Lower ring turned half a segment ahead: a0 lies between b0 and b1.
                triangles.extend([[a0, b1, b0], [a0, a1, b1]]);
            }
        }
    }
    let last = rings.len() - 1;
    let (first_ring, last_ring) = (rings[0], rings[last]);
    let (bottom, top) = (vertices.len() as u32, vertices.len() as u32 + 1);
    vertices
        .extend([Point3::new(first_ring.x, 0.0, first_ring.z), Point3::new(last_ring.x, 0.0, last_ring.z)]);
    for j in 0..n {
        triangles.push([bottom, index(0, j + 1), index(0, j)]);
        triangles.push([top, index(last, j), index(last, j + 1)]);
    }
    let port = |name: &str, ring: Ring, normal: f64| Port {
        name: name.to_string(),
        center: Point3::new(ring.x, 0.0, ring.z),
        normal: Vector3::new(0.0, 0.0, normal),
        radius: ring.r,
    };
    let ports = vec![port("inlet", first_ring, -1.0), port("outlet", last_ring, 1.0)];
    (Surface { vertices, triangles }, ports)
}

/// Rings of a surface of revolution about the z axis with radius `profile(z)` at positions `z`.
fn revolve(profile: impl Fn(f64) -> f64, z: &[f64]) -> Vec<Ring> {
    z.iter().map(|&z| Ring { z, r: profile(z), x: 0.0 }).collect()
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
    Ok(swept(&revolve(|_| spec.radius, &z), segments))
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
    if !(0.0..=1.0).contains(&spec.eccentricity) {
        return Err(Error::parameter(
            "stenosis.eccentricity",
            format!("must be in [0, 1] (0 axisymmetric, 1 one wall straight), got {}", spec.eccentricity),
        ));
    }
    let h = ring_spacing(spec.radius, segments)?;
    let (from, to) = (from.max(0.0), to.min(spec.length));
    let z = rings(&[0.0, from, to, spec.length], &[h, h.min(spec.stenosis_length / 16.0), h], segments)?;
    let mut rings = revolve(|z| spec.radius_at(z), &z);
    // Eccentric: shift each ring sideways by the eccentricity times the radius lost, so that at
    // eccentricity 1 the wall at -x stays straight and all the narrowing comes from +x.
    for ring in &mut rings {
        ring.x = -spec.eccentricity * (spec.radius - ring.r);
    }
    Ok(swept(&rings, segments))
}

/// Inlet and outlet pipe diameter of the FDA benchmark nozzle (m).
pub const FDA_PIPE_DIAMETER: f64 = 0.012;
/// Throat diameter of the FDA benchmark nozzle (m).
pub const FDA_THROAT_DIAMETER: f64 = 0.004;
/// Length of the 20-degree (total angle) conical contraction (m).
pub const FDA_CONE_LENGTH: f64 = 0.022685;
/// Length of the throat (m).
pub const FDA_THROAT_LENGTH: f64 = 0.040;

/// The FDA benchmark nozzle (shared/VALIDATION.md): a 12 mm pipe, a conical contraction to a 4 mm
/// throat 40 mm long, and a sudden expansion back to 12 mm. Pipe lengths before and after in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FdaNozzleSpec {
    /// Straight pipe before the cone (m).
    pub inlet_length: f64,
    /// Straight pipe after the sudden expansion (m).
    pub outlet_length: f64,
}

impl FdaNozzleSpec {
    /// z of the sudden expansion (m).
    pub fn expansion_z(&self) -> f64 {
        self.inlet_length + FDA_CONE_LENGTH + FDA_THROAT_LENGTH
    }

    /// Total length along z (m).
    pub fn length(&self) -> f64 {
        self.expansion_z() + self.outlet_length
    }

    /// Radius (m) at `z` (m), the throat's at the expansion plane itself.
    pub fn radius_at(&self, z: f64) -> f64 {
        let (big, small) = (FDA_PIPE_DIAMETER / 2.0, FDA_THROAT_DIAMETER / 2.0);
        let cone_end = self.inlet_length + FDA_CONE_LENGTH;
        if z <= self.inlet_length {
            big
        } else if z < cone_end {
            big + (small - big) * (z - self.inlet_length) / FDA_CONE_LENGTH
        } else if z <= self.expansion_z() {
            small
        } else {
            big
        }
    }
}

/// The FDA benchmark nozzle along +z from z = 0 (m), `segments` sides around, with its `inlet` and
/// `outlet` ports; the sudden expansion is a flat annulus.
pub fn fda_nozzle(spec: &FdaNozzleSpec, segments: usize) -> Result<(Surface, Vec<Port>)> {
    positive("fda_nozzle.inlet_length", spec.inlet_length)?;
    positive("fda_nozzle.outlet_length", spec.outlet_length)?;
    let (big, small) = (FDA_PIPE_DIAMETER / 2.0, FDA_THROAT_DIAMETER / 2.0);
    let (h_pipe, h_throat) = (ring_spacing(big, segments)?, ring_spacing(small, segments)?);
    let cone_end = spec.inlet_length + FDA_CONE_LENGTH;
    let (ze, end) = (spec.expansion_z(), spec.length());
    let upstream = rings(&[0.0, spec.inlet_length, cone_end, ze], &[h_pipe, h_throat, h_throat], segments)?;
    let downstream = rings(&[ze, end], &[h_pipe], segments)?;
    let steps = ((big - small) / h_throat).ceil() as usize;
    let mut all = revolve(|z| spec.radius_at(z), &upstream);
    all.extend((1..=steps).map(|k| Ring {
        z: ze,
        r: small + (big - small) * k as f64 / steps as f64,
        x: 0.0,
    }));
    all.extend(downstream.iter().skip(1).map(|&z| Ring { z, r: big, x: 0.0 }));
    if u32::try_from(all.len().saturating_mul(segments).saturating_add(2)).is_err() {
        return Err(Error::parameter("segments", "too many vertices for 32-bit indices; use fewer segments"));
    }
    Ok(swept(&all, segments))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::check::inspect;
    use crate::geometry::ports::tag_triangles;

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

    #[test]
    fn fda_nozzle_is_closed_outward_with_volume_within_one_percent() {
        let spec = FdaNozzleSpec { inlet_length: 0.024, outlet_length: 0.06 };
        let (surface, ports) = fda_nozzle(&spec, 64).unwrap();
        let (big, small) = (FDA_PIPE_DIAMETER / 2.0, FDA_THROAT_DIAMETER / 2.0);
        let cone = PI / 3.0 * FDA_CONE_LENGTH * (big * big + big * small + small * small);
        let analytic = PI * big * big * (spec.inlet_length + spec.outlet_length)
            + cone
            + PI * small * small * FDA_THROAT_LENGTH;
        check_closed_with_volume(&surface, analytic, "FDA nozzle");
        assert_eq!(ports[1].center.z, spec.length());
        assert!((ports[0].radius - big).abs() < 1e-12 && (ports[1].radius - big).abs() < 1e-12);
    }

    #[test]
    fn eccentric_stenosis_keeps_its_volume_and_one_straight_wall() {
        let spec = StenosisSpec { eccentricity: 1.0, ..stenosis_spec() };
        let (surface, _) = stenosis(&spec, 64).unwrap();
        let concentric = inspect(&stenosis(&stenosis_spec(), 64).unwrap().0).volume;
        check_closed_with_volume(&surface, concentric, "eccentric stenosis");
        // The -x wall stays at x = -R0 (up to the facets' half-segment turn).
        let min_x = surface.vertices.iter().map(|v| v.x).fold(f64::INFINITY, f64::min);
        let r0 = spec.radius;
        println!("eccentric stenosis: min x {min_x:.6e} m against -R0 = {:.6e} m", -r0);
        assert!((min_x + r0).abs() < 1e-3 * r0);
        let throat_ring_max_x = surface
            .vertices
            .iter()
            .filter(|v| (v.z - spec.center).abs() < 1e-4)
            .map(|v| v.x)
            .fold(f64::NEG_INFINITY, f64::max);
        let r1 = r0 * (1.0 - spec.area_reduction).sqrt();
        assert!(
            (throat_ring_max_x - (-r0 + 2.0 * r1)).abs() < 0.02 * r0,
            "throat spans to {throat_ring_max_x}"
        );
    }

    fn stenosis_spec() -> StenosisSpec {
        StenosisSpec {
            eccentricity: 0.0,
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

    /// The volume (m³) of the union of `solids` (with its fillets) by Monte Carlo over the bounding
    /// box of `surface`, 4 million samples (standard error about 0.1 %), printing the figures.
    fn monte_carlo_volume(solids: &[Solid], surface: &Surface) -> f64 {
        let r = inspect(surface);
        let (lo, hi) = (r.bbox_min, r.bbox_max);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let samples = 4_000_000;
        let hits = (0..samples)
            .filter(|_| {
                let p = Point3::new(
                    lo.x + (hi.x - lo.x) * uniform(),
                    lo.y + (hi.y - lo.y) * uniform(),
                    lo.z + (hi.z - lo.z) * uniform(),
                );
                inside_union(solids, &p)
            })
            .count();
        let fraction = hits as f64 / samples as f64;
        println!(
            "Monte Carlo: {hits} of {samples} inside, standard error {:.3} %",
            100.0 * ((1.0 - fraction) / (fraction * samples as f64)).sqrt()
        );
        fraction * (hi - lo).product()
    }

    /// Area (m²) of the intersection of two discs of radii `r` and `s` whose centres are `d` apart.
    fn lens_area(r: f64, s: f64, d: f64) -> f64 {
        if d >= r + s {
            0.0
        } else if d <= (r - s).abs() {
            PI * r.min(s).powi(2)
        } else {
            let a = ((d * d + r * r - s * s) / (2.0 * d * r)).clamp(-1.0, 1.0).acos();
            let b = ((d * d + s * s - r * r) / (2.0 * d * s)).clamp(-1.0, 1.0).acos();
            r * r * (a - a.sin() * a.cos()) + s * s * (b - b.sin() * b.cos())
        }
    }

    #[test]
    fn aneurysm_is_closed_outward_with_volume_within_one_percent_of_monte_carlo() {
        let spec =
            AneurysmSpec { radius: 2e-3, length: 30e-3, sphere_radius: 3e-3, neck: 3e-3, center: 15e-3 };
        let (surface, ports) = aneurysm(&spec, 64).unwrap();
        // The sharp union: tube + ball − their intersection, the latter as slices across the tube's
        // axis: a disc of the tube and one of the ball, whose overlap is a lens (Simpson, 20000
        // intervals). The generator rounds the neck with a fillet, so the reference is the filleted
        // union by Monte Carlo; the sharp one shows what the fillet adds.
        let (c, rs) = (spec.sphere_center(), spec.sphere_radius);
        let m = 20000;
        let dz = 2.0 * rs / m as f64;
        let overlap: f64 = (0..=m)
            .map(|i| {
                let z = -rs + i as f64 * dz;
                let w = if i == 0 || i == m {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * lens_area(spec.radius, (rs * rs - z * z).max(0.0).sqrt(), c.x)
            })
            .sum::<f64>()
            * dz
            / 3.0;
        let sharp = PI * spec.radius.powi(2) * spec.length + 4.0 / 3.0 * PI * rs.powi(3) - overlap;
        let reference = monte_carlo_volume(&spec.solids(), &surface);
        println!(
            "sharp union {sharp:.6e} m^3: the neck's fillet adds {:+.3} %",
            100.0 * (reference / sharp - 1.0)
        );
        check_closed_with_volume(&surface, reference, "sidewall aneurysm");
        assert!(tag_triangles(&surface, &ports).is_ok());
    }

    #[test]
    fn bifurcation_is_closed_outward_with_volume_within_one_percent_of_monte_carlo() {
        let r0 = 2e-3;
        let r1 = r0 / 2f64.cbrt();
        let spec = BifurcationSpec {
            radius: r0,
            length: 16e-3,
            daughter_radii: [r1, BifurcationSpec::murray(r0, r1)],
            angle: 60f64.to_radians(),
            daughter_length: 16e-3,
        };
        assert!((spec.daughter_radii[1] - r1).abs() < 1e-12);
        let (surface, ports) = bifurcation(&spec, 64).unwrap();
        // Reference: the union's volume by Monte Carlo, independent of the triangulation.
        let reference = monte_carlo_volume(&spec.solids(), &surface);
        check_closed_with_volume(&surface, reference, "Y bifurcation");
        let tags = tag_triangles(&surface, &ports).unwrap();
        for k in 1..=3u16 {
            assert!(tags.iter().filter(|&&t| t == k).count() > 50, "port {k} has a flat cap");
        }
    }
}
