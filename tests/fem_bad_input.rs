//! Bad wall input gives errors that name the field at fault.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Axis, Material, Model, Pressure, Thickness, WallSolver, WallSpec, extrude};
use hemotwin::geometry::ports::tag_triangles;
use hemotwin::geometry::synth::{StenosisSpec, stenosis};
use hemotwin::gpu::BackendChoice;
use wall::{cylinder, problem};

#[test]
fn wall_too_thick_for_a_tight_stenosis_is_refused_as_inverted() {
    let spec = StenosisSpec {
        radius: 2e-3,
        length: 12e-3,
        area_reduction: 0.9,
        stenosis_length: 3e-3,
        center: 6e-3,
        eccentricity: 0.0,
    };
    let (surface, ports) = stenosis(&spec, 32).unwrap();
    let axis = Axis::between_ports(&ports).unwrap();
    let thin = extrude(
        &surface,
        &tag_triangles(&surface, &ports).unwrap(),
        &ports,
        &axis,
        &WallSpec { thickness: Thickness::Absolute(0.1e-3), layers: 2, beyond_radius: false },
    );
    println!("0.1 mm wall: min scaled Jacobian {:.3}", thin.as_ref().unwrap().min_scaled_jacobian);
    let e = extrude(
        &surface,
        &tag_triangles(&surface, &ports).unwrap(),
        &ports,
        &axis,
        &WallSpec { thickness: Thickness::Absolute(3e-3), layers: 2, beyond_radius: true },
    )
    .unwrap_err()
    .to_string();
    println!("3 mm wall: {e}");
    assert!(e.starts_with("wall.thickness") && e.contains("inverted"), "{e}");
}

#[test]
fn bad_moduli_and_pressure_name_their_fields() {
    let (mesh, axis) = cylinder(1.0, 1.2, 16, 1, 1);
    let cases = [
        (Material { model: Model::LinearElastic, youngs_modulus: 0.0, poisson_ratio: 0.3 }, "youngs_modulus"),
        (Material { model: Model::NeoHookean, youngs_modulus: 1e6, poisson_ratio: 0.5 }, "poisson_ratio"),
        (Material { model: Model::LinearElastic, youngs_modulus: 1e6, poisson_ratio: 0.7 }, "poisson_ratio"),
    ];
    for (m, field) in cases {
        let e = WallSolver::new(&mesh, &axis, problem(m, 1.0, BackendChoice::Cpu)).err().unwrap().to_string();
        println!("{e}");
        assert!(e.starts_with(&format!("wall.material.{field}")), "{e}");
    }
    let m = Material { model: Model::LinearElastic, youngs_modulus: 1e6, poisson_ratio: 0.3 };
    let mut p = problem(m, 1.0, BackendChoice::Cpu);
    p.pressure = Pressure::PerVertex(vec![1.0; 3]);
    let e = WallSolver::new(&mesh, &axis, p).err().unwrap().to_string();
    println!("{e}");
    assert!(e.starts_with("wall.pressure"), "{e}");
}

