//! Outlet boundary conditions: a fixed pressure, a resistance, or a three-element Windkessel (RCR),
//! coupled to the 3D flow every step, and the helper that sizes Windkessels from physiological
//! targets.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What an outlet imposes, in SI units (Pa, Pa s/m^3, m^3/Pa).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutletModel {
    /// A fixed pressure (Pa).
    Pressure(f64),
    /// P = distal + R Q.
    Resistance {
        /// Resistance (Pa s/m^3).
        resistance: f64,
        /// Pressure downstream (Pa).
        distal_pressure: f64,
    },
    /// Three-element Windkessel: P = Rp Q + Pc, C dPc/dt = Q - (Pc - Pd) / Rd.
    Rcr {
        /// Proximal (characteristic) resistance Rp (Pa s/m^3).
        proximal: f64,
        /// Compliance C (m^3/Pa).
        compliance: f64,
        /// Distal resistance Rd (Pa s/m^3).
        distal: f64,
        /// Pressure downstream Pd (Pa).
        distal_pressure: f64,
    },
}

/// One `[[outlets]]` entry of a case file: the port's name and its model's parameters (give
/// `pressure`, or `resistance`, or `proximal` + `compliance` + `distal`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutletSpec {
    /// Name of the outlet port.
    pub port: String,
    /// Fixed pressure (Pa).
    pub pressure: Option<f64>,
    /// Resistance (Pa s/m^3).
    pub resistance: Option<f64>,
    /// Windkessel proximal resistance (Pa s/m^3).
    pub proximal: Option<f64>,
    /// Windkessel compliance (m^3/Pa).
    pub compliance: Option<f64>,
    /// Windkessel distal resistance (Pa s/m^3).
    pub distal: Option<f64>,
    /// Pressure downstream of a resistance or Windkessel (Pa), default 0.
    #[serde(default)]
    pub distal_pressure: f64,
}

impl OutletSpec {
    /// The model this entry (number `k` in the file) describes, after checking its values.
    pub fn model(&self, k: usize) -> Result<OutletModel> {
        let field = |name: &str| format!("outlets[{k}].{name}");
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(Error::parameter(field(name), format!("must be a positive number, got {v}")))
            }
        };
        if !self.distal_pressure.is_finite() {
            return Err(Error::parameter(field("distal_pressure"), "must be a finite pressure in Pa"));
        }
        match (self.pressure, self.resistance, self.proximal, self.compliance, self.distal) {
            (Some(p), None, None, None, None) if p.is_finite() => Ok(OutletModel::Pressure(p)),
            (None, Some(r), None, None, None) => Ok(OutletModel::Resistance {
                resistance: positive("resistance", r)?,
                distal_pressure: self.distal_pressure,
            }),
            (None, None, Some(rp), Some(c), Some(rd)) => Ok(OutletModel::Rcr {
                proximal: positive("proximal", rp)?,
                compliance: positive("compliance", c)?,
                distal: positive("distal", rd)?,
                distal_pressure: self.distal_pressure,
            }),
            _ => Err(Error::parameter(
                format!("outlets[{k}]"),
                format!(
                    "port {:?}: give exactly one model: `pressure` (Pa), or `resistance` (Pa s/m^3), or \
                     `proximal`, `compliance` and `distal` (an RCR Windkessel), all finite",
                    self.port
                ),
            )),
        }
    }
}

/// Windkessels for every outlet from physiological targets: the mean pressure (Pa) at mean flow
/// `mean_flow` (m^3/s), the total compliance (m^3/Pa) and the flow split, here by Murray's law
/// (share proportional to radius cubed of `radii`, m); `proximal_fraction` of each outlet's
/// resistance is proximal.
pub fn windkessels_from_targets(
    radii: &[f64],
    mean_pressure: f64,
    mean_flow: f64,
    total_compliance: f64,
    proximal_fraction: f64,
) -> Result<Vec<OutletModel>> {
    for (field, v) in [
        ("windkessel.mean_pressure", mean_pressure),
        ("windkessel.total_compliance", total_compliance),
        ("inflow.flow_rate", mean_flow),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::parameter(field, format!("must be a positive number, got {v}")));
        }
    }
    if !(0.0..1.0).contains(&proximal_fraction) {
        return Err(Error::parameter(
            "windkessel.proximal_fraction",
            format!("must be in [0, 1), got {proximal_fraction}"),
        ));
    }
    let cubes: f64 = radii.iter().map(|r| r.powi(3)).sum();
    Ok(radii
        .iter()
        .map(|r| {
            let split = r.powi(3) / cubes;
            let total = mean_pressure / (mean_flow * split);
            OutletModel::Rcr {
                proximal: proximal_fraction * total,
                compliance: total_compliance * split,
                distal: (1.0 - proximal_fraction) * total,
                distal_pressure: 0.0,
            }
        })
        .collect())
}

/// The running state of an outlet: its model, the Windkessel capacitor pressure and the pressure
/// it imposes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlet {
    /// The model.
    pub model: OutletModel,
    /// Windkessel capacitor pressure Pc (Pa); unused by the other models.
    pub capacitor: f64,
    /// Pressure imposed on the 3D flow (Pa).
    pub imposed: f64,
}

