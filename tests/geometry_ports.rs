//! Ports of surface files: flat caps of closed surfaces found without ports, ports of the case
//! file matched to the surface within stated tolerances, and mismatches refused naming the port.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::case::{Case, GenerateSpec};
use hemotwin::geometry::io_stl::{Units, write_stl};
use hemotwin::geometry::vessel::generate;
use hemotwin::pipeline::{RunOptions, load_vessel, run};
use std::path::Path;

/// A closed Y bifurcation (parent radius 2 mm, daughters 1.6 and 1.3 mm) written to `dir` as an
/// STL in mm, each flat cap's inner vertices moved along its normal by `fraction` of the cap radius,
/// alternately out and in (the rim stays on the wall).
fn perturbed_bifurcation(dir: &Path, fraction: f64) -> std::path::PathBuf {
    let spec = GenerateSpec::Bifurcation {
        radius: 2.0,
        length: 10.0,
        daughter_radii: vec![1.6, 1.3],
        angle_degrees: 60.0,
        daughter_length: 10.0,
    };
    let (mut surface, ports) = generate(&spec, 1e-3, 64).unwrap();
    for (i, v) in surface.vertices.iter_mut().enumerate() {
        for p in &ports {
            let d = *v - p.center;
            let axial = d.dot(&p.normal);
            if axial.abs() < 1e-9 && (d - p.normal * axial).norm() < 0.999 * p.radius {
                *v += p.normal * (fraction * p.radius * if i % 2 == 0 { 1.0 } else { -1.0 });
            }
        }
    }
    let path = dir.join("bifurcation.stl");
    write_stl(&path, &surface, Units::Millimetre).unwrap();
    path
}

/// A case for the surface `stl` in `units`, `ports` spliced into [geometry], `steps` CPU steps.
fn case_for(stl: &Path, units: &str, ports: &str, steps: u32) -> Case {
    let text = format!(
        "[geometry]\nsurface = \"{}\"\nunits = \"{units}\"\n{ports}\n\
         [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
         [inflow]\nflow_rate = 2e-7\nramp = 0.0\n\
         [lattice]\ncells_across_inlet = 8\n\
         [run]\nsteps = {steps}\nbackend = \"cpu\"\n",
        stl.display()
    );
    Case::from_toml(&text, Path::new("case.toml")).unwrap()
}

#[test]
fn closed_vessel_with_caps_one_percent_out_of_plane_runs_without_ports() {
    let dir = tempfile::tempdir().unwrap();
    let stl = perturbed_bifurcation(dir.path(), 0.01);
    let case = case_for(&stl, "auto", "", 300);
    let vessel = load_vessel(&case).unwrap();
    println!("{}", vessel.notes.join("\n"));
    let names: Vec<&str> = vessel.ports.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["inlet", "outlet1", "outlet2"]);
    for ((p, f), r) in vessel.ports.iter().zip(&vessel.planarity).zip([2e-3, 1.6e-3, 1.3e-3]) {
        println!("{}: radius {:.4} mm, planarity {:.4}", p.name, p.radius * 1e3, f);
        assert!((p.radius / r - 1.0).abs() < 0.01 && *f > 0.005 && *f <= 0.02);
    }
    assert!(vessel.ports[0].normal.z < -0.999, "the inlet faces out of the parent's end");
    let summary = run(&case, &RunOptions { out_dir: Some(dir.path().join("out")), ..Default::default() })
        .unwrap()
        .summary;
    let outlets: Vec<f64> = summary.ports[1..].iter().map(|p| p.measure.flow_m3_s).collect();
    println!(
        "after {} steps: inflow {:.3e} m^3/s (imposed 2e-7), outlet flows {outlets:?}",
        summary.steps, summary.inflow_m3_s
    );
    // 8 cells across and 300 steps: the section reads the imposed flow within 25% (a check that
    // flow enters, not of accuracy).
    assert!((summary.inflow_m3_s / 2e-7 - 1.0).abs() < 0.25);
    assert!(outlets.iter().all(|&q| q > 0.1 * 2e-7));
}

