//! Port geometry: which surface triangles form the flat cap of each port.

use super::mesh::{Port, Surface};
use crate::error::{Error, Result};
use nalgebra::Point3;

/// Tag of a triangle that belongs to the vessel wall rather than to a port cap.
pub const WALL_TAG: u16 = 0;

/// Tags each triangle with `WALL_TAG` or `k + 1` when it lies in the cap of `ports[k]`: all three
/// vertices within `1e-3 * radius` of the port plane and within `1.05 * radius` of its centre.
/// Errors when a port has no cap triangle (its plane or centre does not match the surface).
pub fn tag_triangles(surface: &Surface, ports: &[Port]) -> Result<Vec<u16>> {
    let mut tags = vec![WALL_TAG; surface.triangles.len()];
    let mut counts = vec![0usize; ports.len()];
    for (t, tri) in surface.triangles.iter().enumerate() {
        for (k, port) in ports.iter().enumerate() {
            let on_cap = tri.iter().all(|&v| {
                let d = surface.vertices[v as usize] - port.center;
                let axial = d.dot(&port.normal);
                let radial = (d - port.normal * axial).norm();
                axial.abs() <= 1e-3 * port.radius && radial <= 1.05 * port.radius
            });
            if on_cap {
                tags[t] = (k + 1) as u16;
                counts[k] += 1;
                break;
            }
        }
    }
    if let Some(k) = counts.iter().position(|&c| c == 0) {
        let p = &ports[k];
        return Err(Error::parameter(
            format!("ports.{}", p.name),
            format!(
                "no flat cap of the surface lies in the plane through ({:.3}, {:.3}, {:.3}) mm with normal \
                 ({:.3}, {:.3}, {:.3}) within radius {:.3} mm; check the port's centre, normal and radius \
                 against the surface (they are in the surface's units)",
                p.center.x * 1e3,
                p.center.y * 1e3,
                p.center.z * 1e3,
                p.normal.x,
                p.normal.y,
                p.normal.z,
                p.radius * 1e3
            ),
        ));
    }
    Ok(tags)
}

/// Checks that `tags` gives each triangle of `surface` the wall's tag or the cap of one of
/// `ports` (as [`tag_triangles`] makes them, or a vessel keeps them).
pub fn check_tags(surface: &Surface, tags: &[u16], ports: &[Port]) -> Result<()> {
    if tags.len() != surface.triangles.len() {
        return Err(Error::parameter(
            "tags",
            format!(
                "need one tag per triangle: {} tags for {} triangles",
                tags.len(),
                surface.triangles.len()
            ),
        ));
    }
    match tags.iter().find(|&&t| usize::from(t) > ports.len()) {
        Some(t) => Err(Error::parameter(
            "tags",
            format!(
                "tag {t} names no port: there are {} (tags are 0 for the wall, k + 1 for port k)",
                ports.len()
            ),
        )),
        None => Ok(()),
    }
}

/// The open boundary loops of a surface, each as its vertices in the order the triangles traverse
/// their open edges. Errors name the vertex where open edges branch (a pinched or non-manifold rim).
pub fn boundary_loops(surface: &Surface, origin: &std::path::Path) -> Result<Vec<Vec<u32>>> {
    use std::collections::HashMap;
    let mut uses: HashMap<(u32, u32), u32> = HashMap::new();
    for t in &surface.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            *uses.entry((a.min(b), a.max(b))).or_insert(0) += 1;
        }
    }
    let mut next: HashMap<u32, u32> = HashMap::new();
    for t in &surface.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            if uses[&(a.min(b), a.max(b))] == 1 && next.insert(a, b).is_some() {
                let p = surface.vertices[a as usize] * 1e3;
                return Err(Error::input(
                    origin,
                    format!(
                        "open edges branch at vertex {a} ({:.2}, {:.2}, {:.2}) mm: the rim of a hole is pinched or \
                         the surface is not manifold there; fix the segmentation or run a mesh repair",
                        p.x, p.y, p.z
                    ),
                ));
            }
        }
    }
    let mut starts: Vec<u32> = next.keys().copied().collect();
    starts.sort_unstable();
    let mut seen = std::collections::HashSet::new();
    let mut loops = Vec::new();
    for s in starts {
        if seen.contains(&s) {
            continue;
        }
        let mut ring = vec![s];
        seen.insert(s);
        let mut v = s;
        while let Some(&w) = next.get(&v) {
            if w == s {
                break;
            }
            if !seen.insert(w) {
                return Err(Error::input(
                    origin,
                    format!("open edges at vertex {w} do not form a simple loop"),
                ));
            }
            ring.push(w);
            v = w;
        }
        if next.get(&v) != Some(&s) {
            return Err(Error::input(
                origin,
                format!("the open edges starting at vertex {s} do not close into a loop"),
            ));
        }
        loops.push(ring);
    }
    Ok(loops)
}

