//! AMD's HIP runtime (`libamdhip64.so`, which ROCm installs) as the [`Api`] the `hip` driver
//! runs on. HIP selects a device per thread (`hipSetDevice`) rather than through contexts;
//! code is an HSACO code object for the device's exact architecture.

use crate::api::{open_library, symbols, Api, Attributes, Common, CommonNames, Handle};
use std::ffi::{c_char, c_void, CStr};

symbols!(Symbols, "libamdhip64" {
    device_properties = "hipGetDevicePropertiesR0600": fn(*mut u8, i32) -> i32;
    set_device = "hipSetDevice": fn(i32) -> i32;
    stream_create = "hipStreamCreate": fn(*mut *mut c_void) -> i32;
    error_string = "hipGetErrorString": fn(i32) -> *const c_char;
});

/// The calls HIP shares with libcuda ([`Common`]), by their names here.
const NAMES: CommonNames = CommonNames {
    init: "hipInit",
    driver_version: "hipDriverGetVersion",
    device_count: "hipGetDeviceCount",
    device_get: "hipDeviceGet",
    device_name: "hipDeviceGetName",
    device_uuid: "hipDeviceGetUuid",
    device_memory: "hipDeviceTotalMem",
    device_attribute: "hipDeviceGetAttribute",
    module_load: "hipModuleLoadData",
    mem_alloc: "hipMalloc",
    mem_free: "hipFree",
    copy_to_device: "hipMemcpyHtoD",
    copy_to_host: "hipMemcpyDtoH",
    memset: "hipMemsetD8",
    module_unload: "hipModuleUnload",
    module_function: "hipModuleGetFunction",
    launch: "hipModuleLaunchKernel",
    stream_destroy: "hipStreamDestroy",
    stream_synchronize: "hipStreamSynchronize",
};

/// Bytes reserved for `hipDeviceProp_t` (ROCm 6's is under 2 KiB).
const PROPERTIES_BYTES: usize = 16 << 10;

/// libamdhip64, opened and initialised.
pub struct Hip {
    sym: Symbols,
    common: Common,
    version: i32,
}

impl Api for Hip {
    const DRIVER: &'static str = "hip";
    const DESCRIPTION: &'static str = "AMD HIP (libamdhip64, dynamic)";
    const FORMAT: &'static str = kiln_gpu_binary::ROCM_FORMAT;
    /// `hipDeviceAttribute_t` values (ROCm 6's `hip_runtime_api.h`).
    const ATTRIBUTES: Attributes = Attributes {
        clock_rate: 5,
        l2_cache: 19,
        max_grid_dim_x: 29,
        max_threads_per_block: 56,
        memory_bus_width: 59,
        compute_units: 63,
        max_shared_memory_per_block: 74,
        warp_size: 87,
    };

    fn open() -> Result<Hip, String> {
        // ROCm 6 or newer: hipGetDevicePropertiesR0600 first appeared there.
        let library = open_library(&["libamdhip64.so.6", "libamdhip64.so.7", "libamdhip64.so"])?;
        let common = Common::load(&library, "libamdhip64", &NAMES)?;
        let sym = Symbols::load(library)?;
        let mut hip = Hip {
            sym,
            common,
            version: 0,
        };
        hip.version = hip.initialise()?;
        Ok(hip)
    }

    fn check(&self, call: &str, code: i32) -> Result<(), String> {
        if code == 0 {
            return Ok(());
        }
        // SAFETY: hipGetErrorString returns a static NUL-terminated string (or null).
        let text = unsafe { (self.sym.error_string)(code) };
        let message = if text.is_null() {
            "unknown error".into()
        } else {
            // SAFETY: as above.
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        };
        Err(format!("{call}: {message} (HIP error {code})"))
    }

    fn common(&self) -> &Common {
        &self.common
    }

    /// The device's `gcnArchName` (`gfx942`, without feature flags such as `:xnack-`): the
    /// one string of its properties that starts with `gfx`, found without depending on the
    /// struct's layout, which changes between ROCm releases.
    fn arch(&self, device: i32) -> Result<String, String> {
        let mut props = vec![0u8; PROPERTIES_BYTES];
        // SAFETY: the buffer is larger than any hipDeviceProp_t; the call fills it.
        let code = unsafe { (self.sym.device_properties)(props.as_mut_ptr(), device) };
        self.check("hipGetDevicePropertiesR0600", code)?;
        props
            .split(|&b| b == 0)
            .find(|s| s.starts_with(b"gfx") && s.len() < 64)
            .and_then(|s| std::str::from_utf8(s).ok())
            .map(|s| s.split(':').next().unwrap_or(s).to_string())
            .ok_or_else(|| "the device properties name no gfx architecture".to_string())
    }

    fn version(&self) -> String {
        self.version.to_string()
    }

    fn attach(&self, ordinal: i32) -> Result<Handle, String> {
        self.make_current(ordinal as Handle)?;
        Ok(ordinal as Handle)
    }

    fn detach(&self, _ordinal: i32, _context: Handle) {}

    fn make_current(&self, context: Handle) -> Result<(), String> {
        // SAFETY: a device ordinal from enumeration.
        let code = unsafe { (self.sym.set_device)(context as i32) };
        self.check("hipSetDevice", code)
    }

    fn create_stream(&self) -> Result<Handle, String> {
        let mut stream: *mut c_void = std::ptr::null_mut();
        // SAFETY: an out-pointer.
        let code = unsafe { (self.sym.stream_create)(&mut stream) };
        self.check("hipStreamCreate", code)?;
        Ok(stream as Handle)
    }
}
