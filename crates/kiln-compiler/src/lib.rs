//! kiln's compiler: from a tensor program to a module file.
//!
//! Phases, each printable with `--compile-to=<phase>`:
//!
//! 1. `input`: the program as imported ([`kiln_import`]).
//! 2. `global-optimization`: constants folded ([`passes::fold_constants`]), dead code and unused
//!    weights removed ([`passes::eliminate_dead_code`]).
//! 3. `dispatch-creation`: dispatch regions formed with fusion ([`dispatch`]), as target-free
//!    kernel IR ([`kiln_kernel`]).
//! 4. `hal`: each target backend lowers the kernel IR its own way ([`target`]), and buffers are
//!    planned and host programs emitted over its lowered kernels ([`plan`]).
//! 5. `end`: executables serialised per target and the module written.
//!
//! The verifier runs on the imported program; later phases keep it valid by construction and
//! tests check their output against the reference interpreter.
#![forbid(unsafe_code)]

pub mod copy_elision;
pub mod dispatch;
pub mod flags;
pub mod gpu_targets;
pub mod passes;
pub mod plan;
pub mod specialize;
pub mod target;
pub mod views;

use kiln_import::{ImportError, InputType};
use kiln_ir::{Program, SymExpr};
use kiln_module::{ConstantDef, ExecutableDef, FunctionDef, Module, TensorSig};
use std::path::Path;

/// The version string written into modules.
pub const COMPILER_VERSION: &str = concat!("kiln ", env!("CARGO_PKG_VERSION"));

/// Errors from compiling.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CompileError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("at '{loc}': {message}")]
    Unsupported { loc: String, message: String },
    #[error("unknown target backend '{name}' (available: {available})")]
    UnknownTarget { name: String, available: String },
    #[error("no target backend given: pass --iree-hal-target-backends=<name> (available: {0})")]
    NoTarget(String),
    #[error("unknown phase '{0}' for --compile-to (phases: input, global-optimization, dispatch-creation, hal, end)")]
    UnknownPhase(String),
    #[error("{target}: {message}")]
    Backend { target: String, message: String },
    #[error("llvm-cpu: {0}")]
    Llvm(#[from] kiln_codegen_llvm::LlvmError),
    #[error("vulkan-spirv: {0}")]
    Spirv(#[from] kiln_codegen_spirv::SpirvError),
    #[error("cannot write '{path}': {message}")]
    Io { path: String, message: String },
    #[error("unknown target device '{0}' (devices: local, vulkan, cuda, hip, metal, webgpu)")]
    UnknownDevice(String),
    #[error("unknown compiler flag '{0}'")]
    UnknownFlag(String),
    #[error("{flag}: {reason}")]
    BadFlag { flag: String, reason: String },
    #[error("llvm-cpu cannot target '{0}' (architectures: x86_64, aarch64, riscv64)")]
    UnsupportedArch(String),
    #[error("constant folding failed: {0}")]
    ConstantFolding(String),
    /// A model that compiles neither with its input dims open nor with them bound to 1.
    #[error("{open}; with its input dims bound to 1 instead: {bound} (bind them to the sizes it runs at with --kiln-bind-dim=NAME=SIZE)")]
    Unbound {
        open: Box<CompileError>,
        bound: Box<CompileError>,
    },
    /// Dispatch formation made kernel IR its verifier refuses (a compiler bug).
    #[error("function @{function}: invalid kernel IR: {source}")]
    KernelIr {
        function: String,
        source: kiln_kernel::VerifyError,
    },
}

/// A point in the pipeline to stop at and print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Input,
    GlobalOptimization,
    DispatchCreation,
    Hal,
    End,
}

impl std::str::FromStr for Phase {
    type Err = CompileError;
    fn from_str(s: &str) -> Result<Phase, CompileError> {
        Ok(match s {
            "input" => Phase::Input,
            "global-optimization" => Phase::GlobalOptimization,
            "dispatch-creation" | "flow" => Phase::DispatchCreation,
            "hal" | "stream" => Phase::Hal,
            "end" | "vm" => Phase::End,
            other => return Err(CompileError::UnknownPhase(other.into())),
        })
    }
}

