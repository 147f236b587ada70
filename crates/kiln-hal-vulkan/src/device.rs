//! The Vulkan logical device: one compute queue, buffers, and command submission.
//!
//! - Memory: on integrated GPUs and CPU devices (lavapipe) buffers are host-visible and stay
//!   mapped, so host transfers are plain copies. On discrete GPUs (or with the device option
//!   `memory=device-local`) buffers are device-local and host transfers go through a staging
//!   buffer and a copy command.
//! - Submission: [`Device::queue_execute`] records one Vulkan command buffer (a descriptor set
//!   and push constants per dispatch, a pipeline barrier per HAL barrier), submits it signalling
//!   a timeline semaphore, and waits for that value. One submission runs at a time.
//! - Shaders report invalid input (an out-of-range gather index) through a status word the
//!   device zeroes before and checks after each submission.
//! - With `VK_LAYER_KHRONOS_validation` enabled, any validation error reported while loading or
//!   running fails that call (see [`crate::instance`]).

use crate::executable::VulkanExecutable;
use crate::instance::{Instance, PhysicalDevice};
use ash::vk;
use kiln_runtime::hal::{
    check_transfer, host_range, Buffer, Command, CommandBuffer, Device, DeviceInfo, DeviceOptions,
    Executable, HostBytes, Semaphore,
};
use kiln_runtime::HalError;
use std::any::Any;
use std::sync::{Arc, Mutex};

pub(crate) fn device_error(what: &str, e: vk::Result) -> HalError {
    HalError::Device(format!("vulkan: {what} failed: {e}"))
}

/// The queue and what submitting to it needs; behind one lock.
struct Queue {
    queue: vk::Queue,
    pool: vk::CommandPool,
    timeline: vk::Semaphore,
    value: u64,
}

/// The parts of a device that buffers and executables keep alive.
pub(crate) struct Shared {
    pub raw: ash::Device,
    queue: Mutex<Queue>,
    /// Property flags of each memory type, indexed like Vulkan's memory type bits.
    memory_types: Vec<vk::MemoryPropertyFlags>,
    pub pipeline_cache: vk::PipelineCache,
    pub instance: Arc<Instance>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let q = self.queue.get_mut().unwrap_or_else(|e| e.into_inner());
        // SAFETY: buffers and executables hold an Arc to this, so none is alive; queued work
        // is waited for before anything is destroyed.
        unsafe {
            let _ = self.raw.device_wait_idle();
            self.raw.destroy_semaphore(q.timeline, None);
            self.raw.destroy_command_pool(q.pool, None);
            self.raw.destroy_pipeline_cache(self.pipeline_cache, None);
            self.raw.destroy_device(None);
        }
    }
}

/// Where a buffer's memory lives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Host-visible, mapped.
    Mapped,
    /// Device-local; host transfers are staged.
    DeviceLocal,
}

impl Shared {
    /// Fails if the validation layer reported an error since the last check.
    pub fn check_validation(&self, during: &str) -> Result<(), HalError> {
        let errors = self.instance.take_validation_errors();
        if errors.is_empty() {
            return Ok(());
        }
        Err(HalError::Device(format!(
            "vulkan validation error during {during}: {}",
            errors.join("; ")
        )))
    }

