//! LBM throughput (cell updates per second) on a dense box and on the stenosis case, per backend.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hemotwin::bench::{bench_units, dense_box};
use hemotwin::case::{Case, DEMO_CASE};
use hemotwin::lattice::Lattice;
use hemotwin::lbm::{BackendChoice, Solver};
use hemotwin::simulation::prepare;
use std::path::Path;

const STEPS: u64 = 10;

fn stenosis_lattice() -> Lattice {
    let text = DEMO_CASE.replace("cells_across_inlet = 16", "cells_across_inlet = 24");
    let case = Case::from_toml(&text, Path::new("demo")).expect("the demo case parses");
    prepare(&case).expect("the stenosis lattice builds").lattice
}

fn bench_backend(c: &mut Criterion, backend: BackendChoice, name: &str) {
    let cases = [("dense_box_128", dense_box(128)), ("stenosis_24", stenosis_lattice())];
    let mut group = c.benchmark_group(format!("lbm_{name}"));
    group.sample_size(10);
    for (case, lattice) in &cases {
        let mut solver = match Solver::new(lattice, &bench_units().expect("units"), backend) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("skipping {name}/{case}: {e}");
                continue;
            }
        };
        group.throughput(Throughput::Elements(lattice.len() as u64 * STEPS));
        group.bench_function(*case, |b| {
            b.iter(|| {
                solver.advance(STEPS, |_| 1.0);
                solver.moments().expect("moments read back")
            })
        });
    }
    group.finish();
}

fn lbm(c: &mut Criterion) {
    bench_backend(c, BackendChoice::Cpu, "cpu");
    bench_backend(c, BackendChoice::Gpu, "gpu");
}

criterion_group!(benches, lbm);
criterion_main!(benches);
