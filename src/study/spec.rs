//! The study file (TOML): a base case, the parameters that vary and how they combine, or an
//! `[uncertainty]` section.

use serde::Deserialize;
use std::path::PathBuf;

/// A study file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    /// The base case file (relative paths from the study file's folder).
    pub case: Option<PathBuf>,
    /// A base plan file instead (`hemotwin plan`): each run is a plan, baseline and treated
    /// scenarios, and parameters address the plan's fields, e.g. `edit.0.area_reduction_percent`.
    pub plan: Option<PathBuf>,
    /// Output folder (default `hemotwin-study`; `--out` overrides it).
    pub out: Option<PathBuf>,
    /// How the parameters combine (default grid).
    #[serde(default)]
    pub design: Design,
    /// Runs drawn by the random and Latin-hypercube designs.
    pub samples: Option<usize>,
    /// Seed of the random and Latin-hypercube designs (default 1): the same seed draws the same runs.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Runs at a time on this machine (default 1; the CPU threads are divided between them).
    pub parallel: Option<usize>,
    /// The parameters, each addressed by its path in the case.
    #[serde(default, rename = "parameter")]
    pub parameters: Vec<ParameterSpec>,
    /// An uncertainty study of the base case instead of parameters.
    pub uncertainty: Option<UncertaintySpec>,
}

fn default_seed() -> u64 {
    1
}

/// How a study's parameters combine into runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Design {
    /// Every combination of the parameters' values.
    #[default]
    Grid,
    /// The parameters' value lists side by side (all of one length).
    Zip,
    /// `samples` independent draws from each parameter's distribution.
    Random,
    /// `samples` Latin-hypercube draws: each parameter's range cut into `samples` strata of equal
    /// probability, each stratum drawn once.
    Lhs,
}

/// One varied parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// Path of the value in the case, e.g. `inflow.flow_rate`, `geometry.generate.radius`,
    /// `outlets.0.resistance` (array elements by index).
    pub path: String,
    /// The values (grid and zip; random and LHS draw among them with equal probability).
    pub values: Option<Vec<toml::Value>>,
    /// The distribution of random and Latin-hypercube draws (in the case's units of this value).
    pub distribution: Option<Distribution>,
}

/// A probability distribution of a sampled parameter.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Distribution {
    /// Uniform on [low, high].
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with a mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Log-normal: the median and the standard deviation of the logarithm.
    Lognormal {
        /// Median (exp of the mean of the logarithm).
        median: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
}

/// The inputs of an uncertainty study, each drawn uniformly (Latin hypercube) around the base case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncertaintySpec {
    /// Samples drawn (the nominal base case runs beside them).
    pub samples: usize,
    /// Lumen offset along the outward normal drawn from [-a, a], in the geometry's units (e.g.
    /// one voxel of the segmentation).
    pub lumen_offset: Option<f64>,
    /// Factor on the inflow drawn from [low, high].
    pub inflow_scale: Option<[f64; 2]>,
    /// Factor on every outlet's resistances drawn from [low, high].
    pub outlet_resistance_scale: Option<[f64; 2]>,
    /// Rheology models drawn with equal probability, e.g. ["newtonian", "carreau-yasuda"].
    pub rheology: Option<Vec<String>>,
}
