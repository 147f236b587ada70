//! kiln's C API: create an instance (every HAL driver this build has), a device by URI, load a
//! module from a file or from bytes, look its functions up and read their signatures, and call
//! them with host tensors. The header, `include/kiln.h`, is generated from this file by
//! cbindgen (a test keeps it current); `examples/run_model.c` uses it.
//!
//! Conventions, as in IREE's runtime API:
//! - Every fallible call returns a `kiln_status*`: null on success, else a status the caller
//!   reads (`kiln_status_code`, `kiln_status_message`) and frees (`kiln_status_free`).
//! - Objects are opaque pointers created by `kiln_*_create` / `kiln_*_load_*` and released by
//!   the matching `kiln_*_free` (null is accepted and ignored). A device outlives nothing it
//!   made: modules and tensors keep what they need alive.
//! - Strings returned by the API are owned by the object they came from and valid while it is.
//! - Nothing panics across the boundary: a kiln bug becomes a `KILN_STATUS_INTERNAL` status.
//!
//! ```c
//! kiln_instance* instance = NULL;
//! kiln_status* s = kiln_instance_create(&instance);
//! kiln_device* device = NULL;
//! if (!s) s = kiln_device_create(instance, "local-task", &device);
//! kiln_module* module = NULL;
//! if (!s) s = kiln_module_load_file(device, "model.kiln", &module);
//! ```

#![allow(non_camel_case_types)]

use kiln_runtime::hal::Device;
use kiln_runtime::{DriverRegistry, LoadedModule, ModuleBytes};
use kiln_types::{ElementType, HostTensor};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

/// What kind of failure a status reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kiln_status_code_t {
    KILN_STATUS_OK = 0,
    /// A null pointer, a malformed string, a shape that does not fit its data, or inputs that
    /// do not match the function's signature.
    KILN_STATUS_INVALID_ARGUMENT = 1,
    /// No such driver, device, function, file or index.
    KILN_STATUS_NOT_FOUND = 2,
    /// A driver that cannot initialise here (its system library is missing).
    KILN_STATUS_UNAVAILABLE = 3,
    /// The module is malformed, for another device, or its call failed.
    KILN_STATUS_FAILED = 4,
    /// A bug in kiln (it panicked); the message says where.
    KILN_STATUS_INTERNAL = 5,
}

/// An error: its code and a one-line message.
pub struct kiln_status {
    code: kiln_status_code_t,
    message: CString,
}

/// The drivers a program can create devices from.
pub struct kiln_instance {
    registry: DriverRegistry,
    names: Vec<CString>,
}

/// A device of one driver.
pub struct kiln_device {
    device: Arc<dyn Device>,
}

/// A module loaded on a device.
pub struct kiln_module {
    module: LoadedModule,
    /// Exported function names, in module order.
    names: Vec<CString>,
}

/// A dense host tensor: element type, shape and little-endian bytes.
pub struct kiln_tensor {
    tensor: HostTensor,
    dims: Vec<i64>,
}

/// The most dims a [`kiln_tensor_type`] describes.
pub const KILN_MAX_RANK: usize = 8;

/// The largest rank `kiln_tensor_create` takes.
const MAX_TENSOR_RANK: usize = 64;

/// One input or output of a function's signature.
#[repr(C)]
pub struct kiln_tensor_type {
    /// The element type's code (`kiln_element_type_name` names it).
    pub element_type: u8,
    /// The number of dims, or -1 when it is known only per call.
    pub rank: i64,
    /// Each dim's size, or -1 for a size known only per call (a symbolic dim).
    pub dims: [i64; KILN_MAX_RANK],
}

fn status(code: kiln_status_code_t, message: impl Into<String>) -> *mut kiln_status {
    let message = message.into().replace('\0', " ");
    let message = CString::new(message).unwrap_or_default();
    Box::into_raw(Box::new(kiln_status { code, message }))
}

fn invalid(message: impl Into<String>) -> *mut kiln_status {
    status(kiln_status_code_t::KILN_STATUS_INVALID_ARGUMENT, message)
}

/// Runs `f`, turning a panic into an internal-error status.
fn guard(f: impl FnOnce() -> *mut kiln_status) -> *mut kiln_status {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        status(
            kiln_status_code_t::KILN_STATUS_INTERNAL,
            format!("internal error (a kiln bug): {what}"),
        )
    })
}

