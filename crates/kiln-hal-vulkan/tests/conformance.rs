//! The HAL conformance suite on the first Vulkan device (lavapipe in CI), twice: with the
//! device's default memory placement, and with `memory=device-local`, which routes every host
//! transfer through staging buffers as on a discrete GPU.
//!
//! Without a Vulkan loader or device the checks report that and pass vacuously, unless
//! `KILN_REQUIRE_VULKAN` is set (CI sets it), which makes a missing device a failure.

use kiln_hal_cts::{Fixture, Subject, N};
use kiln_hal_vulkan::VulkanDriver;
use kiln_runtime::hal::{Device, DeviceInfo, DeviceOptions, Driver};
use kiln_runtime::HalError;
use std::sync::Arc;

/// `out = a + b` over N f32, compiled for the generic Vulkan target.
fn spirv_fixture() -> Fixture {
    let add = kiln_hal_cts::add_kernel();
    let target = kiln_codegen_spirv::find_target("generic").unwrap();
    let (entry, groups) = kiln_codegen_spirv::compile_kernel("add", &add, target).unwrap();
    Fixture {
        format: kiln_spirv::FORMAT.into(),
        add: kiln_spirv::Executable {
            entry_points: vec![entry],
        }
        .encode(),
        workgroups: kiln_codegen_spirv::grid(groups).unwrap(),
    }
}

/// The vulkan driver with `memory=device-local` forced on every device it creates.
struct DeviceLocal(VulkanDriver);

impl Driver for DeviceLocal {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn description(&self) -> &str {
        self.0.description()
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        self.0.enumerate_devices()
    }
    fn create_device(
        &self,
        path: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        let mut options = options.clone();
        options
            .params
            .push(("memory".into(), "device-local".into()));
        self.0.create_device(path, &options)
    }
}

fn subject(driver: Arc<dyn Driver>) -> Option<Subject> {
    match driver.enumerate_devices() {
        Ok(d) if !d.is_empty() => Some((driver, spirv_fixture())),
        other if std::env::var_os("KILN_REQUIRE_VULKAN").is_none() => {
            eprintln!("no Vulkan device here ({other:?}); install mesa-vulkan-drivers to run these checks");
            None
        }
        other => panic!("a Vulkan device is required (KILN_REQUIRE_VULKAN): {other:?}"),
    }
}

kiln_hal_cts::conformance_tests!(default_memory, optional subject(Arc::new(VulkanDriver)));
kiln_hal_cts::conformance_tests!(
    device_local_memory,
    optional subject(Arc::new(DeviceLocal(VulkanDriver)))
);

#[test]
fn devices_are_named_by_uuid() {
    let Some((driver, _)) = subject(Arc::new(VulkanDriver)) else {
        return;
    };
    for d in driver.enumerate_devices().unwrap() {
        let parts: Vec<usize> = d.path.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{}", d.path);
        let dev = driver.create_device(&d.path, &Default::default()).unwrap();
        let props = dev.properties();
        for key in [
            "api-version",
            "device-type",
            "max-compute-workgroup-size",
            "max-compute-shared-memory",
            "subgroup-size",
            "memory-heap-0",
        ] {
            assert!(props.iter().any(|(k, _)| k == key), "missing {key}");
        }
    }
}

#[test]
fn bad_memory_option_is_an_error() {
    let Some((driver, _)) = subject(Arc::new(VulkanDriver)) else {
        return;
    };
    let options = DeviceOptions {
        params: vec![("memory".into(), "sideways".into())],
    };
    let err = driver.create_device("", &options).err().expect("refused");
    assert!(err.to_string().contains("memory=sideways"), "{err}");
}

#[test]
fn bindings_shorter_than_the_shader_reads_are_refused() {
    use kiln_runtime::hal::{BufferBinding, CommandBuffer};
    let Some((driver, fx)) = subject(Arc::new(VulkanDriver)) else {
        return;
    };
    let dev = driver.create_device("", &Default::default()).unwrap();
    let exe = dev.load_executable(&fx.format, &fx.add).unwrap();
    let b = dev.allocate(N * 4).unwrap();
    let bind = |length| BufferBinding {
        buffer: b.clone(),
        offset: 0,
        length,
    };
    let mut cb = CommandBuffer::new();
    cb.dispatch(
        exe,
        0,
        fx.workgroups,
        vec![bind(N * 4), bind(N * 2), bind(N * 4)],
    )
    .unwrap();
    let err = dev.queue_execute(&cb, None).unwrap_err().to_string();
    assert!(
        err.contains("binding 1") && err.contains("reads up to byte"),
        "{err}"
    );
}
