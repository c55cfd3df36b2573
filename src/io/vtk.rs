//! ParaView-ready VTK output: XML ImageData (`.vti`) files of lattice point fields, and ParaView
//! collection (`.pvd`) files that tie a series of them to physical times.
//!
//! Arrays are stored inline as base64 binary (little endian, UInt64 block headers), zlib-compressed
//! block by block. Coordinates (origin, spacing) are stored as f32, as vtkio's model holds them.

use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::geometry::Surface;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use vtkio::model::{
    Attribute, Attributes, ByteOrder, DataArray, DataSet, ElementType, Extent, ImageDataPiece, Piece,
    PolyDataPiece, Version, VertexNumbers,
};
use vtkio::xml::Compressor;
use vtkio::{IOBuffer, Vtk};

/// zlib level used for `.vti` arrays (1 fastest .. 9 smallest; 5 is vtkio's "balanced").
pub(crate) const ZLIB_LEVEL: u32 = 5;

/// A uniform grid of points in SI units (the lattice's bounding box).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageGrid {
    /// Position of the first point (index 0, 0, 0), m.
    pub origin: [f64; 3],
    /// Distance between neighbouring points along every axis, m.
    pub spacing: f64,
    /// Number of points along x, y and z.
    pub dims: [usize; 3],
}

impl ImageGrid {
    /// Number of points in the grid (product of `dims`), or `None` on overflow.
    pub fn num_points(&self) -> Option<usize> {
        self.dims.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n))
    }
}

/// One point-data array on an ImageGrid, x fastest then y then z.
#[derive(Clone, Copy, Debug)]
pub enum PointField<'a> {
    /// One f32 per point (e.g. pressure in Pa, density), in the caller's units.
    Scalar {
        /// Array name shown in ParaView.
        name: &'a str,
        /// One value per point.
        values: &'a [f32],
    },
    /// Three f32 components per point (e.g. velocity in m/s), in the caller's units.
    Vector {
        /// Array name shown in ParaView.
        name: &'a str,
        /// One `[x, y, z]` per point.
        values: &'a [[f32; 3]],
    },
    /// One u8 per point (e.g. node type or a 0/1 flag), dimensionless.
    Mask {
        /// Array name shown in ParaView.
        name: &'a str,
        /// One value per point.
        values: &'a [u8],
    },
}

impl PointField<'_> {
    /// The array's name.
    pub fn name(&self) -> &str {
        match self {
            PointField::Scalar { name, .. }
            | PointField::Vector { name, .. }
            | PointField::Mask { name, .. } => name,
        }
    }

    /// Number of points the array covers (values, not components).
    pub fn len(&self) -> usize {
        match self {
            PointField::Scalar { values, .. } => values.len(),
            PointField::Vector { values, .. } => values.len(),
            PointField::Mask { values, .. } => values.len(),
        }
    }

    /// True when the array holds no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The array as a vtkio point attribute (copies the data).
    fn to_attribute(self) -> Attribute {
        let (name, elem, data) = match self {
            PointField::Scalar { name, values } => (name, scalars(), IOBuffer::F32(values.to_vec())),
            PointField::Vector { name, values } => {
                (name, ElementType::Vectors, IOBuffer::F32(values.iter().flatten().copied().collect()))
            }
            PointField::Mask { name, values } => (name, scalars(), IOBuffer::U8(values.to_vec())),
        };
        Attribute::DataArray(DataArray { name: name.to_string(), elem, data })
    }
}

/// The element type of a one-component scalar array.
fn scalars() -> ElementType {
    ElementType::Scalars { num_comp: 1, lookup_table: None }
}