/// Options of one compilation.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Target backend names; at least one.
    pub targets: Vec<String>,
    /// Stop after this phase and return its text instead of a module.
    pub compile_to: Option<Phase>,
    /// Name recorded in the module.
    pub module_name: String,
    /// Sizes for symbolic input dims (`--kiln-bind-dim=batch=8`); unbound ones become 1.
    pub dims: Vec<(String, usize)>,
    /// Values for one-element inputs (`--kiln-bind-input=sr=16000`), which become constants.
    pub inputs: Vec<(String, f64)>,
    /// Import ONNX's function-defined ops through their function bodies even where kiln
    /// lowers them (`--kiln-onnx-expand-functions`).
    pub expand_functions: bool,
    /// Whether unbound input dims stay open (`--kiln-dynamic-dims[=true|false]`): `Some(true)`
    /// keeps them open (an error where that cannot compile), `Some(false)` binds them to 1,
    /// and `None` (the default) keeps them open where the model compiles that way and binds
    /// them to 1 otherwise, with a note saying why ([`import_and_compile`]).
    pub dynamic_dims: Option<bool>,
    /// The GPU architecture for `vulkan-spirv` (`--iree-vulkan-target`); `None` is `generic`.
    pub vulkan_target: Option<String>,
    /// The GPU architecture for `cuda` (`--iree-cuda-target`); `None` is `sm_80`.
    pub cuda_target: Option<String>,
    /// The GPU architecture for `rocm` (`--iree-rocm-target`, `--iree-hip-target`); `None` is
    /// `gfx942`.
    pub rocm_target: Option<String>,
    /// The CPU for `llvm-cpu` (`--iree-llvmcpu-target-triple/-cpu/-cpu-features`).
    pub llvm_cpu: kiln_codegen_llvm::CpuTarget,
    /// `--iree-llvmcpu-link-embedded`: `Some(false)` makes llvm-cpu write a static library
    /// (to [`CompileOptions::static_library_output`]) rather than an object the runtime links.
    pub llvm_cpu_link_embedded: Option<bool>,
    /// `--iree-llvmcpu-static-library-output-path`: the static library's object (`DIR/NAME.o`;
    /// its header `DIR/NAME.h` goes beside it, and `NAME` names the library).
    pub static_library_output: Option<std::path::PathBuf>,
    /// A directory to write each executable's binaries into
    /// (`--iree-hal-dump-executable-binaries-to`).
    pub dump_binaries_to: Option<std::path::PathBuf>,
}

/// What a compilation produced.
#[derive(Debug)]
pub enum CompileOutput {
    Module(Vec<u8>),
    Text(String),
}

/// Names of the target backends this build can compile for, with those registered by
/// [`target::register_backend`], sorted.
pub fn available_targets() -> Vec<&'static str> {
    let mut names = target::AVAILABLE.to_vec();
    names.extend(target::registered_backends());
    names.sort_unstable();
    names
}

/// Imports and compiles a model file.
///
/// ```no_run
/// use kiln_compiler::{compile_file, CompileOptions, CompileOutput};
/// let opts = CompileOptions { targets: vec!["vmvx".into()], ..Default::default() };
/// let CompileOutput::Module(bytes) = compile_file("model.onnx".as_ref(), None, &opts)? else { unreachable!() };
/// # Ok::<(), kiln_compiler::CompileError>(())
/// ```
pub fn compile_file(
    path: &Path,
    input_type: Option<InputType>,
    options: &CompileOptions,
) -> Result<CompileOutput, CompileError> {
    let import =
        |o: &kiln_import::ImportOptions| kiln_import::import_file_with(path, input_type, o);
    import_and_compile(&import, &named(options, path)).map(|(out, _)| out)
}

/// The sizes a function's `check_shape` ops take as equal, and the lengths its `take` ops
/// take at most their dims, each once.
fn size_checks(f: &kiln_ir::Function) -> Vec<kiln_module::SizeCheck> {
    let mut out: Vec<kiln_module::SizeCheck> = vec![];
    for op in &f.ops {
        let (shape, at_most) = match &op.kind {
            kiln_ir::OpKind::CheckShape { shape } => (shape, false),
            kiln_ir::OpKind::Take { shape } => (shape, true),
            _ => continue,
        };
        for (d, want) in f.ty(op.operands[0]).dims.iter().zip(shape) {
            // `take` keeps `want` of `d`; `check_shape` takes `d` as `want`.
            let (a, b) = match at_most {
                true => (want.expr(), d.expr()),
                false => (d.expr(), want.expr()),
            };
            let trivial = a == b || (at_most && (b.clone() - a.clone()).is_nonnegative());
            if !trivial && !out.iter().any(|c| c.a == a && c.b == b) {
                out.push(kiln_module::SizeCheck {
                    a,
                    b,
                    at_most,
                    op: op.loc.clone(),
                });
            }
        }
    }
    out
}

/// The import options a compilation implies (open dims kept unless the options bind them).
pub fn import_options(options: &CompileOptions) -> kiln_import::ImportOptions {
    kiln_import::ImportOptions {
        dims: options.dims.clone(),
        inputs: options.inputs.clone(),
        keep_symbols: options.dynamic_dims != Some(false),
        expand_functions: options.expand_functions,
        straight_line: select_targets(options)
            .is_ok_and(|b| b.iter().any(|b| !b.runs_control_programs())),
        recurrent_kernels: select_targets(options)
            .is_ok_and(|b| b.iter().all(|b| b.runs_recurrent_kernels())),
    }
}