/// Runs `hemotwin mesh check` with `args`; returns the exit code and stdout.
fn mesh_check(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hemotwin"))
        .arg("mesh")
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn mesh_check_reports_the_ports_run_uses_with_auto_units() {
    let dir = tempfile::tempdir().unwrap();
    let stl = perturbed_bifurcation(dir.path(), 0.01);
    let vessel = load_vessel(&case_for(&stl, "auto", "", 1)).unwrap();
    let (code, text) = mesh_check(&[stl.to_str().unwrap(), "--units", "auto", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    println!("exit {code}, ports {}", json["ports"]);
    assert_eq!((code, json["ready_to_run"].as_bool(), json["units"].as_str()), (0, Some(true), Some("mm")));
    let ports = json["ports"].as_array().unwrap();
    assert_eq!(ports.len(), vessel.ports.len());
    for (j, p) in ports.iter().zip(&vessel.ports) {
        let c: Vec<f64> = j["center"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(j["name"].as_str(), Some(p.name.as_str()));
        assert!((nalgebra::Point3::new(c[0], c[1], c[2]) * 1e-3 - p.center).norm() < 1e-9);
        assert!(j["planarity"].as_f64().unwrap() > 0.005 && j["radius"].as_f64().unwrap() > 1.0);
    }
    assert_eq!(ports[0]["role"].as_str(), Some("inlet"));
    // The same vessel with open ends: `run` caps them itself, so the check does not ask to.
    let mut open = hemotwin::geometry::io_stl::read_stl(&stl, Units::Millimetre).unwrap();
    let caps = hemotwin::geometry::caps::find_flat_caps(&open);
    let drop: std::collections::HashSet<u32> =
        caps.iter().flat_map(|c| c.triangles.iter().copied()).collect();
    open.triangles = open
        .triangles
        .iter()
        .enumerate()
        .filter(|(t, _)| !drop.contains(&(*t as u32)))
        .map(|(_, t)| *t)
        .collect();
    let open_stl = dir.path().join("open.stl");
    write_stl(&open_stl, &open, Units::Millimetre).unwrap();
    let (code, text) = mesh_check(&[open_stl.to_str().unwrap(), "--units", "auto"]);
    println!("{text}");
    assert_eq!(code, 0);
    assert!(
        text.contains("3 open ends capped flat")
            && text.contains("outlet2 (outlet)")
            && !text.contains("close each hole")
    );
}

/// The message of `Case::from_toml(text)` or of loading its vessel, whichever fails first.
fn refusal(text: &str) -> String {
    let e = match Case::from_toml(text, Path::new("case.toml")) {
        Err(e) => e.to_string(),
        Ok(case) => load_vessel(&case).err().expect("expected a refusal").to_string(),
    };
    println!("{e}");
    e
}

/// A closed tube of radius 2 mm and length 16 mm (equal caps) in `dir`, as STL in mm.
fn tube_stl(dir: &Path) -> std::path::PathBuf {
    let (surface, _) = hemotwin::geometry::synth::tube(
        &hemotwin::geometry::synth::TubeSpec { radius: 2e-3, length: 16e-3 },
        64,
    )
    .unwrap();
    let path = dir.join("tube.stl");
    write_stl(&path, &surface, Units::Millimetre).unwrap();
    path
}

#[test]
fn equal_caps_need_an_inlet_choice_and_geometry_inlet_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let stl = tube_stl(dir.path());
    let text = |extra: &str| {
        format!(
            "[geometry]\nsurface = \"{}\"\nunits = \"mm\"\n{extra}\n[fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
             [inflow]\nflow_rate = 1e-7\n[lattice]\ncells_across_inlet = 8\n[run]\nsteps = 1\nbackend = \"cpu\"\n",
            stl.display()
        )
    };
    let e = refusal(&text(""));
    assert!(
        e.contains("cannot be told by size") && e.contains("inlet = [x, y, z]") && e.contains("(0, 0, 16)"),
        "{e}"
    );
    let case = Case::from_toml(&text("inlet = [0, 0, 16]"), Path::new("case.toml")).unwrap();
    let vessel = load_vessel(&case).unwrap();
    let at: Vec<(&str, f64, f64)> =
        vessel.ports.iter().map(|p| (p.name.as_str(), p.center.z, p.normal.z)).collect();
    println!("{at:?}");
    assert!(at[0].0 == "inlet" && (at[0].1 - 16e-3).abs() < 1e-9 && at[0].2 > 0.99 && at[1].1.abs() < 1e-9);
    // The inlet's cap carries tag 1: its triangles lie at z = 16 mm.
    let on_inlet = vessel.surface.triangles.iter().zip(&vessel.tags).filter(|(_, t)| **t == 1);
    assert!(
        on_inlet.clone().count() == 64
            && on_inlet.into_iter().all(|(t, _)| vessel.surface.vertices[t[0] as usize].z > 15.9e-3)
    );
    assert!(refusal(&text("inlet = [0, 0, 8]")).contains("geometry.inlet"));
}

#[test]
fn duplicate_port_names_and_outlet_models_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stl = tube_stl(dir.path());
    let text = |ports: &str, outlets: &str| {
        format!(
            "[geometry]\nsurface = \"{}\"\nunits = \"mm\"\nports = [ {{ name = \"in\", role = \"inlet\", center = [0, 0, 0], \
             normal = [0, 0, -1], radius = 2 }}, {{ name = \"{ports}\", role = \"outlet\", center = [0, 0, 16], normal = [0, 0, 1], \
             radius = 2 }} ]\n[fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nflow_rate = 1e-7\n\
             [lattice]\ncells_across_inlet = 8\n[run]\nsteps = 1\nbackend = \"cpu\"\n{outlets}",
            stl.display()
        )
    };
    let e = refusal(&text("in", ""));
    assert!(e.contains("geometry.ports.in") && e.contains("two ports"), "{e}");
    let two = "[[outlets]]\nport = \"out\"\npressure = 0.0\n[[outlets]]\nport = \"out\"\nresistance = 1e8\n";
    let e = refusal(&text("out", two));
    assert!(e.contains("outlets[1].port") && e.contains("outlets[0]"), "{e}");
}

#[test]
fn mesh_check_of_a_case_file_reports_the_case_ports() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("meshes/stenosis75_stl.toml");
    let (code, text) = mesh_check(&[case.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ports: Vec<(&str, &str, f64)> = json["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["role"].as_str().unwrap(), p["center"][2].as_f64().unwrap()))
        .collect();
    println!("exit {code}, file {}, ports {ports:?}", json["file"]);
    assert_eq!(code, 0);
    assert!(json["file"].as_str().unwrap().ends_with("stenosis75_r2_l32.stl"));
    assert_eq!(
        ports.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        [("inlet", "inlet"), ("outlet", "outlet")]
    );
    assert!(ports[0].2.abs() < 1e-6 && (ports[1].2 - 32.0).abs() < 1e-6);
}
