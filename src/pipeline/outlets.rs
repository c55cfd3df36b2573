//! The outlets: their models (pressure, resistance, RCR Windkessel), and their coupling to the
//! lattice step by step through a gauge pressure that follows them.

use crate::case::Case;
use crate::error::{Error, Result};
use crate::geometry::vessel::Vessel;
use crate::lattice::MAX_PORTS;
use crate::lattice::PortRole;
use crate::physiology::{Inflow, Outlet, OutletModel, windkessels_from_targets};
use crate::units::LatticeUnits;

/// The model of every port (None at inlets) and its share of the mean flow (Murray's law among the
/// outlets): from `[[outlets]]`, else `[windkessel]`, else zero pressure.
pub fn outlet_models(case: &Case, vessel: &Vessel, mean_flow: f64) -> Result<Vec<Option<(Outlet, f64)>>> {
    if vessel.ports.len() > MAX_PORTS {
        return Err(Error::parameter(
            "geometry",
            format!("{} ports; the solver handles at most {MAX_PORTS}", vessel.ports.len()),
        ));
    }
    for (k, spec) in case.outlets.iter().enumerate() {
        let found = vessel.ports.iter().zip(&vessel.roles).find(|(p, _)| p.name == spec.port);
        match found {
            Some((_, PortRole::Pressure)) => {}
            Some(_) => {
                return Err(Error::parameter(
                    format!("outlets[{k}].port"),
                    format!("{:?} is an inlet", spec.port),
                ));
            }
            None => {
                let names: Vec<&str> = vessel.ports.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::parameter(
                    format!("outlets[{k}].port"),
                    format!("no port named {:?}; the ports are {}", spec.port, names.join(", ")),
                ));
            }
        }
    }
    let outlet_ports: Vec<usize> =
        (0..vessel.ports.len()).filter(|&k| vessel.roles[k] == PortRole::Pressure).collect();
    let cubes: f64 = outlet_ports.iter().map(|&k| vessel.ports[k].radius.powi(3)).sum();
    let auto = match &case.windkessel {
        Some(w) => Some(windkessels_from_targets(
            &outlet_ports.iter().map(|&k| vessel.ports[k].radius).collect::<Vec<_>>(),
            w.mean_pressure,
            mean_flow,
            w.total_compliance,
            w.proximal_fraction,
        )?),
        None => None,
    };
    (0..vessel.ports.len())
        .map(|k| {
            let Some(j) = outlet_ports.iter().position(|&o| o == k) else { return Ok(None) };
            let share = vessel.ports[k].radius.powi(3) / cubes;
            let listed = case.outlets.iter().enumerate().find(|(_, o)| o.port == vessel.ports[k].name);
            let model = match (listed, &auto) {
                (Some((i, spec)), _) => spec.model(i)?,
                (None, Some(models)) => models[j],
                (None, None) => OutletModel::Pressure(0.0),
            };
            Ok(Some((Outlet::new(model, share * mean_flow), share)))
        })
        .collect()
}

/// How far (Pa) the outlet models' pressures swing apart over a run: the flow's range (from rest to
/// its peak) through each outlet's impedance at the waveform's fundamental (its total resistance
/// when steady), largest minus smallest over the outlets.
/// The lattice carries only these differences: the common swing rides on the gauge (`run`).
pub fn outlet_pressure_swing(outlets: &[Option<(Outlet, f64)>], inflow: &Inflow) -> f64 {
    let peak = inflow.mean_flow * inflow.peak_factor() / 2.0;
    let omega = inflow.period().map_or(0.0, |p| 2.0 * std::f64::consts::PI / p);
    let (lo, hi) = outlets
        .iter()
        .flatten()
        .map(|(o, share)| {
            let impedance = match o.model {
                OutletModel::Pressure(_) => 0.0,
                OutletModel::Resistance { resistance, .. } => resistance,
                OutletModel::Rcr { proximal, compliance, distal, .. } => {
                    let distal = nalgebra::Complex::new(distal, 0.0)
                        / nalgebra::Complex::new(1.0, omega * distal * compliance);
                    (nalgebra::Complex::new(proximal, 0.0) + distal).norm()
                }
            };
            impedance * share * peak.max(inflow.mean_flow)
        })
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), s| (lo.min(s), hi.max(s)));
    hi - lo.min(hi)
}

