//! The `vulkan-spirv` code generator: each kernel becomes one SPIR-V compute shader
//! (SPIR-V 1.3, Vulkan 1.1 rules) in a `kiln-spirv` executable.
//!
//! - [`shader`] wraps `rspirv`'s builder: types, constants, the binding layout, conversions
//!   between storage element types and registers, structured control flow.
//! - [`body`] turns scalar bodies ([`kiln_kernel::Body`]) into SPIR-V with the interpreter's semantics.
//! - [`kernels`] supplies SPIR-V instructions to the kernels the GPU backends share
//!   ([`kiln_codegen_gpu::emit()`], for the thread mapping [`kiln_codegen_gpu::configure`]
//!   chose). The kernel IR ([`kiln_kernel`]) is target-free, so nothing here undoes a CPU
//!   decision.
//!
//! [`VulkanTarget`] is what `--iree-vulkan-target=` selects: a generic baseline that any
//! Vulkan 1.1 device with `shaderInt64` runs, or a named GPU architecture with its subgroup
//! size and limits.
//!
//! ```
//! use kiln_codegen_spirv::{compile_kernel, find_target};
//! use kiln_types::ElementType;
//! use kiln_kernel::{Body, Inst, Op, ReduceFn, UnaryFn, View};
//! let v = |b| View::contiguous(b, 0, ElementType::F32, &[1000]);
//! let relu = Op::Generic {
//!     shape: vec![1000], reduction_dims: 0, reduce: ReduceFn::Sum,
//!     inputs: vec![v(0)], outputs: vec![v(1)],
//!     body: Body { insts: vec![Inst::Input(0), Inst::Unary(UnaryFn::Relu, 0)], results: vec![1] },
//! };
//! let (entry, workgroups) = compile_kernel("relu", &relu, find_target("generic")?)?;
//! assert_eq!(entry.bindings, vec![ElementType::F32, ElementType::F32]);
//! assert_eq!(workgroups, 1000u64.div_ceil(entry.workgroup_size[0] as u64));
//! # Ok::<(), kiln_codegen_spirv::SpirvError>(())
//! ```

pub mod body;
pub mod kernels;
#[cfg(feature = "msl")]
pub mod msl;
#[cfg(any(feature = "msl", feature = "wgsl"))]
mod naga_in;
pub mod shader;
#[cfg(feature = "wgsl")]
pub mod wgsl;

use kiln_codegen_gpu::{emit, GpuSizes};
use kiln_kernel::{Op, Symbolic};
use shader::Dialect;

/// Errors of the vulkan-spirv code generator.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpirvError {
    #[error("unknown Vulkan target '{name}' for --iree-vulkan-target (known: {known})")]
    UnknownTarget { name: String, known: String },
    #[error("kernel '{kernel}' uses {bindings} bindings; vulkan-spirv allows {max}")]
    TooManyBindings {
        kernel: String,
        bindings: usize,
        max: usize,
    },
    /// The GPU lowering config refused the op (too large, too much shared memory).
    #[error("kernel '{kernel}': {source}")]
    Mapping {
        kernel: String,
        source: kiln_codegen_gpu::GpuError,
    },
    /// The op cannot be written as a shader (the message says why).
    #[error("kernel '{kernel}': {message}")]
    Kernel { kernel: String, message: String },
    #[error("{count} workgroups do not fit a Vulkan dispatch")]
    Grid { count: u64 },
    #[error("spirv-val rejected the module: {0}")]
    Rejected(String),
    #[error("cannot run spirv-val: {0}")]
    Validator(String),
}
use kiln_spirv::{EntryPoint, Executable, MAX_BINDINGS};

/// A Vulkan code generation target: a GPU family's subgroup size and limits (the GPU
/// backends' shared [`kiln_codegen_gpu::GpuTarget`]).
pub use kiln_codegen_gpu::GpuTarget as VulkanTarget;

