//! Physical (SI) <-> lattice unit conversion and the stability checks every run passes through.

use crate::error::{Error, Result};
use crate::lbm::d3q19::CS2;
use serde::Serialize;

/// Lowest relaxation time accepted: below it the BGK/TRT scheme is unstable.
pub const TAU_MIN: f64 = 0.5 + 1e-3;
/// Highest Mach number accepted: above it compressibility errors dominate and runs diverge.
pub const MACH_MAX: f64 = 0.3;
/// Mach number above which a run warns that compressibility errors grow.
pub const MACH_WARN: f64 = 0.1;
/// TRT magic parameter: 3/16 puts a bounce-back wall exactly halfway and cancels viscosity-dependent slip.
pub const TRT_MAGIC: f64 = 3.0 / 16.0;

/// How the time step is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeStep {
    /// Relaxation time tau (lattice units, > 0.5).
    Tau(f64),
    /// Time step (s).
    Dt(f64),
    /// Target Mach number of the peak inlet velocity; dt follows.
    Mach(f64),
    /// The largest dt keeping the peak inlet Mach number at most 0.1 and the expected pressure
    /// differences (`PhysicalScales::pressure_scale`) below 1% of the lattice density.
    Auto,
}

/// Mach number `TimeStep::Auto` aims for.
pub const AUTO_MACH: f64 = 0.1;
/// Largest relative density variation `TimeStep::Auto` allows for the expected pressure differences.
pub const AUTO_DENSITY_VARIATION: f64 = 0.01;
/// Largest relative density variation any run accepts for the expected pressure differences.
pub const MAX_DENSITY_VARIATION: f64 = 0.1;

/// What the conversion needs to know about the physics (SI).
#[derive(Debug, Clone, Copy)]
pub struct PhysicalScales {
    /// Fluid density (kg/m^3).
    pub density: f64,
    /// Dynamic viscosity (Pa s).
    pub viscosity: f64,
    /// Lattice spacing (m).
    pub dx: f64,
    /// Peak velocity expected at the inlet (m/s).
    pub peak_velocity: f64,
    /// Pressure differences expected across the vessel (Pa), e.g. its Poiseuille drop.
    pub pressure_scale: f64,
    /// Cycle length of a pulsatile inflow (s) and the vessel's length (m), for the acoustic limit.
    pub pulsation: Option<(f64, f64)>,
}

/// Acoustic wavelengths per vessel length a pulsatile run keeps at least: the weakly compressible
/// LBM deviates from incompressible flow by about (2π L / λ)², 6 % here (measured on Womersley flow:
/// 0.6 % at 35 lengths, 5 % at 11).
pub const MIN_WAVELENGTHS: f64 = 25.0;

/// The lattice parameters of a run: spacing, step, relaxation and the resulting Mach number.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatticeUnits {
    /// Lattice spacing (m).
    pub dx_m: f64,
    /// Time step (s).
    pub dt_s: f64,
    /// Symmetric relaxation time tau+ (lattice units); kinematic viscosity nu = cs^2 (tau - 1/2).
    pub tau: f64,
    /// Antisymmetric relaxation time tau- of TRT (lattice units).
    pub tau_minus: f64,
    /// Fluid density (kg/m^3).
    pub density_kg_m3: f64,
    /// Kinematic viscosity (m^2/s).
    pub nu_m2_s: f64,
    /// Mach number of the peak inlet velocity.
    pub mach_inlet: f64,
}

