//! Bad input: each defect gives a clear error naming the problem, a non-zero exit, and no output.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::geometry::io_stl::{Units, write_stl};
use hemotwin::geometry::synth::{TubeSpec, tube};
use std::path::Path;
use std::process::Command;

/// A case for `stl` with the tube's ports, in mm; `fluid`, `flow` and `cells` are spliced in.
fn case_text(stl: &Path, viscosity: &str, flow: &str, cells: &str) -> String {
    format!(
        "[geometry]\nsurface = \"{}\"\nunits = \"mm\"\n\
         ports = [ {{ name = \"in\", role = \"inlet\", center = [0, 0, 0], normal = [0, 0, -1], radius = 2 }},\n\
                   {{ name = \"out\", role = \"outlet\", center = [0, 0, 16], normal = [0, 0, 1], radius = 2 }} ]\n\
         [fluid]\ndensity = 1060.0\nviscosity = {viscosity}\n\
         [inflow]\nflow_rate = {flow}\n\
         [lattice]\ncells_across_inlet = {cells}\n\
         [run]\nsteps = 100\nbackend = \"cpu\"\n",
        stl.display()
    )
}

/// Runs `hemotwin run` on the case; asserts a failure whose message contains every one of `needles`
/// and that the output folder holds no file.
fn assert_refused(dir: &Path, case: &str, needles: &[&str]) {
    let case_path = dir.join("case.toml");
    std::fs::write(&case_path, case).unwrap();
    let out = dir.join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_hemotwin"))
        .arg("run")
        .arg(&case_path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!(
        "{}",
        stderr
            .lines()
            .filter(|l| l.starts_with("error: ") && !l.contains("XDG"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!run.status.success(), "expected a failure; stderr: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "message lacks {n:?}: {stderr}");
    }
    let leftovers: Vec<_> =
        std::fs::read_dir(&out).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "output left behind: {leftovers:?}");
}

fn good_tube(dir: &Path) -> std::path::PathBuf {
    let (surface, _) = tube(&TubeSpec { radius: 2e-3, length: 16e-3 }, 64).unwrap();
    let path = dir.join("tube.stl");
    write_stl(&path, &surface, Units::Millimetre).unwrap();
    path
}

#[test]
fn empty_truncated_and_non_stl_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    let bytes = std::fs::read(&stl).unwrap();
    let cases: [(&[u8], &[&str]); 3] = [
        (b"", &["tube.stl", "empty"]),
        (&bytes[..bytes.len() - 75], &["tube.stl", "truncated"]),
        (b"ply\nformat ascii 1.0\nelement vertex 3\nend_header\n", &["tube.stl", "STL"]),
    ];
    for (content, needles) in cases {
        std::fs::write(&stl, content).unwrap();
        assert_refused(dir.path(), &case_text(&stl, "3.5e-3", "1e-7", "8"), needles);
    }
}

#[test]
fn nan_coordinates_are_refused_naming_the_triangle() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    let mut bytes = std::fs::read(&stl).unwrap();
    // First triangle record starts at byte 84: normal (12 bytes), then vertex 0 x.
    bytes[96..100].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&stl, bytes).unwrap();
    assert_refused(dir.path(), &case_text(&stl, "3.5e-3", "1e-7", "8"), &["non-finite", "triangle 0"]);
}

#[test]
fn a_surface_with_a_hole_is_refused_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let (mut surface, _) = tube(&TubeSpec { radius: 2e-3, length: 16e-3 }, 64).unwrap();
    surface.triangles.remove(100);
    let stl = dir.path().join("holed.stl");
    write_stl(&stl, &surface, Units::Millimetre).unwrap();
    assert_refused(dir.path(), &case_text(&stl, "3.5e-3", "1e-7", "8"), &["holed.stl", "1 hole", "cap"]);
}

#[test]
fn non_positive_viscosity_and_flow_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    assert_refused(dir.path(), &case_text(&stl, "0.0", "1e-7", "8"), &["fluid.viscosity", "positive"]);
    assert_refused(dir.path(), &case_text(&stl, "-1e-3", "1e-7", "8"), &["fluid.viscosity"]);
    assert_refused(dir.path(), &case_text(&stl, "3.5e-3", "-1e-7", "8"), &["inflow.flow_rate", "positive"]);
    assert_refused(dir.path(), &case_text(&stl, "3.5e-3", "0.0", "8"), &["inflow.flow_rate"]);
}

#[test]
fn a_lattice_too_large_for_memory_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    assert_refused(
        dir.path(),
        &case_text(&stl, "3.5e-3", "1e-7", "3000"),
        &["needs about", "GiB", "cells_across_inlet"],
    );
}

