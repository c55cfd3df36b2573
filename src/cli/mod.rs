//! The command line's subcommands beside `run`: mesh, info and bench, and its observer.

pub mod bench;
pub mod mesh;
pub mod plan;
pub mod terminal;
