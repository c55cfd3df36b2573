//! The inflow a run imposes: a steady flow or a periodic waveform, with a plug, Poiseuille or
//! Womersley profile, turned into the per-step profile table the LBM kernels read.

use super::waveform::{Waveform, womersley_shape};
use crate::error::{Error, Result};
use crate::lattice::PROFILE_SAMPLES;
use nalgebra::Complex;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Inlet velocity profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Parabolic, peak twice the mean.
    #[default]
    Poiseuille,
    /// Uniform.
    Plug,
    /// Womersley's oscillatory pipe flow, from the waveform's Fourier series (Poiseuille when steady).
    Womersley,
}

/// Womersley numbers above this are left out of the Fourier series (their power series loses
/// accuracy, and such harmonics carry a negligible share of physiological waveforms).
pub const MAX_HARMONIC_ALPHA: f64 = 30.0;

/// Harmonics used by default for a Womersley profile.
pub const DEFAULT_HARMONICS: usize = 20;

/// The inflow of a run.
#[derive(Debug, Clone)]
pub struct Inflow {
    /// Mean volume flow (m^3/s).
    pub mean_flow: f64,
    /// The waveform, or None for a steady flow.
    pub waveform: Option<Waveform>,
    /// Profile across the inlet.
    pub profile: Profile,
    /// Womersley: per harmonic n = 0.., Q_n / Q_mean times the shape S_n at each table sample.
    modes: Vec<Vec<Complex<f64>>>,
    /// Womersley number of the fundamental (0 when steady).
    pub alpha: f64,
    /// Notes for the run's warnings.
    pub notes: Vec<String>,
}

impl Inflow {
    /// The inflow of `waveform` (or the steady `mean_flow`, m^3/s, when None) with `profile` on
    /// an inlet of equivalent `radius` (m) for kinematic viscosity `nu` (m^2/s); Womersley uses up to
    /// `harmonics` harmonics.
    pub fn new(
        mean_flow: f64,
        waveform: Option<Waveform>,
        profile: Profile,
        radius: f64,
        nu: f64,
        harmonics: usize,
    ) -> Result<Self> {
        let mut notes = Vec::new();
        let (mut modes, mut alpha) = (Vec::new(), 0.0);
        if let (Some(w), Profile::Womersley) = (&waveform, profile) {
            if harmonics > w.resolvable_harmonics() {
                return Err(Error::parameter(
                    "inflow.harmonics",
                    format!(
                        "{harmonics} harmonics need at least {} samples per cycle, but {} has {}; give fewer \
                         harmonics or a finer waveform",
                        2 * harmonics + 1,
                        w.source,
                        w.times.len()
                    ),
                ));
            }
            let omega = 2.0 * PI / w.period;
            alpha = radius * (omega / nu).sqrt();
            let q = w.fourier(harmonics);
            let kept =
                (0..=harmonics).take_while(|&n| alpha * (n as f64).sqrt() <= MAX_HARMONIC_ALPHA).count();
            if kept <= harmonics {
                notes.push(format!(
                    "Womersley profile: harmonics above {} (alpha > {MAX_HARMONIC_ALPHA}) left out",
                    kept - 1
                ));
            }
            modes = (0..kept)
                .map(|n| {
                    let a = alpha * (n as f64).sqrt();
                    (0..PROFILE_SAMPLES)
                        .map(|k| {
                            q[n] / mean_flow * womersley_shape(a, k as f64 / (PROFILE_SAMPLES - 1) as f64)
                        })
                        .collect()
                })
                .collect();
        }
        Ok(Inflow { mean_flow, waveform, profile, modes, alpha, notes })
    }

    /// The profile table at time `t` (s): axial velocity relative to the mean velocity of the mean
    /// flow, at ρ = k / (PROFILE_SAMPLES - 1).
    pub fn table(&self, t: f64) -> [f32; PROFILE_SAMPLES] {
        let rho = |k: usize| k as f64 / (PROFILE_SAMPLES - 1) as f64;
        let Some(w) = &self.waveform else {
            return std::array::from_fn(|k| steady_shape(self.profile, rho(k)) as f32);
        };
        if self.profile == Profile::Womersley {
            let omega = 2.0 * PI / w.period;
            let phase: Vec<Complex<f64>> =
                (0..self.modes.len()).map(|n| Complex::from_polar(1.0, n as f64 * omega * t)).collect();
            return std::array::from_fn(|k| {
                self.modes.iter().zip(&phase).map(|(m, e)| (m[k] * e).re).sum::<f64>() as f32
            });
        }
        let ratio = w.at(t) / self.mean_flow;
        std::array::from_fn(|k| (ratio * steady_shape(self.profile, rho(k))) as f32)
    }

    /// The largest table value over a cycle: the peak inlet velocity over the mean one.
    pub fn peak_factor(&self) -> f64 {
        let period = self.waveform.as_ref().map_or(1.0, |w| w.period);
        (0..256)
            .flat_map(|s| self.table(period * s as f64 / 256.0))
            .map(|v| f64::from(v).abs())
            .fold(0.0, f64::max)
    }

    /// The cycle length (s), None when steady.
    pub fn period(&self) -> Option<f64> {
        self.waveform.as_ref().map(|w| w.period)
    }
}

/// Steady profile shape: axial velocity relative to the mean at radial coordinate ρ.
pub fn steady_shape(profile: Profile, rho: f64) -> f64 {
    match profile {
        Profile::Plug => 1.0,
        Profile::Poiseuille | Profile::Womersley => 2.0 * (1.0 - rho * rho),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(mean: f64, amplitude: f64, period: f64) -> Waveform {
        let n = 64;
        let times: Vec<f64> = (0..n).map(|k| period * k as f64 / n as f64).collect();
        let flows = times.iter().map(|t| mean + amplitude * (2.0 * PI * t / period).sin()).collect();
        Waveform::new("sine", times, flows, period, |k| format!("sample {k}")).unwrap()
    }

    #[test]
    fn pulsatile_tables_follow_the_waveform_and_carry_its_flow() {
        let w = sine(1e-6, 0.5e-6, 1.0);
        for profile in [Profile::Plug, Profile::Poiseuille, Profile::Womersley] {
            let inflow = Inflow::new(1e-6, Some(w.clone()), profile, 2e-3, 3.3e-6, 8).unwrap();
            for t in [0.0, 0.25, 0.6] {
                let table = inflow.table(t);
                // Flow = mean over the disc: ∫ f(ρ) 2ρ dρ by the trapezoidal rule on the table.
                let h = 1.0 / (PROFILE_SAMPLES - 1) as f64;
                let flow: f64 = (0..PROFILE_SAMPLES - 1)
                    .map(|k| {
                        let (a, b) = (k as f64 * h, (k + 1) as f64 * h);
                        0.5 * (f64::from(table[k]) * 2.0 * a + f64::from(table[k + 1]) * 2.0 * b) * h
                    })
                    .sum();
                let want = w.at(t) / 1e-6;
                println!("{profile:?} t = {t}: table flow {flow:.5}, waveform {want:.5}");
                assert!((flow - want).abs() < 2e-3 * want.max(1.0), "{profile:?} at {t}");
            }
        }
    }

    #[test]
    fn too_many_harmonics_for_the_samples_are_refused() {
        let w = sine(1e-6, 0.5e-6, 1.0);
        let e = Inflow::new(1e-6, Some(w), Profile::Womersley, 2e-3, 3.3e-6, 40).unwrap_err().to_string();
        println!("error: {e}");
        assert!(e.contains("inflow.harmonics") && e.contains("samples"));
    }
}
