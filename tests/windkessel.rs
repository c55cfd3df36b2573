//! RCR Windkessel outlets coupled every step: a steady flow gives the outlet pressure Q (Rp + Rd)
//! within 1%, and a sinusoidal flow the analytic impedance Rp + Rd / (1 + i w Rd C) within 3% in
//! amplitude and 3 degrees in phase, measured on the outlet's section of a tube (3 spacings inside
//! the outlet, so the analytic values add the resistance, and the inertance, of that bit of tube).
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod common;

use common::{MU, RHO};
use hemotwin::case::Case;
use hemotwin::physiology::bessel_j;
use hemotwin::pipeline::{RunOptions, run};
use nalgebra::{Complex, DMatrix, DVector};
use std::f64::consts::PI;
use std::path::Path;

const R: f64 = 2e-3;
const L: f64 = 8e-3;
const RP: f64 = 3e6;
const RD: f64 = 2.7e7;
const PERIOD: f64 = 0.25;
/// Rd C = T / (2 pi): the distal branch is 45 degrees out of phase at the fundamental.
const C: f64 = PERIOD / (2.0 * PI * RD);

fn case(inflow: &str, run_spec: &str) -> Case {
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"tube\", radius = {}, length = {} }}\n\
         [fluid]\ndensity = {RHO}\nviscosity = {MU}\n[inflow]\n{inflow}\nramp = 0.0\n\
         [lattice]\ncells_across_inlet = 24\ntau = 0.515\n[run]\n{run_spec}\nbackend = \"cpu\"\nframes = 1\n\
         [[outlets]]\nport = \"outlet\"\nproximal = {RP:e}\ncompliance = {C:e}\ndistal = {RD:e}\n",
        R * 1e3,
        L * 1e3
    );
    Case::from_toml(&text, Path::new("windkessel case")).unwrap()
}

/// Womersley impedance (Pa s/m^3) of a length `l` (m) of the tube at angular frequency `omega`:
/// i w rho l / (A (1 - 2 J1(L) / (L J0(L)))), L = i^(3/2) alpha; Poiseuille's 8 mu l / (pi R^4) at
/// w -> 0. It separates the outlet's measuring section, 3 spacings inside, from the outlet.
fn segment_impedance(l: f64, omega: f64) -> Complex<f64> {
    let alpha = R * (omega * RHO / MU).sqrt();
    let lambda = Complex::from_polar(alpha, 0.75 * PI);
    let f10 = Complex::new(1.0, 0.0) - bessel_j(1, lambda) * 2.0 / (lambda * bessel_j(0, lambda));
    Complex::new(0.0, omega * RHO * l / (PI * R * R)) / f10
}

/// Poiseuille resistance (Pa s/m^3) of the tube between the outlet's measuring section and the outlet.
fn section_resistance(dx: f64) -> f64 {
    8.0 * MU * 3.0 * dx / (PI * R.powi(4))
}

#[test]
fn rcr_steady_outlet_pressure_is_q_times_rp_plus_rd_within_1_percent() {
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let s = run(&case("flow_rate = 5e-7", "time = 0.8"), &opts).unwrap().summary;
    let out = &s.ports[1];
    let q = out.measure.flow_m3_s;
    let measured = out.measure.mean_pressure_pa + s.pressure_reference_pa;
    let expected = q * (RP + RD + section_resistance(s.lattice.dx_m));
    let rel = measured / expected - 1.0;
    println!(
        "steady RCR: outflow {q:.5e} m^3/s, section pressure {measured:.4} Pa, Q (Rp + Rd + section) {expected:.4} Pa, \
         error {:+.3}%; the model imposed {:.4} Pa; converged {} after {} steps",
        100.0 * rel,
        out.imposed_pressure_pa.unwrap(),
        s.converged,
        s.steps
    );
    assert!(s.converged);
    assert!(rel.abs() < 0.01, "outlet pressure error {:.3}% >= 1%", 100.0 * rel);
}

/// Least-squares fit of a + b cos(wt) + c sin(wt); returns the complex amplitude b - i c
/// (x(t) = Re{(b - i c) e^{iwt}} + a).
fn fundamental(t: &[f64], x: &[f64], omega: f64) -> Complex<f64> {
    let a = DMatrix::from_fn(t.len(), 3, |r, c| match c {
        0 => 1.0,
        1 => (omega * t[r]).cos(),
        _ => (omega * t[r]).sin(),
    });
    let coef = a.clone().svd(true, true).solve(&DVector::from_column_slice(x), 1e-12).unwrap();
    Complex::new(coef[1], -coef[2])
}