/// The string at `s`, or an error naming `what`.
///
/// # Safety
/// `s` is null or a NUL-terminated string.
unsafe fn text<'a>(s: *const c_char, what: &str) -> Result<&'a str, *mut kiln_status> {
    if s.is_null() {
        return Err(invalid(format!("{what} is null")));
    }
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| invalid(format!("{what} is not UTF-8")))
}

fn hal_status(e: kiln_runtime::HalError) -> *mut kiln_status {
    use kiln_runtime::HalError as H;
    let code = match &e {
        H::UnknownDriver { .. } | H::UnknownDevice { .. } => {
            kiln_status_code_t::KILN_STATUS_NOT_FOUND
        }
        H::Unavailable { .. } => kiln_status_code_t::KILN_STATUS_UNAVAILABLE,
        H::BadOption(_) | H::Invalid(_) => kiln_status_code_t::KILN_STATUS_INVALID_ARGUMENT,
        _ => kiln_status_code_t::KILN_STATUS_FAILED,
    };
    status(code, e.to_string())
}

fn runtime_status(e: kiln_runtime::RuntimeError) -> *mut kiln_status {
    use kiln_runtime::RuntimeError as R;
    let code = match &e {
        R::UnknownFunction { .. } => kiln_status_code_t::KILN_STATUS_NOT_FOUND,
        R::Input(_) => kiln_status_code_t::KILN_STATUS_INVALID_ARGUMENT,
        _ => kiln_status_code_t::KILN_STATUS_FAILED,
    };
    status(code, e.to_string())
}

/// The code of `status` (`KILN_STATUS_OK` for null).
///
/// # Safety
/// `status` is null or a status this API returned and has not freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_status_code(status: *const kiln_status) -> kiln_status_code_t {
    // SAFETY: per the contract above.
    unsafe { status.as_ref() }.map_or(kiln_status_code_t::KILN_STATUS_OK, |s| s.code)
}

/// The message of `status` (empty for null), valid until the status is freed.
///
/// # Safety
/// `status` is null or a status this API returned and has not freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_status_message(status: *const kiln_status) -> *const c_char {
    // SAFETY: per the contract above.
    match unsafe { status.as_ref() } {
        Some(s) => s.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Frees a status.
///
/// # Safety
/// `status` is null or a status this API returned, freed once.
#[no_mangle]
pub unsafe extern "C" fn kiln_status_free(status: *mut kiln_status) {
    // SAFETY: per the contract above.
    unsafe { release(status) }
}

/// Frees an object this API boxed (null is ignored).
///
/// # Safety
/// `p` is null or came from `Box::into_raw` here, and is freed once.
unsafe fn release<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: per the contract above.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Name `index` of `names` as a C string (null when out of range or without names).
fn name_at(names: Option<&[CString]>, index: usize) -> *const c_char {
    names
        .and_then(|n| n.get(index))
        .map_or(std::ptr::null(), |n| n.as_ptr())
}

/// Writes `value` through `out` (checked non-null by the caller).
///
/// # Safety
/// `out` points at writable memory for one `T`.
unsafe fn put<T>(out: *mut *mut T, value: T) {
    // SAFETY: per the contract above.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// A static library's descriptor, as its `NAME_library_query()` returns it (opaque here; the
/// compiler writes it, the local drivers read it).
pub struct kiln_static_library {
    _opaque: [u8; 0],
}

/// The query function of a static library (`NAME_library_query`, declared in the `NAME.h`
/// that `kiln-compile --iree-llvmcpu-link-embedded=false
/// --iree-llvmcpu-static-library-output-path=DIR/NAME.o` writes).
pub type kiln_static_library_query = Option<unsafe extern "C" fn() -> *const kiln_static_library>;

/// Registers a static library linked into the program, so the local drivers run the modules
/// compiled with it (whose executables name it). Register it before loading such a module; a
/// library compiled for another ABI version is refused with both versions named.
///
/// # Safety
/// `query` is null or a static library's query function as kiln-compile wrote it.
#[no_mangle]
pub unsafe extern "C" fn kiln_register_static_library(
    query: kiln_static_library_query,
) -> *mut kiln_status {
    guard(|| {
        let Some(query) = query else {
            return invalid("query is null");
        };
        // SAFETY: the same function, its descriptor seen as the layout the compiler wrote
        // (`kiln_native::StaticLibrary`), per the contract above.
        let query = unsafe {
            std::mem::transmute::<
                unsafe extern "C" fn() -> *const kiln_static_library,
                kiln_native::StaticLibraryQuery,
            >(query)
        };
        // SAFETY: per the contract above.
        match unsafe { kiln_hal_local::register_static_library(query) } {
            Ok(_) => std::ptr::null_mut(),
            Err(e) => hal_status(e),
        }
    })
}

/// Creates an instance holding every HAL driver of this build (`local-sync`, `local-task`,
/// `vulkan`, `cuda`, `hip`).
///
/// # Safety
/// `out` points at writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_create(out: *mut *mut kiln_instance) -> *mut kiln_status {
    guard(|| {
        if out.is_null() {
            return invalid("out is null");
        }
        let mut registry = DriverRegistry::new();
        kiln_hal_local::register(&mut registry);
        kiln_hal_vulkan::register(&mut registry);
        kiln_hal_gpu::register(&mut registry);
        let names = registry
            .names()
            .iter()
            .map(|n| CString::new(n.as_str()).unwrap_or_default())
            .collect();
        // SAFETY: `out` is non-null and writable per the contract.
        unsafe { put(out, kiln_instance { registry, names }) };
        std::ptr::null_mut()
    })
}

/// Frees an instance (devices made from it stay valid).
///
/// # Safety
/// `instance` is null or an instance this API made, freed once.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_free(instance: *mut kiln_instance) {
    // SAFETY: per the contract above.
    unsafe { release(instance) }
}