const fn target(
    name: &'static str,
    description: &'static str,
    subgroup_size: u32,
    max_workgroup_invocations: u32,
    max_shared_kib: u32,
) -> VulkanTarget {
    VulkanTarget {
        name,
        description,
        subgroup_size,
        max_workgroup_invocations,
        max_shared_memory: max_shared_kib * 1024,
        matrix_types: &[],
    }
}

/// Every target `--iree-vulkan-target=` accepts; the first is the default.
pub const TARGETS: &[VulkanTarget] = &[
    target(
        "generic",
        "any Vulkan 1.1 device with shaderInt64 (Vulkan's minimum limits)",
        32,
        128,
        16,
    ),
    target("turing", "NVIDIA Turing (RTX 20xx)", 32, 1024, 48),
    target("ampere", "NVIDIA Ampere (RTX 30xx, A100)", 32, 1024, 48),
    target("ada", "NVIDIA Ada Lovelace (RTX 40xx, L4)", 32, 1024, 48),
    target("hopper", "NVIDIA Hopper (H100, H200)", 32, 1024, 48),
    target("rdna1", "AMD RDNA1 (RX 5000)", 64, 1024, 64),
    target("rdna2", "AMD RDNA2 (RX 6000)", 64, 1024, 64),
    target("rdna3", "AMD RDNA3 (RX 7000)", 64, 1024, 64),
    target("valhall", "Arm Mali Valhall", 16, 512, 32),
    target("adreno", "Qualcomm Adreno", 64, 1024, 32),
];

