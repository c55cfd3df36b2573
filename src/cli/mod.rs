//! The command line's subcommands beside `run`: mesh, plan, study, info and bench, and its observer.

pub mod bench;
pub mod mesh;
pub mod plan;
pub mod study;
pub mod terminal;
