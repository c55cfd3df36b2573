//! The multigrid preconditioner of the wall PCG (TET10 -> TET4 -> smoothed aggregation): PCG
//! iterations to 1e-8 stay nearly flat as the tube is refined, far below block-Jacobi's.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::multigrid::Multigrid;
use hemotwin::fem::pcg::{PcgSettings, Preconditioner, solve_cpu};
use hemotwin::fem::{Assembly, Constraints, Material, Model, Pattern, WallMesh, assemble, pressure_forces};
use nalgebra::Vector3;
use nalgebra_sparse::CsrMatrix;
use std::time::Instant;
use wall::cylinder;

/// The stiffness of a thick tube (inner radius 1, wall 0.2, E = 1 MPa, nu = 0.3), ends fixed, under
/// 10 kPa; with the mesh and its constraints.
pub fn tube_system(
    segments: usize,
    layers: usize,
    rings: usize,
) -> (CsrMatrix<f64>, Vec<f64>, WallMesh, Constraints) {
    let (mesh, _) = cylinder(1.0, 1.2, segments, layers, rings);
    let material = Material { model: Model::LinearElastic, youngs_modulus: 1.0e6, poisson_ratio: 0.3 };
    let mut constraints = Constraints::free(mesh.nodes.len());
    for &a in mesh.end_nodes.iter().flatten() {
        constraints.fix_directions(a as usize, &[Vector3::x(), Vector3::y(), Vector3::z()]);
    }
    let materials = vec![material; mesh.elements.len()];
    let pattern = Pattern::new(&mesh);
    let zero = vec![Vector3::zeros(); mesh.nodes.len()];
    let system =
        Assembly { mesh: &mesh, pattern: &pattern, materials: &materials, constraints: &constraints };
    let k = assemble(system, &zero, true, &[]).unwrap().stiffness.unwrap();
    let (mut f, _) = pressure_forces(&mesh, &mesh.nodes, &|_| 1.0e4, false);
    constraints.zero_fixed(&mut f);
    let b = f.iter().flat_map(|v| [v.x, v.y, v.z]).collect();
    (k, b, mesh, constraints)
}

/// (iterations, relative residual, setup s, solve s) of multigrid PCG to 1e-8.
fn multigrid_solve(segments: usize, layers: usize, rings: usize) -> (usize, usize, f64, f64, f64) {
    let (k, b, mesh, constraints) = tube_system(segments, layers, rings);
    let start = Instant::now();
    let mg = Multigrid::new(&k, &mesh, &constraints);
    let setup = start.elapsed().as_secs_f64();
    let settings =
        PcgSettings { tolerance: 1e-8, max_iterations: 500, preconditioner: Preconditioner::Multigrid };
    let start = Instant::now();
    let (x, report) = solve_cpu(&k, &b, &settings, Some(&mg), &mut |_, _| {});
    let solve = start.elapsed().as_secs_f64();
    // The true residual, not PCG's recursive one.
    let ax = hemotwin::fem::cpu::fem_spmv;
    let mut y = vec![0.0; b.len()];
    let (o, c, v) = k.csr_data();
    ax(o, c, v, &x, &mut y);
    let res = y.iter().zip(&b).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
        / b.iter().map(|b| b * b).sum::<f64>().sqrt();
    println!(
        "{segments} x {layers} x {rings}: {} dofs, levels {:?}, {} iterations (converged {}), true relative \
         residual {res:.2e}, setup {setup:.2} s, solve {solve:.2} s",
        k.nrows(),
        mg.sizes(),
        report.iterations,
        report.converged
    );
    assert!(report.converged && res < 1e-7, "multigrid PCG failed: {report:?}, true residual {res:.2e}");
    (report.iterations, k.nrows(), res, setup, solve)
}

/// Iterations to 1e-8 at about 15k and 120k dofs: at most 60, growing by less than 1.5x.
#[test]
fn multigrid_iterations_stay_flat_under_refinement() {
    let (small, ..) = multigrid_solve(32, 2, 12);
    let (large, ..) = multigrid_solve(64, 4, 24);
    println!("iterations {small} -> {large} ({:.2}x)", large as f64 / small as f64);
    assert!(large <= 60 && (large as f64) < 1.5 * small as f64);
}