impl Outlet {
    /// An outlet starting from the state it would have at a steady flow `flow` (m^3/s).
    pub fn new(model: OutletModel, flow: f64) -> Self {
        let capacitor = match model {
            OutletModel::Rcr { distal, distal_pressure, .. } => distal_pressure + flow * distal,
            _ => 0.0,
        };
        let mut outlet = Outlet { model, capacitor, imposed: 0.0 };
        outlet.imposed = outlet.pressure(flow);
        outlet
    }

    /// The resistance (Pa s/m^3) through which the imposed pressure answers the flow at once.
    fn instant_resistance(&self) -> f64 {
        match self.model {
            OutletModel::Pressure(_) => 0.0,
            OutletModel::Resistance { resistance, .. } => resistance,
            OutletModel::Rcr { proximal, .. } => proximal,
        }
    }

    /// The pressure (Pa) at outflow `flow` (m^3/s), without advancing the state.
    pub fn pressure(&self, flow: f64) -> f64 {
        match self.model {
            OutletModel::Pressure(p) => p,
            OutletModel::Resistance { resistance, distal_pressure } => distal_pressure + resistance * flow,
            OutletModel::Rcr { proximal, .. } => self.capacitor + proximal * flow,
        }
    }

    /// Advances the state over `dt` (s) at outflow `flow` (m^3/s) and returns the pressure (Pa) to
    /// impose next. The capacitor is integrated exactly for a flow constant over the step. An explicit
    /// coupling through a resistance R much larger than the outlet's characteristic impedance
    /// `impedance` = rho c / A (Pa s/m^3, of the lattice's sound speed) is unstable: the pressure
    /// moves towards the model's by the share Z / (Z + R) each step, which converges to the same
    /// pressure with a lag of about R / Z steps.
    pub fn advance(&mut self, flow: f64, dt: f64, impedance: f64) -> f64 {
        if let OutletModel::Rcr { compliance, distal, distal_pressure, .. } = self.model {
            let decay = (-dt / (distal * compliance)).exp();
            let target = distal_pressure + flow * distal;
            self.capacitor = target + (self.capacitor - target) * decay;
        }
        let share = 1.0 / (1.0 + self.instant_resistance() / impedance);
        self.imposed += (self.pressure(flow) - self.imposed) * share;
        self.imposed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Complex;
    use std::f64::consts::PI;

    #[test]
    fn rcr_driven_by_a_sine_follows_its_analytic_impedance() {
        let (rp, c, rd) = (1e7, 1e-9, 9e7);
        let mut o = Outlet::new(
            OutletModel::Rcr { proximal: rp, compliance: c, distal: rd, distal_pressure: 0.0 },
            1e-6,
        );
        let (period, steps) = (0.8, 8000);
        let omega = 2.0 * PI / period;
        let dt = period / steps as f64;
        let flow = |t: f64| 1e-6 + 0.5e-6 * (omega * t).sin();
        let mut fourier = Complex::new(0.0, 0.0);
        for k in 0..10 * steps {
            let t = k as f64 * dt;
            let p = o.advance(flow(t), dt, f64::INFINITY);
            if k >= 9 * steps {
                fourier += Complex::from_polar(p, -omega * (t + dt)) * (2.0 / steps as f64);
            }
        }
        // Q1 = -0.5e-6 i (a sine); Z = Rp + Rd / (1 + i w Rd C).
        let z = Complex::new(rp, 0.0) + Complex::new(rd, 0.0) / Complex::new(1.0, omega * rd * c);
        let measured = fourier / Complex::new(0.0, -0.5e-6);
        println!(
            "|Z| {:.4e} vs {:.4e}, phase {:.3} vs {:.3} degrees",
            measured.norm(),
            z.norm(),
            measured.arg().to_degrees(),
            z.arg().to_degrees()
        );
        assert!((measured.norm() / z.norm() - 1.0).abs() < 1e-3);
        assert!((measured.arg() - z.arg()).to_degrees().abs() < 0.5);
    }

    #[test]
    fn bad_outlet_values_name_the_field() {
        let spec = |rp: f64| OutletSpec {
            port: "outlet".into(),
            pressure: None,
            resistance: None,
            proximal: Some(rp),
            compliance: Some(1e-9),
            distal: Some(1e8),
            distal_pressure: 0.0,
        };
        let e = spec(-1.0).model(2).unwrap_err().to_string();
        println!("error: {e}");
        assert!(e.contains("outlets[2].proximal"));
        let both = OutletSpec { pressure: Some(0.0), ..spec(1e7) };
        assert!(both.model(0).unwrap_err().to_string().contains("exactly one"));
        let w = windkessels_from_targets(&[2e-3, 1e-3], 12000.0, 1e-6, 1e-9, 0.1).unwrap();
        let OutletModel::Rcr { proximal, distal, compliance, .. } = w[0] else { panic!() };
        // Murray split 8/9: R = 12000 / (8/9 1e-6).
        assert!(((proximal + distal) / (12000.0 / (8.0 / 9.0 * 1e-6)) - 1.0).abs() < 1e-12);
        assert!((compliance / (8.0 / 9.0 * 1e-9) - 1.0).abs() < 1e-12);
        assert!(windkessels_from_targets(&[1e-3], -1.0, 1e-6, 1e-9, 0.1).is_err());
    }
}