/// Closes every open end of `surface` with a flat-ish fan cap around the loop's centroid and returns
/// one port per cap (centre, outward unit normal, equivalent radius sqrt(area / pi)) together with
/// the triangle tags (`k + 1` on the caps of port k). The largest port comes first and is named
/// `inlet`; the others are `outlet1`, `outlet2`, ... in decreasing size. Caps take the orientation
/// of the surface; orient the result outward afterwards if needed ([`orient_outward`]).
pub fn cap_open_ends(surface: &mut Surface, origin: &std::path::Path) -> Result<(Vec<Port>, Vec<u16>)> {
    let loops = boundary_loops(surface, origin)?;
    let mut caps: Vec<(f64, Port, Vec<[u32; 3]>)> = Vec::new();
    for ring in &loops {
        let pts: Vec<_> = ring.iter().map(|&v| surface.vertices[v as usize]).collect();
        let (centre, normal, area) = loop_frame(surface, ring);
        if area <= 0.0 {
            return Err(Error::input(origin, "an open end encloses no area; fix the segmentation"));
        }
        // The wall runs a -> b along each open edge; the cap triangle (b, a, centre) runs back along it.
        let c = surface.vertices.len() as u32 + caps.len() as u32;
        let tris: Vec<[u32; 3]> = (0..ring.len()).map(|k| [ring[(k + 1) % ring.len()], ring[k], c]).collect();
        let radius = (area / std::f64::consts::PI).sqrt();
        let off_plane = pts.iter().map(|p| (p - centre).dot(&normal).abs()).fold(0.0, f64::max);
        if off_plane > 0.5 * radius {
            let q = centre * 1e3;
            return Err(Error::input(
                origin,
                format!(
                    "the open end around ({:.2}, {:.2}, {:.2}) mm is far from flat ({:.2} mm out of its plane for a \
                     radius of {:.2} mm); trim the vessel end square to its axis",
                    q.x,
                    q.y,
                    q.z,
                    off_plane * 1e3,
                    radius * 1e3
                ),
            ));
        }
        caps.push((area, Port { name: String::new(), center: centre, normal, radius }, tris));
    }
    caps.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut tags = vec![WALL_TAG; surface.triangles.len()];
    let mut ports = Vec::with_capacity(caps.len());
    for (k, (_, mut port, tris)) in caps.into_iter().enumerate() {
        let centre_index = tris[0][2];
        port.name = if k == 0 { "inlet".to_string() } else { format!("outlet{k}") };
        // Renumber this cap's centre vertex in sorted order.
        let new_index = surface.vertices.len() as u32;
        surface.vertices.push(port.center);
        for mut t in tris {
            if t[2] == centre_index {
                t[2] = new_index;
            }
            surface.triangles.push(t);
            tags.push((k + 1) as u16);
        }
        ports.push(port);
    }
    Ok((ports, tags))
}

/// Flips every triangle (and the port normals) when the enclosed volume is negative, so that the
/// surface faces outward. Returns true when it flipped.
pub fn orient_outward(surface: &mut Surface, ports: &mut [Port]) -> bool {
    if super::check::inspect(surface).volume >= 0.0 {
        return false;
    }
    for t in &mut surface.triangles {
        t.swap(1, 2);
    }
    for p in ports {
        p.normal = -p.normal;
    }
    true
}

/// Centre (mean of the loop's vertices), unit normal (following the surface's orientation, so
/// outward on an outward surface) and area of the open end `ring`.
fn loop_frame(surface: &Surface, ring: &[u32]) -> (Point3<f64>, nalgebra::Vector3<f64>, f64) {
    let pts: Vec<_> = ring.iter().map(|&v| surface.vertices[v as usize]).collect();
    let centre =
        Point3::from(pts.iter().map(|p| p.coords).sum::<nalgebra::Vector3<f64>>() / pts.len() as f64);
    let mut area_vector = nalgebra::Vector3::zeros();
    for k in 0..pts.len() {
        let (pa, pb) = (pts[k], pts[(k + 1) % pts.len()]);
        area_vector += (pb - centre).cross(&(pa - centre)) * 0.5;
    }
    let area = area_vector.norm();
    (centre, area_vector / area.max(f64::MIN_POSITIVE), area)
}

