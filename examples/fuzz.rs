//! Long fuzz runs of hemotwin's readers: `cargo run --release --example fuzz -- [--target all]
//! [--executions 1000000] [--seed 1] [--out fuzz-crashes]` (`--help` lists the targets). Prints
//! executions, time and panics per target and writes each panicking input to OUT/TARGET-N for
//! tests/data/fuzz/crashes. Exits 1 when any input panicked.
#![allow(clippy::unwrap_used)] // a developer tool: a failure to write its own output should stop it

#[path = "../tests/common/fuzz.rs"]
mod fuzz;

use clap::Parser;
use clap::builder::PossibleValuesParser;
use fuzz::{Target, fuzz};
use std::path::PathBuf;

/// Mutation fuzzing of hemotwin's readers (STL, VTP, case TOML, waveform CSV); exits 1 when any
/// input panicked.
#[derive(Parser)]
struct Args {
    /// The reader to fuzz, or all of them.
    #[arg(long, default_value = "all", value_parser = PossibleValuesParser::new(
        Target::ALL.iter().map(|t| t.name()).chain(["all"])
    ))]
    target: String,
    /// Mutated inputs read per target.
    #[arg(long, default_value_t = 1_000_000)]
    executions: u64,
    /// Seed of the mutation generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder for the panicking inputs (TARGET-N).
    #[arg(long, value_name = "DIR", default_value = "fuzz-crashes")]
    out: PathBuf,
}

fn main() {
    let args = Args::parse();
    let out = &args.out;
    let mut any = false;
    for target in Target::ALL.into_iter().filter(|t| args.target == "all" || args.target == t.name()) {
        let report = fuzz(target, args.executions, args.seed, 20);
        println!(
            "{}: {} executions in {:.1} s ({:.0}/s), {} accepted, {} panics, slowest read {:.1} ms",
            target.name(),
            report.executions,
            report.seconds,
            report.executions as f64 / report.seconds,
            report.accepted,
            report.panicked,
            report.slowest * 1e3
        );
        println!(
            "  slowest input ({} bytes) read again: {:.2} ms (shortest of 5)",
            report.slowest_input.len(),
            1e3 * fuzz::time_read(target, &report.slowest_input, 5)
        );
        for (k, (input, message)) in report.panics.iter().enumerate() {
            std::fs::create_dir_all(out).unwrap();
            let path = out.join(format!("{}-{k}", target.name()));
            std::fs::write(&path, input).unwrap();
            println!("  {}: {message}", path.display());
        }
        any |= report.panicked > 0;
    }
    if any {
        std::process::exit(1);
    }
}
