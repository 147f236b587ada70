//! HAL driver plugins: drivers built outside kiln and loaded from a shared library at run time
//! (`kiln-run-module --hal_driver_plugin=PATH`, `kiln.runtime.load_driver_plugin(PATH)`).
//!
//! [`load`] opens the library, checks the ABI version it was built for ([`abi::ABI_VERSION`];
//! another version is refused with both named), reads its descriptor ([`abi::PluginV1`]) and
//! returns a [`Driver`] to register. Its devices keep buffers in host memory
//! ([`HostBuffer`]), record commands as every device does, and hand each dispatch to the
//! plugin with the bindings' addresses. The library stays loaded while any driver, device or
//! executable from it lives.
//!
//! A Rust program needs none of this to add a driver: implement [`kiln_runtime::hal::Driver`]
//! and [`register`](kiln_runtime::DriverRegistry::register) it. The plugin ABI is for drivers
//! built separately from the program (another language, another build, no kiln rebuild);
//! `crates/kiln-example-accelerator` is one, in Rust.
//!
//! ```no_run
//! let mut registry = kiln_runtime::DriverRegistry::new();
//! let driver = kiln_hal_plugin::load(std::path::Path::new("libmy_accelerator.so"))?;
//! registry.register(driver);
//! # Ok::<(), kiln_runtime::HalError>(())
//! ```

pub mod abi;

use kiln_runtime::hal::{
    Buffer, Command, CommandBuffer, Device, DeviceInfo, DeviceOptions, Driver, Executable,
    HostBytes, Semaphore,
};
use kiln_runtime::host_buffer::HostBuffer;
use kiln_runtime::HalError;
use std::any::Any;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;
use std::sync::Arc;

/// Bytes a plugin may write an error message into.
const ERROR_CAPACITY: usize = 1024;

/// A loaded plugin library and its descriptor.
struct Plugin {
    descriptor: &'static abi::PluginV1,
    name: String,
    description: String,
    formats: Vec<String>,
    /// Keeps the code of `descriptor`'s functions loaded; dropped last.
    _library: libloading::Library,
}

// SAFETY: the descriptor and the strings it points at are immutable data of the library,
// which `Plugin` keeps loaded; the ABI has plugins accept calls from any thread.
unsafe impl Send for Plugin {}
// SAFETY: as above.
unsafe impl Sync for Plugin {}

/// Loads the driver plugin at `path`.
pub fn load(path: &Path) -> Result<Arc<dyn Driver>, HalError> {
    let failed = |reason: String| HalError::Unavailable {
        driver: format!("driver plugin '{}'", path.display()),
        reason,
    };
    // SAFETY: loading a library runs its initialisers: the user chose to trust this plugin,
    // as with any shared library.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| failed(e.to_string()))?;
    // SAFETY: the symbol has the ABI's version signature.
    let version = unsafe {
        let f: libloading::Symbol<unsafe extern "C" fn() -> u32> =
            library.get(abi::VERSION_SYMBOL).map_err(|_| {
                failed(
                    "it exports no kiln_hal_plugin_abi_version (not a kiln driver plugin)".into(),
                )
            })?;
        f()
    };
    if version != abi::ABI_VERSION {
        return Err(failed(format!(
            "it was built for driver plugin ABI version {version}, and this kiln reads version {}",
            abi::ABI_VERSION
        )));
    }
    // SAFETY: a version 1 plugin exports this function with this signature; its descriptor
    // lives as long as the library, which `Plugin` keeps loaded.
    let descriptor = unsafe {
        let f: libloading::Symbol<unsafe extern "C" fn() -> *const abi::PluginV1> = library
            .get(abi::DESCRIPTOR_SYMBOL)
            .map_err(|_| failed("it exports no kiln_hal_plugin_v1".into()))?;
        f().as_ref()
    }
    .ok_or_else(|| failed("kiln_hal_plugin_v1 returned null".into()))?;
    let text = |s: *const c_char, what: &str| -> Result<String, HalError> {
        if s.is_null() {
            return Err(failed(format!("its {what} is null")));
        }
        // SAFETY: a non-null ABI string is NUL-terminated and lives with the library.
        unsafe { CStr::from_ptr(s) }
            .to_str()
            .map(str::to_string)
            .map_err(|_| failed(format!("its {what} is not UTF-8")))
    };
    let name = text(descriptor.name, "name")?;
    if name.is_empty() {
        return Err(failed("its name is empty".into()));
    }
    let formats = text(descriptor.formats, "formats")?
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    Ok(Arc::new(PluginDriver(Arc::new(Plugin {
        description: text(descriptor.description, "description")?,
        name,
        formats,
        descriptor,
        _library: library,
    }))))
}

/// A plugin's driver: one device, on host memory.
struct PluginDriver(Arc<Plugin>);