/// Checks that `grid` is usable and every field has one value per grid point and a unique,
/// non-empty name; returns the number of points.
fn validate(grid: &ImageGrid, fields: &[PointField]) -> Result<usize> {
    if grid.dims.contains(&0) || grid.dims.iter().any(|&n| i32::try_from(n).is_err()) {
        return Err(Error::parameter(
            "vti.dims",
            format!("{:?}: every axis needs between 1 and {} points", grid.dims, i32::MAX),
        ));
    }
    let n = grid
        .num_points()
        .ok_or_else(|| Error::parameter("vti.dims", format!("{:?}: too many points", grid.dims)))?;
    if !(grid.spacing.is_finite() && grid.spacing > 0.0) {
        return Err(Error::parameter(
            "vti.spacing",
            format!("{} m: the spacing must be finite and positive", grid.spacing),
        ));
    }
    if grid.origin.iter().any(|x| !x.is_finite()) {
        return Err(Error::parameter(
            "vti.origin",
            format!("{:?} m: the origin must be finite", grid.origin),
        ));
    }
    let mut seen = HashSet::new();
    for field in fields {
        let name = field.name();
        if name.is_empty() {
            return Err(Error::parameter("vti.field", "every array needs a non-empty name"));
        }
        if !seen.insert(name) {
            return Err(Error::parameter(name, "two arrays have this name; rename one"));
        }
        if field.len() != n {
            return Err(Error::parameter(
                name,
                format!(
                    "has {} values but the {}x{}x{} grid has {n} points",
                    field.len(),
                    grid.dims[0],
                    grid.dims[1],
                    grid.dims[2]
                ),
            ));
        }
    }
    Ok(n)
}

/// Turns a vtkio error met while writing into an `std::io::Error`, keeping OS errors as they are.
pub(crate) fn xml_to_io(e: vtkio::xml::Error) -> std::io::Error {
    match e {
        vtkio::xml::Error::IO(e) => e,
        e => std::io::Error::other(e),
    }
}

/// Writes `fields` on `grid` to `path` as a VTK XML ImageData (`.vti`) file, atomically, creating
/// the folder if needed. Arrays are inline base64 binary, zlib-compressed in 32 KiB blocks.
pub fn write_vti(path: &Path, grid: &ImageGrid, fields: &[PointField]) -> Result<()> {
    validate(grid, fields)?;
    // `validate` guarantees every dimension fits in i32 and is at least 1.
    let range = |n: usize| 0..=(n as i32 - 1);
    let extent = Extent::Ranges([range(grid.dims[0]), range(grid.dims[1]), range(grid.dims[2])]);
    let spacing = grid.spacing as f32;
    let vtk = Vtk {
        version: Version::new_xml(1, 0),
        byte_order: ByteOrder::LittleEndian,
        title: String::new(),
        file_path: None,
        data: DataSet::ImageData {
            extent: extent.clone(),
            origin: grid.origin.map(|x| x as f32),
            spacing: [spacing; 3],
            meta: None,
            pieces: vec![Piece::Inline(Box::new(ImageDataPiece {
                extent,
                data: Attributes {
                    point: fields.iter().map(|f| f.to_attribute()).collect(),
                    cell: Vec::new(),
                },
            }))],
        },
    };
    let file =
        vtk.try_into_xml_format(Compressor::ZLib, ZLIB_LEVEL).map_err(|e| Error::io(path, xml_to_io(e)))?;
    write_atomic(path, |w: &mut dyn Write| file.write(w).map_err(xml_to_io))
}

/// Writes a triangle surface (m) with integer cell arrays (one value per triangle) and float point
/// arrays as VTK XML PolyData (`.vtp`), atomically. Points are Float64, so scanner coordinates keep
/// their precision.
pub fn write_vtp(
    path: &Path,
    surface: &Surface,
    cell_fields: &[(&str, &[i32])],
    point_fields: Vec<PointField<'_>>,
) -> Result<()> {
    write_vtp_with_ports(path, surface, cell_fields, point_fields, &[])
}