/// The number of drivers `instance` holds.
///
/// # Safety
/// `instance` is an instance this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_driver_count(instance: *const kiln_instance) -> usize {
    // SAFETY: per the contract above.
    unsafe { instance.as_ref() }.map_or(0, |i| i.names.len())
}

/// The name of driver `index` (null when out of range), valid while the instance is.
///
/// # Safety
/// `instance` is an instance this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_driver_name(
    instance: *const kiln_instance,
    index: usize,
) -> *const c_char {
    // SAFETY: per the contract above.
    name_at(unsafe { instance.as_ref() }.map(|i| &i.names[..]), index)
}

/// Creates the device `uri` names: `driver`, `driver://` or `driver://path` (as
/// `kiln-run-module --device` takes it).
///
/// # Safety
/// `instance` is an instance this API made, `uri` a NUL-terminated string and `out` points
/// at writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn kiln_device_create(
    instance: *const kiln_instance,
    uri: *const c_char,
    out: *mut *mut kiln_device,
) -> *mut kiln_status {
    guard(|| {
        // SAFETY: per the contract above.
        let Some(instance) = (unsafe { instance.as_ref() }) else {
            return invalid("instance is null");
        };
        // SAFETY: per the contract above.
        let uri = match unsafe { text(uri, "uri") } {
            Ok(u) => u,
            Err(s) => return s,
        };
        if out.is_null() {
            return invalid("out is null");
        }
        match instance.registry.create_device(uri, &Default::default()) {
            Ok(device) => {
                // SAFETY: `out` is non-null and writable per the contract.
                unsafe { put(out, kiln_device { device }) };
                std::ptr::null_mut()
            }
            Err(e) => hal_status(e),
        }
    })
}

/// Frees a device (modules loaded on it stay valid).
///
/// # Safety
/// `device` is null or a device this API made, freed once.
#[no_mangle]
pub unsafe extern "C" fn kiln_device_free(device: *mut kiln_device) {
    // SAFETY: per the contract above.
    unsafe { release(device) }
}

fn load(
    device: &kiln_device,
    bytes: ModuleBytes,
    source: &str,
) -> Result<kiln_module, *mut kiln_status> {
    let module = LoadedModule::load(device.device.clone(), Arc::new(bytes), source)
        .map_err(runtime_status)?;
    let names = module
        .module()
        .functions
        .iter()
        .filter(|f| !f.internal)
        .map(|f| CString::new(f.name.as_str()).unwrap_or_default())
        .collect();
    Ok(kiln_module { module, names })
}

