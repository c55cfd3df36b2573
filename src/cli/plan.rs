//! `hemotwin plan`: baseline against treated scenarios of a vessel, with the planner's figures.

use super::terminal::Terminal;
use anyhow::Result;
use hemotwin::gpu::BackendChoice;
use hemotwin::io::folder::Existing;
use hemotwin::pipeline::RunOptions;
use hemotwin::plan::{Plan, PlanResult, run_plan};
use std::path::PathBuf;
use std::sync::Arc;

/// Pa per mmHg.
const PA_PER_MMHG: f64 = 133.322;

/// Runs `plan` into `out` (default: the plan's; `existing`: what to do with an earlier plan's
/// results there) and prints the figures per scenario.
pub fn run(
    plan: &Plan,
    out: Option<PathBuf>,
    backend: Option<BackendChoice>,
    existing: Existing,
) -> Result<PlanResult> {
    let observer = Arc::new(Terminal::new());
    let opts =
        RunOptions { backend, out_dir: out, observer: observer.clone(), existing, ..Default::default() };
    let result = run_plan(plan, &opts);
    observer.bar.finish_and_clear();
    let result = result?;
    print_table(&result);
    Ok(result)
}

/// Prints each figure per scenario, with the change from the baseline.
pub fn print_table(result: &PlanResult) {
    let names: Vec<&str> = result.scenarios.iter().map(|s| s.name.as_str()).collect();
    print!("{:<44}", "");
    for n in &names {
        print!(" {n:>14}");
    }
    println!();
    let rows: Vec<_> = result.scenarios.iter().map(|s| s.metrics.rows()).collect();
    for (i, (name, unit, _, pressure)) in rows[0].iter().enumerate() {
        let label = if unit.is_empty() { name.to_string() } else { format!("{name} ({unit})") };
        print!("{label:<44}");
        for r in &rows {
            print!(" {:>14.4}", r[i].2);
        }
        if *pressure {
            print!("   (mmHg:");
            for r in &rows {
                print!(" {:.2}", r[i].2 / PA_PER_MMHG);
            }
            print!(")");
        }
        println!();
    }
    for s in &result.scenarios {
        if s.run.summary.status != "complete" {
            println!(
                "warning: scenario {} is {}: {}",
                s.name,
                s.run.summary.status,
                s.run.summary.status_reasons.join("; ")
            );
        }
    }
    println!(
        "results in {}/: report.html, view.py, plan.json and one folder per scenario",
        result.out_dir.display()
    );
}
