//! Wall shear stress (WSS) and pressure on the lumen surface, from the non-equilibrium stress of the
//! near-wall cells (no finite differences), and their cycle averages: TAWSS, OSI, RRT.
//!
//! At each wall vertex, every stress component is fitted by least squares with a linear function of
//! position over the fluid cells within a few lattice spacings, and the fit is evaluated at the
//! vertex: the stress is extrapolated to the wall rather than read half a spacing inside it.

use crate::geometry::Surface;
use crate::lattice::Lattice;
use crate::units::LatticeUnits;
use nalgebra::{Matrix3, Matrix4, Point3, Vector3, Vector4};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Radius (lattice spacings) of the cells each wall vertex fits its stress from.
const FIT_RADIUS: f64 = 2.5;
/// Fewest cells a linear fit uses; vertices with fewer fall back to a distance-weighted mean.
const MIN_FIT_CELLS: usize = 8;

/// Where and how the wall quantities are sampled: the surface's wall vertices, their outward
/// normals and, for each, the weights that evaluate the local linear fit of cell values at it.
pub struct WallSampler {
    /// Indices of the sampled (wall) vertices in the surface.
    pub vertices: Vec<u32>,
    /// Outward unit normal at each sampled vertex.
    pub normals: Vec<Vector3<f64>>,
    /// Wall area each sampled vertex stands for (m²): a third of its wall triangles' areas.
    pub areas: Vec<f64>,
    /// Per sampled vertex: (cell, weight) pairs.
    stencils: Vec<Vec<(u32, f64)>>,
}

/// Wall shear stress (Pa) and pressure (Pa, relative to the outlet reference) at the sampled vertices.
#[derive(Serialize, Deserialize)]
pub struct WallSample {
    /// WSS vector at each sampled vertex (Pa): the tangential traction the blood exerts on the wall.
    pub wss: Vec<Vector3<f64>>,
    /// Pressure at each sampled vertex (Pa).
    pub pressure: Vec<f64>,
}

impl WallSampler {
    /// Prepares sampling on the wall triangles (tag 0 in `tags`) of `surface` from `lattice`'s cells.
    pub fn new(surface: &Surface, tags: &[u16], lattice: &Lattice) -> Self {
        let n = surface.vertices.len();
        let mut normal = vec![Vector3::zeros(); n];
        let mut on_wall = vec![false; n];
        let mut area = vec![0.0; n];
        for (t, tag) in surface.triangles.iter().zip(tags) {
            if *tag != 0 {
                continue;
            }
            let [a, b, c] = t.map(|v| surface.vertices[v as usize]);
            let area_normal = (b - a).cross(&(c - a));
            for &v in t {
                normal[v as usize] += area_normal;
                on_wall[v as usize] = true;
                area[v as usize] += area_normal.norm() / 6.0;
            }
        }
        let vertices: Vec<u32> = (0..n as u32).filter(|&v| on_wall[v as usize]).collect();
        let normals: Vec<Vector3<f64>> = vertices
            .iter()
            .map(|&v| normal[v as usize].try_normalize(0.0).unwrap_or_else(Vector3::z))
            .collect();
        let grid = lattice.grid;
        let stencils = vertices
            .par_iter()
            .map(|&v| {
                let p = surface.vertices[v as usize];
                stencil(lattice, &grid, p)
            })
            .collect();
        let areas = vertices.iter().map(|&v| area[v as usize]).collect();
        WallSampler { vertices, normals, areas, stencils }
    }

    /// WSS and pressure at the sampled vertices from the cells' non-equilibrium second moments
    /// `stress` (see `Solver::stress`) and `moments` (drho, u).
    pub fn sample(&self, stress: &[[f32; 6]], moments: &[[f32; 4]], units: &LatticeUnits) -> WallSample {
        // sigma = -(1 - 1/(2 tau)) Pi^neq, in Pa through the lattice pressure unit rho (dx/dt)^2.
        let to_pa = units.density_kg_m3 * (units.dx_m / units.dt_s).powi(2);
        let factor = -(1.0 - 0.5 / units.tau) * to_pa;
        let (wss, pressure) = self
            .stencils
            .par_iter()
            .zip(&self.normals)
            .map(|(st, n)| {
                let mut s = [0.0f64; 6];
                let mut drho = 0.0;
                for &(c, w) in st {
                    for (k, v) in stress[c as usize].iter().enumerate() {
                        s[k] += w * f64::from(*v);
                    }
                    drho += w * f64::from(moments[c as usize][0]);
                }
                let sigma = Matrix3::new(s[0], s[3], s[4], s[3], s[1], s[5], s[4], s[5], s[2]) * factor;
                // The blood's traction on the wall is -sigma n for the outward normal n.
                let traction = -(sigma * n);
                (traction - n * traction.dot(n), units.pressure_to_si(drho))
            })
            .unzip();
        WallSample { wss, pressure }
    }
}

