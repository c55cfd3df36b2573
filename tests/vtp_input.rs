//! VTP input: a run's own wall.vtp (closed, with `port_id` face ids) read back as the input surface
//! gives the same ports and runs.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::case;
use hemotwin::case::Case;
use hemotwin::simulation::{RunOptions, load_vessel, run};
use std::path::Path;

#[test]
fn wall_vtp_with_face_ids_round_trips_into_the_same_ports() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = case("{ shape = \"tube\", radius = 2.0, length = 8.0 }", 2e-8, 10.0, "tau = 0.8");
    first.run.steps = Some(50);
    let opts = RunOptions { out_dir: Some(dir.path().join("a")), ..Default::default() };
    let a = run(&first, &opts).unwrap();
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
    let b = run(&second, &RunOptions { out_dir: Some(dir.path().join("b")), ..Default::default() }).unwrap();
    assert_eq!(a.fluid_cells, b.fluid_cells);
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
