//! GPU adapter discovery and device creation (wgpu), with the policy on software adapters.

use crate::error::{Error, Result};
use serde::Serialize;

/// A GPU device and queue ready for compute work.
pub struct GpuContext {
    /// The logical device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Description of the adapter in use.
    pub adapter: AdapterSummary,
}

/// What `hemotwin info` and summary.json say about an adapter.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdapterSummary {
    /// Adapter name as the driver reports it.
    pub name: String,
    /// Graphics API backend (Vulkan, Metal, Dx12, Gl).
    pub backend: String,
    /// Device type (DiscreteGpu, IntegratedGpu, Cpu, ...).
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// True for software rasterisers (lavapipe, llvmpipe, WARP), which `auto` skips.
    pub software: bool,
}

fn summarize(info: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
        software: info.device_type == wgpu::DeviceType::Cpu,
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu finds, ordered by preference: hardware before software, Vulkan before others.
fn ranked_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    adapters.sort_by_key(|a| {
        let info = a.get_info();
        let kind = match info.device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => 2,
            wgpu::DeviceType::Cpu => 3,
        };
        (kind, info.backend != wgpu::Backend::Vulkan)
    });
    adapters
}

/// Lists the adapters found, best first.
pub fn list_adapters() -> Vec<AdapterSummary> {
    ranked_adapters(&instance()).iter().map(|a| summarize(&a.get_info())).collect()
}

thread_local! {
    /// The GPU slot of the runs opened on this thread (see [`on_adapter`]).
    static SLOT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every GPU device it opens on this thread placed on adapter `slot` of the usable
/// ones (modulo their number; hardware ones only when there are any): a study's k-th worker runs on
/// the k-th GPU.
pub fn on_adapter<R>(slot: usize, f: impl FnOnce() -> R) -> R {
    let before = SLOT.replace(Some(slot));
    let result = f();
    SLOT.set(before);
    result
}

/// The index (in `software`, one flag per adapter, best first) of the adapter to open: among the
/// usable ones (software only with `allow_software`), the first, or with a `slot` the slot-th
/// hardware one (modulo their number; the software ones when there is no hardware adapter).
fn choose(software: &[bool], allow_software: bool, slot: Option<usize>) -> Option<usize> {
    let usable: Vec<usize> = (0..software.len()).filter(|&i| allow_software || !software[i]).collect();
    let hardware: Vec<usize> = usable.iter().copied().filter(|&i| !software[i]).collect();
    let pool = if hardware.is_empty() { &usable } else { &hardware };
    match slot {
        Some(k) if !pool.is_empty() => Some(pool[k % pool.len()]),
        _ => usable.first().copied(),
    }
}

/// Opens the best adapter (or the one [`on_adapter`] asks for); software adapters only with
/// `allow_software`. The device gets the adapter's own limits so that large lattices fit in one
/// storage buffer where the hardware allows.
pub fn open(allow_software: bool) -> Result<GpuContext> {
    let instance = instance();
    let adapters = ranked_adapters(&instance);
    let found: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
    let software: Vec<bool> =
        adapters.iter().map(|a| a.get_info().device_type == wgpu::DeviceType::Cpu).collect();
    let adapter = choose(&software, allow_software, SLOT.get())
        .and_then(|i| adapters.into_iter().nth(i))
        .ok_or_else(|| {
            Error::Gpu(if found.is_empty() {
                "no GPU adapter found (no Vulkan, Metal or DX12 driver); on Debian install \
                 `mesa-vulkan-drivers libvulkan1` for a software Vulkan driver"
                    .to_string()
            } else {
                format!(
                    "only software adapters found ({}); run.backend = \"gpu\" runs on them",
                    found.join(", ")
                )
            })
        })?;
    let desc = wgpu::DeviceDescriptor {
        label: Some("hemotwin"),
        required_limits: adapter.limits(),
        ..Default::default()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&desc))
        .map_err(|e| Error::Gpu(format!("could not open {}: {e}", adapter.get_info().name)))?;
    Ok(GpuContext { device, queue, adapter: summarize(&adapter.get_info()) })
}

#[cfg(test)]
mod tests {
    use super::choose;

    #[test]
    fn slots_spread_over_the_hardware_adapters() {
        // Two GPUs and lavapipe, best first.
        let software = [false, false, true];
        assert_eq!(choose(&software, false, None), Some(0));
        assert_eq!(
            (0..4).map(|k| choose(&software, true, Some(k))).collect::<Vec<_>>(),
            [0, 1, 0, 1].map(Some)
        );
        // Lavapipe alone: only when software is allowed, every slot on it.
        assert_eq!(choose(&[true], false, Some(1)), None);
        assert_eq!(choose(&[true], true, Some(3)), Some(0));
        assert_eq!(choose(&[], true, None), None);
    }
}
