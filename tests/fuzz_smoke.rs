//! Fuzz smoke run: mutants of seed files through every reader (STL, VTP, case TOML, waveform CSV)
//! never panic, and the inputs that once did (tests/data/fuzz/crashes, named `TARGET-*`: so far the
//! two .vtp corruptions that panicked vtkio) do not panic. The long runs are examples/fuzz.rs (docs/reliability.md).
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

#[path = "common/fuzz.rs"]
mod fuzz;

use fuzz::{Target, fuzz, read_catching};

/// Mutants per target: about a second each in a release build.
const SMOKE_EXECUTIONS: u64 = 20_000;

#[test]
fn mutated_inputs_never_panic_any_reader() {
    for target in Target::ALL {
        let report = fuzz(target, SMOKE_EXECUTIONS, 0x5EED, 3);
        println!(
            "{}: {} executions in {:.2} s, {} accepted, {} panics, slowest read {:.1} ms",
            target.name(),
            report.executions,
            report.seconds,
            report.accepted,
            report.panicked,
            report.slowest * 1e3
        );
        for (input, message) in &report.panics {
            println!("  panic {message:?} on {:?}", String::from_utf8_lossy(&input[..input.len().min(200)]));
        }
        assert_eq!(report.panicked, 0, "{}", target.name());
    }
}

#[test]
fn inputs_that_once_panicked_are_refused_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/crashes");
    let scratch = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(target) = Target::ALL.into_iter().find(|t| name.starts_with(&format!("{}-", t.name())))
        else {
            continue;
        };
        let input = std::fs::read(entry.path()).unwrap();
        let outcome = read_catching(target, &input, &scratch.path().join(format!("input.{}", target.name())));
        println!("{name}: {outcome:?}");
        assert!(outcome.is_ok(), "{name} panics");
        checked += 1;
    }
    println!("{checked} kept inputs checked");
    assert!(checked >= 2, "the kept inputs are missing");
}
