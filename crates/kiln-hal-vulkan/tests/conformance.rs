//! The HAL conformance checks that apply before Vulkan executables exist, on whatever Vulkan
//! device is installed (lavapipe in CI). Without a loader or device the checks report that and
//! pass vacuously; CI installs lavapipe, so there they run for real.

use kiln_hal_cts::{Fixture, Subject};
use kiln_hal_vulkan::VulkanDriver;
use kiln_runtime::hal::Driver;
use std::sync::Arc;

fn subject() -> Option<Subject> {
    let driver: Arc<dyn Driver> = Arc::new(VulkanDriver);
    match driver.enumerate_devices() {
        Ok(d) if !d.is_empty() => Some((
            driver,
            Fixture {
                format: "none".into(),
                add: vec![],
                workgroups: [1, 1, 1],
            },
        )),
        other => {
            eprintln!(
                "no Vulkan device here ({:?}); install mesa-vulkan-drivers to run these checks",
                other.err()
            );
            None
        }
    }
}

#[test]
fn driver_creates_devices() {
    if let Some(s) = subject() {
        kiln_hal_cts::driver_creates_devices(s);
    }
}

#[test]
fn buffers_round_trip() {
    if let Some(s) = subject() {
        kiln_hal_cts::buffers_round_trip(s);
    }
}

#[test]
fn host_imports_are_read_only() {
    if let Some(s) = subject() {
        kiln_hal_cts::host_imports_are_read_only(s);
    }
}

#[test]
fn semaphores_signal_and_wait() {
    if let Some(s) = subject() {
        kiln_hal_cts::semaphores_signal_and_wait(s);
    }
}

#[test]
fn devices_are_named_by_uuid() {
    let Some((driver, _)) = subject() else { return };
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
