//! `hemotwin info` and `hemotwin bench`: the GPU adapters, memory bandwidth and LBM throughput.

use anyhow::{Result, bail};
use hemotwin::bench::{KERNEL_VARIANTS, bench_fluid, dense_box, lbm_throughput, triad_bandwidth};
use hemotwin::case::{Case, DEMO_CASE};
use hemotwin::gpu::BackendChoice;
use hemotwin::pipeline::prepare;
use hemotwin::stencil::Collision;
use std::path::Path;

pub fn info() -> Result<()> {
    let adapters = hemotwin::gpu::list_adapters();
    if adapters.is_empty() {
        println!("no GPU adapter found; the CPU backend ({} threads) will run", rayon::current_num_threads());
        println!("for a software Vulkan driver on Debian: apt-get install mesa-vulkan-drivers libvulkan1");
        return Ok(());
    }
    println!("GPU adapters, best first:");
    for a in &adapters {
        println!(
            "  {} [{}; {}; {}]{}",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            if a.software { " (software)" } else { "" }
        );
    }
    let hw = adapters.iter().find(|a| !a.software);
    println!(
        "--backend auto: {}",
        hw.map(|a| a.name.clone()).unwrap_or_else(|| format!(
            "CPU ({} threads): only software adapters found",
            rayon::current_num_threads()
        ))
    );
    println!("--backend gpu:  {}", adapters[0].name);
    println!("--backend cpu:  rayon, {} threads", rayon::current_num_threads());
    Ok(())
}

pub fn bench(size: usize, steps: u64, software_gpu: bool, rheology: bool, only: BackendChoice) -> Result<()> {
    if size < 4 || steps == 0 {
        bail!("--size must be at least 4 and --steps positive");
    }
    let demo = Case::from_toml(
        &DEMO_CASE.replace("cells_across_inlet = 16", "cells_across_inlet = 24"),
        Path::new("demo"),
    )?;
    let cases = [
        (format!("dense box {size}^3"), dense_box(size)),
        ("stenosis, 24 cells across".to_string(), prepare(&demo)?.lattice),
    ];
    let newtonian = bench_fluid("newtonian", false)?;
    let mut backends = Vec::new();
    if only != BackendChoice::Gpu {
        let bandwidth = triad_bandwidth(1 << 25, 12);
        println!(
            "memory bandwidth (parallel triad, {} threads): {:.1} GB/s",
            rayon::current_num_threads(),
            bandwidth / 1e9
        );
        backends.push((BackendChoice::Cpu, bandwidth));
    }
    let gpu_ok = only != BackendChoice::Cpu
        && hemotwin::gpu::list_adapters().iter().any(|a| software_gpu || !a.software);
    if only == BackendChoice::Gpu && !gpu_ok {
        bail!("--backend gpu: no hardware GPU adapter found (--software-gpu admits lavapipe)");
    }
    if gpu_ok {
        let ctx = hemotwin::gpu::open(software_gpu)?;
        let gpu_bandwidth = hemotwin::gpu::triad_bandwidth(&ctx, 10)?;
        println!("GPU memory bandwidth (f32 triad on {}): {:.1} GB/s", ctx.adapter.name, gpu_bandwidth / 1e9);
        backends.push((BackendChoice::Gpu, gpu_bandwidth));
    }
    println!(
        "roofline: bandwidth / bytes per update (populations read and written, and the neighbour table \
         where the kernel reads it)"
    );
    println!(
        "{:<8} {:<28} {:<12} {:>10} {:>9} {:>8} {:>9} {:>11}",
        "backend", "case", "collision", "cells", "MLUPS", "B/update", "GB/s", "% roofline"
    );
    for &(backend, roofline) in &backends {
        for (name, lattice) in &cases {
            for collision in [Collision::Regularized, Collision::Trt] {
                let (t, solver) = match lbm_throughput(lattice, backend, &newtonian, collision, steps) {
                    Ok(r) => r,
                    Err(e) => {
                        println!("{:<8} {:<28} skipped: {e}", "gpu", name);
                        continue;
                    }
                };
                println!(
                    "{:<8} {:<28} {:<12} {:>10} {:>9.1} {:>8.0} {:>9.1} {:>10.0}%",
                    if backend == BackendChoice::Cpu { "cpu" } else { "gpu" },
                    name,
                    format!("{collision:?}").to_lowercase(),
                    lattice.len(),
                    t.mlups,
                    t.bytes_per_update,
                    t.bytes_per_s / 1e9,
                    100.0 * t.bytes_per_s / roofline
                );
                if let (BackendChoice::Gpu, Some(a)) = (backend, solver.backend().adapter) {
                    println!("         (adapter: {}; % roofline against the GPU's triad bandwidth)", a.name);
                }
            }
        }
    }
    if !gpu_ok && only == BackendChoice::Auto {
        println!("no hardware GPU adapter: GPU rows skipped (--software-gpu runs lavapipe)");
    }
    if rheology {
        for &(backend, _) in &backends {
            bench_rheology(&cases[0].1, size, steps, backend)?;
        }
    }
    Ok(())
}

/// Rounds of `bench_rheology`: each model's best round counts (the other load of a shared machine
/// only ever slows a round down).
const RHEOLOGY_ROUNDS: usize = 3;

/// The cost of each local viscosity model against the Newtonian kernel on `backend`, on `lattice`
/// (the dense box of edge `size`), every model started from the same Taylor-Green vortex; the models
/// take turns, best of `RHEOLOGY_ROUNDS` rounds.
fn bench_rheology(
    lattice: &hemotwin::lattice::Lattice,
    size: usize,
    steps: u64,
    backend: BackendChoice,
) -> Result<()> {
    let mut best = [0.0f64; KERNEL_VARIANTS.len()];
    for _ in 0..RHEOLOGY_ROUNDS {
        for ((_, rheology, les, collision), best) in KERNEL_VARIANTS.iter().zip(&mut best) {
            let (t, _) = lbm_throughput(lattice, backend, &bench_fluid(rheology, *les)?, *collision, steps)?;
            *best = best.max(t.mlups);
        }
    }
    println!(
        "kernel variants, {}, dense box {size}^3, from a Taylor-Green vortex, best of {RHEOLOGY_ROUNDS} rounds:",
        if backend == BackendChoice::Cpu { "cpu" } else { "gpu" }
    );
    println!("{:<16} {:>9} {:>10}", "model", "MLUPS", "cost");
    for ((label, _, _, _), mlups) in KERNEL_VARIANTS.iter().zip(best) {
        println!("{label:<16} {mlups:>9.1} {:>9.0}%", 100.0 * (1.0 - mlups / best[0]));
    }
    Ok(())
}
