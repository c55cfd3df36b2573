//! Batch studies (issue 15): a grid whose table equals its runs' summaries, resumed without rerunning
//! what is complete; a run that must fail recorded beside the others; a study killed with SIGKILL
//! that runs exactly the rest; an uncertainty band around the nominal run; the Slurm scripts.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::pipeline::{Event, Observer};
use hemotwin::study::slurm::{SlurmOptions, write_scripts};
use hemotwin::study::{Study, StudyOptions, run_one, run_study};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

/// A small steady stenosis (8 cells across the inlet), run until steady.
const BASE: &str = "[geometry]\nunits = \"mm\"\n\
generate = { shape = \"stenosis\", radius = 2.0, length = 12.0, area_reduction_percent = 50.0, stenosis_length = 4.0, center = 5.0 }\n\
[fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nflow_rate = 5.19e-7\nramp = 0.02\n\
[lattice]\ncells_across_inlet = 8\n[run]\ntime = 1.0\nsteady_tolerance = 1e-4\nframes = 1\nbackend = \"cpu\"\n";

/// Writes the base case and `study` (TOML after `case = ...`) into `dir`; the study file's path.
fn study_file(dir: &Path, study: &str) -> PathBuf {
    std::fs::write(dir.join("base.toml"), BASE).unwrap();
    let path = dir.join("study.toml");
    std::fs::write(&path, format!("case = \"base.toml\"\n{study}")).unwrap();
    path
}

/// Counts the runs a study reports as ended.
#[derive(Default)]
struct Count(AtomicUsize);

impl Observer for Count {
    fn event(&self, event: &Event<'_>) {
        if let Event::StudyRun { line, .. } = event {
            println!("{line}");
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Runs `study` into `out`, returning how many runs it ran.
fn run_counted(study: &Study, out: &Path) -> (hemotwin::study::StudyTable, usize) {
    let count = Arc::new(Count::default());
    let mut opts = StudyOptions::new(out.to_path_buf());
    opts.observer = count.clone();
    opts.parallel = 2;
    let table = run_study(study, &opts).unwrap();
    (table, count.0.load(Ordering::SeqCst))
}

/// study.csv as (header, rows).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

const GRID: &str = "design = \"grid\"\n\
[[parameter]]\npath = \"inflow.flow_rate\"\nvalues = [5.19e-7, 1.04e-6]\n\
[[parameter]]\npath = \"geometry.generate.area_reduction_percent\"\nvalues = [50.0, 70.0]\n";

#[test]
fn a_grid_study_completes_its_table_equals_the_summaries_and_a_second_call_runs_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let study = Study::load(&study_file(dir.path(), GRID)).unwrap();
    assert_eq!(study.runs.len(), 4);
    let (table, ran) = run_counted(&study, &out);
    println!("first call: {ran} runs, {:?}", table.counts());
    assert_eq!(ran, 4);
    assert_eq!(table.counts(), vec![("complete".to_string(), 4)]);
    // Every figure of study.csv is the one in that run's summary.json.
    let (header, rows) = read_csv(&out.join("study.csv"));
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &rows {
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join("runs").join(&row[column("run")]).join("summary.json")).unwrap(),
        )
        .unwrap();
        for (name, pointer) in [
            ("pressure_drop_pa", "/pressure_drop_pa"),
            ("pd_pa_min", "/pd_pa_min/ratio"),
            ("tawss_mean_pa", "/wall/tawss_mean_pa"),
            ("low_tawss_area_fraction", "/wall/low_tawss_area_fraction"),
            ("mlups", "/mlups"),
            ("flow_outlet_m3_s", "/ports/1/flow_m3_s"),
        ] {
            let in_table: f64 = row[column(name)].parse().unwrap();
            assert_eq!(in_table, summary.pointer(pointer).unwrap().as_f64().unwrap(), "{name} of {}", row[1]);
        }
        // Each run's folder holds its resolved case, named by its hash.
        let case =
            std::fs::read_to_string(out.join("runs").join(&row[column("run")]).join("case.toml")).unwrap();
        assert!(case.contains(&row[column("run")][5..]), "the folder's hash in case.toml");
    }
    // More flow, more pressure drop; more stenosis, more pressure drop.
    let drop = table.column("pressure_drop_pa").unwrap();
    println!("pressure drops (Pa): {drop:?}");
    assert!(drop[2] > drop[0] && drop[1] > drop[0], "{drop:?}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<svg") && report.contains("4 complete"));
    if let Some((status, dom, stderr)) = common::chromium_dom(&out.join("report.html")) {
        assert!(status.success(), "{stderr}");
        assert!(dom.contains("Figures against each parameter") && dom.contains("<svg"));
    }
    // The same study again runs nothing; one value edited reruns only the two runs it changes.
    let (_, again) = run_counted(&study, &out);
    assert_eq!(again, 0, "a complete study runs nothing again");
    let edited = Study::load(&study_file(dir.path(), &GRID.replace("1.04e-6", "7.8e-7"))).unwrap();
    let (table, rerun) = run_counted(&edited, &out);
    println!("after editing one value: {rerun} runs, {:?}", table.counts());
    assert_eq!(rerun, 2);
    assert_eq!(table.counts(), vec![("complete".to_string(), 4)]);
}

