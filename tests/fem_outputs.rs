//! `hemotwin wall` end to end on a generated tube: wall_fe.vtu (TET10 cells, SI arrays) and
//! summary.json (under `wall`), with the thin-wall hoop stress as a sanity check.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::case::Case;
use hemotwin::fem::write_pressure_vtp;
use hemotwin::gpu::BackendChoice;
use hemotwin::pipeline::{Silent, run_wall};
use std::path::Path;
use vtkio::model::{Attribute, CellType, DataSet};

mod wall;

/// A 2 mm radius, 1 mm long generated tube case (mm) with the `[wall]` section `wall`.
fn tube_case(wall: &str) -> Case {
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"tube\", radius = 2.0, length = 1.0 }}\n\
         [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nflow_rate = 1e-6\n\
         [lattice]\ncells_across_inlet = 8\n[run]\nsteps = 1\n[wall]\n{wall}\n"
    );
    Case::from_toml(&text, Path::new("test case")).unwrap()
}

#[test]
fn wall_run_writes_a_readable_vtu_and_summary_with_laplace_hoop_stress() {
    // 2 mm radius, 0.2 mm wall (10 %), 13.3 kPa: Laplace hoop stress p R / t = 133 kPa at mid-wall.
    let case = tube_case(
        "thickness = \"10%\"\nlayers = 2\npressure = 13300.0\n\
         material = { model = \"linear-elastic\", youngs_modulus = 1.0e6, poisson_ratio = 0.45 }",
    );
    let dir = tempfile::tempdir().unwrap();
    // What the flow wrote to summary.json stays there beside the wall's peaks.
    std::fs::write(dir.path().join("summary.json"), "{\"pressure_drop_pa\": 12.5}").unwrap();
    let (wall, _) = run_wall(&case, None, dir.path(), BackendChoice::Cpu, &Silent).unwrap();
    let s = &wall.solution.summary;
    let (r, t, p): (f64, f64, f64) = (2e-3, 0.2e-3, 13300.0);
    let lame_inner = p * (r * r + (r + t).powi(2)) / ((r + t).powi(2) - r * r);
    let laplace = p * (r + t / 2.0) / t;
    println!(
        "{} elements, {} dofs, min scaled Jacobian {:.3}: max hoop {:.4e} Pa (Laplace at mid-wall {laplace:.4e}, \
         Lamé at the inner surface {:.4e}), max displacement {:.3e} m, {} PCG iterations",
        s.elements,
        s.dofs,
        s.min_scaled_jacobian,
        s.max_hoop_pa,
        lame_inner,
        s.max_displacement_m,
        s.pcg_iterations
    );
    assert!((s.max_hoop_pa - lame_inner).abs() / lame_inner < 0.05);
    let vtk = vtkio::Vtk::import(dir.path().join("wall_fe.vtu")).unwrap();
    let DataSet::UnstructuredGrid { pieces, .. } = vtk.data else { panic!("not an unstructured grid") };
    let piece = pieces.into_iter().next().unwrap().into_loaded_piece_data(None).unwrap();
    assert!(piece.cells.types.iter().all(|t| *t == CellType::QuadraticTetra));
    assert_eq!(piece.cells.types.len(), s.elements);
    let names: Vec<String> = piece
        .data
        .point
        .iter()
        .map(|a| match a {
            Attribute::DataArray(d) => d.name.clone(),
            Attribute::Field { name, .. } => name.clone(),
        })
        .collect();
    for name in
        ["displacement_m", "stress_pa", "strain", "von_mises_pa", "max_principal_pa", "hoop_stress_pa"]
    {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap()).unwrap();
    assert!(json["wall_mechanics"]["max_von_mises_pa"].as_f64().unwrap() > 0.0);
    assert_eq!(json["pressure_drop_pa"].as_f64(), Some(12.5));
}