/// Loads the module file at `path` on `device` (mapped, not copied).
///
/// # Safety
/// `device` is a device this API made, `path` a NUL-terminated string and `out` points at
/// writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_load_file(
    device: *const kiln_device,
    path: *const c_char,
    out: *mut *mut kiln_module,
) -> *mut kiln_status {
    guard(|| {
        // SAFETY: per the contract above.
        let Some(device) = (unsafe { device.as_ref() }) else {
            return invalid("device is null");
        };
        // SAFETY: per the contract above.
        let path = match unsafe { text(path, "path") } {
            Ok(p) => p,
            Err(s) => return s,
        };
        if out.is_null() {
            return invalid("out is null");
        }
        let bytes = match ModuleBytes::map(Path::new(path)) {
            Ok(b) => b,
            Err(e) => return status(kiln_status_code_t::KILN_STATUS_NOT_FOUND, e.to_string()),
        };
        match load(device, bytes, path) {
            Ok(m) => {
                // SAFETY: `out` is non-null and writable per the contract.
                unsafe { put(out, m) };
                std::ptr::null_mut()
            }
            Err(s) => s,
        }
    })
}

/// Loads a module from `length` bytes at `data` (copied: the caller may free them after).
///
/// # Safety
/// `device` is a device this API made, `data` points at `length` readable bytes and `out` at
/// writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_load_bytes(
    device: *const kiln_device,
    data: *const u8,
    length: usize,
    out: *mut *mut kiln_module,
) -> *mut kiln_status {
    guard(|| {
        // SAFETY: per the contract above.
        let Some(device) = (unsafe { device.as_ref() }) else {
            return invalid("device is null");
        };
        if data.is_null() || out.is_null() {
            return invalid("data or out is null");
        }
        // SAFETY: `data` points at `length` readable bytes per the contract.
        let bytes = unsafe { std::slice::from_raw_parts(data, length) };
        match load(device, ModuleBytes::from_bytes(bytes), "<bytes>") {
            Ok(m) => {
                // SAFETY: `out` is non-null and writable per the contract.
                unsafe { put(out, m) };
                std::ptr::null_mut()
            }
            Err(s) => s,
        }
    })
}

/// Frees a module.
///
/// # Safety
/// `module` is null or a module this API loaded, freed once.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_free(module: *mut kiln_module) {
    // SAFETY: per the contract above.
    unsafe { release(module) }
}

/// The number of functions `module` exports.
///
/// # Safety
/// `module` is a module this API loaded.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_function_count(module: *const kiln_module) -> usize {
    // SAFETY: per the contract above.
    unsafe { module.as_ref() }.map_or(0, |m| m.names.len())
}

/// The name of exported function `index` (null when out of range), valid while the module is.
///
/// # Safety
/// `module` is a module this API loaded.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_function_name(
    module: *const kiln_module,
    index: usize,
) -> *const c_char {
    // SAFETY: per the contract above.
    name_at(unsafe { module.as_ref() }.map(|m| &m.names[..]), index)
}

/// The signature of function `function`: its number of inputs and outputs, and (when
/// `inputs`/`outputs` are not null) the type of each, written into arrays of at least that
/// many entries (call once with null arrays for the counts).
///
/// # Safety
/// `module` is a module this API loaded, `function` a NUL-terminated string, the counts point
/// at writable `size_t`s, and the arrays are null or hold enough entries.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_signature(
    module: *const kiln_module,
    function: *const c_char,
    input_count: *mut usize,
    inputs: *mut kiln_tensor_type,
    output_count: *mut usize,
    outputs: *mut kiln_tensor_type,
) -> *mut kiln_status {
    guard(|| {
        // SAFETY: per the contract above.
        let Some(module) = (unsafe { module.as_ref() }) else {
            return invalid("module is null");
        };
        // SAFETY: per the contract above.
        let name = match unsafe { text(function, "function") } {
            Ok(n) => n,
            Err(s) => return s,
        };
        if input_count.is_null() || output_count.is_null() {
            return invalid("input_count or output_count is null");
        }
        let f = match module.module.function(name) {
            Ok(f) => f,
            Err(e) => return runtime_status(e),
        };
        for (sigs, count, out) in [
            (&f.inputs, input_count, inputs),
            (&f.outputs, output_count, outputs),
        ] {
            // SAFETY: a writable size_t per the contract.
            unsafe { *count = sigs.len() };
            if out.is_null() {
                continue;
            }
            for (i, sig) in sigs.iter().enumerate() {
                if sig.dims.len() > KILN_MAX_RANK {
                    return invalid(format!(
                        "'{}' has rank {}; the C API describes at most {KILN_MAX_RANK} dims",
                        sig.name,
                        sig.dims.len()
                    ));
                }
                let mut dims = [0i64; KILN_MAX_RANK];
                for (d, size) in dims.iter_mut().zip(&sig.dims) {
                    *d = size.as_const().unwrap_or(-1);
                }
                let t = kiln_tensor_type {
                    element_type: sig.element_type.code(),
                    rank: if sig.any_rank {
                        -1
                    } else {
                        sig.dims.len() as i64
                    },
                    dims,
                };
                // SAFETY: the array holds at least `sigs.len()` entries per the contract.
                unsafe { out.add(i).write(t) };
            }
        }
        std::ptr::null_mut()
    })
}

