//! What a run tells its caller while it works: the library never prints; a caller that wants to
//! show progress implements [`Observer`] (the command line does, with a progress bar).

use crate::fem::WallProgress;

/// One thing a run reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A line about the set-up or the run (lattice size, units, backend, inflow, outlets, resume).
    Info(&'a str),
    /// A stage of the set-up begins (reading the surface, voxelizing, tracing the centerlines,
    /// building the lattice): it runs until the next event.
    Stage(&'a str),
    /// A warning (also listed in summary.json).
    Warning(&'a str),
    /// The time loop starts (or resumes at `step`) towards `total` steps.
    Started {
        /// Steps already done (a resumed run).
        step: u64,
        /// Steps the run will do at most.
        total: u64,
    },
    /// A batch of steps is done.
    Progress {
        /// Steps done.
        step: u64,
        /// Million lattice updates per second so far.
        mlups: f64,
        /// Relative change of the velocity per 1000 steps over the last batch.
        residual: f64,
    },
    /// The time loop ended (finished, converged or stopped).
    Finished,
    /// The wall's solver progress (solves longer than 2 s).
    Wall(&'a WallProgress),
    /// A run of a study ended.
    StudyRun {
        /// Runs of the study ended so far (earlier calls' included).
        done: usize,
        /// Runs in the study.
        total: usize,
        /// Which run, its parameters, and how it ended.
        line: &'a str,
    },
}

/// Hears a run's events; `Sync` so that one observer can watch runs on several threads.
pub trait Observer: Send + Sync {
    /// Called for every event, in order.
    fn event(&self, event: &Event<'_>);
}

/// An observer that ignores everything: the default of library calls.
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) {}
}