/// A wall thicker than the local radius and a negative lumen pressure are refused, naming the
/// [wall] field that accepts them; with that field set they are solved.
#[test]
fn thick_walls_and_negative_pressures_need_the_case_to_say_so() {
    let (surface, ports) = hemotwin::geometry::synth::tube(
        &hemotwin::geometry::synth::TubeSpec { radius: 1.0, length: 0.5 },
        16,
    )
    .unwrap();
    let axis = Axis::between_ports(&ports).unwrap();
    for thickness in [Thickness::Absolute(1.5), Thickness::RadiusFraction(1.5)] {
        let spec = WallSpec { thickness, layers: 1, beyond_radius: false };
        let e = extrude(&surface, &tag_triangles(&surface, &ports).unwrap(), &ports, &axis, &spec)
            .unwrap_err()
            .to_string();
        println!("{thickness:?}: {e}");
        assert!(e.starts_with("wall.thickness") && e.contains("wall.allow_thick_wall"), "{e}");
        assert!(
            extrude(
                &surface,
                &tag_triangles(&surface, &ports).unwrap(),
                &ports,
                &axis,
                &WallSpec { beyond_radius: true, ..spec }
            )
            .is_ok()
        );
    }
    let (mesh, axis) = cylinder(1.0, 1.2, 16, 1, 1);
    let m = Material { model: Model::LinearElastic, youngs_modulus: 1e6, poisson_ratio: 0.3 };
    let e = WallSolver::new(&mesh, &axis, problem(m, -100.0, BackendChoice::Cpu)).err().unwrap().to_string();
    println!("{e}");
    assert!(e.starts_with("wall.pressure") && e.contains("wall.allow_negative_pressure"), "{e}");
    let mut p = problem(m, -100.0, BackendChoice::Cpu);
    p.allow_negative_pressure = true;
    let sol = WallSolver::new(&mesh, &axis, p).unwrap().solve().unwrap();
    println!("allowed: max displacement {:.3e} m", sol.summary.max_displacement_m);
    assert!(sol.summary.max_displacement_m > 0.0);
}

/// A PCG stopped by its iteration cap is an error naming the case field that raises it.
#[test]
fn pcg_iteration_cap_is_a_clear_error() {
    let (mesh, axis) = cylinder(1.0, 1.2, 16, 2, 2);
    let m = Material { model: Model::LinearElastic, youngs_modulus: 1e6, poisson_ratio: 0.3 };
    let mut p = problem(m, 1.0, BackendChoice::Cpu);
    p.pcg.max_iterations = 3;
    let e = WallSolver::new(&mesh, &axis, p).unwrap().solve().err().unwrap().to_string();
    println!("{e}");
    assert!(e.contains("iteration limit") && e.contains("wall.pcg_max_iterations = 3"), "{e}");
}

/// The progress callback of a solve hears every PCG iteration's count and residual, in order,
/// ending at the report's figures.
#[test]
fn pcg_progress_hears_every_iteration() {
    use hemotwin::fem::pcg::{PcgSettings, Preconditioner, solve_cpu};
    use hemotwin::fem::{Assembly, Constraints, Pattern, assemble};
    let (mesh, _) = cylinder(1.0, 1.2, 16, 2, 2);
    let mut c = Constraints::free(mesh.nodes.len());
    for &n in mesh.end_nodes.iter().flatten() {
        c.fix_directions(
            n as usize,
            &[nalgebra::Vector3::x(), nalgebra::Vector3::y(), nalgebra::Vector3::z()],
        );
    }
    let m = Material { model: Model::LinearElastic, youngs_modulus: 1e6, poisson_ratio: 0.3 };
    let materials = vec![m; mesh.elements.len()];
    let pattern = Pattern::new(&mesh);
    let zero = vec![nalgebra::Vector3::zeros(); mesh.nodes.len()];
    let system = Assembly { mesh: &mesh, pattern: &pattern, materials: &materials, constraints: &c };
    let k = assemble(system, &zero, true, &[]).unwrap().stiffness.unwrap();
    let b: Vec<f64> =
        (0..k.nrows()).map(|i| if c.fixed[i] { 0.0 } else { ((i * 7) % 5) as f64 - 2.0 }).collect();
    let settings =
        PcgSettings { tolerance: 1e-8, max_iterations: 5000, preconditioner: Preconditioner::BlockJacobi };
    let mut heard = Vec::new();
    let (_, report) = solve_cpu(&k, &b, &settings, None, &mut |it, res| heard.push((it, res)));
    println!("{} reports, last {:?}, report {report:?}", heard.len(), heard.last());
    assert_eq!(heard.len(), report.iterations);
    assert!(heard.iter().enumerate().all(|(k, (it, _))| *it == k + 1));
    assert_eq!(heard.last().map(|x| x.1), Some(report.relative_residual));
}
