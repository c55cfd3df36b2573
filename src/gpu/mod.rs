//! GPU access through wgpu: adapters, devices and the software-adapter policy.

mod context;
pub(crate) mod kernels;

pub use context::{AdapterSummary, GpuContext, list_adapters, open};