/// The code of element type `name` (`"f32"`, `"i64"`, `"f16"`, …), or -1 if kiln has none.
///
/// # Safety
/// `name` is null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn kiln_element_type_from_name(name: *const c_char) -> i32 {
    // SAFETY: per the contract above.
    match unsafe { text(name, "name") } {
        Ok(n) => ElementType::from_name(n).map_or(-1, |t| i32::from(t.code())),
        Err(s) => {
            // SAFETY: a status just made, freed once.
            unsafe { kiln_status_free(s) };
            -1
        }
    }
}

/// The name of element type `code` (null if unknown); a static string.
#[no_mangle]
pub extern "C" fn kiln_element_type_name(code: u8) -> *const c_char {
    match ElementType::from_code(code) {
        // Names are static ASCII; keep one NUL-terminated copy per type.
        Some(t) => static_name(t),
        None => std::ptr::null(),
    }
}

fn static_name(t: ElementType) -> *const c_char {
    use std::sync::OnceLock;
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        (0..=u8::MAX)
            .map_while(ElementType::from_code)
            .map(|t| CString::new(t.name()).unwrap_or_default())
            .collect()
    });
    names
        .get(t.code() as usize)
        .map_or(std::ptr::null(), |n| n.as_ptr())
}

/// Creates a tensor of element type `element_type` (a code) and shape `dims[0..rank]` from
/// `byte_length` bytes at `data` (copied), which must be exactly the shape's size.
///
/// # Safety
/// `dims` points at `rank` readable `int64_t`s, `data` at `byte_length` readable bytes, and
/// `out` at writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_create(
    element_type: u8,
    dims: *const i64,
    rank: usize,
    data: *const u8,
    byte_length: usize,
    out: *mut *mut kiln_tensor,
) -> *mut kiln_status {
    guard(|| {
        let Some(t) = ElementType::from_code(element_type) else {
            return invalid(format!("unknown element type code {element_type}"));
        };
        if rank > MAX_TENSOR_RANK {
            return invalid(format!("rank {rank} exceeds {MAX_TENSOR_RANK}"));
        }
        if (rank > 0 && dims.is_null()) || (byte_length > 0 && data.is_null()) || out.is_null() {
            return invalid("dims, data or out is null");
        }
        let dims: Vec<i64> = if rank == 0 {
            vec![]
        } else {
            // SAFETY: `dims` points at `rank` int64s per the contract.
            unsafe { std::slice::from_raw_parts(dims, rank) }.to_vec()
        };
        let Ok(shape) = dims
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<_>, _>>()
        else {
            return invalid(format!("negative dim in {dims:?}"));
        };
        let bytes = if byte_length == 0 {
            vec![]
        } else {
            // SAFETY: `data` points at `byte_length` bytes per the contract.
            unsafe { std::slice::from_raw_parts(data, byte_length) }.to_vec()
        };
        match HostTensor::new(t, shape, bytes) {
            Ok(tensor) => {
                // SAFETY: `out` is non-null and writable per the contract.
                unsafe { put(out, kiln_tensor { tensor, dims }) };
                std::ptr::null_mut()
            }
            Err(e) => invalid(e.to_string()),
        }
    })
}

/// Frees a tensor.
///
/// # Safety
/// `tensor` is null or a tensor this API made, freed once.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_free(tensor: *mut kiln_tensor) {
    // SAFETY: per the contract above.
    unsafe { release(tensor) }
}

/// The element type code of `tensor`.
///
/// # Safety
/// `tensor` is a tensor this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_element_type(tensor: *const kiln_tensor) -> u8 {
    // SAFETY: per the contract above.
    unsafe { tensor.as_ref() }.map_or(0, |t| t.tensor.element_type.code())
}

