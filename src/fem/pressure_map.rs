//! The flow's wall pressure as the wall load: a `pressure` array (Pa; point data, or cell data
//! averaged to the points) read from a `wall.vtp` (m), moved to each lumen vertex of the wall mesh
//! from the nearest point of the file (the flow and the wall share the lumen surface, so the
//! points coincide; a far nearest point means another surface or other units and is refused).

use crate::error::{Error, Result};
use crate::geometry::Surface;
use crate::io::vtk::write_surface_vtp;
use nalgebra::Point3;
use std::collections::HashMap;
use std::path::Path;
use vtkio::IOBuffer;
use vtkio::model::{Attribute, Attributes, DataArray, DataSet, ElementType};

/// Name of the pressure array looked for (point data first, then cell data).
pub const PRESSURE_ARRAY: &str = "pressure";

/// Points (m) and pressures (Pa) of a `wall.vtp`.
pub fn read_wall_pressure(path: &Path) -> Result<(Vec<Point3<f64>>, Vec<f64>)> {
    let bad = |m: String| Error::input(path, m);
    let vtk = vtkio::Vtk::import(path).map_err(|e| bad(format!("not a readable VTK XML file ({e})")))?;
    let DataSet::PolyData { pieces, .. } = vtk.data else {
        return Err(bad("is not PolyData; pass the wall.vtp a flow run wrote".into()));
    };
    let (mut points, mut pressure) = (Vec::new(), Vec::new());
    for piece in pieces {
        let piece =
            piece.into_loaded_piece_data(Some(path)).map_err(|e| bad(format!("unreadable piece: {e}")))?;
        let coords: Vec<f64> =
            piece.points.cast_into::<f64>().ok_or_else(|| bad("points are not numeric".into()))?;
        let n = coords.len() / 3;
        let find = |arrays: &[Attribute]| {
            arrays.iter().find_map(|a| match a {
                Attribute::DataArray(d) if d.name.eq_ignore_ascii_case(PRESSURE_ARRAY) => {
                    d.data.clone().cast_into::<f64>()
                }
                _ => None,
            })
        };
        let values = if let Some(v) = find(&piece.data.point) {
            v
        } else if let Some(cell) = find(&piece.data.cell) {
            // Average the cells around each point.
            let polys = piece.polys.ok_or_else(|| bad("has cell pressure but no polygons".into()))?;
            let (connectivity, offsets) = polys.into_xml();
            let (mut sum, mut count) = (vec![0.0; n], vec![0u32; n]);
            let mut start = 0usize;
            for (c, &end) in offsets.iter().enumerate() {
                for &v in connectivity.get(start..end as usize).unwrap_or(&[]) {
                    if let (Some(s), Some(p)) = (sum.get_mut(v as usize), cell.get(c)) {
                        *s += p;
                        count[v as usize] += 1;
                    }
                }
                start = end as usize;
            }
            sum.iter().zip(&count).map(|(s, &k)| if k > 0 { s / f64::from(k) } else { f64::NAN }).collect()
        } else {
            return Err(bad(format!(
                "has no `{PRESSURE_ARRAY}` array (point or cell data, Pa); run the flow first or name the array"
            )));
        };
        if values.len() != n {
            return Err(bad(format!("`{PRESSURE_ARRAY}` has {} values for {n} points", values.len())));
        }
        for (p, v) in coords.chunks_exact(3).zip(values) {
            if v.is_finite() {
                points.push(Point3::new(p[0], p[1], p[2]));
                pressure.push(v);
            }
        }
    }
    if points.is_empty() {
        return Err(bad(format!("has no point with a finite `{PRESSURE_ARRAY}`")));
    }
    Ok((points, pressure))
}

