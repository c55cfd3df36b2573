//! The wall mesh: the lumen surface extruded outward through the wall thickness in layers of
//! prisms, each split into three quadratic tetrahedra (TET10), with the inner faces (for the
//! pressure load) and the end faces at the ports (for the boundary conditions).
//!
//! 1. Wall triangles are those not on a port cap; vertices on a cap rim belong to that port's end.
//! 2. Each wall vertex moves outward along its area-weighted normal, smoothed over its neighbours
//!    (and projected into the port plane at the rims, so the end faces are flat), by the
//!    thickness, in `layers` equal steps.
//! 3. Each prism is split into three tetrahedra with the diagonals of its side faces chosen by
//!    global vertex order, so neighbouring prisms share their diagonals; mid-edge nodes are added.
//! 4. Every element's scaled Jacobian is computed; an inverted element is refused.

use super::axis::Axis;
use super::element::{EDGES, scaled_jacobian, volume};
use crate::error::{Error, Result};
use crate::geometry::{Port, Surface, ports::check_tags};
use nalgebra::{Point3, Vector3};
use std::collections::HashMap;

/// Wall thickness: absolute, or a fraction of the local radius (distance to the axis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Thickness {
    /// Thickness in metres.
    Absolute(f64),
    /// Thickness as a fraction of the local lumen radius (0.1 = 10 %).
    RadiusFraction(f64),
}

/// How to build the wall: thickness and the number of element layers through it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WallSpec {
    /// Wall thickness.
    pub thickness: Thickness,
    /// Element layers through the thickness (at least 1).
    pub layers: usize,
    /// Accept a wall thicker than the local lumen radius (refused otherwise: usually a unit slip).
    pub beyond_radius: bool,
}

/// One triangle of the lumen surface as a 6-node face of the mesh, where the pressure acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InnerFace {
    /// Mesh nodes: corners then mid-edge nodes (a-b, b-c, c-a); the corner order makes the normal
    /// point from the lumen into the wall.
    pub nodes: [u32; 6],
    /// The lumen-surface vertices at the three corners.
    pub vertices: [u32; 3],
}

/// A quadratic-tetrahedron mesh of the vessel wall, in metres.
#[derive(Debug, Clone)]
pub struct WallMesh {
    /// Node positions (m); corner nodes first, then mid-edge nodes.
    pub nodes: Vec<Point3<f64>>,
    /// TET10 connectivity in VTK order, every element positively oriented.
    pub elements: Vec<[u32; 10]>,
    /// The lumen side of the wall.
    pub inner_faces: Vec<InnerFace>,
    /// Per port (in the order given): the nodes of the wall's end face there.
    pub end_nodes: Vec<Vec<u32>>,
    /// The port each end face belongs to (normal, centre).
    pub ports: Vec<Port>,
    /// Smallest scaled Jacobian over the elements (1 regular, 0 degenerate).
    pub min_scaled_jacobian: f64,
    /// Element layer of each element through the wall, 0 at the lumen.
    pub layer: Vec<u16>,
}

/// Lumen triangles with a smaller angle (degrees) are named as slivers when their prism inverts.
const SLIVER_DEGREES: f64 = 3.0;

/// Smallest interior angle of a triangle, degrees.
fn smallest_angle(p: [Point3<f64>; 3]) -> f64 {
    (0..3)
        .map(|i| (p[(i + 1) % 3] - p[i]).angle(&(p[(i + 2) % 3] - p[i])).to_degrees())
        .fold(f64::INFINITY, f64::min)
}

/// Rounds of smoothing of a thickness given as a fraction of the radius.
const THICKNESS_SMOOTHING: usize = 10;

/// Rounds of smoothing of the extrusion directions.
const NORMAL_SMOOTHING: usize = 12;

/// Area-weighted outward normals of the wall vertices (zero where a vertex has no wall triangle).
fn vertex_normals(surface: &Surface, wall: &[[u32; 3]]) -> Vec<Vector3<f64>> {
    let mut n = vec![Vector3::zeros(); surface.vertices.len()];
    for t in wall {
        let p = t.map(|v| surface.vertices[v as usize]);
        let area = (p[1] - p[0]).cross(&(p[2] - p[0]));
        for v in t {
            n[*v as usize] += area;
        }
    }
    n
}

