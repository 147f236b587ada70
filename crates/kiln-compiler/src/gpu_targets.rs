//! The GPU target backends — `vulkan-spirv`, `metal-spirv`, `webgpu-spirv`, `cuda` and
//! `rocm` — over one flow: each dispatch becomes an entry point with the shared thread
//! mapping's launch shape (workgroup size, workgroup count, the symbols it reads), every
//! function is planned over those, and the backend's generator ([`GpuCodegen`]) writes the
//! executable.
//!
//! A module whose functions all have static sizes gets entry points with fixed grids, which
//! the host programs carry; otherwise every entry point reads its sizes at run time (static
//! functions as constant expressions) and the executable gives each dispatch's grid.

use crate::plan::{plan_symbolic, PlanTarget};
use crate::target::{
    describe, plan_all, Constants, FunctionDispatches, TargetBackend, TargetOutput,
};
use crate::CompileError;
use kiln_codegen_spirv::{SpirvError, TranslatedKernel};
use kiln_kernel::{Dispatch, Op, Sizes, Static, Symbolic};
use kiln_module::HostProgram;
use kiln_types::sym::SymExpr;
use std::fmt::Display;

/// A GPU code generator as its target backend drives it.
pub trait GpuCodegen: Send + Sync {
    /// What the generator keeps per entry point until the executable is written.
    type Entry;
    /// The name users pass to `--iree-hal-target-backends`.
    fn name(&self) -> &'static str;
    /// The executable format devices match on.
    fn format(&self) -> &'static str;
    /// Entry point `name` for a dispatch with static sizes, and its workgroup count.
    fn entry(&self, name: &str, op: &Op) -> Result<(Self::Entry, u64), CompileError>;
    /// Entry point `name` for a dispatch whose sizes are expressions over symbols.
    fn entry_symbolic(&self, name: &str, op: &Op<Symbolic>) -> Result<Self::Entry, CompileError>;
    /// The most storage bindings one kernel may have, if the target caps them.
    fn max_bindings(&self) -> Option<usize> {
        None
    }
    /// See [`TargetBackend::narrow_gemm_operands`].
    fn narrow_gemm_operands(&self) -> bool {
        false
    }
    /// The symbols an entry point reads, in the order a dispatch passes their values.
    fn symbols(&self, entry: &Self::Entry) -> Vec<String>;
    fn workgroup_size(&self, entry: &Self::Entry) -> u32;
    /// The dispatch grid for a linear workgroup count (`name` names the entry in errors).
    fn grid(&self, name: &str, count: u64) -> Result<[u32; 3], CompileError>;
    /// The executable holding `entries` (entry point `i` is `entries[i]`) and its binaries as
    /// a user inspects them (file suffix, bytes).
    #[allow(clippy::type_complexity)]
    fn serialize(
        &self,
        entries: Vec<Self::Entry>,
    ) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), CompileError>;
}

/// A GPU target backend: the planning flow around one generator.
pub struct GpuBackend<C>(pub C);

/// A dispatch as a GPU entry point, with its grid when its sizes are static.
struct GpuEntry<E, Z: Sizes = Static> {
    name: String,
    op: Op<Z>,
    entry: E,
    workgroup_size: u32,
    grid: Option<[u32; 3]>,
}

impl<E, Z: Sizes> Display for GpuEntry<E, Z> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} workgroup_size [{}, 1, 1] {}",
            self.name, self.workgroup_size, self.op
        )
    }
}

impl<C: GpuCodegen> TargetBackend for GpuBackend<C> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn format(&self) -> &'static str {
        self.0.format()
    }
    fn max_bindings(&self) -> Option<usize> {
        self.0.max_bindings()
    }
    fn narrow_gemm_operands(&self) -> bool {
        self.0.narrow_gemm_operands()
    }
    fn compile(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
        serialize: bool,
    ) -> Result<TargetOutput, CompileError> {
        let (programs, text, entries) = if functions.iter().all(|f| f.dispatches.is_some()) {
            self.compile_static(functions, constants, executable)?
        } else {
            self.compile_symbolic(functions, constants, executable)?
        };
        let (executable, binaries) = if serialize {
            let (exe, binaries) = self.0.serialize(entries)?;
            (Some(exe), binaries)
        } else {
            (None, vec![])
        };
        Ok(TargetOutput {
            programs,
            text,
            executable,
            binaries,
        })
    }
}

/// Host programs, `hal` text and entry points of a GPU executable.
type Planned<E> = (Vec<HostProgram>, String, Vec<E>);

