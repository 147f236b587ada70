//! The `llvm-cpu` code generator: kernels → LLVM IR → an optimised relocatable object, packed
//! with the kernels' descriptions into a [`kiln_native::Executable`].
//!
//! - Elementwise and reduction kernels (`KernelOp::Generic`) are generated in full: the
//!   workgroup's tile box is computed from the workgroup index as VMVX does, then a loop nest
//!   evaluates the fused body per element (`body.rs`); LLVM's O3 pipeline vectorises the
//!   contiguous innermost loops for the target's vector width.
//! - Named ops (matmul, convolution, pooling, softmax, layer norm, gather) call the runtime's
//!   microkernels through the `kiln_vmvx_workgroup` import (IREE's executable imports), which
//!   runs that workgroup with the same packed GEMM and row kernels as VMVX.
//! - The GEMMs' register tile is generated as LLVM IR into the executable (`tile.rs`) where
//!   kiln has none in Rust for the target (AArch64's NEON tile) or when
//!   `--iree-llvmcpu-enable-ukernels` leaves out `mmt4d`; the runtime's GEMM drivers then call
//!   the executable's tile.
//! - [`CpuTarget`] is `--iree-llvmcpu-target-triple/-cpu/-cpu-features`: the host by default,
//!   or any x86-64, AArch64 or RISC-V 64 triple (cross-compiled objects are valid; only x86-64
//!   ones load here).
//!
//! ```no_run
//! use kiln_codegen_llvm::{compile, CpuTarget};
//! let exe = compile(&[], &CpuTarget::host())?;
//! assert!(!exe.object.is_empty());
//! # Ok::<(), kiln_codegen_llvm::LlvmError>(())
//! ```

mod body;
mod gpu;
mod inline_math;
mod kernel;
pub mod static_library;
mod tile;

pub use gpu::{
    compile_gpu, cuda_arch, rocm_arch, GpuArch, GpuIsa, CUDA_ALIASES, CUDA_ARCHS, ROCM_ALIASES,
    ROCM_ARCHS,
};
pub use tile::TILE_SYMBOL;

use inkwell::context::Context;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use inkwell::OptimizationLevel;
use kiln_codegen_cpu::lowered::Kernel;
use kiln_types::sizes::Symbolic;

/// Errors of the llvm-cpu code generator.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LlvmError {
    /// The `--iree-llvmcpu-*` flags name no CPU kiln can compile for (the message says which
    /// flag and why).
    #[error("{0}")]
    Target(String),
    #[error("kernel '{kernel}': {message}")]
    Kernel { kernel: String, message: String },
    /// A stage of LLVM's pipeline failed on the generated module.
    #[error("LLVM {stage} failed: {message}")]
    Llvm {
        stage: &'static str,
        message: String,
    },
}

/// What to compile for (IREE's `--iree-llvmcpu-*` flags).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CpuTarget {
    /// An LLVM triple; empty for the host.
    pub triple: String,
    /// A CPU name, `host` (default) or `generic`.
    pub cpu: String,
    /// Extra features, LLVM spelling (`+avx2,-avx512f`).
    pub features: String,
    /// IREE's `--iree-llvmcpu-enable-ukernels`: `default` (or empty), `all`, `none`, or a
    /// comma-separated list of microkernel names. Without `mmt4d` (`none`, or a list lacking
    /// it) the GEMM tile is generated into the executable instead of kiln's Rust tiles.
    pub ukernels: String,
    /// Whether kernels write math inline (`--kiln-llvmcpu-inline-math`) rather than calling
    /// the C library; always so for bare-metal triples (`*-none-*`), which have none.
    pub inline_math: bool,
    /// Writes a static library named so (a C identifier: the compiler checks
    /// [`static_library::valid_name`]) rather than an object the runtime
    /// links (`--iree-llvmcpu-link-embedded=false`): position-independent code whose kernels
    /// `NAME_library_query()` lists (see `static_library.rs`).
    pub static_library: Option<String>,
}

impl CpuTarget {
    /// The machine this runs on.
    pub fn host() -> CpuTarget {
        CpuTarget::default()
    }
}

fn init() {
    let c = InitializationConfig::default();
    Target::initialize_x86(&c);
    Target::initialize_aarch64(&c);
    Target::initialize_riscv(&c);
}

