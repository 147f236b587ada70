//! The HAL conformance suite on the first WebGPU adapter (lavapipe through wgpu's Vulkan
//! backend in CI), with an `out = a + b` fixture compiled for `webgpu-spirv`.
//!
//! Without an adapter the checks report that and pass vacuously, unless `KILN_REQUIRE_VULKAN`
//! is set (CI sets it: wgpu runs on the Vulkan driver there), which makes a missing adapter
//! a failure.

use kiln_hal_cts::{Fixture, Subject};
use kiln_hal_webgpu::WebGpuDriver;
use kiln_runtime::hal::Driver;
use std::sync::Arc;

/// `out = a + b` over N f32 as WGSL.
fn wgsl_fixture() -> Fixture {
    let (kernel, count) =
        kiln_codegen_spirv::wgsl::compile_kernel("add", &kiln_hal_cts::add_kernel()).unwrap();
    let exe = kiln_gpu_binary::Executable {
        kind: kiln_gpu_binary::CodeKind::Wgsl,
        target: kiln_codegen_spirv::wgsl::WEBGPU.name.into(),
        code: vec![],
        kernels: vec![kiln_gpu_binary::Kernel {
            name: kernel.function,
            workgroup_size: kernel.entry.workgroup_size[0],
            bindings: kernel.entry.bindings,
            symbols: kernel.entry.symbols,
            binding_extents: kernel.entry.binding_extents,
            workgroups: kernel.entry.workgroups,
            shared_memory: kernel.entry.shared_memory,
            reports_errors: kernel.entry.reports_errors,
            code: kernel.source.into_bytes(),
        }],
    };
    Fixture {
        format: kiln_gpu_binary::WEBGPU_FORMAT.into(),
        add: exe.encode(),
        workgroups: [count as u32, 1, 1],
    }
}

fn subject() -> Option<Subject> {
    let driver: Arc<dyn Driver> = Arc::new(WebGpuDriver);
    match driver.enumerate_devices() {
        Ok(d) if !d.is_empty() => Some((driver, wgsl_fixture())),
        other if std::env::var_os("KILN_REQUIRE_VULKAN").is_none() => {
            eprintln!("no WebGPU adapter here ({other:?}); install mesa-vulkan-drivers to run these checks");
            None
        }
        other => panic!("a WebGPU adapter is required (KILN_REQUIRE_VULKAN): {other:?}"),
    }
}

kiln_hal_cts::conformance_tests!(webgpu, optional subject());

/// `--dump_devices` shows the adapter: its name, backend, limits and features.
#[test]
fn devices_describe_their_adapter() {
    let Some((driver, _)) = subject() else {
        return;
    };
    for d in driver.enumerate_devices().unwrap() {
        let device = driver.create_device(&d.path, &Default::default()).unwrap();
        let keys: Vec<String> = device.properties().into_iter().map(|(k, _)| k).collect();
        for key in [
            "name",
            "backend",
            "features",
            "max-storage-buffers-per-stage",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
        }
    }
    let err = driver
        .create_device("99", &Default::default())
        .err()
        .expect("no adapter 99");
    assert!(err.to_string().contains("no device at '99'"), "{err}");
}

/// Host transfers of any length at any offset (WebGPU copies whole words).
#[test]
fn unaligned_transfers_round_trip() {
    let Some((driver, _)) = subject() else {
        return;
    };
    let device = driver.create_device("", &Default::default()).unwrap();
    let buffer = device.allocate(11).unwrap();
    buffer.write(0, &[9; 11]).unwrap();
    buffer.write(3, &[1, 2, 3, 4, 5]).unwrap();
    let mut out = [0u8; 11];
    buffer.read(0, &mut out).unwrap();
    assert_eq!(out, [9, 9, 9, 1, 2, 3, 4, 5, 9, 9, 9]);
    let mut middle = [0u8; 3];
    buffer.read(5, &mut middle).unwrap();
    assert_eq!(middle, [3, 4, 5]);
}
