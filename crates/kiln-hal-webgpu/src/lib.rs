//! The `webgpu` HAL driver: WebGPU through `wgpu` — over Vulkan on Linux and Android (Mesa's
//! lavapipe included, which is how CI runs it), Metal on Apple systems and D3D12 on Windows —
//! running `webgpu-spirv` executables (`webgpu-wgsl-fb`: one WGSL source per kernel, compiled
//! when loaded).
//!
//! - Devices: one per WebGPU adapter wgpu finds, `webgpu://<index>` in wgpu's order
//!   (`WGPU_BACKEND` narrows the backends as for any wgpu program). A device takes its
//!   adapter's best limits and the optional features kernels may use (`SHADER_INT64`, which
//!   integer kernels need). With no adapter the driver is still listed, and using it fails
//!   with the reason.
//! - Buffers: storage buffers the host reaches by copies (`Queue::write_buffer` up, a mapped
//!   staging buffer down), sized to whole 4-byte words as WebGPU requires; host imports are
//!   copied into read-only buffers.
//! - Dispatch follows the format's convention (`kiln_gpu_binary`'s crate docs): each binding
//!   bound from its offset rounded down to the adapter's storage alignment, the remainder
//!   passed as its element bias in the parameter block; the blocks of one submission share
//!   one uniform buffer. WebGPU orders the dispatches of a pass, so barriers need nothing
//!   more. A submission is one command buffer, submitted and waited for; validation errors
//!   and the kernels' status word are checked after.
//!
//! ```no_run
//! use kiln_runtime::hal::{DeviceOptions, Driver};
//! let driver = kiln_hal_webgpu::WebGpuDriver;
//! for info in driver.enumerate_devices()? {
//!     let device = driver.create_device(&info.path, &DeviceOptions::default())?;
//!     println!("webgpu://{} {}", info.path, device.info().name);
//! }
//! # Ok::<(), kiln_runtime::HalError>(())
//! ```

mod device;

pub use device::WebGpuDriver;

/// Adds the `webgpu` driver to `registry`.
pub fn register(registry: &mut kiln_runtime::DriverRegistry) {
    registry.register(std::sync::Arc::new(WebGpuDriver));
}
