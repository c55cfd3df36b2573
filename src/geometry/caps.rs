//! Flat caps of closed surfaces: found as planar regions bounded by a crease, and the ports of a
//! case file matched to them within stated tolerances.

use super::mesh::{Port, Surface};
use crate::error::{Error, Result};
use nalgebra::{Point3, Vector3};

/// Largest distance of a cap's vertices from its plane, as a fraction of its radius: 3%, so that
/// caps exported 20-60 um out of plane on a 3 mm radius (up to 2%) count as flat, while a dome
/// (its height a large fraction of the radius) does not.
pub const CAP_PLANARITY: f64 = 0.03;
/// Smallest angle (degrees) between a cap and the wall across the cap's rim (the crease).
pub const CREASE_DEGREES: f64 = 30.0;
/// Largest angle (degrees) between a cap triangle's normal and the cap's mean normal.
pub const CAP_SPREAD_DEGREES: f64 = 30.0;
/// Fewest rim vertices of a cap (smaller flat patches bounded by creases are not vessel ends).
pub const CAP_MIN_RIM: usize = 6;
/// Largest distance between a case port's centre and its cap's centre, as a fraction of the cap radius.
pub const PORT_CENTRE_TOLERANCE: f64 = 0.25;
/// Largest angle (degrees) between a case port's normal and its cap's normal.
pub const PORT_NORMAL_DEGREES: f64 = 15.0;
/// Allowed ratio of a case port's radius to its cap's equivalent radius: within [1/x, x].
pub const PORT_RADIUS_RATIO: f64 = 1.25;

/// A flat cap: a port's geometry, how flat it is, and the triangles that form it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    /// Centre (area-weighted centroid, m), outward unit normal and equivalent radius
    /// sqrt(projected area / pi) (m); the name is empty.
    pub port: Port,
    /// Largest distance of the cap's vertices from its plane, as a fraction of its radius.
    pub planarity: f64,
    /// Indices of the cap's triangles in the surface.
    pub triangles: Vec<u32>,
}

/// Unit normal (zero for a degenerate triangle) and area vector (m²) of triangle `t`.
fn normal_and_area(surface: &Surface, t: [u32; 3]) -> (Vector3<f64>, Vector3<f64>) {
    let [a, b, c] = t.map(|v| surface.vertices[v as usize]);
    let area = (b - a).cross(&(c - a)) * 0.5;
    let n = area.norm();
    (if n > 0.0 { area / n } else { Vector3::zeros() }, area)
}

/// The triangles across each edge of each triangle (None across an open or non-manifold edge):
/// edges sorted by their vertex pair, so that the two uses of a manifold edge lie side by side.
fn neighbours(surface: &Surface) -> Vec<[Option<u32>; 3]> {
    use rayon::prelude::*;
    let mut edges: Vec<(u64, u64)> = surface
        .triangles
        .iter()
        .enumerate()
        .flat_map(|(t, tri)| {
            (0..3).map(move |k| {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                ((u64::from(a.min(b)) << 32) | u64::from(a.max(b)), (3 * t + k) as u64)
            })
        })
        .collect();
    edges.par_sort_unstable();
    let mut across = vec![[None; 3]; surface.triangles.len()];
    let mut i = 0;
    while i < edges.len() {
        let j = i + edges[i..].iter().take_while(|e| e.0 == edges[i].0).count();
        if j - i == 2 {
            let (x, y) = (edges[i].1 as usize, edges[i + 1].1 as usize);
            across[x / 3][x % 3] = Some((y / 3) as u32);
            across[y / 3][y % 3] = Some((x / 3) as u32);
        }
        i = j;
    }
    across
}

