//! The files of a run, from plain fields: frames (fluid.pvd + fluid_NNNNNNNN.vti), the lumen surface
//! (wall.vtp, ports.vtp), the centerlines (centerline.vtp), tables (CSV) and summary.json, each
//! written atomically.

use crate::atomic::{write_atomic, write_bytes_atomic};
use crate::error::{Error, Result};
use crate::geometry::Surface;
use crate::io::vtk::{
    ImageGrid, PointField, PvdEntry, write_pvd, write_vti, write_vtp, write_vtp_lines, write_vtp_with_ports,
};
use nalgebra::Point3;
use std::path::Path;

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    write_bytes_atomic(path, &json)
}

/// Writes a CSV table of numbers (10 significant digits) under `header`, atomically.
pub fn write_table(path: &Path, header: &[String], rows: &[Vec<f64>]) -> Result<()> {
    write_noted_table(path, &[], header, rows)
}

/// Writes a CSV table as [`write_table`] does, after `notes`, one `# ` comment line each (what the
/// columns are measured from).
pub fn write_noted_table(path: &Path, notes: &[String], header: &[String], rows: &[Vec<f64>]) -> Result<()> {
    write_atomic(path, |w| {
        for note in notes {
            writeln!(w, "# {note}")?;
        }
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(header)?;
        for row in rows {
            csv.write_record(row.iter().map(|v| format!("{v:.9e}")))?;
        }
        csv.flush()
    })
}

/// A CSV table of numbers: its header and rows.
pub type Table = (Vec<String>, Vec<Vec<f64>>);

/// The header and rows of a CSV table of numbers written by [`write_table`]; None when the file
/// does not exist.
pub fn read_table(path: &Path) -> Result<Option<Table>> {
    let mut reader = match csv::Reader::from_path(path) {
        Ok(r) => r,
        Err(e) if matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound) => {
            return Ok(None);
        }
        Err(e) => return Err(Error::input(path, e.to_string())),
    };
    let header: Vec<String> =
        reader.headers().map_err(|e| Error::input(path, e.to_string()))?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::input(path, format!("line {}: {e}", line + 2)))?;
        rows.push(record.iter().map(|x| x.trim().parse().unwrap_or(f64::NAN)).collect());
    }
    Ok(Some((header, rows)))
}

/// The file name of the frame of `step`.
pub fn frame_name(step: u64) -> String {
    format!("fluid_{step:08}.vti")
}

/// One frame of the flow on the lattice's grid: velocity (m/s), pressure (Pa) and the fluid mask
/// per grid node.
pub struct Frame<'a> {
    /// The grid.
    pub grid: &'a ImageGrid,
    /// Velocity per node (m/s).
    pub velocity: &'a [[f32; 3]],
    /// Pressure per node (Pa).
    pub pressure: &'a [f32],
    /// 1 on fluid nodes.
    pub fluid: &'a [u8],
}

/// Writes `frame` as the .vti of `step` at `time` (s) and rewrites fluid.pvd with it added to
/// `frames`.
pub fn write_frame(
    dir: &Path,
    frame: &Frame<'_>,
    step: u64,
    time: f64,
    frames: &mut Vec<PvdEntry>,
) -> Result<()> {
    let name = frame_name(step);
    write_vti(
        &dir.join(&name),
        frame.grid,
        &[
            PointField::Vector { name: "velocity", values: frame.velocity },
            PointField::Scalar { name: "pressure", values: frame.pressure },
            PointField::Mask { name: "fluid", values: frame.fluid },
        ],
    )?;
    frames.push(PvdEntry { time, file: name });
    write_pvd(&dir.join("fluid.pvd"), frames)
}

/// The frames of `dir` up to step `at` (oldest first), removing later ones: a run continued from a
/// checkpoint at `at` writes those anew, and a fresh run (`at` = 0) all of them.
pub fn keep_frames_until(dir: &Path, at: u64, dt: f64) -> Result<Vec<PvdEntry>> {
    let mut steps = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(step) = name.strip_prefix("fluid_").and_then(|n| n.strip_suffix(".vti")) else { continue };
        let Ok(step) = step.parse::<u64>() else { continue };
        if step <= at && at > 0 {
            steps.push(step);
        } else {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    steps.sort_unstable();
    Ok(steps.into_iter().map(|s| PvdEntry { time: s as f64 * dt, file: frame_name(s) }).collect())
}

/// The lumen surface of a run: triangles tagged by port, and the ports' names and roles.
pub struct LumenSurface<'a> {
    /// The surface (m).
    pub surface: &'a Surface,
    /// Per triangle: -1 on the wall, k on the cap of port k.
    pub port_id: &'a [i32],
    /// Per triangle: 1 on an added flow extension.
    pub flow_extension: &'a [i32],
    /// Each port's name and role ("inlet" or "outlet").
    pub ports: &'a [(&'a str, &'a str)],
}

/// Writes wall.vtp (the surface with `port_id` and `flow_extension` per triangle and `point_fields`)
/// and ports.vtp (the port caps).
pub fn write_surfaces(dir: &Path, lumen: &LumenSurface<'_>, point_fields: Vec<PointField<'_>>) -> Result<()> {
    write_vtp_with_ports(
        &dir.join("wall.vtp"),
        lumen.surface,
        &[("port_id", lumen.port_id), ("flow_extension", lumen.flow_extension)],
        point_fields,
        lumen.ports,
    )?;
    let (caps, cap_ids): (Vec<[u32; 3]>, Vec<i32>) = lumen
        .surface
        .triangles
        .iter()
        .zip(lumen.port_id)
        .filter(|(_, id)| **id >= 0)
        .map(|(t, id)| (*t, *id))
        .unzip();
    let ports = Surface { vertices: lumen.surface.vertices.clone(), triangles: caps };
    write_vtp(&dir.join("ports.vtp"), &ports, &[("port_id", &cap_ids)], Vec::new())
}

/// One centerline: its points (m), maximal inscribed radius (m) and abscissa (m from the inlet) at
/// each, and the port index of the outlet it ends at.
pub struct CenterlineField<'a> {
    /// Points (m).
    pub points: &'a [Point3<f64>],
    /// Maximal inscribed sphere radius at each point (m).
    pub radius: &'a [f64],
    /// Arc length from the inlet at each point (m).
    pub abscissa: &'a [f64],
    /// The outlet's port index.
    pub branch: usize,
}

/// Writes `centerline.vtp`: one polyline per line with point arrays `radius` and `abscissa` (m)
/// and the cell array `branch_id`. Nothing is written for no lines.
pub fn write_centerlines(dir: &Path, lines: &[CenterlineField<'_>]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let radius = lines.iter().flat_map(|l| l.radius.iter().map(|&r| r as f32)).collect();
    let abscissa = lines.iter().flat_map(|l| l.abscissa.iter().map(|&s| s as f32)).collect();
    let branch = lines.iter().map(|l| l.branch as i32).collect();
    let points: Vec<Vec<Point3<f64>>> = lines.iter().map(|l| l.points.to_vec()).collect();
    write_vtp_lines(
        &dir.join("centerline.vtp"),
        &points,
        &[("radius", radius), ("abscissa", abscissa)],
        &[("branch_id", branch)],
    )
}