/// Orients an open surface outward: caps a copy, and flips every triangle of `surface` when the
/// capped copy encloses a negative volume. Returns true when it flipped.
pub fn orient_open_surface(surface: &mut Surface, origin: &std::path::Path) -> Result<bool> {
    let mut capped = surface.clone();
    let (mut ports, _) = cap_open_ends(&mut capped, origin)?;
    let flip = orient_outward(&mut capped, &mut ports);
    if flip {
        for t in &mut surface.triangles {
            t.swap(1, 2);
        }
    }
    Ok(flip)
}

/// Extends every open end of an outward-oriented open surface by a straight pipe `diameters` of its
/// equivalent diameter long, along its outward normal: rings of the loop projected onto the end's
/// plane, spaced about one mean edge length, ending in a planar loop ready for a flat cap.
pub fn extend_open_ends(surface: &mut Surface, diameters: f64, origin: &std::path::Path) -> Result<()> {
    if !(diameters.is_finite() && diameters > 0.0) {
        return Err(Error::parameter(
            "geometry.flow_extensions",
            format!("must be a positive number of diameters, got {diameters}"),
        ));
    }
    for ring in boundary_loops(surface, origin)? {
        let (centre, normal, area) = loop_frame(surface, &ring);
        let length = diameters * 2.0 * (area / std::f64::consts::PI).sqrt();
        let pts: Vec<_> = ring.iter().map(|&v| surface.vertices[v as usize]).collect();
        let edge = (0..pts.len()).map(|k| (pts[(k + 1) % pts.len()] - pts[k]).norm()).sum::<f64>()
            / pts.len() as f64;
        let beyond = pts.iter().map(|p| (p - centre).dot(&normal)).fold(f64::NEG_INFINITY, f64::max).max(0.0);
        let steps = ((length / edge).ceil() as usize).max(1);
        let mut previous = ring.clone();
        for k in 1..=steps {
            let t = beyond + length * k as f64 / steps as f64;
            let first = surface.vertices.len() as u32;
            for p in &pts {
                let in_plane = p - normal * (p - centre).dot(&normal);
                surface.vertices.push(in_plane + normal * t);
            }
            let next: Vec<u32> = (0..ring.len() as u32).map(|i| first + i).collect();
            for i in 0..ring.len() {
                let j = (i + 1) % ring.len();
                // The wall runs a -> b along the open edge; the new band runs b -> a back along it.
                let (a, b, a2, b2) = (previous[i], previous[j], next[i], next[j]);
                surface.triangles.push([b, a, a2]);
                surface.triangles.push([b, a2, b2]);
            }
            previous = next;
        }
    }
    Ok(())
}