/// [`write_vtp`] with the name and role (`inlet` or `outlet`) of port k as the field-data string
/// arrays `port_names` and `port_roles`, so that a `port_id` surface read back keeps its ports.
pub fn write_vtp_with_ports(
    path: &Path,
    surface: &Surface,
    cell_fields: &[(&str, &[i32])],
    point_fields: Vec<PointField<'_>>,
    ports: &[(&str, &str)],
) -> Result<()> {
    for f in &point_fields {
        if f.len() != surface.vertices.len() {
            return Err(Error::parameter(
                f.name(),
                format!("has {} values but the surface has {} vertices", f.len(), surface.vertices.len()),
            ));
        }
    }
    for (name, values) in cell_fields {
        if values.len() != surface.triangles.len() {
            return Err(Error::parameter(
                *name,
                format!(
                    "has {} values but the surface has {} triangles",
                    values.len(),
                    surface.triangles.len()
                ),
            ));
        }
    }
    let cell = cell_fields
        .iter()
        .map(|(name, values)| {
            Attribute::DataArray(DataArray {
                name: name.to_string(),
                elem: scalars(),
                data: IOBuffer::I32(values.to_vec()),
            })
        })
        .collect();
    let string_array = |name: &str, values: Vec<&str>| {
        let chars: Vec<String> =
            values.iter().flat_map(|v| v.bytes().chain([0])).map(|c| c.to_string()).collect();
        format!(
            "<DataArray type=\"String\" Name=\"{name}\" NumberOfTuples=\"{}\" format=\"ascii\">{}</DataArray>",
            values.len(),
            chars.join(" ")
        )
    };
    let field = if ports.is_empty() {
        String::new()
    } else {
        format!(
            "<FieldData>{}{}</FieldData>",
            string_array(crate::geometry::io_vtp::PORT_NAMES_ARRAY, ports.iter().map(|p| p.0).collect()),
            string_array(crate::geometry::io_vtp::PORT_ROLES_ARRAY, ports.iter().map(|p| p.1).collect())
        )
    };
    write_polydata(
        path,
        surface_piece(
            surface,
            Attributes { point: point_fields.into_iter().map(PointField::to_attribute).collect(), cell },
        ),
        &field,
    )
}

/// Writes `surface` (m) with the arrays `data` as VTK XML PolyData (`.vtp`), atomically.
pub(crate) fn write_surface_vtp(path: &Path, surface: &Surface, data: Attributes) -> Result<()> {
    write_polydata(path, surface_piece(surface, data), "")
}

/// `surface` (m) with the arrays `data` as one PolyData piece.
fn surface_piece(surface: &Surface, data: Attributes) -> PolyDataPiece {
    PolyDataPiece {
        points: IOBuffer::F64(surface.vertices.iter().flat_map(|p| [p.x, p.y, p.z]).collect()),
        verts: None,
        lines: None,
        polys: Some(VertexNumbers::XML {
            connectivity: surface.triangles.iter().flatten().map(|&v| v as u64).collect(),
            offsets: (1..=surface.triangles.len() as u64).map(|k| 3 * k).collect(),
        }),
        strips: None,
        data,
    }
}

/// Writes one PolyData piece as a compressed `.vtp`, atomically, with `field` (a `<FieldData>`
/// element, or empty) before the piece.
fn write_polydata(path: &Path, piece: PolyDataPiece, field: &str) -> Result<()> {
    let vtk = Vtk {
        version: Version::new_xml(1, 0),
        byte_order: ByteOrder::LittleEndian,
        title: String::new(),
        file_path: None,
        data: DataSet::PolyData { meta: None, pieces: vec![Piece::Inline(Box::new(piece))] },
    };
    let file =
        vtk.try_into_xml_format(Compressor::ZLib, ZLIB_LEVEL).map_err(|e| Error::io(path, xml_to_io(e)))?;
    let mut bytes = Vec::new();
    file.write(&mut bytes).map_err(|e| Error::io(path, xml_to_io(e)))?;
    let tag = b"<PolyData>";
    if let (false, Some(at)) = (field.is_empty(), bytes.windows(tag.len()).position(|w| w == tag)) {
        bytes.splice(at + tag.len()..at + tag.len(), field.bytes());
    }
    write_atomic(path, |w: &mut dyn Write| w.write_all(&bytes))
}

