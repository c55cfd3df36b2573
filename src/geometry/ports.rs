//! Port geometry: which surface triangles form the flat cap of each port.

use super::mesh::{Port, Surface};
use crate::error::{Error, Result};

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
