//! Physical (SI) <-> lattice unit conversion and the stability checks every run passes through.

use crate::error::{Error, Result};
use crate::stencil::Collision;
use crate::stencil::d3q19::CS2;
use serde::Serialize;

/// Lowest relaxation time a run accepts without LES: below it the lattice does not resolve the
/// flow (the cell Reynolds number u dx / nu passes about 100 at Mach 0.1) and the BGK/TRT scheme is
/// unstable.
pub const TAU_MIN: f64 = 0.5 + 1e-3;
/// Lowest relaxation time a run accepts when Smagorinsky LES carries the unresolved scales with the
/// regularized collision: tau - 1/2 (the molecular viscosity) then still holds about 1% in FP32.
pub const TAU_MIN_LES: f64 = 0.5 + 1e-5;
/// Largest cell Reynolds number (the vessel's peak velocity times dx over the kinematic viscosity)
/// at which the regularized collision holds without LES: it held to 31 and diverged from 33 in the
/// stability map of docs/validation.md (straight tubes along and across the lattice axes). Above it
/// LES switches on unless the case turns it off.
pub const CELL_REYNOLDS_REGULARIZED: f64 = 30.0;
/// Highest Mach number accepted: above it compressibility errors dominate and runs diverge.
pub const MACH_MAX: f64 = 0.3;
/// Mach number above which a run warns that compressibility errors grow.
pub const MACH_WARN: f64 = 0.1;
/// TRT magic parameter: 3/16 puts a bounce-back wall exactly halfway and cancels viscosity-dependent slip.
pub const TRT_MAGIC: f64 = 3.0 / 16.0;
/// Pascals in one millimetre of mercury (the unit clinicians read pressures in), Pa/mmHg.
pub const PA_PER_MMHG: f64 = 133.322;

/// How the time step is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeStep {
    /// Relaxation time tau (lattice units, > 0.5).
    Tau(f64),
    /// Time step (s).
    Dt(f64),
    /// Target Mach number of the peak inlet velocity; dt follows.
    Mach(f64),
    /// The largest dt keeping the Mach number of the vessel's peak velocity at most 0.1 and the expected pressure
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
    /// Peak velocity expected at the inlet (m/s): `lattice.mach` refers to it.
    pub peak_velocity: f64,
    /// Peak velocity expected anywhere in the vessel (m/s, at least `peak_velocity`): at its
    /// narrowest section, e.g. a stenosis throat. The automatic time step and the limits follow it.
    pub vessel_peak_velocity: f64,
    /// Inlet diameter (m), to state advice in cells across it.
    pub inlet_diameter: f64,
    /// Pressure differences expected across the vessel (Pa), e.g. its Poiseuille drop.
    pub pressure_scale: f64,
    /// Cycle length of a pulsatile inflow (s) and the vessel's length (m), for the acoustic limit.
    pub pulsation: Option<(f64, f64)>,
    /// The collision (`lattice.collision`).
    pub collision: Collision,
    /// Smagorinsky LES (`fluid.les`): on, off, or None for on exactly when the regularized
    /// collision would otherwise be refused (tau below [`TAU_MIN`]) or diverge (a cell Reynolds
    /// number above [`CELL_REYNOLDS_REGULARIZED`]).
    pub les: Option<bool>,
}

/// Acoustic wavelengths per vessel length a pulsatile run keeps at least: the weakly compressible
/// LBM deviates from incompressible flow by about (2π L / λ)², 6 % here (measured on Womersley flow:
/// 0.6 % at 35 lengths, 5 % at 11).
pub const MIN_WAVELENGTHS: f64 = 25.0;

/// `x` (> 0) rounded to 4 significant digits by `round` (floor or ceil), so that advice printed with
/// `{:.3e}` stays on the valid side of its limit.
fn round_significant(x: f64, round: fn(f64) -> f64) -> f64 {
    let unit = 10f64.powf(x.log10().floor() - 3.0);
    round(x / unit) * unit
}

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
    /// Mach number of the peak inlet velocity (`lattice.mach`).
    pub mach_inlet: f64,
    /// Mach number of the peak velocity expected in the vessel.
    pub mach_peak: f64,
    /// The collision.
    pub collision: Collision,
    /// Whether Smagorinsky LES carries the scales the lattice does not resolve.
    pub les: bool,
}

