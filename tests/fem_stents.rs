//! A stent in the wall: the inner of two layers over the middle of a thin tube (r = 1, t = 0.1,
//! ends held axially) takes 20 times the tissue's modulus. Hoop strain is shared through the
//! thickness, so thin-wall theory gives the tissue (outer layer) hoop stress in the stented stretch
//! as E_t (t_s + t_t) / (E_s t_s + E_t t_t) = 2/21 of the unstented wall's p r / t.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Material, Model, Stent, WallSolver};
use hemotwin::gpu::BackendChoice;
use wall::{cylinder, problem};

#[test]
fn stent_unloads_the_tissue_as_thin_wall_theory_says_within_10pct() {
    let (a, b, p) = (1.0, 1.1, 100.0);
    let (mesh, axis) = cylinder(a, b, 48, 2, 30);
    let length = mesh.nodes.iter().map(|x| x.z).fold(0.0, f64::max);
    let tissue = Material { model: Model::LinearElastic, youngs_modulus: 1.0e4, poisson_ratio: 0.3 };
    let stent = Material { youngs_modulus: 2.0e5, ..tissue };
    let mid = length / 2.0;
    // Outer-surface nodes near the middle of the tube (tissue only in both cases).
    let probe: Vec<usize> = (0..mesh.nodes.len())
        .filter(|&i| {
            let x = mesh.nodes[i];
            (x.x.hypot(x.y) - b).abs() < 1e-9 && (x.z - mid).abs() < 0.1
        })
        .collect();
    let hoop = |stents: Vec<Stent>| {
        let mut pb = problem(tissue, p, BackendChoice::Cpu);
        pb.materials.stents = stents;
        let s = WallSolver::new(&mesh, &axis, pb).unwrap().solve().unwrap();
        probe.iter().map(|&i| s.fields.hoop[i]).sum::<f64>() / probe.len() as f64
    };
    let baseline = hoop(Vec::new());
    let stented =
        hoop(vec![Stent { from: mid - 0.8, to: mid + 0.8, branch: None, layers: 1, material: stent }]);
    let expected = 2.0 / 21.0;
    let ratio = stented / baseline;
    println!(
        "tube length {length:.2}, {} probe nodes: tissue hoop stress {baseline:.1} Pa unstented (p r / t = {:.1}), \
         {stented:.2} Pa stented; ratio {ratio:.4}, thin-wall theory {expected:.4} ({:+.1} %)",
        probe.len(),
        p * a / (b - a),
        (ratio / expected - 1.0) * 100.0
    );
    assert!((ratio / expected - 1.0).abs() < 0.10, "stented/unstented tissue hoop stress {ratio:.4}");
}
