//! Static libraries: `llvm-cpu` kernels the system linker put into the program
//! (`--iree-llvmcpu-link-embedded=false`), registered by name before a module that runs them
//! loads. A module's `static-library-*` executable names its library; loading finds the
//! library here and takes its entry points from the descriptor its query function returned.

use kiln_native::{StaticLibrary, StaticLibraryQuery, STATIC_LIBRARY_ABI_VERSION};
use kiln_runtime::HalError;
use std::sync::Mutex;

/// A registered library's descriptor, which lives in the program's read-only data.
#[derive(Clone, Copy)]
pub(crate) struct Library(&'static StaticLibrary);

// SAFETY: the descriptor and everything it points at are immutable data and code of the program.
unsafe impl Send for Library {}
// SAFETY: as above.
unsafe impl Sync for Library {}

impl Library {
    pub(crate) fn descriptor(&self) -> &'static StaticLibrary {
        self.0
    }
}

static LIBRARIES: Mutex<Vec<(String, Library)>> = Mutex::new(Vec::new());

/// Registers the static library `query` describes (the `NAME_library_query` its `NAME.h`
/// declares) and returns its name. Registering a name again replaces the earlier library.
///
/// # Safety
/// `query` must be a static library's query function as kiln-compile wrote it: it returns a
/// descriptor whose name, kernel table and functions stay valid for the program's life.
pub unsafe fn register(query: StaticLibraryQuery) -> Result<String, HalError> {
    // SAFETY: forwarded contract.
    let descriptor = unsafe { query() };
    // SAFETY: a non-null descriptor is valid for the program's life (contract).
    let library = unsafe { descriptor.as_ref() }
        .ok_or_else(|| HalError::Invalid("the static library query returned null".into()))?;
    if library.abi_version != STATIC_LIBRARY_ABI_VERSION {
        return Err(HalError::Invalid(format!(
            "the static library was compiled for ABI version {}, but this runtime reads version {STATIC_LIBRARY_ABI_VERSION}; compile it again with this kiln",
            library.abi_version
        )));
    }
    if library.name.is_null() || library.kernels.is_null() {
        return Err(HalError::Invalid(
            "the static library's descriptor has a null name or kernel table".into(),
        ));
    }
    // SAFETY: the name is a NUL-terminated string of the library (contract).
    let name = unsafe { std::ffi::CStr::from_ptr(library.name) }
        .to_str()
        .map_err(|_| HalError::Invalid("the static library's name is not UTF-8".into()))?
        .to_string();
    let mut libraries = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
    libraries.retain(|(n, _)| *n != name);
    libraries.push((name.clone(), Library(library)));
    Ok(name)
}

/// The library registered as `name`.
pub(crate) fn find(name: &str) -> Result<Library, String> {
    let libraries = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
    libraries
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, l)| *l)
        .ok_or_else(|| {
            format!(
                "the module's kernels are the static library '{name}', which the program has not \
                 registered: link {name}.o and call kiln_register_static_library({name}_library_query) \
                 before loading"
            )
        })
}
