//! Output folders: claimed by one run at a time (a lock that the operating system releases when
//! the process ends, `kill -9` included), never mixing two runs' results, cleared of the temporary
//! files a killed run left behind.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a run does with a folder that already holds results of its kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to write there (the default): results are never mixed or lost silently.
    #[default]
    Refuse,
    /// Remove those results first (only files hemotwin writes; anything else stays).
    Overwrite,
    /// Keep them: the run continues from the folder's checkpoint.
    Resume,
}

/// Name of the lock file in a claimed folder.
pub const LOCK_FILE: &str = ".hemotwin.lock";

/// An output folder claimed by this process until dropped.
#[derive(Debug)]
pub struct OutputFolder {
    /// The folder.
    pub dir: PathBuf,
    /// The locked file: the lock lasts as long as it is open.
    _lock: File,
}

/// The files a flow run (`hemotwin run`) writes into its folder.
pub fn is_run_file(name: &str) -> bool {
    const FILES: [&str; 9] = [
        "summary.json",
        "checkpoint.bin",
        "fluid.pvd",
        "ports.csv",
        "wall.vtp",
        "ports.vtp",
        "centerline.vtp",
        "wall_fe.vtu",
        "case.toml",
    ];
    FILES.contains(&name) || (name.starts_with("fluid_") && name.ends_with(".vti"))
}

impl OutputFolder {
    /// Claims `dir` (created when missing): takes its lock (refused, naming the holder, while
    /// another process holds it), removes the `.hemotwin-*.part` files a killed writer left, and
    /// applies `existing` to the files for which `owned` is true. Returns the folder and how many
    /// such files it held.
    pub fn claim(dir: &Path, existing: Existing, owned: impl Fn(&str) -> bool) -> Result<(Self, usize)> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(Error::folder(
                    dir,
                    format!(
                        "another hemotwin run is writing into this folder ({}); wait for it to end or choose \
                         another output folder",
                        if holder.is_empty() { "its details are not written yet" } else { holder }
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let holder = format!(
            "pid {} on {}, started {}: {}",
            std::process::id(),
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "this machine".into()),
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        file.set_len(0)
            .and_then(|()| file.write_all(holder.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(|e| Error::io(&path, e))?;
        let mut results = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(".hemotwin-") && name.ends_with(".part") {
                // Only the lock holder writes here: a temporary file now is a dead writer's.
                std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            } else if owned(&name) && entry.path().is_file() {
                results.push(name);
            }
        }
        results.sort();
        let held = results.len();
        match existing {
            Existing::Refuse if !results.is_empty() => {
                let frames = results.iter().filter(|n| n.ends_with(".vti")).count();
                let mut named: Vec<String> =
                    results.iter().filter(|n| !n.ends_with(".vti")).cloned().collect();
                if frames > 0 {
                    named.push(format!("{frames} frames"));
                }
                return Err(Error::folder(
                    dir,
                    format!(
                        "holds the results of another run ({}): replace them (`--overwrite`), continue that run \
                         from its checkpoint (`--resume`), or write into another folder (`--out`)",
                        named.join(", ")
                    ),
                ));
            }
            Existing::Overwrite => {
                for name in &results {
                    let p = dir.join(name);
                    std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                }
            }
            _ => {}
        }
        Ok((OutputFolder { dir: dir.to_path_buf(), _lock: file }, held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_folder_is_refused_to_a_second_claim_and_freed_when_dropped() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (first, _) = OutputFolder::claim(dir.path(), Existing::Refuse, is_run_file).expect("first claim");
        let e = OutputFolder::claim(dir.path(), Existing::Refuse, is_run_file).expect_err("second claim");
        let text = e.to_string();
        assert!(
            text.contains("another hemotwin run") && text.contains(&format!("pid {}", std::process::id()))
        );
        drop(first);
        OutputFolder::claim(dir.path(), Existing::Refuse, is_run_file).expect("claim after release");
    }

    #[test]
    fn results_are_refused_overwritten_or_kept_and_stale_parts_removed() {
        let dir = tempfile::tempdir().expect("temporary folder");
        for name in ["summary.json", "fluid_00000100.vti", "notes.txt", ".hemotwin-abc.part"] {
            std::fs::write(dir.path().join(name), "x").expect("write");
        }
        let e = OutputFolder::claim(dir.path(), Existing::Refuse, is_run_file).expect_err("refused");
        assert!(e.to_string().contains("summary.json, 1 frames"), "{e}");
        assert!(!dir.path().join(".hemotwin-abc.part").exists(), "stale temporary file removed");
        let (_, held) = OutputFolder::claim(dir.path(), Existing::Resume, is_run_file).expect("resume");
        assert_eq!(held, 2);
        assert!(dir.path().join("summary.json").exists());
        OutputFolder::claim(dir.path(), Existing::Overwrite, is_run_file).expect("overwrite");
        assert!(!dir.path().join("summary.json").exists() && !dir.path().join("fluid_00000100.vti").exists());
        assert!(dir.path().join("notes.txt").exists(), "files hemotwin did not write are kept");
    }
}