/// The flat caps of an outward-oriented closed surface, largest first: regions grown across
/// edges whose triangles' normals stay within [`CAP_SPREAD_DEGREES`] of the region's mean normal,
/// kept when every edge of the region's rim is a crease (the triangles across it turn by more
/// than [`CREASE_DEGREES`]), the rim is one loop of at least [`CAP_MIN_RIM`] vertices, and every
/// vertex lies within [`CAP_PLANARITY`] times the cap radius of the cap's plane.
pub fn find_flat_caps(surface: &Surface) -> Vec<Cap> {
    let (spread, crease) = (CAP_SPREAD_DEGREES.to_radians().cos(), CREASE_DEGREES.to_radians().cos());
    let frames: Vec<_> = surface.triangles.iter().map(|&t| normal_and_area(surface, t)).collect();
    let across = neighbours(surface);
    let mut region_of = vec![u32::MAX; surface.triangles.len()];
    let mut caps = Vec::new();
    for seed in 0..surface.triangles.len() {
        if region_of[seed] != u32::MAX {
            continue;
        }
        let id = seed as u32;
        region_of[seed] = id;
        let (mut members, mut sum) = (vec![seed as u32], frames[seed].1);
        let mut k = 0;
        while k < members.len() {
            let t = members[k] as usize;
            k += 1;
            for u in across[t].iter().flatten().map(|&u| u as usize) {
                let mean = sum / sum.norm().max(f64::MIN_POSITIVE);
                let n = frames[u].0;
                if region_of[u] == u32::MAX && n.dot(&mean) >= spread && n.dot(&frames[t].0) >= crease {
                    region_of[u] = id;
                    members.push(u as u32);
                    sum += frames[u].1;
                }
            }
        }
        if let Some(cap) = as_cap(surface, &frames, &across, &region_of, id, members, crease) {
            caps.push(cap);
        }
    }
    caps.sort_by(|a, b| b.port.radius.total_cmp(&a.port.radius));
    caps
}

/// The region `id` (its `members`) as a flat cap, or None when it is not one.
fn as_cap(
    surface: &Surface,
    frames: &[(Vector3<f64>, Vector3<f64>)],
    across: &[[Option<u32>; 3]],
    region_of: &[u32],
    id: u32,
    members: Vec<u32>,
    crease: f64,
) -> Option<Cap> {
    let mut rim_edges = 0usize;
    let mut rim_vertices = rustc_hash::FxHashSet::default();
    for &t in &members {
        for (k, u) in across[t as usize].iter().enumerate() {
            let u = (*u)? as usize;
            if region_of[u] != id {
                if frames[u].0.dot(&frames[t as usize].0) >= crease {
                    return None;
                }
                rim_edges += 1;
                let tri = surface.triangles[t as usize];
                rim_vertices.insert(tri[k]);
                rim_vertices.insert(tri[(k + 1) % 3]);
            }
        }
    }
    // One simple loop has as many edges as vertices.
    if rim_edges != rim_vertices.len() || rim_vertices.len() < CAP_MIN_RIM {
        return None;
    }
    let sub = Surface {
        vertices: surface.vertices.clone(),
        triangles: members.iter().map(|&t| surface.triangles[t as usize]).collect(),
    };
    if super::ports::boundary_loops(&sub, std::path::Path::new("")).ok()?.len() != 1 {
        return None;
    }
    let area_vector: Vector3<f64> = members.iter().map(|&t| frames[t as usize].1).sum();
    let area: f64 = members.iter().map(|&t| frames[t as usize].1.norm()).sum();
    let projected = area_vector.norm();
    if projected.is_nan() || projected <= 0.0 {
        return None;
    }
    let normal = area_vector / projected;
    let moment: Vector3<f64> = members
        .iter()
        .map(|&t| {
            let [a, b, c] = surface.triangles[t as usize].map(|v| surface.vertices[v as usize].coords);
            (a + b + c) / 3.0 * frames[t as usize].1.norm()
        })
        .sum();
    let center = Point3::from(moment / area);
    let radius = (projected / std::f64::consts::PI).sqrt();
    let off_plane = sub
        .triangles
        .iter()
        .flatten()
        .map(|&v| (surface.vertices[v as usize] - center).dot(&normal).abs())
        .fold(0.0, f64::max);
    let planarity = off_plane / radius;
    (planarity <= CAP_PLANARITY).then(|| Cap {
        port: Port { name: String::new(), center, normal, radius },
        planarity,
        triangles: members,
    })
}