/// The same tube loaded by a wall.vtp whose point array `pressure` is uniform gives the uniform
/// pressure's solution (the file's points are the lumen vertices, in metres).
#[test]
fn wall_pressure_from_a_vtp_file_matches_the_uniform_load() {
    let case = tube_case(
        "thickness = \"0.2 mm\"\nlayers = 1\npressure = 13300.0\n\
         material = { model = \"linear-elastic\", youngs_modulus = 1.0e6, poisson_ratio = 0.3 }",
    );
    let vessel = hemotwin::pipeline::load_vessel(&case).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wall_vtp = dir.path().join("wall.vtp");
    write_pressure_vtp(&wall_vtp, &vessel.surface, &vec![13300.0; vessel.surface.vertices.len()]).unwrap();
    let uniform = run_wall(&case, None, &dir.path().join("uniform"), BackendChoice::Cpu, &Silent)
        .unwrap()
        .0
        .solution
        .summary;
    let mapped = run_wall(&case, Some(&wall_vtp), &dir.path().join("mapped"), BackendChoice::Cpu, &Silent)
        .unwrap()
        .0
        .solution
        .summary;
    let d = (mapped.max_von_mises_pa - uniform.max_von_mises_pa).abs() / uniform.max_von_mises_pa;
    println!(
        "uniform {:.6e} Pa, from wall.vtp {:.6e} Pa peak von Mises: relative difference {d:.1e}",
        uniform.max_von_mises_pa, mapped.max_von_mises_pa
    );
    assert!(d < 1e-9);
}

/// The implicit generators' vessels (a Y bifurcation with its carina, a sidewall aneurysm with its
/// neck) extrude into a wall of 10 % of the local radius without an inverted element: their
/// surfaces are cut square at the ports, filleted at the creases and freed of slivers.
#[test]
fn generated_bifurcation_and_aneurysm_extrude_into_a_valid_wall() {
    use hemotwin::fem::{Thickness, WallSpec, extrude};
    use hemotwin::geometry::ports::tag_triangles;
    let spec = WallSpec { thickness: Thickness::RadiusFraction(0.1), layers: 2, beyond_radius: false };
    for (name, surface, ports, axis) in wall::generated_vessels() {
        let mesh =
            extrude(&surface, &tag_triangles(&surface, &ports).unwrap(), &ports, &axis, &spec).unwrap();
        println!(
            "{name}: {} triangles, {} TET10 elements, min scaled Jacobian {:.3} at {:?} mm",
            surface.triangles.len(),
            mesh.elements.len(),
            mesh.min_scaled_jacobian,
            worst_element_mm(&mesh)
        );
        assert!(mesh.min_scaled_jacobian > 0.0, "{name}");
    }
}

/// Centre (mm, rounded to 0.01) of the element with the smallest scaled Jacobian.
fn worst_element_mm(mesh: &hemotwin::fem::WallMesh) -> [f64; 3] {
    let worst = wall::worst_element(mesh);
    let c = mesh.corners(worst).iter().fold(nalgebra::Vector3::zeros(), |s, p| s + p.coords) / 4.0;
    [c.x, c.y, c.z].map(|x| (x * 1e5).round() / 100.0)
}

#[test]
fn a_lumen_pressure_no_artery_holds_is_refused_before_meshing() {
    // 1e12 Pa is a unit slip; before the bound, it ran a full solve to a displacement of 1e4 m.
    let case = tube_case(
        "thickness = \"10%\"\npressure = 1.0e12\n\
         material = { model = \"linear-elastic\", youngs_modulus = 1.0e6, poisson_ratio = 0.45 }",
    );
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let e = run_wall(&case, None, dir.path(), BackendChoice::Cpu, &Silent).err().unwrap().to_string();
    println!("{e} ({:.3} s)", start.elapsed().as_secs_f64());
    assert!(e.starts_with("wall.pressure:") && e.contains("mmHg") && e.contains("in Pa"), "{e}");
    assert!(!dir.path().join("wall_fe.vtu").exists());
}

#[test]
fn a_wall_too_large_for_memory_is_refused_before_it_is_built() {
    let case = tube_case(
        "thickness = \"10%\"\nlayers = 1000000\npressure = 13300.0\n\
         material = { model = \"linear-elastic\", youngs_modulus = 1.0e6, poisson_ratio = 0.45 }",
    );
    let dir = tempfile::tempdir().unwrap();
    let e = run_wall(&case, None, dir.path(), BackendChoice::Cpu, &Silent).err().unwrap().to_string();
    println!("{e}");
    assert!(e.contains("the wall needs about") && e.contains("wall.layers"), "{e}");
}
