//! Regions and end conditions: a stiffer stretch of a tube bulges less; fully fixed ends do not move.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{EndCondition, Material, MaterialMap, Model, Region, WallSolver};
use hemotwin::gpu::BackendChoice;
use wall::{cylinder, problem};

#[test]
fn stiffer_middle_region_bulges_less_and_fixed_ends_stay_put() {
    let (mesh, axis) = cylinder(1.0, 1.2, 16, 2, 12);
    let length = mesh.ports[1].center.z;
    let soft = Material { model: Model::LinearElastic, youngs_modulus: 1.0e6, poisson_ratio: 0.4 };
    let stiff = Material { youngs_modulus: 1.0e7, ..soft };
    let mut pr = problem(soft, 1.0e4, BackendChoice::Cpu);
    pr.materials = MaterialMap {
        stents: Vec::new(),
        default: soft,
        regions: vec![Region { from: length / 3.0, to: 2.0 * length / 3.0, material: stiff }],
    };
    pr.ends = EndCondition::Fixed;
    let sol = WallSolver::new(&mesh, &axis, pr).unwrap().solve().unwrap();
    let radial = |band: (f64, f64)| {
        let v: Vec<f64> = mesh
            .nodes
            .iter()
            .zip(&sol.fields.displacement)
            .filter(|(p, _)| p.z > band.0 * length && p.z < band.1 * length)
            .map(|(p, u)| (p.x * u.x + p.y * u.y) / p.x.hypot(p.y))
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (middle, side) = (radial((0.45, 0.55)), radial((0.2, 0.28)));
    let end_motion = mesh
        .end_nodes
        .iter()
        .flatten()
        .map(|&n| sol.fields.displacement[n as usize].norm())
        .fold(0.0, f64::max);
    println!(
        "mean radial displacement: stiff middle {middle:.3e} m, soft side {side:.3e} m; end motion {end_motion:.1e} m"
    );
    assert!(middle < 0.3 * side && middle > 0.0, "{middle} vs {side}");
    assert_eq!(end_motion, 0.0);
}