impl<C: GpuCodegen> GpuBackend<C> {
    /// Every function with static sizes: each entry point's grid is fixed in the host program.
    fn compile_static(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
    ) -> Result<Planned<C::Entry>, CompileError> {
        let lowered = functions
            .iter()
            .map(|f| {
                let d = f.static_dispatches(self.name())?.map(|i, d| {
                    let name = format!("dispatch_{i}");
                    let (entry, count) = self.0.entry(&name, &d.kernel)?;
                    let grid = self.0.grid(&name, count)?;
                    Ok::<_, CompileError>(GpuEntry {
                        workgroup_size: self.0.workgroup_size(&entry),
                        name,
                        op: d.kernel.clone(),
                        entry,
                        grid: Some(grid),
                    })
                })?;
                Ok((f.name.as_str(), d))
            })
            .collect::<Result<Vec<_>, CompileError>>()?;
        let (programs, text, entries) = plan_all(
            self,
            lowered,
            constants,
            executable,
            &|d: &Dispatch<GpuEntry<C::Entry>>| d.kernel.op.written(&d.operands),
            &|e: &GpuEntry<C::Entry>| Ok(e.grid.map(|g| g.map(u64::from))),
        )?;
        Ok((
            programs,
            text,
            entries.into_iter().map(|e| e.entry).collect(),
        ))
    }

    /// Functions with sizes known only at run time (static ones too, as constant
    /// expressions): entry points read their sizes at run time, and each dispatch's grid
    /// comes from the executable for the call's sizes.
    fn compile_symbolic(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
    ) -> Result<Planned<C::Entry>, CompileError> {
        let mut text = format!("// target {}: {}\n", self.name(), self.format());
        let (mut programs, mut entries) = (vec![], vec![]);
        for f in functions {
            let d = f.formed.map(|i, d| {
                let name = format!("dispatch_{i}");
                let entry = self.0.entry_symbolic(&name, &d.kernel)?;
                Ok::<_, CompileError>(GpuEntry {
                    workgroup_size: self.0.workgroup_size(&entry),
                    name,
                    op: d.kernel.clone(),
                    entry,
                    grid: None,
                })
            })?;
            let target = PlanTarget {
                executable,
                first_entry: entries.len() as u32,
                written: &|d: &Dispatch<GpuEntry<C::Entry, Symbolic>>| {
                    d.kernel.op.written(&d.operands)
                },
                workgroups: &|_| Ok(None),
                params: &|e: &GpuEntry<C::Entry, Symbolic>| {
                    self.0
                        .symbols(&e.entry)
                        .iter()
                        .map(SymExpr::symbol)
                        .collect()
                },
            };
            let host = plan_symbolic(&d, &target, &mut |c| constants.module_index(c))?;
            text.push_str(&describe(&f.name, &host, &d.dispatches, target.first_entry));
            programs.push(host);
            entries.extend(d.dispatches.into_iter().map(|d| d.kernel.entry));
        }
        Ok((programs, text, entries))
    }
}

/// `vulkan-spirv`: one SPIR-V compute shader per dispatch ([`kiln_codegen_spirv`]), for the
/// target `--iree-vulkan-target` names. Each shader is compiled as its dispatch is formed.
pub struct Spirv(pub &'static kiln_codegen_spirv::VulkanTarget);

impl GpuCodegen for Spirv {
    type Entry = kiln_spirv::EntryPoint;
    fn name(&self) -> &'static str {
        "vulkan-spirv"
    }
    fn format(&self) -> &'static str {
        kiln_spirv::FORMAT
    }
    fn entry(&self, name: &str, op: &Op) -> Result<(Self::Entry, u64), CompileError> {
        Ok(kiln_codegen_spirv::compile_kernel(name, op, self.0)?)
    }
    fn entry_symbolic(&self, name: &str, op: &Op<Symbolic>) -> Result<Self::Entry, CompileError> {
        Ok(kiln_codegen_spirv::compile_kernel_symbolic(
            name, op, self.0,
        )?)
    }
    fn symbols(&self, entry: &Self::Entry) -> Vec<String> {
        entry.symbols.clone()
    }
    fn workgroup_size(&self, entry: &Self::Entry) -> u32 {
        entry.workgroup_size[0]
    }
    fn grid(&self, name: &str, count: u64) -> Result<[u32; 3], CompileError> {
        kiln_codegen_spirv::grid(count).map_err(|e| {
            kiln_codegen_spirv::SpirvError::Kernel {
                kernel: name.into(),
                message: e.to_string(),
            }
            .into()
        })
    }
    fn serialize(
        &self,
        entries: Vec<Self::Entry>,
    ) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), CompileError> {
        let binaries = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let words = e.code.iter().flat_map(|w| w.to_le_bytes());
                (format!("_{i}.spv"), words.collect())
            })
            .collect();
        let exe = kiln_spirv::Executable {
            entry_points: entries,
        };
        Ok((exe.encode(), binaries))
    }
}

