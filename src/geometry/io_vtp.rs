//! VTK XML PolyData (`.vtp`) surfaces: polygons (fan-triangulated) and, when present, an integer
//! face-id cell array (SimVascular's `ModelFaceID`, `CapID`, `face_id`, or hemotwin's own `port_id`).
//! Field data and every other array are ignored, so nothing of the input's metadata is carried on.

use super::io_stl::Units;
use super::mesh::Surface;
use crate::error::{Error, Result};
use nalgebra::Point3;
use std::path::Path;
use vtkio::model::{Attribute, DataSet};

/// Names of cell arrays read as face ids, in order of preference (compared without case).
pub const FACE_ID_ARRAYS: [&str; 5] = ["ModelFaceID", "CapID", "FaceID", "face_id", "port_id"];

/// Reads the surface of a `.vtp` file in `units`, with the face id of every triangle when the file
/// has one of the [`FACE_ID_ARRAYS`].
pub fn read_vtp(path: &Path, units: Units) -> Result<(Surface, Option<Vec<i32>>)> {
    let bad = |m: String| Error::input(path, m);
    let vtk = vtkio::Vtk::import(path)
        .map_err(|e| bad(format!("not a readable VTK XML file ({e}); export the surface as .vtp or .stl")))?;
    let DataSet::PolyData { pieces, .. } = vtk.data else {
        return Err(bad("is not PolyData (a surface); extract the surface (e.g. ParaView's Extract Surface) and save it as .vtp".into()));
    };
    let mut surface = Surface::default();
    let mut ids: Option<Vec<i32>> = None;
    let mut all_have_ids = true;
    for piece in pieces {
        let piece =
            piece.into_loaded_piece_data(Some(path)).map_err(|e| bad(format!("unreadable piece: {e}")))?;
        if piece.strips.as_ref().is_some_and(|s| s.num_cells() > 0) {
            return Err(bad(
                "has triangle strips; convert them to triangles first (ParaView: Triangulate)".into()
            ));
        }
        let coords: Vec<f64> =
            piece.points.cast_into::<f64>().ok_or_else(|| bad("points are not numeric".into()))?;
        let base = surface.vertices.len() as u64;
        for (k, p) in coords.chunks_exact(3).enumerate() {
            if p.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "point {k} has a non-finite coordinate ({}, {}, {})",
                    p[0], p[1], p[2]
                )));
            }
            surface.vertices.push(Point3::new(p[0], p[1], p[2]) * units.scale());
        }
        let n_points = (coords.len() / 3) as u64;
        let Some(polys) = piece.polys else { continue };
        let (connectivity, offsets) = polys.into_xml();
        let face_ids = piece.data.cell.iter().find_map(|a| match a {
            Attribute::DataArray(d) if FACE_ID_ARRAYS.iter().any(|n| n.eq_ignore_ascii_case(&d.name)) => {
                d.data.cast_into::<i32>()
            }
            _ => None,
        });
        all_have_ids &= face_ids.is_some();
        let mut start = 0usize;
        for (cell, &end) in offsets.iter().enumerate() {
            let poly = connectivity
                .get(start..end as usize)
                .ok_or_else(|| bad(format!("polygon {cell} has out-of-range offsets")))?;
            if poly.len() < 3 {
                return Err(bad(format!(
                    "polygon {cell} has {} vertices; a surface needs triangles or polygons",
                    poly.len()
                )));
            }
            if let Some(&v) = poly.iter().find(|&&v| v >= n_points) {
                return Err(bad(format!("polygon {cell} refers to point {v} of {n_points}")));
            }
            for k in 1..poly.len() - 1 {
                surface.triangles.push([poly[0], poly[k], poly[k + 1]].map(|v| (base + v) as u32));
                if let Some(f) = &face_ids {
                    ids.get_or_insert_with(Vec::new).push(f.get(cell).copied().unwrap_or(0));
                }
            }
            start = end as usize;
        }
    }
    if surface.triangles.is_empty() {
        return Err(bad("has no polygons; a vessel surface is needed".into()));
    }
    Ok((surface, ids.filter(|_| all_have_ids)))
}