/// Imports a model with `import` and compiles it, returning the output and the notes the user
/// should see. Open input dims stay open, so one module runs at every size; by default
/// (`dynamic_dims: None`) a model that does not import or compile with open dims is compiled
/// again with them bound to 1, and a note names the reason and `--kiln-bind-dim`.
pub fn import_and_compile(
    import: &dyn Fn(
        &kiln_import::ImportOptions,
    ) -> Result<kiln_import::Imported, kiln_import::ImportError>,
    options: &CompileOptions,
) -> Result<(CompileOutput, Vec<String>), CompileError> {
    // The error of the open attempt, and whether binding dims could change the outcome (an
    // import that fails may have failed on an op that does not take open dims).
    let open = || -> Result<(CompileOutput, Vec<String>), (CompileError, bool)> {
        let imported = import(&import_options(options)).map_err(|e| (e.into(), true))?;
        let has_symbols = imported
            .program
            .functions
            .iter()
            .any(|f| f.params.iter().any(|p| !f.ty(p.value).symbols().is_empty()));
        let out = compile_program(imported.program, options).map_err(|e| (e, has_symbols))?;
        Ok((out, imported.notes))
    };
    let why = match open() {
        Ok(done) => return Ok(done),
        Err((e, retry)) if options.dynamic_dims.is_none() && retry => e,
        Err((e, _)) => return Err(e),
    };
    let bound = CompileOptions {
        dynamic_dims: Some(false),
        ..options.clone()
    };
    let note = format!(
        "the model does not compile with its input dims left open ({why}); they are bound (to 1 unless --kiln-bind-dim=NAME=SIZE says otherwise)"
    );
    // The reason dims could not stay open matters most when binding them fails too.
    // (An error that does not depend on the dims, such as an unsupported op, is itself.)
    let unbound = |e: CompileError| {
        if e.to_string() == why.to_string() {
            return e;
        }
        CompileError::Unbound {
            open: Box::new(why.clone()),
            bound: Box::new(e),
        }
    };
    let imported = import(&import_options(&bound)).map_err(|e| unbound(e.into()))?;
    let mut notes = imported.notes;
    notes.push(note);
    let out = compile_program(imported.program, &bound).map_err(unbound)?;
    Ok((out, notes))
}

/// `options` with the module named after `path` unless a name was given.
pub fn named(options: &CompileOptions, path: &Path) -> CompileOptions {
    let mut options = options.clone();
    if options.module_name.is_empty() {
        options.module_name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "module".into());
    }
    options
}