/// The targets whose kernels are source text naga writes from a SPIR-V shader of each
/// dispatch: `metal-spirv` (MSL, for Apple GPUs' limits) and `webgpu-spirv` (WGSL, for
/// WebGPU's rules and default limits).
pub struct Translated {
    name: &'static str,
    kind: kiln_gpu_binary::CodeKind,
    target: &'static kiln_codegen_spirv::VulkanTarget,
    compile: CompileStatic,
    compile_symbolic: fn(&str, &Op<Symbolic>) -> Result<TranslatedKernel, SpirvError>,
    max_bindings: Option<usize>,
}

/// Compiles a dispatch with static sizes: its kernel and workgroup count.
type CompileStatic = fn(&str, &Op) -> Result<(TranslatedKernel, u64), SpirvError>;

/// `metal-spirv` ([`kiln_codegen_spirv::msl`]).
pub const METAL: Translated = Translated {
    name: "metal-spirv",
    kind: kiln_gpu_binary::CodeKind::Msl,
    target: &kiln_codegen_spirv::msl::APPLE,
    compile: kiln_codegen_spirv::msl::compile_kernel,
    compile_symbolic: kiln_codegen_spirv::msl::compile_kernel_symbolic,
    max_bindings: None,
};

/// `webgpu-spirv` ([`kiln_codegen_spirv::wgsl`]).
pub const WEBGPU: Translated = Translated {
    name: "webgpu-spirv",
    kind: kiln_gpu_binary::CodeKind::Wgsl,
    target: &kiln_codegen_spirv::wgsl::WEBGPU,
    compile: kiln_codegen_spirv::wgsl::compile_kernel,
    compile_symbolic: kiln_codegen_spirv::wgsl::compile_kernel_symbolic,
    max_bindings: Some(kiln_codegen_spirv::wgsl::MAX_STORAGE_BUFFERS),
};

impl Translated {
    /// A code generation error as this target's own.
    fn error(&self, e: SpirvError) -> CompileError {
        CompileError::Backend {
            target: self.name.into(),
            message: e.to_string(),
        }
    }
}

impl GpuCodegen for Translated {
    type Entry = TranslatedKernel;
    fn name(&self) -> &'static str {
        self.name
    }
    fn format(&self) -> &'static str {
        self.kind.format()
    }
    fn entry(&self, name: &str, op: &Op) -> Result<(Self::Entry, u64), CompileError> {
        (self.compile)(name, op).map_err(|e| self.error(e))
    }
    fn entry_symbolic(&self, name: &str, op: &Op<Symbolic>) -> Result<Self::Entry, CompileError> {
        (self.compile_symbolic)(name, op).map_err(|e| self.error(e))
    }
    fn max_bindings(&self) -> Option<usize> {
        self.max_bindings
    }
    fn symbols(&self, kernel: &Self::Entry) -> Vec<String> {
        kernel.entry.symbols.clone()
    }
    fn workgroup_size(&self, kernel: &Self::Entry) -> u32 {
        kernel.entry.workgroup_size[0]
    }
    fn grid(&self, name: &str, count: u64) -> Result<[u32; 3], CompileError> {
        Spirv(self.target).grid(name, count)
    }
    fn serialize(
        &self,
        entries: Vec<Self::Entry>,
    ) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), CompileError> {
        let binaries = entries
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let file = format!("_{i}{}", self.kind.suffix());
                (file, k.source.clone().into_bytes())
            })
            .collect();
        let kernels = entries
            .into_iter()
            .map(|k| kiln_gpu_binary::Kernel {
                name: k.function,
                workgroup_size: k.entry.workgroup_size[0],
                bindings: k.entry.bindings,
                symbols: k.entry.symbols,
                binding_extents: k.entry.binding_extents,
                workgroups: k.entry.workgroups,
                shared_memory: k.entry.shared_memory,
                reports_errors: k.entry.reports_errors,
                code: k.source.into_bytes(),
            })
            .collect();
        let exe = kiln_gpu_binary::Executable {
            kind: self.kind,
            target: self.target.name.into(),
            code: vec![],
            kernels,
        };
        Ok((exe.encode(), binaries))
    }
}

/// `cuda` (PTX) and `rocm` (HSACO): the shared GPU kernels through LLVM
/// ([`kiln_codegen_llvm::compile_gpu`]) for the architecture `--iree-cuda-target` or
/// `--iree-rocm-target` names. Entry points record their launch shape as dispatches are
/// formed; the whole executable is one LLVM module, compiled when it is written.
pub struct LlvmGpu {
    pub arch: &'static kiln_codegen_llvm::GpuArch,
}