/// `p` (m) in the surface's units (`scale` metres per unit), three decimals.
fn at(p: &Point3<f64>, scale: f64) -> String {
    let c = |v: f64| (v / scale * 1e3).round() / 1e3 + 0.0;
    format!("({}, {}, {})", c(p.x), c(p.y), c(p.z))
}

/// A cap's geometry in the surface's units (`scale` metres per unit, `unit` its symbol).
pub fn describe(p: &Port, scale: f64, unit: &str) -> String {
    let n = p.normal.map(|v| (v * 1e3).round() / 1e3 + 0.0);
    format!(
        "centre {} {unit}, normal ({}, {}, {}), radius {:.3} {unit}",
        at(&p.center, scale),
        n.x,
        n.y,
        n.z,
        p.radius / scale
    )
}

/// Matches each port of a case file to one of `caps` (the vessel's flat caps, outward normals):
/// the nearest cap, accepted when the centres lie within [`PORT_CENTRE_TOLERANCE`] cap radii, the
/// normals within [`PORT_NORMAL_DEGREES`] and the radii within a factor [`PORT_RADIUS_RATIO`].
/// Returns the index of each port's cap. Errors name the port (field `geometry.ports.NAME`) when
/// no cap matches, when its normal points into the vessel, or when two ports share a cap;
/// `scale` (metres per unit) and `unit` write positions in the case's units.
pub fn match_ports(ports: &[Port], caps: &[Port], scale: f64, unit: &str) -> Result<Vec<usize>> {
    let mut chosen: Vec<usize> = Vec::with_capacity(ports.len());
    for p in ports {
        let field = format!("geometry.ports.{}", p.name);
        let listing = || {
            let all: Vec<String> = caps.iter().map(|c| format!("[{}]", describe(c, scale, unit))).collect();
            if all.is_empty() {
                "the surface has no flat cap".to_string()
            } else {
                format!("the surface's flat caps: {}", all.join("; "))
            }
        };
        let nearest = caps
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1.center - p.center).norm().total_cmp(&(b.1.center - p.center).norm()));
        let Some((k, cap)) = nearest else {
            return Err(Error::parameter(field, format!("matches no flat cap: {}", listing())));
        };
        let offset = (cap.center - p.center).norm() / cap.radius;
        let ratio = p.radius / cap.radius;
        let cos = p.normal.dot(&cap.normal).clamp(-1.0, 1.0);
        let angle = cos.abs().acos().to_degrees();
        let mismatch = if offset > PORT_CENTRE_TOLERANCE {
            Some(format!(
                "its centre {} {unit} is {:.2} cap radii from the nearest flat cap (tolerance {PORT_CENTRE_TOLERANCE})",
                at(&p.center, scale),
                offset
            ))
        } else if angle > PORT_NORMAL_DEGREES {
            Some(format!(
                "its normal is {angle:.1} degrees from the nearest flat cap's (tolerance {PORT_NORMAL_DEGREES})"
            ))
        } else if !(1.0 / PORT_RADIUS_RATIO..=PORT_RADIUS_RATIO).contains(&ratio) {
            Some(format!(
                "its radius {:.3} {unit} is {ratio:.2} times the opening's equivalent radius (tolerance a factor \
                 {PORT_RADIUS_RATIO})",
                p.radius / scale
            ))
        } else {
            None
        };
        if let Some(why) = mismatch {
            return Err(Error::parameter(
                field,
                format!(
                    "does not match the surface: {why}. The nearest cap: {}; {}. Copy the cap's centre, normal \
                     and radius (or leave [[geometry.ports]] out to use the caps found)",
                    describe(cap, scale, unit),
                    listing()
                ),
            ));
        }
        if cos < 0.0 {
            return Err(Error::parameter(
                field,
                format!(
                    "its normal points into the vessel; a port's normal points out of the vessel: use {}",
                    describe(cap, scale, unit)
                ),
            ));
        }
        if let Some(j) = chosen.iter().position(|&c| c == k) {
            return Err(Error::parameter(
                field,
                format!("lies on the same cap as port {:?}; give each port its own cap", ports[j].name),
            ));
        }
        chosen.push(k);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::synth::{TubeSpec, tube};

    /// A tube of radius 1 along z (0..6) whose cap vertices are moved along the axis by up to
    /// `amplitude` (a deterministic pseudo-random pattern), rim included.
    fn perturbed_tube(amplitude: f64) -> Surface {
        let (mut s, _) = tube(&TubeSpec { radius: 1.0, length: 6.0 }, 64).unwrap();
        for (i, v) in s.vertices.iter_mut().enumerate() {
            if v.z.abs() < 1e-9 || (v.z - 6.0).abs() < 1e-9 {
                v.z += amplitude * ((i as f64 * 12.9898).sin() * 43758.5453).fract();
            }
        }
        s
    }

    #[test]
    fn caps_perturbed_by_one_percent_are_found_with_outward_normals() {
        let s = perturbed_tube(0.01);
        let caps = find_flat_caps(&s);
        for c in &caps {
            println!(
                "cap {}, planarity {:.4}, {} triangles",
                describe(&c.port, 1.0, "u"),
                c.planarity,
                c.triangles.len()
            );
        }
        assert_eq!(caps.len(), 2);
        for c in &caps {
            let outward = if c.port.center.z > 3.0 { 1.0 } else { -1.0 };
            assert!((c.port.normal.z - outward).abs() < 1e-3 && (c.port.radius - 1.0).abs() < 0.01);
            assert!(c.planarity > 0.002 && c.planarity <= CAP_PLANARITY);
            assert_eq!(c.triangles.len(), 64);
        }
    }

    #[test]
    fn caps_eight_percent_out_of_plane_are_not_flat() {
        let caps = find_flat_caps(&perturbed_tube(0.08));
        println!("caps found: {}", caps.len());
        assert!(caps.is_empty());
    }

    #[test]
    fn ports_match_within_tolerance_and_mismatches_name_the_port() {
        let caps: Vec<Port> = find_flat_caps(&perturbed_tube(0.01)).into_iter().map(|c| c.port).collect();
        let port = |name: &str, z: f64, nz: f64, r: f64| Port {
            name: name.into(),
            center: Point3::new(0.05, 0.0, z),
            normal: Vector3::new(0.0, 0.1, nz).normalize(),
            radius: r,
        };
        let m =
            match_ports(&[port("a", 0.0, -1.0, 1.1), port("b", 6.0, 1.0, 0.9)], &caps, 1.0, "mm").unwrap();
        assert_eq!((caps[m[0]].center.z < 3.0, caps[m[1]].center.z > 3.0), (true, true));
        for (bad, needle) in [
            (port("big", 6.0, 1.0, 3.0), "3.00 times"),
            (port("nowhere", 3.0, 1.0, 1.0), "cap radii"),
            (port("tilted", 6.0, 0.3, 1.0), "degrees"),
            (port("inward", 6.0, -1.0, 1.0), "points into the vessel"),
        ] {
            let e = match_ports(&[bad], &caps, 1.0, "mm").unwrap_err().to_string();
            println!("{e}");
            assert!(e.contains(needle), "{e}");
        }
        let e = match_ports(&[port("a", 6.0, 1.0, 1.0), port("b", 6.0, 1.0, 1.0)], &caps, 1.0, "mm")
            .unwrap_err()
            .to_string();
        assert!(e.contains("same cap"), "{e}");
    }
}
