//! The HAL conformance suite on the first `cuda` device and the first `hip` device.
//!
//! The fixture (`out = a + b` over N f32) is read from a kiln module holding one GPU
//! executable for the driver, named by `KILN_CTS_CUDA_MODULE` (or `KILN_CTS_HIP_MODULE`):
//! `scripts/gpu-check.sh prepare` compiles it with `kiln-compile`, so this test needs no
//! compiler and runs on a GPU machine without LLVM. Without the vendor library or a device
//! (CI has neither) the checks report that and pass vacuously, unless `KILN_REQUIRE_CUDA` (or
//! `KILN_REQUIRE_HIP`) is set, as the GPU check script does, which makes a missing device or
//! module a failure.

use kiln_gpu_binary::Executable;
use kiln_hal_cts::{Fixture, Subject, N};
use kiln_hal_gpu::{CudaDriver, HipDriver};
use kiln_runtime::hal::Driver;
use std::sync::Arc;

/// The `add` fixture from the module at `path`: its one executable and its first kernel's
/// workgroup count.
fn fixture(path: &std::ffi::OsStr) -> Fixture {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let module = kiln_module::Module::read(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let [exe] = &module.executables[..] else {
        panic!("{path:?}: one executable expected")
    };
    let binary = Executable::decode(&exe.data).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let count = kiln_gpu_binary::workgroups(&binary.kernels, 0, &[]).unwrap();
    assert_eq!(
        binary.kernels[0].bindings,
        [kiln_types::ElementType::F32; 3],
        "{path:?}: the fixture adds two tensors of {N} f32"
    );
    Fixture {
        format: exe.format.clone(),
        add: exe.data.clone(),
        workgroups: [count, 1, 1],
    }
}

/// The driver and the fixture for its first device, if it has a device and a fixture.
fn subject(driver: Arc<dyn Driver>, required: &str, module: &str) -> Option<Subject> {
    let required = std::env::var_os(required).is_some();
    // Read first, so that a bad module is an error on any machine.
    let fixture = std::env::var_os(module).map(|path| fixture(&path));
    match driver.enumerate_devices() {
        Ok(d) if !d.is_empty() => {}
        other if !required => {
            eprintln!("no {} device here ({other:?}); skipping", driver.name());
            return None;
        }
        other => panic!("a {} device is required: {other:?}", driver.name()),
    }
    match fixture {
        Some(fixture) => Some((driver, fixture)),
        None if !required => {
            eprintln!("{module} names no fixture module; skipping");
            None
        }
        None => panic!("{module} must name the fixture module (scripts/gpu-check.sh)"),
    }
}

kiln_hal_cts::conformance_tests!(
    cuda,
    optional subject(
        Arc::new(CudaDriver::default()),
        "KILN_REQUIRE_CUDA",
        "KILN_CTS_CUDA_MODULE"
    )
);
kiln_hal_cts::conformance_tests!(
    hip,
    optional subject(
        Arc::new(HipDriver::default()),
        "KILN_REQUIRE_HIP",
        "KILN_CTS_HIP_MODULE"
    )
);