/// The (cell, weight) pairs that evaluate at `p` the linear least-squares fit of cell values over
/// the cells within `FIT_RADIUS` spacings (a distance-weighted mean where too few cells are found).
fn stencil(lattice: &Lattice, grid: &crate::lattice::Grid, p: Point3<f64>) -> Vec<(u32, f64)> {
    let dx = grid.dx;
    let rel = (p - grid.origin) / dx;
    let reach = FIT_RADIUS.ceil() as i64 + 1;
    let mut near: Vec<(u32, Vector3<f64>)> = Vec::new();
    let centre = rel.map(|v| v.round() as i64);
    for k in centre.z - reach..=centre.z + reach {
        for j in centre.y - reach..=centre.y + reach {
            for i in centre.x - reach..=centre.x + reach {
                if i < 0 || j < 0 || k < 0 {
                    continue;
                }
                let (i, j, k) = (i as usize, j as usize, k as usize);
                if i >= grid.dims[0] || j >= grid.dims[1] || k >= grid.dims[2] {
                    continue;
                }
                let g = grid.index(i, j, k) as u32;
                if let Ok(cell) = lattice.cells.binary_search(&g) {
                    let d = Vector3::new(i as f64, j as f64, k as f64) - rel;
                    if d.norm() <= FIT_RADIUS {
                        near.push((cell as u32, d));
                    }
                }
            }
        }
    }
    if near.len() >= MIN_FIT_CELLS {
        // Value(p + d dx) = a + b . d: the weights of a at d = 0 are the first row of (X^T X)^-1 X^T.
        let xtx: Matrix4<f64> =
            near.iter().map(|(_, d)| Vector4::new(1.0, d.x, d.y, d.z)).map(|x| x * x.transpose()).sum();
        if let Some(inv) = xtx.try_inverse()
            && xtx.determinant().abs() > 1e-6 * xtx.trace().powi(4)
        {
            let row = inv.row(0).transpose();
            return near.iter().map(|(c, d)| (*c, row.dot(&Vector4::new(1.0, d.x, d.y, d.z)))).collect();
        }
    }
    let weights: Vec<f64> = near.iter().map(|(_, d)| 1.0 / (d.norm() + 0.5)).collect();
    let total: f64 = weights.iter().sum();
    near.iter().zip(weights).map(|((c, _), w)| (*c, w / total.max(f64::MIN_POSITIVE))).collect()
}

/// Cycle averages of the wall quantities: TAWSS (Pa), OSI, RRT (1/Pa) and mean pressure (Pa).
#[derive(Default, Serialize, Deserialize)]
pub struct WallAverages {
    sum_wss: Vec<Vector3<f64>>,
    sum_magnitude: Vec<f64>,
    sum_pressure: Vec<f64>,
    weight: f64,
}

impl WallAverages {
    /// Adds a sample that stands for `duration` (s) of the averaging window.
    pub fn add(&mut self, sample: &WallSample, duration: f64) {
        if self.sum_wss.is_empty() {
            self.sum_wss = vec![Vector3::zeros(); sample.wss.len()];
            self.sum_magnitude = vec![0.0; sample.wss.len()];
            self.sum_pressure = vec![0.0; sample.wss.len()];
        }
        for (k, w) in sample.wss.iter().enumerate() {
            self.sum_wss[k] += w * duration;
            self.sum_magnitude[k] += w.norm() * duration;
            self.sum_pressure[k] += sample.pressure[k] * duration;
        }
        self.weight += duration;
    }

    /// Time-averaged WSS magnitude (Pa) at each vertex.
    pub fn tawss(&self) -> Vec<f64> {
        self.sum_magnitude.iter().map(|m| m / self.weight.max(f64::MIN_POSITIVE)).collect()
    }

    /// Oscillatory shear index 0.5 (1 - |mean WSS| / mean |WSS|) at each vertex, in [0, 0.5].
    pub fn osi(&self) -> Vec<f64> {
        self.sum_wss
            .iter()
            .zip(&self.sum_magnitude)
            .map(|(v, m)| if *m > 0.0 { 0.5 * (1.0 - v.norm() / m).max(0.0) } else { 0.0 })
            .collect()
    }

    /// Relative residence time 1 / ((1 - 2 OSI) TAWSS) = 1 / |mean WSS| (1/Pa) at each vertex.
    pub fn rrt(&self) -> Vec<f64> {
        self.sum_wss.iter().map(|v| self.weight / v.norm().max(f64::MIN_POSITIVE)).collect()
    }

    /// Time-averaged pressure (Pa) at each vertex.
    pub fn pressure(&self) -> Vec<f64> {
        self.sum_pressure.iter().map(|p| p / self.weight.max(f64::MIN_POSITIVE)).collect()
    }

    /// True when no sample was added.
    pub fn is_empty(&self) -> bool {
        self.weight == 0.0
    }
}

