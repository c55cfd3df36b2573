//! Cross-sections of the lattice: volume flow and mean pressure through a plane disc.

use crate::lattice::Lattice;
use crate::units::LatticeUnits;
use nalgebra::{Point3, Vector3};
use serde::{Deserialize, Serialize};

/// A plane disc across the vessel; flow is counted positive along `normal`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Section {
    /// A point of the plane, the disc centre (m).
    pub center: Point3<f64>,
    /// Unit normal, the direction of positive flow.
    pub normal: Vector3<f64>,
    /// Disc radius (m): cells farther from the centre line are ignored.
    pub radius: f64,
}

/// What a section measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SectionMeasure {
    /// Volume flow through the section at the reference density, i.e. mass flow / rho0 (m^3/s): the
    /// quantity the lattice conserves (its density varies slightly with pressure).
    pub flow_m3_s: f64,
    /// Mean pressure over the section's cells, relative to the outlet (Pa).
    pub mean_pressure_pa: f64,
    /// Number of lattice cells in the section.
    pub cells: usize,
}

/// Measures flow and mean pressure on the plane, interpolating linearly between the node layers on
/// either side: each cell within one spacing of the plane weighs `1 - |s|/dx`, so a plane through a
/// node layer takes exactly that layer and a plane midway takes half of each neighbouring layer.
/// `moments` are the solver's (drho, ux, uy, uz) per cell in lattice units.
pub fn measure(
    lattice: &Lattice,
    moments: &[[f32; 4]],
    units: &LatticeUnits,
    section: &Section,
) -> SectionMeasure {
    measure_cells(&section_cells(lattice, section), section.normal, moments, units)
}

/// [`measure`] on a section's cells and weights found once by [`section_cells`]; `normal` is the
/// section's.
pub fn measure_cells(
    cells: &[(u32, f64)],
    normal: Vector3<f64>,
    moments: &[[f32; 4]],
    units: &LatticeUnits,
) -> SectionMeasure {
    let (mut flux, mut pressure, mut weight) = (0.0f64, 0.0f64, 0.0f64);
    for &(cell, w) in cells {
        let m = moments[cell as usize];
        let u = Vector3::new(m[1] as f64, m[2] as f64, m[3] as f64);
        flux += w * (1.0 + m[0] as f64) * u.dot(&normal);
        pressure += w * m[0] as f64;
        weight += w;
    }
    SectionMeasure {
        flow_m3_s: units.flow_to_si(flux),
        mean_pressure_pa: if weight > 0.0 { units.pressure_to_si(pressure / weight) } else { f64::NAN },
        cells: cells.len(),
    }
}

/// The cells of a section and their weights `1 - |s|/dx` (s: distance to the plane), those within
/// one spacing of the plane and the disc's radius.
pub fn section_cells(lattice: &Lattice, section: &Section) -> Vec<(u32, f64)> {
    let dx = lattice.grid.dx;
    (0..lattice.len())
        .filter_map(|cell| {
            let d = lattice.point(cell) - section.center;
            let s = d.dot(&section.normal);
            let w = 1.0 - s.abs() / dx;
            (w > 0.0 && (d - section.normal * s).norm() <= section.radius).then_some((cell as u32, w))
        })
        .collect()
}