#[test]
fn a_memory_budget_no_lattice_fits_asks_for_a_budget_that_does() {
    // The advice must be one the case accepts: never "cells_across_inlet = 0 or fewer".
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    let case = case_text(&stl, "3.5e-3", "1e-7", "8").replace("[run]\n", "[run]\nmax_memory_gib = 1e-6\n");
    assert_refused(
        dir.path(),
        &case,
        &["not even the coarsest lattice", "raise run.max_memory_gib to at least"],
    );
    // The advised budget, taken from the message, runs the coarsest lattice.
    let first = Command::new(env!("CARGO_BIN_EXE_hemotwin"))
        .args(["run", "case.toml", "--out", "again"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&first.stderr).to_string();
    let budget: f64 = message
        .split("to at least ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no budget advised: {message}"));
    assert!(budget > 0.0 && budget.is_finite());
    let retry = case
        .replace("max_memory_gib = 1e-6", &format!("max_memory_gib = {budget}"))
        .replace("cells_across_inlet = 8", "cells_across_inlet = 4");
    std::fs::write(dir.path().join("retry.toml"), retry).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_hemotwin"))
        .args(["run", "retry.toml", "--out", "retry"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    // The set-up accepts the budget and the run ends with a summary (4 cells across in 100 steps
    // may well fail the validity gate: that is the lattice's coarseness, not the budget).
    assert!(
        dir.path().join("retry/summary.json").exists(),
        "the advised budget runs: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn an_operating_system_error_is_printed_once() {
    let run = Command::new(env!("CARGO_BIN_EXE_hemotwin"))
        .args(["run", "/nonexistent/case.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("{stderr}");
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/case.toml"));
}

#[test]
fn a_typo_in_the_case_file_names_the_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    let text = case_text(&stl, "3.5e-3", "1e-7", "8").replace("density =", "densty =");
    assert_refused(dir.path(), &text, &["case.toml", "densty", "line"]);
}

#[test]
fn surfaces_in_the_wrong_units_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    let text = case_text(&stl, "3.5e-3", "1e-7", "8").replace("units = \"mm\"", "units = \"m\"");
    assert_refused(dir.path(), &text, &["units"]);
}

#[test]
fn ports_that_do_not_match_the_surface_are_refused_naming_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let stl = good_tube(dir.path());
    let text = case_text(&stl, "3.5e-3", "1e-7", "8");
    let out_port = "center = [0, 0, 16], normal = [0, 0, 1], radius = 2";
    assert!(text.contains(out_port));
    for (port, needles) in [
        // A radius three times the opening's.
        ("center = [0, 0, 16], normal = [0, 0, 1], radius = 6", &["geometry.ports.out", "3.00 times"][..]),
        // A plane that cuts nothing: 10 mm beyond the tube's end.
        ("center = [0, 0, 26], normal = [0, 0, 1], radius = 2", &["geometry.ports.out", "cap radii"][..]),
        // A plane across the tube's middle, where no cap lies.
        ("center = [0, 0, 8], normal = [0, 0, 1], radius = 2", &["geometry.ports.out", "flat caps"][..]),
        // The right cap with a normal pointing into the vessel.
        (
            "center = [0, 0, 16], normal = [0, 0, -1], radius = 2",
            &["geometry.ports.out", "points into the vessel"][..],
        ),
        // Both ports on one cap.
        (
            "center = [0, 0, 0], normal = [0, 0, -1], radius = 2",
            &["geometry.ports.out", "same cap", "\"in\""][..],
        ),
    ] {
        assert_refused(dir.path(), &text.replace(out_port, port), needles);
    }
}

#[test]
fn a_generated_vessel_too_fine_for_memory_is_refused_before_its_surface_is_built() {
    // Before the check came first, this built a 2000-facet surface (5 GB, over a minute) and only
    // then refused the lattice.
    let dir = tempfile::tempdir().unwrap();
    let case = "[geometry]\nunits = \"mm\"\n\
                generate = { shape = \"stenosis\", radius = 2.0, length = 16.0, area_reduction_percent = 75.0, \
                stenosis_length = 4.0, center = 8.0 }\n\
                [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nflow_rate = 1e-6\n\
                [lattice]\ncells_across_inlet = 500\n[run]\nsteps = 100\nbackend = \"cpu\"\nmax_memory_gib = 4.0\n";
    assert_refused(dir.path(), case, &["the lattice needs about", "cells_across_inlet = "]);
}