/// The pressure (Pa) at every vertex of `surface`: that of the nearest of `points`. Errors when a
/// vertex lies farther than 5 % of the surface's size from every point (another surface or units).
pub fn map_to_surface(
    surface: &Surface,
    points: &[Point3<f64>],
    pressure: &[f64],
    origin: &Path,
) -> Result<Vec<f64>> {
    let (lo, hi) = points
        .iter()
        .fold((Point3::from([f64::INFINITY; 3]), Point3::from([f64::NEG_INFINITY; 3])), |(lo, hi), p| {
            (lo.inf(p), hi.sup(p))
        });
    let size = (hi - lo).norm().max(f64::MIN_POSITIVE);
    // Buckets of about 8 points each.
    let h = size / (points.len() as f64 / 8.0).cbrt().max(1.0);
    let key = |p: &Point3<f64>| ((p - lo) / h).map(|x| x.floor() as i64);
    let mut grid: HashMap<[i64; 3], Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        let k = key(p);
        grid.entry([k.x, k.y, k.z]).or_default().push(i);
    }
    let (slo, shi) = surface
        .vertices
        .iter()
        .fold((Point3::from([f64::INFINITY; 3]), Point3::from([f64::NEG_INFINITY; 3])), |(lo, hi), p| {
            (lo.inf(p), hi.sup(p))
        });
    let limit = 0.05 * (shi - slo).norm();
    let reach = (limit / h).ceil() as i64 + 1;
    surface
        .vertices
        .iter()
        .map(|v| {
            let k = key(v);
            let mut best = (f64::INFINITY, 0usize);
            // Grow the searched cube until it holds a point closer than its inner radius.
            for ring in 0..=reach {
                for dx in -ring..=ring {
                    for dy in -ring..=ring {
                        for dz in -ring..=ring {
                            if dx.abs().max(dy.abs()).max(dz.abs()) != ring {
                                continue;
                            }
                            for &i in grid.get(&[k.x + dx, k.y + dy, k.z + dz]).into_iter().flatten() {
                                let d = (points[i] - v).norm();
                                if d < best.0 {
                                    best = (d, i);
                                }
                            }
                        }
                    }
                }
                if best.0 <= ring as f64 * h {
                    break;
                }
            }
            if best.0 > limit {
                return Err(Error::input(
                    origin,
                    format!(
                        "lumen vertex at ({:.3}, {:.3}, {:.3}) mm has no pressure point within {:.3} mm; the \
                         file must hold the same lumen surface, in metres",
                        v.x * 1e3,
                        v.y * 1e3,
                        v.z * 1e3,
                        limit * 1e3
                    ),
                ));
            }
            Ok(pressure[best.1])
        })
        .collect()
}

/// Writes `surface` (m) with a `pressure` array (Pa) as a `.vtp`, atomically: point data when it
/// has one value per vertex, cell data when one per triangle. The format [`read_wall_pressure`] reads.
pub fn write_pressure_vtp(path: &Path, surface: &Surface, pressure: &[f64]) -> Result<()> {
    let array = vec![Attribute::DataArray(DataArray {
        name: PRESSURE_ARRAY.into(),
        elem: ElementType::Scalars { num_comp: 1, lookup_table: None },
        data: IOBuffer::F64(pressure.to_vec()),
    })];
    let data = if pressure.len() == surface.vertices.len() {
        Attributes { point: array, cell: vec![] }
    } else if pressure.len() == surface.triangles.len() {
        Attributes { point: vec![], cell: array }
    } else {
        return Err(Error::parameter(
            PRESSURE_ARRAY,
            format!(
                "has {} values; give one per vertex ({}) or per triangle ({})",
                pressure.len(),
                surface.vertices.len(),
                surface.triangles.len()
            ),
        ));
    };
    write_surface_vtp(path, surface, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::synth::{TubeSpec, tube};

    /// A wall.vtp with point pressure 1000 + 1e4 z Pa maps exactly onto the same surface; cell
    /// pressure maps to the average of the cells around each vertex.
    #[test]
    fn pressure_from_wall_vtp_maps_onto_the_lumen_vertices() {
        let (s, _) = tube(&TubeSpec { radius: 2e-3, length: 10e-3 }, 16).unwrap();
        let exact: Vec<f64> = s.vertices.iter().map(|p| 1000.0 + 1e4 * p.z).collect();
        let dir = tempfile::tempdir().unwrap();
        for cell_data in [false, true] {
            let values: Vec<f64> = if cell_data {
                s.triangles.iter().map(|t| t.iter().map(|&v| exact[v as usize]).sum::<f64>() / 3.0).collect()
            } else {
                exact.clone()
            };
            let path = dir.path().join("wall.vtp");
            write_pressure_vtp(&path, &s, &values).unwrap();
            let (points, p) = read_wall_pressure(&path).unwrap();
            let mapped = map_to_surface(&s, &points, &p, &path).unwrap();
            let err = mapped.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            // Cell averaging smooths the linear field by at most half a ring spacing of gradient.
            let bound = if cell_data { 1e4 * 1e-3 } else { 1e-9 };
            assert!(err < bound, "cell data {cell_data}: {err}");
        }
        let far: Vec<Point3<f64>> = s.vertices.iter().map(|p| p * 1e3).collect();
        let e = map_to_surface(&s, &far, &exact, Path::new("wall.vtp")).unwrap_err().to_string();
        assert!(e.contains("same lumen surface"), "{e}");
        let e = write_pressure_vtp(&dir.path().join("x.vtp"), &s, &[1.0; 3]).unwrap_err().to_string();
        assert!(e.starts_with("pressure"), "{e}");
    }
}
