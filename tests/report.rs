//! The planner's report (report.html) and ParaView script (view.py) on synthetic scenarios: a
//! carotid-like 70% stenosis against its stented lumen.

use hemotwin::geometry::synth::{StenosisSpec, TubeSpec, tube};
use hemotwin::io::vtk::{ImageGrid, PointField, PvdEntry, write_pvd, write_vti, write_vtp};
use hemotwin::report::{Metric, PlanReport, ScenarioData, format_number, write_report_html, write_view_py};
use quick_xml::events::Event;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// Inlet pressure of the synthetic scenarios, Pa (90 mmHg).
const INLET_PA: f64 = 12_000.0;
/// Cardiac cycle, s.
const CYCLE_S: f64 = 0.9;

/// A scenario of a 6 mm tube, 40 mm long, with a lesion of `area_reduction` at 20 mm: the lumen
/// radius, a pressure that falls by `drop_pa` across the lesion plus a Poiseuille-like gradient,
/// two outlets sharing 6 mL/s (ICA `ica_share`) under a carotid-like waveform, and TAWSS that is
/// low downstream of a tight lesion.
fn scenario(name: &str, area_reduction: f64, drop_pa: f64, ica_share: f64) -> ScenarioData {
    let lesion = StenosisSpec {
        radius: 3e-3,
        length: 40e-3,
        area_reduction,
        stenosis_length: 10e-3,
        center: 20e-3,
        eccentricity: 0.0,
    };
    let s: Vec<f64> = (0..=80).map(|i| i as f64 * 0.5e-3).collect();
    let pressure = |x: f64| INLET_PA - 500.0 * x / 40e-3 - drop_pa / (1.0 + (-(x - 21e-3) / 1.5e-3).exp());
    let waveform = |t: f64| {
        let phase = t / CYCLE_S;
        1.0 + 0.9 * (-((phase - 0.15) / 0.07).powi(2)).exp() - 0.25 * (phase * std::f64::consts::TAU).sin()
    };
    let flows = [("ICA", ica_share), ("ECA", 1.0 - ica_share)]
        .map(|(outlet, share)| {
            let samples = (0..=45).map(|i| 0.02 * i as f64).map(|t| [10.0 + t, 6e-6 * share * waveform(t)]);
            (outlet.to_string(), samples.collect())
        })
        .to_vec();
    let tawss = (0..2_000)
        .map(|k| {
            let x = 40e-3 * (k as f64 + 0.5) / 2_000.0;
            let jet = area_reduction * 8.0 * (-((x - 20e-3) / 3e-3).powi(2)).exp();
            let wake = if x > 24e-3 { 1.0 - area_reduction } else { 1.0 };
            let ripple = 0.3 * ((k * 7919 % 1000) as f64 / 1000.0 - 0.5);
            [(1.2 * wake + jet + ripple).max(0.01), 2.0 * std::f64::consts::PI * lesion.radius_at(x) * 20e-6]
        })
        .collect();
    ScenarioData {
        name: name.into(),
        dir: name.into(),
        radius_along: s.iter().map(|&x| [x, lesion.radius_at(x)]).collect(),
        pressure_along: s.iter().map(|&x| [x, pressure(x), pressure(x) / INLET_PA]).collect(),
        outlet_flows: flows,
        tawss,
    }
}

/// A plan: baseline 70% stenosis against the stented lumen, with user text that needs escaping.
fn plan() -> PlanReport {
    let metric = |name: &str, unit: &str, values: [f64; 2], mmhg: bool| Metric {
        name: name.into(),
        unit: unit.into(),
        values: values.to_vec(),
        mmhg,
    };
    PlanReport {
        title: "carotid <ICA> & stent.toml".into(),
        case_lines: vec![
            "case: carotid-like bifurcation, CCA 6 mm, dx = 0.2 mm".into(),
            "edit: stenosis on ICA at 20 mm, 70% area reduction over 10 mm".into(),
            "edit: stent on ICA from 12 to 28 mm, reference radius 3 mm".into(),
        ],
        scenarios: vec![scenario("baseline", 0.7, 2_400.0, 0.55), scenario("stent", 0.0, 90.0, 0.7)],
        metrics: vec![
            metric("translesional pressure drop, cycle mean", "Pa", [2_400.0, 90.0], true),
            metric("translesional pressure drop, peak", "Pa", [6_150.5, 310.25], true),
            metric("Pd/Pa distal to the lesion", "", [0.7612, 0.9893], false),
            metric("flow, ICA", "mL/s", [3.3, 4.2], false),
            metric("minimal lumen area", "m^2", [8.482e-6, 2.827e-5], false),
            metric("peak jet velocity", "m/s", [2.31, 0.74], false),
            metric("wall area with TAWSS < 0.4 Pa", "%", [18.4, 0.0], false),
            metric("OSI, downstream", "", [0.21, f64::NAN], false),
        ],
        warnings: vec![
            "resolution: 7.5 cells across the throat (< 10) & the jet is under-resolved".into(),
            "Mach 0.12 > 0.1 in the jet: compressibility error about 1.4%".into(),
        ],
    }
}

