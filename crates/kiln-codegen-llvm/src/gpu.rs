//! The `cuda` and `rocm` code generators: the GPU backends' shared kernels
//! ([`kiln_codegen_gpu::emit()`]) as LLVM IR, by implementing [`GpuBuilder`] for the same
//! function writer the CPU path uses ([`Gen`], whose scalar bodies and typed loads and stores
//! it shares, with math written inline), then LLVM's NVPTX backend to PTX or its AMDGPU
//! backend to a code object that `ld.lld` links into HSACO.
//!
//! Kernels follow [`kiln_gpu_binary`]'s calling convention: one global pointer per binding,
//! the status word's pointer for a kernel that reports errors, then one `i32` per symbol.
//! Index arithmetic is 32-bit (as the shared kernels are written); element offsets widen to
//! 64 bits only to address memory. Shared arrays are module globals in the GPU's shared
//! address space; variables are stack slots that LLVM promotes to registers.

use crate::body::{self, V};
use crate::kernel::{e, Gen, R};
use crate::LlvmError;
use inkwell::basic_block::BasicBlock;
use inkwell::context::Context;
use inkwell::module::{FlagBehavior, Linkage, Module};
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum};
use inkwell::values::{BasicValueEnum, IntValue, PointerValue};
use inkwell::{AddressSpace, FloatPredicate, IntPredicate, OptimizationLevel};
use kiln_codegen_gpu::emit::{binding_extents, binding_types, symbols_of, Arith, Cmp, Kind, Val};
use kiln_codegen_gpu::{GpuBuilder, GpuSizes, GpuTarget, IndexBuilder, MatrixOperand};
use kiln_gpu_binary::{CodeKind, Executable, Kernel};
use kiln_kernel::{Body, Op, RegKind};
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;
use std::collections::HashMap;

/// The LLVM backend a GPU architecture compiles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuIsa {
    /// NVIDIA: PTX text (`nvptx64-nvidia-cuda`).
    Nvptx,
    /// AMD: an HSACO code object (`amdgcn-amd-amdhsa`).
    Amdgpu,
}

/// A GPU architecture to compile for (`--iree-cuda-target=`, `--iree-rocm-target=`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuArch {
    pub isa: GpuIsa,
    /// LLVM's name for the chip (`sm_80`, `gfx942`); also [`GpuTarget::name`].
    pub chip: &'static str,
    /// The limits the shared thread mapping plans for.
    pub limits: GpuTarget,
}

const fn arch(
    isa: GpuIsa,
    chip: &'static str,
    description: &'static str,
    subgroup_size: u32,
    max_shared_kib: u32,
    matrix_types: &'static [ElementType],
) -> GpuArch {
    GpuArch {
        isa,
        chip,
        limits: GpuTarget {
            name: chip,
            description,
            subgroup_size,
            max_workgroup_invocations: 1024,
            max_shared_memory: max_shared_kib * 1024,
            matrix_types,
        },
    }
}

/// What the tensor cores of Volta and Turing multiply through WMMA (`sm_70`).
const VOLTA_TENSOR: &[ElementType] = &[ElementType::F16];
/// What those of Ampere and later multiply through WMMA (`sm_80`: bf16 added).
const AMPERE_TENSOR: &[ElementType] = &[ElementType::F16, ElementType::BF16];
/// AMD's matrix cores are not used yet: the scalar GEMM runs there.
const NO_MATRIX: &[ElementType] = &[];

/// The CUDA architectures `--iree-cuda-target=` accepts by chip name; the first is the default.
/// Shared memory is the 48 KiB every block may declare statically.
pub const CUDA_ARCHS: &[GpuArch] = &[
    arch(
        GpuIsa::Nvptx,
        "sm_80",
        "NVIDIA Ampere (A100)",
        32,
        48,
        AMPERE_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_70",
        "NVIDIA Volta (V100)",
        32,
        48,
        VOLTA_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_72",
        "NVIDIA Volta (Jetson Xavier)",
        32,
        48,
        VOLTA_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_75",
        "NVIDIA Turing (T4, RTX 20xx)",
        32,
        48,
        VOLTA_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_86",
        "NVIDIA Ampere (A10, A40, RTX 30xx)",
        32,
        48,
        AMPERE_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_87",
        "NVIDIA Ampere (Jetson Orin)",
        32,
        48,
        AMPERE_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_89",
        "NVIDIA Ada Lovelace (L4, L40, RTX 40xx)",
        32,
        48,
        AMPERE_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_90",
        "NVIDIA Hopper (H100, H200)",
        32,
        48,
        AMPERE_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_100",
        "NVIDIA Blackwell (B100, B200)",
        32,
        48,
        AMPERE_TENSOR,
    ),
    arch(
        GpuIsa::Nvptx,
        "sm_120",
        "NVIDIA Blackwell (RTX 50xx)",
        32,
        48,
        AMPERE_TENSOR,
    ),
];

/// IREE's product and architecture names for CUDA targets, with the chip each means.
pub const CUDA_ALIASES: &[(&str, &str)] = &[
    ("volta", "sm_70"),
    ("v100", "sm_70"),
    ("turing", "sm_75"),
    ("t4", "sm_75"),
    ("ampere", "sm_80"),
    ("a100", "sm_80"),
    ("a10", "sm_86"),
    ("a40", "sm_86"),
    ("rtx3090", "sm_86"),
    ("ada", "sm_89"),
    ("l4", "sm_89"),
    ("l40s", "sm_89"),
    ("rtx4090", "sm_89"),
    ("hopper", "sm_90"),
    ("h100", "sm_90"),
    ("h200", "sm_90"),
    ("blackwell", "sm_100"),
    ("b100", "sm_100"),
    ("b200", "sm_100"),
    ("rtx5090", "sm_120"),
];

/// The ROCm architectures `--iree-rocm-target=` accepts by chip name; the first is the
/// default. CDNA runs 64-wide wavefronts, RDNA 32-wide ones; both have 64 KiB of LDS.
pub const ROCM_ARCHS: &[GpuArch] = &[
    arch(
        GpuIsa::Amdgpu,
        "gfx942",
        "AMD CDNA3 (MI300X, MI300A, MI325X)",
        64,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx908",
        "AMD CDNA1 (MI100)",
        64,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx90a",
        "AMD CDNA2 (MI210, MI250, MI250X)",
        64,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx950",
        "AMD CDNA4 (MI350X, MI355X)",
        64,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx1030",
        "AMD RDNA2 (RX 6800, RX 6900, W6800)",
        32,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx1100",
        "AMD RDNA3 (RX 7900 XTX, W7900)",
        32,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx1101",
        "AMD RDNA3 (RX 7800 XT, W7800)",
        32,
        64,
        NO_MATRIX,
    ),
    arch(
        GpuIsa::Amdgpu,
        "gfx1201",
        "AMD RDNA4 (RX 9070 XT)",
        32,
        64,
        NO_MATRIX,
    ),
];

