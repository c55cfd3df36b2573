//! VTK XML PolyData (`.vtp`) surfaces: polygons (fan-triangulated), when present an integer
//! face-id cell array (SimVascular's `ModelFaceID`, `CapID`, `face_id`, or hemotwin's own
//! `port_id`), and hemotwin's port names and roles from the field data. Every encoding VTK and
//! ParaView write is read: ascii, inline binary (base64), appended raw or base64, zlib-, LZ4- or
//! LZMA-compressed or not, UInt32 or UInt64 headers, either byte order. Every size and index is checked before use, so a
//! corrupt file is refused with an error, never a panic. Other arrays and metadata are ignored.

use super::io_stl::Units;
use super::mesh::Surface;
use crate::error::{Error, Result};
use base64::Engine;
use nalgebra::Point3;
use quick_xml::events::{BytesStart, Event};
use std::io::Read;
use std::path::Path;

/// Names of cell arrays read as face ids, in order of preference (compared without case).
pub const FACE_ID_ARRAYS: [&str; 5] = ["ModelFaceID", "CapID", "FaceID", "face_id", "port_id"];
/// Field-data string array of hemotwin's `wall.vtp`: the name of port k (its `port_id`).
pub const PORT_NAMES_ARRAY: &str = "port_names";
/// Field-data string array of hemotwin's `wall.vtp`: the role (`inlet` or `outlet`) of port k.
pub const PORT_ROLES_ARRAY: &str = "port_roles";

/// A surface read from a `.vtp` (m), with what it says of its ports.
#[derive(Debug, Clone, Default)]
pub struct VtpSurface {
    /// The triangles (polygons fan-triangulated).
    pub surface: Surface,
    /// Face id of every triangle, when every piece has one of the [`FACE_ID_ARRAYS`].
    pub face_ids: Option<Vec<i32>>,
    /// Name of the port with face id k (hemotwin's `port_names` field data).
    pub port_names: Option<Vec<String>>,
    /// Role (`inlet` or `outlet`) of the port with face id k (hemotwin's `port_roles`).
    pub port_roles: Option<Vec<String>>,
}

/// Element types of VTK data arrays.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    /// Characters, each string ended by a 0.
    Str,
}

impl Scalar {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "Int8" | "Char" => Scalar::I8,
            "UInt8" | "UnsignedChar" => Scalar::U8,
            "Int16" => Scalar::I16,
            "UInt16" => Scalar::U16,
            "Int32" => Scalar::I32,
            "UInt32" => Scalar::U32,
            "Int64" | "IdType" => Scalar::I64,
            "UInt64" => Scalar::U64,
            "Float32" => Scalar::F32,
            "Float64" => Scalar::F64,
            "String" => Scalar::Str,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 | Scalar::Str => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }
}

/// Where a data array's values are.
#[derive(Debug, Clone)]
enum Source {
    /// In the element's text: ascii numbers, or base64 when `binary`.
    Inline { text: String, binary: bool },
    /// In the appended section at this offset.
    Appended(usize),
}

/// A `<DataArray>` as declared, before decoding.
#[derive(Debug, Clone)]
struct ArrayDecl {
    name: String,
    scalar: Scalar,
    source: Source,
}

/// Which element a data array belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    Points,
    Polys,
    Strips,
    Cells,
    Other,
}

/// One `<Piece>`: its counts and arrays.
#[derive(Debug, Default)]
struct PieceDecl {
    points: usize,
    strips: usize,
    arrays: Vec<(Section, ArrayDecl)>,
}

/// How a file's binary arrays are compressed (VTK's compressors).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Compressor {
    None,
    Zlib,
    Lz4,
    Lzma,
}

/// Largest expansion of an LZ4 block (the format's limit is about 255).
const LZ4_MAX_RATIO: u64 = 256;

/// The file's layout: header settings, pieces, field data and the appended section.
struct Layout {
    big_endian: bool,
    header64: bool,
    compressor: Compressor,
    pieces: Vec<PieceDecl>,
    field: Vec<ArrayDecl>,
    /// The appended section after its `_` marker, and whether it is base64.
    appended: Option<(Vec<u8>, bool)>,
}