/// The target called `name`.
pub fn find_target(name: &str) -> Result<&'static VulkanTarget, SpirvError> {
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| SpirvError::UnknownTarget {
            name: name.into(),
            known: TARGETS
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Compiles one dispatch's op into entry point `name`; returns the entry point and how many
/// workgroups a dispatch needs.
pub fn compile_kernel(
    name: &str,
    kernel: &Op,
    target: &VulkanTarget,
) -> Result<(EntryPoint, u64), SpirvError> {
    compile_static(name, kernel, target, Dialect::Vulkan)
}

/// [`compile_kernel`] in `dialect`.
fn compile_static(
    name: &str,
    kernel: &Op,
    target: &VulkanTarget,
    dialect: Dialect,
) -> Result<(EntryPoint, u64), SpirvError> {
    let entry = compile_entry(name, kernel, target, dialect)?;
    let count = entry
        .workgroups
        .as_const()
        .and_then(|c| u64::try_from(c).ok())
        .ok_or_else(|| SpirvError::Kernel {
            kernel: name.into(),
            message: format!("workgroup count {} is not a number", entry.workgroups),
        })?;
    let invocations = count.saturating_mul(entry.invocations());
    if invocations > kiln_spirv::MAX_ELEMENTS {
        return Err(SpirvError::Kernel {
            kernel: name.into(),
            message: format!(
                "{invocations} invocations exceed the 2^31 that 32-bit index arithmetic reaches"
            ),
        });
    }
    Ok((entry, count))
}

/// Compiles an op whose sizes are expressions over symbols into entry point `name`: the
/// shader reads the symbols' values from push constants ([`EntryPoint::symbols`]), and its
/// binding extents and workgroup count are expressions the driver evaluates per dispatch.
pub fn compile_kernel_symbolic(
    name: &str,
    kernel: &Op<Symbolic>,
    target: &VulkanTarget,
) -> Result<EntryPoint, SpirvError> {
    compile_entry(name, kernel, target, Dialect::Vulkan)
}

fn compile_entry<Z: GpuSizes>(
    name: &str,
    kernel: &Op<Z>,
    target: &VulkanTarget,
    dialect: Dialect,
) -> Result<EntryPoint, SpirvError> {
    let failed = |message: String| SpirvError::Kernel {
        kernel: name.into(),
        message,
    };
    let bindings = emit::binding_types(kernel).map_err(failed)?;
    if bindings.len() > MAX_BINDINGS {
        return Err(SpirvError::TooManyBindings {
            kernel: name.into(),
            bindings: bindings.len(),
            max: MAX_BINDINGS,
        });
    }
    let symbols = emit::symbols_of(kernel);
    if bindings.len() + symbols.len() > kiln_spirv::MAX_PUSH_WORDS {
        return Err(failed(format!(
            "{} bindings and {} run-time sizes exceed the {} parameter words a shader reads",
            bindings.len(),
            symbols.len(),
            kiln_spirv::MAX_PUSH_WORDS
        )));
    }
    // The thread mapping every GPU generator shares; this crate only emits it as SPIR-V.
    let config =
        kiln_codegen_gpu::configure(kernel, target).map_err(|source| SpirvError::Mapping {
            kernel: name.into(),
            source,
        })?;
    let workgroups = config
        .workgroups_in::<Z>()
        .map(|n| Z::expr(&n))
        .ok_or(SpirvError::Grid { count: u64::MAX })?;
    let lowered = kernels::lower(kernel, target, &config, &symbols, dialect).map_err(failed)?;
    let extents = emit::binding_extents(kernel, bindings.len()).map_err(failed)?;
    Ok(EntryPoint {
        name: name.into(),
        code: lowered.code,
        workgroup_size: [lowered.workgroup_size, 1, 1],
        bindings,
        symbols,
        binding_extents: extents,
        workgroups,
        features: lowered.shader.features,
        shared_memory: lowered.shader.shared_memory,
        reports_errors: matches!(kernel, Op::Gather { .. }),
    })
}

/// A kernel whose code is source text naga wrote from its shader (`metal-spirv`'s MSL,
/// `webgpu-spirv`'s WGSL).
#[cfg(any(feature = "msl", feature = "wgsl"))]
#[derive(Clone, Debug)]
pub struct TranslatedKernel {
    /// The SPIR-V shader and its launch record (bindings, symbols, extents, grid).
    pub entry: EntryPoint,
    /// The source text.
    pub source: String,
    /// The entry point's name in [`Self::source`].
    pub function: String,
}

#[cfg(any(feature = "msl", feature = "wgsl"))]
impl TranslatedKernel {
    fn new(
        entry: EntryPoint,
        translate: fn(&EntryPoint) -> Result<(String, String), SpirvError>,
    ) -> Result<Self, SpirvError> {
        let (source, function) = translate(&entry)?;
        Ok(TranslatedKernel {
            entry,
            source,
            function,
        })
    }
}

/// Compiles named ops into one executable (entry point `i` is `kernels[i]`).
pub fn compile(kernels: &[(&str, &Op)], target: &VulkanTarget) -> Result<Executable, SpirvError> {
    Ok(Executable {
        entry_points: kernels
            .iter()
            .map(|(name, k)| compile_kernel(name, k, target).map(|(e, _)| e))
            .collect::<Result<_, _>>()?,
    })
}

/// Folds a linear workgroup count into a grid within Vulkan's guaranteed 65535 per dimension
/// ([`kiln_spirv::grid`]).
pub fn grid(count: u64) -> Result<[u32; 3], SpirvError> {
    kiln_spirv::grid(count).ok_or(SpirvError::Grid { count })
}

/// Runs `spirv-val --target-env vulkan1.1` on `code`: `Ok(false)` if the tool is not
/// installed, an error with its message if the module is invalid.
pub fn spirv_val(code: &[u32]) -> Result<bool, SpirvError> {
    use std::io::Write;
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let child = std::process::Command::new("spirv-val")
        .args(["--target-env", "vulkan1.1", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(SpirvError::Validator(e.to_string())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&bytes)
            .map_err(|e| SpirvError::Validator(format!("writing to it: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| SpirvError::Validator(e.to_string()))?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(SpirvError::Rejected(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}