/// IREE's product and architecture names for ROCm targets, with the chip each means.
pub const ROCM_ALIASES: &[(&str, &str)] = &[
    ("cdna1", "gfx908"),
    ("mi100", "gfx908"),
    ("cdna2", "gfx90a"),
    ("mi210", "gfx90a"),
    ("mi250", "gfx90a"),
    ("mi250x", "gfx90a"),
    ("cdna3", "gfx942"),
    ("mi300x", "gfx942"),
    ("mi300a", "gfx942"),
    ("mi308x", "gfx942"),
    ("mi325x", "gfx942"),
    ("cdna4", "gfx950"),
    ("mi350x", "gfx950"),
    ("mi355x", "gfx950"),
    ("rdna2", "gfx1030"),
    ("rx6900xt", "gfx1030"),
    ("rdna3", "gfx1100"),
    ("rx7900xtx", "gfx1100"),
    ("w7900", "gfx1100"),
    ("rx7800xt", "gfx1101"),
    ("rdna4", "gfx1201"),
    ("rx9070xt", "gfx1201"),
];

/// The architecture `name` (a chip or one of IREE's names) among `archs`/`aliases`; `flag`
/// names the option in the error.
fn find_arch(
    name: &str,
    archs: &'static [GpuArch],
    aliases: &[(&str, &str)],
    flag: &str,
) -> Result<&'static GpuArch, LlvmError> {
    let lower = name.to_ascii_lowercase();
    let chip = aliases
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower.as_str(), |(_, chip)| chip);
    archs.iter().find(|a| a.chip == chip).ok_or_else(|| {
        let chips: Vec<&str> = archs.iter().map(|a| a.chip).collect();
        let names: Vec<&str> = aliases.iter().map(|(n, _)| *n).collect();
        LlvmError::Target(format!(
            "{flag}={name}: unknown target (chips: {}; names: {})",
            chips.join(", "),
            names.join(", ")
        ))
    })
}

/// The CUDA architecture `--iree-cuda-target=NAME` selects (`sm_80` when empty).
pub fn cuda_arch(name: &str) -> Result<&'static GpuArch, LlvmError> {
    match name {
        "" => Ok(&CUDA_ARCHS[0]),
        _ => find_arch(name, CUDA_ARCHS, CUDA_ALIASES, "--iree-cuda-target"),
    }
}

/// The ROCm architecture `--iree-rocm-target=NAME` selects (`gfx942` when empty).
pub fn rocm_arch(name: &str) -> Result<&'static GpuArch, LlvmError> {
    match name {
        "" => Ok(&ROCM_ARCHS[0]),
        _ => find_arch(name, ROCM_ARCHS, ROCM_ALIASES, "--iree-rocm-target"),
    }
}

/// The GPU path's part of a function being written (see [`Gen`]).
pub(crate) struct GpuState<'ctx> {
    isa: GpuIsa,
    /// Each binding's element type.
    types: Vec<ElementType>,
    status: Option<PointerValue<'ctx>>,
    /// Names shared arrays uniquely in the module.
    kernel: String,
    shared_bytes: u32,
    shared_arrays: u32,
    /// The first builder failure; [`GpuBuilder`]'s infallible calls record it here.
    error: Option<String>,
}

/// Compiles kernels (entry point `i` is `kernels[i]`, named by its first field) for `arch`
/// into one executable: PTX text for NVIDIA, an HSACO object for AMD (linked by `ld.lld`).
pub fn compile_gpu<Z: GpuSizes>(
    kernels: &[(&str, &Op<Z>)],
    arch: &GpuArch,
) -> Result<Executable, LlvmError> {
    let tm = gpu_machine(arch)?;
    let context = Context::create();
    let module = context.create_module("kiln");
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    if arch.isa == GpuIsa::Amdgpu {
        // Code object v5, which ROCm 5.x and later load (LLVM 22 writes v6 by default).
        module.add_basic_value_flag(
            "amdhsa_code_object_version",
            FlagBehavior::Error,
            context.i32_type().const_int(500, false),
        );
    }
    let mut records = vec![];
    for (name, op) in kernels {
        let failed = |message: String| LlvmError::Kernel {
            kernel: name.to_string(),
            message,
        };
        records.push(compile_kernel(&context, &module, name, op, arch).map_err(failed)?);
    }
    if arch.isa == GpuIsa::Amdgpu {
        link_workgroup_barrier(&context, &module)?;
    }
    let file_type = match arch.isa {
        GpuIsa::Nvptx => FileType::Assembly,
        GpuIsa::Amdgpu => FileType::Object,
    };
    let code = crate::optimise_and_emit(&module, &tm, file_type)?;
    let (kind, code) = match arch.isa {
        GpuIsa::Nvptx => (CodeKind::Ptx, code),
        GpuIsa::Amdgpu => (CodeKind::Hsaco, link_hsaco(&code)?),
    };
    Ok(Executable {
        kind,
        target: arch.chip.to_string(),
        code,
        kernels: records,
    })
}

/// The AMDGPU workgroup barrier kernels call: `s_barrier` between a release and an acquire
/// fence of workgroup scope, which order shared memory among the workgroup as HIP's
/// `__syncthreads` does (system-scope fences would also write back and invalidate the caches
/// at every barrier).
const WORKGROUP_BARRIER: &str = "kiln_workgroup_barrier";

/// Links the definition of [`WORKGROUP_BARRIER`] into `module` (written as IR text: the C API
/// inkwell wraps has no fence sync scope); it inlines into every kernel that calls it.
fn link_workgroup_barrier<'ctx>(cx: &'ctx Context, module: &Module<'ctx>) -> Result<(), LlvmError> {
    if module.get_function(WORKGROUP_BARRIER).is_none() {
        return Ok(());
    }
    let failed = |message: String| LlvmError::Llvm {
        stage: "barrier linking",
        message,
    };
    let layout = module.get_data_layout();
    let ir = format!(
        "target datalayout = \"{}\"\n\
         target triple = \"{}\"\n\
         define linkonce_odr hidden void @{WORKGROUP_BARRIER}() alwaysinline {{\n\
           fence syncscope(\"workgroup\") release\n\
           call void @llvm.amdgcn.s.barrier()\n\
           fence syncscope(\"workgroup\") acquire\n\
           ret void\n\
         }}\n\
         declare void @llvm.amdgcn.s.barrier()\n",
        layout.as_str().to_string_lossy(),
        module.get_triple().as_str().to_string_lossy(),
    );
    let buffer = inkwell::memory_buffer::MemoryBuffer::create_from_memory_range_copy(
        ir.as_bytes(),
        "barrier",
    );
    let helper = cx
        .create_module_from_ir(buffer)
        .map_err(|e| failed(e.to_string()))?;
    module
        .link_in_module(helper)
        .map_err(|e| failed(e.to_string()))
}

