//! The Vulkan instance and physical-device discovery: loading the loader, listing devices with
//! their UUIDs, and the properties `--dump_devices` prints.
//!
//! When the loader offers `VK_EXT_debug_utils` (it does whenever a validation layer is on,
//! e.g. `VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation`), the instance installs a messenger
//! that records every error-severity message; devices turn them into errors of the call
//! during which they were reported, so tests fail on any validation error.

use ash::vk;
use kiln_runtime::hal::DeviceInfo;
use kiln_runtime::HalError;
use std::ffi::{c_void, CStr};
use std::sync::{Arc, Mutex};

/// Error messages the debug messenger collected and nobody has checked yet.
type Reported = Mutex<Vec<String>>;

/// A loaded Vulkan loader and an instance; destroyed when the last user drops it.
pub struct Instance {
    pub entry: ash::Entry,
    pub raw: ash::Instance,
    messenger: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    /// Boxed so its address, given to the messenger, stays fixed.
    reported: Box<Reported>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: every child object (devices) holds an Arc to this instance, so none is alive;
        // the messenger goes before the instance, `reported` after both.
        unsafe {
            if let Some((utils, m)) = self.messenger.take() {
                utils.destroy_debug_utils_messenger(m, None);
            }
            self.raw.destroy_instance(None)
        };
    }
}

unsafe extern "system" fn on_message(
    severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    _types: vk::DebugUtilsMessageTypeFlagsEXT,
    data: *const vk::DebugUtilsMessengerCallbackDataEXT<'_>,
    user: *mut c_void,
) -> vk::Bool32 {
    if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::ERROR) && !data.is_null() {
        // SAFETY: the loader passes valid callback data and our `Reported` as user data.
        let (data, reported) = unsafe { (&*data, &*(user as *const Reported)) };
        // SAFETY: a NUL-terminated string owned by the caller for the call's duration.
        let text = unsafe { data.message_as_c_str() }
            .map(|m| m.to_string_lossy().into_owned())
            .unwrap_or_default();
        eprintln!("vulkan validation: {text}");
        reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
    }
    vk::FALSE
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
        // SAFETY: a valid entry; enumerating extensions has no preconditions.
        let has_debug_utils = unsafe { entry.enumerate_instance_extension_properties(None) }
            .unwrap_or_default()
            .iter()
            .any(|e| e.extension_name_as_c_str() == Ok(ash::ext::debug_utils::NAME));
        let extensions = [ash::ext::debug_utils::NAME.as_ptr()];
        let mut info = vk::InstanceCreateInfo::default().application_info(&app);
        if has_debug_utils {
            info = info.enabled_extension_names(&extensions);
        }
        // SAFETY: `info` and what it points to live across the call.
        let raw = unsafe { entry.create_instance(&info, None) }
            .map_err(|e| unavailable(format!("vkCreateInstance failed: {e}")))?;
        let reported: Box<Reported> = Box::default();
        let messenger = has_debug_utils.then(|| {
            let utils = ash::ext::debug_utils::Instance::new(&entry, &raw);
            let info = vk::DebugUtilsMessengerCreateInfoEXT::default()
                .message_severity(vk::DebugUtilsMessageSeverityFlagsEXT::ERROR)
                .message_type(
                    vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION
                        | vk::DebugUtilsMessageTypeFlagsEXT::GENERAL,
                )
                .pfn_user_callback(Some(on_message))
                .user_data(&*reported as *const Reported as *mut c_void);
            // SAFETY: a live instance with the extension enabled; `reported` outlives the
            // messenger (see `Drop`).
            unsafe { utils.create_debug_utils_messenger(&info, None) }
                .ok()
                .map(|m| (utils, m))
        });
        Ok(Arc::new(Instance {
            entry,
            raw,
            messenger: messenger.flatten(),
            reported,
        }))
    }

    /// Error messages reported since the last call.
    pub fn take_validation_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.reported.lock().unwrap_or_else(|e| e.into_inner()))
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
    pub limits: vk::PhysicalDeviceLimits,
    pub discrete: bool,
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
            ("executable-formats".into(), kiln_spirv::FORMAT.into()),
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
            limits: p.limits,
            discrete: p.device_type == vk::PhysicalDeviceType::DISCRETE_GPU,
        }
    }
}
