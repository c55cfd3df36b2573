//! The runs of a study: designs (grid, zip, random, Latin hypercube) over its parameters, and the
//! parameters' values set into the base case.

use super::spec::{Design, Distribution};
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, LogNormal, Normal};
use toml::Value;

/// How a parameter's value enters the case.
#[derive(Debug, Clone, PartialEq)]
pub enum Setter {
    /// The value replaces the one at this path.
    Path(String),
    /// The value is a factor on the base case's numbers at these paths.
    Scale(Vec<String>),
}

/// One varied input of a study: its column name, where it goes, and what it takes.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Column name in study.csv and the report (the case path, or the uncertainty input's name).
    pub name: String,
    /// Where the value goes in the case.
    pub setter: Setter,
    /// The values it takes (grid, zip) or is drawn among (random, LHS).
    pub values: Option<Vec<Value>>,
    /// The distribution of random and LHS draws.
    pub distribution: Option<Distribution>,
}

/// The value of every parameter in every run of `design` (rows: runs; columns: parameters), drawn
/// with `seed` where the design samples.
pub fn draw(
    design: Design,
    parameters: &[Parameter],
    samples: Option<usize>,
    seed: u64,
) -> Result<Vec<Vec<Value>>> {
    let listed = |p: &Parameter| {
        p.values.clone().filter(|v| !v.is_empty()).ok_or_else(|| {
            Error::parameter(
                format!("parameter {}", p.name),
                format!("the {design:?} design needs a non-empty `values` list").to_lowercase(),
            )
        })
    };
    match design {
        Design::Grid => {
            let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
            for p in parameters {
                let values = listed(p)?;
                rows = rows
                    .into_iter()
                    .flat_map(|row| {
                        values.iter().map(move |v| {
                            let mut next = row.clone();
                            next.push(v.clone());
                            next
                        })
                    })
                    .collect();
            }
            Ok(rows)
        }
        Design::Zip => {
            let lists = parameters.iter().map(listed).collect::<Result<Vec<_>>>()?;
            let n = lists.first().map_or(0, Vec::len);
            if let Some((p, l)) = parameters.iter().zip(&lists).find(|(_, l)| l.len() != n) {
                return Err(Error::parameter(
                    format!("parameter {}", p.name),
                    format!(
                        "has {} values where the first parameter has {n}: zip needs lists of one length",
                        l.len()
                    ),
                ));
            }
            Ok((0..n).map(|i| lists.iter().map(|l| l[i].clone()).collect()).collect())
        }
        Design::Random | Design::Lhs => {
            let n = samples.filter(|&n| n > 0).ok_or_else(|| {
                Error::parameter("samples", "give the number of runs to draw (a positive integer)")
            })?;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut columns = Vec::with_capacity(parameters.len());
            for p in parameters {
                let quantiles: Vec<f64> = if design == Design::Lhs {
                    let mut strata: Vec<usize> = (0..n).collect();
                    strata.shuffle(&mut rng);
                    strata.iter().map(|&s| (s as f64 + rng.random::<f64>()) / n as f64).collect()
                } else {
                    (0..n).map(|_| rng.random::<f64>()).collect()
                };
                columns.push(quantiles.iter().map(|&u| value_at(p, u)).collect::<Result<Vec<_>>>()?);
            }
            Ok((0..n).map(|i| columns.iter().map(|c| c[i].clone()).collect()).collect())
        }
    }
}

/// The value of `p` at probability `u` in (0, 1): the quantile of its distribution, else one of its
/// values with equal probability.
fn value_at(p: &Parameter, u: f64) -> Result<Value> {
    let u = u.clamp(1e-12, 1.0 - 1e-12);
    let field = || format!("parameter {}", p.name);
    match (&p.distribution, &p.values) {
        (Some(d), _) => {
            let bad = |what: &str| Error::parameter(format!("{}.distribution", p.name), what.to_string());
            let x = match *d {
                Distribution::Uniform { low, high } if low.is_finite() && high.is_finite() && low <= high => {
                    low + u * (high - low)
                }
                Distribution::Uniform { .. } => return Err(bad("needs finite low <= high")),
                Distribution::Normal { mean, sd } => Normal::new(mean, sd)
                    .map_err(|e| bad(&format!("{e}: give a finite mean and sd > 0")))?
                    .inverse_cdf(u),
                Distribution::Lognormal { median, sigma } if median > 0.0 => {
                    LogNormal::new(median.ln(), sigma)
                        .map_err(|e| bad(&format!("{e}: give sigma > 0")))?
                        .inverse_cdf(u)
                }
                Distribution::Lognormal { .. } => return Err(bad("needs a positive median")),
            };
            Ok(Value::Float(x))
        }
        (None, Some(values)) if !values.is_empty() => {
            Ok(values[((u * values.len() as f64) as usize).min(values.len() - 1)].clone())
        }
        _ => {
            Err(Error::parameter(field(), "give a `distribution` or a non-empty `values` list to draw from"))
        }
    }
}