/// LLVM's target machine for `arch`.
fn gpu_machine(arch: &GpuArch) -> Result<TargetMachine, LlvmError> {
    let c = InitializationConfig::default();
    let triple = match arch.isa {
        GpuIsa::Nvptx => {
            Target::initialize_nvptx(&c);
            "nvptx64-nvidia-cuda"
        }
        GpuIsa::Amdgpu => {
            Target::initialize_amd_gpu(&c);
            "amdgcn-amd-amdhsa"
        }
    };
    let t = TargetTriple::create(triple);
    let target = Target::from_triple(&t).map_err(|e| {
        LlvmError::Target(format!(
            "this LLVM has no {triple} backend ({e}); kiln needs LLVM 22 built with NVPTX and AMDGPU"
        ))
    })?;
    target
        .create_target_machine(
            &t,
            arch.chip,
            "",
            OptimizationLevel::Aggressive,
            RelocMode::PIC,
            CodeModel::Default,
        )
        .ok_or_else(|| {
            LlvmError::Target(format!(
                "LLVM cannot make a machine for '{triple}' chip '{}'",
                arch.chip
            ))
        })
}

/// Links an AMDGPU relocatable object into an HSACO shared object with `ld.lld` (LLVM 22's,
/// found as `ld.lld-22` or `ld.lld`).
fn link_hsaco(object: &[u8]) -> Result<Vec<u8>, LlvmError> {
    let failed = |message: String| LlvmError::Llvm {
        stage: "HSACO linking",
        message,
    };
    let dir = std::env::temp_dir().join(format!(
        "kiln-hsaco-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let (input, output) = (dir.join("kernels.o"), dir.join("kernels.hsaco"));
    let result = (|| {
        std::fs::write(&input, object).map_err(|e| format!("{}: {e}", input.display()))?;
        let mut last = String::new();
        for linker in ["ld.lld-22", "ld.lld"] {
            let run = std::process::Command::new(linker)
                .arg("-shared")
                .arg(&input)
                .arg("-o")
                .arg(&output)
                .output();
            match run {
                Ok(out) if out.status.success() => {
                    return std::fs::read(&output)
                        .map_err(|e| format!("{}: {e}", output.display()));
                }
                Ok(out) => {
                    return Err(format!(
                        "{linker} failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ))
                }
                Err(e) => last = format!("{linker}: {e}"),
            }
        }
        Err(format!(
            "the rocm target links code objects with LLVM's ld.lld, which was not found ({last}); install it (Debian: apt install lld-22)"
        ))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(failed)
}

/// Emits one kernel as function `name` and returns its launch record.
fn compile_kernel<'ctx, Z: GpuSizes>(
    cx: &'ctx Context,
    m: &Module<'ctx>,
    name: &str,
    op: &Op<Z>,
    arch: &GpuArch,
) -> R<Kernel> {
    let config = kiln_codegen_gpu::configure(op, &arch.limits).map_err(|e| e.to_string())?;
    let types = binding_types(op)?;
    let extents = binding_extents(op, types.len())?;
    let symbols = symbols_of(op);
    let reports_errors = matches!(op, Op::Gather { .. });
    let workgroups = config
        .workgroups_in::<Z>()
        .map(|n| Z::expr(&n))
        .ok_or("the workgroup count overflows")?;
    if let Some(count) = workgroups.as_const() {
        let threads = count.saturating_mul(i64::from(config.workgroup_size));
        if threads > i64::from(i32::MAX) {
            return Err(format!(
                "{threads} threads exceed the 2^31 that 32-bit index arithmetic reaches"
            ));
        }
    }
    let global = cx.ptr_type(AddressSpace::from(1u16));
    let mut params: Vec<BasicMetadataTypeEnum> = vec![global.into(); types.len()];
    if reports_errors {
        params.push(global.into());
    }
    params.extend(
        symbols
            .iter()
            .map(|_| BasicMetadataTypeEnum::from(cx.i32_type())),
    );
    let f = m.add_function(name, cx.void_type().fn_type(&params, false), None);
    f.set_linkage(Linkage::External);
    match arch.isa {
        // `ptx_kernel` and `amdgpu_kernel`: entry points the host launches.
        GpuIsa::Nvptx => f.set_call_conventions(71),
        GpuIsa::Amdgpu => {
            f.set_call_conventions(91);
            let size = format!("1,{}", config.workgroup_size);
            f.add_attribute(
                inkwell::attributes::AttributeLoc::Function,
                cx.create_string_attribute("amdgpu-flat-work-group-size", &size),
            );
        }
    }
    let entry = cx.append_basic_block(f, "entry");
    let b = cx.create_builder();
    b.position_at_end(entry);
    let param = |i: usize| f.get_nth_param(i as u32).ok_or("a parameter is missing");
    let bases = (0..types.len())
        .map(|i| Ok(param(i)?.into_pointer_value()))
        .collect::<R<Vec<_>>>()?;
    let status = match reports_errors {
        true => Some(param(types.len())?.into_pointer_value()),
        false => None,
    };
    let first_symbol = types.len() + reports_errors as usize;
    let i64t = cx.i64_type();
    let mut values = HashMap::new();
    for (i, s) in symbols.iter().enumerate() {
        let v = param(first_symbol + i)?.into_int_value();
        let wide = b.build_int_s_extend(v, i64t, s).map_err(e)?;
        values.insert(s.clone(), wide);
    }
    let g = Gen {
        cx,
        m,
        b,
        f,
        f32t: cx.f32_type(),
        f64t: cx.f64_type(),
        i64t,
        i32t: cx.i32_type(),
        i16t: cx.i16_type(),
        i8t: cx.i8_type(),
        bases,
        symbols: values,
        inline_math: true,
        gpu: Some(GpuState {
            isa: arch.isa,
            types: types.clone(),
            status,
            kernel: name.to_string(),
            shared_bytes: 0,
            shared_arrays: 0,
            error: None,
        }),
        fold_short_loops: false,
        estimate_reciprocals: false,
    };
    let g = kiln_codegen_gpu::emit(g, op, &config)?;
    g.b.build_return(None).map_err(e)?;
    let state = g.gpu.as_ref().ok_or("the GPU state is missing")?;
    if let Some(err) = &state.error {
        return Err(err.clone());
    }
    if state.shared_bytes > arch.limits.max_shared_memory {
        return Err(format!(
            "needs {} bytes of shared memory; target '{}' has {}",
            state.shared_bytes, arch.chip, arch.limits.max_shared_memory
        ));
    }
    Ok(Kernel {
        name: name.to_string(),
        workgroup_size: config.workgroup_size,
        bindings: types,
        symbols,
        binding_extents: extents,
        workgroups,
        shared_memory: state.shared_bytes,
        reports_errors,
        code: vec![],
    })
}

/// An open `if`: the block after it.
pub struct IfScope<'ctx> {
    merge: BasicBlock<'ctx>,
}

/// An open counted loop.
pub struct LoopScope<'ctx> {
    counter: PointerValue<'ctx>,
    i: IntValue<'ctx>,
    step: IntValue<'ctx>,
    header: BasicBlock<'ctx>,
    exit: BasicBlock<'ctx>,
}

fn to_v(v: Val<BasicValueEnum<'_>>) -> V<'_> {
    match v.kind {
        RegKind::F => V::F(v.id.into_float_value()),
        RegKind::I => V::I(v.id.into_int_value()),
    }
}

fn from_v(v: V<'_>) -> Val<BasicValueEnum<'_>> {
    match v {
        V::F(x) => Val {
            kind: RegKind::F,
            id: x.into(),
        },
        V::I(x) => Val {
            kind: RegKind::I,
            id: x.into(),
        },
    }
}

impl<'ctx> Gen<'_, 'ctx> {
    fn state(&mut self) -> R<&mut GpuState<'ctx>> {
        self.gpu.as_mut().ok_or_else(|| "not a GPU kernel".into())
    }

    /// Records the first failure of an infallible [`GpuBuilder`] call.
    fn record(&mut self, message: String) {
        if let Some(s) = self.gpu.as_mut() {
            s.error.get_or_insert(message);
        }
    }

    /// `r`'s value, or (recording the failure) a zero of `ty` so emission can go on.
    fn or_zero(
        &mut self,
        r: R<BasicValueEnum<'ctx>>,
        ty: BasicTypeEnum<'ctx>,
    ) -> BasicValueEnum<'ctx> {
        r.unwrap_or_else(|m| {
            self.record(m);
            ty.const_zero()
        })
    }

    fn type_of(&self, kind: Kind) -> BasicTypeEnum<'ctx> {
        match kind {
            Kind::Index => self.i32t.into(),
            Kind::Bool => self.cx.bool_type().into(),
            Kind::F32 => self.f32t.into(),
            Kind::I64 => self.i64t.into(),
        }
    }

    fn special_register(&mut self, nvptx: &str, amdgpu: &str) -> BasicValueEnum<'ctx> {
        let name = match self.gpu.as_ref().map(|s| s.isa) {
            Some(GpuIsa::Nvptx) => nvptx,
            _ => amdgpu,
        };
        let r = self.intrinsic(name, &[], &[]);
        self.or_zero(r, self.i32t.into())
    }

    fn int_op(
        &mut self,
        f: impl FnOnce(&Self, IntValue<'ctx>, IntValue<'ctx>) -> R<IntValue<'ctx>>,
        a: BasicValueEnum<'ctx>,
        b: BasicValueEnum<'ctx>,
    ) -> BasicValueEnum<'ctx> {
        let ty = a.get_type();
        let r = f(self, a.into_int_value(), b.into_int_value()).map(Into::into);
        self.or_zero(r, ty)
    }

    /// The address of element `index` (an i32) of `binding`.
    fn widen_index(&mut self, index: BasicValueEnum<'ctx>) -> R<IntValue<'ctx>> {
        self.b
            .build_int_s_extend(index.into_int_value(), self.i64t, "off")
            .map_err(e)
    }

    fn binding_type(&mut self, binding: u32) -> R<ElementType> {
        self.state()?
            .types
            .get(binding as usize)
            .copied()
            .ok_or_else(|| format!("binding {binding} does not exist"))
    }
}

