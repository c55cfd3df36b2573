//! Wall finite elements on a ~1M-DOF thick tube (128 around, 4 layers, 75 rings of TET10):
//! assembly of the tangent (elements/s), CSR SpMV (bytes/s), and PCG with block-Jacobi
//! (20 iterations per sample, DOF-iterations/s). One full PCG solve to 1e-6 is timed once and
//! printed before the samples.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hemotwin::fem::pcg::{PcgSettings, Preconditioner, solve_cpu};
use hemotwin::fem::{
    Assembly, Axis, Constraints, Material, Model, Pattern, Thickness, WallSpec, assemble, cpu::fem_spmv,
    extrude, pressure_forces,
};
use hemotwin::geometry::ports::tag_triangles;
use hemotwin::geometry::synth::{TubeSpec, tube};
use nalgebra::Vector3;
use std::time::Instant;

fn fem(c: &mut Criterion) {
    let segments = 128;
    let side = 2.0 * (std::f64::consts::PI / segments as f64).sin() * 3f64.sqrt() / 2.0;
    let (surface, ports) = tube(&TubeSpec { radius: 1.0, length: 75.0 * side }, segments).expect("tube");
    let axis = Axis::between_ports(&ports).expect("axis");
    let spec = WallSpec { thickness: Thickness::Absolute(0.2), layers: 4, beyond_radius: false };
    let mesh = extrude(&surface, &tag_triangles(&surface, &ports).expect("tags"), &ports, &axis, &spec)
        .expect("wall");
    let n = mesh.nodes.len();
    let material = Material { model: Model::LinearElastic, youngs_modulus: 1.0e6, poisson_ratio: 0.3 };
    let materials = vec![material; mesh.elements.len()];
    let mut constraints = Constraints::free(n);
    for &a in mesh.end_nodes.iter().flatten() {
        constraints.fix_directions(a as usize, &[Vector3::x(), Vector3::y(), Vector3::z()]);
    }
    let pattern = Pattern::new(&mesh);
    let zero = vec![Vector3::zeros(); n];
    let system =
        Assembly { mesh: &mesh, pattern: &pattern, materials: &materials, constraints: &constraints };
    let k = assemble(system, &zero, true, &[]).expect("assembly").stiffness.expect("tangent");
    let (mut f, _) = pressure_forces(&mesh, &mesh.nodes, &|_| 1.0e4, false);
    constraints.zero_fixed(&mut f);
    let b: Vec<f64> = f.iter().flat_map(|v| [v.x, v.y, v.z]).collect();
    let start = Instant::now();
    let (_, report) = solve_cpu(
        &k,
        &b,
        &PcgSettings {
            tolerance: 1e-6,
            max_iterations: 100_000,
            preconditioner: Preconditioner::BlockJacobi,
        },
        None,
        &mut |_, _| {},
    );
    eprintln!(
        "wall: {} elements, {} nodes, {} dofs, {} nonzeros; full PCG solve to 1e-6: {} iterations, {:.1} s \
         (residual {:.2e})",
        mesh.elements.len(),
        n,
        3 * n,
        k.nnz(),
        report.iterations,
        start.elapsed().as_secs_f64(),
        report.relative_residual
    );
    let mut group = c.benchmark_group("fem_wall_1M_dof");
    group.sample_size(10);
    group.throughput(Throughput::Elements(mesh.elements.len() as u64));
    group.bench_function("assemble_tangent_elements", |bch| {
        bch.iter(|| assemble(system, &zero, true, &[]).expect("assembly"))
    });
    let (offsets, cols, values) = k.csr_data();
    // Values and column indices once, offsets, x at least once, y written: f64 and usize (8 bytes).
    let bytes = 8 * (2 * k.nnz() + offsets.len() + 2 * k.nrows());
    group.throughput(Throughput::Bytes(bytes as u64));
    let x = vec![1.0; k.nrows()];
    let mut y = vec![0.0; k.nrows()];
    group.bench_function("spmv_f64_bytes", |bch| bch.iter(|| fem_spmv(offsets, cols, values, &x, &mut y)));
    let iterations = 20;
    group.throughput(Throughput::Elements((iterations * k.nrows()) as u64));
    let settings = PcgSettings {
        tolerance: 1e-30,
        max_iterations: iterations,
        preconditioner: Preconditioner::BlockJacobi,
    };
    group.bench_function("pcg_20_iterations_dof", |bch| {
        bch.iter(|| solve_cpu(&k, &b, &settings, None, &mut |_, _| {}))
    });
    group.finish();
}

criterion_group!(benches, fem);
criterion_main!(benches);
