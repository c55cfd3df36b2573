//! A study as a Slurm job array: one task per unfinished run (`hemotwin study run-one`), and a
//! collect job after them all (`--dependency=afterany`) that writes study.csv and the report.

use super::Study;
use crate::atomic::write_bytes_atomic;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// What the sbatch scripts ask of the cluster.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` of each task, e.g. `02:00:00`.
    pub time: Option<String>,
    /// `--gpus-per-task`.
    pub gpus_per_task: Option<u32>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<u32>,
    /// Tasks running at once (the `%M` of `--array`).
    pub max_parallel: Option<usize>,
}

/// The scripts written for a study, and the runs they cover.
#[derive(Debug, Clone)]
pub struct SlurmScripts {
    /// The job array (`array.sbatch`).
    pub array: PathBuf,
    /// The collect job (`collect.sbatch`).
    pub collect: PathBuf,
    /// Submits the array, then the collect job depending on it (`submit.sh`).
    pub submit: PathBuf,
    /// The run indices of the array: the runs not complete when written.
    pub indices: Vec<usize>,
}

/// `indices` (ascending) as an sbatch array list, e.g. `0-3,5,7-9`.
pub fn array_list(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { indices[i].to_string() } else { format!("{}-{}", indices[i], indices[j]) });
        i = j + 1;
    }
    parts.join(",")
}

/// `text` quoted for the shell.
fn quoted(text: &Path) -> String {
    format!("'{}'", text.display().to_string().replace('\'', "'\\''"))
}

/// Writes `OUT/slurm/{array.sbatch, collect.sbatch, submit.sh}` for the runs of `study` not complete
/// in `out`; `binary` is the hemotwin executable the tasks run, `study_file` the study (absolute
/// paths: the tasks start elsewhere).
pub fn write_scripts(
    study: &Study,
    study_file: &Path,
    out: &Path,
    binary: &Path,
    opts: &SlurmOptions,
) -> Result<SlurmScripts> {
    let dir = out.join("slurm");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let indices = study.unfinished(out);
    let mut head = String::new();
    if let Some(p) = &opts.partition {
        head += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(t) = &opts.time {
        head += &format!("#SBATCH --time={t}\n");
    }
    let throttle = opts.max_parallel.map(|m| format!("%{m}")).unwrap_or_default();
    let mut task = head.clone();
    if let Some(g) = opts.gpus_per_task {
        task += &format!("#SBATCH --gpus-per-task={g}\n");
    }
    if let Some(c) = opts.cpus_per_task {
        task += &format!("#SBATCH --cpus-per-task={c}\n");
    }
    let (exe, file, out_q) = (quoted(binary), quoted(study_file), quoted(out));
    let array_text = format!(
        "#!/bin/bash\n# Written by hemotwin {}: one task per run of {} not complete when written.\n\
         #SBATCH --job-name=hemotwin-study\n#SBATCH --array={}{throttle}\n#SBATCH --output={}\n{task}\
         exec {exe} study run-one {file} --out {out_q} --index \"$SLURM_ARRAY_TASK_ID\"\n",
        env!("CARGO_PKG_VERSION"),
        study_file.display(),
        array_list(&indices),
        dir.join("run-%a.log").display(),
    );
    let collect_text = format!(
        "#!/bin/bash\n# Written by hemotwin {}: collects study.csv and report.html after the array.\n\
         #SBATCH --job-name=hemotwin-study-collect\n#SBATCH --output={}\n{head}\
         exec {exe} study collect {file} --out {out_q}\n",
        env!("CARGO_PKG_VERSION"),
        dir.join("collect-%j.log").display(),
    );
    let (array, collect, submit) =
        (dir.join("array.sbatch"), dir.join("collect.sbatch"), dir.join("submit.sh"));
    let submit_text = format!(
        "#!/bin/bash\n# Submits the array, then the collect job once every task has ended (afterany).\nset -euo pipefail\n\
         array=$(sbatch --parsable {})\narray=${{array%%;*}}\n\
         collect=$(sbatch --parsable --dependency=afterany:\"$array\" {})\ncollect=${{collect%%;*}}\n\
         echo \"$array $collect\"\n",
        quoted(&array),
        quoted(&collect)
    );
    write_bytes_atomic(&array, array_text.as_bytes())?;
    write_bytes_atomic(&collect, collect_text.as_bytes())?;
    write_bytes_atomic(&submit, submit_text.as_bytes())?;
    Ok(SlurmScripts { array, collect, submit, indices })
}

/// Runs `scripts.submit` (sbatch on the PATH): the job ids of the array and of the collect job.
pub fn submit(scripts: &SlurmScripts) -> Result<(String, String)> {
    let output = std::process::Command::new("bash")
        .arg(&scripts.submit)
        .output()
        .map_err(|e| Error::io(&scripts.submit, e))?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let mut ids = text.split_whitespace().map(str::to_string);
    match (output.status.success(), ids.next(), ids.next()) {
        (true, Some(a), Some(c)) => Ok((a, c)),
        _ => Err(Error::input(
            &scripts.submit,
            format!(
                "sbatch failed ({}): {}; the scripts stay in {} for `bash submit.sh` by hand",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                scripts.submit.parent().unwrap_or(Path::new(".")).display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::array_list;

    #[test]
    fn array_lists_compress_runs_of_indices() {
        assert_eq!(array_list(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_list(&[0, 2, 3, 4, 7]), "0,2-4,7");
        assert_eq!(array_list(&[5]), "5");
    }
}
