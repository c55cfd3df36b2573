//! The vessel as the solver sees it: a surface read (units given or guessed) or generated, its
//! ports found or matched to the case's, and checked closed. `run` and `mesh check` share it.

use crate::error::{Error, Result};
use crate::geometry::PortRole;
use crate::geometry::caps::{
    CAP_PLANARITY, CREASE_DEGREES, PORT_CENTRE_TOLERANCE, describe, find_flat_caps, match_ports,
};
use crate::geometry::check::{SurfaceReport, require_closed, require_usable};
use crate::geometry::domes::{clip_ends, find_domed_ends};
use crate::geometry::io_stl::{Units, read_stl};
use crate::geometry::io_vtp::{VtpSurface, read_vtp};
use crate::geometry::ports::{
    WALL_TAG, boundary_loops, cap_open_ends, extend_open_ends, orient_open_surface, orient_outward,
    ports_from_face_ids, tag_triangles,
};
use crate::geometry::spec::{GenerateSpec, GeometrySpec, PortRoleSpec};
use crate::geometry::synth::{
    AneurysmSpec, BifurcationSpec, FdaNozzleSpec, StenosisSpec, TubeSpec, aneurysm, bifurcation, fda_nozzle,
    stenosis, tube,
};
use crate::geometry::{Port, Surface};
use nalgebra::{Point3, Vector3};
use std::path::{Path, PathBuf};

/// The vessel as the solver sees it: a closed surface in metres and its ports.
#[derive(Clone)]
pub struct Vessel {
    /// Closed, outward-oriented surface (m).
    pub surface: Surface,
    /// Ports (m), in the order of `roles`.
    pub ports: Vec<Port>,
    /// What each port imposes.
    pub roles: Vec<PortRole>,
    /// Tag of each triangle: 0 wall, k + 1 the cap of port k.
    pub tags: Vec<u16>,
    /// The triangles of the flow extensions, a range of `surface.triangles`: wall for the flow,
    /// left out of the wall indices.
    pub extension: std::ops::Range<usize>,
    /// Mesh report (area, volume, bounding box).
    pub report: SurfaceReport,
    /// What loading did to the surface (units guessed, ends capped, triangles flipped).
    pub notes: Vec<String>,
    /// Largest distance of each port's cap from its plane, as a fraction of its radius.
    pub planarity: Vec<f64>,
    /// Length unit of the surface file (given or guessed) and of the case's port positions.
    pub units: Units,
}

impl Vessel {
    /// The index of the (first) inlet port, the one with a prescribed velocity.
    pub fn inlet(&self) -> Option<usize> {
        self.roles.iter().position(|r| *r == PortRole::Velocity)
    }

    /// The tags with the flow extensions' triangles marked as neither wall nor port (`u16::MAX`):
    /// what the wall indices sample.
    pub fn wall_tags(&self) -> Vec<u16> {
        let mut tags = self.tags.clone();
        tags[self.extension.clone()].fill(u16::MAX);
        tags
    }
}

/// Rotates `surface` and `ports` about the origin so that +z points along `axis` (non-zero).
fn rotate_z_to(surface: &mut Surface, ports: &mut [Port], axis: Vector3<f64>) {
    let rotation = nalgebra::Rotation3::rotation_between(&Vector3::z(), &axis)
        .unwrap_or_else(|| nalgebra::Rotation3::from_axis_angle(&Vector3::x_axis(), std::f64::consts::PI));
    for v in &mut surface.vertices {
        *v = rotation * *v;
    }
    for p in ports {
        p.center = rotation * p.center;
        p.normal = rotation * p.normal;
    }
}

/// Facets around the circumference of generated vessels at `cells` lattice cells across: the chord
/// error stays below 1% of a lattice spacing.
fn generator_segments(cells: f64) -> usize {
    ((4.0 * cells / 8.0).ceil() as usize * 8).max(64)
}

