//! The identity of a run: a SHA-256 hash of its resolved case and of the contents of the files the
//! case reads, carried by summary.json and checkpoint.bin, so that a result or a checkpoint is
//! known to belong to its case and `--resume` can name what changed.

use crate::case::Case;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A file a case reads, by the case field that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// The case field, e.g. `geometry.surface`.
    pub field: String,
    /// The file, as the run read it (absolute where it could be resolved).
    pub path: PathBuf,
    /// SHA-256 of its contents (hex).
    pub sha256: String,
}

/// The identity of a run: the case as resolved (every default filled in), the input files' hashes,
/// and one hash over both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// SHA-256 (hex) of `case` and of every input file's hash.
    pub case_hash: String,
    /// The files the case reads.
    pub inputs: Vec<InputFile>,
    /// The resolved case, less the fields that cannot change the results (`output.dir`, and
    /// `run.backend`: a run may resume on another backend), plus the run's extra parts (e.g. a
    /// plan's edits under `edits`).
    pub case: serde_json::Value,
}

impl RunIdentity {
    /// The identity of `case`, with `extra` (a name and its value, e.g. a plan's edits) when the
    /// run is more than its case; reads and hashes every input file.
    pub fn of(case: &Case, extra: Option<(&str, serde_json::Value)>) -> Result<Self> {
        let field = |e: serde_json::Error| Error::parameter("case", format!("cannot be serialised: {e}"));
        let mut value = serde_json::to_value(case).map_err(field)?;
        if let Some(section) = value.get_mut("output").and_then(|v| v.as_object_mut()) {
            section.remove("dir");
        }
        if let Some(section) = value.get_mut("run").and_then(|v| v.as_object_mut()) {
            section.remove("backend");
        }
        let mut files: Vec<(&str, &Path)> = Vec::new();
        if let Some(s) = &case.geometry.surface {
            files.push(("geometry.surface", s));
        }
        if let Some(w) = &case.inflow.waveform
            && !crate::physiology::BUILTIN.contains(&w.as_str())
        {
            files.push(("inflow.waveform", Path::new(w)));
        }
        let mut inputs = Vec::new();
        for (name, path) in files {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            // The path itself is not part of the identity: the same file moved is the same input.
            set_path(&mut value, name, serde_json::Value::Null);
            inputs.push(InputFile { field: name.into(), path, sha256: hex(&Sha256::digest(&bytes)) });
        }
        if let (Some((name, extra)), Some(map)) = (extra, value.as_object_mut()) {
            map.insert(name.into(), extra);
        }
        let mut hasher = Sha256::new();
        hasher.update(value.to_string().as_bytes());
        for f in &inputs {
            hasher.update(f.field.as_bytes());
            hasher.update(f.sha256.as_bytes());
        }
        Ok(RunIdentity { case_hash: hex(&hasher.finalize()), inputs, case: value })
    }

    /// The first 12 hex digits of the hash, e.g. for folder names.
    pub fn short_hash(&self) -> &str {
        &self.case_hash[..12.min(self.case_hash.len())]
    }

    /// What differs from `earlier`, one line per case field (`fluid.viscosity: 0.0035 -> 0.0036`)
    /// or input file whose contents changed; empty when the hashes agree.
    pub fn changes_from(&self, earlier: &RunIdentity) -> Vec<String> {
        if self.case_hash == earlier.case_hash {
            return Vec::new();
        }
        let mut lines = Vec::new();
        diff(&earlier.case, &self.case, String::new(), &mut lines);
        for f in &self.inputs {
            match earlier.inputs.iter().find(|e| e.field == f.field) {
                Some(e) if e.sha256 != f.sha256 => lines.push(format!(
                    "{}: the contents of {} changed since the run started (was {})",
                    f.field,
                    f.path.display(),
                    e.path.display()
                )),
                None => lines.push(format!("{}: {} is new", f.field, f.path.display())),
                _ => {}
            }
        }
        for e in &earlier.inputs {
            if !self.inputs.iter().any(|f| f.field == e.field) {
                lines.push(format!("{}: the run read {}, this case reads none", e.field, e.path.display()));
            }
        }
        if lines.is_empty() {
            lines.push("the identity hashes differ (written by another hemotwin version?)".into());
        }
        lines
    }
}

/// Sets the dotted `field` of a JSON object (when its parent exists).
fn set_path(value: &mut serde_json::Value, field: &str, to: serde_json::Value) {
    let mut at = value;
    let parts: Vec<&str> = field.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        match at.get_mut(*part) {
            Some(v) => at = v,
            None => return,
        }
    }
    if let Some(map) = at.as_object_mut() {
        map.insert(parts[parts.len() - 1].into(), to);
    }
}

/// Appends to `lines` every leaf where `old` and `new` differ, named by its dotted path.
fn diff(old: &serde_json::Value, new: &serde_json::Value, at: String, lines: &mut Vec<String>) {
    use serde_json::Value;
    let join = |key: &str| if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff(a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null), join(k), lines);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (k, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, format!("{at}[{k}]"), lines);
            }
        }
        _ if old != new => lines.push(format!("{at}: {} -> {}", brief(old), brief(new))),
        _ => {}
    }
}

/// A JSON value in at most 60 characters.
fn brief(v: &serde_json::Value) -> String {
    let text = if v.is_null() { "(none)".to_string() } else { v.to_string() };
    if text.chars().count() > 60 { format!("{}...", text.chars().take(57).collect::<String>()) } else { text }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_field_is_named_and_the_output_folder_is_not_part_of_the_identity() {
        let case = Case::from_toml(crate::case::DEMO_CASE, Path::new("demo")).expect("demo case");
        let a = RunIdentity::of(&case, None).expect("identity");
        let mut moved = case.clone();
        moved.output.dir = PathBuf::from("elsewhere");
        moved.run.backend = crate::gpu::BackendChoice::Gpu;
        assert_eq!(RunIdentity::of(&moved, None).expect("identity").case_hash, a.case_hash);
        let mut edited = case.clone();
        edited.fluid.viscosity *= 1.03;
        let b = RunIdentity::of(&edited, None).expect("identity");
        assert_ne!(b.case_hash, a.case_hash);
        let changes = b.changes_from(&a);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(changes[0].starts_with("fluid.viscosity: "), "{changes:?}");
        assert!(b.changes_from(&b).is_empty());
    }
}
