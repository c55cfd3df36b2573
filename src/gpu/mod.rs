//! GPU access through wgpu: adapters, devices, the software-adapter policy, the backend choice and
//! what every compute kernel needs (workgroup sizes, pipelines, readback).

mod bandwidth;
mod choice;
mod context;
pub(crate) mod kernels;

pub use bandwidth::{TriadParams, triad_bandwidth, triad_shader_source};
pub use choice::{BackendChoice, Resolved, resolve};
pub use context::{AdapterSummary, GpuContext, list_adapters, on_adapter, open};