#[test]
fn rcr_impedance_under_sinusoidal_flow_within_3_percent_and_3_degrees() {
    let dir = tempfile::tempdir().unwrap();
    let omega = 2.0 * PI / PERIOD;
    let (q0, q1) = (5e-7, 2.5e-7);
    let csv = dir.path().join("sine.csv");
    let rows: String = (0..64)
        .map(|k| PERIOD * k as f64 / 64.0)
        .map(|t| format!("{t:e},{:e}\n", q0 + q1 * (omega * t).sin()))
        .collect();
    std::fs::write(&csv, format!("time_s,flow_m3_s\n{rows}")).unwrap();
    let inflow = format!("waveform = \"{}\"\nperiod = {PERIOD}\nprofile = \"poiseuille\"", csv.display());
    let opts = RunOptions { out_dir: Some(dir.path().join("out")), ..Default::default() };
    let s = run(&case(&inflow, "cycles = 3"), &opts).unwrap().summary;
    let text = std::fs::read_to_string(dir.path().join("out/ports.csv")).unwrap();
    let rows: Vec<Vec<f64>> =
        text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    let end = rows.last().unwrap()[0];
    let last: Vec<&Vec<f64>> = rows.iter().filter(|r| r[0] > end - PERIOD).collect();
    let t: Vec<f64> = last.iter().map(|r| r[0]).collect();
    // Columns: time, then flow, pressure and imposed pressure of the inlet and of the outlet.
    let q = fundamental(&t, &last.iter().map(|r| r[4]).collect::<Vec<_>>(), omega);
    let p = fundamental(&t, &last.iter().map(|r| r[5]).collect::<Vec<_>>(), omega);
    let imposed = fundamental(&t, &last.iter().map(|r| r[6]).collect::<Vec<_>>(), omega);
    println!(
        "model's own impedance: |Z| {:.4e}, phase {:.3} degrees",
        (imposed / q).norm(),
        (imposed / q).arg().to_degrees()
    );
    let measured = p / q;
    let rd = Complex::new(RD, 0.0);
    let analytic = Complex::new(RP, 0.0)
        + rd / Complex::new(1.0, omega * RD * C)
        + segment_impedance(3.0 * s.lattice.dx_m, omega);
    let amplitude = measured.norm() / analytic.norm() - 1.0;
    let phase = (measured.arg() - analytic.arg()).to_degrees();
    println!(
        "sinusoidal RCR over the last cycle ({} samples): |Z| {:.4e} vs analytic {:.4e} Pa s/m^3 ({:+.3}%), phase \
         {:.3} vs {:.3} degrees ({phase:+.3}); outflow amplitude {:.4e} of {q1:e} m^3/s",
        t.len(),
        measured.norm(),
        analytic.norm(),
        100.0 * amplitude,
        measured.arg().to_degrees(),
        analytic.arg().to_degrees(),
        q.norm()
    );
    assert!(amplitude.abs() < 0.03, "impedance amplitude off by {:.3}%", 100.0 * amplitude);
    assert!(phase.abs() < 3.0, "impedance phase off by {phase:.3} degrees");
}

#[test]
fn rcr_with_a_proximal_resistance_above_the_characteristic_impedance_stays_stable() {
    // 12 cells across at tau 0.515: rho c / A is about 9.6e7 Pa s/m^3; Rp is twice that.
    let text = format!(
        "[geometry]\nunits = \"mm\"\ngenerate = {{ shape = \"tube\", radius = {}, length = {} }}\n\
         [fluid]\ndensity = {RHO}\nviscosity = {MU}\n[inflow]\nflow_rate = 3e-7\nramp = 0.05\n\
         [lattice]\ncells_across_inlet = 12\ntau = 0.515\n[run]\ntime = 1.5\nbackend = \"cpu\"\nframes = 1\n\
         [[outlets]]\nport = \"outlet\"\nproximal = 2e8\ncompliance = 1e-11\ndistal = 1e8\n",
        R * 1e3,
        L * 1e3
    );
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let s = run(&Case::from_toml(&text, Path::new("stiff case")).unwrap(), &opts).unwrap().summary;
    let out = &s.ports[1];
    let q = out.measure.flow_m3_s;
    let measured = out.measure.mean_pressure_pa + s.pressure_reference_pa;
    let expected = q * (3e8 + section_resistance(s.lattice.dx_m));
    let rel = measured / expected - 1.0;
    println!(
        "stiff RCR: {} steps, converged {}, outflow {q:.4e} m^3/s, section pressure {measured:.3} Pa vs {expected:.3} Pa \
         ({:+.3}%), max Mach {:.3}",
        s.steps,
        s.converged,
        100.0 * rel,
        s.max_mach
    );
    assert!(s.converged && rel.abs() < 0.01);
}

#[test]
fn outlet_entries_naming_no_outlet_or_bad_values_are_refused_naming_the_field() {
    let base = "[geometry]\nunits = \"mm\"\ngenerate = { shape = \"tube\", radius = 2.0, length = 8.0 }\n\
        [fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n[inflow]\nflow_rate = 3e-7\n\
        [lattice]\ncells_across_inlet = 10\ntau = 0.6\n[run]\nsteps = 10\nbackend = \"cpu\"\n";
    for (outlet, needle) in [
        ("port = \"outlet2\"\nresistance = 1e8", "no port named \"outlet2\""),
        ("port = \"inlet\"\nresistance = 1e8", "is an inlet"),
        ("port = \"outlet\"\nproximal = 1e7\ncompliance = -1e-9\ndistal = 1e8", "outlets[0].compliance"),
        ("port = \"outlet\"\nresistance = 1e8\npressure = 0.0", "exactly one model"),
    ] {
        let case =
            Case::from_toml(&format!("{base}[[outlets]]\n{outlet}\n"), Path::new("bad outlets")).unwrap();
        let e = hemotwin::pipeline::prepare(&case).err().unwrap().to_string();
        println!("error: {e}");
        assert!(e.contains(needle), "{e}");
    }
}