impl LatticeUnits {
    /// Derives dt and tau from the scales and the chosen time step; refuses unstable combinations
    /// with a message that says which parameter to change and to what. Returns warnings alongside.
    pub fn new(scales: &PhysicalScales, step: TimeStep) -> Result<(Self, Vec<String>)> {
        let PhysicalScales {
            density,
            viscosity,
            dx,
            peak_velocity,
            vessel_peak_velocity,
            inlet_diameter,
            pressure_scale,
            pulsation,
            collision,
            les,
        } = *scales;
        // LES lets the regularized collision run where the lattice does not resolve the flow; TRT
        // diverges there with or without it.
        let regularized = collision == Collision::Regularized;
        let tau_min = if regularized && les != Some(false) { TAU_MIN_LES } else { TAU_MIN };
        for (field, v) in [
            ("fluid.density", density),
            ("fluid.viscosity", viscosity),
            ("lattice.dx", dx),
            ("inflow.flow_rate", peak_velocity),
            ("geometry", vessel_peak_velocity),
            ("geometry.ports", inlet_diameter),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::parameter(field, format!("must be a positive number, got {v}")));
            }
        }
        let nu = viscosity / density;
        let cs = CS2.sqrt();
        // How much faster than the inlet's the vessel's peak velocity is.
        let speed_up = (vessel_peak_velocity / peak_velocity).max(1.0);
        let cells_for = |dx: f64| round_significant(inlet_diameter / dx, f64::ceil).ceil();
        let dt = match step {
            TimeStep::Tau(tau) => {
                if !(tau.is_finite() && tau > 0.5) {
                    return Err(Error::parameter(
                        "lattice.tau",
                        format!(
                            "must be above 1/2 (the viscosity is c_s^2 (tau - 1/2)) and at least {tau_min}, got \
                             {tau}; e.g. tau = 0.6, or give lattice.mach instead"
                        ),
                    ));
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
                let by_mach = AUTO_MACH * cs * dx / vessel_peak_velocity;
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
        let mach_peak = mach * speed_up;
        let mut units = LatticeUnits {
            dx_m: dx,
            dt_s: dt,
            tau,
            tau_minus: 0.5 + TRT_MAGIC / (tau - 0.5).max(1e-12),
            density_kg_m3: density,
            nu_m2_s: nu,
            mach_inlet: mach,
            mach_peak,
            collision,
            les: false,
        };
        units.les = les
            .unwrap_or(regularized && (tau < TAU_MIN || units.cell_reynolds() > CELL_REYNOLDS_REGULARIZED));
        if tau < tau_min {
            // tau - 1/2 = nu dt / (cs^2 dx^2) with dt = Ma cs dx / U: grows as dx shrinks or Ma grows.
            let finer = (tau_min - 0.5) / (tau - 0.5);
            let dt_needed = (tau_min - 0.5) * CS2 * dx * dx / nu;
            let mach_needed = peak_velocity * dt_needed / dx / cs;
            let dx_needed = round_significant(dx / finer, f64::floor);
            let mut options = vec![format!(
                "a finer lattice (dx <= {dx_needed:.3e} m, cells_across_inlet >= {})",
                cells_for(dx_needed)
            )];
            if mach_needed * speed_up <= MACH_WARN {
                options.push(format!(
                    "a larger time step (lattice.mach = {:.3e}, dt = {:.3e} s)",
                    round_significant(mach_needed, f64::ceil),
                    round_significant(dt_needed, f64::ceil)
                ));
            }
            match (regularized, les) {
                (true, Some(false)) => {
                    options.push("LES for the unresolved scales (fluid.les = true)".into())
                }
                (false, _) => options.push(
                    "the regularized collision, with LES for the unresolved scales (lattice.collision = \
                     \"regularized\")"
                        .into(),
                ),
                _ => {}
            }
            return Err(Error::parameter(
                "lattice",
                format!(
                    "tau = {tau:.5} is below {tau_min} (dx = {dx:.3e} m, dt = {dt:.3e} s, Mach {mach:.3}): the lattice \
                     does not resolve the flow. Use {}",
                    options.join(", or ")
                ),
            ));
        }
        if mach_peak > MACH_MAX {
            // The automatic step (Mach 0.1 at the peak) at this dx, and the dx it needs to keep tau.
            let dt_auto = AUTO_MACH * cs * dx / vessel_peak_velocity;
            let tau_auto = 0.5 + nu * dt_auto / (CS2 * dx * dx);
            let advice = if tau_auto >= tau_min {
                format!(
                    "a smaller time step: leave lattice.tau, dt and mach out for the automatic one (dt = {:.3e} \
                     s, Mach {AUTO_MACH} at the peak), or lattice.mach = {:.3e}",
                    round_significant(dt_auto, f64::floor),
                    round_significant(AUTO_MACH / speed_up, f64::floor)
                )
            } else {
                let dx_needed = round_significant(
                    AUTO_MACH * nu / (cs * vessel_peak_velocity * (tau_min - 0.5)),
                    f64::floor,
                );
                format!(
                    "a finer lattice and a smaller time step: dx <= {dx_needed:.3e} m (cells_across_inlet >= {}) \
                     with lattice.tau, dt and mach left out",
                    cells_for(dx_needed)
                )
            };
            return Err(Error::parameter(
                "lattice",
                format!(
                    "the peak velocity expected in the vessel ({vessel_peak_velocity:.3} m/s, {speed_up:.2}x the \
                     inlet's) reaches Mach {mach_peak:.3} at dt = {dt:.3e} s, above {MACH_MAX}: the run would \
                     diverge. Use {advice}"
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
        if mach_peak > MACH_WARN * (1.0 + 1e-9) {
            warnings.push(format!(
                "the peak velocity expected in the vessel reaches Mach {mach_peak:.3}, above {MACH_WARN}: \
                 compressibility errors grow as Mach^2; a smaller time step (lattice.mach <= {:.3e}) reduces them",
                round_significant(MACH_WARN / speed_up, f64::floor)
            ));
        }
        Ok((units, warnings))
    }

    /// Cell Reynolds number of the vessel's expected peak velocity: u_peak dx / nu, which the time
    /// step does not change.
    pub fn cell_reynolds(&self) -> f64 {
        self.mach_peak * CS2.sqrt() / (CS2 * (self.tau - 0.5))
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

    /// The lattice's speed of sound in physical units (m/s): c_s dx / dt.
    pub fn sound_speed_m_s(&self) -> f64 {
        CS2.sqrt() * self.dx_m / self.dt_s
    }

    /// Number of steps covering `seconds` of physical time (at least one).
    pub fn steps(&self, seconds: f64) -> u64 {
        (seconds / self.dt_s).ceil().max(1.0) as u64
    }

    /// One-line description: dx, dt, tau, Mach and the collision.
    pub fn describe(&self) -> String {
        let scheme = match self.collision {
            Collision::Regularized => "regularized".to_string(),
            Collision::Trt => format!("TRT, tau- = {:.4}", self.tau_minus),
        };
        format!(
            "dx = {:.4e} m, dt = {:.4e} s, tau = {:.5}, Mach {:.3} (inlet peak) {:.3} (vessel peak), {scheme}{}",
            self.dx_m,
            self.dt_s,
            self.tau,
            self.mach_inlet,
            self.mach_peak,
            if self.les { ", Smagorinsky LES" } else { "" }
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
            vessel_peak_velocity: 0.05,
            inlet_diameter: 4e-3,
            pressure_scale: 1.0,
            pulsation: None,
            collision: Collision::Trt,
            les: None,
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
        assert!(err.contains("does not resolve the flow") && err.contains("finer lattice"), "{err}");
    }

    /// Every number a refusal suggests is valid: followed, it is accepted.
    #[test]
    fn tau_advice_is_valid_when_followed() {
        for tau in [0.4, 0.5, -1.0, f64::NAN] {
            let err = LatticeUnits::new(&blood(1e-4), TimeStep::Tau(tau)).unwrap_err().to_string();
            println!("tau = {tau}: {err}");
            assert!(err.contains("lattice.tau") && err.contains("tau = 0.6"), "{err}");
        }
        // Too coarse for the flow: a finer dx, or a Mach number, that the refusal names; followed, each
        // is accepted.
        for (dx, mach) in [(2e-2, 0.05), (1e-3, 0.005)] {
            let s = PhysicalScales { collision: Collision::Regularized, les: Some(false), ..blood(dx) };
            let err = LatticeUnits::new(&s, TimeStep::Mach(mach)).unwrap_err().to_string();
            println!("{err}");
            assert!(err.contains("fluid.les = true"), "{err}");
            let number_after = |key: &str| -> f64 {
                let at = err.find(key).map(|i| i + key.len()).unwrap_or_else(|| panic!("{key} in {err}"));
                let text = err[at..].split(|c: char| !(c.is_ascii_digit() || ".e-".contains(c))).next();
                text.and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("a number after {key} in {err}"))
            };
            let finer = number_after("dx <= ");
            let accepted = LatticeUnits::new(&PhysicalScales { dx: finer, ..s }, TimeStep::Mach(mach));
            assert!(accepted.is_ok(), "{accepted:?}");
            if err.contains("lattice.mach = ") {
                let advised = number_after("lattice.mach = ");
                assert!(advised > 0.0 && advised <= MACH_WARN, "{advised}");
                let (u, _) = LatticeUnits::new(&s, TimeStep::Mach(advised)).unwrap_or_else(|e| panic!("{e}"));
                assert!(u.tau >= TAU_MIN);
            }
        }
    }

    #[test]
    fn high_mach_is_refused_with_a_smaller_step() {
        let err = LatticeUnits::new(&blood(1e-4), TimeStep::Tau(3.0)).unwrap_err().to_string();
        assert!(err.contains("above 0.3") && err.contains("smaller time step"), "{err}");
    }

    /// A vessel whose peak velocity is 6x the inlet's (a stenosis): Mach is checked at the peak, the
    /// automatic step follows it, and the advice of a refusal is accepted when followed.
    #[test]
    fn peak_mach_advice_is_valid_when_followed() {
        let s =
            PhysicalScales { vessel_peak_velocity: 0.3, collision: Collision::Regularized, ..blood(1e-4) };
        let (auto, _) = LatticeUnits::new(&s, TimeStep::Auto).unwrap_or_else(|e| panic!("{e}"));
        println!("automatic step: inlet Mach {:.4}, peak Mach {:.4}", auto.mach_inlet, auto.mach_peak);
        assert!((auto.mach_peak - AUTO_MACH).abs() < 1e-12 && auto.mach_inlet < AUTO_MACH / 5.0);
        let err = LatticeUnits::new(&s, TimeStep::Mach(0.1)).unwrap_err().to_string();
        println!("{err}");
        let advised: f64 =
            err.split("lattice.mach = ").nth(1).and_then(|t| t.parse().ok()).unwrap_or(f64::NAN);
        let (u, _) =
            LatticeUnits::new(&s, TimeStep::Mach(advised)).unwrap_or_else(|e| panic!("{advised}: {e}"));
        assert!(u.mach_peak <= AUTO_MACH * (1.0 + 1e-12), "{}", u.mach_peak);
        // So fast that the automatic step would breach tau: a finer lattice is advised instead.
        let fast = PhysicalScales { peak_velocity: 2.0, vessel_peak_velocity: 20.0, les: Some(false), ..s };
        let err = LatticeUnits::new(&fast, TimeStep::Mach(0.1)).unwrap_err().to_string();
        println!("{err}");
        let dx: f64 = err
            .split("dx <= ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or(f64::NAN);
        let finer = PhysicalScales { dx, ..fast };
        let (u, _) = LatticeUnits::new(&finer, TimeStep::Auto).unwrap_or_else(|e| panic!("dx {dx}: {e}"));
        assert!(u.tau >= TAU_MIN && u.mach_peak <= AUTO_MACH * (1.0 + 1e-12), "{u:?}");
    }

    #[test]
    fn auto_step_bounds_mach_and_density_variation() {
        let mut s = blood(1e-4);
        let (u, _) = LatticeUnits::new(&s, TimeStep::Auto).unwrap();
        assert!(u.mach_peak <= AUTO_MACH * (1.0 + 1e-12), "Mach {}", u.mach_peak);
        s.pressure_scale = 1e3;
        let (v, _) = LatticeUnits::new(&s, TimeStep::Auto).unwrap_or_else(|e| panic!("{e}"));
        let drho = s.pressure_scale * v.dt_s.powi(2) / (CS2 * s.density * s.dx.powi(2));
        println!("auto step: Mach {:.4}, expected density variation {drho:.4}", v.mach_peak);
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
