//! The Vulkan logical device: one compute queue and host-visible buffers.
//!
//! Buffers use host-visible, coherent memory (device-local too where the device has such a
//! type, as integrated GPUs and lavapipe do), mapped for their whole life, so host transfers
//! are plain copies.

use crate::instance::{Instance, PhysicalDevice};
use ash::vk;
use kiln_runtime::hal::{
    check_transfer, host_range, Buffer, Command, CommandBuffer, Device, DeviceInfo, Executable,
    HostBytes, Semaphore,
};
use kiln_runtime::HalError;
use std::any::Any;
use std::sync::Arc;

fn device_error(what: &str, e: vk::Result) -> HalError {
    HalError::Device(format!("vulkan: {what} failed: {e}"))
}

/// The parts of a device that buffers keep alive.
struct Shared {
    raw: ash::Device,
    /// Dropped after `raw` is destroyed (declaration order), keeping the instance alive.
    _instance: Arc<Instance>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: buffers hold an Arc to this, so none is alive; wait for queued work first.
        unsafe {
            let _ = self.raw.device_wait_idle();
            self.raw.destroy_device(None);
        }
    }
}

/// A Vulkan device created by the `vulkan` driver.
pub struct VulkanDevice {
    shared: Arc<Shared>,
    physical: PhysicalDevice,
    /// Property flags of each memory type, indexed like Vulkan's memory type bits.
    memory_types: Vec<vk::MemoryPropertyFlags>,
}

impl VulkanDevice {
    pub fn new(
        instance: Arc<Instance>,
        physical: PhysicalDevice,
    ) -> Result<VulkanDevice, HalError> {
        // SAFETY: the physical device belongs to this live instance.
        let families = unsafe {
            instance
                .raw
                .get_physical_device_queue_family_properties(physical.handle)
        };
        let family = families
            .iter()
            .position(|f| f.queue_flags.contains(vk::QueueFlags::COMPUTE))
            .ok_or_else(|| {
                HalError::Device(format!(
                    "vulkan: '{}' has no compute queue",
                    physical.info.name
                ))
            })? as u32;
        let priorities = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(family)
            .queue_priorities(&priorities)];
        let info = vk::DeviceCreateInfo::default().queue_create_infos(&queues);
        // SAFETY: `info` and its arrays outlive the call.
        let raw = unsafe { instance.raw.create_device(physical.handle, &info, None) }
            .map_err(|e| device_error("vkCreateDevice", e))?;
        // SAFETY: as above.
        let memory = unsafe {
            instance
                .raw
                .get_physical_device_memory_properties(physical.handle)
        };
        let memory_types = memory.memory_types[..memory.memory_type_count as usize]
            .iter()
            .map(|t| t.property_flags)
            .collect();
        let shared = Arc::new(Shared {
            raw,
            _instance: instance,
        });
        Ok(VulkanDevice {
            shared,
            physical,
            memory_types,
        })
    }

    fn buffer(&self, len: usize, writable: bool) -> Result<VulkanBuffer, HalError> {
        let dev = &self.shared.raw;
        // Vulkan has no empty buffers; an empty kiln buffer still owns a tiny one.
        let size = len
            .max(4)
            .checked_next_multiple_of(4)
            .ok_or_else(|| HalError::Device(format!("cannot allocate {len} bytes")))?
            as u64;
        let usage = vk::BufferUsageFlags::STORAGE_BUFFER
            | vk::BufferUsageFlags::TRANSFER_SRC
            | vk::BufferUsageFlags::TRANSFER_DST;
        let info = vk::BufferCreateInfo::default()
            .size(size)
            .usage(usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE);
        // SAFETY: a live device and a valid create-info.
        let buffer = unsafe { dev.create_buffer(&info, None) }
            .map_err(|e| device_error("vkCreateBuffer", e))?;
        // SAFETY: `buffer` was just created on this device.
        let req = unsafe { dev.get_buffer_memory_requirements(buffer) };
        let cleanup = |e: vk::Result, what: &str| {
            // SAFETY: the buffer is unused.
            unsafe { dev.destroy_buffer(buffer, None) };
            device_error(what, e)
        };
        // Host-visible, coherent memory the buffer accepts; device-local too where there is some.
        let host = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
        let allowed = |i: usize| req.memory_type_bits & (1 << i) != 0;
        let pick = |flags: vk::MemoryPropertyFlags| {
            (0..self.memory_types.len())
                .find(|&i| allowed(i) && self.memory_types[i].contains(flags))
        };
        let Some(memory_type) =
            pick(host | vk::MemoryPropertyFlags::DEVICE_LOCAL).or_else(|| pick(host))
        else {
            return Err(cleanup(
                vk::Result::ERROR_FEATURE_NOT_PRESENT,
                "finding host-visible memory for a buffer",
            ));
        };
        let alloc = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(memory_type as u32);
        // SAFETY: a valid allocate-info for this device.
        let memory = unsafe { dev.allocate_memory(&alloc, None) }
            .map_err(|e| cleanup(e, "vkAllocateMemory"))?;
        // SAFETY: memory and buffer belong to this device; the memory is host-visible.
        let mapped = unsafe {
            dev.bind_buffer_memory(buffer, memory, 0).and_then(|_| {
                dev.map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
            })
        };
        let ptr = match mapped {
            Ok(p) => p as *mut u8,
            Err(e) => {
                // SAFETY: unused objects of this device.
                unsafe { dev.free_memory(memory, None) };
                return Err(cleanup(e, "binding and mapping buffer memory"));
            }
        };
        // SAFETY: `size` bytes are mapped; new kiln buffers read as zeros.
        unsafe { std::ptr::write_bytes(ptr, 0, size as usize) };
        Ok(VulkanBuffer {
            shared: self.shared.clone(),
            buffer,
            memory,
            ptr,
            len,
            writable,
        })
    }
}