/// The shared kernels' invocation index math in 32-bit LLVM integers (the IR builder folds
/// constants).
impl<'ctx> IndexBuilder for Gen<'_, 'ctx> {
    type Index = BasicValueEnum<'ctx>;
    fn workgroup_index(&mut self) -> Self::Index {
        self.special_register(
            "llvm.nvvm.read.ptx.sreg.ctaid.x",
            "llvm.amdgcn.workgroup.id.x",
        )
    }
    fn local_index(&mut self) -> Self::Index {
        self.special_register("llvm.nvvm.read.ptx.sreg.tid.x", "llvm.amdgcn.workitem.id.x")
    }
    fn constant(&mut self, v: u64) -> Self::Index {
        self.i32t.const_int(v, false).into()
    }
    fn add(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(|g, a, b| g.b.build_int_add(a, b, "add").map_err(e), a, b)
    }
    fn mul(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(|g, a, b| g.b.build_int_mul(a, b, "mul").map_err(e), a, b)
    }
    fn div(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(
            |g, a, b| g.b.build_int_signed_div(a, b, "div").map_err(e),
            a,
            b,
        )
    }
    fn rem(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(
            |g, a, b| g.b.build_int_signed_rem(a, b, "rem").map_err(e),
            a,
            b,
        )
    }
    fn max(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(
            |g, a, b| {
                let gt = g.icmp(IntPredicate::SGT, a, b)?;
                Ok(g.b
                    .build_select(gt, a, b, "max")
                    .map_err(e)?
                    .into_int_value())
            },
            a,
            b,
        )
    }
}

