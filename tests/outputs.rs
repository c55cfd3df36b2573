//! Outputs: a short run writes summary.json and fluid.pvd + .vti frames in SI units that read back
//! with vtkio; an interrupted run leaves complete, valid files.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::case;
use hemotwin::io::vtk::read_vti;
use hemotwin::pipeline::{RunOptions, run};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn short_case(steps: u64) -> hemotwin::case::Case {
    let mut c = case(
        "{ shape = \"stenosis\", radius = 2.0, length = 12.0, area_reduction_percent = 50.0, stenosis_length = 4.0, center = 6.0 }",
        2.0e-7,
        10.0,
        "mach = 0.05",
    );
    c.run.steps = Some(steps);
    c.run.frames = 2;
    c
}

#[test]
fn run_writes_summary_and_si_frames_that_read_back_with_vtkio() {
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let mut case = short_case(400);
    case.indices.point = Some([0.0, 0.0, 9e-3]);
    let s = run(&case, &opts).unwrap().summary;
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    for key in [
        "lattice",
        "backend",
        "mlups",
        "inlet_pressure_pa",
        "pressure_drop_pa",
        "inflow_m3_s",
        "mass_conservation_error",
    ] {
        assert!(json.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(json["lattice"]["tau"].as_f64().unwrap(), s.lattice.tau);
    let pvd = std::fs::read_to_string(dir.path().join("fluid.pvd")).unwrap();
    assert_eq!(pvd.matches("<DataSet").count(), 2, "{pvd}");
    assert!(pvd.contains(&format!("{:e}", 400.0 * s.lattice.dt_s)), "last TimeValue in seconds: {pvd}");
    let (grid, arrays) = read_vti(&dir.path().join("fluid_00000400.vti")).unwrap();
    let n = grid.dims.iter().product::<usize>();
    let get = |name: &str| arrays.iter().find(|(a, _)| a == name).map(|(_, v)| v.clone()).unwrap();
    let (velocity, pressure, fluid) = (get("velocity"), get("pressure"), get("fluid"));
    assert_eq!((velocity.len(), pressure.len(), fluid.len()), (3 * n, n, n));
    assert_eq!(fluid.iter().filter(|&&f| f == 1.0).count(), s.fluid_cells);
    let u_max =
        velocity.chunks(3).map(|u| (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt()).fold(0.0f32, f32::max);
    let p_max = pressure.iter().cloned().fold(f32::MIN, f32::max);
    println!(
        "frame: {:?} points, spacing {:.3e} m, max |u| {u_max:.4} m/s, max p {p_max:.3} Pa",
        grid.dims, grid.spacing
    );
    // Mean inlet velocity is 2e-7 / (pi 4e-6) = 0.016 m/s: SI velocities are of that order, not lattice units.
    assert!(u_max > 0.01 && u_max < 0.2, "velocity not in m/s? max {u_max}");
    assert!((grid.spacing / s.lattice.dx_m - 1.0).abs() < 1e-6);
    for (file, caps_only) in [("wall.vtp", false), ("ports.vtp", true)] {
        let vtk = vtkio::Vtk::import(dir.path().join(file)).unwrap();
        let vtkio::model::DataSet::PolyData { pieces, .. } = vtk.data else {
            panic!("{file} is not PolyData")
        };
        let piece = pieces.into_iter().next().unwrap().into_loaded_piece_data(None).unwrap();
        let n = piece.polys.as_ref().unwrap().num_cells();
        let ids = match &piece.data.cell[0] {
            vtkio::model::Attribute::DataArray(a) => a.data.clone().cast_into::<i32>().unwrap(),
            other => panic!("{other:?}"),
        };
        println!(
            "{file}: {n} triangles, port ids {:?}",
            ids.iter().collect::<std::collections::BTreeSet<_>>()
        );
        assert_eq!(ids.len(), n);
        assert!(ids.contains(&0) && ids.contains(&1));
        assert_eq!(ids.contains(&-1), !caps_only, "{file}: wall triangles present only in wall.vtp");
        let names: Vec<String> = piece
            .data
            .point
            .iter()
            .map(|a| match a {
                vtkio::model::Attribute::DataArray(a) => a.name.clone(),
                vtkio::model::Attribute::Field { name, .. } => name.clone(),
            })
            .collect();
        println!("{file}: point arrays {names:?}");
        if !caps_only {
            for want in ["tawss_pa", "osi", "rrt_per_pa", "pressure_pa", "wss_pa"] {
                assert!(names.iter().any(|n| n == want), "wall.vtp lacks {want}");
            }
        }
    }
    let csv = std::fs::read_to_string(dir.path().join("ports.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    println!("ports.csv: {} rows, header {header}", csv.lines().count() - 1);
    assert!(
        header.starts_with("time_s,") && header.contains("_flow_m3_s") && header.contains("_pressure_pa")
    );
    assert!(csv.lines().count() > 2);
    assert!(s.wall.tawss_max_pa > 0.0 && s.wall.vertices > 0);
    // Pd/Pa: the lowest pressure along the centerline lies past the throat (z = 6 mm) and is at
    // least as low as the outlet's.
    let pd = s.pd_pa_min.as_ref().unwrap();
    let outlet_ratio = 1.0 - s.pressure_drop_pa / pd.aortic_pressure_pa;
    println!(
        "Pd/Pa min {:.6} at z = {:.2} mm (abscissa {:.2} mm); the outlet's {outlet_ratio:.6}",
        pd.ratio,
        pd.point_m[2] * 1e3,
        pd.abscissa_m * 1e3
    );
    assert!(pd.ratio < 1.0 && pd.ratio <= outlet_ratio + 1e-6);
    assert!(pd.point_m[2] > 6e-3);
    let at = s.pd_pa_at_point.as_ref().unwrap();
    println!("Pd/Pa at the named point (0, 0, 9) mm: {:.6} at z = {:.2} mm", at.ratio, at.point_m[2] * 1e3);
    assert!((at.point_m[2] - 9e-3).abs() < s.lattice.dx_m && at.ratio >= pd.ratio);
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn an_interrupted_run_writes_valid_partial_results() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(true));
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), stop, ..Default::default() };
    let s = run(&short_case(100_000), &opts).unwrap().summary;
    println!("interrupted after {} of 100000 steps", s.steps);
    assert!(s.interrupted && s.steps < 100_000);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["interrupted"], true);
    let frame = format!("fluid_{:08}.vti", s.steps);
    read_vti(&dir.path().join(&frame)).unwrap();
    assert!(std::fs::read_to_string(dir.path().join("fluid.pvd")).unwrap().contains(&frame));
}

#[test]
fn a_resumed_run_continues_exactly_where_its_checkpoint_left_off() {
    let text = |steps: u64| {
        format!(
            "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"tube\", radius = 2.0, length = 8.0 }}\n\
             [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nwaveform = \"carotid\"\nflow_rate = 2e-7\n\
             profile = \"womersley\"\nramp = 0.0\n[lattice]\ncells_across_inlet = 10\n\
             [run]\nsteps = {steps}\nbackend = \"cpu\"\nframes = 2\n\
             [[outlets]]\nport = \"outlet\"\nproximal = 1e7\ncompliance = 1e-10\ndistal = 3e7\n"
        )
    };
    let case =
        |steps| hemotwin::case::Case::from_toml(&text(steps), std::path::Path::new("resume case")).unwrap();
    let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let opts = |dir: &tempfile::TempDir, resume| RunOptions {
        out_dir: Some(dir.path().to_path_buf()),
        resume,
        ..Default::default()
    };
    let a = run(&case(1200), &opts(&straight, false)).unwrap().summary;
    run(&case(600), &opts(&split, false)).unwrap();
    let b = run(&case(1200), &opts(&split, true)).unwrap().summary;
    let (pa, pb) = (a.ports[0].measure.mean_pressure_pa, b.ports[0].measure.mean_pressure_pa);
    let (qa, qb) = (a.ports[1].measure.flow_m3_s, b.ports[1].measure.flow_m3_s);
    println!(
        "straight: inlet {pa:.9e} Pa, outflow {qa:.9e}; resumed at 600: inlet {pb:.9e} Pa, outflow {qb:.9e}"
    );
    assert_eq!(b.steps, 1200);
    assert_eq!(
        (pa, qa),
        (pb, qb),
        "the CPU backend is deterministic: a resumed run is bitwise the straight one"
    );
    let rows = std::fs::read_to_string(split.path().join("ports.csv")).unwrap().lines().count();
    let straight_rows = std::fs::read_to_string(straight.path().join("ports.csv")).unwrap().lines().count();
    assert_eq!(rows, straight_rows, "ports.csv keeps the rows before the checkpoint");
    let mut case_changed = case(1200);
    case_changed.lattice.cells_across_inlet = Some(hemotwin::case::CellsAcross::Count(12.0));
    let e = run(&case_changed, &opts(&split, true)).unwrap_err().to_string();
    println!("error: {e}");
    assert!(e.contains("checkpoint") && e.contains("start from rest instead of resuming"));
}
