//! The driver plugin C ABI, version [`ABI_VERSION`].
//!
//! A plugin is a shared library exporting two functions:
//!
//! ```c
//! uint32_t kiln_hal_plugin_abi_version(void);            /* the ABI it was built for */
//! const kiln_hal_plugin_v1 *kiln_hal_plugin_v1(void);    /* read only if that is 1 */
//! ```
//!
//! The descriptor names the driver and its executable formats and gives the functions kiln
//! calls. Devices compute on host memory that kiln owns (as IREE's executable plugins do):
//! kiln allocates buffers, records commands, and calls `dispatch` with the bindings' addresses;
//! the plugin loads executables and runs their workgroups. Strings are NUL-terminated UTF-8;
//! a failing call writes a message (truncated to `capacity` bytes, NUL-terminated) to `error`.

use std::ffi::{c_char, c_void};

/// The ABI version this kiln reads.
pub const ABI_VERSION: u32 = 1;

/// The symbol of `uint32_t kiln_hal_plugin_abi_version(void)`.
pub const VERSION_SYMBOL: &[u8] = b"kiln_hal_plugin_abi_version\0";

/// The symbol of `const kiln_hal_plugin_v1 *kiln_hal_plugin_v1(void)`.
pub const DESCRIPTOR_SYMBOL: &[u8] = b"kiln_hal_plugin_v1\0";

/// A binding of a dispatch: `length` bytes of host memory at `data`.
#[repr(C)]
pub struct Binding {
    pub data: *mut u8,
    pub length: usize,
    /// Zero for read-only memory (module constants), which the kernel must not write.
    pub writable: u8,
}

/// `kiln_hal_plugin_v1`: what a version 1 plugin provides.
#[repr(C)]
pub struct PluginV1 {
    /// The driver's name (`--device=NAME`).
    pub name: *const c_char,
    /// One line for `--list_drivers`.
    pub description: *const c_char,
    /// The executable formats the plugin loads, comma-separated, best first.
    pub formats: *const c_char,
    /// Loads an executable of `format` from `length` bytes (copied if kept); returns a handle,
    /// or null with a message in `error`.
    pub load_executable: unsafe extern "C" fn(
        format: *const c_char,
        data: *const u8,
        length: usize,
        error: *mut c_char,
        capacity: usize,
    ) -> *mut c_void,
    /// Frees an executable `load_executable` returned.
    pub free_executable: unsafe extern "C" fn(executable: *mut c_void),
    /// The executable's number of entry points.
    pub entry_point_count: unsafe extern "C" fn(executable: *const c_void) -> u32,
    /// Runs entry point `entry` over `workgroups[0] × workgroups[1] × workgroups[2]`
    /// workgroups with `binding_count` bindings and `param_count` parameters (the values of the
    /// symbols a kernel with run-time sizes reads); returns 0, or nonzero with a message in
    /// `error`. The plugin checks the bindings against what the kernel reads and writes.
    pub dispatch: unsafe extern "C" fn(
        executable: *const c_void,
        entry: u32,
        workgroups: *const u32,
        bindings: *const Binding,
        binding_count: usize,
        params: *const i64,
        param_count: usize,
        error: *mut c_char,
        capacity: usize,
    ) -> i32,
}

/// Writes `message` into a plugin's `error` buffer of `capacity` bytes, truncated and
/// NUL-terminated (nothing if the buffer is null or empty). For plugin authors.
///
/// # Safety
/// `error` is null or points at `capacity` writable bytes.
pub unsafe fn write_error(message: &str, error: *mut c_char, capacity: usize) {
    if error.is_null() || capacity == 0 {
        return;
    }
    let n = message.len().min(capacity - 1);
    // SAFETY: `n + 1 <= capacity` bytes of `error` are writable (contract).
    unsafe {
        std::ptr::copy_nonoverlapping(message.as_ptr(), error.cast::<u8>(), n);
        *error.add(n) = 0;
    }
}