impl<'ctx> GpuBuilder for Gen<'_, 'ctx> {
    type Var = (PointerValue<'ctx>, BasicTypeEnum<'ctx>);
    type Shared = (PointerValue<'ctx>, BasicTypeEnum<'ctx>);
    type IfScope = IfScope<'ctx>;
    type LoopScope = LoopScope<'ctx>;

    fn known(&self, v: Self::Index) -> Option<i64> {
        match v {
            BasicValueEnum::IntValue(i) if i.is_const() => i.get_sign_extended_constant(),
            _ => None,
        }
    }
    fn const_index(&mut self, v: i32) -> Self::Index {
        self.i32t.const_int(v as i64 as u64, true).into()
    }
    fn size(&mut self, n: &SymExpr) -> R<Self::Index> {
        let wide = n.eval_in(self)?;
        Ok(self
            .b
            .build_int_truncate(wide, self.i32t, "size")
            .map_err(e)?
            .into())
    }
    fn sub(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(|g, a, b| g.b.build_int_sub(a, b, "sub").map_err(e), a, b)
    }
    fn compare(&mut self, kind: Kind, c: Cmp, a: Self::Index, b: Self::Index) -> Self::Index {
        let r = if kind == Kind::F32 {
            let p = match c {
                Cmp::Lt | Cmp::ULt => FloatPredicate::OLT,
                Cmp::Gt => FloatPredicate::OGT,
                Cmp::Ge => FloatPredicate::OGE,
                Cmp::Eq => FloatPredicate::OEQ,
            };
            self.fcmp(p, a.into_float_value(), b.into_float_value())
        } else {
            let p = match c {
                Cmp::Lt => IntPredicate::SLT,
                Cmp::Gt => IntPredicate::SGT,
                Cmp::Ge => IntPredicate::SGE,
                Cmp::Eq => IntPredicate::EQ,
                Cmp::ULt => IntPredicate::ULT,
            };
            self.icmp(p, a.into_int_value(), b.into_int_value())
        };
        self.or_zero(r.map(Into::into), self.cx.bool_type().into())
    }
    fn and(&mut self, a: Self::Index, b: Self::Index) -> Self::Index {
        self.int_op(|g, a, b| g.b.build_and(a, b, "and").map_err(e), a, b)
    }
    fn not(&mut self, a: Self::Index) -> Self::Index {
        let r = self.b.build_not(a.into_int_value(), "not").map_err(e);
        self.or_zero(r.map(Into::into), self.cx.bool_type().into())
    }
    fn select(
        &mut self,
        kind: Kind,
        c: Self::Index,
        a: Self::Index,
        b: Self::Index,
    ) -> Self::Index {
        let r = self
            .b
            .build_select(c.into_int_value(), a, b, "sel")
            .map_err(e);
        self.or_zero(r, self.type_of(kind))
    }
    fn const_f32(&mut self, v: f32) -> Self::Index {
        self.f32t.const_float(v as f64).into()
    }
    fn const_i64(&mut self, v: i64) -> Self::Index {
        self.i64t.const_int(v as u64, true).into()
    }
    fn arith(&mut self, op: Arith, kind: RegKind, a: Self::Index, b: Self::Index) -> Self::Index {
        let r: R<BasicValueEnum> = match kind {
            RegKind::F => {
                let (x, y) = (a.into_float_value(), b.into_float_value());
                let bl = &self.b;
                match op {
                    Arith::Add => bl.build_float_add(x, y, "fadd").map_err(e).map(Into::into),
                    Arith::Sub => bl.build_float_sub(x, y, "fsub").map_err(e).map(Into::into),
                    Arith::Mul => bl.build_float_mul(x, y, "fmul").map_err(e).map(Into::into),
                    Arith::Div => bl.build_float_div(x, y, "fdiv").map_err(e).map(Into::into),
                    // NaN-ignoring, as the SPIR-V generator's NMax/NMin.
                    Arith::Max => {
                        self.intrinsic("llvm.maxnum", &[self.f32t.into()], &[x.into(), y.into()])
                    }
                    Arith::Min => {
                        self.intrinsic("llvm.minnum", &[self.f32t.into()], &[x.into(), y.into()])
                    }
                }
            }
            RegKind::I => {
                let (x, y) = (a.into_int_value(), b.into_int_value());
                let bl = &self.b;
                let pick = |p| -> R<BasicValueEnum> {
                    let c = self.icmp(p, x, y)?;
                    bl.build_select(c, x, y, "pick").map_err(e)
                };
                match op {
                    Arith::Add => bl.build_int_add(x, y, "add").map_err(e).map(Into::into),
                    Arith::Sub => bl.build_int_sub(x, y, "sub").map_err(e).map(Into::into),
                    Arith::Mul => bl.build_int_mul(x, y, "mul").map_err(e).map(Into::into),
                    Arith::Div => bl
                        .build_int_signed_div(x, y, "div")
                        .map_err(e)
                        .map(Into::into),
                    Arith::Max => pick(IntPredicate::SGT),
                    Arith::Min => pick(IntPredicate::SLT),
                }
            }
        };
        self.or_zero(r, self.type_of(Kind::of(kind)))
    }
    fn sqrt(&mut self, a: Self::Index) -> Self::Index {
        let r = self.intrinsic("llvm.sqrt", &[self.f32t.into()], &[a.into()]);
        self.or_zero(r, self.f32t.into())
    }
    fn exp(&mut self, a: Self::Index) -> Self::Index {
        let r = body::exp(self, a.into_float_value()).map(Into::into);
        self.or_zero(r, self.f32t.into())
    }
    fn convert(&mut self, from: Kind, to: Kind, a: Self::Index) -> Self::Index {
        let bl = &self.b;
        let r: R<BasicValueEnum> = match (from, to) {
            (Kind::Index | Kind::I64, Kind::F32) => bl
                .build_signed_int_to_float(a.into_int_value(), self.f32t, "f")
                .map_err(e)
                .map(Into::into),
            (Kind::Index, Kind::I64) => bl
                .build_int_s_extend(a.into_int_value(), self.i64t, "wide")
                .map_err(e)
                .map(Into::into),
            (Kind::I64, Kind::Index) => bl
                .build_int_truncate(a.into_int_value(), self.i32t, "narrow")
                .map_err(e)
                .map(Into::into),
            (Kind::F32, Kind::I64 | Kind::Index) => {
                let ty = if to == Kind::I64 {
                    self.i64t
                } else {
                    self.i32t
                };
                bl.build_float_to_signed_int(a.into_float_value(), ty, "i")
                    .map_err(e)
                    .map(Into::into)
            }
            _ => Ok(a),
        };
        self.or_zero(r, self.type_of(to))
    }
    fn var(&mut self, kind: Kind) -> Self::Var {
        let ty = self.type_of(kind);
        match self.alloca(ty) {
            Ok(p) => (p, ty),
            Err(m) => {
                self.record(m);
                (self.cx.ptr_type(AddressSpace::default()).const_null(), ty)
            }
        }
    }
    fn get(&mut self, (p, ty): Self::Var) -> Self::Index {
        let r = self.b.build_load(ty, p, "v").map_err(e);
        self.or_zero(r, ty)
    }
    fn set(&mut self, (p, _): Self::Var, value: Self::Index) {
        if let Err(m) = self.b.build_store(p, value).map_err(e) {
            self.record(m);
        }
    }
    fn begin_if(&mut self, cond: Self::Index) -> R<IfScope<'ctx>> {
        let then = self.cx.append_basic_block(self.f, "then");
        let merge = self.cx.append_basic_block(self.f, "endif");
        self.b
            .build_conditional_branch(cond.into_int_value(), then, merge)
            .map_err(e)?;
        self.b.position_at_end(then);
        Ok(IfScope { merge })
    }
    fn end_if(&mut self, scope: IfScope<'ctx>) -> R<()> {
        self.b.build_unconditional_branch(scope.merge).map_err(e)?;
        self.b.position_at_end(scope.merge);
        Ok(())
    }
    fn begin_loop(
        &mut self,
        start: Self::Index,
        end: Self::Index,
        step: Self::Index,
    ) -> R<(LoopScope<'ctx>, Self::Index)> {
        let counter = self.alloca(self.i32t.into())?;
        self.b.build_store(counter, start).map_err(e)?;
        let header = self.cx.append_basic_block(self.f, "loop");
        let body = self.cx.append_basic_block(self.f, "body");
        let exit = self.cx.append_basic_block(self.f, "endloop");
        self.b.build_unconditional_branch(header).map_err(e)?;
        self.b.position_at_end(header);
        let i = self
            .b
            .build_load(self.i32t, counter, "i")
            .map_err(e)?
            .into_int_value();
        let more = self.icmp(IntPredicate::SLT, i, end.into_int_value())?;
        self.b
            .build_conditional_branch(more, body, exit)
            .map_err(e)?;
        self.b.position_at_end(body);
        let scope = LoopScope {
            counter,
            i,
            step: step.into_int_value(),
            header,
            exit,
        };
        Ok((scope, i.into()))
    }
    fn end_loop(&mut self, scope: LoopScope<'ctx>) -> R<()> {
        let next = self
            .b
            .build_int_add(scope.i, scope.step, "next")
            .map_err(e)?;
        self.b.build_store(scope.counter, next).map_err(e)?;
        self.b.build_unconditional_branch(scope.header).map_err(e)?;
        self.b.position_at_end(scope.exit);
        Ok(())
    }
    fn shared_array(&mut self, kind: RegKind, n: u32) -> Self::Shared {
        let ty = self.type_of(Kind::of(kind));
        let bytes = match kind {
            RegKind::F => 4,
            RegKind::I => 8,
        };
        self.shared_global(ty, n, bytes, 8)
    }
    fn shared_load(&mut self, (p, ty): Self::Shared, index: Self::Index) -> Self::Index {
        let r = self
            .gep(ty, p, index.into_int_value())
            .and_then(|at| self.b.build_load(ty, at, "sh").map_err(e));
        self.or_zero(r, ty)
    }
    fn shared_store(&mut self, (p, ty): Self::Shared, index: Self::Index, value: Self::Index) {
        let r = self
            .gep(ty, p, index.into_int_value())
            .and_then(|at| self.b.build_store(at, value).map_err(e));
        if let Err(m) = r {
            self.record(m);
        }
    }
    fn barrier(&mut self) {
        let r = match self.gpu.as_ref().map(|s| s.isa) {
            Some(GpuIsa::Nvptx) => {
                // LLVM 21 renamed `barrier0` (bar.sync 0, which orders shared memory).
                let renamed = "llvm.nvvm.barrier.cta.sync.aligned.all";
                if inkwell::intrinsics::Intrinsic::find(renamed).is_some() {
                    let zero = self.i32t.const_zero();
                    self.call_void_intrinsic(renamed, &[zero.into()])
                } else {
                    self.call_void_intrinsic("llvm.nvvm.barrier0", &[])
                }
            }
            // Workgroup-scoped fences around `s_barrier` ([`WORKGROUP_BARRIER`], linked in
            // after the kernels are written).
            _ => {
                let f = self.m.get_function(WORKGROUP_BARRIER).unwrap_or_else(|| {
                    let ty = self.cx.void_type().fn_type(&[], false);
                    self.m.add_function(WORKGROUP_BARRIER, ty, None)
                });
                self.b.build_call(f, &[], "").map(drop).map_err(e)
            }
        };
        if let Err(m) = r {
            self.record(m);
        }
    }
    fn binding_base(&mut self, _b: u32) -> Self::Index {
        self.i32t.const_zero().into()
    }
    fn load(&mut self, binding: u32, index: Self::Index) -> R<Val<Self::Index>> {
        let t = self.binding_type(binding)?;
        let off = self.widen_index(index)?;
        Ok(from_v(self.load_element(binding, t, off)?))
    }
    fn store(&mut self, binding: u32, index: Self::Index, value: Val<Self::Index>) -> R<()> {
        let t = self.binding_type(binding)?;
        let off = self.widen_index(index)?;
        self.store_element(binding, t, off, to_v(value))
    }
    fn copy_element(
        &mut self,
        from: u32,
        from_index: Self::Index,
        to: u32,
        to_index: Self::Index,
    ) -> R<()> {
        let (t, u) = (self.binding_type(from)?, self.binding_type(to)?);
        if t != u {
            return Err(format!("cannot copy {t} elements into {u} ones"));
        }
        let (fi, ti) = (self.widen_index(from_index)?, self.widen_index(to_index)?);
        let (src, ty) = self.element_ptr(from, t, fi)?;
        let (dst, _) = self.element_ptr(to, u, ti)?;
        let v = self.b.build_load(ty, src, "raw").map_err(e)?;
        self.b.build_store(dst, v).map_err(e)?;
        Ok(())
    }
    fn report_index_out_of_range(&mut self) -> R<()> {
        let status = self
            .state()?
            .status
            .ok_or("this kernel has no status word")?;
        let code = kiln_gpu_binary::ErrorCode::GatherIndexOutOfRange as u64;
        self.b
            .build_store(status, self.i32t.const_int(code, false))
            .map_err(e)?;
        Ok(())
    }
    fn eval_body(
        &mut self,
        body: &Body,
        coords: &[Self::Index],
        input: &mut dyn FnMut(&mut Self, u32) -> R<Val<Self::Index>>,
    ) -> R<Vec<Val<Self::Index>>> {
        let wide = coords
            .iter()
            .map(|&c| self.widen_index(c))
            .collect::<R<Vec<_>>>()?;
        let values = body::eval(self, body, &wide, &mut |g, n| input(g, n).map(to_v))?;
        Ok(values.into_iter().map(from_v).collect())
    }
    fn cast(&mut self, v: Val<Self::Index>, t: ElementType) -> Val<Self::Index> {
        match body::cast(self, to_v(v), t) {
            Ok(v) => from_v(v),
            Err(m) => {
                self.record(m);
                v
            }
        }
    }

    fn matrix_accumulator_len(&self) -> usize {
        match self.gpu.as_ref().map(|s| s.isa) {
            Some(GpuIsa::Nvptx) => WMMA_ACCUMULATOR_LEN,
            _ => 0,
        }
    }
    fn matrix_shared_array(&mut self, t: ElementType, n: u32) -> R<Self::Shared> {
        let ty = self.wmma_element(t)?;
        // WMMA loads need 32-byte aligned fragments.
        Ok(self.shared_global(ty, n, t.byte_size() as u32, 32))
    }
    fn matrix_stage(
        &mut self,
        (p, ty): Self::Shared,
        index: Self::Index,
        value: Self::Index,
    ) -> R<()> {
        let narrow = self
            .b
            .build_float_trunc(value.into_float_value(), ty.into_float_type(), "narrow")
            .map_err(e)?;
        let at = self.gep(ty, p, index.into_int_value())?;
        self.b.build_store(at, narrow).map_err(e)?;
        Ok(())
    }
    fn matrix_load(
        &mut self,
        operand: MatrixOperand,
        t: ElementType,
        (p, ty): Self::Shared,
        offset: Self::Index,
        stride: u32,
    ) -> R<Vec<Self::Index>> {
        let which = match operand {
            MatrixOperand::A => "a",
            MatrixOperand::B => "b",
        };
        let (name, part) = (wmma_type_name(t)?, self.wmma_part(t)?);
        let parts = wmma_parts(t);
        let fragment = self.cx.struct_type(&vec![part; parts], false);
        let shared = self.cx.ptr_type(AddressSpace::from(3u16));
        let f = self.declare(
            &format!("llvm.nvvm.wmma.m16n16k16.load.{which}.row.stride.{name}.p3"),
            fragment.fn_type(&[shared.into(), self.i32t.into()], false),
        );
        let at = self.gep(ty, p, offset.into_int_value())?;
        let stride = self.i32t.const_int(stride as u64, false);
        let loaded = self.call(f, &[at.into(), stride.into()])?;
        self.unpack(loaded, parts)
    }
    fn matrix_multiply_add(
        &mut self,
        t: ElementType,
        a: &[Self::Index],
        b: &[Self::Index],
        c: &[Self::Index],
    ) -> R<Vec<Self::Index>> {
        let name = match t {
            ElementType::F16 => "llvm.nvvm.wmma.m16n16k16.mma.row.row.f32.f32",
            ElementType::BF16 => "llvm.nvvm.wmma.m16n16k16.mma.row.row.bf16",
            _ => return Err(format!("no matrix multiply of {t}")),
        };
        let part = self.wmma_part(t)?;
        let parts = wmma_parts(t);
        let mut params: Vec<BasicMetadataTypeEnum> = vec![part.into(); 2 * parts];
        params.extend([BasicMetadataTypeEnum::from(self.f32t); WMMA_ACCUMULATOR_LEN]);
        let result = self
            .cx
            .struct_type(&[self.f32t.into(); WMMA_ACCUMULATOR_LEN], false);
        let f = self.declare(name, result.fn_type(&params, false));
        let args: Vec<_> = a.iter().chain(b).chain(c).map(|&v| v.into()).collect();
        let d = self.call(f, &args)?;
        self.unpack(d, WMMA_ACCUMULATOR_LEN)
    }
    fn matrix_store(
        &mut self,
        (p, ty): Self::Shared,
        offset: Self::Index,
        stride: u32,
        c: &[Self::Index],
    ) -> R<()> {
        let shared = self.cx.ptr_type(AddressSpace::from(3u16));
        let mut params: Vec<BasicMetadataTypeEnum> = vec![shared.into()];
        params.extend([BasicMetadataTypeEnum::from(self.f32t); WMMA_ACCUMULATOR_LEN]);
        params.push(self.i32t.into());
        let f = self.declare(
            "llvm.nvvm.wmma.m16n16k16.store.d.row.stride.f32.p3",
            self.cx.void_type().fn_type(&params, false),
        );
        let at = self.gep(ty, p, offset.into_int_value())?;
        let mut args: Vec<inkwell::values::BasicMetadataValueEnum> = vec![at.into()];
        args.extend(
            c.iter()
                .map(|&v| inkwell::values::BasicMetadataValueEnum::from(v)),
        );
        args.push(self.i32t.const_int(stride as u64, false).into());
        self.b.build_call(f, &args, "").map_err(e)?;
        Ok(())
    }
}