/// The outlet models coupled to a run: the pressure each imposes, and the gauge the lattice's
/// pressures are relative to.
///
/// The lattice carries pressures relative to a gauge that follows the outlets: incompressible flow
/// sees only pressure differences, while the weakly compressible lattice would store a uniform
/// swing of the outlet pressures (kPa over a cycle) as density, an artificial compliance. The gauge
/// is the mean of the outlets' imposed pressures; reported pressures add back `gauge - reference`.
pub struct OutletCoupling {
    /// The model of every port (None at inlets) and its share of the mean flow.
    pub outlets: Vec<Option<(Outlet, f64)>>,
    /// Pressure each outlet model imposes (Pa, absolute; NaN at inlets).
    pub imposed: Vec<f64>,
    /// Density imposed at each port's pressure links (lattice units).
    pub port_rho: [f32; MAX_PORTS],
    /// Pressure (Pa) the lattice pressures are relative to: the outlets' pressure at the mean flow.
    pub reference: f64,
    /// The mean of the outlets' imposed pressures (Pa).
    gauge: f64,
    /// True when some outlet has a resistance or Windkessel: the coupling runs every step.
    pub coupled: bool,
    /// Characteristic impedance rho c / A of each port at the lattice's speed of sound (Pa s/m^3).
    impedance: Vec<f64>,
    /// Pa per unit of lattice density.
    pressure_unit: f64,
}

impl OutletCoupling {
    /// The coupling of `outlets` (from the set-up) on `vessel` at `units`, at the mean flow of
    /// `inflow`.
    pub fn new(
        outlets: Vec<Option<(Outlet, f64)>>,
        vessel: &Vessel,
        inflow: &Inflow,
        units: &LatticeUnits,
    ) -> Self {
        let at_mean: Vec<f64> =
            outlets.iter().flatten().map(|(o, share)| o.pressure(share * inflow.mean_flow)).collect();
        let reference = at_mean.iter().sum::<f64>() / at_mean.len().max(1) as f64;
        let imposed = outlets
            .iter()
            .map(|o| o.as_ref().map_or(f64::NAN, |(o, share)| o.pressure(share * inflow.mean_flow)))
            .collect();
        let coupled = outlets.iter().flatten().any(|(o, _)| !matches!(o.model, OutletModel::Pressure(_)));
        let sound = units.sound_speed_m_s();
        let impedance = vessel
            .ports
            .iter()
            .map(|p| units.density_kg_m3 * sound / (std::f64::consts::PI * p.radius * p.radius))
            .collect();
        let mut coupling = OutletCoupling {
            outlets,
            imposed,
            port_rho: [1.0; MAX_PORTS],
            reference,
            gauge: 0.0,
            coupled,
            impedance,
            pressure_unit: units.pressure_to_si(1.0),
        };
        coupling.regauge();
        coupling
    }

    /// Sets the gauge to the mean of the imposed pressures and each outlet's density relative to it.
    fn regauge(&mut self) {
        let modelled: Vec<usize> = (0..self.outlets.len()).filter(|&k| self.outlets[k].is_some()).collect();
        let count = modelled.len().max(1);
        self.gauge = modelled.iter().map(|&k| self.imposed[k]).sum::<f64>() / count as f64;
        for &k in &modelled {
            self.port_rho[k] = (1.0 + (self.imposed[k] - self.gauge) / self.pressure_unit) as f32;
        }
    }

    /// Advances each outlet model by one step `dt` (s) under the mass flux `flows` (lattice units)
    /// through its section, and sets the pressures of the next step.
    pub fn advance(&mut self, flows: &[f64], units: &LatticeUnits) {
        for (k, o) in self.outlets.iter_mut().enumerate() {
            if let Some((o, _)) = o {
                self.imposed[k] = o.advance(units.flow_to_si(flows[k]), units.dt_s, self.impedance[k]);
            }
        }
        self.regauge();
    }

    /// Restores each outlet's state (capacitor and imposed pressure, Pa) from a checkpoint.
    pub fn restore(&mut self, states: &[(f64, f64)]) {
        for ((o, imposed), &(capacitor, pressure)) in
            self.outlets.iter_mut().zip(&mut self.imposed).zip(states)
        {
            if let Some((o, _)) = o {
                o.capacitor = capacitor;
                o.imposed = pressure;
                *imposed = pressure;
            }
        }
        self.regauge();
    }

    /// Each port's state for a checkpoint: (capacitor, imposed pressure), zero at inlets.
    pub fn states(&self) -> Vec<(f64, f64)> {
        self.outlets
            .iter()
            .map(|o| o.as_ref().map_or((0.0, 0.0), |(o, _)| (o.capacitor, o.imposed)))
            .collect()
    }

    /// What reported pressures add to the lattice's (Pa): the gauge minus the reference.
    pub fn shift(&self) -> f64 {
        self.gauge - self.reference
    }

    /// The absolute pressure level the lattice pressures sit on, when outlet models fix it.
    pub fn levelled(&self) -> Option<f64> {
        self.coupled.then_some(self.reference)
    }
}
