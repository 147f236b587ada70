//! What the `cuda` and `hip` drivers need of a vendor's driver library, as one trait ([`Api`]):
//! CUDA's driver API and HIP's module API are the same calls under two prefixes, so the HAL
//! over them (`device.rs`) is written once.
//!
//! A library is opened at run time and every symbol the driver calls is looked up before the
//! first call (`symbols!`, [`Common::load`]): an absent library, a missing symbol or a failed
//! initialisation is an error naming it, never a crash.

use std::ffi::{c_char, c_void, CStr, CString};

/// An opaque handle of the vendor API (a context, module, function or stream).
pub type Handle = usize;

/// What `--dump_devices` and device selection need of one device.
pub struct Description {
    pub name: String,
    /// The device UUID, printed `GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    pub uuid: [u8; 16],
    /// The architecture code must be compiled for (`sm_90`, `gfx942`).
    pub arch: String,
    pub max_threads_per_block: u32,
    pub max_shared_memory_per_block: u32,
    /// Further `(key, value)` lines for `--dump_devices`.
    pub properties: Vec<(String, String)>,
}

/// The calls of a vendor library the drivers make; errors are the library's own messages.
/// Calls both libraries make with one signature are [`Common`]'s, implemented here once.
pub trait Api: Send + Sync + Sized + 'static {
    /// The driver name (`cuda`, `hip`).
    const DRIVER: &'static str;
    /// One line for `--list_drivers`.
    const DESCRIPTION: &'static str;
    /// The executable format its devices load.
    const FORMAT: &'static str;
    /// The library's `cuDeviceGetAttribute`-style codes for what `--dump_devices` prints.
    const ATTRIBUTES: Attributes;
    /// Opens the library, looks up every symbol and initialises it.
    fn open() -> Result<Self, String>;
    /// `Ok` for a call's success code, else the library's message for `code`.
    fn check(&self, call: &str, code: i32) -> Result<(), String>;
    fn common(&self) -> &Common;
    /// The architecture of device `device` that code must be compiled for.
    fn arch(&self, device: i32) -> Result<String, String>;
    /// The driver's version as its vendor prints it.
    fn version(&self) -> String;
    /// Takes device `ordinal` into use; returns the context later calls make current.
    fn attach(&self, ordinal: i32) -> Result<Handle, String>;
    /// Releases what [`Api::attach`] took.
    fn detach(&self, ordinal: i32, context: Handle);
    /// Makes `context` the calling thread's current one.
    fn make_current(&self, context: Handle) -> Result<(), String>;
    fn create_stream(&self) -> Result<Handle, String>;

    /// Initialises the library; returns its driver version number.
    fn initialise(&self) -> Result<i32, String> {
        let c = self.common();
        // SAFETY: initialisation takes flags 0.
        self.check(c.init.0, unsafe { (c.init.1)(0) })?;
        let mut version = 0;
        // SAFETY: an out-pointer to a local int.
        let code = unsafe { (c.driver_version.1)(&mut version) };
        self.check(c.driver_version.0, code)?;
        Ok(version)
    }
    fn device_count(&self) -> Result<i32, String> {
        let c = self.common();
        let mut n = 0;
        // SAFETY: an out-pointer to a local int.
        self.check(c.device_count.0, unsafe { (c.device_count.1)(&mut n) })?;
        Ok(n)
    }
    fn attribute(&self, attribute: i32, device: i32) -> Result<i32, String> {
        let c = self.common();
        let mut v = 0;
        // SAFETY: a device from `device_get` and an out-pointer to an int.
        let code = unsafe { (c.device_attribute.1)(&mut v, attribute, device) };
        self.check(c.device_attribute.0, code)?;
        Ok(v)
    }
    fn describe(&self, ordinal: i32) -> Result<Description, String> {
        let c = self.common();
        let mut device = 0;
        // SAFETY: an out-pointer to a local int.
        let code = unsafe { (c.device_get.1)(&mut device, ordinal) };
        self.check(c.device_get.0, code)?;
        let mut name = [0 as c_char; 256];
        // SAFETY: the buffer holds `len` bytes; the library NUL-terminates within it.
        let code = unsafe { (c.device_name.1)(name.as_mut_ptr(), name.len() as i32, device) };
        self.check(c.device_name.0, code)?;
        // SAFETY: NUL-terminated by the call above.
        let name = unsafe { CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let mut uuid = [0u8; 16];
        // SAFETY: a UUID is 16 bytes in both libraries.
        let code = unsafe { (c.device_uuid.1)(&mut uuid, device) };
        self.check(c.device_uuid.0, code)?;
        let mut memory = 0usize;
        // SAFETY: an out-pointer to a local size_t.
        let code = unsafe { (c.device_memory.1)(&mut memory, device) };
        self.check(c.device_memory.0, code)?;
        let a = &Self::ATTRIBUTES;
        let get = |code| self.attribute(code, device);
        let max_threads = get(a.max_threads_per_block)?;
        let max_shared = get(a.max_shared_memory_per_block)?;
        let properties = vec![
            ("compute-units".into(), get(a.compute_units)?.to_string()),
            ("global-memory".into(), format!("{} MiB", memory >> 20)),
            ("l2-cache".into(), format!("{} KiB", get(a.l2_cache)? >> 10)),
            (
                "memory-bus-width".into(),
                format!("{} bits", get(a.memory_bus_width)?),
            ),
            (
                "clock-rate".into(),
                format!("{} MHz", get(a.clock_rate)? / 1000),
            ),
            ("subgroup-size".into(), get(a.warp_size)?.to_string()),
            ("max-threads-per-block".into(), max_threads.to_string()),
            ("max-shared-memory-per-block".into(), max_shared.to_string()),
            ("max-grid-dim-x".into(), get(a.max_grid_dim_x)?.to_string()),
            ("driver-version".into(), self.version()),
        ];
        Ok(Description {
            name,
            uuid,
            arch: self.arch(device)?,
            max_threads_per_block: max_threads.max(0) as u32,
            max_shared_memory_per_block: max_shared.max(0) as u32,
            properties,
        })
    }
    fn load_module(&self, code: &[u8]) -> Result<Handle, String> {
        let c = self.common();
        // PTX is read as a NUL-terminated string; a code object ignores bytes past its end.
        let mut image = code.to_vec();
        image.push(0);
        let mut module: *mut c_void = std::ptr::null_mut();
        // SAFETY: a complete, NUL-terminated image and an out-pointer.
        let r = unsafe { (c.module_load.1)(&mut module, image.as_ptr().cast()) };
        self.check(c.module_load.0, r)?;
        Ok(module as Handle)
    }

    fn allocate(&self, bytes: usize) -> Result<u64, String> {
        let c = self.common();
        let mut ptr = 0u64;
        // SAFETY: an out-pointer; the caller made the device's context current.
        let code = unsafe { (c.mem_alloc.1)(&mut ptr, bytes) };
        self.check(c.mem_alloc.0, code)?;
        Ok(ptr)
    }
    fn free(&self, ptr: u64) {
        // SAFETY: `ptr` came from `allocate` and is freed once.
        unsafe { (self.common().mem_free.1)(ptr) };
    }
    fn upload(&self, dst: u64, src: &[u8]) -> Result<(), String> {
        let c = self.common();
        // SAFETY: `dst` addresses at least `src.len()` bytes of device memory (checked by
        // the buffer that owns it).
        let code = unsafe { (c.copy_to_device.1)(dst, src.as_ptr().cast(), src.len()) };
        self.check(c.copy_to_device.0, code)
    }
    fn download(&self, src: u64, dst: &mut [u8]) -> Result<(), String> {
        let c = self.common();
        // SAFETY: as for `upload`, the other way round.
        let code = unsafe { (c.copy_to_host.1)(dst.as_mut_ptr().cast(), src, dst.len()) };
        self.check(c.copy_to_host.0, code)
    }
    fn zero(&self, dst: u64, bytes: usize) -> Result<(), String> {
        let c = self.common();
        // SAFETY: `dst` addresses at least `bytes` bytes of device memory.
        let code = unsafe { (c.memset.1)(dst, 0, bytes) };
        self.check(c.memset.0, code)
    }
    fn unload_module(&self, module: Handle) {
        // SAFETY: a module `load_module` returned, unloaded once.
        unsafe { (self.common().module_unload.1)(module as *mut c_void) };
    }
    fn function(&self, module: Handle, name: &str) -> Result<Handle, String> {
        let c = self.common();
        let c_name = CString::new(name).map_err(|_| format!("bad kernel name {name}"))?;
        let mut f: *mut c_void = std::ptr::null_mut();
        // SAFETY: a loaded module, a NUL-terminated name and an out-pointer.
        let code = unsafe { (c.module_function.1)(&mut f, module as *mut c_void, c_name.as_ptr()) };
        self.check(c.module_function.0, code)
            .map_err(|e| format!("kernel '{name}': {e}"))?;
        Ok(f as Handle)
    }
    fn destroy_stream(&self, stream: Handle) {
        // SAFETY: a stream `create_stream` returned, destroyed once.
        unsafe { (self.common().stream_destroy.1)(stream as *mut c_void) };
    }
    fn synchronize(&self, stream: Handle) -> Result<(), String> {
        let c = self.common();
        // SAFETY: a live stream.
        let code = unsafe { (c.stream_synchronize.1)(stream as *mut c_void) };
        self.check(c.stream_synchronize.0, code)
    }
    /// Launches `function` on `stream` over `grid` blocks of `block` threads.
    ///
    /// # Safety
    /// `args` points at one value per kernel parameter, of the parameter's type, and every
    /// pointer among them addresses device memory the kernel may touch.
    unsafe fn launch(
        &self,
        function: Handle,
        grid: [u32; 3],
        block: u32,
        stream: Handle,
        args: &mut [*mut c_void],
    ) -> Result<(), String> {
        let c = self.common();
        // SAFETY: the caller guarantees `args` matches the kernel's parameters; shared
        // memory is static (declared in the code).
        let code = unsafe {
            (c.launch.1)(
                function as *mut c_void,
                grid[0],
                grid[1],
                grid[2],
                block,
                1,
                1,
                0,
                stream as *mut c_void,
                args.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        };
        self.check(c.launch.0, code)
    }
}

/// A symbol's name and its function pointer.
type Symbol<F> = (&'static str, F);
type LaunchFn = unsafe extern "C" fn(
    *mut c_void,
    u32,
    u32,
    u32,
    u32,
    u32,
    u32,
    u32,
    *mut c_void,
    *mut *mut c_void,
    *mut *mut c_void,
) -> i32;

/// Codes of the device attributes `--dump_devices` prints, in one library's numbering.
pub struct Attributes {
    pub max_threads_per_block: i32,
    pub max_shared_memory_per_block: i32,
    pub warp_size: i32,
    pub compute_units: i32,
    pub clock_rate: i32,
    pub memory_bus_width: i32,
    pub l2_cache: i32,
    pub max_grid_dim_x: i32,
}

/// The calls CUDA's driver API and HIP make with the same C signature, each under its own
/// name. The pointers are valid while the library they were looked up in is loaded: the
/// vendor table holding a `Common` holds its library too.
pub struct Common {
    init: Symbol<unsafe extern "C" fn(u32) -> i32>,
    driver_version: Symbol<unsafe extern "C" fn(*mut i32) -> i32>,
    device_count: Symbol<unsafe extern "C" fn(*mut i32) -> i32>,
    device_get: Symbol<unsafe extern "C" fn(*mut i32, i32) -> i32>,
    device_name: Symbol<unsafe extern "C" fn(*mut c_char, i32, i32) -> i32>,
    device_uuid: Symbol<unsafe extern "C" fn(*mut [u8; 16], i32) -> i32>,
    device_memory: Symbol<unsafe extern "C" fn(*mut usize, i32) -> i32>,
    device_attribute: Symbol<unsafe extern "C" fn(*mut i32, i32, i32) -> i32>,
    module_load: Symbol<unsafe extern "C" fn(*mut *mut c_void, *const c_void) -> i32>,
    mem_alloc: Symbol<unsafe extern "C" fn(*mut u64, usize) -> i32>,
    mem_free: Symbol<unsafe extern "C" fn(u64) -> i32>,
    copy_to_device: Symbol<unsafe extern "C" fn(u64, *const c_void, usize) -> i32>,
    copy_to_host: Symbol<unsafe extern "C" fn(*mut c_void, u64, usize) -> i32>,
    memset: Symbol<unsafe extern "C" fn(u64, u8, usize) -> i32>,
    module_unload: Symbol<unsafe extern "C" fn(*mut c_void) -> i32>,
    module_function:
        Symbol<unsafe extern "C" fn(*mut *mut c_void, *mut c_void, *const c_char) -> i32>,
    launch: Symbol<LaunchFn>,
    stream_destroy: Symbol<unsafe extern "C" fn(*mut c_void) -> i32>,
    stream_synchronize: Symbol<unsafe extern "C" fn(*mut c_void) -> i32>,
}

/// The names of [`Common`]'s calls in one library, in field order.
pub struct CommonNames {
    pub init: &'static str,
    pub driver_version: &'static str,
    pub device_count: &'static str,
    pub device_get: &'static str,
    pub device_name: &'static str,
    pub device_uuid: &'static str,
    pub device_memory: &'static str,
    pub device_attribute: &'static str,
    pub module_load: &'static str,
    pub mem_alloc: &'static str,
    pub mem_free: &'static str,
    pub copy_to_device: &'static str,
    pub copy_to_host: &'static str,
    pub memset: &'static str,
    pub module_unload: &'static str,
    pub module_function: &'static str,
    pub launch: &'static str,
    pub stream_destroy: &'static str,
    pub stream_synchronize: &'static str,
}

impl Common {
    /// Looks up every call of `names` in `library` (`what` names it in errors).
    pub fn load(
        library: &libloading::Library,
        what: &str,
        names: &CommonNames,
    ) -> Result<Common, String> {
        fn get<F: Copy>(
            library: &libloading::Library,
            what: &str,
            name: &'static str,
        ) -> Result<Symbol<F>, String> {
            let c_name = CString::new(name).map_err(|e| e.to_string())?;
            // SAFETY: `F` is the C signature the vendor's header gives `name`; the caller
            // keeps `library` loaded while the pointer is used.
            let f = unsafe { library.get::<F>(c_name.as_bytes_with_nul()) }
                .map_err(|e| format!("{what} lacks {name}: {e}"))?;
            Ok((name, *f))
        }
        Ok(Common {
            init: get(library, what, names.init)?,
            driver_version: get(library, what, names.driver_version)?,
            device_count: get(library, what, names.device_count)?,
            device_get: get(library, what, names.device_get)?,
            device_name: get(library, what, names.device_name)?,
            device_uuid: get(library, what, names.device_uuid)?,
            device_memory: get(library, what, names.device_memory)?,
            device_attribute: get(library, what, names.device_attribute)?,
            module_load: get(library, what, names.module_load)?,
            mem_alloc: get(library, what, names.mem_alloc)?,
            mem_free: get(library, what, names.mem_free)?,
            copy_to_device: get(library, what, names.copy_to_device)?,
            copy_to_host: get(library, what, names.copy_to_host)?,
            memset: get(library, what, names.memset)?,
            module_unload: get(library, what, names.module_unload)?,
            module_function: get(library, what, names.module_function)?,
            launch: get(library, what, names.launch)?,
            stream_destroy: get(library, what, names.stream_destroy)?,
            stream_synchronize: get(library, what, names.stream_synchronize)?,
        })
    }
}

/// Opens the first of `names` that loads; the error names them all.
pub fn open_library(names: &[&str]) -> Result<libloading::Library, String> {
    let mut errors = vec![];
    for name in names {
        // SAFETY: loading a vendor driver library runs its initialisers, which is what
        // linking it would do; nothing else of it is touched before its symbols are checked.
        match unsafe { libloading::Library::new(name) } {
            Ok(lib) => return Ok(lib),
            Err(e) => errors.push(e.to_string()),
        }
    }
    Err(format!(
        "cannot load {} ({})",
        names.join(" or "),
        errors.join("; ")
    ))
}

/// Declares a vendor library's symbol table: a struct holding the library and one function
/// pointer per symbol, and `load(library)` that looks each up, failing with the first
/// missing symbol's name.
macro_rules! symbols {
    ($table:ident, $library:literal { $($field:ident = $symbol:literal: fn($($arg:ty),*) -> $ret:ty;)* }) => {
        struct $table {
            $($field: unsafe extern "C" fn($($arg),*) -> $ret,)*
            _library: libloading::Library,
        }

        impl $table {
            fn load(library: libloading::Library) -> Result<$table, String> {
                Ok($table {
                    $($field: {
                        // SAFETY: the symbol is declared with the C signature of the
                        // vendor's header; the pointer is used only while `library` lives
                        // in the same struct.
                        let f = unsafe {
                            library.get::<unsafe extern "C" fn($($arg),*) -> $ret>(
                                concat!($symbol, "\0").as_bytes(),
                            )
                        }
                        .map_err(|e| format!("{} lacks {}: {e}", $library, $symbol))?;
                        *f
                    },)*
                    _library: library,
                })
            }
        }
    };
}

pub(crate) use symbols;

/// A UUID as NVIDIA's tools print it: `GPU-` and 8-4-4-4-12 hex digits.
pub fn uuid_path(uuid: &[u8; 16]) -> String {
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "GPU-{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