/// Largest decoded size of one array (bytes): 8 GiB, far above any vessel surface.
const MAX_ARRAY_BYTES: u64 = 8 << 30;

/// Reads the surface of a `.vtp` file in `units`, with its face ids and port names when present.
pub fn read_vtp(path: &Path, units: Units) -> Result<VtpSurface> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_vtp(&bytes, units).map_err(|m| Error::input(path, m))
}

/// Parses the bytes of a `.vtp`; errors are messages for [`Error::input`].
pub fn parse_vtp(bytes: &[u8], units: Units) -> std::result::Result<VtpSurface, String> {
    let layout = layout(bytes)?;
    let mut out = VtpSurface::default();
    let mut ids: Vec<i32> = Vec::new();
    let mut all_have_ids = true;
    for piece in &layout.pieces {
        if piece.strips > 0 {
            return Err("has triangle strips; convert them to triangles first (ParaView: Triangulate)".into());
        }
        let find = |section: Section, name: Option<&str>| {
            piece
                .arrays
                .iter()
                .find(|(s, a)| *s == section && name.is_none_or(|n| a.name.eq_ignore_ascii_case(n)))
        };
        let Some((_, points)) = find(Section::Points, None) else {
            if piece.points == 0 {
                continue;
            }
            return Err("a piece has points but no point coordinates".into());
        };
        let coords = floats(&layout, points)?;
        if coords.len() != 3 * piece.points {
            return Err(format!(
                "a piece declares {} points but its coordinates hold {} values (3 per point expected)",
                piece.points,
                coords.len()
            ));
        }
        let base = out.surface.vertices.len();
        for (k, p) in coords.chunks_exact(3).enumerate() {
            if p.iter().any(|v| !v.is_finite()) {
                return Err(format!("point {k} has a non-finite coordinate ({}, {}, {})", p[0], p[1], p[2]));
            }
            out.surface.vertices.push(Point3::new(p[0], p[1], p[2]) * units.scale());
        }
        let (Some((_, conn)), Some((_, offs))) =
            (find(Section::Polys, Some("connectivity")), find(Section::Polys, Some("offsets")))
        else {
            continue;
        };
        let (connectivity, offsets) = (integers(&layout, conn)?, integers(&layout, offs)?);
        let face_ids = FACE_ID_ARRAYS.iter().find_map(|n| find(Section::Cells, Some(n)));
        let face_ids = face_ids.map(|(_, a)| integers(&layout, a)).transpose()?;
        if let Some(f) = &face_ids
            && f.len() != offsets.len()
        {
            return Err(format!("the face-id array has {} values for {} polygons", f.len(), offsets.len()));
        }
        all_have_ids &= face_ids.is_some();
        let mut start = 0usize;
        for (cell, &end) in offsets.iter().enumerate() {
            let end =
                usize::try_from(end).map_err(|_| format!("polygon {cell} has a negative offset {end}"))?;
            let poly = connectivity
                .get(start..end)
                .ok_or_else(|| format!("polygon {cell} has out-of-range offsets ({start}..{end})"))?;
            if poly.len() < 3 {
                return Err(format!(
                    "polygon {cell} has {} vertices; a surface needs triangles or polygons",
                    poly.len()
                ));
            }
            if let Some(&v) = poly.iter().find(|&&v| v < 0 || v as u64 >= piece.points as u64) {
                return Err(format!("polygon {cell} refers to point {v} of {}", piece.points));
            }
            let index =
                |v: i64| u32::try_from(base as u64 + v as u64).map_err(|_| "too many points".to_string());
            for k in 1..poly.len() - 1 {
                out.surface.triangles.push([index(poly[0])?, index(poly[k])?, index(poly[k + 1])?]);
                if let Some(f) = &face_ids {
                    let id =
                        i32::try_from(f[cell]).map_err(|_| format!("face id {} out of range", f[cell]))?;
                    ids.push(id);
                }
            }
            start = end;
        }
    }
    if out.surface.triangles.is_empty() {
        return Err("has no polygons; a vessel surface is needed".into());
    }
    out.face_ids = Some(ids).filter(|_| all_have_ids);
    for a in &layout.field {
        if a.scalar == Scalar::Str && (a.name == PORT_NAMES_ARRAY || a.name == PORT_ROLES_ARRAY) {
            let strings = strings(&layout, a)?;
            if a.name == PORT_NAMES_ARRAY {
                out.port_names = Some(strings);
            } else {
                out.port_roles = Some(strings);
            }
        }
    }
    Ok(out)
}

