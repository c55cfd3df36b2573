//! The command line's observer of runs: lines on stderr, a progress bar or spinner on a terminal.

use anyhow::{Context, Result};
use hemotwin::pipeline::{Event, Observer};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Seconds between two progress lines when stderr is not a terminal (a log).
const LOG_EVERY_S: f64 = 10.0;

/// The command line's observer: set-up lines and warnings on stderr, a progress bar for the time
/// loop and a spinner for the wall on a terminal, a line every few seconds in a log.
pub struct Terminal {
    /// The progress bar (hidden until a run starts).
    pub bar: indicatif::ProgressBar,
    /// Seconds since the start of the last line logged (logs only).
    logged: std::sync::Mutex<f64>,
}

impl Terminal {
    /// A terminal observer with its bar hidden.
    pub fn new() -> Self {
        let bar = indicatif::ProgressBar::hidden();
        Terminal { bar, logged: std::sync::Mutex::new(f64::NEG_INFINITY) }
    }

    /// Shows `line` on the bar (a terminal), or logs it at most every LOG_EVERY_S seconds.
    fn status(&self, line: String, elapsed: f64) {
        if self.bar.is_hidden() {
            if let Ok(mut logged) = self.logged.lock()
                && elapsed - *logged >= LOG_EVERY_S
            {
                *logged = elapsed;
                eprintln!("{line}");
            }
        } else {
            self.bar.set_message(line);
        }
    }
}

impl Observer for Terminal {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Info(line) => self.bar.suspend(|| eprintln!("{line}")),
            Event::Stage(line) => {
                if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    // A spinner that ticks on its own while the stage holds the thread.
                    self.bar.reset();
                    self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    {
                        self.bar.set_style(style);
                    }
                    self.bar.set_message(line.to_string());
                    self.bar.enable_steady_tick(std::time::Duration::from_millis(200));
                } else {
                    eprintln!("{line} ...");
                }
            }
            Event::Warning(line) => self.bar.suspend(|| eprintln!("warning: {line}")),
            Event::Started { step, total } => {
                self.bar.disable_steady_tick();
                self.bar.reset();
                self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                self.bar.set_length(*total);
                self.bar.set_position(*step);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} steps, {msg}, {elapsed} elapsed, ~{eta} left",
                ) {
                    self.bar.set_style(style);
                }
            }
            Event::Progress { step, mlups, residual } => {
                self.bar.set_position(*step);
                let line = format!("{mlups:.1} MLUPS, residual {residual:.1e}");
                if self.bar.is_hidden() {
                    self.status(format!("step {step}: {line}"), self.bar.elapsed().as_secs_f64());
                } else {
                    self.bar.set_message(line);
                }
            }
            Event::Finished => self.bar.finish_and_clear(),
            Event::StudyRun { done, total, line } => {
                self.bar.suspend(|| eprintln!("[{done}/{total}] {line}"))
            }
            Event::Wall(p) => {
                if self.bar.is_finished() || self.bar.length().is_none() {
                    self.bar.reset();
                    self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    if let Ok(style) =
                        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    {
                        self.bar.set_style(style);
                    }
                }
                let line = format!(
                    "wall: {} dofs, pressure fraction {:.2}, Newton {}, PCG iteration {} at relative residual {:.2e} \
                     ({:.0} s)",
                    p.dofs,
                    p.load_fraction,
                    p.newton_iterations,
                    p.pcg_iterations,
                    p.relative_residual,
                    p.elapsed_s
                );
                self.bar.tick();
                self.status(line, p.elapsed_s);
            }
        }
    }
}

/// A stop flag set by the first Ctrl-C (which prints `first`, saying what happens next); the second
/// Ctrl-C exits at once with status 130.
pub fn stop_on_ctrl_c(first: &'static str) -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: exiting now (files already written are complete)");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: {first}");
    })
    .context("installing the Ctrl-C handler")?;
    Ok(stop)
}
