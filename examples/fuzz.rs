//! Long fuzz runs of hemotwin's readers: `cargo run --release --example fuzz -- [TARGET|all]
//! [EXECUTIONS] [SEED] [OUT_DIR]` (defaults: all, 1000000, 1, fuzz-crashes). Prints executions,
//! time and panics per target and writes each panicking input to OUT_DIR/TARGET-N for
//! tests/data/fuzz/crashes. Exits 1 when any input panicked.
#![allow(clippy::unwrap_used)] // a developer tool: a failure to write its own output should stop it

#[path = "../tests/common/fuzz.rs"]
mod fuzz;

use fuzz::{Target, fuzz};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("all", String::as_str);
    let executions: u64 = args.get(1).map_or(1_000_000, |a| a.parse().expect("EXECUTIONS is a count"));
    let seed: u64 = args.get(2).map_or(1, |a| a.parse().expect("SEED is a number"));
    let out = std::path::PathBuf::from(args.get(3).map_or("fuzz-crashes", String::as_str));
    let mut any = false;
    for target in Target::ALL.into_iter().filter(|t| which == "all" || which == t.name()) {
        let report = fuzz(target, executions, seed, 20);
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
            std::fs::create_dir_all(&out).unwrap();
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