/// The full path of `program` if it is on PATH.
/// Parses `text` as XML with quick-xml, checking end names and attributes; returns the number of
/// elements and the largest depth, or the first error with its byte position.
fn parse_xml(text: &str) -> Result<(usize, usize), String> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let (mut elements, mut depth, mut deepest) = (0, 0usize, 0);
    loop {
        let event = reader.read_event().map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        let start = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e),
            _ => None,
        };
        if let Some(e) = start {
            elements += 1;
            for attribute in e.attributes() {
                attribute.map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
            }
        }
        match event {
            Event::Start(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Event::End(_) => depth -= 1,
            Event::Eof if depth == 0 => return Ok((elements, deepest)),
            Event::Eof => return Err(format!("{depth} elements left open at the end")),
            _ => {}
        }
    }
}

/// Writes the plan's report into a temporary folder; returns the folder and the page's text.
fn written_report() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("report.html");
    write_report_html(&path, &plan()).expect("report.html written");
    let text = std::fs::read_to_string(&path).expect("report.html readable");
    (dir, path, text)
}

/// report.html is well-formed XML, shows every metric value (and its change and mmHg figure) as
/// the table prints it, puts the warnings before the table, escapes user text and references no
/// network resource.
#[test]
fn report_html_is_well_formed_self_contained_and_shows_every_metric() {
    let (_dir, _path, html) = written_report();
    let (elements, depth) =
        parse_xml(&html).unwrap_or_else(|e| panic!("report.html is not well-formed: {e}"));
    let svgs = html.matches("<svg ").count();
    println!("report.html: {} bytes, {elements} elements, depth {depth}, {svgs} SVG plots", html.len());
    // Radius, pressure, Pd/Pa, two outlets, two TAWSS histograms.
    assert_eq!(svgs, 7);

    let report = plan();
    let baseline = &report.metrics.iter().map(|m| m.values[0]).collect::<Vec<_>>();
    let mut shown = 0;
    for (m, base) in report.metrics.iter().zip(baseline) {
        let mut expected: Vec<String> = m.values.iter().map(|&v| format_number(v)).collect();
        let change = m.values[1] - base;
        expected.push(if change > 0.0 {
            format!("+{}", format_number(change))
        } else {
            format_number(change)
        });
        if m.mmhg {
            expected.extend(m.values.iter().map(|v| format!("{} mmHg", format_number(v / 133.322))));
        }
        for text in expected {
            assert!(html.contains(&format!(">{text}<")), "{}: {text} is not in the table", m.name);
            shown += 1;
        }
    }
    println!("{shown} metric figures found as printed (e.g. {})", format_number(report.metrics[0].values[0]));
    assert!(html.contains(">-95.0<"), "the peak drop's change in % is missing");
    assert!(html.contains(">2400<span class=\"mmhg\">18.00 mmHg</span>"));

    let warning =
        html.find("resolution: 7.5 cells across the throat (&lt; 10) &amp; the jet").expect("warning");
    let table = html.find("<table").expect("table");
    println!("first warning at byte {warning}, table at byte {table}");
    assert!(warning < table);
    assert!(html.contains("<h1>carotid &lt;ICA&gt; &amp; stent.toml</h1>"));

    let mut references = 0;
    for scheme in ["http://", "https://"] {
        for (at, _) in html.match_indices(scheme) {
            let namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
            let start = at.saturating_sub("xmlns=\"".len());
            let context = html.get(start..(start + namespace.len()).min(html.len()));
            assert_eq!(context, Some(namespace), "a network reference at byte {at}");
            references += 1;
        }
    }
    println!("{references} http(s) strings, all the SVG namespace; no <script>");
    assert!(!html.contains("<script"));
}

/// A metric without one value per scenario, or a report without scenarios, is refused with the
/// field named.
#[test]
fn report_refuses_a_metric_without_a_value_per_scenario() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut report = plan();
    report.metrics[2].values.pop();
    let e = write_report_html(&dir.path().join("report.html"), &report).expect_err("refused").to_string();
    println!("{e}");
    assert!(e.contains("Pd/Pa distal to the lesion") && e.contains("1 values for 2 scenarios"));
    report.scenarios.clear();
    let e = write_report_html(&dir.path().join("report.html"), &report).expect_err("refused").to_string();
    println!("{e}");
    assert!(e.contains("report.scenarios"));
    assert!(!dir.path().join("report.html").exists());
}

