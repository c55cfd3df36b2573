//! Lumen edits along a centreline path: a virtual stenosis narrows the wall of a vessel surface and a
//! virtual stent restores it, by moving wall vertices radially with respect to the path.
//!
//! Which vertices belong to the path's branch: a wall vertex moves only when (1) its nearest path
//! point is not an end of the path seen from beyond it, (2) its distance to that point is below
//! [`BRANCH_REACH`] times the path's inscribed radius there, (3) its outward normal points away
//! from that point (so the carina-side wall of a sister branch, which faces this path, stays put),
//! and (4) when the vessel's other paths are given ([`apply_edits_in_tree`]), no other path is
//! nearer to it by more than [`SHARED_MARGIN`] of the local radius (so the sister branch stays put
//! near the junction; the crease where two branches meet, about equally near both, is shared).
//! Port caps and their rims never move. Paths are smoothed over one local radius first, so that the
//! staircase of a centreline traced on a lattice does not ripple the wall.

mod path;
mod section;
#[cfg(test)]
mod tests;

pub use path::CenterlinePath;

use crate::error::{Error, Result};
use crate::geometry::mesh::Surface;
use crate::geometry::ports::WALL_TAG;
use crate::geometry::repair::self_intersections;
use crate::geometry::synth::stenosis_shape;
use nalgebra::{Point3, Vector3};
use path::Foot;
use rayon::prelude::*;
use section::cross_section;
use std::f64::consts::PI;

/// A wall vertex moves only when its distance to its nearest path point is below this many times
/// the path's inscribed radius there.
pub const BRANCH_REACH: f64 = 1.5;

/// A wall vertex nearer to another path than to the edited one by more than this fraction of the
/// local inscribed radius belongs to the other branch and stays put.
pub const SHARED_MARGIN: f64 = 0.1;

/// Largest area reduction a stenosis may ask for (fraction).
pub const MAX_AREA_REDUCTION: f64 = 0.95;

/// Largest stent oversize (fraction of the reference radius).
pub const MAX_OVERSIZE: f64 = 0.5;

/// Where an edit sits along its path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Place {
    /// An abscissa (m from the inlet along the path).
    Abscissa(f64),
    /// The path point nearest this point (m), which must lie within 3 path radii of it.
    Near(Point3<f64>),
}

/// A lumen edit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    /// Narrow the lumen over `length` (m) centred at `at`: the distance from the path falls with the
    /// raised-cosine profile of [`crate::geometry::synth::StenosisSpec`] (smooth shoulders, zero slope
    /// at both ends) to √(1 − area_reduction) of the local lumen at the throat.
    Stenosis {
        /// Centre of the narrowing (the throat).
        at: Place,
        /// Length of the narrowing, shoulders included (m).
        length: f64,
        /// Fraction of the local lumen area removed at the throat, in [0, 0.95].
        area_reduction: f64,
        /// 0 for a concentric narrowing up to 1 for one whose wall opposite `direction` stays put; the
        /// lumen centre shifts away from `direction` by eccentricity times the radius lost.
        eccentricity: f64,
        /// The side of the plaque (a vector normal to the path; projected on the plane normal to the
        /// path at each vertex); None: a fixed normal of the path at `at`. `synth::stenosis` is +x.
        direction: Option<Vector3<f64>>,
    },
    /// Restore the lumen over [from, to] to a reference radius times (1 + oversize), blended to the
    /// native lumen over one reference radius beyond each end; a stent never narrows the lumen.
    Stent {
        /// Proximal end of the stent.
        from: Place,
        /// Distal end of the stent, beyond `from`.
        to: Place,
        /// Nominal stent diameter (m); None: the healthy radius, linear from the median path radius
        /// over one local diameter proximal of `from` to that distal of `to`.
        diameter: Option<f64>,
        /// Oversize as a fraction of the reference radius, in [0, 0.5] (0.1 = 10 %).
        oversize: f64,
    },
}

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EditReport {
    /// Start of the edited stretch (m from the inlet): the stenosis's start or the stent's `from`.
    pub from: f64,
    /// End of the edited stretch (m from the inlet).
    pub to: f64,
    /// Minimal lumen radius asked for over the stretch (m): the equivalent radius of the lumen at the
    /// throat before the edit times √(1 − area_reduction), or the stent's smaller reference radius.
    pub requested_min_radius: f64,
    /// Equivalent radius √(A/π) of the smallest cross-section over the stretch after the edit (m);
    /// None when no cross-section closes around the path.
    pub achieved_min_radius: Option<f64>,
    /// Smallest lumen area over the stretch after the edit (m²), from cross-sections normal to the
    /// path about every eighth of a radius; None when none closes.
    pub min_area: Option<f64>,
    /// Number of wall vertices moved.
    pub moved_vertices: usize,
}