impl Device for VulkanDevice {
    fn info(&self) -> DeviceInfo {
        self.physical.info.clone()
    }
    fn driver_name(&self) -> &str {
        "vulkan"
    }
    fn properties(&self) -> Vec<(String, String)> {
        self.physical.properties.clone()
    }
    fn executable_formats(&self) -> Vec<String> {
        vec![]
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(self.buffer(bytes, true)?))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        let range = host_range(bytes.bytes(), offset, length)?;
        let b = self.buffer(length, false)?;
        // SAFETY: the new buffer maps at least `length` bytes and nothing else uses it yet.
        unsafe { std::ptr::copy_nonoverlapping(range.as_ptr(), b.ptr, length) };
        Ok(Arc::new(b))
    }
    fn load_executable(&self, format: &str, _data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        Err(HalError::Invalid(format!("executable format '{format}' is not supported: this build has no vulkan-spirv executables yet")))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        if commands
            .commands()
            .iter()
            .any(|c| matches!(c, Command::Dispatch { .. }))
        {
            return Err(HalError::Invalid(
                "vulkan: no executables can be loaded yet, so nothing can be dispatched".into(),
            ));
        }
        if let Some((s, v)) = signal {
            s.signal(v);
        }
        Ok(())
    }
}

/// A mapped, host-visible Vulkan buffer.
pub struct VulkanBuffer {
    shared: Arc<Shared>,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    ptr: *mut u8,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain memory; access is ordered by the HAL (host transfers happen
// between submissions).
unsafe impl Send for VulkanBuffer {}
// SAFETY: as above.
unsafe impl Sync for VulkanBuffer {}

impl Drop for VulkanBuffer {
    fn drop(&mut self) {
        // SAFETY: objects of this device, no longer used by any command.
        unsafe {
            self.shared.raw.unmap_memory(self.memory);
            self.shared.raw.destroy_buffer(self.buffer, None);
            self.shared.raw.free_memory(self.memory, None);
        }
    }
}

impl Buffer for VulkanBuffer {
    fn len(&self) -> usize {
        self.len
    }
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, out.len(), false)?;
        // SAFETY: in bounds of the mapping.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), out.as_mut_ptr(), out.len()) };
        Ok(())
    }
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, data.len(), true)?;
        // SAFETY: in bounds of the mapping.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
