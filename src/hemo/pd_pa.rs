//! Pd/Pa (FFR-like) along the centerlines: the time-averaged pressure under each centerline point,
//! relative to the proximal (aortic) pressure.

use crate::lattice::{Centerline, Lattice};
use crate::units::LatticeUnits;
use serde::{Deserialize, Serialize};

/// The lowest distal-to-proximal pressure ratio along the centerlines.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PdPa {
    /// Pd / Pa: (Pa - (p(proximal) - p(here))) / Pa.
    pub ratio: f64,
    /// Port index of the outlet whose centerline it lies on.
    pub outlet: usize,
    /// Arc length from the inlet (m).
    pub abscissa_m: f64,
    /// Position (m).
    pub point_m: [f64; 3],
    /// The proximal (aortic) pressure used (Pa, absolute).
    pub aortic_pressure_pa: f64,
}

/// Pd/Pa along the centerlines: the fluid cell under each centerline point, and the time-averaged
/// pressure there (with each sample, for the peaks of drops between two points).
#[derive(Clone, Serialize, Deserialize)]
pub struct CenterlinePressure {
    /// (line, point index, cell) of every point that lies on a fluid cell.
    probes: Vec<(usize, usize, u32)>,
    /// Time-weighted sum of the pressure (Pa) at each probe, and the total weight (s).
    sums: Vec<f64>,
    weight: f64,
    /// The pressure (Pa) at each probe in each sample added since the last reset.
    samples: Vec<Vec<f32>>,
}

impl CenterlinePressure {
    /// The probes of `lines` on `lattice`, with nothing summed yet.
    pub fn new(lines: &[Centerline], lattice: &Lattice) -> Self {
        let grid = lattice.grid;
        let mut probes = Vec::new();
        for (l, line) in lines.iter().enumerate() {
            for (i, p) in line.points.iter().enumerate() {
                let idx = ((p - grid.origin) / grid.dx).map(|v| v.round());
                if idx.iter().any(|&v| v < 0.0) {
                    continue;
                }
                let [a, b, c] = [idx.x as usize, idx.y as usize, idx.z as usize];
                if a >= grid.dims[0] || b >= grid.dims[1] || c >= grid.dims[2] {
                    continue;
                }
                if let Ok(cell) = lattice.cells.binary_search(&(grid.index(a, b, c) as u32)) {
                    probes.push((l, i, cell as u32));
                }
            }
        }
        let sums = vec![0.0; probes.len()];
        CenterlinePressure { probes, sums, weight: 0.0, samples: Vec::new() }
    }

    /// Adds the pressure (lattice pressure plus `shift`, Pa) of `moments` at every probe, weighted
    /// by `duration` (s).
    pub fn add(&mut self, moments: &[[f32; 4]], units: &LatticeUnits, shift: f64, duration: f64) {
        let mut sample = Vec::with_capacity(self.probes.len());
        for (s, &(_, _, cell)) in self.sums.iter_mut().zip(&self.probes) {
            let p = units.pressure_to_si(f64::from(moments[cell as usize][0])) + shift;
            *s += p * duration;
            sample.push(p as f32);
        }
        self.samples.push(sample);
        self.weight += duration;
    }

    /// The largest drop (Pa) over the samples from the probe of line `line` nearest abscissa `from`
    /// (m) to the one nearest `to`: the peak of p(from, t) - p(to, t); NaN without probes there.
    pub fn peak_drop(&self, lines: &[Centerline], line: usize, from: f64, to: f64) -> f64 {
        let nearest = |x: f64| {
            (0..self.probes.len()).filter(|&j| self.probes[j].0 == line).min_by(|&a, &b| {
                let s = |j: usize| (lines[line].abscissa[self.probes[j].1] - x).abs();
                s(a).total_cmp(&s(b))
            })
        };
        match (nearest(from), nearest(to)) {
            (Some(a), Some(b)) => {
                self.samples.iter().map(|p| f64::from(p[a] - p[b])).fold(f64::NAN, f64::max)
            }
            _ => f64::NAN,
        }
    }

    /// Forgets the sums (a new averaging window).
    pub fn reset(&mut self) {
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.weight = 0.0;
        self.samples.clear();
    }

    /// The lowest Pd/Pa along the lines and where it is. The proximal (aortic) pressure is the first
    /// probe's absolute pressure, lattice pressure plus `reference` (Pa), when outlet models fix
    /// the pressure level, else `aortic` (Pa).
    /// Pd/Pa at every probe of the lines. The proximal (aortic) pressure is the first probe's
    /// absolute pressure, lattice pressure plus `reference` (Pa), when outlet models fix the
    /// pressure level, else `aortic` (Pa).
    pub fn ratios(&self, lines: &[Centerline], aortic: f64, reference: Option<f64>) -> Vec<PdPa> {
        let w = self.weight.max(f64::MIN_POSITIVE);
        let mut out = Vec::new();
        for (l, line) in lines.iter().enumerate() {
            let on: Vec<(usize, f64)> = self
                .probes
                .iter()
                .zip(&self.sums)
                .filter(|((pl, _, _), _)| *pl == l)
                .map(|((_, i, _), s)| (*i, s / w))
                .collect();
            let Some(&(_, proximal)) = on.first() else { continue };
            let aortic = reference.map_or(aortic, |r| r + proximal);
            out.extend(on.into_iter().map(|(i, p)| {
                let x = line.points[i];
                PdPa {
                    ratio: (aortic - (proximal - p)) / aortic,
                    outlet: line.outlet,
                    abscissa_m: line.abscissa[i],
                    point_m: [x.x, x.y, x.z],
                    aortic_pressure_pa: aortic,
                }
            }));
        }
        out
    }
}

/// The lowest of the Pd/Pa values `all`, and the one at the centerline point nearest `point` (m).
pub fn lowest_and_at(all: &[PdPa], point: Option<[f64; 3]>) -> (Option<PdPa>, Option<PdPa>) {
    {
        let lowest = all.iter().min_by(|a, b| a.ratio.total_cmp(&b.ratio)).cloned();
        let distance = |a: &PdPa, p: [f64; 3]| (0..3).map(|k| (a.point_m[k] - p[k]).powi(2)).sum::<f64>();
        let at =
            point.and_then(|p| all.iter().min_by(|a, b| distance(a, p).total_cmp(&distance(b, p))).cloned());
        (lowest, at)
    }
}
