//! Which hardware runs the kernels: the user's choice (auto, gpu, cpu) and the one policy that
//! turns it into a GPU backend or the CPU, with the reason for any fallback. The LBM and the FEM
//! both resolve their choice here.

use super::context::{GpuContext, open};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which hardware runs the kernels (`run.backend` in a case file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU when one is found, else the CPU (software GPU adapters are skipped).
    Auto,
    /// A GPU adapter, software ones (lavapipe) included; an error when there is none.
    Gpu,
    /// The rayon CPU backend.
    Cpu,
}

impl BackendChoice {
    /// Every choice, in the order the help text lists them.
    pub const ALL: [BackendChoice; 3] = [BackendChoice::Auto, BackendChoice::Gpu, BackendChoice::Cpu];

    /// The choice as written in case files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Gpu => "gpu",
            BackendChoice::Cpu => "cpu",
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        BackendChoice::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let names: Vec<&str> = BackendChoice::ALL.iter().map(|c| c.name()).collect();
            Error::parameter("backend", format!("'{s}' is not a backend; use one of {}", names.join(", ")))
        })
    }
}

/// Where the kernels run once a [`BackendChoice`] is resolved.
pub enum Resolved<T> {
    /// The GPU backend, built on an open device.
    Gpu(T),
    /// The CPU backend.
    Cpu {
        /// Why `auto` fell back to the CPU (None when the CPU was asked for).
        reason: Option<String>,
    },
}

/// Resolves `choice`: opens a GPU device and builds the GPU backend on it with `build`, or picks
/// the CPU. `gpu` opens any adapter, software ones included, and errors when that or `build`
/// fails; `auto` skips software adapters and falls back to the CPU, with the reason, when no
/// hardware adapter is found or `build` fails (e.g. the lattice exceeds the device's buffers).
pub fn resolve<T>(choice: BackendChoice, build: impl FnOnce(GpuContext) -> Result<T>) -> Result<Resolved<T>> {
    match choice {
        BackendChoice::Cpu => Ok(Resolved::Cpu { reason: None }),
        BackendChoice::Gpu => Ok(Resolved::Gpu(build(open(true)?)?)),
        BackendChoice::Auto => Ok(match open(false).and_then(build) {
            Ok(backend) => Resolved::Gpu(backend),
            Err(e) => Resolved::Cpu { reason: Some(format!("using the CPU backend: {e}")) },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::BackendChoice;

    #[test]
    fn choices_parse_from_their_names_and_unknown_ones_list_the_values() {
        for choice in BackendChoice::ALL {
            assert_eq!(choice.to_string().parse::<BackendChoice>().ok(), Some(choice));
        }
        assert_eq!("GPU".parse::<BackendChoice>().ok(), Some(BackendChoice::Gpu));
        let e = "vulkan".parse::<BackendChoice>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("'vulkan'") && e.contains("auto, gpu, cpu"), "{e}");
    }
}