/// The rank of `tensor`.
///
/// # Safety
/// `tensor` is a tensor this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_rank(tensor: *const kiln_tensor) -> usize {
    // SAFETY: per the contract above.
    unsafe { tensor.as_ref() }.map_or(0, |t| t.dims.len())
}

/// The dims of `tensor` (`rank` of them), valid while the tensor is.
///
/// # Safety
/// `tensor` is a tensor this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_dims(tensor: *const kiln_tensor) -> *const i64 {
    // SAFETY: per the contract above.
    unsafe { tensor.as_ref() }.map_or(std::ptr::null(), |t| t.dims.as_ptr())
}

/// The bytes of `tensor` (little-endian, row-major), valid while the tensor is.
///
/// # Safety
/// `tensor` is a tensor this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_data(tensor: *const kiln_tensor) -> *const u8 {
    // SAFETY: per the contract above.
    unsafe { tensor.as_ref() }.map_or(std::ptr::null(), |t| t.tensor.data.as_ptr())
}

/// The number of bytes of `tensor`.
///
/// # Safety
/// `tensor` is a tensor this API made.
#[no_mangle]
pub unsafe extern "C" fn kiln_tensor_byte_length(tensor: *const kiln_tensor) -> usize {
    // SAFETY: per the contract above.
    unsafe { tensor.as_ref() }.map_or(0, |t| t.tensor.data.len())
}

/// Calls `function` with `input_count` tensors and writes its new result tensors to
/// `outputs` (the caller frees each) and their number to `output_count` (0 on any error,
/// when nothing is written). Inputs are checked against the signature; an `outputs` array
/// smaller than the signature's result count is an error naming it, before anything runs.
///
/// # Safety
/// `module` is a module this API loaded, `function` a NUL-terminated string, `inputs` points
/// at `input_count` tensors this API made, `outputs` at `output_capacity` writable pointers
/// and `output_count` at a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_call(
    module: *const kiln_module,
    function: *const c_char,
    inputs: *const *const kiln_tensor,
    input_count: usize,
    outputs: *mut *mut kiln_tensor,
    output_capacity: usize,
    output_count: *mut usize,
) -> *mut kiln_status {
    guard(|| {
        // SAFETY: per the contract above.
        let Some(module) = (unsafe { module.as_ref() }) else {
            return invalid("module is null");
        };
        // SAFETY: per the contract above.
        let name = match unsafe { text(function, "function") } {
            Ok(n) => n,
            Err(s) => return s,
        };
        if (input_count > 0 && inputs.is_null()) || output_count.is_null() {
            return invalid("inputs or output_count is null");
        }
        // SAFETY: a writable size_t per the contract; 0 until results are written.
        unsafe { *output_count = 0 };
        let results_count = match module.module.function(name) {
            Ok(f) => f.outputs.len(),
            Err(e) => return runtime_status(e),
        };
        if results_count > output_capacity || (output_capacity > 0 && outputs.is_null()) {
            return invalid(format!(
                "'{name}' returns {results_count} results; outputs holds {output_capacity}"
            ));
        }
        let mut args = Vec::with_capacity(input_count);
        for i in 0..input_count {
            // SAFETY: `inputs` holds `input_count` pointers per the contract.
            let t = unsafe { *inputs.add(i) };
            // SAFETY: each is a tensor this API made, or null.
            match unsafe { t.as_ref() } {
                Some(t) => args.push(t.tensor.clone()),
                None => return invalid(format!("input {i} is null")),
            }
        }
        let results = match module.module.invoke_owned(name, args) {
            Ok(r) => r,
            Err(e) => return runtime_status(e),
        };
        if results.len() > output_capacity {
            return status(
                kiln_status_code_t::KILN_STATUS_INTERNAL,
                format!(
                    "'{name}' returned {} results, not {results_count}",
                    results.len()
                ),
            );
        }
        // SAFETY: a writable size_t per the contract.
        unsafe { *output_count = results.len() };
        for (i, tensor) in results.into_iter().enumerate() {
            let dims = tensor.shape.iter().map(|&d| d as i64).collect();
            // SAFETY: `outputs` holds `output_capacity` writable pointers per the contract.
            unsafe { *outputs.add(i) = Box::into_raw(Box::new(kiln_tensor { tensor, dims })) };
        }
        std::ptr::null_mut()
    })
}
