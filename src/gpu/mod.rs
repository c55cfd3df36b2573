//! GPU access through wgpu: adapters, devices and the software-adapter policy.

mod context;

pub use context::{AdapterSummary, GpuContext, list_adapters, open};
