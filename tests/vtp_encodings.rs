//! The .vtp reader on files written by VTK itself (tests/data/vtp, made by make_fixtures.py with
//! VTK 9.7.2) in every encoding: ascii, inline binary, appended raw and base64, zlib, LZ4, LZMA or none,
//! UInt32 and UInt64 headers, big-endian; all read to the same surface and face ids.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::geometry::io_stl::Units;
use hemotwin::geometry::io_vtp::read_vtp;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vtp").join(format!("{name}.vtp"))
}

#[test]
fn every_vtk_encoding_reads_to_the_same_surface() {
    let reference = read_vtp(&fixture("ascii"), Units::Millimetre).unwrap();
    let ids = reference.face_ids.clone().unwrap();
    println!(
        "ascii: {} vertices, {} triangles, face ids {:?}",
        reference.surface.vertices.len(),
        reference.surface.triangles.len(),
        {
            let mut u = ids.clone();
            u.dedup();
            u
        }
    );
    // 32 quads (2 triangles each) and two 32-gons (30 triangles each).
    assert_eq!((reference.surface.vertices.len(), reference.surface.triangles.len()), (128, 124));
    assert_eq!(ids.iter().filter(|&&i| i == 1).count(), 64);
    for name in [
        "binary_none_u32",
        "binary_zlib_u64",
        "binary_zlib_u32_bigendian",
        "appended_raw_none_u64",
        "appended_raw_zlib_u64",
        "appended_raw_zlib_u32",
        "appended_base64_zlib_u64",
        "appended_base64_none_u32",
        "appended_raw_lz4_u64",
        "binary_lz4_u32",
        "binary_lzma_u64",
        "appended_raw_lzma_u32",
    ] {
        let got = read_vtp(&fixture(name), Units::Millimetre).unwrap();
        let worst = got
            .surface
            .vertices
            .iter()
            .zip(&reference.surface.vertices)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        println!("{name}: largest point difference from ascii {worst:.2e} m");
        assert!(worst < 1e-9, "{name}");
        assert_eq!(got.surface.triangles, reference.surface.triangles, "{name}");
        assert_eq!(got.face_ids.as_ref(), Some(&ids), "{name}");
    }
}

#[test]
fn an_unknown_compressor_is_refused_by_name() {
    let text = std::fs::read_to_string(fixture("binary_zlib_u64")).unwrap();
    let bytes = text.replace("vtkZLibDataCompressor", "vtkBrotliDataCompressor");
    let e = hemotwin::geometry::io_vtp::parse_vtp(bytes.as_bytes(), Units::Millimetre).unwrap_err();
    println!("{e}");
    assert!(e.contains("vtkBrotliDataCompressor") && e.contains("zlib, LZ4, LZMA"), "{e}");
}

#[test]
fn the_corruptions_that_crashed_vtkio_are_refused_with_an_error() {
    let wall = std::fs::read(fixture("hemotwin_wall")).unwrap();
    let text = String::from_utf8(wall).unwrap();
    // Drop the 8 base64 characters before the end of the points array (which the reader reads).
    let piece = text.find("<Points>").unwrap();
    let end = piece + text[piece..].find("</DataArray>").unwrap();
    let cut = format!("{}{}", &text[..end - 8], &text[end..]);
    // Declare UInt32 headers without re-encoding the UInt64 ones.
    let relabelled = text.replacen("header_type=\"UInt64\"", "header_type=\"UInt32\"", 1);
    for (what, bytes) in [("cut base64", cut), ("UInt32 label", relabelled)] {
        let outcome = std::panic::catch_unwind(|| {
            hemotwin::geometry::io_vtp::parse_vtp(bytes.as_bytes(), Units::Metre)
        });
        let message = outcome.expect("the reader panicked").err();
        println!("{what}: {message:?}");
        assert!(message.is_some(), "{what}: a corrupt file was accepted");
    }
}
