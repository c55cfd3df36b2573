//! VTP input: a run's own wall.vtp (closed, with `port_id` face ids) read back as the input surface
//! gives the same ports and runs.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::case;
use hemotwin::case::Case;
use hemotwin::pipeline::{RunOptions, load_vessel, run};
use std::path::Path;

#[test]
fn wall_vtp_with_face_ids_round_trips_into_the_same_ports() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = case("{ shape = \"tube\", radius = 2.0, length = 8.0 }", 2e-8, 10.0, "tau = 0.8");
    first.run.steps = Some(50);
    let opts = RunOptions { out_dir: Some(dir.path().join("a")), ..Default::default() };
    let a = run(&first, &opts).unwrap().summary;
    let text = format!(
        "[geometry]\nsurface = \"{}\"\nunits = \"m\"\n[fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
         [inflow]\nflow_rate = 2e-8\n[lattice]\ncells_across_inlet = 10\ntau = 0.8\n[run]\nsteps = 50\nbackend = \"cpu\"\n",
        dir.path().join("a/wall.vtp").display()
    );
    let second = Case::from_toml(&text, Path::new("vtp case")).unwrap();
    let vessel = load_vessel(&second).unwrap();
    println!("{:?}", vessel.notes);
    assert_eq!(vessel.ports.len(), 2);
    for (p, q) in vessel.ports.iter().zip(&load_vessel(&first).unwrap().ports) {
        println!(
            "{}: centre {:?} vs {:?}, radius {:.6e} vs {:.6e}",
            p.name, p.center, q.center, p.radius, q.radius
        );
        assert!(
            (p.center - q.center).norm() < 1e-9
                && (p.radius / q.radius - 1.0).abs() < 1e-3
                && (p.normal - q.normal).norm() < 1e-9
        );
    }
    let b = run(&second, &RunOptions { out_dir: Some(dir.path().join("b")), ..Default::default() })
        .unwrap()
        .summary;
    assert_eq!(a.fluid_cells, b.fluid_cells);
}

#[test]
fn wall_vtp_keeps_port_names_roles_and_direction_when_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (surface, _) = hemotwin::geometry::synth::tube(
        &hemotwin::geometry::synth::TubeSpec { radius: 2e-3, length: 8e-3 },
        64,
    )
    .unwrap();
    let stl = dir.path().join("tube.stl");
    hemotwin::geometry::io_stl::write_stl(&stl, &surface, hemotwin::geometry::io_stl::Units::Millimetre)
        .unwrap();
    let text = |surface: &Path, units: &str, ports: &str| {
        format!(
            "[geometry]\nsurface = \"{}\"\nunits = \"{units}\"\n{ports}\n[fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
             [inflow]\nflow_rate = 2e-8\n[lattice]\ncells_across_inlet = 8\ntau = 0.8\n[run]\nsteps = 20\nbackend = \"cpu\"\n",
            surface.display()
        )
    };
    // The inlet listed second, at the far end (z = 8 mm), flowing towards z = 0.
    let ports = "ports = [ { name = \"distal\", role = \"outlet\", center = [0, 0, 0], normal = [0, 0, -1], radius = 2 },\n\
                 { name = \"proximal\", role = \"inlet\", center = [0, 0, 8], normal = [0, 0, 1], radius = 2 } ]";
    let first = Case::from_toml(&text(&stl, "mm", ports), Path::new("stl case")).unwrap();
    run(&first, &RunOptions { out_dir: Some(dir.path().join("a")), ..Default::default() }).unwrap();
    let second =
        Case::from_toml(&text(&dir.path().join("a/wall.vtp"), "m", ""), Path::new("vtp case")).unwrap();
    let (a, b) = (load_vessel(&first).unwrap(), load_vessel(&second).unwrap());
    println!("{:?}", b.notes);
    for k in 0..2 {
        println!(
            "{} {:?} {:?} / {} {:?} {:?}",
            a.ports[k].name, a.roles[k], a.ports[k].normal, b.ports[k].name, b.roles[k], b.ports[k].normal
        );
        assert_eq!((&a.ports[k].name, a.roles[k]), (&b.ports[k].name, b.roles[k]));
        assert!(
            (a.ports[k].normal - b.ports[k].normal).norm() < 1e-9
                && (a.ports[k].center - b.ports[k].center).norm() < 1e-9
        );
    }
    assert_eq!(a.tags, b.tags);
}

#[test]
fn vtp_that_is_not_a_surface_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.vtp");
    std::fs::write(&bad, "<VTKFile type=\"ImageData\"></VTKFile>").unwrap();
    let err = hemotwin::geometry::io_vtp::read_vtp(&bad, hemotwin::geometry::io_stl::Units::Millimetre)
        .unwrap_err()
        .to_string();
    println!("{err}");
    assert!(err.contains("bad.vtp"));
}

#[test]
fn mesh_check_reads_a_vtp_and_reports_its_named_ports() {
    let wall = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vtp/hemotwin_wall.vtp");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hemotwin"))
        .args(["mesh", "check", wall.to_str().unwrap(), "--units", "auto", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("exit {:?}, ports {}", out.status.code(), json["ports"]);
    assert_eq!((out.status.code(), json["ready_to_run"].as_bool()), (Some(0), Some(true)));
    let roles: Vec<(&str, &str)> = json["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("inlet", "inlet"), ("outlet", "outlet")]);
}
