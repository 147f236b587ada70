//! Reading a shader into naga's IR, the first step of the targets whose code naga writes
//! from SPIR-V (`metal-spirv`, `webgpu-spirv`): the kernel's shader parsed, its entry point
//! renamed after the kernel and the whole module validated. Their dialects keep 8- and 16-bit
//! and f64 elements in 32-bit words (naga's SPIR-V front end reads no narrow storage, and
//! neither Metal nor WebGPU has 64-bit floats), so what naga reads is in its reach.

use crate::SpirvError;
use kiln_spirv::EntryPoint;
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};

/// `entry`'s shader as a validated naga module whose one entry point is named after the
/// kernel; `capabilities` says what its shaders may use.
pub(crate) fn read(
    entry: &EntryPoint,
    capabilities: Capabilities,
) -> Result<(naga::Module, ModuleInfo), SpirvError> {
    let failed = |message: String| SpirvError::Kernel {
        kernel: entry.name.clone(),
        message,
    };
    let words: Vec<u8> = entry.code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut module =
        naga::front::spv::parse_u8_slice(&words, &naga::front::spv::Options::default())
            .map_err(|e| failed(format!("naga cannot read the shader: {e}")))?;
    let [shader_entry] = &mut module.entry_points[..] else {
        return Err(failed("the shader has no single entry point".into()));
    };
    shader_entry.name = entry.name.clone();
    let info = Validator::new(ValidationFlags::all(), capabilities)
        .validate(&module)
        .map_err(|e| failed(format!("naga refuses the shader: {:?}", e.as_inner())))?;
    Ok((module, info))
}
