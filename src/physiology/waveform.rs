//! Inflow waveforms: one cardiac cycle of volume flow (m^3/s) against time (s), read from CSV or
//! built in, interpolated periodically, with its Fourier series.

use crate::error::{Error, Result};
use nalgebra::Complex;
use std::f64::consts::PI;
use std::path::Path;

/// One periodic cycle of inflow, sampled at increasing times.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// Where it came from: a file path or the built-in name.
    pub source: String,
    /// Sample times (s), strictly increasing, within [0, period).
    pub times: Vec<f64>,
    /// Volume flow at each sample (m^3/s).
    pub flows: Vec<f64>,
    /// Cycle length (s).
    pub period: f64,
}

/// Names of the built-in waveforms.
pub const BUILTIN: [&str; 3] = ["carotid", "coronary", "aortic"];

impl Waveform {
    /// Checks and wraps samples (times in s, flows in m^3/s) of one cycle of length `period` (s);
    /// `origin` names the source in errors, `line(k)` the place of sample k.
    pub fn new(
        source: &str,
        times: Vec<f64>,
        flows: Vec<f64>,
        period: f64,
        place: impl Fn(usize) -> String,
    ) -> Result<Self> {
        let fail = |k: usize, what: String| Error::input(source, format!("{}: {what}", place(k)));
        if times.len() < 2 {
            return Err(Error::input(source, "a waveform needs at least two samples of one cycle"));
        }
        for (k, (&t, &q)) in times.iter().zip(&flows).enumerate() {
            if !t.is_finite() || !q.is_finite() {
                return Err(fail(k, format!("time {t} s, flow {q} is not a finite number")));
            }
            if t < 0.0 {
                return Err(fail(k, format!("negative time {t} s; the cycle starts at t >= 0")));
            }
            if k > 0 && t <= times[k - 1] {
                let how = if t == times[k - 1] { "repeats" } else { "is earlier than" };
                return Err(fail(
                    k,
                    format!(
                        "time {t} s {how} the previous sample's ({} s); sort the samples and remove duplicates",
                        times[k - 1]
                    ),
                ));
            }
        }
        if !(period.is_finite() && period > 0.0) {
            return Err(Error::parameter(
                "inflow.period",
                format!("must be a positive time in s, got {period}"),
            ));
        }
        let span = times[times.len() - 1] - times[0];
        if span > period * (1.0 + 1e-9) {
            return Err(Error::parameter(
                "inflow.period",
                format!(
                    "{source}: the waveform spans {span} s, more than its period {period} s: give one cycle, or the \
                     period that matches it"
                ),
            ));
        }
        Ok(Waveform { source: source.into(), times, flows, period })
    }

