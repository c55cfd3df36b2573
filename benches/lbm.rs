//! LBM throughput (cell updates per second) on a dense box and on the stenosis case, per backend,
//! and per viscosity model on the dense box (CPU).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hemotwin::bench::{KERNEL_VARIANTS, bench_fluid, bench_solver, dense_box};
use hemotwin::case::{Case, DEMO_CASE};
use hemotwin::gpu::BackendChoice;
use hemotwin::lattice::Lattice;
use hemotwin::lbm::Solver;
use hemotwin::pipeline::prepare;
use hemotwin::stencil::Collision;
use std::path::Path;

const STEPS: u64 = 10;

fn stenosis_lattice() -> Lattice {
    let text = DEMO_CASE.replace("cells_across_inlet = 16", "cells_across_inlet = 24");
    let case = Case::from_toml(&text, Path::new("demo")).expect("the demo case parses");
    prepare(&case).expect("the stenosis lattice builds").lattice
}

/// Times `STEPS` steps of `solver` on `lattice` (until the GPU has run them) as `name` in `group`.
fn bench_steps(
    group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    name: &str,
    lattice: &Lattice,
    mut solver: Solver,
) {
    group.throughput(Throughput::Elements(lattice.len() as u64 * STEPS));
    group.bench_function(name, |b| {
        b.iter(|| {
            solver.advance(STEPS, |_| 1.0);
            solver.finish().expect("the queued steps run")
        })
    });
}

fn bench_backend(c: &mut Criterion, backend: BackendChoice, name: &str) {
    let cases = [("dense_box_128", dense_box(128)), ("stenosis_24", stenosis_lattice())];
    let newtonian = bench_fluid("newtonian", false).expect("the Newtonian fluid parses");
    let mut group = c.benchmark_group(format!("lbm_{name}"));
    group.sample_size(10);
    for (case, lattice) in &cases {
        for collision in [Collision::Regularized, Collision::Trt] {
            let label = format!("{case}_{}", format!("{collision:?}").to_lowercase());
            match bench_solver(lattice, backend, &newtonian, collision) {
                Ok(solver) => bench_steps(&mut group, &label, lattice, solver),
                Err(e) => eprintln!("skipping {name}/{label}: {e}"),
            }
        }
    }
    group.finish();
}

/// Each kernel variant (viscosity model, collision) on the dense 128^3 box, CPU, from the same
/// Taylor-Green vortex.
fn bench_viscosity_models(c: &mut Criterion) {
    let lattice = dense_box(128);
    let mut group = c.benchmark_group("lbm_cpu_dense_box_128");
    group.sample_size(10);
    for (label, rheology, les, collision) in KERNEL_VARIANTS {
        let fluid = bench_fluid(rheology, les).expect("the bench fluids parse");
        let solver =
            bench_solver(&lattice, BackendChoice::Cpu, &fluid, collision).expect("the CPU solver starts");
        bench_steps(&mut group, label, &lattice, solver);
    }
    group.finish();
}

fn lbm(c: &mut Criterion) {
    bench_backend(c, BackendChoice::Cpu, "cpu");
    bench_backend(c, BackendChoice::Gpu, "gpu");
    bench_viscosity_models(c);
}

criterion_group!(benches, lbm);
criterion_main!(benches);
