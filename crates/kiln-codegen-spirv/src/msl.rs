//! The `metal-spirv` target's code: each kernel's shader ([`Dialect::Metal`]: 8- and 16-bit
//! elements packed in words, which naga's SPIR-V reader needs) translated to Metal Shading
//! Language by naga (SPIR-V in, validated, MSL 2.4 out), with the binding map the Metal
//! executable format fixes (`kiln_gpu_binary`'s crate docs): binding `i` at `[[buffer(i)]]`,
//! the push-constant block at `[[buffer(n)]]`, the status word at `[[buffer(n + 1)]]`, and
//! the bound byte length of each binding (`u32`s, in binding order, then the status word's
//! for a kernel that reports errors) at `[[buffer(n + 2)]]`. Metal has no 64-bit floats: f64
//! elements are pairs of words, as for WebGPU.

use crate::shader::Dialect;
use crate::{SpirvError, TranslatedKernel, VulkanTarget};
use kiln_kernel::{Op, Symbolic};
use kiln_spirv::EntryPoint;
use naga::back::msl;
use naga::valid::Capabilities;

/// The Apple GPU family `metal-spirv` plans for: 32-wide SIMD groups, 1,024 threads and
/// 32 KiB of threadgroup memory (every Apple GPU since A11 and M1).
pub const APPLE: VulkanTarget = VulkanTarget {
    name: "apple",
    description: "Apple GPUs (A11 and later, M1 and later), Metal 2.4",
    subgroup_size: 32,
    max_workgroup_invocations: 1024,
    max_shared_memory: 32 * 1024,
    matrix_types: &[],
};

/// Compiles one dispatch's op with static sizes; returns the kernel and how many workgroups
/// a dispatch needs.
pub fn compile_kernel(name: &str, kernel: &Op) -> Result<(TranslatedKernel, u64), SpirvError> {
    let (entry, count) = crate::compile_static(name, kernel, &APPLE, Dialect::Metal)?;
    Ok((TranslatedKernel::new(entry, translate)?, count))
}

/// Compiles an op whose sizes are expressions over symbols (read from the parameter block).
pub fn compile_kernel_symbolic(
    name: &str,
    kernel: &Op<Symbolic>,
) -> Result<TranslatedKernel, SpirvError> {
    let entry = crate::compile_entry(name, kernel, &APPLE, Dialect::Metal)?;
    TranslatedKernel::new(entry, translate)
}

/// The MSL source of `entry`'s kernel and the name of its kernel function (the entry
/// point's, as MSL spells it: naga adds `_` to a name ending in a digit).
pub fn translate(entry: &EntryPoint) -> Result<(String, String), SpirvError> {
    let failed = |message: String| SpirvError::Kernel {
        kernel: entry.name.clone(),
        message,
    };
    // Bindings, the parameter block, the status word and the buffer sizes: Metal binds
    // buffers 0 to 30.
    if entry.bindings.len() + 3 > 31 {
        return Err(failed(format!(
            "{} bindings leave no room for the 3 buffers Metal kernels add (31 in all)",
            entry.bindings.len()
        )));
    }
    let (module, info) = crate::naga_in::read(entry, Capabilities::all())?;
    let slot = |i: usize| {
        msl::Slot::try_from(i).map_err(|_| failed(format!("buffer index {i} exceeds Metal's")))
    };
    let n = entry.bindings.len();
    let mut resources = msl::BindingMap::default();
    for binding in 0..n + entry.reports_errors as usize {
        let target = msl::BindTarget {
            buffer: Some(slot(if binding < n { binding } else { n + 1 })?),
            mutable: true,
            ..Default::default()
        };
        let at = naga::ResourceBinding {
            group: 0,
            binding: binding as u32,
        };
        resources.insert(at, target);
    }
    let mut options = msl::Options {
        lang_version: (2, 4),
        fake_missing_bindings: false,
        ..Default::default()
    };
    options.per_entry_point_map.insert(
        entry.name.clone(),
        msl::EntryPointResources {
            resources,
            immediates_buffer: Some(slot(n)?),
            sizes_buffer: Some(slot(n + 2)?),
        },
    );
    let pipeline = msl::PipelineOptions {
        entry_point: Some((naga::ShaderStage::Compute, entry.name.clone())),
        ..Default::default()
    };
    let (source, written) = msl::write_string(&module, &info, &options, &pipeline)
        .map_err(|e| failed(format!("naga cannot write MSL: {e}")))?;
    match written.entry_point_names.first() {
        Some(Ok(function)) => Ok((source, function.clone())),
        Some(Err(e)) => Err(failed(format!("naga cannot write the kernel: {e:?}"))),
        None => Err(failed("naga wrote no kernel".into())),
    }
}