/// f32 values a lane holds of a WMMA `m16n16k16` accumulator.
const WMMA_ACCUMULATOR_LEN: usize = 8;

/// The element name of WMMA's intrinsics for `t`.
fn wmma_type_name(t: ElementType) -> R<&'static str> {
    match t {
        ElementType::F16 => Ok("f16"),
        ElementType::BF16 => Ok("bf16"),
        _ => Err(format!("no WMMA fragments of {t}")),
    }
}

/// Registers a lane holds of an `m16n16k16` A or B fragment: eight `<2 x half>` for f16,
/// four `i32` (two bf16 each) for bf16.
fn wmma_parts(t: ElementType) -> usize {
    match t {
        ElementType::BF16 => 4,
        _ => 8,
    }
}

impl<'ctx> Gen<'_, 'ctx> {
    /// A module global array of `n` values of `ty` (`bytes` each) in the GPU's shared address
    /// space, aligned to `align` bytes.
    fn shared_global(
        &mut self,
        ty: BasicTypeEnum<'ctx>,
        n: u32,
        bytes: u32,
        align: u32,
    ) -> (PointerValue<'ctx>, BasicTypeEnum<'ctx>) {
        let array = ty.array_type(n);
        let (name, shared) = match self.state() {
            Ok(s) => {
                // Each array starts aligned: count the padding before it too.
                s.shared_bytes = s.shared_bytes.next_multiple_of(align) + bytes * n;
                s.shared_arrays += 1;
                (format!("{}_shared_{}", s.kernel, s.shared_arrays), true)
            }
            Err(m) => (m, false),
        };
        if !shared {
            self.record(name.clone());
        }
        let global = self
            .m
            .add_global(array, Some(AddressSpace::from(3u16)), &name);
        global.set_linkage(Linkage::Internal);
        global.set_initializer(&array.get_poison());
        global.set_alignment(align);
        (global.as_pointer_value(), ty)
    }

    /// The LLVM type of a WMMA operand (or, f32, accumulator) element of `t`.
    fn wmma_element(&self, t: ElementType) -> R<BasicTypeEnum<'ctx>> {
        match (self.gpu.as_ref().map(|s| s.isa), t) {
            (Some(GpuIsa::Nvptx), ElementType::F16) => Ok(self.cx.f16_type().into()),
            (Some(GpuIsa::Nvptx), ElementType::BF16) => Ok(self.cx.bf16_type().into()),
            (Some(GpuIsa::Nvptx), ElementType::F32) => Ok(self.f32t.into()),
            _ => Err(format!("no matrix units for {t} on this target")),
        }
    }

    /// The register type of a WMMA A/B fragment of `t` (see [`wmma_parts`]).
    fn wmma_part(&self, t: ElementType) -> R<BasicTypeEnum<'ctx>> {
        match t {
            ElementType::F16 => Ok(self.cx.f16_type().vec_type(2).into()),
            ElementType::BF16 => Ok(self.i32t.into()),
            _ => Err(format!("no WMMA fragments of {t}")),
        }
    }

    /// The `n` fields of a struct value.
    fn unpack(&self, v: BasicValueEnum<'ctx>, n: usize) -> R<Vec<BasicValueEnum<'ctx>>> {
        let v = v.into_struct_value();
        (0..n as u32)
            .map(|i| self.b.build_extract_value(v, i, "part").map_err(e))
            .collect()
    }
}