#[test]
fn a_run_that_must_fail_is_recorded_and_the_others_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let text = "design = \"zip\"\n[[parameter]]\npath = \"lattice.tau\"\nvalues = [0.4, 0.506]\n\
                [[parameter]]\npath = \"lattice.cells_across_inlet\"\nvalues = [8, 8]\n";
    let study = Study::load(&study_file(dir.path(), text)).unwrap();
    let (table, ran) = run_counted(&study, &out);
    for r in &table.rows {
        println!("run {}: {} {}", r.index, r.status, r.reason);
    }
    assert_eq!(ran, 2);
    assert_eq!(table.rows[0].status, "failed");
    assert!(table.rows[0].reason.contains("lattice.tau"), "{}", table.rows[0].reason);
    assert_eq!(table.rows[1].status, "complete");
    let (_, rows) = read_csv(&out.join("study.csv"));
    assert_eq!(rows[0][2], "failed");
    assert!(rows[0][3].contains("lattice.tau"));
}

#[test]
fn a_study_killed_after_two_runs_runs_exactly_the_remaining_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = study_file(dir.path(), GRID);
    let study = Study::load(&file).unwrap();
    let hemotwin = env!("CARGO_BIN_EXE_hemotwin");
    let mut child = std::process::Command::new(hemotwin)
        .args(["study", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--parallel", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let complete = || study.runs.iter().filter(|r| study.state(&out, r).word() == "complete").count();
    let start = std::time::Instant::now();
    while complete() < 2 {
        assert!(child.try_wait().unwrap().is_none(), "the study ended before it was killed");
        assert!(start.elapsed().as_secs() < 300, "two runs took over 5 minutes");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = complete();
    println!("killed after {kept} complete runs ({:.1} s)", start.elapsed().as_secs_f64());
    assert!(kept >= 2);
    let (table, ran) = run_counted(&study, &out);
    println!("the second call ran {ran} runs: {:?}", table.counts());
    assert_eq!(ran, 4 - kept);
    assert_eq!(table.counts(), vec![("complete".to_string(), 4)]);
}

#[test]
fn an_uncertainty_band_contains_the_nominal_pd_pa() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let text = "seed = 3\n[uncertainty]\nsamples = 16\nlumen_offset = 0.1\ninflow_scale = [0.9, 1.1]\n\
                rheology = [\"newtonian\", \"carreau-yasuda\"]\n";
    let study = Study::load(&study_file(dir.path(), text)).unwrap();
    assert_eq!(study.runs.len(), 17);
    let (table, _) = run_counted(&study, &out);
    assert_eq!(table.counts(), vec![("complete".to_string(), 17)]);
    for b in &table.bands {
        println!(
            "{}: nominal {:.5}, mean {:.5}, 5-95% [{:.5}, {:.5}] over {} samples; {:?}",
            b.output, b.nominal, b.mean, b.p5, b.p95, b.samples, b.inputs
        );
    }
    let pd_pa = table.bands.iter().find(|b| b.output == "pd_pa_min").unwrap();
    assert_eq!(pd_pa.samples, 16);
    assert!(pd_pa.p5 < pd_pa.p95, "a band, not a point");
    assert!(pd_pa.p5 <= pd_pa.nominal && pd_pa.nominal <= pd_pa.p95, "{pd_pa:?}");
    // The narrower the lumen, the larger the drop: the offset (+-0.1 mm on a 2 mm radius, about
    // +-20% of the drop by r^-4) is the input the drop ranks most strongly against, negatively.
    let drop = table.bands.iter().find(|b| b.output == "pressure_drop_pa").unwrap();
    let rho = |name: &str| drop.inputs.iter().find(|i| i.0 == name).unwrap().1;
    assert!(rho("lumen_offset") < -0.5, "{:?}", drop.inputs);
    let csv = std::fs::read_to_string(out.join("uncertainty.csv")).unwrap();
    assert!(csv.contains("variance_share_lumen_offset"));
}

#[test]
fn slurm_scripts_hold_the_array_and_the_dependency_and_list_only_unfinished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = study_file(dir.path(), GRID);
    let study = Study::load(&file).unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_hemotwin"));
    let opts = SlurmOptions { max_parallel: Some(2), time: Some("00:10:00".into()), ..Default::default() };
    let scripts = write_scripts(&study, &file, &out, &binary, &opts).unwrap();
    for script in [&scripts.array, &scripts.collect, &scripts.submit] {
        let status = std::process::Command::new("bash").arg("-n").arg(script).status().unwrap();
        assert!(status.success(), "bash -n {}", script.display());
    }
    let array = std::fs::read_to_string(&scripts.array).unwrap();
    println!("{array}");
    assert!(array.contains("#SBATCH --array=0-3%2") && array.contains("#SBATCH --time=00:10:00"));
    assert!(array.contains("study run-one") && array.contains("--index \"$SLURM_ARRAY_TASK_ID\""));
    let submit = std::fs::read_to_string(&scripts.submit).unwrap();
    assert!(submit.contains("--dependency=afterany:\"$array\""));
    assert!(std::fs::read_to_string(&scripts.collect).unwrap().contains("study collect"));
    // Two runs done (as array tasks would do them): a resubmission lists only the other two.
    let opts_local = StudyOptions::new(out.clone());
    for index in [0, 2] {
        assert_eq!(run_one(&study, index, &opts_local).unwrap().word(), "complete");
    }
    let again = write_scripts(&study, &file, &out, &binary, &opts).unwrap();
    let array = std::fs::read_to_string(&again.array).unwrap();
    assert!(array.contains("#SBATCH --array=1,3%2"), "{array}");
    // A Slurm controller answering (e.g. started by .ci/slurm-single-node): submit those two for
    // real and wait for the collect job's table of all four.
    let slurm_up = std::process::Command::new("scontrol")
        .arg("ping")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("is UP"));
    if !slurm_up {
        println!("no Slurm controller answers `scontrol ping`: the scripts are checked, not submitted");
        return;
    }
    let (array, collect) = hemotwin::study::slurm::submit(&again).unwrap();
    println!("submitted array {array} (runs 1 and 3), collect {collect}");
    let start = std::time::Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(out.join("study.csv"))
            && text.lines().skip(1).filter(|l| l.contains(",complete,")).count() == 4
        {
            break;
        }
        assert!(start.elapsed().as_secs() < 600, "Slurm did not finish the study in 10 minutes");
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    println!("Slurm ran runs 1 and 3 and the collect job in {:.0} s", start.elapsed().as_secs_f64());
    assert!(
        write_scripts(&study, &file, &out, &binary, &opts).unwrap().indices.is_empty(),
        "nothing left to submit"
    );
}

