//! GPU access through wgpu: adapters, devices and the software-adapter policy.

mod bandwidth;
mod context;
pub(crate) mod kernels;

pub use bandwidth::triad_bandwidth;
pub use context::{AdapterSummary, GpuContext, list_adapters, open};
