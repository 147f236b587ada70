//! The Vulkan instance and physical-device discovery: loading the loader, listing devices with
//! their UUIDs, and the properties `--dump_devices` prints.

use ash::vk;
use kiln_runtime::hal::DeviceInfo;
use kiln_runtime::HalError;
use std::ffi::CStr;
use std::sync::Arc;

/// A loaded Vulkan loader and an instance; destroyed when the last user drops it.
pub struct Instance {
    pub entry: ash::Entry,
    pub raw: ash::Instance,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: every child object (devices) holds an Arc to this instance, so none is alive.
        unsafe { self.raw.destroy_instance(None) };
    }
}

fn unavailable(reason: impl Into<String>) -> HalError {
    HalError::Unavailable {
        driver: "vulkan".into(),
        reason: reason.into(),
    }
}

impl Instance {
    /// Opens the Vulkan loader and creates an instance for Vulkan 1.2 or later.
    pub fn new() -> Result<Arc<Instance>, HalError> {
        // SAFETY: loading the system Vulkan loader library; its initialisation has no
        // preconditions on our side.
        let entry = unsafe { ash::Entry::load() }.map_err(|e| {
            unavailable(format!("Vulkan loader 'libvulkan.so.1' not available: {e}"))
        })?;
        // SAFETY: a valid entry; querying the version has no preconditions.
        let version = unsafe { entry.try_enumerate_instance_version() }
            .ok()
            .flatten()
            .unwrap_or(vk::API_VERSION_1_0);
        if version < vk::API_VERSION_1_2 {
            return Err(unavailable(format!(
                "the Vulkan loader supports only version {}, kiln needs 1.2",
                version_string(version)
            )));
        }
        let app = vk::ApplicationInfo::default()
            .application_name(c"kiln")
            .engine_name(c"kiln")
            .api_version(vk::API_VERSION_1_2);
        let info = vk::InstanceCreateInfo::default().application_info(&app);
        // SAFETY: `info` and what it points to live across the call.
        let raw = unsafe { entry.create_instance(&info, None) }
            .map_err(|e| unavailable(format!("vkCreateInstance failed: {e}")))?;
        Ok(Arc::new(Instance { entry, raw }))
    }

    pub fn physical_devices(&self) -> Result<Vec<PhysicalDevice>, HalError> {
        // SAFETY: a live instance.
        let handles = unsafe { self.raw.enumerate_physical_devices() }
            .map_err(|e| unavailable(format!("vkEnumeratePhysicalDevices failed: {e}")))?;
        Ok(handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| PhysicalDevice::describe(&self.raw, h, i))
            .collect())
    }
}

/// What kiln knows about one physical device.
#[derive(Clone)]
pub struct PhysicalDevice {
    pub handle: vk::PhysicalDevice,
    pub info: DeviceInfo,
    pub properties: Vec<(String, String)>,
    pub api_version: u32,
}

fn version_string(v: u32) -> String {
    format!(
        "{}.{}.{}",
        vk::api_version_major(v),
        vk::api_version_minor(v),
        vk::api_version_patch(v)
    )
}

/// IREE's UUID spelling: `00000000-1111-2222-3333-444444444444`.
fn uuid_string(u: &[u8; 16]) -> String {
    let hex: Vec<String> = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex[0..4].concat(),
        hex[4..6].concat(),
        hex[6..8].concat(),
        hex[8..10].concat(),
        hex[10..16].concat()
    )
}

fn c_string(chars: &[std::ffi::c_char]) -> String {
    CStr::from_bytes_until_nul(&chars.iter().map(|&c| c as u8).collect::<Vec<u8>>())
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl PhysicalDevice {
    fn describe(
        instance: &ash::Instance,
        handle: vk::PhysicalDevice,
        index: usize,
    ) -> PhysicalDevice {
        let mut id = vk::PhysicalDeviceIDProperties::default();
        let mut driver = vk::PhysicalDeviceDriverProperties::default();
        let mut subgroup = vk::PhysicalDeviceSubgroupProperties::default();
        let mut props2 = vk::PhysicalDeviceProperties2::default()
            .push_next(&mut id)
            .push_next(&mut driver)
            .push_next(&mut subgroup);
        // SAFETY: a handle from this instance; the chained structs outlive the call.
        unsafe { instance.get_physical_device_properties2(handle, &mut props2) };
        let p = props2.properties;
        // SAFETY: as above.
        let memory = unsafe { instance.get_physical_device_memory_properties(handle) };
        let name = c_string(&p.device_name);
        let driver_name = c_string(&driver.driver_name);
        let driver_info = c_string(&driver.driver_info);
        let l = p.limits;
        let device_type = match p.device_type {
            vk::PhysicalDeviceType::DISCRETE_GPU => "discrete-gpu",
            vk::PhysicalDeviceType::INTEGRATED_GPU => "integrated-gpu",
            vk::PhysicalDeviceType::VIRTUAL_GPU => "virtual-gpu",
            vk::PhysicalDeviceType::CPU => "cpu",
            _ => "other",
        };
        let mut properties = vec![
            ("device-name".to_string(), name.clone()),
            ("driver-name".into(), driver_name.clone()),
            ("driver-info".into(), driver_info),
            ("api-version".into(), version_string(p.api_version)),
            ("device-type".into(), device_type.into()),
            ("vendor-id".into(), format!("0x{:04x}", p.vendor_id)),
            ("device-id".into(), format!("0x{:04x}", p.device_id)),
            (
                "max-compute-workgroup-size".into(),
                format!(
                    "({}, {}, {})",
                    l.max_compute_work_group_size[0],
                    l.max_compute_work_group_size[1],
                    l.max_compute_work_group_size[2]
                ),
            ),
            (
                "max-compute-workgroup-count".into(),
                format!(
                    "({}, {}, {})",
                    l.max_compute_work_group_count[0],
                    l.max_compute_work_group_count[1],
                    l.max_compute_work_group_count[2]
                ),
            ),
            (
                "max-compute-workgroup-invocations".into(),
                l.max_compute_work_group_invocations.to_string(),
            ),
            (
                "max-compute-shared-memory".into(),
                format!("{} KB", l.max_compute_shared_memory_size / 1024),
            ),
            (
                "max-storage-buffer-range".into(),
                format!("{} MB", l.max_storage_buffer_range / (1024 * 1024)),
            ),
            ("subgroup-size".into(), subgroup.subgroup_size.to_string()),
        ];
        for (i, heap) in memory.memory_heaps[..memory.memory_heap_count as usize]
            .iter()
            .enumerate()
        {
            let local = if heap.flags.contains(vk::MemoryHeapFlags::DEVICE_LOCAL) {
                ", device-local"
            } else {
                ""
            };
            properties.push((
                format!("memory-heap-{i}"),
                format!("{} MB{local}", heap.size / (1024 * 1024)),
            ));
        }
        let shown_name = if driver_name.is_empty() {
            name
        } else {
            format!("{name}  ({driver_name})")
        };
        PhysicalDevice {
            handle,
            info: DeviceInfo {
                device_id: index as u64,
                path: uuid_string(&id.device_uuid),
                name: shown_name,
            },
            properties,
            api_version: p.api_version,
        }
    }
}
