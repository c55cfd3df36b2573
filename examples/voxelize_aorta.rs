//! Voxelization speed on a real vessel: classify every node of the aorta's bounding box at a
//! given spacing and compute q on every wall link, timing each stage.
//!
//! Run with `cargo run --release --example voxelize_aorta -- [STL] [--spacing-mm 0.1]` (default
//! ../shared/meshes/aorta_vmtk.stl; surface and spacing in mm).

mod common;

use clap::Parser;
use hemotwin::geometry::io_stl::{Units, read_stl};
use hemotwin::lattice::{Grid, classify, wall_links};
use std::path::PathBuf;
use std::time::Instant;

/// Times the voxelization of a vessel surface: node classification and q of every wall link.
#[derive(Parser)]
#[command(allow_negative_numbers = true)]
struct Args {
    /// The vessel surface (STL, mm).
    #[arg(default_value = "../shared/meshes/aorta_vmtk.stl")]
    surface: PathBuf,
    /// Lattice spacing (mm).
    #[arg(long, default_value_t = 0.1, value_parser = common::positive)]
    spacing_mm: f64,
}

fn main() -> hemotwin::Result<()> {
    let args = Args::parse();
    let (path, dx_mm) = (args.surface.display(), args.spacing_mm);
    let surface = read_stl(&args.surface, Units::Millimetre)?;
    let report = hemotwin::geometry::check::inspect(&surface);
    let grid = Grid::covering(report.bbox_min, report.bbox_max, dx_mm * 1e-3, 1);
    let t = Instant::now();
    let mask = classify(&surface, &grid);
    let t_classify = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (links, unresolved) = wall_links(&surface, &vec![0; surface.triangles.len()], &grid, &mask);
    let t_links = t.elapsed().as_secs_f64();
    let fluid = mask.iter().filter(|&&f| f == 1).count();
    println!(
        "{path}: {} triangles, grid {:?} = {} nodes at {dx_mm} mm, {} fluid; {} threads",
        surface.triangles.len(),
        grid.dims,
        grid.len(),
        fluid,
        rayon::current_num_threads()
    );
    println!(
        "  classify: {t_classify:.3} s ({:.0} million nodes/s); q of {} wall links ({unresolved} unresolved): {t_links:.3} s",
        grid.len() as f64 / t_classify / 1e6,
        links.len()
    );
    Ok(())
}
