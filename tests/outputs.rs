//! Outputs: a short run writes summary.json and fluid.pvd + .vti frames in SI units that read back
//! with vtkio; an interrupted run leaves complete, valid files.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::case;
use hemotwin::io::folder::Existing;
use hemotwin::io::vtk::read_vti;
use hemotwin::pipeline::{Event, Observer, RunOptions, run};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Sets `stop` once the run has done `at` steps (as Ctrl-C would).
struct StopAt {
    stop: Arc<AtomicBool>,
    at: u64,
}

impl Observer for StopAt {
    fn event(&self, event: &Event<'_>) {
        if let Event::Progress { step, .. } = event
            && *step >= self.at
        {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// summary.json without the figures that time the run (wall time, MLUPS).
fn untimed(dir: &std::path::Path) -> serde_json::Value {
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let map = json.as_object_mut().unwrap();
    map.remove("wall_time_s");
    map.remove("mlups");
    json
}

#[test]
fn a_resumed_run_reports_what_the_uninterrupted_run_does_and_refuses_a_changed_case() {
    // Pulsatile, with a Windkessel outlet, over two cycles: the resumed run must carry the cycle
    // averages, Pd/Pa, peaks and the outlet state across the interruption.
    let text = "[geometry]\nunits = \"mm\"\ngenerate = { shape = \"tube\", radius = 2.0, length = 8.0 }\n\
         [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nwaveform = \"carotid\"\nflow_rate = 2e-7\n\
         profile = \"womersley\"\nramp = 0.0\n[lattice]\ncells_across_inlet = 10\n\
         [run]\ncycles = 2\nbackend = \"cpu\"\nframes = 6\ncycle_tolerance = 0.0\n\
         [[outlets]]\nport = \"outlet\"\nproximal = 1e7\ncompliance = 1e-10\ndistal = 3e7\n";
    let case = hemotwin::case::Case::from_toml(text, std::path::Path::new("resume case")).unwrap();
    let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let opts = |dir: &tempfile::TempDir, existing| RunOptions {
        out_dir: Some(dir.path().to_path_buf()),
        existing,
        ..Default::default()
    };
    let a = run(&case, &opts(&straight, Existing::Refuse)).unwrap().summary;
    println!("straight: {} steps, {} Pa mean drop", a.steps, a.pressure_drop_pa);
    // Stopped within the second cycle, then resumed.
    let stop = Arc::new(AtomicBool::new(false));
    let observer = Arc::new(StopAt { stop: stop.clone(), at: a.steps * 2 / 3 });
    let first = RunOptions { stop, observer, ..opts(&split, Existing::Refuse) };
    let interrupted = run(&case, &first).unwrap().summary;
    println!("interrupted at step {}", interrupted.steps);
    assert!(interrupted.interrupted && interrupted.steps < a.steps);
    let b = run(&case, &opts(&split, Existing::Resume)).unwrap().summary;
    assert_eq!(b.steps, a.steps);
    assert_eq!(
        untimed(split.path()),
        untimed(straight.path()),
        "the CPU backend is deterministic: a resumed run's summary is the straight one's, every figure"
    );
    let ports = |dir: &tempfile::TempDir| std::fs::read_to_string(dir.path().join("ports.csv")).unwrap();
    assert_eq!(ports(&split), ports(&straight), "ports.csv keeps every row, bit for bit");
    // The case as run is kept beside its results, and reruns as it is.
    let rerun = hemotwin::case::Case::load(&split.path().join("case.toml")).unwrap();
    assert_eq!(
        hemotwin::identity::RunIdentity::of(&rerun, None).unwrap().case_hash,
        b.case_hash,
        "case.toml is the case that ran"
    );
    // A fresh run into a used folder, and a resume of an edited case, are refused.
    let e = run(&case, &opts(&split, Existing::Refuse)).unwrap_err().to_string();
    println!("fresh run into a used folder: {e}");
    assert!(e.contains("holds the results of another run") && e.contains("--overwrite"));
    let mut edited = case.clone();
    edited.fluid.viscosity *= 1.03;
    let e = run(&edited, &opts(&split, Existing::Resume)).unwrap_err();
    println!("resume of an edited case: {e}");
    assert!(matches!(e, hemotwin::Error::Folder { .. }));
    assert!(e.to_string().contains("fluid.viscosity: 0.0035 -> "), "the changed field is named: {e}");
    // --overwrite replaces the old run's files.
    let c = run(&edited, &opts(&split, Existing::Overwrite)).unwrap().summary;
    assert_ne!(c.case_hash, b.case_hash);
}