/// The synthetic vessel `spec` (lengths times `scale` give metres) with `segments` facets around,
/// and its ports.
pub fn generate(spec: &GenerateSpec, scale: f64, segments: usize) -> Result<(Surface, Vec<Port>)> {
    let s = scale;
    match *spec {
        GenerateSpec::Tube { radius, length } => {
            tube(&TubeSpec { radius: radius * s, length: length * s }, segments)
        }
        GenerateSpec::Stenosis {
            radius,
            length,
            area_reduction_percent,
            stenosis_length,
            center,
            eccentricity,
        } => stenosis(
            &StenosisSpec {
                radius: radius * s,
                length: length * s,
                area_reduction: area_reduction_percent / 100.0,
                stenosis_length: stenosis_length * s,
                center: center * s,
                eccentricity,
            },
            segments,
        ),
        GenerateSpec::FdaNozzle { inlet_length, outlet_length } => fda_nozzle(
            &FdaNozzleSpec { inlet_length: inlet_length * s, outlet_length: outlet_length * s },
            segments,
        ),
        GenerateSpec::Bifurcation { radius, length, ref daughter_radii, angle_degrees, daughter_length } => {
            let r0 = radius * s;
            let daughter_radii = match daughter_radii.as_slice() {
                [] => [r0 / 2f64.cbrt(); 2],
                &[r1] => [r1 * s, BifurcationSpec::murray(r0, r1 * s)],
                &[r1, r2] => [r1 * s, r2 * s],
                more => {
                    return Err(Error::parameter(
                        "geometry.generate.daughter_radii",
                        format!("give none (Murray's law), one or two radii, not {}", more.len()),
                    ));
                }
            };
            bifurcation(
                &BifurcationSpec {
                    radius: r0,
                    length: length * s,
                    daughter_radii,
                    angle: angle_degrees.to_radians(),
                    daughter_length: daughter_length * s,
                },
                segments,
            )
        }
        GenerateSpec::Aneurysm { radius, length, sphere_radius, neck, center } => aneurysm(
            &AneurysmSpec {
                radius: radius * s,
                length: length * s,
                sphere_radius: sphere_radius * s,
                neck: neck * s,
                center: center * s,
            },
            segments,
        ),
    }
}

/// The roles of generated or detected ports: velocity at the port named `inlet`, pressure elsewhere.
fn inlet_first_roles(ports: &[Port]) -> Vec<PortRole> {
    ports.iter().map(|p| if p.name == "inlet" { PortRole::Velocity } else { PortRole::Pressure }).collect()
}

