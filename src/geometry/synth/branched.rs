//! Branched synthetic vessels built as smooth unions of implicit solids: the Y bifurcation and the
//! sidewall aneurysm.

use super::*;

/// A Y bifurcation: a parent tube along +z from z = 0 that ends in a sphere of its own radius at
/// the junction, and two daughter tubes leaving the junction symmetrically in the x–z plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BifurcationSpec {
    /// Parent radius (m).
    pub radius: f64,
    /// Parent length from the inlet to the junction (m).
    pub length: f64,
    /// Radii of the daughters (m), towards +x and towards -x.
    pub daughter_radii: [f64; 2],
    /// Total angle between the daughters' axes (radians).
    pub angle: f64,
    /// Length of each daughter from the junction to its outlet (m).
    pub daughter_length: f64,
}

impl BifurcationSpec {
    /// The second daughter's radius (m) from Murray's law r0³ = r1³ + r2³, given the parent `r0` and
    /// one daughter `r1` (m); `r1 = r0 / 2^(1/3)` gives the symmetric split.
    pub fn murray(r0: f64, r1: f64) -> f64 {
        (r0.powi(3) - r1.powi(3)).max(0.0).cbrt()
    }

    /// Unit axis of daughter `k` (0: towards +x, 1: towards -x).
    pub fn daughter_axis(&self, k: usize) -> Vector3<f64> {
        let side = if k == 0 { 1.0 } else { -1.0 };
        Vector3::new(side * (self.angle / 2.0).sin(), 0.0, (self.angle / 2.0).cos())
    }

    /// The junction point (m): the end of the parent's axis.
    pub fn junction(&self) -> Point3<f64> {
        Point3::new(0.0, 0.0, self.length)
    }

    /// The solids whose union is the bifurcation.
    pub fn solids(&self) -> Vec<Solid> {
        let j = self.junction();
        let mut solids = vec![
            Solid::Cylinder {
                base: Point3::origin(),
                axis: Vector3::z(),
                length: self.length,
                radius: self.radius,
            },
            Solid::Sphere { center: j, radius: self.radius },
        ];
        solids.extend((0..2).map(|k| Solid::Cylinder {
            base: j,
            axis: self.daughter_axis(k),
            length: self.daughter_length,
            radius: self.daughter_radii[k],
        }));
        solids
    }
}

/// A straight tube along +z from z = 0 with a spherical sidewall aneurysm on its +x side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AneurysmSpec {
    /// Tube radius (m).
    pub radius: f64,
    /// Tube length (m).
    pub length: f64,
    /// Radius of the aneurysm sphere (m).
    pub sphere_radius: f64,
    /// Neck width (m): the diameter of the circle where the sphere meets the tangent plane x = radius.
    pub neck: f64,
    /// z of the aneurysm's centre (m).
    pub center: f64,
}

impl AneurysmSpec {
    /// Centre of the aneurysm sphere (m).
    pub fn sphere_center(&self) -> Point3<f64> {
        let offset = (self.sphere_radius.powi(2) - (self.neck / 2.0).powi(2)).max(0.0).sqrt();
        Point3::new(self.radius + offset, 0.0, self.center)
    }

    /// The solids whose union is the vessel.
    pub fn solids(&self) -> Vec<Solid> {
        vec![
            Solid::Cylinder {
                base: Point3::origin(),
                axis: Vector3::z(),
                length: self.length,
                radius: self.radius,
            },
            Solid::Sphere { center: self.sphere_center(), radius: self.sphere_radius },
        ]
    }
}

/// A primitive solid of the implicit generators, lengths in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Solid {
    /// A finite cylinder with flat ends, from `base` along the unit `axis`.
    Cylinder {
        /// Centre of the first end (m).
        base: Point3<f64>,
        /// Unit axis.
        axis: Vector3<f64>,
        /// Length (m).
        length: f64,
        /// Radius (m).
        radius: f64,
    },
    /// A ball.
    Sphere {
        /// Centre (m).
        center: Point3<f64>,
        /// Radius (m).
        radius: f64,
    },
}

impl Solid {
    /// Signed distance (m) from `p`: negative inside.
    pub fn distance(&self, p: &Point3<f64>) -> f64 {
        match self {
            Solid::Cylinder { base, axis, length, radius } => {
                implicit::cylinder(p, base, axis, *length, *radius)
            }
            Solid::Sphere { center, radius } => implicit::sphere(p, center, *radius),
        }
    }

    /// Radius (m) of the cylinder or ball.
    pub fn radius(&self) -> f64 {
        match *self {
            Solid::Cylinder { radius, .. } | Solid::Sphere { radius, .. } => radius,
        }
    }