#[test]
fn a_plan_study_sweeps_the_planners_stenosis_severity() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A plan on a 4 mm tube: a virtual stenosis at 8 mm, and a stent over it.
    let plan = "branch = \"outlet\"\n[case.geometry]\nunits = \"mm\"\n\
                generate = { shape = \"tube\", radius = 2.0, length = 16.0 }\n\
                [case.fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
                [case.inflow]\nflow_rate = 5.19e-7\nramp = 0.02\n\
                [case.lattice]\ncells_across_inlet = 10\n\
                [case.run]\ntime = 1.0\nsteady_tolerance = 1e-4\nframes = 1\nbackend = \"cpu\"\n\
                [[edit]]\nkind = \"stenosis\"\nat_mm = 8.0\nlength_mm = 4.0\narea_reduction_percent = 50.0\n\
                [[scenario]]\nname = \"stent\"\n[[scenario.edit]]\nkind = \"stent\"\nfrom_mm = 5.0\nto_mm = 11.0\n";
    std::fs::write(dir.path().join("plan.toml"), plan).unwrap();
    let path = dir.path().join("study.toml");
    std::fs::write(
        &path,
        "plan = \"plan.toml\"\n[[parameter]]\npath = \"edit.0.area_reduction_percent\"\nvalues = [30.0, 60.0]\n",
    )
    .unwrap();
    let study = Study::load(&path).unwrap();
    let (table, ran) = run_counted(&study, &out);
    assert_eq!(ran, 2);
    assert_eq!(table.counts(), vec![("complete".to_string(), 2)]);
    let column = |name: &str| table.column(name).unwrap_or_else(|| panic!("{name} in {:?}", table.metrics));
    let (baseline, stent) = (column("baseline.translesional_drop_pa"), column("stent.translesional_drop_pa"));
    let stenosis = column("baseline.area_stenosis_percent");
    println!(
        "area stenosis {stenosis:?} %, translesional drop baseline {baseline:?} Pa, stented {stent:?} Pa"
    );
    // The more severe lesion drops more; the stent takes most of either drop away.
    assert!(baseline[1] > baseline[0] && stenosis[1] > stenosis[0]);
    assert!(stent[0] < baseline[0] && stent[1] < 0.5 * baseline[1]);
    // Every figure is the one in the run's plan.json.
    let plan_json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("runs").join(&table.rows[1].name).join("plan.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(plan_json["scenarios"][0]["metrics"]["translesional_drop_pa"].as_f64().unwrap(), baseline[1]);
}
