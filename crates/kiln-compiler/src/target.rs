//! Target backends: each turns the kernels of a module into one executable in its format.
//!
//! Backends are coarse: they receive finished kernels (fusion is decided above them), choose
//! each dispatch's workgroup grid, and translate. [`backend`] makes the backends this build
//! contains; the names of backends kiln knows but this build lacks are in [`KNOWN_TARGETS`], so
//! errors can say which.

use crate::{CompileError, CompileOptions};
use kiln_vmvx::format::{Executable, Kernel};

/// A compiler target backend.
pub trait TargetBackend: Send + Sync {
    /// The name users pass to `--iree-hal-target-backends`.
    fn name(&self) -> &'static str;
    /// The executable format devices match on.
    fn format(&self) -> &'static str;
    /// Serialises `kernels` (entry point `i` is `kernels[i]`) into one executable.
    fn serialize(&self, kernels: &[Kernel]) -> Result<Vec<u8>, String>;
    /// The register tile constant GEMM operands are packed for at compile time
    /// ([`crate::data_tiling`]); `None` keeps them plain.
    fn data_tiling(&self) -> Result<Option<kiln_ukernel::gemm::TileShape>, String> {
        Ok(None)
    }
    /// The workgroup grid a dispatch of `kernel` needs.
    fn workgroups(&self, kernel: &Kernel) -> Result<[u32; 3], String> {
        let count = u32::try_from(kernel.workgroup_count())
            .map_err(|_| format!("{} needs more than 2^32 workgroups", kernel.name))?;
        Ok([count, 1, 1])
    }
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

/// The `vulkan-spirv` backend: one SPIR-V compute shader per kernel
/// ([`kiln_codegen_spirv`]), for the target `--iree-vulkan-target` names.
pub struct VulkanSpirv {
    pub target: &'static kiln_codegen_spirv::VulkanTarget,
}

impl TargetBackend for VulkanSpirv {
    fn name(&self) -> &'static str {
        "vulkan-spirv"
    }
    fn format(&self) -> &'static str {
        kiln_spirv::FORMAT
    }
    fn serialize(&self, kernels: &[Kernel]) -> Result<Vec<u8>, String> {
        Ok(kiln_codegen_spirv::compile(kernels, self.target)?.encode())
    }
    fn workgroups(&self, kernel: &Kernel) -> Result<[u32; 3], String> {
        let (_, count) = kiln_codegen_spirv::compile_kernel(kernel, self.target)?;
        kiln_codegen_spirv::grid(count).map_err(|e| format!("{}: {e}", kernel.name))
    }
}

/// The `llvm-cpu` backend: native code through LLVM ([`kiln_codegen_llvm`]) for the CPU the
/// `--iree-llvmcpu-*` flags describe (the host by default).
pub struct LlvmCpu {
    pub target: kiln_codegen_llvm::CpuTarget,
    /// The executable format of the target's architecture.
    pub format: &'static str,
}

impl TargetBackend for LlvmCpu {
    fn name(&self) -> &'static str {
        "llvm-cpu"
    }
    fn format(&self) -> &'static str {
        self.format
    }
    fn serialize(&self, kernels: &[Kernel]) -> Result<Vec<u8>, String> {
        Ok(kiln_codegen_llvm::compile(kernels, &self.target)?.encode())
    }
    fn data_tiling(&self) -> Result<Option<kiln_ukernel::gemm::TileShape>, String> {
        kiln_codegen_llvm::tile_shape(&self.target).map(Some)
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

/// Names of the backends compiled into this build, sorted.
pub const AVAILABLE: &[&str] = &["llvm-cpu", "vmvx", "vulkan-spirv"];

/// The backend called `name`, configured by `options`; `None` if this build lacks it.
pub fn backend(
    name: &str,
    options: &CompileOptions,
) -> Result<Option<Box<dyn TargetBackend>>, CompileError> {
    Ok(match name {
        "vmvx" => Some(Box::new(Vmvx)),
        "llvm-cpu" => {
            let target = options.llvm_cpu.clone();
            let arch = if target.triple.is_empty() {
                std::env::consts::ARCH
            } else {
                target.triple.split('-').next().unwrap_or("")
            };
            let format = kiln_native::format_for_arch(arch).ok_or_else(|| {
                CompileError::Invalid(format!(
                    "llvm-cpu cannot target '{}' (architectures: x86_64, aarch64, riscv64)",
                    target.triple
                ))
            })?;
            Some(Box::new(LlvmCpu { target, format }))
        }
        "vulkan-spirv" => {
            let arch = options.vulkan_target.as_deref().unwrap_or("generic");
            let target = kiln_codegen_spirv::find_target(arch).map_err(CompileError::Invalid)?;
            Some(Box::new(VulkanSpirv { target }))
        }
        _ => None,
    })
}