    fn create_buffer(
        self: &Arc<Self>,
        len: usize,
        writable: bool,
        placement: Placement,
    ) -> Result<VulkanBuffer, HalError> {
        let dev = &self.raw;
        // Vulkan has no empty buffers; an empty kiln buffer still owns a tiny one.
        let size = len
            .max(4)
            .checked_next_multiple_of(4)
            .ok_or(HalError::OutOfMemory { bytes: len })? as u64;
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
        let allowed = |i: usize| req.memory_type_bits & (1 << i) != 0;
        let pick = |want: vk::MemoryPropertyFlags, avoid: vk::MemoryPropertyFlags| {
            (0..self.memory_types.len()).find(|&i| {
                allowed(i)
                    && self.memory_types[i].contains(want)
                    && !self.memory_types[i].intersects(avoid)
            })
        };
        let host = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
        let local = vk::MemoryPropertyFlags::DEVICE_LOCAL;
        let none = vk::MemoryPropertyFlags::empty();
        let chosen = match placement {
            Placement::Mapped => pick(host | local, none).or_else(|| pick(host, none)),
            Placement::DeviceLocal => {
                pick(local, vk::MemoryPropertyFlags::HOST_VISIBLE).or_else(|| pick(local, none))
            }
        };
        let Some(memory_type) = chosen else {
            return Err(cleanup(
                vk::Result::ERROR_FEATURE_NOT_PRESENT,
                "finding a memory type for a buffer",
            ));
        };
        let alloc = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(memory_type as u32);
        // SAFETY: a valid allocate-info for this device.
        let memory = unsafe { dev.allocate_memory(&alloc, None) }
            .map_err(|e| cleanup(e, "vkAllocateMemory"))?;
        // SAFETY: memory and buffer belong to this device.
        if let Err(e) = unsafe { dev.bind_buffer_memory(buffer, memory, 0) } {
            // SAFETY: unused memory of this device.
            unsafe { dev.free_memory(memory, None) };
            return Err(cleanup(e, "vkBindBufferMemory"));
        }
        let ptr = if placement == Placement::Mapped {
            // SAFETY: host-visible memory of this device, not mapped yet.
            match unsafe { dev.map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty()) }
            {
                Ok(p) => {
                    // SAFETY: `size` bytes are mapped; new kiln buffers read as zeros.
                    unsafe { std::ptr::write_bytes(p as *mut u8, 0, size as usize) };
                    p as *mut u8
                }
                Err(e) => {
                    // SAFETY: unused memory of this device.
                    unsafe { dev.free_memory(memory, None) };
                    return Err(cleanup(e, "vkMapMemory"));
                }
            }
        } else {
            std::ptr::null_mut()
        };
        let b = VulkanBuffer {
            shared: self.clone(),
            buffer,
            memory,
            ptr,
            len,
            size,
            writable,
        };
        if placement == Placement::DeviceLocal {
            self.submit(|cb| {
                // SAFETY: recording into a command buffer in the recording state.
                unsafe { self.raw.cmd_fill_buffer(cb, b.buffer, 0, vk::WHOLE_SIZE, 0) };
                Ok(())
            })?;
        }
        Ok(b)
    }

    /// Records commands with `record`, submits them, and waits until they finish.
    pub fn submit(
        &self,
        record: impl FnOnce(vk::CommandBuffer) -> Result<(), HalError>,
    ) -> Result<(), HalError> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let dev = &self.raw;
        let alloc = vk::CommandBufferAllocateInfo::default()
            .command_pool(q.pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: the pool belongs to this device and is used under the queue lock.
        let cb = unsafe { dev.allocate_command_buffers(&alloc) }
            .map_err(|e| device_error("vkAllocateCommandBuffers", e))?[0];
        let result = (|| {
            let begin = vk::CommandBufferBeginInfo::default()
                .flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
            // SAFETY: a fresh command buffer.
            unsafe { dev.begin_command_buffer(cb, &begin) }
                .map_err(|e| device_error("vkBeginCommandBuffer", e))?;
            record(cb)?;
            // Make every write visible to the host and to later transfers.
            let barrier = vk::MemoryBarrier::default()
                .src_access_mask(vk::AccessFlags::SHADER_WRITE | vk::AccessFlags::TRANSFER_WRITE)
                .dst_access_mask(
                    vk::AccessFlags::HOST_READ
                        | vk::AccessFlags::TRANSFER_READ
                        | vk::AccessFlags::SHADER_READ,
                );
            // SAFETY: recording state; the barrier structs outlive the call.
            unsafe {
                dev.cmd_pipeline_barrier(
                    cb,
                    vk::PipelineStageFlags::COMPUTE_SHADER | vk::PipelineStageFlags::TRANSFER,
                    vk::PipelineStageFlags::HOST
                        | vk::PipelineStageFlags::TRANSFER
                        | vk::PipelineStageFlags::COMPUTE_SHADER,
                    vk::DependencyFlags::empty(),
                    &[barrier],
                    &[],
                    &[],
                );
                dev.end_command_buffer(cb)
            }
            .map_err(|e| device_error("vkEndCommandBuffer", e))?;
            q.value += 1;
            let values = [q.value];
            let mut timeline =
                vk::TimelineSemaphoreSubmitInfo::default().signal_semaphore_values(&values);
            let (cbs, sems) = ([cb], [q.timeline]);
            let submit = vk::SubmitInfo::default()
                .command_buffers(&cbs)
                .signal_semaphores(&sems)
                .push_next(&mut timeline);
            // SAFETY: a recorded command buffer and this device's queue and semaphore.
            unsafe { dev.queue_submit(q.queue, &[submit], vk::Fence::null()) }
                .map_err(|e| device_error("vkQueueSubmit", e))?;
            let wait = vk::SemaphoreWaitInfo::default()
                .semaphores(&sems)
                .values(&values);
            // SAFETY: waiting on this device's timeline semaphore.
            unsafe { dev.wait_semaphores(&wait, u64::MAX) }
                .map_err(|e| device_error("vkWaitSemaphores", e))
        })();
        // SAFETY: after a failed wait the work may still be pending: wait for the whole device
        // before freeing. Otherwise the command buffer is finished or was never submitted.
        unsafe {
            if result.is_err() {
                let _ = dev.device_wait_idle();
            }
            dev.free_command_buffers(q.pool, &[cb])
        };
        result
    }

    /// Copies `size` bytes between buffers and waits.
    fn copy(
        &self,
        src: vk::Buffer,
        src_offset: u64,
        dst: vk::Buffer,
        dst_offset: u64,
        size: u64,
    ) -> Result<(), HalError> {
        if size == 0 {
            return Ok(());
        }
        self.submit(|cb| {
            let region = vk::BufferCopy {
                src_offset,
                dst_offset,
                size,
            };
            // SAFETY: both buffers are live and the region is in bounds (checked by callers).
            unsafe { self.raw.cmd_copy_buffer(cb, src, dst, &[region]) };
            Ok(())
        })
    }
}

