//! Hemodynamic measurements on the flow solution: flow rates and mean pressures on cross-sections,
//! wall shear stress and its cycle indices on the lumen surface.

mod sections;
mod wall;

pub use sections::{Section, SectionMeasure, measure, measure_cells, section_cells};
pub use wall::{WallAverages, WallSample, WallSampler};
