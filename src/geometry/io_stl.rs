//! STL surface files: reading binary and ASCII STL with unit conversion to metres, writing binary STL.

use crate::atomic::write_bytes_atomic;
use crate::error::{Error, Result};
use crate::geometry::check::require_usable;
use crate::geometry::mesh::Surface;
use nalgebra::{Point3, Vector3};
use std::fmt;
use std::io::Cursor;
use std::path::Path;
use std::str::FromStr;

/// Bytes before the triangle count in a binary STL.
pub const HEADER_BYTES: usize = 80;
/// Bytes of the header plus the little-endian `u32` triangle count.
const PREAMBLE_BYTES: usize = HEADER_BYTES + 4;
/// Bytes per triangle record: normal and three vertices as `f32`, plus a `u16` attribute.
const TRIANGLE_BYTES: usize = 50;

/// Length unit of the coordinates in an STL file (the file itself does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Millimetres, what segmentation tools usually export.
    Millimetre,
    /// Centimetres.
    Centimetre,
    /// Metres.
    Metre,
}

impl Units {
    /// Every unit, in the order listed in messages.
    pub const ALL: [Units; 3] = [Units::Millimetre, Units::Centimetre, Units::Metre];

    /// Metres per file unit (0.001 for millimetres).
    pub fn scale(self) -> f64 {
        match self {
            Units::Millimetre => 1e-3,
            Units::Centimetre => 1e-2,
            Units::Metre => 1.0,
        }
    }

    /// The unit's symbol as written in case files and on the command line: `mm`, `cm` or `m`.
    pub fn symbol(self) -> &'static str {
        match self {
            Units::Millimetre => "mm",
            Units::Centimetre => "cm",
            Units::Metre => "m",
        }
    }
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl FromStr for Units {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim();
        Self::ALL.into_iter().find(|u| u.symbol() == wanted).ok_or_else(|| {
            let valid: Vec<&str> = Self::ALL.iter().map(|u| u.symbol()).collect();
            Error::parameter(
                "units",
                format!("unknown length unit {s:?}; valid values: {}", valid.join(", ")),
            )
        })
    }
}

/// The triangle count a binary STL header declares and the file size (bytes) that count implies,
/// or `None` when the file is shorter than a binary STL's preamble.
fn declared_binary(bytes: &[u8]) -> Option<(u32, u64)> {
    let count: [u8; 4] = bytes.get(HEADER_BYTES..PREAMBLE_BYTES)?.try_into().ok()?;
    let n = u32::from_le_bytes(count);
    Some((n, PREAMBLE_BYTES as u64 + TRIANGLE_BYTES as u64 * u64::from(n)))
}

