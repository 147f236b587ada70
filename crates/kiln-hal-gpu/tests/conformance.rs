//! The HAL conformance suite on the first `cuda` device and the first `hip` device, with an
//! `out = a + b` fixture compiled for each (PTX for sm_70, which every supported NVIDIA GPU
//! runs; HSACO for the AMD device's own architecture).
//!
//! Without the vendor library or a device (CI has neither) the checks report that and pass
//! vacuously, unless `KILN_REQUIRE_CUDA` (or `KILN_REQUIRE_HIP`) is set, as the GPU check
//! script does, which makes a missing device a failure.

use kiln_codegen_llvm::{compile_gpu, cuda_arch, rocm_arch, GpuArch};
use kiln_hal_cts::{Fixture, Subject};
use kiln_hal_gpu::{CudaDriver, HipDriver};
use kiln_runtime::hal::Driver;
use std::sync::Arc;

/// `out = a + b` over N f32 for `arch`.
fn fixture(arch: &GpuArch) -> Fixture {
    let add = kiln_hal_cts::add_kernel();
    let exe = compile_gpu(&[("add", &add)], arch).unwrap();
    let count = kiln_codegen_gpu::configure(&add, &arch.limits)
        .unwrap()
        .workgroups();
    Fixture {
        format: exe.kind.format().into(),
        add: exe.encode(),
        workgroups: [count as u32, 1, 1],
    }
}

/// The driver and a fixture for its first device, if it has one.
fn subject(driver: Arc<dyn Driver>, required: &str) -> Option<Subject> {
    let devices = match driver.enumerate_devices() {
        Ok(d) if !d.is_empty() => d,
        other if std::env::var_os(required).is_none() => {
            eprintln!("no {} device here ({other:?}); skipping", driver.name());
            return None;
        }
        other => panic!(
            "a {} device is required ({required}): {other:?}",
            driver.name()
        ),
    };
    let arch = if driver.name() == "cuda" {
        cuda_arch("sm_70").unwrap()
    } else {
        let device = driver
            .create_device(&devices[0].path, &Default::default())
            .unwrap();
        let props = device.properties();
        let gfx = props
            .iter()
            .find(|(k, _)| k == "architecture")
            .map(|(_, v)| v.clone())
            .unwrap();
        rocm_arch(&gfx).unwrap()
    };
    Some((driver, fixture(arch)))
}

kiln_hal_cts::conformance_tests!(
    cuda,
    optional subject(Arc::new(CudaDriver::default()), "KILN_REQUIRE_CUDA")
);
kiln_hal_cts::conformance_tests!(
    hip,
    optional subject(Arc::new(HipDriver::default()), "KILN_REQUIRE_HIP")
);
