//! The library's error type: every variant names the file, field or element at fault and how to fix it.

use std::path::PathBuf;

/// Errors raised by hemotwin; messages are meant to be read by the user as they are.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file is unreadable, malformed or describes an unusable geometry.
    #[error("{}: {message}", path.display())]
    Input {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong, where, and what to do about it.
        message: String,
    },
    /// A parameter (case-file field or CLI option) is out of its valid range.
    #[error("{field}: {message}")]
    Parameter {
        /// The field at fault, e.g. `fluid.viscosity`.
        field: String,
        /// What is wrong and which value to use instead.
        message: String,
    },
    /// Reading or writing a file failed at the operating-system level.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The operating system's error, in the message (not a separate source, so that error
        /// chains print it once).
        cause: std::io::Error,
    },
    /// The lattice would not fit in memory.
    #[error("{0}")]
    Memory(String),
    /// No usable GPU adapter, or a GPU operation failed.
    #[error("GPU: {0}")]
    Gpu(String),
    /// The output folder is in use by another run, holds another run's results, or its checkpoint
    /// belongs to another case.
    #[error("{}: {message}", path.display())]
    Folder {
        /// The output folder.
        path: PathBuf,
        /// What is in the way and the choices.
        message: String,
    },
    /// The simulation became unstable.
    #[error("simulation diverged: {0}")]
    Diverged(String),
}

impl Error {
    /// An [`Error::Input`] for `path` with `message`.
    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input { path: path.into(), message: message.into() }
    }

    /// An [`Error::Parameter`] for `field` with `message`.
    pub fn parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Parameter { field: field.into(), message: message.into() }
    }

    /// An [`Error::Folder`] for `path` with `message`.
    pub fn folder(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Folder { path: path.into(), message: message.into() }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), cause: source }
    }
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