/// Reads a binary or ASCII STL file whose coordinates are in `units` and returns the surface in
/// metres, with coincident vertices merged.
pub fn read_stl(path: &Path, units: Units) -> Result<Surface> {
    let cannot_read = |e: std::io::Error| {
        Error::input(path, format!("cannot read the STL file ({e}); check the path and permissions"))
    };
    let size = std::fs::metadata(path).map_err(cannot_read)?.len();
    if size == 0 {
        return Err(Error::input(
            path,
            "the file is empty (0 bytes); export the surface again as STL from the segmentation tool",
        ));
    }
    // A binary STL whose size matches its header (even one whose header starts with "solid") is
    // streamed: memory beyond the surface itself is one vertex table.
    let mut preamble = [0u8; PREAMBLE_BYTES];
    if size >= PREAMBLE_BYTES as u64 {
        let mut file = std::fs::File::open(path).map_err(cannot_read)?;
        std::io::Read::read_exact(&mut file, &mut preamble).map_err(cannot_read)?;
        if let Some((n, expected)) = declared_binary(&preamble)
            && expected == size
        {
            return read_binary(path, file, n, units);
        }
    }
    let bytes = std::fs::read(path).map_err(cannot_read)?;
    let declared = declared_binary(&bytes);
    let hint = "is this a binary STL cut short or a different format? Export the surface again as STL";
    let stripped = bytes.trim_ascii_start();
    let mesh = match declared {
        _ if stripped.starts_with(b"solid") => read_ascii_solids(stripped).map_err(|e| {
            let binary = declared.map_or(String::new(), |(n, expected)| {
                format!(
                    " (read as binary, its header declares {n} triangles, expected {expected} bytes, \
                     but the file has {size} bytes)"
                )
            });
            Error::input(path, format!("cannot parse as ASCII STL: {e}{binary}; {hint}"))
        })?,
        Some((n, expected)) if size < expected => {
            return Err(Error::input(
                path,
                format!(
                    "truncated: header declares {n} triangles (expected {expected} bytes) but file has \
                     {size} bytes; {hint}"
                ),
            ));
        }
        Some((n, expected)) => {
            return Err(Error::input(
                path,
                format!(
                    "not a valid binary STL: header declares {n} triangles (expected {expected} bytes) but \
                     file has {size} bytes ({} bytes too many); is this a different format or a corrupt \
                     file? Export the surface again as STL",
                    size - expected
                ),
            ));
        }
        None => {
            return Err(Error::input(
                path,
                format!(
                    "not an STL file: it does not start with \"solid\" (ASCII STL) and has {size} bytes, \
                     fewer than the {PREAMBLE_BYTES} of a binary STL header; {hint}"
                ),
            ));
        }
    };
    let scale = units.scale();
    let vertices = mesh.vertices.iter().map(|v| Point3::from(v.0.map(|c| f64::from(c) * scale))).collect();
    let too_many =
        |_| Error::input(path, "more than 2^32 distinct vertices; decimate the surface before using it");
    let triangles = mesh
        .faces
        .iter()
        .map(|f| {
            Ok([
                u32::try_from(f.vertices[0]).map_err(too_many)?,
                u32::try_from(f.vertices[1]).map_err(too_many)?,
                u32::try_from(f.vertices[2]).map_err(too_many)?,
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    let surface = Surface { vertices, triangles };
    require_usable(&surface, path)?;
    Ok(surface)
}

/// Reads every `solid ... endsolid` block of an ASCII STL (`text` starts with "solid") into one
/// mesh, merging bit-identical vertices across blocks (a wall and its caps exported as separate
/// solids form one closed surface). Errors on text after the last block that is not another solid.
fn read_ascii_solids(text: &[u8]) -> std::result::Result<stl_io::IndexedMesh, String> {
    let mut mesh = stl_io::IndexedMesh { vertices: Vec::new(), faces: Vec::new() };
    let mut index: std::collections::HashMap<[u32; 3], usize> = std::collections::HashMap::new();
    let mut rest = text;
    let mut solid = 0usize;
    while !rest.trim_ascii().is_empty() {
        let body = rest.trim_ascii_start();
        if !body.starts_with(b"solid") {
            let at = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
            return Err(format!("text after solid {solid}'s endsolid is not another solid: {at:?}"));
        }
        // The block runs to the end of its `endsolid` line (or of the file).
        let end = find_endsolid(body).map_or(body.len(), |at| {
            at + body[at..].iter().position(|&c| c == b'\n').map_or(body.len() - at, |n| n + 1)
        });
        // stl_io wants "solid " exactly at the start: normalise a nameless "solid".
        let mut block = b"solid ".to_vec();
        block.extend_from_slice(&body[5..end]);
        let part = stl_io::read_stl(&mut Cursor::new(block)).map_err(|e| {
            if solid == 0 { e.to_string() } else { format!("solid {} (counting from 1): {e}", solid + 1) }
        })?;
        let map: Vec<usize> = part
            .vertices
            .iter()
            .map(|v| {
                *index.entry(v.0.map(f32::to_bits)).or_insert_with(|| {
                    mesh.vertices.push(*v);
                    mesh.vertices.len() - 1
                })
            })
            .collect();
        for f in part.faces {
            mesh.faces
                .push(stl_io::IndexedTriangle { normal: f.normal, vertices: f.vertices.map(|v| map[v]) });
        }
        rest = &body[end..];
        solid += 1;
    }
    Ok(mesh)
}

/// Position of the first line of `text` that starts (after blanks) with "endsolid".
fn find_endsolid(text: &[u8]) -> Option<usize> {
    let mut at = 0;
    for line in text.split(|&c| c == b'\n') {
        if line.trim_ascii_start().starts_with(b"endsolid") {
            return Some(at);
        }
        at += line.len() + 1;
    }
    None
}

/// Triangles read per chunk of a binary STL.
const CHUNK_TRIANGLES: usize = 1 << 16;

/// Streams the `count` triangles of the binary STL `file` (positioned after its preamble), merging
/// bit-identical vertices.
fn read_binary(path: &Path, file: std::fs::File, count: u32, units: Units) -> Result<Surface> {
    use std::io::Read;
    let count = count as usize;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    // A closed surface has about half as many vertices as triangles.
    let mut index: rustc_hash::FxHashMap<[u32; 3], u32> =
        rustc_hash::FxHashMap::with_capacity_and_hasher(count / 2 + 16, Default::default());
    let mut vertices = Vec::with_capacity(count / 2 + 16);
    let mut triangles = Vec::with_capacity(count);
    let mut chunk = vec![0u8; CHUNK_TRIANGLES * TRIANGLE_BYTES];
    let scale = units.scale();
    let mut done = 0;
    while done < count {
        let n = CHUNK_TRIANGLES.min(count - done);
        if vertices.len() + 3 * n > u32::MAX as usize {
            return Err(Error::input(
                path,
                "more than 2^32 distinct vertices; decimate the surface before using it",
            ));
        }
        reader.read_exact(&mut chunk[..n * TRIANGLE_BYTES]).map_err(|e| {
            Error::input(
                path,
                format!("cannot read triangle {} of {count} ({e}); the file may be damaged", done + 1),
            )
        })?;
        for record in chunk[..n * TRIANGLE_BYTES].chunks_exact(TRIANGLE_BYTES) {
            let mut tri = [0u32; 3];
            for (k, corner) in record[12..48].chunks_exact(12).enumerate() {
                // +0.0 folds -0.0 into 0.0, so the two spellings of zero are one vertex.
                let xyz: [f32; 3] = std::array::from_fn(|a| {
                    f32::from_le_bytes([
                        corner[4 * a],
                        corner[4 * a + 1],
                        corner[4 * a + 2],
                        corner[4 * a + 3],
                    ]) + 0.0
                });
                let next = vertices.len();
                let id = *index.entry(xyz.map(f32::to_bits)).or_insert_with(|| {
                    vertices.push(Point3::from(xyz.map(|c| f64::from(c) * scale)));
                    next as u32
                });
                tri[k] = id;
            }
            triangles.push(tri);
        }
        done += n;
    }
    let surface = Surface { vertices, triangles };
    require_usable(&surface, path)?;
    Ok(surface)
}

/// Writes `surface` (metres) atomically as a binary STL with coordinates in `units`, a neutral
/// "hemotwin" header and normals computed from each triangle's vertex order.
pub fn write_stl(path: &Path, surface: &Surface, units: Units) -> Result<()> {
    write_stl_with_header(path, surface, units, &neutral_header())
}

/// The header hemotwin writes: "hemotwin" and spaces, nothing from the input.
pub fn neutral_header() -> [u8; HEADER_BYTES] {
    let mut header = [b' '; HEADER_BYTES];
    header[..8].copy_from_slice(b"hemotwin");
    header
}

/// The 80-byte header of a binary STL file, or the `solid` line of an ASCII one (cut or padded
/// with spaces to 80 bytes): what `--keep-metadata` carries to a written STL.
pub fn stl_header(path: &Path) -> Result<[u8; HEADER_BYTES]> {
    use std::io::Read;
    let mut first = Vec::with_capacity(HEADER_BYTES);
    std::fs::File::open(path)
        .and_then(|f| f.take(HEADER_BYTES as u64).read_to_end(&mut first))
        .map_err(|e| Error::input(path, format!("cannot read the STL header ({e})")))?;
    let mut header = [b' '; HEADER_BYTES];
    let line = first.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let kept = if first.trim_ascii_start().starts_with(b"solid") { line } else { &first[..] };
    header[..kept.len()].copy_from_slice(kept);
    Ok(header)
}

/// Writes `surface` (metres) atomically as a binary STL with coordinates in `units`, the given
/// 80-byte `header` and normals computed from each triangle's vertex order.
pub fn write_stl_with_header(
    path: &Path,
    surface: &Surface,
    units: Units,
    header: &[u8; HEADER_BYTES],
) -> Result<()> {
    require_usable(surface, path)?;
    let count = u32::try_from(surface.triangles.len()).map_err(|_| {
        Error::input(path, "more than 2^32 triangles do not fit a binary STL; decimate the surface")
    })?;
    let mut bytes = Vec::with_capacity(PREAMBLE_BYTES + TRIANGLE_BYTES * surface.triangles.len());
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&count.to_le_bytes());
    let per_metre = 1.0 / units.scale();
    for tri in &surface.triangles {
        let [a, b, c] = tri.map(|i| surface.vertices[i as usize]);
        let normal = (b - a).cross(&(c - a)).try_normalize(0.0).unwrap_or_else(Vector3::zeros);
        let corners = [a, b, c].map(|p| p.coords * per_metre);
        for v in std::iter::once(normal).chain(corners) {
            for x in v.iter() {
                bytes.extend_from_slice(&(*x as f32).to_le_bytes());
            }
        }
        bytes.extend_from_slice(&0u16.to_le_bytes());
    }
    write_bytes_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::check::{inspect, require_closed};
    use crate::geometry::synth::{TubeSpec, tube};

    fn small_tube() -> Surface {
        tube(&TubeSpec { radius: 2e-3, length: 20e-3 }, 32).unwrap().0
    }

    fn error_text(r: Result<Surface>) -> String {
        let e = r.expect_err("expected the read to fail").to_string();
        println!("error: {e}");
        e
    }

    #[test]
    fn units_parse_symbols_and_list_valid_values_on_error() {
        assert_eq!("mm".parse::<Units>().unwrap(), Units::Millimetre);
        assert_eq!(" cm ".parse::<Units>().unwrap(), Units::Centimetre);
        assert_eq!("m".parse::<Units>().unwrap(), Units::Metre);
        assert_eq!(Units::Millimetre.scale(), 1e-3);
        let e = "inch".parse::<Units>().unwrap_err().to_string();
        println!("error: {e}");
        assert!(e.contains("mm, cm, m"));
    }

    #[test]
    fn binary_round_trip_in_mm_preserves_vertices_within_f32_rounding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tube.stl");
        let surface = small_tube();
        write_stl(&path, &surface, Units::Millimetre).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"hemotwin");
        assert!(bytes[8..80].iter().all(|&b| b == b' '));
        assert_eq!(bytes.len(), 84 + 50 * surface.triangles.len());

        let read = read_stl(&path, Units::Millimetre).unwrap();
        assert_eq!(read.triangles.len(), surface.triangles.len());
        assert_eq!(read.vertices.len(), surface.vertices.len());
        // Writing rounds each coordinate (in mm) to the nearest f32: relative error <= 2^-24,
        // so in metres |error| <= 2^-24 * max|x| (plus f64 conversion error, far smaller).
        let max_coord = surface.vertices.iter().map(|p| p.coords.amax()).fold(0.0, f64::max);
        let bound = max_coord * 2f64.powi(-24) * (1.0 + 1e-9);
        let mut max_err: f64 = 0.0;
        for (t, r) in surface.triangles.iter().zip(&read.triangles) {
            for k in 0..3 {
                let d = surface.vertices[t[k] as usize] - read.vertices[r[k] as usize];
                max_err = max_err.max(d.amax());
            }
        }
        println!("max vertex error {max_err:.3e} m, bound 2^-24 * {max_coord} m = {bound:.3e} m");
        assert!(max_err <= bound);
        let report = require_closed(&read, &path).unwrap();
        println!(
            "read back: {} triangles, {} vertices, volume {:.6e} m^3",
            report.triangles, report.vertices, report.volume
        );
        assert!((report.volume - inspect(&surface).volume).abs() < 1e-6 * report.volume);
    }

    #[test]
    fn binary_file_whose_header_starts_with_solid_is_read_as_binary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("solid_header.stl");
        let surface = small_tube();
        write_stl(&path, &surface, Units::Metre).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[..20].copy_from_slice(b"solid exported by X ");
        std::fs::write(&path, &bytes).unwrap();
        let read = read_stl(&path, Units::Metre).unwrap();
        println!("{} triangles read", read.triangles.len());
        assert_eq!(read.triangles.len(), surface.triangles.len());
    }

    #[test]
    fn ascii_cube_in_cm_is_read_closed_with_volume_one_cubic_cm() {
        // A unit cube, outward facets, nameless "solid" and CRLF line ends as some exporters write.
        let text = "solid\r
  facet normal 0 0 -1\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 0 1 0\r\n      vertex 1 1 0\r\n    endloop\r\n  endfacet\r
  facet normal 0 0 -1\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 1 1 0\r\n      vertex 1 0 0\r\n    endloop\r\n  endfacet\r
  facet normal 0 0 1\r\n    outer loop\r\n      vertex 0 0 1\r\n      vertex 1 0 1\r\n      vertex 1 1 1\r\n    endloop\r\n  endfacet\r
  facet normal 0 0 1\r\n    outer loop\r\n      vertex 0 0 1\r\n      vertex 1 1 1\r\n      vertex 0 1 1\r\n    endloop\r\n  endfacet\r
  facet normal 0 -1 0\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 1 0 0\r\n      vertex 1 0 1\r\n    endloop\r\n  endfacet\r
  facet normal 0 -1 0\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 1 0 1\r\n      vertex 0 0 1\r\n    endloop\r\n  endfacet\r
  facet normal 0 1 0\r\n    outer loop\r\n      vertex 0 1 0\r\n      vertex 0 1 1\r\n      vertex 1 1 1\r\n    endloop\r\n  endfacet\r
  facet normal 0 1 0\r\n    outer loop\r\n      vertex 0 1 0\r\n      vertex 1 1 1\r\n      vertex 1 1 0\r\n    endloop\r\n  endfacet\r
  facet normal -1 0 0\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 0 0 1\r\n      vertex 0 1 1\r\n    endloop\r\n  endfacet\r
  facet normal -1 0 0\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 0 1 1\r\n      vertex 0 1 0\r\n    endloop\r\n  endfacet\r
  facet normal 1 0 0\r\n    outer loop\r\n      vertex 1 0 0\r\n      vertex 1 1 0\r\n      vertex 1 1 1\r\n    endloop\r\n  endfacet\r
  facet normal 1 0 0\r\n    outer loop\r\n      vertex 1 0 0\r\n      vertex 1 1 1\r\n      vertex 1 0 1\r\n    endloop\r\n  endfacet\r
endsolid\r\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cube.stl");
        std::fs::write(&path, text).unwrap();
        let surface = read_stl(&path, Units::Centimetre).unwrap();
        let report = require_closed(&surface, &path).unwrap();
        println!(
            "cube: {} triangles, {} vertices, area {:.6e} m^2, volume {:.6e} m^3",
            report.triangles, report.vertices, report.area, report.volume
        );
        assert_eq!((report.triangles, report.vertices), (12, 8));
        assert!((report.volume - 1e-6).abs() < 1e-15);
        assert!((report.area - 6e-4).abs() < 1e-15);
    }

    #[test]
    fn multi_solid_ascii_stl_is_read_whole_and_trailing_junk_refused() {
        // The unit cube as three solids (bottom and top caps, then the four sides), as vessel
        // modelling tools export a wall and its caps.
        let facet = |n: &str, a: &str, b: &str, c: &str| {
            format!("facet normal {n}\nouter loop\nvertex {a}\nvertex {b}\nvertex {c}\nendloop\nendfacet\n")
        };
        let caps = [
            facet("0 0 -1", "0 0 0", "0 1 0", "1 1 0") + &facet("0 0 -1", "0 0 0", "1 1 0", "1 0 0"),
            facet("0 0 1", "0 0 1", "1 0 1", "1 1 1") + &facet("0 0 1", "0 0 1", "1 1 1", "0 1 1"),
        ];
        let sides = [
            facet("0 -1 0", "0 0 0", "1 0 0", "1 0 1"),
            facet("0 -1 0", "0 0 0", "1 0 1", "0 0 1"),
            facet("0 1 0", "0 1 0", "0 1 1", "1 1 1"),
            facet("0 1 0", "0 1 0", "1 1 1", "1 1 0"),
            facet("-1 0 0", "0 0 0", "0 0 1", "0 1 1"),
            facet("-1 0 0", "0 0 0", "0 1 1", "0 1 0"),
            facet("1 0 0", "1 0 0", "1 1 0", "1 1 1"),
            facet("1 0 0", "1 0 0", "1 1 1", "1 0 1"),
        ]
        .concat();
        let text = format!(
            "solid bottom\n{}endsolid bottom\nsolid top\n{}endsolid top\n  solid wall\n{sides}endsolid wall\n",
            caps[0], caps[1]
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parts.stl");
        std::fs::write(&path, &text).unwrap();
        let surface = read_stl(&path, Units::Centimetre).unwrap();
        let report = require_closed(&surface, &path).unwrap();
        println!(
            "3 solids: {} triangles, {} vertices, volume {:.6e} m^3",
            report.triangles, report.vertices, report.volume
        );
        assert_eq!((report.triangles, report.vertices), (12, 8));
        assert!((report.volume - 1e-6).abs() < 1e-15);
        std::fs::write(&path, text + "garbage after the last solid\n").unwrap();
        let e = error_text(read_stl(&path, Units::Centimetre));
        assert!(e.contains("not another solid"), "{e}");
    }

    #[test]
    fn empty_file_is_rejected_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.stl");
        std::fs::write(&path, b"").unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("empty"));
    }

    #[test]
    fn missing_file_is_rejected_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.stl");
        let e = error_text(read_stl(&path, Units::Millimetre));
        assert!(e.contains("absent.stl") && e.contains("cannot read"));
    }

    #[test]
    fn truncated_binary_file_is_rejected_as_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.stl");
        write_stl(&path, &small_tube(), Units::Millimetre).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 75]).unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("truncated"));
    }

    #[test]
    fn text_that_is_not_stl_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.stl");
        std::fs::write(&path, "this is a text file, not a surface\n").unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("not an STL"));
        let long = "ply\nformat ascii 1.0\nelement vertex 8\nproperty float x\nproperty float y\nproperty float z\nend_header\n";
        std::fs::write(&path, long).unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("different format"));
    }

    #[test]
    fn random_bytes_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.stl");
        // A deterministic xorshift stream stands in for a random file.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let bytes: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("different format"));
    }

    #[test]
    fn solid_file_with_broken_facets_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.stl");
        std::fs::write(&path, "solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0\n").unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("ASCII STL"));
    }

    #[test]
    fn binary_with_zero_triangles_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.stl");
        std::fs::write(&path, [0u8; 84]).unwrap();
        assert!(error_text(read_stl(&path, Units::Millimetre)).contains("no triangles"));
    }

    #[test]
    fn nan_coordinate_is_rejected_naming_triangle_and_vertex() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nan.stl");
        write_stl(&path, &small_tube(), Units::Millimetre).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        // Triangle 3, second vertex, y coordinate: 84 + 3*50 + 12 (normal) + 12 (first vertex) + 4.
        let at = 84 + 3 * 50 + 12 + 12 + 4;
        bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let e = error_text(read_stl(&path, Units::Millimetre));
        assert!(e.contains("non-finite") && e.contains("triangle 3") && e.contains("NaN"));
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::*;
    use crate::geometry::synth::{TubeSpec, tube};

    #[test]
    fn written_stl_has_a_neutral_header_unless_the_input_header_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let surface = tube(&TubeSpec { radius: 2e-3, length: 20e-3 }, 16).unwrap().0;
        let input = dir.path().join("scan.stl");
        let mut patient = [b' '; HEADER_BYTES];
        patient[..22].copy_from_slice(b"PATIENT DOE^JANE 1970 ");
        write_stl_with_header(&input, &surface, Units::Millimetre, &patient).unwrap();
        let neutral = dir.path().join("neutral.stl");
        write_stl(&neutral, &read_stl(&input, Units::Millimetre).unwrap(), Units::Millimetre).unwrap();
        let bytes = std::fs::read(&neutral).unwrap();
        assert!(!bytes.windows(7).any(|w| w == b"PATIENT"));
        assert_eq!(&bytes[..8], b"hemotwin");
        let kept = stl_header(&input).unwrap();
        assert_eq!(kept, patient);
    }
}