/// Applies `edits` in order to the wall of `surface` (triangles tagged 0 in `tags`; port caps keep
/// their tags and vertices unmoved) along `path`; vertices move radially with respect to their
/// nearest point of the path smoothed over one local radius (see the module documentation for
/// which ones); returns the new surface (same triangles and tags, moved vertices) and one report per
/// edit. Errors name the edit's field
/// (`plan.edits[k].…`) when an edit is out of range, reaches a port, or would fold the wall or make
/// it cross itself. On a branched vessel prefer [`apply_edits_in_tree`].
pub fn apply_edits(
    surface: &Surface,
    tags: &[u16],
    path: &CenterlinePath<'_>,
    edits: &[Edit],
) -> Result<(Surface, Vec<EditReport>)> {
    apply_edits_in_tree(surface, tags, path, &[], edits)
}

/// [`apply_edits`] knowing the vessel's `others` paths (to its other outlets): wall vertices nearer
/// to one of them than to `path` (by more than [`SHARED_MARGIN`] of the radius) stay put, which keeps
/// an edit near a bifurcation off the sister branch.
pub fn apply_edits_in_tree(
    surface: &Surface,
    tags: &[u16],
    path: &CenterlinePath<'_>,
    others: &[CenterlinePath<'_>],
    edits: &[Edit],
) -> Result<(Surface, Vec<EditReport>)> {
    path.check()?;
    for other in others {
        other.check()?;
    }
    // Vertices move with respect to the paths smoothed over one radius (same abscissae and radii).
    let smoothed = |p: &CenterlinePath<'_>| p.smoothed_points();
    let (points, other_points): (Vec<_>, Vec<Vec<_>>) =
        (smoothed(path), others.iter().map(smoothed).collect());
    let path = &CenterlinePath { points: &points, ..*path };
    let others: Vec<CenterlinePath<'_>> =
        others.iter().zip(&other_points).map(|(o, points)| CenterlinePath { points, ..*o }).collect();
    if tags.len() != surface.triangles.len() {
        return Err(Error::parameter(
            "tags",
            format!(
                "need one tag per triangle: {} tags for {} triangles (use ports::tag_triangles)",
                tags.len(),
                surface.triangles.len()
            ),
        ));
    }
    // The port tag of each vertex on a cap (its rim included), WALL_TAG elsewhere.
    let mut cap = vec![WALL_TAG; surface.vertices.len()];
    for (t, &tag) in surface.triangles.iter().zip(tags).filter(|(_, tag)| **tag != WALL_TAG) {
        for &v in t {
            cap[v as usize] = tag;
        }
    }
    let crossings_before = self_intersections(surface, 1).0;
    let mut current = surface.clone();
    let mut reports = Vec::with_capacity(edits.len());
    for (k, edit) in edits.iter().enumerate() {
        let reshape = Reshape::new(k, edit, path)?;
        let feet: Vec<Foot> = current.vertices.par_iter().map(|v| path.project(v)).collect();
        reshape.check_ports(k, &feet, &cap, path)?;
        let normals = wall_normals(&current, tags);
        let ((from, to), (lo, hi)) = (reshape.stretch(), reshape.reach());
        let reach = 3.0 * reshape.largest_radius(path);
        let requested_min_radius = reshape.requested_min_radius(&current, path, reach);
        let moves: Vec<(usize, Point3<f64>)> = (0..current.vertices.len())
            .into_par_iter()
            .filter(|&v| cap[v] == WALL_TAG)
            .filter_map(|v| {
                let (p, foot) = (current.vertices[v], feet[v]);
                let radius = path.radius_at(foot.s);
                let on_branch = (lo..=hi).contains(&foot.s)
                    && !foot.beyond_end
                    && foot.distance < BRANCH_REACH * radius
                    && normals[v].dot(&(p - foot.point)) > 0.0
                    && others
                        .iter()
                        .all(|o| o.project(&p).distance >= foot.distance - SHARED_MARGIN * radius);
                on_branch.then(|| reshape.moved(&p, &foot, path)).flatten().map(|q| (v, q))
            })
            .collect();
        let mut next = current.clone();
        for &(v, q) in &moves {
            next.vertices[v] = q;
        }
        check_wall(k, &current, &next, crossings_before)?;
        let min_area = smallest_section(&next, path, from, to, reach);
        reports.push(EditReport {
            from,
            to,
            requested_min_radius,
            achieved_min_radius: min_area.map(|a| (a / PI).sqrt()),
            min_area,
            moved_vertices: moves.len(),
        });
        current = next;
    }
    Ok((current, reports))
}

/// An edit checked and placed on its path.
enum Reshape {
    /// A stenosis: throat abscissa and length (m), fraction of the distance removed at the throat,
    /// eccentricity and plaque side.
    Narrow { at: f64, length: f64, drop: f64, eccentricity: f64, side: Vector3<f64> },
    /// A stent over [from, to] (m) with its reference radius (m) at each end; the blends beyond the
    /// ends are one reference radius long.
    Widen { from: f64, to: f64, reference: [f64; 2] },
}

impl Reshape {
    /// Checks edit `k` against `path` and places it.
    fn new(k: usize, edit: &Edit, path: &CenterlinePath<'_>) -> Result<Self> {
        let field = |name: &str| format!("plan.edits[{k}].{name}");
        let reshape = match *edit {
            Edit::Stenosis { at, length, area_reduction, eccentricity, direction } => {
                if !(length.is_finite() && length > 0.0) {
                    return Err(Error::parameter(
                        field("length"),
                        format!("must be a positive length in metres, got {length}"),
                    ));
                }
                if !(0.0..=MAX_AREA_REDUCTION).contains(&area_reduction) {
                    return Err(Error::parameter(
                        field("area_reduction"),
                        format!(
                            "must be a fraction in [0, {MAX_AREA_REDUCTION}] (0.75 = 75 % of the lumen area \
                             removed), got {area_reduction}"
                        ),
                    ));
                }
                if !(0.0..=1.0).contains(&eccentricity) {
                    return Err(Error::parameter(
                        field("eccentricity"),
                        format!("must be in [0, 1] (0 concentric, 1 one wall straight), got {eccentricity}"),
                    ));
                }
                let at = place(path, at, &field("at"))?;
                let tangent = path.tangent_at(at);
                let side = match direction {
                    Some(d) => {
                        let normal = d - tangent * tangent.dot(&d);
                        let finite = d.iter().all(|c| c.is_finite());
                        if !(finite && d.norm() > 0.0 && normal.norm() >= 0.5 * d.norm()) {
                            return Err(Error::parameter(
                                field("direction"),
                                format!(
                                    "must be a non-zero vector at least 30 degrees off the path, whose \
                                     direction at the stenosis is ({:.3}, {:.3}, {:.3}); got ({}, {}, {})",
                                    tangent.x, tangent.y, tangent.z, d.x, d.y, d.z
                                ),
                            ));
                        }
                        normal / normal.norm()
                    }
                    None => {
                        let seed = if tangent.x.abs() < 0.9 { Vector3::x() } else { Vector3::y() };
                        (seed - tangent * tangent.dot(&seed)).normalize()
                    }
                };
                let (lo, hi) = (at - length / 2.0, at + length / 2.0);
                within_path(path, lo, hi, &field("length"))?;
                let drop = 1.0 - (1.0 - area_reduction).sqrt();
                Reshape::Narrow { at, length, drop, eccentricity, side }
            }
            Edit::Stent { from, to, diameter, oversize } => {
                let (from, to) = (place(path, from, &field("from"))?, place(path, to, &field("to"))?);
                if to <= from {
                    return Err(Error::parameter(
                        field("to"),
                        format!(
                            "must lie beyond from along the path: from is at {:.2} mm, to at {:.2} mm from the \
                             inlet; swap them",
                            from * 1e3,
                            to * 1e3
                        ),
                    ));
                }
                if !(0.0..=MAX_OVERSIZE).contains(&oversize) {
                    return Err(Error::parameter(
                        field("oversize"),
                        format!("must be a fraction in [0, {MAX_OVERSIZE}] (0.1 = 10 %), got {oversize}"),
                    ));
                }
                let reference = match diameter {
                    Some(d) if d.is_finite() && d > 0.0 => [d / 2.0; 2],
                    Some(d) => {
                        return Err(Error::parameter(
                            field("diameter"),
                            format!("must be a positive stent diameter in metres, got {d}"),
                        ));
                    }
                    None => [healthy_radius(path, from, -1.0), healthy_radius(path, to, 1.0)],
                }
                .map(|r| r * (1.0 + oversize));
                within_path(path, from - reference[0], to + reference[1], &field("to"))?;
                Reshape::Widen { from, to, reference }
            }
        };
        Ok(reshape)
    }

    /// The stretch reported (m): the stenosis's length or the stent's ends.
    fn stretch(&self) -> (f64, f64) {
        match *self {
            Reshape::Narrow { at, length, .. } => (at - length / 2.0, at + length / 2.0),
            Reshape::Widen { from, to, .. } => (from, to),
        }
    }

    /// The stretch where vertices may move (m): the reported one plus a stent's blends.
    fn reach(&self) -> (f64, f64) {
        match *self {
            Reshape::Narrow { .. } => self.stretch(),
            Reshape::Widen { from, to, reference } => (from - reference[0], to + reference[1]),
        }
    }

    /// The largest of the path's inscribed radius over the reach and the stent's reference (m).
    fn largest_radius(&self, path: &CenterlinePath<'_>) -> f64 {
        let (lo, hi) = self.reach();
        let along = (0..=32).map(|i| path.radius_at(lo + (hi - lo) * i as f64 / 32.0));
        let reference = match *self {
            Reshape::Narrow { .. } => 0.0,
            Reshape::Widen { reference, .. } => reference[0].max(reference[1]),
        };
        along.fold(reference, f64::max)
    }

    /// The minimal radius asked for (m), measuring the lumen of `surface` at a stenosis's throat
    /// (the path radius there when no cross-section closes).
    fn requested_min_radius(&self, surface: &Surface, path: &CenterlinePath<'_>, reach: f64) -> f64 {
        match *self {
            Reshape::Narrow { at, drop, .. } => {
                let area = cross_section(surface, path.point_at(at), path.tangent_at(at), reach);
                area.map_or(path.radius_at(at), |a| (a / PI).sqrt()) * (1.0 - drop)
            }
            Reshape::Widen { reference, .. } => reference[0].min(reference[1]),
        }
    }

    /// Where wall vertex `p`, whose nearest path point is `foot`, moves; None when it stays.
    fn moved(&self, p: &Point3<f64>, foot: &Foot, path: &CenterlinePath<'_>) -> Option<Point3<f64>> {
        let off = p - foot.point;
        let s = foot.s;
        match *self {
            Reshape::Narrow { at, length, drop, eccentricity, side } => {
                let keep = 1.0 - drop * stenosis_shape((s - at) / length);
                if keep >= 1.0 {
                    return None;
                }
                // The plaque side in the plane normal to the path at this vertex.
                let tangent = path.tangent_at(s);
                let side = (side - tangent * tangent.dot(&side)).try_normalize(1e-9).unwrap_or_default();
                Some(foot.point + off * keep - side * (eccentricity * (1.0 - keep) * off.norm()))
            }
            Reshape::Widen { from, to, reference } => {
                // Full weight over [from, to], the stenosis's raised cosine over one radius beyond.
                let (weight, radius) = if s < from {
                    (stenosis_shape(0.5 * (from - s) / reference[0]), reference[0])
                } else if s > to {
                    (stenosis_shape(0.5 * (s - to) / reference[1]), reference[1])
                } else {
                    (1.0, reference[0] + (reference[1] - reference[0]) * (s - from) / (to - from))
                };
                let rho = off.norm();
                (weight > 0.0 && rho > 0.0 && rho < radius)
                    .then(|| foot.point + off * ((rho + weight * (radius - rho)) / rho))
            }
        }
    }

    /// Errors when a vertex of a port cap (rim included) of this branch lies in the reach.
    fn check_ports(&self, k: usize, feet: &[Foot], cap: &[u16], path: &CenterlinePath<'_>) -> Result<()> {
        let (lo, hi) = self.reach();
        let hit = feet
            .iter()
            .zip(cap)
            .filter(|(foot, tag)| {
                **tag != WALL_TAG
                    && foot.distance < BRANCH_REACH * path.radius_at(foot.s)
                    && (lo..=hi).contains(&foot.s)
            })
            .map(|(foot, &tag)| (foot.s, tag, (foot.s - lo).min(hi - foot.s)))
            .max_by(|a, b| a.2.total_cmp(&b.2));
        match hit {
            None => Ok(()),
            Some((s, tag, overlap)) => Err(Error::parameter(
                format!("plan.edits[{k}]"),
                format!(
                    "the edit reshapes the lumen from {:.2} to {:.2} mm from the inlet, which reaches the cap \
                     of port {} at {:.2} mm ({:.2} mm inside); port caps never move: move the edit away from \
                     the port or shorten it",
                    lo * 1e3,
                    hi * 1e3,
                    tag - 1,
                    s * 1e3,
                    overlap * 1e3
                ),
            )),
        }
    }
}

/// Abscissa (m) of `place` on `path`, checked against the path's ends (an abscissa) or its distance
/// (a point); errors name `field`.
fn place(path: &CenterlinePath<'_>, place: Place, field: &str) -> Result<f64> {
    match place {
        Place::Abscissa(s) => {
            within_path(path, s, s, field)?;
            Ok(s)
        }
        Place::Near(p) => {
            let foot = path.project(&p);
            let limit = 3.0 * path.radius_at(foot.s);
            if !p.coords.iter().all(|c| c.is_finite()) || foot.distance > limit {
                return Err(Error::parameter(
                    field,
                    format!(
                        "the point ({:.2}, {:.2}, {:.2}) mm lies {:.2} mm from the path, beyond 3 local radii \
                         ({:.2} mm); pick a point in the vessel of this branch",
                        p.x * 1e3,
                        p.y * 1e3,
                        p.z * 1e3,
                        foot.distance * 1e3,
                        limit * 1e3
                    ),
                ));
            }
            Ok(foot.s)
        }
    }
}

/// Errors naming `field` unless [lo, hi] (m) lies within the path's abscissae.
fn within_path(path: &CenterlinePath<'_>, lo: f64, hi: f64, field: &str) -> Result<()> {
    if lo.is_finite() && hi.is_finite() && lo >= path.start() && hi <= path.end() {
        return Ok(());
    }
    let spans = if lo == hi {
        format!("lies {:.2} mm from the inlet", lo * 1e3)
    } else {
        format!("spans {:.2} to {:.2} mm from the inlet", lo * 1e3, hi * 1e3)
    };
    Err(Error::parameter(
        field,
        format!(
            "the edit {spans}, beyond the path ({:.2} to {:.2} mm); move it or shorten it",
            path.start() * 1e3,
            path.end() * 1e3
        ),
    ))
}

/// The healthy radius (m) next to a stent end at `s` (m): the median path radius over one local
/// diameter on the `side` (−1 proximal, +1 distal) away from the stent.
fn healthy_radius(path: &CenterlinePath<'_>, s: f64, side: f64) -> f64 {
    let diameter = 2.0 * path.radius_at(s);
    let mut radii: Vec<f64> = (1..=9)
        .map(|i| path.radius_at((s + side * diameter * i as f64 / 9.0).clamp(path.start(), path.end())))
        .collect();
    radii.sort_by(f64::total_cmp);
    radii[radii.len() / 2]
}

/// Area-weighted outward normal of each vertex over the wall triangles (zero off the wall).
fn wall_normals(surface: &Surface, tags: &[u16]) -> Vec<Vector3<f64>> {
    let mut normals = vec![Vector3::zeros(); surface.vertices.len()];
    for (t, _) in surface.triangles.iter().zip(tags).filter(|(_, tag)| **tag == WALL_TAG) {
        let p = t.map(|v| surface.vertices[v as usize]);
        let n = (p[1] - p[0]).cross(&(p[2] - p[0]));
        for &v in t {
            normals[v as usize] += n;
        }
    }
    normals
}

/// Errors naming edit `k` when `after` turns a triangle of `before` over (or flattens it) or crosses
/// itself more often than the input (`crossings_before`).
fn check_wall(k: usize, before: &Surface, after: &Surface, crossings_before: usize) -> Result<()> {
    let normal = |s: &Surface, t: &[u32; 3]| {
        let p = t.map(|v| s.vertices[v as usize]);
        (p[1] - p[0]).cross(&(p[2] - p[0]))
    };
    let folded = before.triangles.iter().find(|t| {
        let (n0, n1) = (normal(before, t), normal(after, t));
        n0 != n1 && n0.dot(&n1) <= 1e-6 * n0.norm_squared()
    });
    let at = match folded {
        Some(t) => Some(("folds", after.vertices[t[0] as usize])),
        None => {
            let (count, places) = self_intersections(after, 1);
            (count > crossings_before).then(|| places.first().map(|&p| ("crosses itself", p))).flatten()
        }
    };
    match at {
        None => Ok(()),
        Some((what, p)) => Err(Error::parameter(
            format!("plan.edits[{k}]"),
            format!(
                "the edited wall {what} near ({:.2}, {:.2}, {:.2}) mm; lengthen the edit, lower its area \
                 reduction or eccentricity, or keep it clear of other branches",
                p.x * 1e3,
                p.y * 1e3,
                p.z * 1e3
            ),
        )),
    }
}

/// The smallest lumen area (m²) over [from, to] (m) of `surface`, from cross-sections normal to the
/// path about every eighth of the local radius (at most 400), triangles within `reach` (m) of the path.
fn smallest_section(
    surface: &Surface,
    path: &CenterlinePath<'_>,
    from: f64,
    to: f64,
    reach: f64,
) -> Option<f64> {
    let step = path.radius_at((from + to) / 2.0) / 8.0;
    let n = ((to - from) / step).ceil().clamp(1.0, 400.0) as usize;
    (0..=n)
        .into_par_iter()
        .filter_map(|i| {
            let s = from + (to - from) * i as f64 / n as f64;
            cross_section(surface, path.point_at(s), path.tangent_at(s), reach)
        })
        .reduce_with(f64::min)
}