/// Names and descriptions of the targets LLVM was built with here, for
/// `--iree-llvmcpu-list-targets`.
pub fn list_targets() -> Vec<(String, String)> {
    init();
    let mut out = vec![];
    let mut t = Target::get_first();
    while let Some(target) = t {
        out.push((
            target.get_name().to_string_lossy().into_owned(),
            target.get_description().to_string_lossy().into_owned(),
        ));
        t = target.get_next();
    }
    out
}

/// The target machine for `target`, with the CPU and feature strings it resolved to.
fn machine(target: &CpuTarget) -> Result<(TargetMachine, String, String, String), LlvmError> {
    init();
    let triple = if target.triple.is_empty() {
        TargetMachine::get_default_triple()
            .as_str()
            .to_string_lossy()
            .into_owned()
    } else {
        target.triple.clone()
    };
    let host = target.cpu.is_empty() || target.cpu == "host";
    if host && !target.triple.is_empty() && !triple.starts_with(std::env::consts::ARCH) {
        return Err(LlvmError::Target(format!(
            "--iree-llvmcpu-target-cpu=host cannot be used with target triple '{triple}'; name a CPU (e.g. generic)"
        )));
    }
    let cpu = if host {
        TargetMachine::get_host_cpu_name().to_string()
    } else {
        target.cpu.clone()
    };
    let mut features = if host {
        TargetMachine::get_host_cpu_features().to_string()
    } else if triple.starts_with("x86_64") {
        // The features a named x86 CPU implies must be known, so the runtime can refuse a CPU
        // that lacks one: the psABI levels are; other names are refused.
        x86_level_features(&cpu)
            .ok_or_else(|| {
                LlvmError::Target(format!(
                    "--iree-llvmcpu-target-cpu={cpu}: for x86-64 use host, generic, x86-64, x86-64-v2, x86-64-v3 or x86-64-v4 (add ISA extensions with --iree-llvmcpu-target-cpu-features)"
                ))
            })?
            .iter()
            .map(|f| format!("+{f}"))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        String::new()
    };
    let requested = requested_features(target, &triple).map_err(LlvmError::Target)?;
    if !requested.is_empty() {
        if !features.is_empty() {
            features.push(',');
        }
        features.push_str(&requested);
    }
    let t = TargetTriple::create(&triple);
    let llvm_target = Target::from_triple(&t)
        .map_err(|e| LlvmError::Target(format!("unknown target triple '{triple}': {e}")))?;
    let code_model = if triple.starts_with("riscv") {
        CodeModel::Medium
    } else {
        CodeModel::Large
    };
    let tm = llvm_target
        .create_target_machine(
            &t,
            &cpu,
            &features,
            OptimizationLevel::Aggressive,
            // The system linker puts a static library into position-independent programs.
            if target.static_library.is_some() {
                RelocMode::PIC
            } else {
                RelocMode::Static
            },
            if target.static_library.is_some() {
                CodeModel::Default
            } else {
                code_model
            },
        )
        .ok_or_else(|| {
            LlvmError::Target(format!(
                "LLVM cannot make a machine for '{triple}' cpu '{cpu}'"
            ))
        })?;
    Ok((tm, triple, cpu, features))
}

/// The register-tile shape data-tiled GEMM operands use on `target`: the best whose CPU
/// features the target has (so a module that uses it requires them).
pub fn tile_shape(target: &CpuTarget) -> Result<kiln_ukernel::gemm::TileShape, LlvmError> {
    let (_, triple, _, features) = machine(target)?;
    let arch = triple.split('-').next().unwrap_or_default();
    Ok(kiln_ukernel::gemm::TileShape::for_features(arch, |f| {
        has_feature(arch, &features, f)
    }))
}

/// Whether CPU feature `f` (LLVM spelling) is on in `features` for architecture `arch`: in
/// LLVM's `+a,-b` lists the last mention of a feature wins; AArch64 Linux CPUs all have NEON
/// (Advanced SIMD) unless it is turned off.
fn has_feature(arch: &str, features: &str, f: &str) -> bool {
    let mention = features
        .split(',')
        .rev()
        .find(|x| x.get(1..) == Some(f))
        .map(|x| x.starts_with('+'));
    mention.unwrap_or(arch == "aarch64" && f == "neon")
}

/// The microkernel names `--iree-llvmcpu-enable-ukernels` lists may hold (IREE's); only
/// `mmt4d` changes what kiln generates.
const UKERNEL_NAMES: &[&str] = &["mmt4d", "pack", "unpack", "argmax", "query_tile_sizes"];

