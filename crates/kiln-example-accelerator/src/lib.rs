//! An example accelerator driver plugin: a shared library (`cdylib`) implementing kiln's driver
//! plugin C ABI ([`kiln_hal_plugin::abi`]), built apart from the program that loads it
//! (`kiln-run-module --hal_driver_plugin=libkiln_example_accelerator.so
//! --device=example-accelerator`).
//!
//! Its "accelerator" is the host CPU: it loads VMVX executables and runs each dispatch's
//! workgroups one after another on kiln's interpreter, checking the bindings against the
//! kernel first. A real accelerator's plugin would translate the same calls to its device.

use kiln_hal_plugin::abi::{self, write_error, Binding, PluginV1};
use kiln_vmvx::Executable;
use std::ffi::{c_char, c_void, CStr};

/// The ABI version this plugin was built for.
#[no_mangle]
pub extern "C" fn kiln_hal_plugin_abi_version() -> u32 {
    abi::ABI_VERSION
}

/// The plugin's descriptor.
#[no_mangle]
pub extern "C" fn kiln_hal_plugin_v1() -> *const PluginV1 {
    &DESCRIPTOR.0
}

/// `PluginV1` holds raw pointers, which are not `Sync`; this one's are static strings and
/// functions.
struct Descriptor(PluginV1);

// SAFETY: every pointer in the descriptor is to immutable static data or code.
unsafe impl Sync for Descriptor {}

static DESCRIPTOR: Descriptor = Descriptor(PluginV1 {
    name: c"example-accelerator".as_ptr(),
    description:
        c"Example driver plugin: VMVX executables on host memory (kiln-example-accelerator)"
            .as_ptr(),
    formats: c"vmvx-bytecode".as_ptr(),
    load_executable,
    free_executable,
    entry_point_count,
    dispatch,
});

/// Decodes and checks a VMVX executable (static sizes).
unsafe extern "C" fn load_executable(
    format: *const c_char,
    data: *const u8,
    length: usize,
    error: *mut c_char,
    capacity: usize,
) -> *mut c_void {
    // SAFETY: the ABI passes a NUL-terminated format and `length` readable bytes.
    let (format, data) = unsafe {
        (
            CStr::from_ptr(format),
            std::slice::from_raw_parts(data, length),
        )
    };
    let fail = |message: String| {
        // SAFETY: the ABI's error buffer.
        unsafe { write_error(&message, error, capacity) };
        std::ptr::null_mut()
    };
    if format.to_bytes() != kiln_vmvx::FORMAT.as_bytes() {
        return fail(format!("format {format:?} is not {}", kiln_vmvx::FORMAT));
    }
    if kiln_vmvx::format::is_symbolic(data) {
        return fail("kernels whose sizes are known only at run time are not supported".into());
    }
    match Executable::decode(data) {
        Ok(exe) => Box::into_raw(Box::new(exe)).cast(),
        Err(e) => fail(e.to_string()),
    }
}

/// Frees an executable `load_executable` made.
unsafe extern "C" fn free_executable(executable: *mut c_void) {
    if !executable.is_null() {
        // SAFETY: a pointer from `Box::into_raw` in `load_executable`, freed once (ABI).
        drop(unsafe { Box::from_raw(executable.cast::<Executable>()) });
    }
}

unsafe extern "C" fn entry_point_count(executable: *const c_void) -> u32 {
    // SAFETY: a live handle from `load_executable` (ABI).
    let exe = unsafe { &*executable.cast::<Executable>() };
    exe.kernels.len() as u32
}

/// Checks the bindings against the kernel, then runs its workgroups in order.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn dispatch(
    executable: *const c_void,
    entry: u32,
    workgroups: *const u32,
    bindings: *const Binding,
    binding_count: usize,
    _params: *const i64,
    param_count: usize,
    error: *mut c_char,
    capacity: usize,
) -> i32 {
    // SAFETY: a live handle, three workgroup counts and `binding_count` bindings (ABI).
    let (exe, grid, bindings) = unsafe {
        (
            &*executable.cast::<Executable>(),
            std::slice::from_raw_parts(workgroups, 3),
            std::slice::from_raw_parts(bindings, binding_count),
        )
    };
    let fail = |message: String| {
        // SAFETY: the ABI's error buffer.
        unsafe { write_error(&message, error, capacity) };
        1
    };
    if param_count != 0 {
        return fail("this plugin's kernels take no parameters".into());
    }
    let count = grid.iter().map(|&g| g as u64).product::<u64>();
    let Ok(count) = u32::try_from(count) else {
        return fail("too many workgroups".into());
    };
    let bindings: Vec<kiln_vmvx::Binding> = bindings
        .iter()
        .map(|b| kiln_vmvx::Binding {
            ptr: b.data,
            len: b.length,
            writable: b.writable != 0,
        })
        .collect();
    if let Err(e) = exe.check_bindings(entry as usize, count, &bindings) {
        return fail(e.to_string());
    }
    let kernels = kiln_ukernel::Kernels::best();
    for wg in 0..count {
        // SAFETY: `check_bindings` passed for these bindings, which the host keeps valid for
        // the call (ABI); workgroups run one at a time.
        if let Err(e) = unsafe { exe.run_workgroup(entry as usize, wg, &bindings, kernels) } {
            return fail(e.to_string());
        }
    }
    0
}