/// Writes polylines (m) as VTK XML PolyData (`.vtp`), atomically, with float point arrays (one value
/// per point, all lines concatenated) and integer cell arrays (one value per line).
pub fn write_vtp_lines(
    path: &Path,
    lines: &[Vec<nalgebra::Point3<f64>>],
    point_fields: &[(&str, Vec<f32>)],
    cell_fields: &[(&str, Vec<i32>)],
) -> Result<()> {
    let n_points: usize = lines.iter().map(Vec::len).sum();
    for (name, values) in point_fields {
        if values.len() != n_points {
            return Err(Error::parameter(
                *name,
                format!("has {} values for {n_points} points", values.len()),
            ));
        }
    }
    for (name, values) in cell_fields {
        if values.len() != lines.len() {
            return Err(Error::parameter(
                *name,
                format!("has {} values for {} lines", values.len(), lines.len()),
            ));
        }
    }
    let points: Vec<f64> = lines.iter().flatten().flat_map(|p| [p.x, p.y, p.z]).collect();
    let connectivity = (0..n_points as u64).collect();
    let offsets = lines.iter().scan(0u64, |end, l| {
        *end += l.len() as u64;
        Some(*end)
    });
    let array = |name: &str, data: IOBuffer| {
        Attribute::DataArray(DataArray { name: name.to_string(), elem: scalars(), data })
    };
    write_polydata(
        path,
        PolyDataPiece {
            points: IOBuffer::F64(points),
            verts: None,
            lines: Some(VertexNumbers::XML { connectivity, offsets: offsets.collect() }),
            polys: None,
            strips: None,
            data: Attributes {
                point: point_fields.iter().map(|(n, v)| array(n, IOBuffer::F32(v.clone()))).collect(),
                cell: cell_fields.iter().map(|(n, v)| array(n, IOBuffer::I32(v.clone()))).collect(),
            },
        },
        "",
    )
}

/// Point arrays read back from a `.vti` file: name and values as f32, vector components interleaved.
pub type NamedArrays = Vec<(String, Vec<f32>)>;

/// One time step of a ParaView collection: a data file and its physical time.
#[derive(Clone, Debug, PartialEq)]
pub struct PvdEntry {
    /// Physical time of the step, s.
    pub time: f64,
    /// Data file name, relative to the `.pvd` file's folder.
    pub file: String,
}

/// Escapes `s` for use inside a double-quoted XML attribute.
fn xml_attr_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes a ParaView collection (`.pvd`) file listing `entries` with their times (s), atomically,
/// creating the folder if needed. Times are written in shortest round-trip form.
pub fn write_pvd(path: &Path, entries: &[PvdEntry]) -> Result<()> {
    if let Some(e) = entries.iter().find(|e| !e.time.is_finite()) {
        return Err(Error::parameter("pvd.time", format!("{}: time {} s is not finite", e.file, e.time)));
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n\
         <VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n  <Collection>\n",
    );
    for e in entries {
        xml.push_str(&format!(
            "    <DataSet timestep=\"{:e}\" group=\"\" part=\"0\" file=\"{}\"/>\n",
            e.time,
            xml_attr_escape(&e.file)
        ));
    }
    xml.push_str("  </Collection>\n</VTKFile>\n");
    write_atomic(path, |w: &mut dyn Write| w.write_all(xml.as_bytes()))
}

