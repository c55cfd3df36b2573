//! Bad wall input gives errors that name the field at fault.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Axis, Material, Model, Pressure, Thickness, WallSolver, WallSpec, extrude};
use hemotwin::geometry::synth::{StenosisSpec, stenosis};
use hemotwin::lbm::BackendChoice;
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
    let thin =
        extrude(&surface, &ports, &axis, &WallSpec { thickness: Thickness::Absolute(0.1e-3), layers: 2 });
    println!("0.1 mm wall: min scaled Jacobian {:.3}", thin.as_ref().unwrap().min_scaled_jacobian);
    let e = extrude(&surface, &ports, &axis, &WallSpec { thickness: Thickness::Absolute(3e-3), layers: 2 })
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