/// Sets `value` at `path` (dot-separated keys; array elements by index) in the case `root` (a
/// table); a float where the base holds an integer is rounded. Fails naming the path when it leads
/// nowhere.
pub fn set_path(root: &mut Value, path: &str, value: Value) -> Result<()> {
    let keys: Vec<&str> = path.split('.').collect();
    let bad = |why: String| Error::parameter(format!("parameter {path}"), why);
    let mut slot: &mut Value = root;
    for (depth, key) in keys.iter().enumerate() {
        // What a missing key becomes: the container the next key needs, or (the last) a placeholder.
        let empty = match keys.get(depth + 1) {
            Some(next) if next.parse::<usize>().is_ok() => Value::Array(Vec::new()),
            Some(_) => Value::Table(toml::Table::new()),
            None => Value::Boolean(false),
        };
        slot = match slot {
            Value::Table(t) => t.entry(key.to_string()).or_insert(empty),
            Value::Array(a) => {
                let i: usize =
                    key.parse().map_err(|_| bad(format!("`{key}` indexes an array: give a number")))?;
                let n = a.len();
                a.get_mut(i).ok_or_else(|| bad(format!("index {i} is beyond the {n} elements there")))?
            }
            _ => return Err(bad(format!("`{key}` is inside a value that is not a table"))),
        };
    }
    *slot = match (&*slot, value) {
        (Value::Integer(_), Value::Float(f)) if f.is_finite() => Value::Integer(f.round() as i64),
        (_, v) => v,
    };
    Ok(())
}

/// The number at `path` in the case `root`, if there is one.
pub fn number_at(root: &Value, path: &str) -> Option<f64> {
    let mut here = root;
    for key in path.split('.') {
        here = match here {
            Value::Table(t) => t.get(key)?,
            Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match here {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(values: Option<Vec<Value>>, distribution: Option<Distribution>) -> Parameter {
        Parameter { name: "p".into(), setter: Setter::Path("p".into()), values, distribution }
    }

    #[test]
    fn paths_set_nested_keys_array_elements_and_round_integers() {
        let mut root: Value =
            toml::from_str("[lattice]\ncells = 12\n[[outlets]]\nresistance = 1.0\n").unwrap();
        set_path(&mut root, "lattice.cells", Value::Float(15.6)).unwrap();
        set_path(&mut root, "outlets.0.resistance", Value::Float(2.5)).unwrap();
        set_path(&mut root, "geometry.generate.radius", Value::Float(2.0)).unwrap();
        assert_eq!(root["lattice"]["cells"], Value::Integer(16));
        assert_eq!(number_at(&root, "outlets.0.resistance"), Some(2.5));
        assert_eq!(number_at(&root, "geometry.generate.radius"), Some(2.0));
        let e = set_path(&mut root, "outlets.3.resistance", Value::Float(1.0)).unwrap_err().to_string();
        assert!(e.contains("parameter outlets.3.resistance") && e.contains("beyond the 1 elements"), "{e}");
        assert!(set_path(&mut root, "lattice.cells.x", Value::Float(1.0)).is_err());
    }

    #[test]
    fn designs_combine_zip_and_stratify() {
        let list = |n: i64| parameter(Some((0..n).map(Value::Integer).collect()), None);
        assert_eq!(draw(Design::Grid, &[list(2), list(3)], None, 1).unwrap().len(), 6);
        assert_eq!(draw(Design::Zip, &[list(3), list(3)], None, 1).unwrap().len(), 3);
        assert!(draw(Design::Zip, &[list(3), list(2)], None, 1).is_err());
        // Latin hypercube: each of the 8 strata of [0, 1) drawn exactly once.
        let uniform = parameter(None, Some(Distribution::Uniform { low: 0.0, high: 1.0 }));
        let rows = draw(Design::Lhs, &[uniform], Some(8), 7).unwrap();
        let mut strata: Vec<usize> = rows.iter().map(|r| (r[0].as_float().unwrap() * 8.0) as usize).collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..8).collect::<Vec<_>>());
        // The same seed draws the same runs.
        let normal = parameter(None, Some(Distribution::Normal { mean: 1.0, sd: 0.1 }));
        assert_eq!(
            draw(Design::Random, std::slice::from_ref(&normal), Some(4), 3).unwrap(),
            draw(Design::Random, &[normal], Some(4), 3).unwrap()
        );
    }
}