/// How the ports of a surface were found, for the notes.
fn cap_summary(ports: &[Port], planarity: &[f64]) -> String {
    ports
        .iter()
        .zip(planarity)
        .map(|(p, f)| {
            format!("{} (radius {:.2} mm, planar within {:.2}%)", p.name, p.radius * 1e3, 100.0 * f)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Largest distance of each port's cap vertices (triangles tagged k + 1) from the port's plane, as a
/// fraction of its radius.
fn planarity(surface: &Surface, ports: &[Port], tags: &[u16]) -> Vec<f64> {
    let mut worst = vec![0.0f64; ports.len()];
    for (t, &tag) in surface.triangles.iter().zip(tags) {
        if let Some(k) = (tag as usize).checked_sub(1).filter(|&k| k < ports.len()) {
            let p = &ports[k];
            for &v in t {
                worst[k] =
                    worst[k].max((surface.vertices[v as usize] - p.center).dot(&p.normal).abs() / p.radius);
            }
        }
    }
    worst
}

/// Where the caps of a surface file came from.
enum CapSource {
    /// Faces of a .vtp: the face id of each cap.
    FaceIds(Vec<i32>),
    /// Flat caps of a closed surface.
    FlatCaps,
    /// Open ends (or clipped domed ends) capped flat.
    OpenEnds,
}

/// The caps of a surface file: ports (outward, largest first, unnamed), triangle tags (k + 1 on
/// cap k) and where they came from.
type SurfaceCaps = (Vec<Port>, Vec<u16>, CapSource);

/// The caps of a surface file: from face ids when the file has them, else the open ends capped
/// flat (after flow extensions), else the flat caps of a closed surface, else its domed ends
/// clipped and capped.
fn surface_caps(
    geometry: &GeometrySpec,
    surface: &mut Surface,
    face_ids: Option<&[i32]>,
    path: &Path,
    notes: &mut Vec<String>,
    extension: &mut std::ops::Range<usize>,
) -> Result<SurfaceCaps> {
    let flipped = "the triangles faced inward and were flipped";
    if let Some(ids) = face_ids {
        if geometry.flow_extensions.is_some_and(|d| d > 0.0) {
            return Err(Error::parameter(
                "geometry.flow_extensions",
                "the surface is closed (its caps carry face ids); flow extensions need open ends",
            ));
        }
        if orient_outward(surface, &mut []) {
            notes.push(flipped.into());
        }
        let (ports, tags, faces) = ports_from_face_ids(surface, ids, path)?;
        notes.push(format!(
            "caps from the surface's face ids: faces {}",
            faces.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
        ));
        return Ok((ports, tags, CapSource::FaceIds(faces)));
    }
    if boundary_loops(surface, path)?.is_empty() {
        if orient_outward(surface, &mut []) {
            notes.push(flipped.into());
        }
        let caps = find_flat_caps(surface);
        if caps.len() >= 2 || !geometry.ports.is_empty() {
            let mut tags = vec![WALL_TAG; surface.triangles.len()];
            for (k, c) in caps.iter().enumerate() {
                for &t in &c.triangles {
                    tags[t as usize] = (k + 1) as u16;
                }
            }
            notes.push(format!(
                "{} flat caps found (planar within {}% of their radius, bounded by a crease of {} degrees)",
                caps.len(),
                100.0 * CAP_PLANARITY,
                CREASE_DEGREES
            ));
            return Ok((caps.into_iter().map(|c| c.port).collect(), tags, CapSource::FlatCaps));
        }
        // A closed surface without flat caps: its ends are domed caps to clip.
        let planes = find_domed_ends(surface, path)?;
        clip_ends(surface, &planes, path)?;
        notes.push(format!(
            "{} rounded ends found and clipped square to the vessel axis one radius behind the dome",
            planes.len()
        ));
    }
    if orient_open_surface(surface, path)? {
        notes.push(flipped.into());
    }
    // By default only when the case gives no ports: extensions move the ends the ports lie on.
    let default =
        if geometry.ports.is_empty() { crate::geometry::spec::DEFAULT_FLOW_EXTENSIONS } else { 0.0 };
    let d = geometry.flow_extensions.unwrap_or(default);
    if d > 0.0 {
        let before = surface.triangles.len();
        extend_open_ends(surface, d, path)?;
        *extension = before..surface.triangles.len();
        notes.push(format!(
            "flow extensions of {d} diameters added at every open end (geometry.flow_extensions = 0 turns them \
             off); they are left out of the wall indices"
        ));
    }
    let (ports, tags) = cap_open_ends(surface, path)?;
    notes.push(format!("{} open ends capped flat", ports.len()));
    Ok((ports, tags, CapSource::OpenEnds))
}

/// Refuses open ends (capped into `caps`) that no port of the case file lies on: holes in the
/// surface rather than vessel ends.
fn refuse_unported_holes(caps: &[Port], given: &[Port], path: &Path) -> Result<()> {
    let unported: Vec<&Port> = caps
        .iter()
        .filter(|c| {
            !given
                .iter()
                .any(|p| (p.center - c.center).norm() <= PORT_CENTRE_TOLERANCE * c.radius.max(p.radius))
        })
        .collect();
    if let Some(largest) = unported.first() {
        let c = largest.center * 1e3;
        return Err(Error::input(
            path,
            format!(
                "the surface has {} hole(s) where no port lies, the largest at ({:.2}, {:.2}, {:.2}) mm with an equivalent \
                 radius of {:.3} mm; cap the open ends that are not ports, or fix the segmentation",
                unported.len(),
                c.x,
                c.y,
                c.z,
                largest.radius * 1e3
            ),
        ));
    }
    Ok(())
}

/// The ports of a hemotwin `wall.vtp` read back: cap k (face id `faces[k]`) is port `faces[k]`, named
/// `names[faces[k]]` with role `roles[faces[k]]`. Returns the ports in port order, their roles and
/// the new tag of each old tag (0: wall).
fn own_ports(
    caps: &[Port],
    faces: &[i32],
    names: &[String],
    roles: &[String],
    path: &Path,
) -> Result<(Vec<Port>, Vec<PortRole>, Vec<u16>)> {
    let n = names.len();
    let mut at = vec![None; n];
    for (k, &f) in faces.iter().enumerate() {
        match usize::try_from(f).ok().filter(|&f| f < n) {
            Some(f) if at[f].is_none() => at[f] = Some(k),
            _ => {
                return Err(Error::input(
                    path,
                    format!("face id {f} names no port of the file's {n} port_names (or repeats one)"),
                ));
            }
        }
    }
    if roles.len() != n || at.iter().any(Option::is_none) {
        return Err(Error::input(
            path,
            format!(
                "port_names lists {n} ports, port_roles {} and the face ids {} caps",
                roles.len(),
                faces.len()
            ),
        ));
    }
    let mut new_tag = vec![WALL_TAG; caps.len() + 1];
    let mut ports = Vec::with_capacity(n);
    let mut port_roles = Vec::with_capacity(n);
    for (f, k) in at.into_iter().flatten().enumerate() {
        new_tag[k + 1] = (f + 1) as u16;
        ports.push(Port { name: names[f].clone(), ..caps[k].clone() });
        port_roles.push(match roles[f].as_str() {
            "inlet" => PortRole::Velocity,
            "outlet" => PortRole::Pressure,
            other => {
                return Err(Error::input(
                    path,
                    format!("port {:?} has the role {other:?}, not inlet or outlet", names[f]),
                ));
            }
        });
    }
    Ok((ports, port_roles, new_tag))
}

/// How much larger (a factor on the radius) the largest cap must be than the next to be taken as
/// the inlet without `geometry.inlet`.
pub const INLET_RADIUS_MARGIN: f64 = 1.05;

/// Names caps found without [[geometry.ports]] (largest first): the inlet is the cap nearest
/// `inlet` (surface units, `scale` metres per unit) when given, else the largest, which must be
/// [`INLET_RADIUS_MARGIN`] times larger than the next; the others are `outlet1`, `outlet2`, ... in
/// decreasing size. The inlet is moved first; returns the new tag of each old tag (0: wall).
fn name_caps(ports: &mut Vec<Port>, inlet: Option<[f64; 3]>, units: Units, path: &Path) -> Result<Vec<u16>> {
    if ports.len() < 2 {
        return Err(Error::input(
            path,
            format!(
                "the surface has {} open end(s) or flat cap(s), and no [[geometry.ports]] are given: the flow needs an \
                 inlet and at least one outlet. Give the ports of a capped surface (centre, outward normal and \
                 radius of each flat cap), or use the surface with its ends open, trimmed square to the vessel axis",
                ports.len()
            ),
        ));
    }
    let (s, unit) = (units.scale(), units.symbol());
    let first = match inlet {
        Some(at) => {
            let at = Point3::from(at) * s;
            let (k, nearest) = ports
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1.center - at).norm().total_cmp(&(b.1.center - at).norm()))
                .ok_or_else(|| Error::parameter("geometry.inlet", "the surface has no ports"))?;
            if (nearest.center - at).norm() > nearest.radius {
                return Err(Error::parameter(
                    "geometry.inlet",
                    format!(
                        "no cap's centre lies within its radius of the point; the nearest cap: {}",
                        describe(nearest, s, unit)
                    ),
                ));
            }
            k
        }
        None => {
            if ports[0].radius < INLET_RADIUS_MARGIN * ports[1].radius {
                let tied: Vec<String> = ports
                    .iter()
                    .filter(|p| p.radius * INLET_RADIUS_MARGIN >= ports[0].radius)
                    .map(|p| format!("[{}]", describe(p, s, unit)))
                    .collect();
                return Err(Error::input(
                    path,
                    format!(
                        "the inlet cannot be told by size: {} caps have radii within {:.0}% of the largest: {}. Choose \
                         the inlet: add `inlet = [x, y, z]` (its centre, in {unit}) under [geometry], or give \
                         [[geometry.ports]] with their roles",
                        tied.len(),
                        100.0 * (INLET_RADIUS_MARGIN - 1.0),
                        tied.join("; ")
                    ),
                ));
            }
            0
        }
    };
    let inlet = ports.remove(first);
    ports.insert(0, inlet);
    for (k, p) in ports.iter_mut().enumerate() {
        p.name = if k == 0 { "inlet".to_string() } else { format!("outlet{k}") };
    }
    // Old cap k moves to 0 when it is the inlet, k + 1 when it was before the inlet, k after it.
    let moved = |k: usize| match k.cmp(&first) {
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Less => k + 1,
        std::cmp::Ordering::Greater => k,
    };
    Ok(std::iter::once(WALL_TAG).chain((0..ports.len()).map(|k| (moved(k) + 1) as u16)).collect())
}

/// Loads or generates a vessel and checks that it is closed (`cells` across the inlet sets the
/// facets of generated vessels). A surface file's ports come from its caps (`surface_caps`); ports given in
/// `geometry.ports` are matched to those caps ([`match_ports`]) and take the caps' measured
/// geometry; without them the largest cap is the inlet. Used by `run` and by `mesh check`.
pub fn prepare_vessel(geometry: &GeometrySpec, cells: f64) -> Result<Vessel> {
    let mut notes = Vec::new();
    let mut extension = 0..0;
    let (surface, ports, roles, tags, units, origin) = match (&geometry.generate, &geometry.surface) {
        (Some(spec), _) => {
            let units = parse_units(&geometry.units)?.unwrap_or(Units::Millimetre);
            let (mut surface, mut ports) = generate(spec, units.scale(), generator_segments(cells))?;
            if let Some(axis) = geometry.axis {
                rotate_z_to(&mut surface, &mut ports, Vector3::from(axis));
            }
            let roles = inlet_first_roles(&ports);
            let tags = tag_triangles(&surface, &ports)?;
            (surface, ports, roles, tags, units, PathBuf::from("<generated>"))
        }
        (None, Some(path)) => {
            let (mut read, units) = match parse_units(&geometry.units)? {
                Some(u) => (read_surface(path, u)?, u),
                None => {
                    let mut read = read_surface(path, Units::Metre)?;
                    let guess = guess_units(&read.surface);
                    notes.push(format!(
                        "units guessed as {} from the surface's size (set geometry.units to override)",
                        guess.symbol()
                    ));
                    for v in &mut read.surface.vertices {
                        *v *= guess.scale();
                    }
                    (read, guess)
                }
            };
            let mut surface = std::mem::take(&mut read.surface);
            require_usable(&surface, path)?;
            let (mut caps, cap_tags, source) = surface_caps(
                geometry,
                &mut surface,
                read.face_ids.as_deref(),
                path,
                &mut notes,
                &mut extension,
            )?;
            let s = units.scale();
            if let (true, CapSource::FaceIds(faces), Some(names), Some(roles)) =
                (geometry.ports.is_empty(), &source, &read.port_names, &read.port_roles)
            {
                let (ports, roles, order) = own_ports(&caps, faces, names, roles, path)?;
                notes.push("port names and roles from the file's field data (a hemotwin wall.vtp)".into());
                let cap_tags = cap_tags.iter().map(|&t| order[t as usize]).collect();
                (surface, ports, roles, cap_tags, units, path.clone())
            } else if geometry.ports.is_empty() {
                let order = name_caps(&mut caps, geometry.inlet, units, path)?;
                let cap_tags = cap_tags.iter().map(|&t| order[t as usize]).collect();
                let roles = inlet_first_roles(&caps);
                (surface, caps, roles, cap_tags, units, path.clone())
            } else {
                let given: Vec<Port> = geometry
                    .ports
                    .iter()
                    .map(|p| {
                        let n = Vector3::from(p.normal);
                        Port {
                            name: p.name.clone(),
                            center: Point3::from(p.center) * s,
                            normal: n / n.norm(),
                            radius: p.radius * s,
                        }
                    })
                    .collect();
                if matches!(source, CapSource::OpenEnds) {
                    refuse_unported_holes(&caps, &given, path)?;
                }
                let chosen = match_ports(&given, &caps, s, units.symbol())?;
                let mut new_tag = vec![WALL_TAG; caps.len() + 1];
                for (i, &k) in chosen.iter().enumerate() {
                    new_tag[k + 1] = (i + 1) as u16;
                }
                if caps.len() > chosen.len() {
                    notes.push(format!(
                        "{} flat cap(s) match no port and stay closed (wall)",
                        caps.len() - chosen.len()
                    ));
                }
                let tags = cap_tags.iter().map(|&t| new_tag[t as usize]).collect();
                let ports = given
                    .iter()
                    .zip(&chosen)
                    .map(|(p, &k)| Port { name: p.name.clone(), ..caps[k].clone() })
                    .collect();
                let roles =
                    geometry
                        .ports
                        .iter()
                        .map(|p| {
                            if p.role == PortRoleSpec::Inlet {
                                PortRole::Velocity
                            } else {
                                PortRole::Pressure
                            }
                        })
                        .collect();
                (surface, ports, roles, tags, units, path.clone())
            }
        }
        (None, None) => return Err(Error::parameter("geometry", "give `surface` or `generate`")),
    };
    let (mut surface, mut ports) = (surface, ports);
    if let Some(offset) = geometry.offset.filter(|d| *d != 0.0) {
        offset_lumen(&mut surface, &mut ports, &tags, offset * units.scale())?;
        notes.push(format!("lumen offset by {offset} {} along its outward normal", units.symbol()));
    }
    let report = require_closed(&surface, &origin)?;
    check_plausible_size(&report, units, &origin)?;
    let planarity = planarity(&surface, &ports, &tags);
    if geometry.generate.is_none() {
        notes.push(format!("ports: {}", cap_summary(&ports, &planarity)));
    }
    Ok(Vessel { surface, ports, roles, tags, extension, report, notes, planarity, units })
}

/// Moves the lumen by `offset` (m) along its outward normal: wall vertices along their area-weighted
/// normal, cap vertices (rims included) radially about their port's centre so that every cap stays
/// flat and grows by `offset`. Refused (naming `geometry.offset`) beyond half the smallest port
/// radius or where it makes the surface cross itself.
fn offset_lumen(surface: &mut Surface, ports: &mut [Port], tags: &[u16], offset: f64) -> Result<()> {
    let smallest = ports.iter().map(|p| p.radius).fold(f64::INFINITY, f64::min);
    if !offset.is_finite() || offset.abs() >= 0.5 * smallest {
        return Err(Error::parameter(
            "geometry.offset",
            format!(
                "{:.4} mm is beyond half the smallest port radius ({:.4} mm): give a smaller offset",
                offset * 1e3,
                smallest * 1e3
            ),
        ));
    }
    let crossings = crate::geometry::repair::self_intersections(surface, 1).0;
    let mut normal = vec![Vector3::zeros(); surface.vertices.len()];
    let mut cap = vec![None; surface.vertices.len()];
    for (t, &tag) in surface.triangles.iter().zip(tags) {
        let [a, b, c] = t.map(|i| surface.vertices[i as usize]);
        let area_normal = (b - a).cross(&(c - a));
        for &i in t {
            match tag {
                WALL_TAG => normal[i as usize] += area_normal,
                k => cap[i as usize] = Some(k as usize - 1),
            }
        }
    }
    for (i, v) in surface.vertices.iter_mut().enumerate() {
        match cap[i] {
            Some(k) => {
                let p = &ports[k];
                *v = p.center + (*v - p.center) * ((p.radius + offset) / p.radius);
            }
            None => *v += normal[i].try_normalize(f64::MIN_POSITIVE).unwrap_or_else(Vector3::zeros) * offset,
        }
    }
    for p in ports.iter_mut() {
        p.radius += offset;
    }
    if crate::geometry::repair::self_intersections(surface, 1).0 > crossings {
        return Err(Error::parameter(
            "geometry.offset",
            format!("{:.4} mm makes the surface cross itself: give a smaller offset", offset * 1e3),
        ));
    }
    Ok(())
}

/// Reads an `.stl` or `.vtp` surface (by extension) in `units`, with what a `.vtp` says of its ports.
pub fn read_surface(path: &Path, units: Units) -> Result<VtpSurface> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("vtp") => read_vtp(path, units),
        _ => Ok(VtpSurface { surface: read_stl(path, units)?, ..Default::default() }),
    }
}