/// Target lumen edge length as a fraction of the local radius (about 18 edges around).
const EDGE_PER_RADIUS: f64 = 0.35;
/// Target lumen edge length in element-layer heights (keeps the prisms from going flat).
const EDGE_PER_LAYER: f64 = 1.5;
/// The remesher's mean edge length in target lengths (its edges lie between 4/5 and 4/3 of it).
const MEAN_EDGE_PER_TARGET: f64 = 1.3;
/// Rounds of remeshing.
const REMESH_ROUNDS: usize = 8;

/// The lumen surface (its triangles' `tags`: 0 wall, k + 1 the cap of port k) isotropically
/// remeshed for extrusion (see [`crate::geometry::remesh`]), with its tags: edge length the smaller
/// of 0.35 local radii and 1.5 layer heights of the wall `spec` asks for.
pub fn remesh_lumen(
    surface: &Surface,
    tags: &[u16],
    ports: &[Port],
    axis: &Axis,
    spec: &WallSpec,
) -> Result<(Surface, Vec<u16>)> {
    let target = |p: &Point3<f64>| edge_target(axis, spec, p);
    crate::geometry::remesh::remesh(surface, tags, ports, &target, REMESH_ROUNDS)
}

/// The remeshed lumen's edge length at `p` (m): the smaller of 0.35 local radii and 1.5 layer
/// heights.
fn edge_target(axis: &Axis, spec: &WallSpec, p: &Point3<f64>) -> f64 {
    let r = axis.frame(p).radius;
    let t = match spec.thickness {
        Thickness::Absolute(t) => t,
        Thickness::RadiusFraction(f) => f * r,
    };
    (EDGE_PER_RADIUS * r).min(EDGE_PER_LAYER * t / spec.layers.max(1) as f64)
}

/// About how many vertices [`remesh_lumen`] gives `surface`, before any remeshing: two
/// equilateral triangles per vertex, of the remesher's mean edge length, 1.3 target lengths h
/// (measured on a 12,000-vertex carotid lumen).
pub fn remeshed_vertices_estimate(surface: &Surface, axis: &Axis, spec: &WallSpec) -> f64 {
    surface
        .triangles
        .iter()
        .map(|t| {
            let [a, b, c] = t.map(|v| surface.vertices[v as usize]);
            let area = 0.5 * (b - a).cross(&(c - a)).norm();
            let h = edge_target(axis, spec, &Point3::from((a.coords + b.coords + c.coords) / 3.0));
            let mean_edge = MEAN_EDGE_PER_TARGET * h;
            area / (0.5 * 3f64.sqrt() * mean_edge * mean_edge)
        })
        .sum()
}

