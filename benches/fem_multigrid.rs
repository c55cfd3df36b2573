//! Wall PCG to a relative residual of 1e-8 on thick tubes of about 0.1, 0.3 and 1 M dofs (radius 1,
//! wall 0.2, 4 layers, E = 1 MPa, nu = 0.3, 10 kPa, ends fixed), multigrid against block-Jacobi:
//! iterations, setup and solve seconds. `HEMOTWIN_BENCH_JACOBI=0` skips block-Jacobi (minutes at
//! 1 M dofs); `HEMOTWIN_BENCH_SIZES=0.1,0.3` picks sizes. Prints one line per solve.

use hemotwin::fem::multigrid::Multigrid;
use hemotwin::fem::pcg::{PcgSettings, Preconditioner, solve_cpu};
use hemotwin::fem::{
    Assembly, Axis, Constraints, Material, Model, Pattern, Thickness, WallSpec, assemble, extrude,
    pressure_forces,
};
use hemotwin::geometry::ports::tag_triangles;
use hemotwin::geometry::synth::{TubeSpec, tube};
use nalgebra::Vector3;
use std::time::Instant;

fn main() {
    let sizes = std::env::var("HEMOTWIN_BENCH_SIZES").unwrap_or_else(|_| "0.1,0.3,1".into());
    let jacobi = std::env::var("HEMOTWIN_BENCH_JACOBI").as_deref() != Ok("0");
    for size in sizes.split(',') {
        let (segments, rings) = match size.trim() {
            "0.1" => (64, 15),
            "0.3" => (96, 30),
            "1" => (128, 75),
            other => panic!("HEMOTWIN_BENCH_SIZES: unknown size {other} (0.1, 0.3 or 1)"),
        };
        let side = 2.0 * (std::f64::consts::PI / segments as f64).sin() * 3f64.sqrt() / 2.0;
        let (surface, ports) =
            tube(&TubeSpec { radius: 1.0, length: rings as f64 * side }, segments).expect("tube");
        let axis = Axis::between_ports(&ports).expect("axis");
        let mesh = extrude(
            &surface,
            &tag_triangles(&surface, &ports).expect("tags"),
            &ports,
            &axis,
            &WallSpec { thickness: Thickness::Absolute(0.2), layers: 4, beyond_radius: false },
        )
        .expect("wall");
        let material = Material { model: Model::LinearElastic, youngs_modulus: 1.0e6, poisson_ratio: 0.3 };
        let materials = vec![material; mesh.elements.len()];
        let mut constraints = Constraints::free(mesh.nodes.len());
        for &a in mesh.end_nodes.iter().flatten() {
            constraints.fix_directions(a as usize, &[Vector3::x(), Vector3::y(), Vector3::z()]);
        }
        let pattern = Pattern::new(&mesh);
        let zero = vec![Vector3::zeros(); mesh.nodes.len()];
        let system =
            Assembly { mesh: &mesh, pattern: &pattern, materials: &materials, constraints: &constraints };
        let k = assemble(system, &zero, true, &[]).expect("assembly").stiffness.expect("tangent");
        let (mut f, _) = pressure_forces(&mesh, &mesh.nodes, &|_| 1.0e4, false);
        constraints.zero_fixed(&mut f);
        let b: Vec<f64> = f.iter().flat_map(|v| [v.x, v.y, v.z]).collect();
        let start = Instant::now();
        let mg = Multigrid::new(&k, &mesh, &constraints);
        let setup = start.elapsed().as_secs_f64();
        let settings = PcgSettings {
            tolerance: 1e-8,
            max_iterations: 100_000,
            preconditioner: Preconditioner::Multigrid,
        };
        let start = Instant::now();
        let (_, report) = solve_cpu(&k, &b, &settings, Some(&mg), &mut |_, _| {});
        let solve = start.elapsed().as_secs_f64();
        println!(
            "{} dofs, {} nonzeros: multigrid (levels {:?}): {} iterations, setup {setup:.2} s, solve {solve:.2} s, \
             total {:.2} s",
            k.nrows(),
            k.nnz(),
            mg.sizes(),
            report.iterations,
            setup + solve
        );
        if jacobi {
            let settings = PcgSettings { preconditioner: Preconditioner::BlockJacobi, ..settings };
            let start = Instant::now();
            let (_, report) = solve_cpu(&k, &b, &settings, None, &mut |_, _| {});
            println!(
                "{} dofs: block-Jacobi: {} iterations, {:.2} s",
                k.nrows(),
                report.iterations,
                start.elapsed().as_secs_f64()
            );
        }
    }
}