impl Driver for PluginDriver {
    fn name(&self) -> &str {
        &self.0.name
    }
    fn description(&self) -> &str {
        &self.0.description
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        Ok(vec![device_info()])
    }
    fn create_device(
        &self,
        path: &str,
        _options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        if !path.is_empty() {
            return Err(HalError::UnknownDevice {
                driver: self.0.name.clone(),
                path: path.into(),
                available: "the default device".into(),
            });
        }
        Ok(Arc::new(PluginDevice(self.0.clone())))
    }
}

fn device_info() -> DeviceInfo {
    DeviceInfo {
        device_id: 0,
        path: String::new(),
        name: "default".into(),
    }
}

struct PluginDevice(Arc<Plugin>);

/// A loaded executable of a plugin.
struct PluginExecutable {
    plugin: Arc<Plugin>,
    handle: *mut c_void,
    entry_points: usize,
}

// SAFETY: the handle is the plugin's; the ABI has plugins accept calls from any thread, one
// dispatch at a time per device (the device's queue runs one submission at a time).
unsafe impl Send for PluginExecutable {}
// SAFETY: as above.
unsafe impl Sync for PluginExecutable {}

impl Drop for PluginExecutable {
    fn drop(&mut self) {
        // SAFETY: the handle came from this plugin's `load_executable` and is freed once.
        unsafe { (self.plugin.descriptor.free_executable)(self.handle) }
    }
}

impl Executable for PluginExecutable {
    fn entry_point_count(&self) -> usize {
        self.entry_points
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A plugin's error message.
fn message(buffer: &[c_char]) -> String {
    // SAFETY: `write_error`-style messages are NUL-terminated within the buffer, whose last
    // byte the caller zeroed.
    unsafe { CStr::from_ptr(buffer.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

impl Device for PluginDevice {
    fn info(&self) -> DeviceInfo {
        device_info()
    }
    fn driver_name(&self) -> &str {
        &self.0.name
    }
    fn properties(&self) -> Vec<(String, String)> {
        vec![
            ("executable-formats".into(), self.0.formats.join(", ")),
            ("plugin ABI version".into(), abi::ABI_VERSION.to_string()),
        ]
    }
    fn executable_formats(&self) -> Vec<String> {
        self.0.formats.clone()
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(HostBuffer::zeroed(bytes)?))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(HostBuffer::shared(bytes, offset, length)?))
    }
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        if !self.0.formats.iter().any(|f| f == format) {
            return Err(HalError::UnsupportedFormat {
                format: format.into(),
                supported: self.0.formats.join(", "),
            });
        }
        let c_format =
            CString::new(format).map_err(|_| HalError::Invalid("format has NUL".into()))?;
        let mut error = [0 as c_char; ERROR_CAPACITY];
        // SAFETY: the ABI's load_executable with valid format, data and error buffer.
        let handle = unsafe {
            (self.0.descriptor.load_executable)(
                c_format.as_ptr(),
                data.as_ptr(),
                data.len(),
                error.as_mut_ptr(),
                ERROR_CAPACITY - 1,
            )
        };
        if handle.is_null() {
            return Err(HalError::BadExecutable {
                format: format.into(),
                reason: message(&error),
            });
        }
        // SAFETY: a handle the plugin just returned.
        let entry_points = unsafe { (self.0.descriptor.entry_point_count)(handle) } as usize;
        Ok(Arc::new(PluginExecutable {
            plugin: self.0.clone(),
            handle,
            entry_points,
        }))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        for (index, c) in commands.commands().iter().enumerate() {
            let Command::Dispatch {
                executable,
                entry_point,
                workgroups,
                bindings,
                params,
            } = c
            else {
                // Dispatches run one after another: every point between them is a barrier.
                continue;
            };
            let exe = executable
                .as_any()
                .downcast_ref::<PluginExecutable>()
                .filter(|e| Arc::ptr_eq(&e.plugin, &self.0))
                .ok_or_else(|| HalError::Invalid("executable belongs to another device".into()))?;
            let bound = bindings
                .iter()
                .map(|b| {
                    let buffer = HostBuffer::of(&b.buffer)?;
                    Ok(abi::Binding {
                        data: buffer.address(b.offset),
                        length: b.length,
                        writable: buffer.writable() as u8,
                    })
                })
                .collect::<Result<Vec<_>, HalError>>()?;
            let mut error = [0 as c_char; ERROR_CAPACITY];
            // SAFETY: the command buffer checked every binding range against its buffer when
            // recording, and the buffers (held by `commands`) outlive the call; the plugin
            // checks the bindings against its kernel (the ABI's contract).
            let status = unsafe {
                (self.0.descriptor.dispatch)(
                    exe.handle,
                    *entry_point,
                    workgroups.as_ptr(),
                    bound.as_ptr(),
                    bound.len(),
                    params.as_ptr(),
                    params.len(),
                    error.as_mut_ptr(),
                    ERROR_CAPACITY - 1,
                )
            };
            if status != 0 {
                return Err(HalError::Dispatch {
                    index,
                    kernel: format!("entry point {entry_point}"),
                    reason: message(&error),
                });
            }
        }
        if let Some((semaphore, value)) = signal {
            semaphore.signal(value);
        }
        Ok(())
    }
}