/// Builds the wall mesh of `surface` (closed, oriented outward; its triangles' `tags`: 0 wall,
/// k + 1 the cap of `ports[k]`).
pub fn extrude(
    surface: &Surface,
    tags: &[u16],
    ports: &[Port],
    axis: &Axis,
    spec: &WallSpec,
) -> Result<WallMesh> {
    let layers = spec.layers;
    if layers == 0 {
        return Err(Error::parameter(
            "wall.layers",
            "needs at least 1 element layer through the wall (2-4 typical)",
        ));
    }
    match spec.thickness {
        Thickness::Absolute(t) if !(t.is_finite() && t > 0.0) => {
            return Err(Error::parameter(
                "wall.thickness",
                format!("must be a positive length in m, got {t}"),
            ));
        }
        Thickness::RadiusFraction(f) if !(f.is_finite() && f > 0.0 && (f <= 1.0 || spec.beyond_radius)) => {
            return Err(Error::parameter(
                "wall.thickness",
                format!(
                    "must be a positive percentage of the local radius, at most 100 % unless \
                     wall.allow_thick_wall = true, got {} %",
                    f * 100.0
                ),
            ));
        }
        _ => {}
    }
    check_tags(surface, tags, ports)?;
    let wall: Vec<[u32; 3]> =
        surface.triangles.iter().zip(tags).filter(|(_, tag)| **tag == 0).map(|(t, _)| *t).collect();
    if wall.is_empty() {
        return Err(Error::parameter("wall", "the surface has no wall triangles besides its port caps"));
    }
    let mut normals = vertex_normals(surface, &wall);
    // Port of each rim vertex (on a cap and on the wall).
    let mut rim: HashMap<u32, usize> = HashMap::new();
    for (t, tag) in surface.triangles.iter().zip(tags) {
        for v in t.iter().filter(|_| *tag > 0) {
            if normals[*v as usize] != Vector3::zeros() {
                rim.insert(*v, *tag as usize - 1);
            }
        }
    }
    // Smooth the directions (each the mean of its triangles' corner directions), so that close
    // vertices, e.g. the two ends of a sliver triangle, move alike; rims stay in their port planes.
    for round in 0..=NORMAL_SMOOTHING {
        for (v, k) in &rim {
            let n = &mut normals[*v as usize];
            *n -= ports[*k].normal * n.dot(&ports[*k].normal);
        }
        for n in normals.iter_mut().filter(|n| n.norm() > 0.0) {
            *n = n.normalize();
        }
        if round < NORMAL_SMOOTHING {
            let mut sum = vec![Vector3::zeros(); normals.len()];
            for t in &wall {
                let mean: Vector3<f64> = t.iter().map(|v| normals[*v as usize]).sum();
                for v in t {
                    sum[*v as usize] += mean;
                }
            }
            normals = sum;
        }
    }
    // Compact numbering of wall vertices (the extrusion columns).
    let mut column_of = vec![u32::MAX; surface.vertices.len()];
    let mut columns = Vec::new();
    for v in wall.iter().flatten() {
        if column_of[*v as usize] == u32::MAX {
            column_of[*v as usize] = columns.len() as u32;
            columns.push(*v);
        }
    }
    let stride = layers + 1;
    let total = columns.len().saturating_mul(stride);
    if u32::try_from(total.saturating_mul(8)).is_err() {
        return Err(Error::parameter("wall.layers", "the wall mesh would exceed 32-bit node indices"));
    }
    // Thickness per vertex, smoothed like the directions so that a fraction of a fast-changing
    // radius (an aneurysm's neck) does not shear the prisms.
    let mut thickness: Vec<f64> = surface
        .vertices
        .iter()
        .map(|p| match spec.thickness {
            Thickness::Absolute(t) => t,
            Thickness::RadiusFraction(f) => f * axis.frame(p).radius,
        })
        .collect();
    if matches!(spec.thickness, Thickness::RadiusFraction(_)) {
        for _ in 0..THICKNESS_SMOOTHING {
            let mut sum = vec![0.0; thickness.len()];
            let mut count = vec![0.0; thickness.len()];
            for t in &wall {
                let mean = t.iter().map(|v| thickness[*v as usize]).sum::<f64>() / 3.0;
                for v in t {
                    sum[*v as usize] += mean;
                    count[*v as usize] += 1.0;
                }
            }
            for ((x, s), c) in thickness.iter_mut().zip(sum).zip(count) {
                if c > 0.0 {
                    *x = s / c;
                }
            }
        }
    }
    let mut nodes = Vec::with_capacity(total);
    for &v in &columns {
        let p = surface.vertices[v as usize];
        let n = normals[v as usize];
        if n.norm().is_nan() || n.norm() == 0.0 {
            return Err(Error::input(
                "wall surface",
                format!("vertex {v} at {:?} m has no outward normal (degenerate triangles around it)", p),
            ));
        }
        let n = n.normalize();
        let radius = axis.frame(&p).radius;
        let t = thickness[v as usize];
        // A thickness equal to the radius (up to round-off) is accepted.
        if t > radius * (1.0 + 1e-9) && !spec.beyond_radius {
            return Err(Error::parameter(
                "wall.thickness",
                format!(
                    "{:.3} mm is more than the local lumen radius, {:.3} mm at vertex {v} ({:?} m): check \
                     the unit, give a percentage of the radius (\"10%\"), or set wall.allow_thick_wall = true",
                    t * 1e3,
                    radius * 1e3,
                    p.coords.as_slice()
                ),
            ));
        }
        for k in 0..stride {
            nodes.push(p + n * (t * k as f64 / layers as f64));
        }
    }
    let corner = |v: u32, k: usize| column_of[v as usize] * stride as u32 + k as u32;
    // Tetrahedra (corners) of every prism.
    let mut tets: Vec<[u32; 4]> = Vec::with_capacity(3 * layers * wall.len());
    for t in &wall {
        let mut s = *t;
        s.sort_unstable();
        // An odd permutation of the outward triangle turns every tetrahedron inside out.
        let odd = s != *t && s != [t[1], t[2], t[0]] && s != [t[2], t[0], t[1]];
        for k in 0..layers {
            let v = s.map(|x| corner(x, k));
            let w = s.map(|x| corner(x, k + 1));
            for tet in [[v[0], v[1], v[2], w[2]], [v[0], v[1], w[2], w[1]], [v[0], w[0], w[1], w[2]]] {
                tets.push(if odd { [tet[1], tet[0], tet[2], tet[3]] } else { tet });
            }
        }
    }
    // Mid-edge nodes.
    let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
    let mut mid_node = |a: u32, b: u32, nodes: &mut Vec<Point3<f64>>| {
        *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
            nodes.push(Point3::from((nodes[a as usize].coords + nodes[b as usize].coords) / 2.0));
            nodes.len() as u32 - 1
        })
    };
    let mut elements = Vec::with_capacity(tets.len());
    let mut min_sj = f64::INFINITY;
    for (e, c) in tets.iter().enumerate() {
        let p = c.map(|n| nodes[n as usize]);
        let sj = scaled_jacobian(p);
        if sj.is_nan() || sj <= 0.0 || volume(p) <= 0.0 {
            let centre = p.iter().fold(Vector3::zeros(), |a, q| a + q.coords) / 4.0;
            // Three tetrahedra per prism, `layers` prisms per lumen triangle.
            let angle = smallest_angle(wall[e / (3 * layers)].map(|v| surface.vertices[v as usize]));
            let cause = if angle < SLIVER_DEGREES {
                format!(
                    "the lumen triangle under it is a sliver (smallest angle {angle:.2} degrees), which no \
                     thickness extrudes; remesh the surface (e.g. VMTK's vmtksurfaceremeshing)"
                )
            } else {
                "the lumen surface is too coarse or too curved there for this thickness; use a thinner wall \
                 or a smoother, finer surface"
                    .to_string()
            };
            return Err(Error::parameter(
                "wall.thickness",
                format!(
                    "element {e} near ({:.3}, {:.3}, {:.3}) mm is inverted (scaled Jacobian {sj:.3}): {cause}",
                    centre.x * 1e3,
                    centre.y * 1e3,
                    centre.z * 1e3
                ),
            ));
        }
        min_sj = min_sj.min(sj);
        let mut el = [0u32; 10];
        el[..4].copy_from_slice(c);
        for (k, [i, j]) in EDGES.iter().enumerate() {
            el[4 + k] = mid_node(c[*i], c[*j], &mut nodes);
        }
        elements.push(el);
    }
    let inner_faces = wall
        .iter()
        .map(|t| {
            let c = t.map(|v| corner(v, 0));
            let m = [[c[0], c[1]], [c[1], c[2]], [c[2], c[0]]].map(|[a, b]| mid[&(a.min(b), a.max(b))]);
            InnerFace { nodes: [c[0], c[1], c[2], m[0], m[1], m[2]], vertices: *t }
        })
        .collect();
    let mut end_nodes = vec![Vec::new(); ports.len()];
    let mut on_end = vec![usize::MAX; nodes.len()];
    for (v, k) in &rim {
        for layer in 0..stride {
            let n = corner(*v, layer);
            on_end[n as usize] = *k;
            end_nodes[*k].push(n);
        }
    }
    for (&(a, b), &m) in &mid {
        let k = on_end[a as usize];
        if k != usize::MAX && k == on_end[b as usize] {
            end_nodes[k].push(m);
        }
    }
    for e in &mut end_nodes {
        e.sort_unstable();
    }
    let elements_len = elements.len();
    Ok(WallMesh {
        nodes,
        elements,
        inner_faces,
        end_nodes,
        ports: ports.to_vec(),
        min_scaled_jacobian: min_sj,
        // Tetrahedra come three per prism, `layers` prisms per lumen triangle, lumen first.
        layer: (0..elements_len).map(|e| ((e / 3) % layers) as u16).collect(),
    })
}