impl LatticeUnits {
    /// Derives dt and tau from the scales and the chosen time step; refuses unstable combinations
    /// with a message that says which parameter to change and to what. Returns warnings alongside.
    pub fn new(scales: &PhysicalScales, step: TimeStep) -> Result<(Self, Vec<String>)> {
        let PhysicalScales { density, viscosity, dx, peak_velocity, pressure_scale, pulsation } = *scales;
        for (field, v) in [
            ("fluid.density", density),
            ("fluid.viscosity", viscosity),
            ("lattice.dx", dx),
            ("inflow.flow_rate", peak_velocity),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::parameter(field, format!("must be a positive number, got {v}")));
            }
        }
        let nu = viscosity / density;
        let cs = CS2.sqrt();
        let dt = match step {
            TimeStep::Tau(tau) => {
                if !tau.is_finite() {
                    return Err(Error::parameter("lattice.tau", "must be a finite number"));
                }
                (tau - 0.5) * CS2 * dx * dx / nu
            }
            TimeStep::Dt(dt) => {
                if !(dt.is_finite() && dt > 0.0) {
                    return Err(Error::parameter("lattice.dt", format!("must be positive, got {dt}")));
                }
                dt
            }
            TimeStep::Mach(ma) => {
                if !(ma.is_finite() && ma > 0.0 && ma <= MACH_MAX) {
                    return Err(Error::parameter(
                        "lattice.mach",
                        format!("must be in (0, {MACH_MAX}], got {ma}"),
                    ));
                }
                ma * cs * dx / peak_velocity
            }
            TimeStep::Auto => {
                let by_mach = AUTO_MACH * cs * dx / peak_velocity;
                // delta rho = delta p dt^2 / (cs^2 rho dx^2) <= AUTO_DENSITY_VARIATION
                let by_density = if pressure_scale > 0.0 {
                    dx * (AUTO_DENSITY_VARIATION * CS2 * density / pressure_scale).sqrt()
                } else {
                    f64::INFINITY
                };
                // c_s (dx / dt) T >= MIN_WAVELENGTHS L
                let by_wave = pulsation
                    .map_or(f64::INFINITY, |(period, length)| cs * dx * period / (MIN_WAVELENGTHS * length));
                by_mach.min(by_density).min(by_wave)
            }
        };
        let tau = 0.5 + nu * dt / (CS2 * dx * dx);
        let mach = peak_velocity * dt / dx / cs;
        let units = LatticeUnits {
            dx_m: dx,
            dt_s: dt,
            tau,
            tau_minus: 0.5 + TRT_MAGIC / (tau - 0.5).max(1e-12),
            density_kg_m3: density,
            nu_m2_s: nu,
            mach_inlet: mach,
        };
        if tau < TAU_MIN {
            // tau - 1/2 = nu dt / (cs^2 dx^2) with dt = Ma cs dx / U: grows as dx shrinks or Ma grows.
            let dx_needed = dx * (tau - 0.5) / (TAU_MIN - 0.5);
            return Err(Error::parameter(
                "lattice",
                format!(
                    "tau = {tau:.5} is below the stability limit {TAU_MIN} (dx = {dx:.3e} m, dt = {dt:.3e} s, \
                     Mach {mach:.3}). Use a finer lattice (dx <= {dx_needed:.3e} m, i.e. {:.1}x more cells \
                     across) or a larger time step (a higher Mach number, at most {MACH_MAX}).",
                    dx / dx_needed
                ),
            ));
        }
        if mach > MACH_MAX {
            let dt_max = MACH_MAX * cs * dx / peak_velocity;
            return Err(Error::parameter(
                "lattice",
                format!(
                    "Mach number {mach:.3} of the peak inlet velocity {peak_velocity:.3} m/s exceeds \
                     {MACH_MAX} (dt = {dt:.3e} s, tau = {tau:.4}). Use a smaller time step \
                     (dt <= {dt_max:.3e} s, i.e. tau <= {:.4}) or set lattice.mach = 0.1.",
                    0.5 + nu * dt_max / (CS2 * dx * dx)
                ),
            ));
        }
        // Pressure differences ride on the lattice density: refuse variations the weakly
        // compressible scheme cannot carry, warn above the 1 % Auto aims for.
        let density_variation = pressure_scale * dt * dt / (CS2 * density * dx * dx);
        let dt_for = |variation: f64| dx * (variation * CS2 * density / pressure_scale).sqrt();
        if density_variation > MAX_DENSITY_VARIATION {
            return Err(Error::parameter(
                "lattice",
                format!(
                    "the expected pressure differences ({pressure_scale:.3e} Pa, from the flow and the outlet \
                     models) need lattice density variations of {:.0} % at dt = {dt:.3e} s; the scheme holds \
                     about {:.0} %. Use a smaller time step (dt <= {:.3e} s; 1 % at {:.3e} s) or smaller outlet \
                     resistances",
                    100.0 * density_variation,
                    100.0 * MAX_DENSITY_VARIATION,
                    dt_for(MAX_DENSITY_VARIATION),
                    dt_for(AUTO_DENSITY_VARIATION)
                ),
            ));
        }
        let mut warnings = Vec::new();
        if density_variation > 2.0 * AUTO_DENSITY_VARIATION {
            warnings.push(format!(
                "the expected pressure differences ({pressure_scale:.3e} Pa) vary the lattice density by {:.1} %: \
                 compressibility errors grow with it; dt <= {:.3e} s keeps it at 1 %",
                100.0 * density_variation,
                dt_for(AUTO_DENSITY_VARIATION)
            ));
        }
        if let Some((period, length)) = pulsation {
            let lengths = cs * dx / dt * period / length;
            if lengths < MIN_WAVELENGTHS * (1.0 - 1e-9) {
                warnings.push(format!(
                    "the acoustic wavelength over a cycle is only {lengths:.1} vessel lengths (aim for at least \
                     {MIN_WAVELENGTHS}): compressibility distorts pulsatile flow by about {:.0} %; use a smaller \
                     time step (dt <= {:.3e} s)",
                    100.0 * (2.0 * std::f64::consts::PI / lengths).powi(2),
                    cs * dx * period / (MIN_WAVELENGTHS * length)
                ));
            }
        }
        if mach > MACH_WARN * (1.0 + 1e-9) {
            warnings.push(format!(
                "Mach number {mach:.3} is above {MACH_WARN}: compressibility errors grow as Mach^2; \
                 a smaller time step reduces them"
            ));
        }
        Ok((units, warnings))
    }

    /// Converts a velocity from m/s to lattice units.
    pub fn velocity_to_lattice(&self, u: f64) -> f64 {
        u * self.dt_s / self.dx_m
    }

    /// Converts a velocity from lattice units to m/s.
    pub fn velocity_to_si(&self, u: f64) -> f64 {
        u * self.dx_m / self.dt_s
    }

    /// Converts a density deviation (lattice units) to a pressure deviation (Pa).
    pub fn pressure_to_si(&self, delta_rho: f64) -> f64 {
        delta_rho * CS2 * self.density_kg_m3 * (self.dx_m / self.dt_s).powi(2)
    }

    /// Converts a volume flow rate from lattice units to m^3/s.
    pub fn flow_to_si(&self, q: f64) -> f64 {
        q * self.dx_m.powi(3) / self.dt_s
    }

    /// Mach number of a lattice velocity.
    pub fn mach(&self, u_lattice: f64) -> f64 {
        u_lattice / CS2.sqrt()
    }

    /// Number of steps covering `seconds` of physical time (at least one).
    pub fn steps(&self, seconds: f64) -> u64 {
        (seconds / self.dt_s).ceil().max(1.0) as u64
    }

    /// One-line description: dx, dt, tau and Mach.
    pub fn describe(&self) -> String {
        format!(
            "dx = {:.4e} m, dt = {:.4e} s, tau = {:.4} (tau- = {:.4}), Mach {:.3}",
            self.dx_m, self.dt_s, self.tau, self.tau_minus, self.mach_inlet
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blood(dx: f64) -> PhysicalScales {
        PhysicalScales {
            density: 1060.0,
            viscosity: 3.5e-3,
            dx,
            peak_velocity: 0.05,
            pressure_scale: 1.0,
            pulsation: None,
        }
    }

    #[test]
    fn tau_round_trips_through_dt() {
        let (u, _) = LatticeUnits::new(&blood(1e-4), TimeStep::Tau(0.8)).unwrap();
        let (v, _) = LatticeUnits::new(&blood(1e-4), TimeStep::Dt(u.dt_s)).unwrap();
        assert!((v.tau - 0.8).abs() < 1e-12);
    }

    #[test]
    fn low_tau_is_refused_with_a_finer_dx() {
        let err = LatticeUnits::new(&blood(1e-3), TimeStep::Mach(0.005)).unwrap_err().to_string();
        assert!(err.contains("below the stability limit") && err.contains("finer lattice"), "{err}");
    }

    #[test]
    fn high_mach_is_refused_with_a_smaller_step() {
        let err = LatticeUnits::new(&blood(1e-4), TimeStep::Tau(3.0)).unwrap_err().to_string();
        assert!(err.contains("exceeds") && err.contains("smaller time step"), "{err}");
    }

    #[test]
    fn auto_step_bounds_mach_and_density_variation() {
        let mut s = blood(1e-4);
        let (u, _) = LatticeUnits::new(&s, TimeStep::Auto).unwrap();
        assert!(u.mach_inlet <= AUTO_MACH * (1.0 + 1e-12), "Mach {}", u.mach_inlet);
        s.pressure_scale = 1e3;
        let (v, _) = LatticeUnits::new(&s, TimeStep::Auto).unwrap_or_else(|e| panic!("{e}"));
        let drho = s.pressure_scale * v.dt_s.powi(2) / (CS2 * s.density * s.dx.powi(2));
        println!("auto step: Mach {:.4}, expected density variation {drho:.4}", v.mach_inlet);
        assert!(drho <= AUTO_DENSITY_VARIATION * (1.0 + 1e-9));
    }

    #[test]
    fn non_positive_viscosity_is_refused() {
        let mut s = blood(1e-4);
        s.viscosity = 0.0;
        let err = LatticeUnits::new(&s, TimeStep::Tau(0.8)).unwrap_err().to_string();
        assert!(err.contains("fluid.viscosity"), "{err}");
    }

    #[test]
    fn pulsatile_auto_step_keeps_the_acoustic_wavelength_and_explicit_steps_are_warned() {
        let s = PhysicalScales { pulsation: Some((0.1, 0.05)), ..blood(1e-4) };
        let (u, w) = LatticeUnits::new(&s, TimeStep::Auto).unwrap();
        let lengths = CS2.sqrt() * u.dx_m / u.dt_s * 0.1 / 0.05;
        println!("auto: dt {:.3e} s, {lengths:.1} wavelengths per length, warnings {w:?}", u.dt_s);
        assert!(lengths >= MIN_WAVELENGTHS * (1.0 - 1e-9) && w.is_empty());
        let (_, w) = LatticeUnits::new(&s, TimeStep::Tau(0.7)).unwrap();
        println!("{w:?}");
        assert!(w.iter().any(|m| m.contains("acoustic wavelength")));
    }

    #[test]
    fn pressure_swings_the_lattice_cannot_carry_are_refused_with_the_time_step_that_would() {
        let s = PhysicalScales { pressure_scale: 100.0, ..blood(1e-4) };
        let e = LatticeUnits::new(&s, TimeStep::Tau(0.8)).unwrap_err().to_string();
        println!("error: {e}");
        assert!(e.contains("density variations") && e.contains("dt <="));
        let (u, _) = LatticeUnits::new(&s, TimeStep::Auto).unwrap();
        let drho = 100.0 * u.dt_s.powi(2) / (CS2 * s.density * s.dx.powi(2));
        assert!(drho <= AUTO_DENSITY_VARIATION * (1.0 + 1e-9));
    }
}
