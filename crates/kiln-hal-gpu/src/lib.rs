//! The `cuda` and `hip` HAL drivers: NVIDIA's driver API and AMD's HIP, each opened at run time
//! (`libcuda.so.1`, `libamdhip64.so`), behind one implementation of the HAL.
//!
//! - Both drivers are always listed. Where the vendor library is absent (any machine without
//!   the NVIDIA driver or ROCm), too old, or lacks a symbol kiln calls, creating or
//!   enumerating devices fails with that reason (`--dump_devices` prints it); every symbol is
//!   looked up before the first call, so nothing crashes.
//! - [`api::Api`] is what a driver needs of a vendor library: the same dozen calls under two
//!   prefixes (`cu…`, `hip…`), so devices, buffers, executables and the queue
//!   ([`device`]) are written once.
//! - Devices are named by UUID (`cuda://GPU-…`, as `nvidia-smi -L` prints it) or by ordinal
//!   (`cuda://0`), and `--dump_devices` prints their architecture, compute units, memory and
//!   limits.
//! - Executables are `cuda-nvptx-fb` (PTX, compiled by the driver for the GPU it runs on,
//!   which must be of the PTX's architecture or newer) and `rocm-hsaco-fb` (a code object for
//!   one gfx architecture), both [`kiln_gpu_binary`].
//! - Buffers are device memory reached by copies. A submission launches its dispatches in
//!   order on the device's stream, waits for it, then signals the semaphore.
//!
//! Only the library-absent paths run in CI (no GPU there); the rest runs where a GPU is.

pub mod api;
mod cuda;
pub mod device;
mod hip;

pub use device::{GpuBuffer, GpuDevice, GpuDriver, GpuExecutable};
use std::sync::Arc;

/// The `cuda` driver (NVIDIA GPUs through libcuda).
pub type CudaDriver = GpuDriver<cuda::Cuda>;
/// The `hip` driver (AMD GPUs through libamdhip64).
pub type HipDriver = GpuDriver<hip::Hip>;

/// Registers the `cuda` and `hip` drivers.
pub fn register(registry: &mut kiln_runtime::DriverRegistry) {
    registry.register(Arc::new(CudaDriver::default()));
    registry.register(Arc::new(HipDriver::default()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_runtime::hal::Driver;

    /// Without the vendor libraries (as on CI machines) both drivers are listed and fail to
    /// initialise, naming the library.
    #[test]
    fn absent_libraries_are_named() {
        let cuda = CudaDriver::default();
        let hip = HipDriver::default();
        assert_eq!((cuda.name(), hip.name()), ("cuda", "hip"));
        for (driver, library) in [
            (&cuda as &dyn Driver, "libcuda.so.1"),
            (&hip, "libamdhip64.so"),
        ] {
            let Err(err) = driver.enumerate_devices() else {
                eprintln!("{} is installed here; skipping", library);
                continue;
            };
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("{}: failed to initialize: ", driver.name()))
                    && text.contains(library),
                "{text}"
            );
            let Err(err) = driver.create_device("", &Default::default()) else {
                panic!("{} created a device without its library", driver.name())
            };
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn uuids_print_as_nvidia_smi_does() {
        let uuid = [
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        assert_eq!(
            api::uuid_path(&uuid),
            "GPU-12345678-9abc-def0-0102-030405060708"
        );
    }
}