/// Device limits the driver checks executables and dispatches against.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub storage_offset_alignment: u64,
    pub max_storage_range: u64,
    pub max_invocations: u32,
    pub max_shared_memory: u32,
    pub max_group_count: [u32; 3],
    pub max_push_constants: u32,
    pub max_workgroup_size_x: u32,
    pub max_storage_buffers: u32,
}

/// A Vulkan device created by the `vulkan` driver.
pub struct VulkanDevice {
    shared: Arc<Shared>,
    physical: PhysicalDevice,
    placement: Placement,
    features: kiln_spirv::Features,
    limits: Limits,
    /// The status word shaders write errors to (host-visible); the lock is held from zeroing
    /// it to reading it back, so concurrent submissions never see each other's errors.
    status: Mutex<VulkanBuffer>,
}

impl VulkanDevice {
    pub fn new(
        instance: Arc<Instance>,
        physical: PhysicalDevice,
        options: &DeviceOptions,
    ) -> Result<VulkanDevice, HalError> {
        let name = &physical.info.name;
        if physical.api_version < vk::API_VERSION_1_2 {
            return Err(HalError::Device(format!(
                "vulkan: '{name}' supports Vulkan {}.{}, kiln needs 1.2",
                vk::api_version_major(physical.api_version),
                vk::api_version_minor(physical.api_version)
            )));
        }
        let placement = match options.get("memory") {
            None | Some("auto") if physical.discrete => Placement::DeviceLocal,
            None | Some("auto") | Some("host-visible") => Placement::Mapped,
            Some("device-local") => Placement::DeviceLocal,
            Some(other) => {
                return Err(HalError::BadOption(format!(
                    "memory={other} (vulkan accepts memory=auto, host-visible or device-local)"
                )))
            }
        };
        // SAFETY: the physical device belongs to this live instance.
        let families = unsafe {
            instance
                .raw
                .get_physical_device_queue_family_properties(physical.handle)
        };
        let family = families
            .iter()
            .position(|f| f.queue_flags.contains(vk::QueueFlags::COMPUTE))
            .ok_or_else(|| HalError::Device(format!("vulkan: '{name}' has no compute queue")))?
            as u32;
        // Optional features kiln's shaders may use, enabled where the device has them.
        let mut v11 = vk::PhysicalDeviceVulkan11Features::default();
        let mut v12 = vk::PhysicalDeviceVulkan12Features::default();
        let mut all = vk::PhysicalDeviceFeatures2::default()
            .push_next(&mut v11)
            .push_next(&mut v12);
        // SAFETY: as above; the chained structs outlive the call.
        unsafe {
            instance
                .raw
                .get_physical_device_features2(physical.handle, &mut all)
        };
        let int64 = all.features.shader_int64 == vk::TRUE;
        let float64 = all.features.shader_float64 == vk::TRUE;
        let features = kiln_spirv::Features {
            int64,
            storage16: v11.storage_buffer16_bit_access == vk::TRUE,
            storage8: v12.storage_buffer8_bit_access == vk::TRUE,
            float64,
        };
        if v12.timeline_semaphore != vk::TRUE {
            return Err(HalError::Device(format!(
                "vulkan: '{name}' lacks timeline semaphores"
            )));
        }
        let mut enable11 = vk::PhysicalDeviceVulkan11Features::default()
            .storage_buffer16_bit_access(features.storage16);
        let mut enable12 = vk::PhysicalDeviceVulkan12Features::default()
            .storage_buffer8_bit_access(features.storage8)
            .timeline_semaphore(true);
        let core = vk::PhysicalDeviceFeatures::default()
            .shader_int64(int64)
            .shader_float64(features.float64);
        let priorities = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(family)
            .queue_priorities(&priorities)];
        let info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_features(&core)
            .push_next(&mut enable11)
            .push_next(&mut enable12);
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
        // SAFETY: objects of the device just created; destroyed by `Shared::drop`.
        let made = unsafe {
            let queue = raw.get_device_queue(family, 0);
            let pool = raw.create_command_pool(
                &vk::CommandPoolCreateInfo::default()
                    .queue_family_index(family)
                    .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER),
                None,
            );
            let mut kind = vk::SemaphoreTypeCreateInfo::default()
                .semaphore_type(vk::SemaphoreType::TIMELINE)
                .initial_value(0);
            let timeline = raw.create_semaphore(
                &vk::SemaphoreCreateInfo::default().push_next(&mut kind),
                None,
            );
            let cache = raw.create_pipeline_cache(&vk::PipelineCacheCreateInfo::default(), None);
            match (pool, timeline, cache) {
                (Ok(pool), Ok(timeline), Ok(cache)) => Ok((queue, pool, timeline, cache)),
                (pool, timeline, cache) => {
                    let e = [pool.err(), timeline.err(), cache.err()]
                        .into_iter()
                        .flatten()
                        .next()
                        .unwrap_or(vk::Result::ERROR_UNKNOWN);
                    let _ = pool.map(|p| raw.destroy_command_pool(p, None));
                    let _ = timeline.map(|t| raw.destroy_semaphore(t, None));
                    let _ = cache.map(|c| raw.destroy_pipeline_cache(c, None));
                    raw.destroy_device(None);
                    Err(device_error("creating the queue's objects", e))
                }
            }
        };
        let (queue, pool, timeline, pipeline_cache) = made?;
        let shared = Arc::new(Shared {
            raw,
            queue: Mutex::new(Queue {
                queue,
                pool,
                timeline,
                value: 0,
            }),
            memory_types,
            pipeline_cache,
            instance,
        });
        let l = physical.limits;
        let limits = Limits {
            storage_offset_alignment: l.min_storage_buffer_offset_alignment.max(1),
            max_storage_range: l.max_storage_buffer_range as u64,
            max_invocations: l.max_compute_work_group_invocations,
            max_shared_memory: l.max_compute_shared_memory_size,
            max_group_count: l.max_compute_work_group_count,
            max_push_constants: l.max_push_constants_size,
            max_workgroup_size_x: l.max_compute_work_group_size[0],
            max_storage_buffers: l
                .max_per_stage_descriptor_storage_buffers
                .min(l.max_descriptor_set_storage_buffers),
        };
        let status = Mutex::new(shared.create_buffer(4, true, Placement::Mapped)?);
        shared.check_validation("device creation")?;
        Ok(VulkanDevice {
            shared,
            physical,
            placement,
            features,
            limits,
            status,
        })
    }

    /// Records one dispatch.
    fn record_dispatch(
        &self,
        cb: vk::CommandBuffer,
        pool: vk::DescriptorPool,
        status: &VulkanBuffer,
        command: &Command,
    ) -> Result<(), HalError> {
        let Command::Dispatch {
            executable,
            entry_point,
            workgroups,
            bindings,
            params,
        } = command
        else {
            return Ok(());
        };
        let exe = executable
            .as_any()
            .downcast_ref::<VulkanExecutable>()
            .ok_or_else(|| {
                HalError::Invalid("vulkan: the executable belongs to another device type".into())
            })?;
        let entry = exe.entry(*entry_point as usize)?;
        let bound = entry.entry.bind(params).map_err(|why| {
            HalError::Invalid(format!("vulkan: entry point '{}': {why}", entry.name))
        })?;
        if workgroups.contains(&0) {
            return Ok(());
        }
        for (d, (&n, &max)) in workgroups
            .iter()
            .zip(&self.limits.max_group_count)
            .enumerate()
        {
            if n > max {
                return Err(HalError::Invalid(format!(
                    "vulkan: {} workgroups along dimension {d} exceed the device's {max}",
                    n
                )));
            }
        }
        if bindings.len() != entry.bindings.len() {
            return Err(HalError::Invalid(format!(
                "vulkan: entry point '{}' takes {} bindings, got {}",
                entry.name,
                entry.bindings.len(),
                bindings.len()
            )));
        }
        let dev = &self.shared.raw;
        let layouts = [entry.set_layout];
        let alloc = vk::DescriptorSetAllocateInfo::default()
            .descriptor_pool(pool)
            .set_layouts(&layouts);
        // SAFETY: the pool was sized for every dispatch of this submission.
        let set = unsafe { dev.allocate_descriptor_sets(&alloc) }
            .map_err(|e| device_error("vkAllocateDescriptorSets", e))?[0];
        let mut infos = Vec::with_capacity(bindings.len() + 1);
        let mut push: Vec<u8> = Vec::with_capacity(4 * (bindings.len() + params.len()).max(1));
        for (i, ((b, &t), &extent)) in bindings
            .iter()
            .zip(&entry.bindings)
            .zip(&bound.binding_extents)
            .enumerate()
        {
            if (b.length as u64) < extent {
                return Err(HalError::Invalid(format!(
                    "vulkan: binding {i} of '{}' has {} bytes; the shader reads up to byte {extent}",
                    entry.name, b.length
                )));
            }
            let buf = b
                .buffer
                .as_any()
                .downcast_ref::<VulkanBuffer>()
                .ok_or_else(|| {
                    HalError::Invalid(format!("vulkan: binding {i} is not a Vulkan buffer"))
                })?;
            if b.length == 0 {
                // Nothing is read or written: bind the buffer's first word (Vulkan needs a
                // nonempty range inside the buffer).
                infos.push(vk::DescriptorBufferInfo {
                    buffer: buf.buffer,
                    offset: 0,
                    range: 4,
                });
                push.extend_from_slice(&0u32.to_le_bytes());
                continue;
            }
            let offset = b.offset as u64;
            let aligned = offset - offset % self.limits.storage_offset_alignment;
            let rem = offset - aligned;
            let size = t.byte_size() as u64;
            if !rem.is_multiple_of(size) {
                return Err(HalError::Invalid(format!(
                    "vulkan: binding {i} starts at byte {offset}, not a multiple of its {size}-byte elements"
                )));
            }
            let range = (rem + b.length as u64).min(buf.size - aligned);
            if range > self.limits.max_storage_range {
                return Err(HalError::Invalid(format!(
                    "vulkan: binding {i} spans {range} bytes; the device binds at most {}",
                    self.limits.max_storage_range
                )));
            }
            infos.push(vk::DescriptorBufferInfo {
                buffer: buf.buffer,
                offset: aligned,
                range,
            });
            push.extend_from_slice(&((rem / size) as u32).to_le_bytes());
        }
        if entry.reports_errors {
            infos.push(vk::DescriptorBufferInfo {
                buffer: status.buffer,
                offset: 0,
                range: 4,
            });
        }
        // Sizes follow the biases; `bind` checked that each fits an i32.
        for &p in params.iter() {
            push.extend_from_slice(&(p as i32).to_le_bytes());
        }
        if push.is_empty() {
            push.extend_from_slice(&[0; 4]);
        }
        let writes: Vec<vk::WriteDescriptorSet> = infos
            .iter()
            .enumerate()
            .map(|(i, info)| {
                vk::WriteDescriptorSet::default()
                    .dst_set(set)
                    .dst_binding(i as u32)
                    .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                    .buffer_info(std::slice::from_ref(info))
            })
            .collect();
        // SAFETY: the set, buffers, pipeline and layout are live objects of this device, and
        // the command buffer is recording.
        unsafe {
            dev.update_descriptor_sets(&writes, &[]);
            dev.cmd_bind_pipeline(cb, vk::PipelineBindPoint::COMPUTE, entry.pipeline);
            dev.cmd_bind_descriptor_sets(
                cb,
                vk::PipelineBindPoint::COMPUTE,
                entry.pipeline_layout,
                0,
                &[set],
                &[],
            );
            dev.cmd_push_constants(
                cb,
                entry.pipeline_layout,
                vk::ShaderStageFlags::COMPUTE,
                0,
                &push,
            );
            dev.cmd_dispatch(cb, workgroups[0], workgroups[1], workgroups[2]);
        }
        Ok(())
    }
}

