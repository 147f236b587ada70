//! NVIDIA's driver API (`libcuda.so.1`, which the NVIDIA driver installs) as the [`Api`] the
//! `cuda` driver runs on. Devices use their primary context; code is PTX, which the driver
//! compiles for the GPU it finds.

use crate::api::{open_library, symbols, Api, Attributes, Common, CommonNames, Handle};
use std::ffi::{c_char, c_void, CStr};

type Context = *mut c_void;

symbols!(Symbols, "libcuda" {
    retain_context = "cuDevicePrimaryCtxRetain": fn(*mut Context, i32) -> i32;
    release_context = "cuDevicePrimaryCtxRelease_v2": fn(i32) -> i32;
    set_current = "cuCtxSetCurrent": fn(Context) -> i32;
    stream_create = "cuStreamCreate": fn(*mut *mut c_void, u32) -> i32;
    error_string = "cuGetErrorString": fn(i32, *mut *const c_char) -> i32;
});

/// The calls libcuda shares with HIP ([`Common`]), by their names here.
const NAMES: CommonNames = CommonNames {
    init: "cuInit",
    driver_version: "cuDriverGetVersion",
    device_count: "cuDeviceGetCount",
    device_get: "cuDeviceGet",
    device_name: "cuDeviceGetName",
    device_uuid: "cuDeviceGetUuid",
    device_memory: "cuDeviceTotalMem_v2",
    device_attribute: "cuDeviceGetAttribute",
    module_load: "cuModuleLoadData",
    mem_alloc: "cuMemAlloc_v2",
    mem_free: "cuMemFree_v2",
    copy_to_device: "cuMemcpyHtoD_v2",
    copy_to_host: "cuMemcpyDtoH_v2",
    memset: "cuMemsetD8_v2",
    module_unload: "cuModuleUnload",
    module_function: "cuModuleGetFunction",
    launch: "cuLaunchKernel",
    stream_destroy: "cuStreamDestroy_v2",
    stream_synchronize: "cuStreamSynchronize",
};

/// The oldest driver kiln's PTX (ISA 7.0 and up) loads on: CUDA 11.0.
const MIN_DRIVER_VERSION: i32 = 11000;

/// `CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR` and `_MINOR` (CUDA's `cuda.h`).
const COMPUTE_CAPABILITY: [i32; 2] = [75, 76];

/// libcuda, opened and initialised.
pub struct Cuda {
    sym: Symbols,
    common: Common,
    version: i32,
}

impl Api for Cuda {
    const DRIVER: &'static str = "cuda";
    const DESCRIPTION: &'static str = "NVIDIA CUDA (libcuda, dynamic)";
    const FORMAT: &'static str = kiln_gpu_binary::CUDA_FORMAT;
    /// `CUdevice_attribute` values (CUDA's `cuda.h`).
    const ATTRIBUTES: Attributes = Attributes {
        max_threads_per_block: 1,
        max_grid_dim_x: 5,
        max_shared_memory_per_block: 8,
        warp_size: 10,
        clock_rate: 13,
        compute_units: 16,
        memory_bus_width: 37,
        l2_cache: 38,
    };

    fn open() -> Result<Cuda, String> {
        let library = open_library(&["libcuda.so.1", "libcuda.so"])?;
        let common = Common::load(&library, "libcuda", &NAMES)?;
        let sym = Symbols::load(library)?;
        let mut cuda = Cuda {
            sym,
            common,
            version: 0,
        };
        cuda.version = cuda.initialise()?;
        if cuda.version < MIN_DRIVER_VERSION {
            return Err(format!(
                "the NVIDIA driver supports CUDA {}; kiln needs 11.0 or newer",
                cuda.version()
            ));
        }
        Ok(cuda)
    }

    fn check(&self, call: &str, code: i32) -> Result<(), String> {
        if code == 0 {
            return Ok(());
        }
        let mut text: *const c_char = std::ptr::null();
        // SAFETY: cuGetErrorString writes a pointer to a static string (or leaves it null).
        let known = unsafe { (self.sym.error_string)(code, &mut text) } == 0 && !text.is_null();
        let message = if known {
            // SAFETY: a NUL-terminated static string from the driver.
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        } else {
            "unknown error".into()
        };
        Err(format!("{call}: {message} (CUDA error {code})"))
    }

    fn common(&self) -> &Common {
        &self.common
    }

    fn arch(&self, device: i32) -> Result<String, String> {
        let [major, minor] = COMPUTE_CAPABILITY;
        let (major, minor) = (
            self.attribute(major, device)?,
            self.attribute(minor, device)?,
        );
        Ok(format!("sm_{major}{minor}"))
    }

    fn version(&self) -> String {
        format!("{}.{}", self.version / 1000, self.version % 1000 / 10)
    }

    fn attach(&self, ordinal: i32) -> Result<Handle, String> {
        let mut context: Context = std::ptr::null_mut();
        // SAFETY: a valid ordinal (from enumeration) and an out-pointer.
        let code = unsafe { (self.sym.retain_context)(&mut context, ordinal) };
        self.check("cuDevicePrimaryCtxRetain", code)?;
        Ok(context as Handle)
    }

    fn detach(&self, ordinal: i32, _context: Handle) {
        // SAFETY: releases the retain `attach` made.
        unsafe { (self.sym.release_context)(ordinal) };
    }

    fn make_current(&self, context: Handle) -> Result<(), String> {
        // SAFETY: a context `attach` retained and has not released.
        let code = unsafe { (self.sym.set_current)(context as Context) };
        self.check("cuCtxSetCurrent", code)
    }

    fn create_stream(&self) -> Result<Handle, String> {
        let mut stream: *mut c_void = std::ptr::null_mut();
        // SAFETY: an out-pointer; flags 0 (a blocking stream).
        let code = unsafe { (self.sym.stream_create)(&mut stream, 0) };
        self.check("cuStreamCreate", code)?;
        Ok(stream as Handle)
    }
}