impl Gen<'_, '_> {
    /// Calls an intrinsic that returns nothing.
    fn call_void_intrinsic(
        &self,
        name: &str,
        args: &[inkwell::values::BasicMetadataValueEnum<'_>],
    ) -> R<()> {
        let i = inkwell::intrinsics::Intrinsic::find(name)
            .ok_or_else(|| format!("no LLVM intrinsic {name}"))?;
        let f = i
            .get_declaration(self.m, &[])
            .ok_or_else(|| format!("cannot declare {name}"))?;
        self.b.build_call(f, args, "").map_err(e)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One kernel of each mapping and op the shared kernels write, as kernel IR.
    fn every_op() -> kiln_kernel::Dispatches {
        let storages = "%s0 = param 0 [1xf32]\n%s1 = param 1 [1xf32]\n%s2 = computed [1xf32]\n";
        let ops = "dispatch_0(%s0, %s1) = generic [1000x3] (#0[1000x3xf32]) -> (#1[1000x3xf32]) { r0 = in0; r1 = exp r0; r2 = tanh r1; r3 = sin r2; r4 = log r3; r5 = pow r4, r0; yield r5 }
             dispatch_1(%s0, %s1) = generic [3x1000] reduce sum over last 1 (#0[3x1000xf32]) -> (#1[3x1000xf32]/1,0) { r0 = in0; yield r0 }
             dispatch_2(%s0, %s1) = generic [100x8] reduce max over last 1 (#0[100x8xi64]) -> (#1[100x8xi64]/1,0) { r0 = in0; yield r0 }
             dispatch_3(%s0, %s1, %s2) = matmul #0[2x100x64xf32], #1[2x64x40xf32] -> #2[2x100x40xf32]
             dispatch_4(%s0, %s1, %s2) = conv2d #0[1x8x9x9xf32], #1[16x4x3x3xf32] -> #2[1x16x5x5xf32] strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] groups 2
             dispatch_5(%s0, %s1) = layer_norm #0[8x256xf32] -> #1[8x256xf32] epsilon 1e-5
             dispatch_6(%s0, %s1) = softmax #0[128x32x1xf32] -> #1[128x32x1xf32]
             dispatch_7(%s0, %s1) = pool2d max #0[1x16x64x64xf32] -> #1[1x16x32x32xf32] kernel [3, 3] strides [2, 2] pads [1, 1, 1, 1]
             dispatch_8(%s0, %s1, %s2) = gather #0[2x12x1xf32], #1[5xi64] -> #2[2x5x1xf32]
             dispatch_9(%s0, %s1, %s2) = matmul #0[2x200x72xf16], #1[2x72x130xf16] -> #2[2x200x130xf16]
             dispatch_10(%s0, %s1, %s2) = matmul #0[1x64x48xbf16], #1[1x48x40xbf16] -> #2[1x64x40xf32]
             dispatch_11(%s0, %s1, %s2) = conv2d #0[1x16x9x9xf16], #1[32x16x3x3xf16] -> #2[1x32x9x9xf16] strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1";
        kiln_kernel::parse(&format!("{storages}{ops}")).unwrap()
    }

    fn compile_all(arch: &GpuArch) -> Executable {
        let d = every_op();
        let names: Vec<String> = (0..d.dispatches.len())
            .map(|i| format!("dispatch_{i}"))
            .collect();
        let kernels: Vec<(&str, &Op)> = names
            .iter()
            .zip(&d.dispatches)
            .map(|(n, d)| (n.as_str(), &d.kernel))
            .collect();
        compile_gpu(&kernels, arch).unwrap()
    }

    #[test]
    fn every_op_becomes_a_ptx_entry() {
        for chip in ["sm_80", "hopper"] {
            let exe = compile_all(cuda_arch(chip).unwrap());
            let ptx = String::from_utf8(exe.code.clone()).unwrap();
            for k in &exe.kernels {
                assert!(ptx.contains(&format!(".entry {}(", k.name)), "{}", k.name);
            }
            // Nothing left to link: every function is defined in the module.
            assert!(!ptx.contains(".extern"), "{ptx}");
            let matmul = &exe.kernels[3];
            assert_eq!((matmul.workgroup_size, matmul.shared_memory), (256, 2112));
            assert!(exe.kernels[8].reports_errors);
            // f16 and bf16 GEMMs run on the tensor cores.
            for k in &exe.kernels[9..12] {
                assert_eq!(
                    (k.workgroup_size, k.shared_memory),
                    (256, 27136),
                    "{}",
                    k.name
                );
            }
            assert_eq!(ptx.matches("wmma.mma.sync").count(), 3 * 16, "{ptx}");
            Executable::decode(&exe.encode()).unwrap();
            check_with_ptxas(&ptx, exe.target.as_str());
        }
    }

    /// Runs NVIDIA's `ptxas` (from `KILN_PTXAS`, else `PATH`) on `ptx` for `chip`, when it is
    /// installed (`KILN_REQUIRE_GPU_TOOLS` makes its absence a failure).
    fn check_with_ptxas(ptx: &str, chip: &str) {
        let ptxas = std::env::var("KILN_PTXAS").unwrap_or_else(|_| "ptxas".into());
        let dir = std::env::temp_dir().join(format!("kiln-ptx-test-{}-{chip}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("kernels.ptx");
        std::fs::write(&file, ptx).unwrap();
        let run = std::process::Command::new(&ptxas)
            .args(["-arch", chip, "-o"])
            .arg(dir.join("kernels.cubin"))
            .arg(&file)
            .output();
        std::fs::remove_dir_all(&dir).ok();
        match run {
            Ok(out) => assert!(
                out.status.success(),
                "ptxas -arch={chip}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(_) if std::env::var_os("KILN_REQUIRE_GPU_TOOLS").is_none() => {
                eprintln!("skipped ptxas: {ptxas} is not installed")
            }
            Err(err) => panic!("{ptxas}: {err}"),
        }
    }

    #[test]
    fn every_op_becomes_an_hsaco_kernel() {
        if std::process::Command::new("ld.lld-22")
            .arg("--version")
            .output()
            .is_err()
            && std::process::Command::new("ld.lld")
                .arg("--version")
                .output()
                .is_err()
        {
            assert!(
                std::env::var_os("KILN_REQUIRE_GPU_TOOLS").is_none(),
                "ld.lld is required (KILN_REQUIRE_GPU_TOOLS) but missing"
            );
            eprintln!("skipped: no ld.lld");
            return;
        }
        let exe = compile_all(rocm_arch("mi300x").unwrap());
        assert!(exe.code.starts_with(b"\x7fELF"));
        for k in &exe.kernels {
            let descriptor = format!("{}.kd", k.name);
            let found = exe
                .code
                .windows(descriptor.len())
                .any(|w| w == descriptor.as_bytes());
            assert!(found, "{descriptor}");
        }
    }

    #[test]
    fn targets_are_found_by_chip_or_name() {
        assert_eq!(cuda_arch("").unwrap().chip, "sm_80");
        assert_eq!(cuda_arch("H100").unwrap().chip, "sm_90");
        assert_eq!(rocm_arch("gfx1100").unwrap().limits.subgroup_size, 32);
        let err = cuda_arch("sm_42").unwrap_err().to_string();
        assert!(
            err.contains("--iree-cuda-target=sm_42") && err.contains("hopper"),
            "{err}"
        );
    }
}
