//! Kill and resume: `hemotwin run --resume` killed with SIGKILL at random moments, again and again,
//! then let finish, reports exactly what an uninterrupted run reports (timings aside), with the same
//! ports.csv and frames, and no temporary file left behind.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

/// A pulsatile tube with a Windkessel outlet, two cycles (about 3 s on 2 cores), checkpointed every
/// 500 steps.
const CASE: &str = r#"
[geometry]
units = "mm"
generate = { shape = "tube", radius = 2.0, length = 8.0 }
[fluid]
density = 1060.0
viscosity = 3.5e-3
[inflow]
waveform = "carotid"
flow_rate = 2e-7
profile = "womersley"
ramp = 0.0
[lattice]
cells_across_inlet = 14
[run]
cycles = 2
backend = "cpu"
frames = 8
checkpoint_steps = 500
cycle_tolerance = 0.0
[[outlets]]
port = "outlet"
proximal = 1e7
compliance = 1e-10
distal = 3e7
"#;

fn hemotwin(case: &Path, out: &Path, resume: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hemotwin"));
    c.arg("run").arg(case).arg("--out").arg(out).stdout(Stdio::null()).stderr(Stdio::null());
    if resume {
        c.arg("--resume");
    }
    c
}

/// summary.json without the figures that time the run (wall time, MLUPS).
fn untimed(dir: &Path) -> serde_json::Value {
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let map = json.as_object_mut().unwrap();
    map.remove("wall_time_s");
    map.remove("mlups");
    json
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn runs_killed_at_random_and_resumed_report_what_an_uninterrupted_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.toml");
    std::fs::write(&case, CASE).unwrap();
    let (straight, killed) = (dir.path().join("straight"), dir.path().join("killed"));
    let start = Instant::now();
    let status = hemotwin(&case, &straight, false).status().unwrap();
    assert!(status.success(), "the uninterrupted run: {status}");
    let full = start.elapsed();
    // A small generator for the kill times, seeded from the clock and printed to replay a failure.
    let mut seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("uninterrupted run {:.2} s; kill-time seed {seed}", full.as_secs_f64());
    let mut kills = 0;
    for _ in 0..5 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Between 8% and 30% of an uninterrupted run's time after the start: five of them leave
        // the run unfinished.
        let fraction = 0.08 + 0.22 * (seed % 1000) as f64 / 1000.0;
        let wait = full.mul_f64(fraction);
        let mut child = hemotwin(&case, &killed, true).spawn().unwrap();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let status = child.wait().unwrap();
        println!("killed after {:.2} s: {status}", wait.as_secs_f64());
    }
    assert!(kills >= 4, "only {kills} of 5 runs were still going when killed");
    let status = hemotwin(&case, &killed, true).status().unwrap();
    assert!(status.success(), "the resumed run to the end: {status}");
    assert_eq!(
        untimed(&killed),
        untimed(&straight),
        "the CPU backend is deterministic: every figure of summary.json agrees"
    );
    for file in ["ports.csv", "fluid.pvd"] {
        assert_eq!(
            std::fs::read(killed.join(file)).unwrap(),
            std::fs::read(straight.join(file)).unwrap(),
            "{file} is the uninterrupted run's"
        );
    }
    let names = listing(&killed);
    assert_eq!(names, listing(&straight), "the same files, no stale frame");
    assert!(!names.iter().any(|n| n.ends_with(".part")), "no temporary file left: {names:?}");
    // Frames are rewritten identically from the checkpoints (bit for bit: same state, same writer).
    for name in names.iter().filter(|n| n.ends_with(".vti")) {
        assert_eq!(
            std::fs::read(killed.join(name)).unwrap(),
            std::fs::read(straight.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn a_second_run_into_a_folder_in_use_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.toml");
    std::fs::write(&case, CASE).unwrap();
    let out = dir.path().join("out");
    let mut first = hemotwin(&case, &out, false).spawn().unwrap();
    // The lock file names its holder once the first run has claimed the folder.
    let lock = out.join(".hemotwin.lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock).map(|s| s.is_empty()).unwrap_or(true) {
        assert!(start.elapsed().as_secs() < 60, "the first run never claimed its folder");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = hemotwin(&case, &out, true).stderr(Stdio::piped()).output().unwrap();
    let message = String::from_utf8_lossy(&second.stderr);
    println!("second run: {message}");
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(6), "exit 6: the folder is in use");
    assert!(message.contains(&format!("pid {}", first.id())), "names the holder: {message}");
}