/// Ports of a closed, outward surface whose triangles carry face ids (e.g. from a `.vtp`): the face
/// with the largest area is the wall, every other face a flat cap and a port (centre, outward
/// normal, equivalent radius), the largest the `inlet`, then `outlet1`, `outlet2`, ... Returns the
/// ports, the triangle tags and, per port, its face id. Domed (non-flat) caps are refused.
pub fn ports_from_face_ids(
    surface: &Surface,
    ids: &[i32],
    origin: &std::path::Path,
) -> Result<(Vec<Port>, Vec<u16>, Vec<i32>)> {
    use std::collections::BTreeMap;
    let mut faces: BTreeMap<i32, (f64, nalgebra::Vector3<f64>, nalgebra::Vector3<f64>)> = BTreeMap::new();
    for (t, &id) in surface.triangles.iter().zip(ids) {
        let [a, b, c] = t.map(|v| surface.vertices[v as usize]);
        let area_vector = (b - a).cross(&(c - a)) * 0.5;
        let area = area_vector.norm();
        let e = faces.entry(id).or_insert((0.0, nalgebra::Vector3::zeros(), nalgebra::Vector3::zeros()));
        e.0 += area;
        e.1 += area_vector;
        e.2 += (a.coords + b.coords + c.coords) / 3.0 * area;
    }
    let wall = faces.iter().max_by(|a, b| a.1.0.total_cmp(&b.1.0)).map(|(id, _)| *id).unwrap_or(0);
    let mut caps: Vec<(i32, f64, Port)> = faces
        .iter()
        .filter(|(id, _)| **id != wall)
        .map(|(id, (area, vector, moment))| {
            let normal = vector / vector.norm().max(f64::MIN_POSITIVE);
            let port = Port {
                name: String::new(),
                center: Point3::from(moment / *area),
                normal,
                radius: (area / std::f64::consts::PI).sqrt(),
            };
            (*id, *area, port)
        })
        .collect();
    caps.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (id, area, port) in &caps {
        // A flat cap's area vector is as long as its area; a dome's is shorter.
        let flatness = faces[id].1.norm() / area;
        if flatness < 0.98 {
            let c = port.center * 1e3;
            return Err(Error::input(
                origin,
                format!(
                    "face {id} around ({:.2}, {:.2}, {:.2}) mm is not flat (projected area {:.0}% of its area): domed \
                     caps are not supported yet; clip the vessel ends flat or export it with open ends",
                    c.x,
                    c.y,
                    c.z,
                    100.0 * flatness
                ),
            ));
        }
    }
    let tag_of: BTreeMap<i32, u16> =
        caps.iter().enumerate().map(|(k, (id, _, _))| (*id, (k + 1) as u16)).collect();
    let tags = ids.iter().map(|id| tag_of.get(id).copied().unwrap_or(WALL_TAG)).collect();
    let face_ids = caps.iter().map(|(id, _, _)| *id).collect();
    let ports = caps
        .into_iter()
        .enumerate()
        .map(|(k, (_, _, mut p))| {
            p.name = if k == 0 { "inlet".to_string() } else { format!("outlet{k}") };
            p
        })
        .collect();
    Ok((ports, tags, face_ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::check::inspect;
    use crate::geometry::synth::{TubeSpec, tube};
    use std::path::Path;

    /// A tube of radius 1 and length 4 with its two caps removed (open ends at z = 0 and z = 4).
    fn open_tube() -> Surface {
        let (mut s, _) = tube(&TubeSpec { radius: 1.0, length: 4.0 }, 64).unwrap();
        let centres = [s.vertices.len() as u32 - 2, s.vertices.len() as u32 - 1];
        s.triangles.retain(|t| !t.iter().any(|v| centres.contains(v)));
        s
    }

    #[test]
    fn open_tube_is_capped_into_two_ports_with_outward_normals() {
        let mut s = open_tube();
        let (ports, tags) = cap_open_ends(&mut s, Path::new("tube")).unwrap();
        let r = inspect(&s);
        println!("capped: {} boundary edges, volume {:.6}, ports {:?}", r.boundary_edges, r.volume, ports);
        assert_eq!((r.boundary_edges, ports.len()), (0, 2));
        assert!(r.volume > 0.0);
        assert_eq!(tags.iter().filter(|&&t| t > 0).count(), 128);
        for p in &ports {
            let outward = if p.center.z > 2.0 { 1.0 } else { -1.0 };
            assert!((p.normal.z - outward).abs() < 1e-9 && (p.radius / 0.99839 - 1.0).abs() < 1e-3, "{p:?}");
        }
    }

    #[test]
    fn flow_extensions_add_straight_pipe_of_the_requested_length() {
        let mut s = open_tube();
        assert!(!orient_open_surface(&mut s, Path::new("tube")).unwrap());
        let before = {
            let mut c = s.clone();
            cap_open_ends(&mut c, Path::new("tube")).unwrap();
            inspect(&c).volume
        };
        extend_open_ends(&mut s, 2.0, Path::new("tube")).unwrap();
        let (ports, _) = cap_open_ends(&mut s, Path::new("tube")).unwrap();
        let r = inspect(&s);
        let d = 2.0 * ports[0].radius;
        // Each end gains a prism of the end's area (pi r_eq^2 by definition of r_eq) and length 2 d.
        let want = before + 2.0 * std::f64::consts::PI * ports[0].radius.powi(2) * 2.0 * d;
        println!(
            "extended: volume {:.6} against {want:.6}, port z {:?}",
            r.volume,
            ports.iter().map(|p| p.center.z).collect::<Vec<_>>()
        );
        assert_eq!((r.boundary_edges, r.nonmanifold_edges), (0, 0));
        assert!((r.volume / want - 1.0).abs() < 1e-9);
        let mut zs: Vec<f64> = ports.iter().map(|p| p.center.z).collect();
        zs.sort_by(f64::total_cmp);
        assert!((zs[0] + 2.0 * d).abs() < 1e-9 && (zs[1] - 4.0 - 2.0 * d).abs() < 1e-9, "{zs:?}");
    }
}
