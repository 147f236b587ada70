//! The `webgpu-spirv` target's code: each kernel written as a SPIR-V shader for WebGPU's
//! rules, then translated to WGSL by naga (SPIR-V in, validated, WGSL out, read back and
//! validated again, as a WebGPU implementation will).
//!
//! WebGPU's rules, where they differ from Vulkan's:
//!
//! - No push constants: the parameter block (one `u32` element bias per binding, then one
//!   `i32` per symbol) is a uniform buffer at `@group(0) @binding(n + s)` for `n` bindings
//!   (`s` is 1 when the kernel reports errors: its status word takes binding `n`), its words
//!   four to a `vec4<u32>` ([`Dialect::WebGpu`]).
//! - No 8- or 16-bit storage: narrow elements (bools, int8, f16, …) are packed four or two
//!   to a `u32`, read by shifting and masking and written by an atomic clear and set of their
//!   bits, so the host sees the tensor's own layout ([`Dialect::packs_narrow`]).
//! - WebGPU's default limits ([`WEBGPU`]): 256 invocations and 16 KiB of workgroup storage.
//!   Index arithmetic is 32-bit, as on every GPU target. A kernel needs one storage buffer
//!   per binding (and one for its status word); devices with fewer per stage than that
//!   refuse it when loading it (WebGPU guarantees 8, adapters allow more).
//! - Integer registers are 64-bit, as on Vulkan: a kernel that computes with integers needs
//!   the adapter's `SHADER_INT64` feature (native WebGPU on Vulkan, Metal and D3D12 has it;
//!   browsers do not yet). Float kernels do not.
//! - No 64-bit floats: an f64 element is a pair of words (low, high), converted to and from
//!   the f32 registers kiln computes f64 in by integer arithmetic.
//!
//! ```
//! use kiln_codegen_spirv::wgsl;
//! use kiln_kernel::{Body, Inst, Op, ReduceFn, UnaryFn, View};
//! use kiln_types::ElementType;
//! let v = |b| View::contiguous(b, 0, ElementType::F32, &[1000]);
//! let relu = Op::Generic {
//!     shape: vec![1000], reduction_dims: 0, reduce: ReduceFn::Sum,
//!     inputs: vec![v(0)], outputs: vec![v(1)],
//!     body: Body { insts: vec![Inst::Input(0), Inst::Unary(UnaryFn::Relu, 0)], results: vec![1] },
//! };
//! let (kernel, workgroups) = wgsl::compile_kernel("relu", &relu)?;
//! assert!(kernel.source.contains("var<uniform>"));
//! assert!(!kernel.entry.features.int64, "float kernels run without SHADER_INT64");
//! assert_eq!(kernel.function, "relu");
//! assert!(workgroups > 0);
//! # Ok::<(), kiln_codegen_spirv::SpirvError>(())
//! ```

pub use crate::shader::Dialect;
use crate::{SpirvError, TranslatedKernel, VulkanTarget};
use kiln_kernel::{Op, Symbolic};
use kiln_spirv::EntryPoint;
use naga::valid::{Capabilities, ValidationFlags, Validator};

/// Storage buffers a WebGPU device binds per shader stage unless its adapter allows more
/// (WebGPU's default `maxStorageBuffersPerShaderStage`): dispatch formation keeps
/// webgpu-spirv's elementwise kernels within it.
pub const MAX_STORAGE_BUFFERS: usize = 8;

/// What `webgpu-spirv` plans for: WebGPU's default limits (256 invocations per workgroup,
/// 16 KiB of workgroup storage), with workgroups of 128 invocations for elementwise work.
pub const WEBGPU: VulkanTarget = VulkanTarget {
    name: "webgpu",
    description: "any WebGPU adapter (WebGPU's default limits)",
    subgroup_size: 32,
    max_workgroup_invocations: 256,
    max_shared_memory: 16 * 1024,
    matrix_types: &[],
};

/// Compiles one dispatch's op with static sizes; returns the kernel and how many workgroups
/// a dispatch needs.
pub fn compile_kernel(name: &str, kernel: &Op) -> Result<(TranslatedKernel, u64), SpirvError> {
    let (entry, count) = crate::compile_static(name, kernel, &WEBGPU, Dialect::WebGpu)?;
    Ok((TranslatedKernel::new(entry, translate)?, count))
}

/// Compiles an op whose sizes are expressions over symbols (read from the parameter block).
pub fn compile_kernel_symbolic(
    name: &str,
    kernel: &Op<Symbolic>,
) -> Result<TranslatedKernel, SpirvError> {
    let entry = crate::compile_entry(name, kernel, &WEBGPU, Dialect::WebGpu)?;
    TranslatedKernel::new(entry, translate)
}

/// The WGSL source of `entry`'s shader (compiled in [`Dialect::WebGpu`]) and the
/// name of its entry point there.
pub fn translate(entry: &EntryPoint) -> Result<(String, String), SpirvError> {
    let failed = |message: String| SpirvError::Kernel {
        kernel: entry.name.clone(),
        message,
    };
    // WGSL's own pack2x16float and unpack2x16float carry packed f16 elements.
    let mut capabilities = Capabilities::SHADER_FLOAT16_IN_FLOAT32;
    if entry.features.int64 {
        capabilities |= Capabilities::SHADER_INT64;
    }
    let (module, info) = crate::naga_in::read(entry, capabilities)?;
    let source =
        naga::back::wgsl::write_string(&module, &info, naga::back::wgsl::WriterFlags::empty())
            .map_err(|e| failed(format!("naga cannot write WGSL: {e}")))?;
    let written = naga::front::wgsl::parse_str(&source).map_err(|e| {
        failed(format!(
            "naga cannot read the WGSL it wrote: {}",
            e.emit_to_string(&source)
        ))
    })?;
    Validator::new(ValidationFlags::all(), capabilities)
        .validate(&written)
        .map_err(|e| {
            failed(format!(
                "naga refuses the WGSL it wrote: {:?}",
                e.as_inner()
            ))
        })?;
    let [function] = &written.entry_points[..] else {
        return Err(failed("the WGSL has no single entry point".into()));
    };
    Ok((source, function.name.clone()))
}
