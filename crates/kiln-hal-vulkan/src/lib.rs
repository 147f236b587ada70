//! The `vulkan` HAL driver.
//!
//! - The Vulkan loader (`libvulkan.so.1`) is opened at run time: a build without Vulkan
//!   installed still lists the driver, which then fails to initialise with the reason.
//! - Devices are named by their Vulkan device UUID (`vulkan://<uuid>`), as IREE does, and
//!   describe their limits, subgroup size and memory heaps for `--dump_devices`.
//! - Buffers are host-visible and mapped, or device-local with staging on discrete GPUs (see
//!   `device.rs`).
//! - Executables are `vulkan-spirv-fb` ([`kiln_spirv`]): one compute pipeline per entry point,
//!   built through a pipeline cache after checking features and limits (`executable.rs`).
//! - Device option `memory=auto|host-visible|device-local` (e.g.
//!   `--device=vulkan://<uuid>?memory=device-local`) overrides where buffers live.
//!
//! With Mesa's lavapipe (`mesa-vulkan-drivers`) everything here runs on the CPU, in CI too.

mod device;
mod executable;
mod instance;

pub use device::{VulkanBuffer, VulkanDevice};
pub use executable::VulkanExecutable;
use kiln_runtime::hal::{Device, DeviceInfo, DeviceOptions, Driver};
use kiln_runtime::HalError;
use std::sync::Arc;

/// The `vulkan` driver.
#[derive(Default)]
pub struct VulkanDriver;

impl Driver for VulkanDriver {
    fn name(&self) -> &str {
        "vulkan"
    }
    fn description(&self) -> &str {
        "Vulkan 1.x (dynamic)"
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        Ok(instance::Instance::new()?
            .physical_devices()?
            .into_iter()
            .map(|p| p.info)
            .collect())
    }
    fn create_device(
        &self,
        path: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        let instance = instance::Instance::new()?;
        let devices = instance.physical_devices()?;
        let chosen = if path.is_empty() {
            devices.first()
        } else {
            devices.iter().find(|d| d.info.path == path)
        };
        let physical = chosen.cloned().ok_or_else(|| HalError::UnknownDevice {
            driver: "vulkan".into(),
            path: path.into(),
            available: if devices.is_empty() {
                "none".into()
            } else {
                devices
                    .iter()
                    .map(|d| d.info.path.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })?;
        Ok(Arc::new(VulkanDevice::new(instance, physical, options)?))
    }
}

/// Registers the `vulkan` driver.
pub fn register(registry: &mut kiln_runtime::DriverRegistry) {
    registry.register(Arc::new(VulkanDriver));
}
