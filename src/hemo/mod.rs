//! Hemodynamic measurements on the flow solution: flow rates and mean pressures on cross-sections,
//! wall shear stress and its cycle indices on the lumen surface, Pd/Pa along the centerlines.

mod pd_pa;
mod sections;
mod wall;

pub use pd_pa::{CenterlinePressure, PdPa, lowest_and_at};
pub use sections::{Section, SectionMeasure, measure, measure_cells, section_cells};
pub use wall::{LOW_TAWSS_PA, WallAverages, WallFields, WallSample, WallSampler, WallShearSummary};