/// `Some(units)` for "mm", "cm" or "m"; None for "auto".
fn parse_units(text: &str) -> Result<Option<Units>> {
    if text.trim() == "auto" {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|e: Error| match e {
        Error::Parameter { message, .. } => Error::parameter("geometry.units", format!("{message}, or auto")),
        other => other,
    })
}

/// Guesses the length unit of a surface read as metres from its size: vessel models span a few
/// millimetres to half a metre, so an extent above 5 means mm, above 0.5 cm, and below that m.
pub fn guess_units(raw: &Surface) -> Units {
    let report = crate::geometry::check::inspect(raw);
    let extent = (report.bbox_max - report.bbox_min).norm();
    if extent > 5.0 {
        Units::Millimetre
    } else if extent > 0.5 {
        Units::Centimetre
    } else {
        Units::Metre
    }
}

/// Catches surfaces whose size is implausible for a blood vessel in the declared units.
fn check_plausible_size(report: &SurfaceReport, units: Units, origin: &Path) -> Result<()> {
    let extent = (report.bbox_max - report.bbox_min).norm();
    if !(1e-4..=2.0).contains(&extent) {
        return Err(Error::input(
            origin,
            format!(
                "the surface spans {extent:.3e} m with units = \"{}\"; vessels span 0.1 mm to 2 m. Are the \
                 units right (mm, cm or m)?",
                units.symbol()
            ),
        ));
    }
    Ok(())
}