impl WallMesh {
    /// Corner positions of element `e`.
    pub fn corners(&self, e: usize) -> [Point3<f64>; 4] {
        std::array::from_fn(|i| self.nodes[self.elements[e][i] as usize])
    }

    /// Centroid of element `e` (m): the mean of its corners.
    pub fn centre(&self, e: usize) -> Point3<f64> {
        let c = self.corners(e);
        Point3::from((c[0].coords + c[1].coords + c[2].coords + c[3].coords) / 4.0)
    }

    /// Node positions of element `e`.
    pub fn element_nodes(&self, e: usize) -> [Point3<f64>; 10] {
        self.elements[e].map(|n| self.nodes[n as usize])
    }

    /// Total volume of the wall, m^3.
    pub fn volume(&self) -> f64 {
        (0..self.elements.len()).map(|e| volume(self.corners(e))).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::ports::tag_triangles;
    use crate::geometry::synth::{TubeSpec, tube};

    fn tube_wall(layers: usize) -> WallMesh {
        let (s, p) = tube(&TubeSpec { radius: 1.0, length: 1.0 }, 24).unwrap();
        let axis = Axis::between_ports(&p).unwrap();
        extrude(
            &s,
            &tag_triangles(&s, &p).unwrap(),
            &p,
            &axis,
            &WallSpec { thickness: Thickness::Absolute(1.0), layers, beyond_radius: false },
        )
        .unwrap()
    }

    #[test]
    fn extruded_tube_is_conforming_with_flat_ends_and_positive_elements() {
        let m = tube_wall(3);
        // Every triangular face is shared by two tetrahedra or lies on the boundary; boundary
        // faces: inner and outer surfaces plus two triangles per quad of the two end rings.
        let mut faces: HashMap<[u32; 3], usize> = HashMap::new();
        for e in &m.elements {
            for f in super::super::element::FACES {
                let mut k = [e[f[0]], e[f[1]], e[f[2]]];
                k.sort_unstable();
                *faces.entry(k).or_default() += 1;
            }
        }
        assert!(faces.values().all(|&c| c <= 2));
        let boundary = faces.values().filter(|&&c| c == 1).count();
        assert_eq!(boundary, 2 * m.inner_faces.len() + 2 * (2 * 24 * 3));
        assert!(m.min_scaled_jacobian > 0.1, "{}", m.min_scaled_jacobian);
        for (k, end) in m.end_nodes.iter().enumerate() {
            // 96 corners on 4 rings; mid-edge nodes on 96 ring, 72 radial and 72 diagonal edges.
            assert_eq!(end.len(), 24 * 14);
            let z = m.ports[k].center.z;
            assert!(end.iter().all(|&n| (m.nodes[n as usize].z - z).abs() < 1e-12));
        }
    }

    #[test]
    fn zero_thickness_and_zero_layers_are_refused_naming_the_field() {
        let (s, p) = tube(&TubeSpec { radius: 1.0, length: 1.0 }, 16).unwrap();
        let axis = Axis::between_ports(&p).unwrap();
        let e = extrude(
            &s,
            &tag_triangles(&s, &p).unwrap(),
            &p,
            &axis,
            &WallSpec { thickness: Thickness::Absolute(0.0), layers: 2, beyond_radius: false },
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("wall.thickness"), "{e}");
        let e = extrude(
            &s,
            &tag_triangles(&s, &p).unwrap(),
            &p,
            &axis,
            &WallSpec { thickness: Thickness::Absolute(0.1), layers: 0, beyond_radius: false },
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("wall.layers"), "{e}");
    }
}