/// Compiles an imported program.
pub fn compile_program(
    mut program: Program,
    options: &CompileOptions,
) -> Result<CompileOutput, CompileError> {
    let backends = select_targets(options)?;
    let stop = options.compile_to.unwrap_or(Phase::End);
    if stop == Phase::Input {
        return Ok(CompileOutput::Text(kiln_ir::text::print_program(
            &program, false,
        )));
    }
    passes::fold_constants(&mut program).map_err(CompileError::ConstantFolding)?;
    passes::eliminate_dead_code(&mut program);
    // Specialising adds a control program that picks a build per call: only for targets
    // whose runtime runs control programs.
    if backends.iter().all(|b| b.runs_control_programs()) {
        specialize::specialize_unit_dims(&mut program)?;
    }
    passes::fold_constants(&mut program).map_err(CompileError::ConstantFolding)?;
    passes::eliminate_dead_code(&mut program);
    if stop == Phase::GlobalOptimization {
        return Ok(CompileOutput::Text(kiln_ir::text::print_program(
            &program, false,
        )));
    }
    let control = program.functions.iter().find(|f| f.control.is_some());
    if let Some((f, b)) = control.zip(backends.iter().find(|b| !b.runs_control_programs())) {
        return Err(CompileError::Unsupported {
            loc: format!("@{}", f.name),
            message: format!(
                "it branches or loops at run time, and target '{}' runs straight-line \
                 programs only",
                b.name()
            ),
        });
    }
    let mut regions = vec![];
    let mut text = String::new();
    for f in &program.functions {
        if let Some(c) = &f.control {
            text.push_str(&format!(
                "// function @{}: control program\n{}",
                f.name, c.program
            ));
            continue;
        }
        let limits = dispatch::TargetLimits {
            max_bindings: backends.iter().filter_map(|b| b.max_bindings()).min(),
            narrow_gemm_operands: backends.iter().all(|b| b.narrow_gemm_operands()),
        };
        let formed = dispatch::form_dispatches_within(&program, f, &limits)?;
        let symbols = formed.symbols();
        let unsupported = |message: String| CompileError::Unsupported {
            loc: format!("@{}", f.name),
            message,
        };
        // A function with open dims is checked at its sizes' estimates (or, where a product
        // of many of them overflows, at small sizes); one without is bound to the static
        // kernel IR every backend lowers.
        let mut bound = formed
            .bind(&|s| Some(SymExpr::symbol(s).estimate()))
            .or_else(|_| formed.bind(&|s| Some(SymExpr::symbol(s).estimate() % 64 + 64)))
            .map_err(unsupported)?;
        if symbols.is_empty() {
            copy_elision::elide_copies(&mut bound);
        }
        kiln_kernel::verify(&bound).map_err(|source| CompileError::KernelIr {
            function: f.name.clone(),
            source,
        })?;
        if stop == Phase::DispatchCreation {
            let printed = if symbols.is_empty() {
                bound.to_string()
            } else {
                formed.to_string()
            };
            let count = match symbols.is_empty() {
                true => bound.dispatches.len(),
                false => formed.dispatches.len(),
            };
            text.push_str(&format!(
                "// function @{}: {count} dispatches\n{printed}",
                f.name
            ));
            continue;
        }
        regions.push(target::FunctionDispatches {
            name: f.name.clone(),
            dispatches: symbols.is_empty().then_some(bound),
            formed,
        });
    }
    if stop == Phase::DispatchCreation {
        return Ok(CompileOutput::Text(text));
    }
    let mut constants = target::Constants::new(&program.constants);
    let mut executables = vec![];
    let mut programs = vec![];
    for (i, b) in backends.iter().enumerate() {
        let out = b.compile(&regions, &mut constants, i as u32, stop == Phase::End)?;
        text.push_str(&out.text);
        programs.push(out.programs);
        if let Some(dir) = &options.dump_binaries_to {
            std::fs::create_dir_all(dir).map_err(|e| CompileError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            for (suffix, bytes) in &out.binaries {
                let path = dir.join(format!("{}_{}{suffix}", options.module_name, b.name()));
                std::fs::write(&path, bytes).map_err(|e| CompileError::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
            }
        }
        if let Some(data) = out.executable {
            executables.push(ExecutableDef {
                target: b.name().into(),
                format: b.format().into(),
                data,
            });
        }
    }
    if stop < Phase::End {
        return Ok(CompileOutput::Text(text));
    }
    // Straight-line functions have one host program per target, in order; functions with a
    // control program have none.
    let mut straight = 0;
    let functions = program
        .functions
        .iter()
        .map(|f| {
            let sig = |p: &kiln_ir::Port, any_rank: bool| {
                let ty = f.ty(p.value);
                TensorSig {
                    name: p.name.clone(),
                    element_type: ty.element_type,
                    dims: match any_rank {
                        true => vec![],
                        false => ty.dims.iter().map(kiln_ir::Dim::expr).collect(),
                    },
                    any_rank,
                }
            };
            let any_rank = |i: usize| f.control.as_ref().is_some_and(|c| c.any_rank[i]);
            let host_programs = match f.control {
                Some(_) => vec![],
                None => {
                    straight += 1;
                    programs.iter().map(|p| p[straight - 1].clone()).collect()
                }
            };
            FunctionDef {
                name: f.name.clone(),
                inputs: f.params.iter().map(|p| sig(p, false)).collect(),
                outputs: f
                    .results
                    .iter()
                    .enumerate()
                    .map(|(i, p)| sig(p, any_rank(i)))
                    .collect(),
                programs: host_programs,
                checks: size_checks(f),
                control: f.control.as_ref().map(|c| c.program.clone()),
                internal: f.internal,
            }
        })
        .collect();
    let stored = constants.stored();
    let constants: Vec<ConstantDef> = stored
        .iter()
        .map(|t| ConstantDef {
            element_type: t.element_type,
            shape: t.shape.iter().map(|&d| d as u64).collect(),
            offset: 0,
            length: 0,
        })
        .collect();
    let payloads: Vec<&[u8]> = stored.iter().map(|t| t.data.as_slice()).collect();
    let module = Module {
        compiler_version: COMPILER_VERSION.into(),
        name: options.module_name.clone(),
        functions,
        executables,
        constants,
    };
    Ok(CompileOutput::Module(module.write(&payloads)))
}

fn select_targets(
    options: &CompileOptions,
) -> Result<Vec<Box<dyn target::TargetBackend>>, CompileError> {
    let names = &options.targets;
    let available = available_targets().join(", ");
    if names.is_empty() {
        return Err(CompileError::NoTarget(available));
    }
    let mut out = vec![];
    let mut seen: Vec<&String> = vec![];
    for n in names {
        if seen.contains(&n) {
            continue;
        }
        seen.push(n);
        match target::backend(n, options)? {
            Some(b) => out.push(b),
            None => {
                return Err(CompileError::UnknownTarget {
                    name: n.clone(),
                    available,
                })
            }
        }
    }
    Ok(out)
}