    /// Corners of a box (m) that holds the solid.
    fn bounds(&self) -> (Point3<f64>, Point3<f64>) {
        let (a, b, r) = match *self {
            Solid::Cylinder { base, axis, length, radius } => (base, base + axis * length, radius),
            Solid::Sphere { center, radius } => (center, center, radius),
        };
        (a.inf(&b) - Vector3::repeat(r), a.sup(&b) + Vector3::repeat(r))
    }
}

/// Radius of the fillet at the creases where two solids of a union meet, as a fraction of the
/// smallest solid's radius: real vessels have no sharp carina or aneurysm neck, and a wall cannot
/// be extruded outward from a sharp concave crease.
const FILLET_FRACTION: f64 = 0.5;

/// Signed distance-like function (m, negative inside) of the union of `solids`, with the creases
/// where two solids meet rounded by a polynomial smooth minimum of width `FILLET_FRACTION` (0.5) of the
/// smallest radius (exact away from the creases).
pub fn union_distance(solids: &[Solid], p: &Point3<f64>) -> f64 {
    let k = FILLET_FRACTION * solids.iter().map(Solid::radius).fold(f64::INFINITY, f64::min);
    solids.iter().map(|s| s.distance(p)).fold(f64::INFINITY, |a, b| {
        let w = (k - (a - b).abs()).max(0.0) / k;
        a.min(b) - w * w * k / 4.0
    })
}

/// True when `p` lies inside the union of `solids` (with its fillets, [`union_distance`]).
pub fn inside_union(solids: &[Solid], p: &Point3<f64>) -> bool {
    union_distance(solids, p) < 0.0
}

/// Rounds of smoothing on the zero level that even out the marching-tetrahedra triangles.
const IMPLICIT_SMOOTHING: usize = 4;

/// Edges shorter than this many grid spacings are collapsed before smoothing.
const SHORTEST_EDGE: f64 = 0.25;

/// Grid spacings by which the tubes ending at a port are lengthened before the exact cut there.
const PORT_OVERHANG: f64 = 3.0;

/// The closed surface of the union of `solids`, sampled at spacing `h` (m), with exact flat caps
/// at `ports`: the tubes that end at a port are lengthened, the surface is extracted and smoothed
/// on its level, then cut square at each port plane (so the rim is a clean circle, not the grid's
/// chamfer of a sharp edge) and capped.
fn union_surface(solids: &[Solid], ports: &[Port], h: f64) -> Result<Surface> {
    let at_port = |p: Point3<f64>| ports.iter().any(|port| (port.center - p).norm() < 1e-9 + 1e-6 * h);
    let longer: Vec<Solid> = solids
        .iter()
        .map(|s| match *s {
            Solid::Cylinder { base, axis, length, radius } => {
                let before = if at_port(base) { PORT_OVERHANG * h } else { 0.0 };
                let after = if at_port(base + axis * length) { PORT_OVERHANG * h } else { 0.0 };
                Solid::Cylinder { base: base - axis * before, axis, length: length + before + after, radius }
            }
            sphere => sphere,
        })
        .collect();
    let (lo, hi) = longer.iter().map(Solid::bounds).fold(
        (Point3::from(Vector3::repeat(f64::MAX)), Point3::from(Vector3::repeat(f64::MIN))),
        |(lo, hi), (a, b)| (lo.inf(&a), hi.sup(&b)),
    );
    let f = |p: &Point3<f64>| union_distance(&longer, p);
    let mut surface = implicit::surface_of(f, lo, hi, h);
    for round in 0..3 {
        implicit::collapse_short_edges(&mut surface, f, h, SHORTEST_EDGE * h);
        implicit::flip_edges(&mut surface);
        if round < 2 {
            implicit::smooth_on_level(&mut surface, f, h, IMPLICIT_SMOOTHING);
        }
    }
    let origin = Path::new("<generated>");
    let planes: Vec<EndPlane> = ports
        .iter()
        .map(|port| {
            // The dome's tip: the vertex furthest beyond the plane within the port's tube.
            let height = |v: &Point3<f64>| (v - port.center).dot(&port.normal);
            let lateral = |v: &Point3<f64>| ((v - port.center) - port.normal * height(v)).norm();
            let tip = (0..surface.vertices.len())
                .filter(|&v| lateral(&surface.vertices[v]) < 1.5 * port.radius)
                .max_by(|&a, &b| height(&surface.vertices[a]).total_cmp(&height(&surface.vertices[b])))
                .unwrap_or(0) as u32;
            EndPlane { center: port.center, normal: port.normal, radius: port.radius, tip }
        })
        .collect();
    clip_ends(&mut surface, &planes, origin)?;
    cap_open_ends(&mut surface, origin)?;
    Ok(surface)
}