/// Reads a `.vti` file (as written by [`write_vti`]) back: the grid (origin and spacing in m, at
/// the f32 precision stored) and every point array as f32, vector components interleaved
/// (x, y, z per point) and u8 masks converted.
pub fn read_vti(path: &Path) -> Result<(ImageGrid, NamedArrays)> {
    let vtk = Vtk::import(path).map_err(|e| match e {
        vtkio::Error::IO(e) | vtkio::Error::XML(vtkio::xml::Error::IO(e)) => Error::io(path, e),
        e => Error::input(path, format!("not a readable VTK ImageData file: {e}")),
    })?;
    let DataSet::ImageData { extent, origin, spacing, pieces, .. } = vtk.data else {
        return Err(Error::input(path, "not an ImageData data set; write it with write_vti"));
    };
    let [sx, sy, sz] = spacing;
    if sx != sy || sx != sz {
        return Err(Error::input(
            path,
            format!("spacing {spacing:?} is not isotropic; hemotwin grids use one spacing"),
        ));
    }
    let grid = ImageGrid {
        origin: origin.map(f64::from),
        spacing: f64::from(sx),
        dims: extent.into_dims().map(|n| n as usize),
    };
    let n = grid.num_points().ok_or_else(|| Error::input(path, "grid too large"))?;
    let mut arrays = Vec::new();
    for piece in pieces {
        let piece = piece
            .into_loaded_piece_data(Some(path))
            .map_err(|e| Error::input(path, format!("cannot load piece: {e}")))?;
        for attr in piece.data.point {
            let (name, data) = match attr {
                Attribute::DataArray(DataArray { name, data, .. }) => (name, data),
                Attribute::Field { name, .. } => {
                    return Err(Error::input(path, format!("point field data `{name}` is not supported")));
                }
            };
            let values = data.cast_into::<f32>().ok_or_else(|| {
                Error::input(path, format!("array `{name}` has a type that is not numeric"))
            })?;
            if n == 0 || values.len() % n != 0 {
                return Err(Error::input(
                    path,
                    format!("array `{name}` has {} values for {n} points", values.len()),
                ));
            }
            arrays.push((name, values));
        }
    }
    Ok((grid, arrays))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(dims: [usize; 3]) -> ImageGrid {
        ImageGrid { origin: [-0.5, 0.25, 1.0e-3], spacing: 2.0e-4, dims }
    }

    fn sample(n: usize) -> (Vec<f32>, Vec<[f32; 3]>, Vec<u8>) {
        let s = (0..n).map(|i| 1.0e5 + (i as f32) * 0.37).collect();
        let v = (0..n).map(|i| [i as f32 * 0.01, -(i as f32), (i as f32).sin()]).collect();
        let m = (0..n).map(|i| (i % 3) as u8).collect();
        (s, v, m)
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn round_trip(dims: [usize; 3]) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fluid_0000.vti");
        let g = grid(dims);
        let n = g.num_points().unwrap();
        let (s, v, m) = sample(n);
        let fields = [
            PointField::Scalar { name: "pressure", values: &s },
            PointField::Vector { name: "velocity", values: &v },
            PointField::Mask { name: "node_type", values: &m },
        ];
        write_vti(&path, &g, &fields).unwrap();
        let bytes = std::fs::metadata(&path).unwrap().len() as usize;
        let (g2, arrays) = read_vti(&path).unwrap();
        assert_eq!(g2.dims, g.dims);
        assert_eq!(g2.spacing, f64::from(g.spacing as f32));
        for k in 0..3 {
            assert_eq!(g2.origin[k], f64::from(g.origin[k] as f32));
            assert!((g2.origin[k] - g.origin[k]).abs() <= 1e-7 * g.origin[k].abs());
        }
        assert!((g2.spacing - g.spacing).abs() <= 1e-7 * g.spacing);
        let names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["pressure", "velocity", "node_type"]);
        assert_eq!(arrays[0].1, s);
        assert_eq!(arrays[1].1, v.iter().flatten().copied().collect::<Vec<f32>>());
        assert_eq!(arrays[2].1, m.iter().map(|&x| f32::from(x)).collect::<Vec<f32>>());
        assert_eq!(files_in(dir.path()), ["fluid_0000.vti"]);
        bytes
    }

    #[test]
    fn vti_round_trip_keeps_grid_and_scalar_vector_mask_values() {
        let bytes = round_trip([5, 4, 3]);
        println!("5x4x3 grid, 3 arrays: {bytes} bytes");
    }

    #[test]
    fn vti_round_trip_holds_for_multi_block_and_whole_block_arrays() {
        // 41x37x23 spans several 32 KiB zlib blocks; 32x32x32 makes every array a whole number
        // of blocks (vtkio then writes an extra empty block, which both vtkio and VTK 9.7 read).
        for dims in [[41, 37, 23], [32, 32, 32]] {
            let bytes = round_trip(dims);
            let raw = dims.iter().product::<usize>() * (4 + 12 + 1);
            println!("{dims:?}: {bytes} bytes on disk for {raw} raw bytes");
        }
    }

    #[test]
    fn vti_header_has_what_paraview_needs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.vti");
        let g = grid([5, 4, 3]);
        let (s, v, m) = sample(60);
        let fields = [
            PointField::Scalar { name: "pressure", values: &s },
            PointField::Vector { name: "velocity", values: &v },
            PointField::Mask { name: "node_type", values: &m },
        ];
        write_vti(&path, &g, &fields).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        println!("first 400 bytes:\n{}", &text[..text.len().min(400)]);
        assert!(text.contains("type=\"ImageData\""));
        assert!(text.contains("byte_order=\"LittleEndian\""));
        assert!(text.contains("WholeExtent=\"0 4 0 3 0 2\""));
        assert!(text.contains("Extent=\"0 4 0 3 0 2\""));
        assert!(text.contains("Origin=\"-0.5 0.25 0.001\""));
        assert!(text.contains("Spacing=\"0.0002 0.0002 0.0002\""));
        assert!(text.contains("compressor=\"vtkZLibDataCompressor\""));
        assert!(text.contains("NumberOfComponents=\"3\""));
        assert!(text.contains("type=\"UInt8\""));
    }

    #[test]
    fn pvd_lists_every_entry_with_exact_times_and_escaped_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fluid.pvd");
        let mut entries: Vec<PvdEntry> =
            (0..3).map(|i| PvdEntry { time: 0.1 * i as f64, file: format!("fluid_{i:04}.vti") }).collect();
        entries.push(PvdEntry { time: 1.0 / 3.0, file: "a&b \"c\".vti".into() });
        write_pvd(&path, &entries).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        println!("{text}");
        assert!(text.starts_with("<?xml version=\"1.0\"?>"));
        assert!(text.contains("<VTKFile type=\"Collection\" version=\"0.1\""));
        assert_eq!(text.matches("<DataSet ").count(), 4);
        assert_eq!(text.matches("<Collection>").count(), 1);
        assert!(text.trim_end().ends_with("</Collection>\n</VTKFile>"));
        for e in &entries[..3] {
            assert!(text.contains(&format!("file=\"{}\"", e.file)));
        }
        assert!(text.contains("file=\"a&amp;b &quot;c&quot;.vti\""));
        // Times parse back to the exact f64.
        let times: Vec<f64> = text
            .split("timestep=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(times, entries.iter().map(|e| e.time).collect::<Vec<_>>());
        assert!(write_pvd(&path, &[PvdEntry { time: f64::NAN, file: "x.vti".into() }]).is_err());
    }

    #[test]
    fn writing_into_a_missing_folder_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        let vti = dir.path().join("out/run1/fluid_0000.vti");
        let pvd = dir.path().join("out/run1/fluid.pvd");
        let (s, _, _) = sample(60);
        write_vti(&vti, &grid([5, 4, 3]), &[PointField::Scalar { name: "p", values: &s }]).unwrap();
        write_pvd(&pvd, &[PvdEntry { time: 0.0, file: "fluid_0000.vti".into() }]).unwrap();
        assert_eq!(files_in(&dir.path().join("out/run1")), ["fluid.pvd", "fluid_0000.vti"]);
        assert_eq!(read_vti(&vti).unwrap().1[0].1, s);
    }

    #[test]
    fn failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.vti");
        let (s, v, m) = sample(60);
        let bad = [
            PointField::Scalar { name: "p", values: &s },
            PointField::Vector { name: "u", values: &v[..59] },
            PointField::Mask { name: "m", values: &m },
        ];
        let err = write_vti(&path, &grid([5, 4, 3]), &bad).unwrap_err();
        println!("wrong length: {err}");
        assert!(matches!(&err, Error::Parameter { field, .. } if field == "u"));
        let dup = [PointField::Scalar { name: "p", values: &s }, PointField::Mask { name: "p", values: &m }];
        assert!(write_vti(&path, &grid([5, 4, 3]), &dup).is_err());
        assert!(write_vti(&path, &grid([5, 0, 3]), &[]).is_err());
        assert!(files_in(dir.path()).is_empty(), "left {:?}", files_in(dir.path()));
    }

    #[test]
    fn reading_a_missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_vti(&dir.path().join("none.vti")).unwrap_err();
        println!("{err}");
        assert!(matches!(err, Error::Io { .. }));
    }
}
