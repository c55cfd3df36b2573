//! Lamé's thick-walled cylinder (shared/VALIDATION.md, "Solid mechanics"): a = 1 m, b = 2 m,
//! p = 1 Pa, ends held axially with radial motion free (plane strain), linear elastic TET10 wall.
//! Hoop and radial stress (relative L2 over the nodes) within 2 %, radial displacement within 1 %,
//! at nu = 0.3 and at nu = 0.49 (where locking would show). Also the patch test.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Assembly, Constraints, FACES, Material, Model, Pattern, WallSolver, assemble, pcg};
use hemotwin::gpu::BackendChoice;
use nalgebra::{Matrix3, Vector3};
use wall::{cylinder, problem, rel_l2};

const E: f64 = 1000.0;

/// (hoop, radial stress, radial displacement) relative L2 errors and the node count.
fn lame_errors(nu: f64, segments: usize, layers: usize) -> (f64, f64, f64, usize) {
    let (a, b, p) = (1.0, 2.0, 1.0);
    let (mesh, axis) = cylinder(a, b, segments, layers, 2);
    let material = Material { model: Model::LinearElastic, youngs_modulus: E, poisson_ratio: nu };
    let mut solver = WallSolver::new(&mesh, &axis, problem(material, p, BackendChoice::Cpu)).unwrap();
    let sol = solver.solve().unwrap();
    let ca = p * a * a / (b * b - a * a);
    let cb = p * a * a * b * b / (b * b - a * a);
    let (mut hoop, mut radial, mut ur) = (vec![], vec![], vec![]);
    let (mut hoop_fe, mut radial_fe, mut ur_fe) = (vec![], vec![], vec![]);
    for (k, x) in mesh.nodes.iter().enumerate() {
        let r = x.x.hypot(x.y);
        let er = Vector3::new(x.x / r, x.y / r, 0.0);
        hoop.push(ca + cb / (r * r));
        radial.push(ca - cb / (r * r));
        ur.push((1.0 + nu) / E * ((1.0 - 2.0 * nu) * ca * r + cb / r));
        hoop_fe.push(sol.fields.hoop[k]);
        radial_fe.push(sol.fields.radial[k]);
        ur_fe.push(sol.fields.displacement[k].dot(&er));
    }
    (rel_l2(&hoop_fe, &hoop), rel_l2(&radial_fe, &radial), rel_l2(&ur_fe, &ur), mesh.nodes.len())
}

fn check(nu: f64) {
    println!(
        "Lamé cylinder, nu = {nu}: segments x layers, nodes, relative L2 error of hoop, radial stress, u_r"
    );
    for (segments, layers) in [(16, 2), (32, 4), (64, 8)] {
        let (h, r, u, n) = lame_errors(nu, segments, layers);
        println!(
            "  {segments:>3} x {layers}  {n:>6} nodes  hoop {:.3} %  radial {:.3} %  u_r {:.3} %",
            h * 100.0,
            r * 100.0,
            u * 100.0
        );
        if (segments, layers) == (64, 8) {
            assert!(
                h < 0.02 && r < 0.02 && u < 0.01,
                "moderate mesh misses: hoop {h:.4}, radial {r:.4}, u_r {u:.4}"
            );
        }
    }
}

#[test]
fn lame_cylinder_nu_0_3_stress_within_2pct_displacement_within_1pct() {
    check(0.3);
}

#[test]
fn lame_cylinder_nu_0_49_stress_within_2pct_displacement_within_1pct() {
    check(0.49);
}

/// A linear displacement field imposed on the boundary is reproduced inside, and its constant
/// stress everywhere, to 1e-8 (relative), for both integration schemes (nu = 0.3 and 0.49).
#[test]
fn patch_test_linear_field_is_exact_to_1e_8() {
    let (mesh, _) = cylinder(1.0, 1.6, 12, 3, 3);
    let g = Matrix3::new(1.0, 0.2, -0.3, 0.1, -0.5, 0.4, 0.25, 0.15, 0.7) * 1e-3;
    let exact: Vec<Vector3<f64>> = mesh.nodes.iter().map(|x| g * x.coords).collect();
    // Boundary nodes: those on faces used by one element only.
    let mut faces = std::collections::HashMap::<[u32; 3], Vec<u32>>::new();
    for e in &mesh.elements {
        for f in FACES {
            let mut key = [e[f[0]], e[f[1]], e[f[2]]];
            key.sort_unstable();
            faces.entry(key).or_default().extend(f.map(|i| e[i]));
        }
    }
    let mut boundary = vec![false; mesh.nodes.len()];
    for nodes in faces.values().filter(|v| v.len() == 6) {
        for &n in nodes {
            boundary[n as usize] = true;
        }
    }
    let interior = boundary.iter().filter(|b| !**b).count();
    assert!(interior > 0);
    for nu in [0.3, 0.49] {
        let m = Material { model: Model::LinearElastic, youngs_modulus: E, poisson_ratio: nu };
        let materials = vec![m; mesh.elements.len()];
        let mut c = Constraints::free(mesh.nodes.len());
        for (n, _) in boundary.iter().enumerate().filter(|(_, b)| **b) {
            c.fix_directions(n, &[Vector3::x(), Vector3::y(), Vector3::z()]);
        }
        let ub: Vec<Vector3<f64>> =
            exact.iter().zip(&boundary).map(|(u, b)| if *b { *u } else { Vector3::zeros() }).collect();
        let pattern = Pattern::new(&mesh);
        let system = Assembly { mesh: &mesh, pattern: &pattern, materials: &materials, constraints: &c };
        let asm = assemble(system, &ub, true, &[]).unwrap();
        let rhs: Vec<f64> = asm
            .forces
            .iter()
            .zip(&boundary)
            .flat_map(|(f, b)| if *b { [0.0; 3] } else { [-f.x, -f.y, -f.z] })
            .collect();
        let settings = pcg::PcgSettings {
            tolerance: 1e-14,
            max_iterations: 10_000,
            preconditioner: pcg::Preconditioner::BlockJacobi,
        };
        let (du, report) =
            pcg::solve_cpu(asm.stiffness.as_ref().unwrap(), &rhs, &settings, None, &mut |_, _| {});
        let u: Vec<Vector3<f64>> = ub
            .iter()
            .enumerate()
            .map(|(n, v)| v + Vector3::new(du[3 * n], du[3 * n + 1], du[3 * n + 2]))
            .collect();
        let scale = exact.iter().map(|v| v.norm()).fold(0.0, f64::max);
        let err = u.iter().zip(&exact).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max) / scale;
        // Residual of the exact field: interior nodes must be in equilibrium.
        let f = assemble(system, &exact, false, &[]).unwrap().forces;
        let fscale = asm.forces.iter().map(|v| v.norm()).fold(0.0, f64::max);
        let unbalanced =
            f.iter().zip(&boundary).filter(|(_, b)| !**b).map(|(v, _)| v.norm()).fold(0.0, f64::max) / fscale;
        println!(
            "patch test nu = {nu}: {interior} interior nodes, max displacement error {err:.2e} (relative), \
             interior force of the exact field {unbalanced:.2e}, PCG {} iterations to {:.1e}",
            report.iterations, report.relative_residual
        );
        assert!(
            err < 1e-8 && unbalanced < 1e-8,
            "patch test fails at nu = {nu}: {err:.2e}, {unbalanced:.2e}"
        );
    }
}
