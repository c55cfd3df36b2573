//! Voxelization throughput: inside/outside classification (nodes per second) and wall distances q
//! (links per second) on a synthetic 75% stenosis, 4 mm across, at 0.05 mm.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hemotwin::geometry::check::inspect;
use hemotwin::geometry::synth::{StenosisSpec, stenosis};
use hemotwin::lattice::{Grid, classify, wall_links};

fn voxelize(c: &mut Criterion) {
    let spec = StenosisSpec {
        radius: 2e-3,
        length: 32e-3,
        area_reduction: 0.75,
        stenosis_length: 8e-3,
        center: 16e-3,
        eccentricity: 0.0,
    };
    let (surface, _) = stenosis(&spec, 128).expect("the stenosis generates");
    let report = inspect(&surface);
    let grid = Grid::covering(report.bbox_min, report.bbox_max, 5e-5, 1);
    let tags = vec![0u16; surface.triangles.len()];
    let mask = classify(&surface, &grid);
    let (links, _) = wall_links(&surface, &tags, &grid, &mask);
    let mut group = c.benchmark_group("voxelize_stenosis_0.05mm");
    group.sample_size(10);
    group.throughput(Throughput::Elements(grid.len() as u64));
    group.bench_function("classify_nodes", |b| b.iter(|| classify(&surface, &grid)));
    group.throughput(Throughput::Elements(links.len() as u64));
    group.bench_function("wall_links_q", |b| b.iter(|| wall_links(&surface, &tags, &grid, &mask)));
    group.finish();
}

criterion_group!(benches, voxelize);
criterion_main!(benches);