fn record_barrier(dev: &ash::Device, cb: vk::CommandBuffer) {
    let barrier = vk::MemoryBarrier::default()
        .src_access_mask(vk::AccessFlags::SHADER_WRITE)
        .dst_access_mask(vk::AccessFlags::SHADER_READ | vk::AccessFlags::SHADER_WRITE);
    // SAFETY: the command buffer is recording; the barrier outlives the call.
    unsafe {
        dev.cmd_pipeline_barrier(
            cb,
            vk::PipelineStageFlags::COMPUTE_SHADER,
            vk::PipelineStageFlags::COMPUTE_SHADER,
            vk::DependencyFlags::empty(),
            &[barrier],
            &[],
            &[],
        )
    };
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
        vec![kiln_spirv::FORMAT.into()]
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(self.shared.create_buffer(
            bytes,
            true,
            self.placement,
        )?))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        let range = host_range(bytes.bytes(), offset, length)?;
        let mut b = self.shared.create_buffer(length, true, self.placement)?;
        b.write(0, range)?;
        b.writable = false;
        Ok(Arc::new(b))
    }
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        if format != kiln_spirv::FORMAT {
            return Err(HalError::UnsupportedFormat {
                format: format.into(),
                supported: kiln_spirv::FORMAT.into(),
            });
        }
        let exe = kiln_spirv::Executable::decode(data).map_err(|e| HalError::BadExecutable {
            format: format.into(),
            reason: e.to_string(),
        })?;
        let loaded = VulkanExecutable::new(self.shared.clone(), &exe, self.features, &self.limits)?;
        self.shared.check_validation("executable loading")?;
        Ok(Arc::new(loaded))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        let cmds = commands.commands();
        let mut sets = 0u32;
        let mut descriptors = 0u32;
        for c in cmds {
            if let Command::Dispatch { bindings, .. } = c {
                sets += 1;
                descriptors += bindings.len() as u32 + 1;
            }
        }
        if sets > 0 {
            let dev = &self.shared.raw;
            let sizes = [vk::DescriptorPoolSize {
                ty: vk::DescriptorType::STORAGE_BUFFER,
                descriptor_count: descriptors,
            }];
            let info = vk::DescriptorPoolCreateInfo::default()
                .max_sets(sets)
                .pool_sizes(&sizes);
            // SAFETY: a valid create-info; the pool is destroyed below after the work is done.
            let pool = unsafe { dev.create_descriptor_pool(&info, None) }
                .map_err(|e| device_error("vkCreateDescriptorPool", e))?;
            let status = self.status.lock().unwrap_or_else(|e| e.into_inner());
            status.write(0, &[0; 4])?;
            let result = self.shared.submit(|cb| {
                for c in cmds {
                    match c {
                        Command::Barrier => record_barrier(dev, cb),
                        dispatch => self.record_dispatch(cb, pool, &status, dispatch)?,
                    }
                }
                Ok(())
            });
            // SAFETY: the submission has finished (or never started); the sets die with it.
            unsafe { dev.destroy_descriptor_pool(pool, None) };
            result?;
            self.shared.check_validation("command execution")?;
            let mut word = [0u8; 4];
            status.read(0, &mut word)?;
            if let Some(message) = kiln_spirv::ErrorCode::describe(u32::from_le_bytes(word)) {
                return Err(HalError::Device(format!("vulkan: {message}")));
            }
        }
        if let Some((s, v)) = signal {
            s.signal(v);
        }
        Ok(())
    }
}