/// A dispatch kept for [`LlvmGpu`]'s one compilation.
pub enum LlvmGpuEntry {
    Static {
        name: String,
        op: Op,
        workgroup_size: u32,
    },
    Symbolic {
        name: String,
        op: Op<Symbolic>,
        workgroup_size: u32,
        symbols: Vec<String>,
    },
}

impl LlvmGpu {
    fn config<Z: Sizes>(
        &self,
        name: &str,
        op: &Op<Z>,
    ) -> Result<kiln_codegen_gpu::Config<Z::Extent>, CompileError> {
        kiln_codegen_gpu::configure(op, &self.arch.limits).map_err(|e| CompileError::Backend {
            target: self.name().into(),
            message: format!("kernel '{name}': {e}"),
        })
    }
}

impl GpuCodegen for LlvmGpu {
    type Entry = LlvmGpuEntry;
    fn name(&self) -> &'static str {
        match self.arch.isa {
            kiln_codegen_llvm::GpuIsa::Nvptx => "cuda",
            kiln_codegen_llvm::GpuIsa::Amdgpu => "rocm",
        }
    }
    fn format(&self) -> &'static str {
        match self.arch.isa {
            kiln_codegen_llvm::GpuIsa::Nvptx => kiln_gpu_binary::CUDA_FORMAT,
            kiln_codegen_llvm::GpuIsa::Amdgpu => kiln_gpu_binary::ROCM_FORMAT,
        }
    }
    fn narrow_gemm_operands(&self) -> bool {
        !self.arch.limits.matrix_types.is_empty()
    }
    fn entry(&self, name: &str, op: &Op) -> Result<(Self::Entry, u64), CompileError> {
        let config = self.config(name, op)?;
        let entry = LlvmGpuEntry::Static {
            name: name.into(),
            op: op.clone(),
            workgroup_size: config.workgroup_size,
        };
        Ok((entry, config.workgroups()))
    }
    fn entry_symbolic(&self, name: &str, op: &Op<Symbolic>) -> Result<Self::Entry, CompileError> {
        let config = self.config(name, op)?;
        Ok(LlvmGpuEntry::Symbolic {
            name: name.into(),
            op: op.clone(),
            workgroup_size: config.workgroup_size,
            symbols: kiln_codegen_gpu::emit::symbols_of(op),
        })
    }
    fn symbols(&self, entry: &Self::Entry) -> Vec<String> {
        match entry {
            LlvmGpuEntry::Static { .. } => vec![],
            LlvmGpuEntry::Symbolic { symbols, .. } => symbols.clone(),
        }
    }
    fn workgroup_size(&self, entry: &Self::Entry) -> u32 {
        match entry {
            LlvmGpuEntry::Static { workgroup_size, .. }
            | LlvmGpuEntry::Symbolic { workgroup_size, .. } => *workgroup_size,
        }
    }
    fn grid(&self, name: &str, count: u64) -> Result<[u32; 3], CompileError> {
        // Kernels number blocks along x only, with 32-bit index arithmetic.
        match u32::try_from(count) {
            Ok(x) if x <= i32::MAX as u32 => Ok([x, 1, 1]),
            _ => Err(CompileError::Backend {
                target: self.name().into(),
                message: format!("kernel '{name}': {count} workgroups do not fit a dispatch"),
            }),
        }
    }
    fn serialize(
        &self,
        entries: Vec<Self::Entry>,
    ) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), CompileError> {
        // Dispatches are numbered per function; in one module each kernel is named by its
        // entry point instead (the `hal` text's `entry N`), so names never collide.
        let names: Vec<String> = (0..entries.len())
            .map(|k| format!("dispatch_{k}"))
            .collect();
        let (mut fixed, mut open) = (vec![], vec![]);
        for (e, name) in entries.iter().zip(&names) {
            match e {
                LlvmGpuEntry::Static { op, .. } => fixed.push((name.as_str(), op)),
                LlvmGpuEntry::Symbolic { op, .. } => open.push((name.as_str(), op)),
            }
        }
        let compiled = match (fixed.is_empty(), open.is_empty()) {
            (_, true) => kiln_codegen_llvm::compile_gpu(&fixed, self.arch),
            (true, false) => kiln_codegen_llvm::compile_gpu(&open, self.arch),
            (false, false) => {
                return Err(CompileError::Backend {
                    target: self.name().into(),
                    message: "an executable mixes static and symbolic entry points".into(),
                })
            }
        };
        let exe = compiled.map_err(|e| CompileError::Backend {
            target: self.name().into(),
            message: e.to_string(),
        })?;
        let binaries = vec![(exe.kind.suffix().to_string(), exe.code.clone())];
        Ok((exe.encode(), binaries))
    }
}