    /// Reads a CSV file of one cycle: a header `time_s,flow_m3_s` or `time_s,flow_ml_s` (the flow
    /// unit is declared there), then one `time,flow` row per sample; `#` starts a comment. The
    /// period is `period` (s) when given, else the last time when the last flow equals the first
    /// (a closed cycle), else an error.
    pub fn from_csv(path: &Path, period: Option<f64>) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, format!("cannot read the waveform ({e}); check the path")))?;
        let source = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .quoting(false)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                Error::input(path, format!("line {}: {e}", e.position().map_or(0, csv::Position::line)))
            })?;
            let cells = cells_before_comment(&record);
            if cells.iter().any(|c| !c.is_empty()) {
                rows.push((record.position().map_or(0, csv::Position::line), cells));
            }
        }
        let mut rows = rows.into_iter();
        let (header_line, header) =
            rows.next().ok_or_else(|| Error::input(path, "the waveform file is empty"))?;
        let columns: Vec<String> = header.iter().map(|c| c.to_ascii_lowercase()).collect();
        let scale = match columns.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["time_s", "flow_m3_s"] => 1.0,
            ["time_s", "flow_ml_s"] => 1e-6,
            _ => {
                return Err(Error::input(
                    path,
                    format!(
                        "line {header_line}: the header must be `time_s,flow_m3_s` or `time_s,flow_ml_s` \
                         (it declares the units), found `{}`",
                        header.join(",")
                    ),
                ));
            }
        };
        let (mut times, mut flows, mut lines) = (Vec::new(), Vec::new(), Vec::new());
        for (line, cells) in rows {
            let parsed = match cells.as_slice() {
                [t, q] => t.parse::<f64>().ok().zip(q.parse::<f64>().ok()),
                _ => None,
            };
            let (t, q) = parsed.ok_or_else(|| {
                Error::input(
                    path,
                    format!("line {line}: expected `time,flow` (two numbers), found `{}`", cells.join(",")),
                )
            })?;
            times.push(t);
            flows.push(q * scale);
            lines.push(line);
        }
        let span = times.last().copied().unwrap_or(0.0) - times.first().copied().unwrap_or(0.0);
        let closed = flows.len() > 2
            && flows.first() == flows.last()
            && period.is_none_or(|p| (span - p).abs() <= 1e-9 * p);
        let period = match period {
            Some(p) => p,
            None if closed => span,
            None => {
                return Err(Error::parameter(
                    "inflow.period",
                    format!(
                        "{}: the last flow differs from the first, so the file does not close the cycle; give \
                         inflow.period (s)",
                        path.display()
                    ),
                ));
            }
        };
        if closed {
            // The closing sample repeats the first one cycle later.
            times.pop();
            flows.pop();
            lines.pop();
        }
        Waveform::new(&source, times, flows, period, |k| {
            format!("line {}", lines.get(k).copied().unwrap_or(0))
        })
    }

    /// A built-in waveform by name (see [`BUILTIN`] and docs/physiology.md for their sources).
    pub fn builtin(name: &str) -> Result<Self> {
        // Each as a mean (m^3/s), a period (s) and a shape: a sum of Gaussian pulses
        // (amplitude relative to the mean, centre and width as fractions of the period).
        let (mean, period, pulses): (f64, f64, &[(f64, f64, f64)]) = match name {
            // Common carotid: mean 6.0 mL/s, peak about 23.5 mL/s, cycle 0.917 s (Holdsworth et al.
            // 1999); a sharp systolic peak, a dicrotic notch and a slow diastolic decay.
            "carotid" => (6.0e-6, 0.917, &[(3.3, 0.13, 0.045), (0.55, 0.30, 0.05), (-0.35, 0.22, 0.02)]),
            // Left coronary: diastole-dominated, mean about 1 mL/s (shape after published LAD curves).
            "coronary" => (1.0e-6, 1.0, &[(-0.5, 0.12, 0.05), (1.1, 0.50, 0.14), (0.45, 0.70, 0.10)]),
            // Ascending aorta: 5 L/min cardiac output, systolic ejection then a little back flow.
            "aortic" => (8.33e-5, 1.0, &[(5.2, 0.15, 0.065), (-0.25, 0.36, 0.025)]),
            other => {
                return Err(Error::parameter(
                    "inflow.waveform",
                    format!(
                        "unknown built-in waveform {other:?}; built in: {}, or a CSV file path",
                        BUILTIN.join(", ")
                    ),
                ));
            }
        };
        let samples = 400;
        let shape = |s: f64| {
            1.0 + pulses
                .iter()
                .map(|&(a, c, w)| {
                    // Periodic Gaussian: the nearest of the pulse's images.
                    let d = (s - c + 0.5).rem_euclid(1.0) - 0.5;
                    a * (-(d * d) / (2.0 * w * w)).exp()
                })
                .sum::<f64>()
        };
        let raw: Vec<f64> = (0..samples).map(|k| shape(k as f64 / samples as f64)).collect();
        // Remove the pulses' own mean so the cycle carries exactly `mean`.
        let offset = raw.iter().sum::<f64>() / samples as f64 - 1.0;
        let times = (0..samples).map(|k| period * k as f64 / samples as f64).collect();
        let flows = raw.iter().map(|f| mean * (f - offset)).collect();
        Waveform::new(name, times, flows, period, |k| format!("sample {k}"))
    }

    /// Flow (m^3/s) at time `t` (s), periodic, linear between samples.
    pub fn at(&self, t: f64) -> f64 {
        let n = self.times.len();
        let t0 = self.times[0];
        let s = (t - t0).rem_euclid(self.period) + t0;
        let k = self.times.partition_point(|&x| x <= s).saturating_sub(1);
        let (ta, qa) = (self.times[k], self.flows[k]);
        let (tb, qb) = if k + 1 < n {
            (self.times[k + 1], self.flows[k + 1])
        } else {
            (t0 + self.period, self.flows[0])
        };
        if tb > ta { qa + (qb - qa) * (s - ta) / (tb - ta) } else { qa }
    }

    /// Mean flow over the cycle (m^3/s), exact for the linear interpolation.
    pub fn mean(&self) -> f64 {
        let n = self.times.len();
        (0..n)
            .map(|k| {
                let (tb, qb) = if k + 1 < n {
                    (self.times[k + 1], self.flows[k + 1])
                } else {
                    (self.times[0] + self.period, self.flows[0])
                };
                0.5 * (self.flows[k] + qb) * (tb - self.times[k])
            })
            .sum::<f64>()
            / self.period
    }

    /// Largest flow of the cycle (m^3/s).
    pub fn peak(&self) -> f64 {
        self.flows.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// A copy scaled so that its mean is `mean` (m^3/s).
    pub fn scaled_to_mean(&self, mean: f64) -> Waveform {
        let k = mean / self.mean();
        Waveform { flows: self.flows.iter().map(|q| q * k).collect(), ..self.clone() }
    }

    /// Complex Fourier coefficients Q_0..Q_harmonics (m^3/s) with Q(t) = Re Σ Q_n e^{i n ω t}
    /// (Q_0 the mean), from the interpolated cycle sampled at 1024 points.
    pub fn fourier(&self, harmonics: usize) -> Vec<Complex<f64>> {
        let m = 1024;
        let omega = 2.0 * PI / self.period;
        (0..=harmonics)
            .map(|n| {
                let sum: Complex<f64> = (0..m)
                    .map(|k| {
                        let t = self.period * k as f64 / m as f64;
                        Complex::from_polar(self.at(t), -(n as f64) * omega * t)
                    })
                    .sum();
                if n == 0 { sum / m as f64 } else { sum * 2.0 / m as f64 }
            })
            .collect()
    }

    /// Number of harmonics this cycle resolves: fewer than half its samples (Nyquist).
    pub fn resolvable_harmonics(&self) -> usize {
        (self.times.len() - 1) / 2
    }
}

