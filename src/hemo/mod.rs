//! Hemodynamic measurements on the flow solution: flow rates and mean pressures on cross-sections.

mod sections;

pub use sections::{Section, SectionMeasure, measure};