/// The value of attribute `key` of element `e`, unescaped.
fn attr(e: &BytesStart, key: &str) -> std::result::Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("malformed XML attribute ({err})"))?;
        if a.key.as_ref() == key.as_bytes() {
            let v = a.unescape_value().map_err(|err| format!("malformed XML attribute value ({err})"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// A count attribute (`NumberOfPoints` ...), 0 when absent.
fn count(e: &BytesStart, key: &str) -> std::result::Result<usize, String> {
    match attr(e, key)? {
        None => Ok(0),
        Some(v) => v.trim().parse().map_err(|_| format!("{key}=\"{v}\" is not a count")),
    }
}

/// Reads the XML structure (up to the appended section) into a [`Layout`].
fn layout(bytes: &[u8]) -> std::result::Result<Layout, String> {
    // Raw appended data is not XML: cut it off first and keep it aside.
    let (xml, appended) = match find(bytes, b"<AppendedData") {
        Some(at) => {
            let tag_end = at + find(&bytes[at..], b">").ok_or("the <AppendedData> tag is not closed")?;
            let tag = String::from_utf8_lossy(&bytes[at..tag_end]).into_owned();
            let base64 = !tag.contains("\"raw\"");
            let marker = tag_end
                + 1
                + find(&bytes[tag_end + 1..], b"_").ok_or("the appended data lacks its '_' marker")?;
            (&bytes[..at], Some((bytes[marker + 1..].to_vec(), base64)))
        }
        None => (bytes, None),
    };
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut layout = Layout {
        big_endian: false,
        header64: false,
        compressor: Compressor::None,
        pieces: Vec::new(),
        field: Vec::new(),
        appended,
    };
    let (mut kind, mut section, mut in_field) = (None, Section::Other, false);
    let mut open: Option<ArrayDecl> = None;
    // Elements inside an open DataArray (VTK's <InformationKey>): their text is not the array's.
    let mut nested = 0usize;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| format!("not readable XML ({e})"))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Eof => break,
            Event::Start(_) if open.is_some() => nested += 1,
            Event::End(_) if nested > 0 => nested -= 1,
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match name.as_str() {
                    "VTKFile" => {
                        kind = attr(&e, "type")?;
                        layout.big_endian = attr(&e, "byte_order")?.as_deref() == Some("BigEndian");
                        layout.header64 = match attr(&e, "header_type")?.as_deref() {
                            None | Some("UInt32") => false,
                            Some("UInt64") => true,
                            Some(other) => {
                                return Err(format!("header_type \"{other}\" is not UInt32 or UInt64"));
                            }
                        };
                        layout.compressor = match attr(&e, "compressor")?.as_deref() {
                            None | Some("") => Compressor::None,
                            Some("vtkZLibDataCompressor") => Compressor::Zlib,
                            Some("vtkLZ4DataCompressor") => Compressor::Lz4,
                            Some("vtkLZMADataCompressor") => Compressor::Lzma,
                            Some(other) => {
                                return Err(format!(
                                    "compressor \"{other}\" is not supported (zlib, LZ4, LZMA or none are); save it \
                                     again with one of those"
                                ));
                            }
                        };
                    }
                    "Piece" => layout.pieces.push(PieceDecl {
                        points: count(&e, "NumberOfPoints")?,
                        strips: count(&e, "NumberOfStrips")?,
                        arrays: Vec::new(),
                    }),
                    "Points" => section = Section::Points,
                    "Polys" => section = Section::Polys,
                    "Strips" => section = Section::Strips,
                    "CellData" => section = Section::Cells,
                    "FieldData" => in_field = true,
                    "PointData" | "Verts" | "Lines" => section = Section::Other,
                    "DataArray" => {
                        let type_name = attr(&e, "type")?.unwrap_or_default();
                        let scalar = Scalar::parse(&type_name)
                            .ok_or_else(|| format!("data array type \"{type_name}\" is unknown"))?;
                        let format = attr(&e, "format")?.unwrap_or_else(|| "ascii".into());
                        let source = match format.as_str() {
                            "ascii" => Source::Inline { text: String::new(), binary: false },
                            "binary" => Source::Inline { text: String::new(), binary: true },
                            "appended" => {
                                let offset = attr(&e, "offset")?.unwrap_or_default();
                                Source::Appended(
                                    offset
                                        .trim()
                                        .parse()
                                        .map_err(|_| format!("offset=\"{offset}\" is not a count"))?,
                                )
                            }
                            other => return Err(format!("data array format \"{other}\" is unknown")),
                        };
                        let decl = ArrayDecl { name: attr(&e, "Name")?.unwrap_or_default(), scalar, source };
                        if empty {
                            store(&mut layout, decl, section, in_field);
                        } else {
                            open = Some(decl);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (0, Some(ArrayDecl { source: Source::Inline { text, .. }, .. })) = (nested, &mut open)
                {
                    text.push_str(&t.unescape().map_err(|e| format!("malformed XML text ({e})"))?);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"DataArray" => {
                    if let Some(decl) = open.take() {
                        store(&mut layout, decl, section, in_field);
                    }
                }
                b"FieldData" => in_field = false,
                b"Points" | b"Polys" | b"Strips" | b"CellData" | b"PointData" | b"Verts" | b"Lines" => {
                    section = Section::Other
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    if kind.as_deref() != Some("PolyData") {
        return Err(
            "is not PolyData (a surface); extract the surface (e.g. ParaView's Extract Surface) and save it as .vtp"
                .into(),
        );
    }
    Ok(layout)
}

/// Files the finished array `decl` under the current piece (or the field data).
fn store(layout: &mut Layout, decl: ArrayDecl, section: Section, in_field: bool) {
    if in_field {
        layout.field.push(decl);
    } else if let Some(piece) = layout.pieces.last_mut() {
        piece.arrays.push((section, decl));
    }
}

/// Position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes base64 made of one or more separately padded blocks (VTK encodes a compressed array's
/// header and its data separately).
fn base64_blocks(text: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let clean: Vec<u8> = text.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    let mut start = 0;
    let engine = base64::engine::general_purpose::STANDARD;
    for (k, quad) in clean.chunks(4).enumerate() {
        let end = 4 * k + quad.len();
        if quad.contains(&b'=') || end == clean.len() {
            engine
                .decode_vec(&clean[start..end], &mut out)
                .map_err(|e| format!("corrupt base64 data ({e})"))?;
            start = end;
        }
    }
    Ok(out)
}

/// Reads an unsigned header word of the file's header type at `at`.
fn header_word(layout: &Layout, bytes: &[u8], at: usize) -> std::result::Result<u64, String> {
    let size = if layout.header64 { 8 } else { 4 };
    let word = bytes.get(at..at + size).ok_or("a binary data header is cut short")?;
    let mut b = [0u8; 8];
    if layout.big_endian {
        b[8 - size..].copy_from_slice(word);
        Ok(u64::from_be_bytes(b))
    } else {
        b[..size].copy_from_slice(word);
        Ok(u64::from_le_bytes(b))
    }
}

/// The raw bytes of a binary array (inline or appended): its header read, blocks inflated.
fn binary_payload(layout: &Layout, bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let h = if layout.header64 { 8 } else { 4 };
    if layout.compressor == Compressor::None {
        let n = header_word(layout, bytes, 0)?;
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n as u64 <= MAX_ARRAY_BYTES)
            .ok_or("an array size is too large")?;
        return bytes.get(h..h + n).map(<[u8]>::to_vec).ok_or_else(|| {
            format!("a binary array declares {n} bytes but holds {}", bytes.len().saturating_sub(h))
        });
    }
    let blocks = header_word(layout, bytes, 0)?;
    let block_size = header_word(layout, bytes, h)?;
    let last = header_word(layout, bytes, 2 * h)?;
    if blocks > bytes.len() as u64 {
        return Err(format!("a compressed array declares {blocks} blocks in {} bytes", bytes.len()));
    }
    let total = if blocks == 0 {
        0
    } else {
        (blocks - 1).saturating_mul(block_size).saturating_add(if last == 0 { block_size } else { last })
    };
    if total > MAX_ARRAY_BYTES || (blocks > 0 && block_size == 0) || last > block_size {
        return Err(format!(
            "a compressed array has an impossible header ({blocks} blocks of {block_size} bytes, last {last})"
        ));
    }
    let mut out = Vec::with_capacity((total as usize).min(bytes.len().saturating_mul(64)));
    let mut at = h * (3 + blocks as usize);
    for k in 0..blocks as usize {
        let size = header_word(layout, bytes, h * (3 + k))?;
        let size = usize::try_from(size).map_err(|_| "a block size is too large".to_string())?;
        let block = at
            .checked_add(size)
            .and_then(|end| bytes.get(at..end))
            .ok_or("a compressed block is cut short")?;
        let want = if k + 1 == blocks as usize && last != 0 { last } else { block_size };
        let before = out.len();
        let inflate = |e: std::io::Error| format!("a compressed block does not inflate ({e})");
        match layout.compressor {
            Compressor::Lz4 => {
                // LZ4 blocks carry no size: bound it by the format's largest ratio before allocating.
                if want > LZ4_MAX_RATIO * (size as u64 + 16) {
                    return Err(format!("an LZ4 block of {size} bytes cannot inflate to {want}"));
                }
                let inflated = lz4_flex::block::decompress(block, want as usize)
                    .map_err(|e| format!("a compressed block does not inflate ({e})"))?;
                out.extend_from_slice(&inflated);
            }
            Compressor::Lzma => {
                xz2::read::XzDecoder::new(block).take(want + 1).read_to_end(&mut out).map_err(inflate)?;
            }
            _ => {
                flate2::read::ZlibDecoder::new(block)
                    .take(want + 1)
                    .read_to_end(&mut out)
                    .map_err(inflate)?;
            }
        }
        if (out.len() - before) as u64 != want {
            return Err(format!("a compressed block inflates to {} bytes, not {want}", out.len() - before));
        }
        at += size;
    }
    Ok(out)
}

/// The bytes of an appended array starting at `offset`.
fn appended_bytes(layout: &Layout, offset: usize) -> std::result::Result<Vec<u8>, String> {
    let (data, base64) =
        layout.appended.as_ref().ok_or("an array is appended but the file has no appended data")?;
    let tail =
        data.get(offset..).ok_or_else(|| format!("an appended offset {offset} lies beyond the data"))?;
    if !*base64 {
        return Ok(tail.to_vec());
    }
    // The array's base64 runs to the next array's offset (or the end of the section).
    let end = layout
        .pieces
        .iter()
        .flat_map(|p| p.arrays.iter().map(|(_, a)| a))
        .chain(&layout.field)
        .filter_map(|a| match a.source {
            Source::Appended(o) if o > offset => Some(o - offset),
            _ => None,
        })
        .min()
        .unwrap_or_else(|| tail.iter().position(|&c| c == b'<').unwrap_or(tail.len()));
    base64_blocks(&tail[..end.min(tail.len())])
}

/// The values of `a` as raw little- or big-endian bytes of its type, or as ascii tokens.
enum Values {
    Bytes(Vec<u8>),
    Ascii(String),
}

fn values(layout: &Layout, a: &ArrayDecl) -> std::result::Result<Values, String> {
    match &a.source {
        Source::Inline { text, binary: false } => Ok(Values::Ascii(text.clone())),
        Source::Inline { text, binary: true } => {
            Ok(Values::Bytes(binary_payload(layout, &base64_blocks(text.as_bytes())?)?))
        }
        Source::Appended(offset) => {
            Ok(Values::Bytes(binary_payload(layout, &appended_bytes(layout, *offset)?)?))
        }
    }
}

/// Decodes the bytes of `a` as numbers with `f`.
fn decode<T>(
    layout: &Layout,
    a: &ArrayDecl,
    bytes: &[u8],
    f: impl Fn(Scalar, [u8; 8]) -> T,
) -> std::result::Result<Vec<T>, String> {
    let size = a.scalar.size();
    if !bytes.len().is_multiple_of(size) {
        return Err(format!("array {:?} holds {} bytes, not a whole number of values", a.name, bytes.len()));
    }
    Ok(bytes
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            if layout.big_endian {
                b[..size].copy_from_slice(c);
                b[..size].reverse();
            } else {
                b[..size].copy_from_slice(c);
            }
            f(a.scalar, b)
        })
        .collect())
}

/// Little-endian bytes `b` of a `scalar` as f64.
fn as_f64(scalar: Scalar, b: [u8; 8]) -> f64 {
    let [b0, b1, b2, b3, ..] = b;
    match scalar {
        Scalar::F32 => f32::from_le_bytes([b0, b1, b2, b3]) as f64,
        Scalar::F64 => f64::from_le_bytes(b),
        other => as_i128(other, b) as f64,
    }
}

/// Little-endian bytes `b` of an integer `scalar` (floats truncated) as i128.
fn as_i128(scalar: Scalar, b: [u8; 8]) -> i128 {
    let [b0, b1, b2, b3, ..] = b;
    match scalar {
        Scalar::I8 => b0 as i8 as i128,
        Scalar::U8 | Scalar::Str => b0 as i128,
        Scalar::I16 => i16::from_le_bytes([b0, b1]) as i128,
        Scalar::U16 => u16::from_le_bytes([b0, b1]) as i128,
        Scalar::I32 => i32::from_le_bytes([b0, b1, b2, b3]) as i128,
        Scalar::U32 => u32::from_le_bytes([b0, b1, b2, b3]) as i128,
        Scalar::I64 => i64::from_le_bytes(b) as i128,
        Scalar::U64 => u64::from_le_bytes(b) as i128,
        Scalar::F32 => f32::from_le_bytes([b0, b1, b2, b3]) as i128,
        Scalar::F64 => f64::from_le_bytes(b) as i128,
    }
}

/// The values of `a` as f64.
fn floats(layout: &Layout, a: &ArrayDecl) -> std::result::Result<Vec<f64>, String> {
    match values(layout, a)? {
        Values::Bytes(b) => decode(layout, a, &b, as_f64),
        Values::Ascii(t) => t
            .split_ascii_whitespace()
            .map(|w| w.parse::<f64>().map_err(|_| format!("array {:?} has a non-number {w:?}", a.name)))
            .collect(),
    }
}

/// The values of `a` as i64 (refusing values outside i64).
fn integers(layout: &Layout, a: &ArrayDecl) -> std::result::Result<Vec<i64>, String> {
    let wide: Vec<i128> = match values(layout, a)? {
        Values::Bytes(b) => decode(layout, a, &b, as_i128)?,
        Values::Ascii(t) => t
            .split_ascii_whitespace()
            .map(|w| w.parse::<i128>().map_err(|_| format!("array {:?} has a non-integer {w:?}", a.name)))
            .collect::<std::result::Result<_, _>>()?,
    };
    wide.into_iter()
        .map(|v| i64::try_from(v).map_err(|_| format!("array {:?} has an out-of-range value {v}", a.name)))
        .collect()
}

/// The strings of a `String` array (characters, each string ended by a 0).
fn strings(layout: &Layout, a: &ArrayDecl) -> std::result::Result<Vec<String>, String> {
    let chars: Vec<u8> = integers(layout, a)?
        .into_iter()
        .map(|c| u8::try_from(c).map_err(|_| format!("array {:?} has a non-character {c}", a.name)))
        .collect::<std::result::Result<_, _>>()?;
    let mut out: Vec<String> =
        chars.split(|&c| c == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    if chars.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}