/// The trimmed cells of a CSV record up to a `#` (the rest of the line is a comment).
fn cells_before_comment(record: &csv::StringRecord) -> Vec<String> {
    let mut cells = Vec::new();
    for cell in record {
        match cell.split_once('#') {
            Some((before, _)) => {
                cells.push(before.trim().to_string());
                break;
            }
            None => cells.push(cell.to_string()),
        }
    }
    cells
}

/// Bessel function of the first kind J_m(z), m = 0 or 1, by its power series (accurate to about
/// 1e-7 relative for |z| up to 30, the range the Womersley profiles use).
pub fn bessel_j(m: u32, z: Complex<f64>) -> Complex<f64> {
    let half = z / 2.0;
    let mut term = half.powu(m);
    for k in 1..=m {
        term /= k as f64;
    }
    let mut sum = term;
    let h2 = half * half;
    for k in 1..200 {
        term = -term * h2 / (k as f64 * (k + m) as f64);
        sum += term;
        if term.norm() < 1e-17 * sum.norm() {
            break;
        }
    }
    sum
}

/// Womersley's profile shape S(ρ) of one harmonic at Womersley number `alpha`: the axial velocity
/// at radius ρ = r/R relative to the harmonic's mean velocity (its mean over the disc is 1);
/// `alpha = 0` gives Poiseuille's 2(1 − ρ²).
pub fn womersley_shape(alpha: f64, rho: f64) -> Complex<f64> {
    if alpha < 1e-6 {
        return Complex::new(2.0 * (1.0 - rho * rho), 0.0);
    }
    // Λ = i^{3/2} α
    let lambda = Complex::from_polar(alpha, 0.75 * PI);
    let j0 = bessel_j(0, lambda);
    let one = Complex::new(1.0, 0.0);
    (one - bessel_j(0, lambda * rho) / j0) / (one - bessel_j(1, lambda) * 2.0 / (lambda * j0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wave.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    fn error_of(text: &str, period: Option<f64>) -> String {
        let (_d, p) = csv(text);
        let e = Waveform::from_csv(&p, period).unwrap_err().to_string();
        println!("error: {e}");
        e
    }

    #[test]
    fn csv_in_ml_per_s_is_read_interpolated_periodically_and_averaged_exactly() {
        let (_d, p) =
            csv("# a triangle\ntime_s,flow_ml_s\n\n0,1\n0.25,5 # the peak\n  # closed:\n0.5,1\n1.0,1\n");
        let w = Waveform::from_csv(&p, None).unwrap();
        assert_eq!(w.period, 1.0);
        assert_eq!(w.times.len(), 3);
        assert!((w.at(0.125) - 3e-6).abs() < 1e-18);
        assert!((w.at(1.125) - 3e-6).abs() < 1e-18);
        assert!((w.at(-0.875) - 3e-6).abs() < 1e-18);
        assert!((w.mean() - 2e-6).abs() < 1e-18);
        assert!((w.peak() - 5e-6).abs() < 1e-18);
    }

    #[test]
    fn bad_waveforms_name_the_line_and_the_fix() {
        assert!(error_of("time_s,flow_m3_s\n0,1\n-0.1,2\n", Some(1.0)).contains("line 3"));
        assert!(error_of("time_s,flow_m3_s\n0,1\n0.5,2\n0.4,1\n", Some(1.0)).contains("earlier"));
        assert!(error_of("time_s,flow_m3_s\n0,1\n0.5,2\n0.5,1\n", Some(1.0)).contains("repeats"));
        assert!(error_of("time_s,flow_m3_s\n0,1\n0.5,NaN\n", Some(1.0)).contains("line 3"));
        assert!(error_of("time_s,flow_m3_s\n0,1\n0.5,2\n1.5,1\n", Some(1.0)).contains("period"));
        assert!(error_of("time_s,flow_m3_s\n0,1\n0.5,2\n", None).contains("inflow.period"));
        assert!(error_of("t,q\n0,1\n", Some(1.0)).contains("header"));
        assert!(error_of("time_s,flow_m3_s\n0;1\n", Some(1.0)).contains("line 2"));
    }

    #[test]
    fn builtins_have_their_stated_means_and_fourier_series_rebuild_them() {
        for name in BUILTIN {
            let w = Waveform::builtin(name).unwrap();
            let q = w.fourier(40);
            let worst = (0..100)
                .map(|k| {
                    let t = w.period * k as f64 / 100.0;
                    let omega = 2.0 * PI / w.period;
                    let sum: f64 = q
                        .iter()
                        .enumerate()
                        .map(|(n, c)| (c * Complex::from_polar(1.0, n as f64 * omega * t)).re)
                        .sum();
                    (sum - w.at(t)).abs() / w.peak()
                })
                .fold(0.0, f64::max);
            println!(
                "{name}: mean {:.3} mL/s, peak {:.2} mL/s, period {} s, 40-harmonic error {:.2e} of peak",
                w.mean() * 1e6,
                w.peak() * 1e6,
                w.period,
                worst
            );
            assert!((q[0].re / w.mean() - 1.0).abs() < 1e-3);
            assert!(worst < 0.01);
        }
        assert!(Waveform::builtin("femoral").is_err());
        let carotid = Waveform::builtin("carotid").unwrap();
        assert!((carotid.mean() - 6.0e-6).abs() < 1e-9 && (carotid.peak() / 23.5e-6 - 1.0).abs() < 0.05);
    }

    #[test]
    fn bessel_matches_tabulated_values_and_womersley_shapes_carry_their_mean() {
        // J0(1) and J1(1) (Abramowitz & Stegun, table 9.1).
        assert!((bessel_j(0, Complex::new(1.0, 0.0)).re - 0.765_197_686_557_966_6).abs() < 1e-14);
        assert!((bessel_j(1, Complex::new(1.0, 0.0)).re - 0.440_050_585_744_933_5).abs() < 1e-14);
        // J0(10) = -0.245935764451348.
        assert!((bessel_j(0, Complex::new(10.0, 0.0)).re + 0.245_935_764_451_348).abs() < 1e-12);
        for alpha in [0.0, 0.5, 4.0, 8.0, 20.0] {
            // Mean over the disc by the midpoint rule in rho.
            let m = 4000;
            let mean: Complex<f64> = (0..m)
                .map(|k| {
                    let rho = (k as f64 + 0.5) / m as f64;
                    womersley_shape(alpha, rho) * (2.0 * rho / m as f64)
                })
                .sum();
            let wall = womersley_shape(alpha, 1.0).norm();
            println!("alpha {alpha}: disc mean {mean:.6}, wall value {wall:.1e}");
            assert!((mean - Complex::new(1.0, 0.0)).norm() < 1e-5);
            assert!(wall < 1e-9);
        }
        assert!((womersley_shape(1e-3, 0.5).re - 1.5).abs() < 1e-4);
    }
}
