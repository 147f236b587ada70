//! Target backends: each turns the kernels of a module into one executable in its format.
//!
//! Backends are coarse: they receive finished kernels (tiling and fusion are decided above
//! them) and only translate. [`registry`] lists the backends this build contains; the names of
//! backends kiln knows but this build lacks are in [`KNOWN_TARGETS`], so errors can say which.

use kiln_vmvx::format::{Executable, Kernel};

/// A compiler target backend.
pub trait TargetBackend: Send + Sync {
    /// The name users pass to `--iree-hal-target-backends`.
    fn name(&self) -> &'static str;
    /// The executable format devices match on.
    fn format(&self) -> &'static str;
    /// Serialises `kernels` (entry point `i` is `kernels[i]`) into one executable.
    fn serialize(&self, kernels: &[Kernel]) -> Result<Vec<u8>, String>;
}

/// The portable VMVX backend: kernels interpreted by the runtime with native microkernels.
pub struct Vmvx;

impl TargetBackend for Vmvx {
    fn name(&self) -> &'static str {
        "vmvx"
    }
    fn format(&self) -> &'static str {
        kiln_vmvx::FORMAT
    }
    fn serialize(&self, kernels: &[Kernel]) -> Result<Vec<u8>, String> {
        Ok(Executable {
            kernels: kernels.to_vec(),
        }
        .encode())
    }
}

/// Every target backend name IREE defines; the ones not in [`registry`] are not built yet.
pub const KNOWN_TARGETS: &[&str] = &[
    "cuda",
    "llvm-cpu",
    "metal-spirv",
    "rocm",
    "vmvx",
    "vmvx-inline",
    "vulkan-spirv",
    "webgpu-spirv",
];

/// The backends compiled into this build, sorted by name.
pub fn registry() -> Vec<Box<dyn TargetBackend>> {
    vec![Box::new(Vmvx)]
}