/// The tile shape whose GEMM tile is generated into `target`'s executables, if any: when kiln
/// has no Rust tile of [`tile_shape`], or `--iree-llvmcpu-enable-ukernels` leaves out `mmt4d`.
pub fn generated_tile(
    target: &CpuTarget,
) -> Result<Option<kiln_ukernel::gemm::TileShape>, LlvmError> {
    let shape = tile_shape(target)?;
    let mmt4d = match target.ukernels.as_str() {
        "" | "default" | "all" => true,
        "none" => false,
        list => {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            if let Some(unknown) = names.iter().find(|n| !UKERNEL_NAMES.contains(n)) {
                return Err(LlvmError::Target(format!(
                    "--iree-llvmcpu-enable-ukernels: unknown microkernel '{unknown}' (use default, all, none, or a list of {})",
                    UKERNEL_NAMES.join(", ")
                )));
            }
            names.contains(&"mmt4d")
        }
    };
    Ok((!shape.builtin || !mmt4d).then_some(shape))
}

/// The ISA extensions of an x86-64 psABI level (`None` for other CPU names).
fn x86_level_features(cpu: &str) -> Option<&'static [&'static str]> {
    const V2: &[&str] = &["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"];
    const V3: &[&str] = &[
        "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "f16c", "bmi", "bmi2",
        "lzcnt", "movbe",
    ];
    const V4: &[&str] = &[
        "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "f16c", "bmi", "bmi2",
        "lzcnt", "movbe", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd",
    ];
    Some(match cpu {
        "generic" | "x86-64" => &[],
        "x86-64-v2" => V2,
        "x86-64-v3" => V3,
        "x86-64-v4" => V4,
        _ => return None,
    })
}

/// x86-64 features every x86-64 CPU has: naming them needs no check at load.
const X86_BASELINE_FEATURES: &[&str] =
    &["64bit", "cmov", "cx8", "fxsr", "mmx", "sse", "sse2", "x87"];

/// `--iree-llvmcpu-target-cpu-features` as LLVM's `+a,-b` list. `host` stands for this
/// machine's features, as in IREE (only when no other architecture's triple was named).
/// Every other entry enables (`+`) or disables (`-`) one feature; on x86-64 an enabled one
/// must be a feature the runtime checks when it loads the module (or part of the baseline),
/// so a module never needs a feature its loader cannot verify, and a misspelt name is an
/// error rather than an LLVM warning.
fn requested_features(target: &CpuTarget, triple: &str) -> Result<String, String> {
    let mut out = vec![];
    for entry in target
        .features
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        if entry == "host" {
            if !target.triple.is_empty() && !triple.starts_with(std::env::consts::ARCH) {
                return Err(format!(
                    "--iree-llvmcpu-target-cpu-features=host cannot be used with target triple '{triple}'"
                ));
            }
            out.push(TargetMachine::get_host_cpu_features().to_string());
            continue;
        }
        let enabled = match entry.split_at_checked(1) {
            Some(("+", name)) if !name.is_empty() => Some(name),
            Some(("-", name)) if !name.is_empty() => None,
            _ => {
                return Err(format!(
                    "--iree-llvmcpu-target-cpu-features: '{entry}' must be + (enable) or - (disable) and a feature name"
                ))
            }
        };
        if let Some(name) = enabled.filter(|_| triple.starts_with("x86_64")) {
            if !kiln_native::X86_CHECKED_FEATURES.contains(&name)
                && !X86_BASELINE_FEATURES.contains(&name)
            {
                return Err(format!(
                    "--iree-llvmcpu-target-cpu-features: '{name}' is not an x86-64 feature kiln can check when a module is loaded (it knows {})",
                    kiln_native::X86_CHECKED_FEATURES.join(", ")
                ));
            }
        }
        out.push(entry.to_string());
    }
    Ok(out.join(","))
}

/// The features of `features` (LLVM's `+a,-b` list) the runtime can check, for x86 triples.
fn checked_features(triple: &str, features: &str) -> Vec<String> {
    if !triple.starts_with("x86_64") {
        return vec![];
    }
    features
        .split(',')
        .filter_map(|f| f.strip_prefix('+'))
        .filter(|f| kiln_native::X86_CHECKED_FEATURES.contains(f))
        .map(str::to_string)
        .collect()
}