/// A Vulkan buffer: mapped host-visible memory, or device-local memory reached by staging.
pub struct VulkanBuffer {
    shared: Arc<Shared>,
    pub(crate) buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    /// The mapping, or null for device-local memory.
    ptr: *mut u8,
    len: usize,
    /// Bytes of the Vulkan buffer (at least `len`, a multiple of 4).
    size: u64,
    writable: bool,
}

// SAFETY: the mapping is plain memory; access is ordered by the HAL (host transfers happen
// between submissions).
unsafe impl Send for VulkanBuffer {}
// SAFETY: as above.
unsafe impl Sync for VulkanBuffer {}

impl Drop for VulkanBuffer {
    fn drop(&mut self) {
        // SAFETY: objects of this device, no longer used by any command (submissions are
        // waited for before they return).
        unsafe {
            if !self.ptr.is_null() {
                self.shared.raw.unmap_memory(self.memory);
            }
            self.shared.raw.destroy_buffer(self.buffer, None);
            self.shared.raw.free_memory(self.memory, None);
        }
    }
}

impl VulkanBuffer {
    /// A mapped staging buffer of `n` bytes.
    fn staging(&self, n: usize) -> Result<VulkanBuffer, HalError> {
        self.shared.create_buffer(n, true, Placement::Mapped)
    }
}

impl Buffer for VulkanBuffer {
    fn len(&self) -> usize {
        self.len
    }
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, out.len(), false)?;
        if self.ptr.is_null() {
            let stage = self.staging(out.len())?;
            self.shared.copy(
                self.buffer,
                offset as u64,
                stage.buffer,
                0,
                out.len() as u64,
            )?;
            return stage.read(0, out);
        }
        // SAFETY: in bounds of the mapping.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), out.as_mut_ptr(), out.len()) };
        Ok(())
    }
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, data.len(), true)?;
        if self.ptr.is_null() {
            let stage = self.staging(data.len())?;
            stage.write(0, data)?;
            return self.shared.copy(
                stage.buffer,
                0,
                self.buffer,
                offset as u64,
                data.len() as u64,
            );
        }
        // SAFETY: in bounds of the mapping.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