/// Grid spacing (m) of the implicit generators: `segments` samples around the smallest radius.
fn implicit_spacing(smallest_radius: f64, segments: usize) -> Result<f64> {
    ring_spacing(smallest_radius, segments)?;
    Ok(2.0 * PI * smallest_radius / segments as f64)
}

/// A closed Y bifurcation (m) with about `segments` samples around the smallest daughter, and its
/// `inlet`, `outlet1` (+x daughter) and `outlet2` (-x daughter) ports.
pub fn bifurcation(spec: &BifurcationSpec, segments: usize) -> Result<(Surface, Vec<Port>)> {
    positive("bifurcation.radius", spec.radius)?;
    positive("bifurcation.length", spec.length)?;
    positive("bifurcation.daughter_length", spec.daughter_length)?;
    for (k, &r) in spec.daughter_radii.iter().enumerate() {
        positive(&format!("bifurcation.daughter_radii[{k}]"), r)?;
        if r >= spec.radius {
            return Err(Error::parameter(
                format!("bifurcation.daughter_radii[{k}]"),
                format!(
                    "a daughter ({r} m) must be narrower than the parent ({} m); Murray's law gives {} m for \
                     a symmetric split",
                    spec.radius,
                    spec.radius / 2f64.cbrt()
                ),
            ));
        }
    }
    if !(spec.angle > 0.0 && spec.angle < 0.75 * PI) {
        return Err(Error::parameter(
            "bifurcation.angle",
            format!("must lie between 0 and 135 degrees, got {} degrees", spec.angle.to_degrees()),
        ));
    }
    if spec.daughter_length <= 2.0 * spec.radius {
        return Err(Error::parameter(
            "bifurcation.daughter_length",
            format!(
                "must exceed the parent diameter ({} m) so the outlets clear the junction",
                2.0 * spec.radius
            ),
        ));
    }
    let smallest = spec.daughter_radii[0].min(spec.daughter_radii[1]);
    let j = spec.junction();
    let mut ports = vec![Port {
        name: "inlet".into(),
        center: Point3::origin(),
        normal: -Vector3::z(),
        radius: spec.radius,
    }];
    ports.extend((0..2).map(|k| Port {
        name: format!("outlet{}", k + 1),
        center: j + spec.daughter_axis(k) * spec.daughter_length,
        normal: spec.daughter_axis(k),
        radius: spec.daughter_radii[k],
    }));
    let surface = union_surface(&spec.solids(), &ports, implicit_spacing(smallest, segments)?)?;
    Ok((surface, ports))
}

/// A closed tube (m) with a sidewall aneurysm, about `segments` samples around the tube, and its
/// `inlet` (z = 0) and `outlet` ports.
pub fn aneurysm(spec: &AneurysmSpec, segments: usize) -> Result<(Surface, Vec<Port>)> {
    positive("aneurysm.radius", spec.radius)?;
    positive("aneurysm.length", spec.length)?;
    positive("aneurysm.sphere_radius", spec.sphere_radius)?;
    positive("aneurysm.neck", spec.neck)?;
    if spec.neck >= 2.0 * spec.sphere_radius || spec.neck >= 2.0 * spec.radius {
        return Err(Error::parameter(
            "aneurysm.neck",
            format!(
                "the neck ({} m) must be narrower than the sphere's diameter ({} m) and the tube's ({} m)",
                spec.neck,
                2.0 * spec.sphere_radius,
                2.0 * spec.radius
            ),
        ));
    }
    if spec.center - spec.sphere_radius <= 0.0 || spec.center + spec.sphere_radius >= spec.length {
        return Err(Error::parameter(
            "aneurysm.center",
            format!(
                "the sphere spans z = {} to {} m, beyond the tube (0 to {} m); move it or lengthen the tube",
                spec.center - spec.sphere_radius,
                spec.center + spec.sphere_radius,
                spec.length
            ),
        ));
    }
    let port = |name: &str, z: f64, normal: f64| Port {
        name: name.into(),
        center: Point3::new(0.0, 0.0, z),
        normal: Vector3::new(0.0, 0.0, normal),
        radius: spec.radius,
    };
    let ports = vec![port("inlet", 0.0, -1.0), port("outlet", spec.length, 1.0)];
    let surface = union_surface(&spec.solids(), &ports, implicit_spacing(spec.radius, segments)?)?;
    Ok((surface, ports))
}