/// Verifies `module`, runs LLVM's O3 pipeline on it and writes it as `file_type` for `tm`:
/// the last steps of every target this crate compiles for.
fn optimise_and_emit(
    module: &inkwell::module::Module,
    tm: &TargetMachine,
    file_type: FileType,
) -> Result<Vec<u8>, LlvmError> {
    let failed = |stage| {
        move |e: inkwell::support::LLVMString| LlvmError::Llvm {
            stage,
            message: e.to_string(),
        }
    };
    module.verify().map_err(failed("verification"))?;
    module
        .run_passes("default<O3>", tm, PassBuilderOptions::create())
        .map_err(failed("optimisation"))?;
    Ok(tm
        .write_to_memory_buffer(module, file_type)
        .map_err(failed("code generation"))?
        .as_slice()
        .to_vec())
}

/// Compiles kernels (entry point `i` is `kernels[i]`) into a native executable.
pub fn compile(
    kernels: &[Kernel],
    target: &CpuTarget,
) -> Result<kiln_native::Executable, LlvmError> {
    compile_kernels(kernels, target, &|_| vec![], &|k| {
        kiln_codegen_cpu::encode_vmvx(k.to_vec())
    })
}

/// Compiles kernels whose sizes are expressions over symbols: each entry point reads its
/// symbols' values and its workgroup tiles from the dispatch's sizes (see `kernel.rs`), and
/// the executable carries the symbolic kernel descriptions the runtime binds per call.
pub fn compile_symbolic(
    kernels: &[Kernel<Symbolic>],
    target: &CpuTarget,
) -> Result<kiln_native::Executable, LlvmError> {
    compile_kernels(kernels, target, &Kernel::symbols, &|k| {
        kiln_codegen_cpu::encode_vmvx_symbolic(k.to_vec())
    })
}

fn compile_kernels<Z: kernel::LlvmSizes>(
    kernels: &[Kernel<Z>],
    target: &CpuTarget,
    symbols_of: &dyn Fn(&Kernel<Z>) -> Vec<String>,
    describe: &dyn Fn(&[Kernel<Z>]) -> Vec<u8>,
) -> Result<kiln_native::Executable, LlvmError> {
    let (tm, triple, cpu, features) = machine(target)?;
    let context = Context::create();
    let module = context.create_module("kiln");
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    let tile = generated_tile(target)?;
    if let Some(shape) = tile {
        tile::emit(&context, &module, shape).map_err(|message| LlvmError::Llvm {
            stage: "tile generation",
            message,
        })?;
    }
    let arch = triple.split('-').next().unwrap_or_default();
    // AVX-512VL too: without it LLVM estimates 128- and 256-bit divisions with the 12-bit
    // `vrcpps`, which one Newton step leaves short of a division.
    let estimate_reciprocals = arch == "x86_64"
        && ["avx512f", "avx512vl"]
            .iter()
            .all(|f| has_feature(arch, &features, f));
    let mut symbols = vec![];
    for (i, k) in kernels.iter().enumerate() {
        let symbol = format!("kiln_kernel_{i}");
        let inline_math = target.inline_math || triple.contains("-none");
        kernel::emit(
            &context,
            &module,
            &symbol,
            i as u32,
            k,
            &symbols_of(k),
            (inline_math, estimate_reciprocals),
        )
        .map_err(|message| LlvmError::Kernel {
            kernel: k.name.clone(),
            message,
        })?;
        symbols.push(symbol);
    }
    let description = describe(kernels);
    let native_tile = tile.map(|shape| kiln_native::NativeTile {
        mr: shape.mr as u32,
        nr: shape.nr as u32,
        symbol: TILE_SYMBOL.to_string(),
    });
    if let Some(name) = &target.static_library {
        let checksum = kiln_native::kernels_checksum(&description, native_tile.as_ref());
        let tile = tile.map(|_| TILE_SYMBOL);
        static_library::emit_query(&context, &module, name, &symbols, tile, checksum).map_err(
            |message| LlvmError::Llvm {
                stage: "static library",
                message,
            },
        )?;
    }
    let object = optimise_and_emit(&module, &tm, FileType::Object)?;
    Ok(kiln_native::Executable {
        features: checked_features(&triple, &features),
        triple,
        cpu,
        kernels: description,
        symbols,
        tile: native_tile,
        object,
        library: target.static_library.clone().unwrap_or_default(),
    })
}