/// TAWSS below this (Pa) marks disturbed, low-shear flow (shared/VALIDATION.md: about 0.4 Pa).
pub const LOW_TAWSS_PA: f64 = 0.4;

/// Wall shear stress figures of a run.
#[derive(Debug, Clone, Serialize)]
pub struct WallShearSummary {
    /// Wall vertices sampled.
    pub vertices: usize,
    /// Largest time-averaged WSS magnitude (Pa).
    pub tawss_max_pa: f64,
    /// Area-weighted mean TAWSS (Pa).
    pub tawss_mean_pa: f64,
    /// TAWSS below which 5% of the wall area lies (Pa).
    pub tawss_p5_pa: f64,
    /// TAWSS below which 95% of the wall area lies (Pa).
    pub tawss_p95_pa: f64,
    /// Largest oscillatory shear index.
    pub osi_max: f64,
    /// Threshold of the low-shear area (Pa).
    pub low_tawss_threshold_pa: f64,
    /// Share of the wall area with TAWSS below the threshold.
    pub low_tawss_area_fraction: f64,
}

impl WallShearSummary {
    /// The peak and low-shear figures of `averages` on the vertices of `sampler`.
    pub fn of(sampler: &WallSampler, averages: &WallAverages) -> Self {
        let tawss = averages.tawss();
        let osi = averages.osi();
        let area: f64 = sampler.areas.iter().sum();
        let low: f64 =
            sampler.areas.iter().zip(&tawss).filter(|(_, t)| **t < LOW_TAWSS_PA).map(|(a, _)| a).sum();
        WallShearSummary {
            vertices: sampler.vertices.len(),
            tawss_max_pa: tawss.iter().copied().fold(0.0, f64::max),
            tawss_mean_pa: sampler.areas.iter().zip(&tawss).map(|(a, t)| a * t).sum::<f64>()
                / area.max(f64::MIN_POSITIVE),
            tawss_p5_pa: area_percentile(&tawss, &sampler.areas, 0.05),
            tawss_p95_pa: area_percentile(&tawss, &sampler.areas, 0.95),
            osi_max: osi.iter().copied().fold(0.0, f64::max),
            low_tawss_threshold_pa: LOW_TAWSS_PA,
            low_tawss_area_fraction: low / area.max(f64::MIN_POSITIVE),
        }
    }
}

/// The value below which a `fraction` of the area lies, for `values` on vertices of `areas`.
fn area_percentile(values: &[f64], areas: &[f64], fraction: f64) -> f64 {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let goal = fraction * areas.iter().sum::<f64>();
    let mut covered = 0.0;
    for &k in &order {
        covered += areas[k];
        if covered >= goal {
            return values[k];
        }
    }
    order.last().map_or(0.0, |&k| values[k])
}

/// The wall fields of a run on every vertex of the lumen surface (zero on the caps' own vertices):
/// the averaging window's indices and pressures, and the last WSS vector.
#[derive(Debug, Clone)]
pub struct WallFields {
    /// Time-averaged WSS magnitude (Pa).
    pub tawss_pa: Vec<f32>,
    /// Oscillatory shear index.
    pub osi: Vec<f32>,
    /// Relative residence time (1/Pa).
    pub rrt_per_pa: Vec<f32>,
    /// Time-averaged pressure relative to the run's pressure reference (Pa).
    pub pressure_pa: Vec<f32>,
    /// Time-averaged lumen pressure on an absolute level (Pa): the load of the wall mechanics.
    pub pressure: Vec<f32>,
    /// The last WSS vector (Pa).
    pub wss_pa: Vec<[f32; 3]>,
}

impl WallFields {
    /// The fields of `averages` and `last` on a surface of `vertices` vertices sampled by `sampler`;
    /// `level` (Pa) lifts the relative pressure to the absolute one.
    pub fn new(
        vertices: usize,
        sampler: &WallSampler,
        averages: &WallAverages,
        last: &WallSample,
        level: f64,
    ) -> Self {
        let spread = |values: Vec<f64>| {
            let mut out = vec![0.0f32; vertices];
            for (&v, x) in sampler.vertices.iter().zip(values) {
                out[v as usize] = x as f32;
            }
            out
        };
        let mut wss_pa = vec![[0.0f32; 3]; vertices];
        for (&v, w) in sampler.vertices.iter().zip(&last.wss) {
            wss_pa[v as usize] = [w.x as f32, w.y as f32, w.z as f32];
        }
        let pressure_pa = spread(averages.pressure());
        let pressure = pressure_pa.iter().map(|v| (f64::from(*v) + level) as f32).collect();
        WallFields {
            tawss_pa: spread(averages.tawss()),
            osi: spread(averages.osi()),
            rrt_per_pa: spread(averages.rrt()),
            pressure_pa,
            pressure,
            wss_pa,
        }
    }
}