/// A headless Chromium loads report.html and exits 0 (skipped without chromium).
#[test]
fn report_html_renders_in_headless_chromium() {
    let (_dir, path, _) = written_report();
    let Some((status, dom, stderr)) = common::chromium_dom(&path) else { return };
    assert!(status.success(), "{stderr}");
    assert!(dom.contains("translesional pressure drop"));
}

/// view.py lists the scenarios and is valid Python (skipped without python3).
#[test]
fn report_view_py_is_valid_python() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("view.py");
    write_view_py(&path, &[("baseline".into(), "baseline".into()), ("stent".into(), "stent".into())])
        .expect("view.py written");
    let text = std::fs::read_to_string(&path).expect("view.py readable");
    assert!(text.contains("[\"stent\",\"stent\"]"));
    let Some(python) = common::on_path("python3") else {
        println!("skipped: no python3");
        return;
    };
    let status = Command::new(python)
        .args(["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(&path)
        .status()
        .expect("python3 runs");
    println!("view.py: {} lines, ast.parse: {status}", text.lines().count());
    assert!(status.success());
}

/// Writes a tiny scenario into `dir`: a tube wall with TAWSS growing along it and one fluid frame
/// with a parabolic velocity inside the tube.
fn tiny_scenario(dir: &Path, peak_velocity: f32) {
    let (surface, _) = tube(&TubeSpec { radius: 3e-3, length: 20e-3 }, 16).expect("tube");
    let tawss: Vec<f32> = surface.vertices.iter().map(|p| (0.2 + 100.0 * p.z) as f32).collect();
    write_vtp(
        &dir.join("wall.vtp"),
        &surface,
        &[],
        vec![PointField::Scalar { name: "tawss_pa", values: &tawss }],
    )
    .expect("wall.vtp");
    let grid = ImageGrid { origin: [-4e-3, -4e-3, 0.0], spacing: 1e-3, dims: [9, 9, 21] };
    let (mut velocity, mut pressure, mut fluid) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..21 {
        for j in 0..9 {
            for i in 0..9 {
                let (x, y) = (-4e-3 + 1e-3 * i as f64, -4e-3 + 1e-3 * j as f64);
                let r2 = (x * x + y * y) / 9e-6;
                let inside = r2 < 1.0;
                velocity.push([0.0, 0.0, if inside { peak_velocity * (1.0 - r2 as f32) } else { 0.0 }]);
                pressure.push(12_000.0 - 10.0 * k as f32);
                fluid.push(u8::from(inside));
            }
        }
    }
    let fields = [
        PointField::Vector { name: "velocity", values: &velocity },
        PointField::Scalar { name: "pressure", values: &pressure },
        PointField::Mask { name: "fluid", values: &fluid },
    ];
    write_vti(&dir.join("fluid_00000100.vti"), &grid, &fields).expect("frame");
    write_pvd(&dir.join("fluid.pvd"), &[PvdEntry { time: 0.9, file: "fluid_00000100.vti".into() }])
        .expect("pvd");
}

/// view.py renders one PNG per scenario under pvpython (skipped without pvpython).
#[test]
fn report_view_py_renders_screenshots_under_pvpython() {
    let Some(pvpython) = common::on_path("pvpython") else {
        println!("skipped: no pvpython");
        return;
    };
    let out = tempfile::tempdir().expect("temporary folder");
    let scenarios = [("baseline", 0.4), ("stent", 0.3)];
    for (name, peak) in scenarios {
        tiny_scenario(&out.path().join(name), peak);
    }
    let pairs: Vec<(String, String)> =
        scenarios.iter().map(|(n, _)| (n.to_string(), n.to_string())).collect();
    let script = out.path().join("view.py");
    write_view_py(&script, &pairs).expect("view.py written");
    let shots = out.path().join("shots");
    let mut command = match common::on_path("xvfb-run") {
        Some(xvfb) => {
            let mut c = Command::new(xvfb);
            c.arg("-a").arg(&pvpython);
            c
        }
        None => Command::new(&pvpython),
    };
    let output = command.arg(&script).arg("--screenshot").arg(&shots).output().expect("pvpython runs");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(output.status.success(), "pvpython failed: {}", String::from_utf8_lossy(&output.stderr));
    for (name, _) in scenarios {
        let png = shots.join(format!("{name}.png"));
        let bytes = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        println!("{}: {bytes} bytes", png.display());
        assert!(bytes > 0, "{} missing", png.display());
    }
}
