//! Target backends: each lowers the module's kernel IR its own way and writes one executable.
//!
//! A backend receives every function's [`Dispatches`] (target-free kernel IR), applies its own
//! lowering config (tiles, data tiling, thread mapping), plans each function's buffers with
//! the shared planner ([`crate::plan`]) over its lowered kernels, and serialises them. [`backend`]
//! makes the built-in backends ([`AVAILABLE`]) and those registered from outside kiln.

use crate::gpu_targets::{GpuBackend, LlvmGpu, Spirv, METAL, WEBGPU};
use crate::plan::{plan, plan_symbolic, GridFn, PlanTarget};
use crate::{CompileError, CompileOptions};
use kiln_codegen_cpu::{CpuKernel, PackedConstants};
use kiln_kernel::{Dispatch, Dispatches, Symbolic};
use kiln_module::HostProgram;
use kiln_types::sym::SymExpr;
use kiln_types::HostTensor;
use std::collections::HashMap;
use std::fmt::Display;

/// One function's kernel IR, by name.
pub struct FunctionDispatches {
    pub name: String,
    /// The kernel IR as formed, sizes as expressions over the function's symbols.
    pub formed: crate::dispatch::Dispatches,
    /// The same with static sizes, when the function has no symbols.
    pub dispatches: Option<Dispatches>,
}

impl FunctionDispatches {
    /// The static kernel IR, or an error naming the symbols of a function whose sizes are
    /// known only at run time, which `target` (one whose runtime allocates every buffer when
    /// it loads the module) cannot compile.
    pub fn static_dispatches(&self, target: &str) -> Result<&Dispatches, CompileError> {
        self.dispatches
            .as_ref()
            .ok_or_else(|| CompileError::Unsupported {
                loc: format!("@{}", self.name),
                message: format!(
                    "its sizes depend on {} at run time, but target '{target}' needs every size \
                     at compile time: bind the dims with --kiln-bind-dim=NAME=SIZE",
                    self.formed.symbols().join(", ")
                ),
            })
    }
}

/// The module's constant table as backends fill it: program constants and the constants
/// backends add (CPU data tiling's packed weights), each stored once however many targets
/// and functions read it.
pub struct Constants<'a> {
    pub program: &'a [HostTensor],
    /// Packed weights of the CPU backends, numbered after the program's constants.
    pub cpu_packed: PackedConstants,
    index: HashMap<u32, u32>,
    order: Vec<u32>,
}

impl<'a> Constants<'a> {
    pub fn new(program: &'a [HostTensor]) -> Constants<'a> {
        Constants {
            program,
            cpu_packed: PackedConstants::new(program.len()),
            index: HashMap::new(),
            order: vec![],
        }
    }

    /// The module constant index of constant `id`, added to the table on first use.
    pub fn module_index(&mut self, id: u32) -> u32 {
        *self.index.entry(id).or_insert_with(|| {
            self.order.push(id);
            self.order.len() as u32 - 1
        })
    }

    /// The constants the module stores, in table order.
    pub fn stored(&self) -> Vec<&HostTensor> {
        self.order
            .iter()
            .map(|&c| {
                self.cpu_packed
                    .get(c)
                    .unwrap_or_else(|| &self.program[c as usize])
            })
            .collect()
    }
}

/// What a backend made of a module: a host program per function (in the order given) and
/// the executable, unless only the host programs were asked for.
pub struct TargetOutput {
    pub programs: Vec<HostProgram>,
    /// `--compile-to=hal` text: each function's lowered kernels and host program.
    pub text: String,
    pub executable: Option<Vec<u8>>,
    /// The executable's binaries as a user would inspect them
    /// (`--iree-hal-dump-executable-binaries-to`): a file name suffix (`.o`, `0.spv`) and the
    /// bytes, when the executable was serialised.
    pub binaries: Vec<(String, Vec<u8>)>,
}

/// A compiler target backend.
pub trait TargetBackend: Send + Sync {
    /// The name users pass to `--iree-hal-target-backends`.
    fn name(&self) -> &'static str;
    /// The executable format devices match on.
    fn format(&self) -> &'static str;
    /// Whether the runtime that runs this target's modules runs control programs (run-time
    /// branches and loops over straight-line functions).
    fn runs_control_programs(&self) -> bool {
        true
    }
    /// Whether this target compiles a recurrent layer over a whole sequence as one kernel
    /// (`kiln_ir::OpKind::Recurrent`); elsewhere the importer writes one as a loop of steps.
    fn runs_recurrent_kernels(&self) -> bool {
        false
    }
    /// The most storage bindings one kernel may have on this target's devices (WebGPU's
    /// default 8 per stage), if fewer than dispatch formation allows anyway: a module's
    /// elementwise kernels are kept within the smallest of its targets'.
    fn max_bindings(&self) -> Option<usize> {
        None
    }
    /// Whether this target's matmuls and convolutions take f16 and bf16 operands as they
    /// are (its matrix units multiply the types they have; its scalar GEMM reads the others).
    /// Where every target of a module does, dispatch formation keeps such operands narrow
    /// instead of widening them to f32 on the way in.
    fn narrow_gemm_operands(&self) -> bool {
        false
    }
    /// Lowers every function for this target, plans it, and (when `serialize`) writes the
    /// executable whose index in the module is `executable`.
    fn compile(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
        serialize: bool,
    ) -> Result<TargetOutput, CompileError>;
}

/// Plans every function's lowered dispatches into one executable's entry points: returns the
/// host programs, the `hal` text and the kernels in entry-point order.
pub(crate) fn plan_all<K: Display>(
    backend: &dyn TargetBackend,
    lowered: Vec<(&str, Dispatches<K>)>,
    constants: &mut Constants,
    executable: u32,
    written: &dyn Fn(&Dispatch<K>) -> Vec<kiln_kernel::StorageId>,
    workgroups: &GridFn<K, u64>,
) -> Result<(Vec<HostProgram>, String, Vec<K>), CompileError> {
    let mut text = format!("// target {}: {}\n", backend.name(), backend.format());
    let (mut programs, mut kernels) = (vec![], vec![]);
    for (name, d) in lowered {
        let target = PlanTarget {
            executable,
            first_entry: kernels.len() as u32,
            written,
            workgroups,
            params: &|_| vec![],
        };
        let host = plan(&d, &target, &mut |c| constants.module_index(c))?;
        text.push_str(&describe(name, &host, &d.dispatches, target.first_entry));
        programs.push(HostProgram::from_bound(&host));
        kernels.extend(d.dispatches.into_iter().map(|d| d.kernel));
    }
    Ok((programs, text, kernels))
}

/// The `hal` text of one function: its arena, each entry point's lowered kernel and the host
/// program.
pub(crate) fn describe<K: Display, S>(
    name: &str,
    host: &HostProgram<S>,
    dispatches: &[Dispatch<K>],
    first_entry: u32,
) -> String
where
    S: Display + Clone + std::ops::Add<Output = S>,
{
    let mut text = format!(
        "// function @{name}: transient {} bytes\n",
        host.transient_size
    );
    for (i, dispatch) in dispatches.iter().enumerate() {
        text.push_str(&format!(
            "// entry {}: {}\n",
            first_entry as usize + i,
            dispatch.kernel
        ));
    }
    for inst in &host.insts {
        text.push_str(&format!("{inst}\n"));
    }
    text
}

/// Lowers every function for a CPU target (tiles, and data tiling for `tile`) and plans it.
fn compile_cpu(
    backend: &dyn TargetBackend,
    functions: &[FunctionDispatches],
    constants: &mut Constants,
    executable: u32,
    tile: Option<kiln_ukernel::gemm::TileShape>,
) -> Result<(Vec<HostProgram>, String, Vec<CpuKernel>), CompileError> {
    let name = backend.name();
    let lowered = functions
        .iter()
        .map(|f| {
            let d = kiln_codegen_cpu::lower(
                f.static_dispatches(name)?,
                constants.program,
                tile,
                &mut constants.cpu_packed,
            );
            Ok((f.name.as_str(), d))
        })
        .collect::<Result<_, CompileError>>()?;
    plan_all(
        backend,
        lowered,
        constants,
        executable,
        &kiln_codegen_cpu::written,
        &|k: &CpuKernel| {
            let grid = kiln_codegen_cpu::workgroups(k).ok_or_else(|| CompileError::Backend {
                target: name.into(),
                message: format!("{} needs more than 2^32 workgroups", k.name),
            })?;
            Ok(Some(grid.map(u64::from)))
        },
    )
}

/// Lowers every function for a CPU target with sizes known only at run time (static
/// functions too, as constant expressions: one executable holds one kind of kernel) and plans
/// it. Workgroup tiles are chosen per dispatch from its actual sizes; no data tiling.
fn compile_cpu_symbolic(
    backend: &dyn TargetBackend,
    functions: &[FunctionDispatches],
    constants: &mut Constants,
    executable: u32,
    tile: Option<kiln_ukernel::gemm::TileShape>,
) -> Result<(Vec<HostProgram>, String, Vec<SymbolicCpuKernel>), CompileError> {
    let mut text = format!("// target {}: {}\n", backend.name(), backend.format());
    let (mut programs, mut kernels) = (vec![], vec![]);
    for f in functions {
        let d = kiln_codegen_cpu::lower_symbolic(
            &f.formed,
            constants.program,
            tile,
            &mut constants.cpu_packed,
        );
        let target = PlanTarget {
            executable,
            first_entry: kernels.len() as u32,
            written: &kiln_codegen_cpu::written,
            // Tiles, and so the grid, are chosen for each dispatch's actual sizes.
            workgroups: &|_| Ok(None),
            params: &|k: &SymbolicCpuKernel| k.symbols().into_iter().map(SymExpr::symbol).collect(),
        };
        let host = plan_symbolic(&d, &target, &mut |c| constants.module_index(c))?;
        text.push_str(&describe(&f.name, &host, &d.dispatches, target.first_entry));
        programs.push(host);
        kernels.extend(d.dispatches.into_iter().map(|d| d.kernel));
    }
    Ok((programs, text, kernels))
}

/// A CPU kernel whose sizes are expressions over symbols.
type SymbolicCpuKernel = kiln_codegen_cpu::lowered::Kernel<Symbolic>;

/// The portable VMVX backend: the CPU lowering without data tiling, encoded as VMVX bytecode
/// that the runtime interprets with native microkernels.
pub struct Vmvx;

impl TargetBackend for Vmvx {
    fn name(&self) -> &'static str {
        "vmvx"
    }
    fn format(&self) -> &'static str {
        kiln_codegen_cpu::VMVX_FORMAT
    }
    fn runs_recurrent_kernels(&self) -> bool {
        true
    }
    fn compile(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
        serialize: bool,
    ) -> Result<TargetOutput, CompileError> {
        let (programs, text, executable) = if functions.iter().all(|f| f.dispatches.is_some()) {
            let (programs, text, kernels) =
                compile_cpu(self, functions, constants, executable, None)?;
            let exe = serialize.then(|| kiln_codegen_cpu::encode_vmvx(kernels));
            (programs, text, exe)
        } else {
            let (programs, text, kernels) =
                compile_cpu_symbolic(self, functions, constants, executable, None)?;
            let exe = serialize.then(|| kiln_codegen_cpu::encode_vmvx_symbolic(kernels));
            (programs, text, exe)
        };
        Ok(vmvx_output(programs, text, executable))
    }
}

/// A VMVX executable's target output; its binary dumps as `.vmvx`.
fn vmvx_output(
    programs: Vec<HostProgram>,
    text: String,
    executable: Option<Vec<u8>>,
) -> TargetOutput {
    let binaries = executable
        .iter()
        .map(|e| (".vmvx".to_string(), e.clone()))
        .collect();
    TargetOutput {
        programs,
        text,
        executable,
        binaries,
    }
}

/// The `vmvx-inline` backend: the CPU lowering of static functions with weights packed for
/// the portable register tile, for the inline runtime (`kiln-inline`), which runs host
/// program and kernels in one thread with no HAL device and allocates every buffer when it
/// loads the module: the arena planned here is the call's memory, besides the small per-tile
/// scratch of the microkernels. Sizes known only at run time and run-time control flow would
/// need allocation per call, so they are refused.
pub struct VmvxInline;

impl TargetBackend for VmvxInline {
    fn name(&self) -> &'static str {
        "vmvx-inline"
    }
    fn format(&self) -> &'static str {
        kiln_codegen_cpu::VMVX_INLINE_FORMAT
    }
    fn runs_control_programs(&self) -> bool {
        false
    }
    fn runs_recurrent_kernels(&self) -> bool {
        true
    }
    fn compile(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
        serialize: bool,
    ) -> Result<TargetOutput, CompileError> {
        // Weights packed here for the portable tile, which every CPU runs: the GEMMs then
        // read them in place rather than packing them into scratch memory on each call.
        let tile = Some(kiln_ukernel::gemm::PORTABLE_TILE);
        let (programs, text, kernels) = compile_cpu(self, functions, constants, executable, tile)?;
        let executable = serialize.then(|| kiln_codegen_cpu::encode_vmvx(kernels));
        Ok(vmvx_output(programs, text, executable))
    }
}

/// The `llvm-cpu` backend: the CPU lowering with data tiling for the target CPU's register
/// tile, compiled to native code through LLVM ([`kiln_codegen_llvm`]) for the CPU the
/// `--iree-llvmcpu-*` flags describe (the host by default).
pub struct LlvmCpu {
    pub target: kiln_codegen_llvm::CpuTarget,
    /// The executable format of the target's architecture.
    pub format: &'static str,
    /// For a static library (`target.static_library`): where its object goes; its header
    /// goes beside it.
    pub static_output: Option<std::path::PathBuf>,
}

impl LlvmCpu {
    /// Writes a static library's object and header, leaving the module's executable without
    /// the object (the program links it).
    fn write_static_library(
        &self,
        native: &mut kiln_native::Executable,
        path: &std::path::Path,
    ) -> Result<(), CompileError> {
        let io = |path: &std::path::Path, e: std::io::Error| CompileError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        std::fs::write(path, std::mem::take(&mut native.object)).map_err(|e| io(path, e))?;
        let header = path.with_extension("h");
        let text = kiln_codegen_llvm::static_library::header(&native.library);
        std::fs::write(&header, text).map_err(|e| io(&header, e))
    }
}

impl TargetBackend for LlvmCpu {
    fn name(&self) -> &'static str {
        "llvm-cpu"
    }
    fn format(&self) -> &'static str {
        self.format
    }
    fn runs_recurrent_kernels(&self) -> bool {
        true
    }
    fn compile(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
        serialize: bool,
    ) -> Result<TargetOutput, CompileError> {
        let tile = kiln_codegen_llvm::tile_shape(&self.target)?;
        let (programs, text, native) = if functions.iter().all(|f| f.dispatches.is_some()) {
            let (programs, text, kernels) =
                compile_cpu(self, functions, constants, executable, Some(tile))?;
            let mut native = serialize
                .then(|| kiln_codegen_llvm::compile(&kernels, &self.target))
                .transpose()?;
            if let Some((native, path)) = native.as_mut().zip(self.static_output.as_ref()) {
                self.write_static_library(native, path)?;
            }
            (programs, text, native)
        } else {
            if self.static_output.is_some() {
                return Err(CompileError::Backend {
                    target: "llvm-cpu".into(),
                    message: "a static library needs every size known at compile time: bind \
                              the open dims with --kiln-bind-dim=NAME=SIZE"
                        .into(),
                });
            }
            let (programs, text, kernels) =
                compile_cpu_symbolic(self, functions, constants, executable, Some(tile))?;
            let native = serialize
                .then(|| kiln_codegen_llvm::compile_symbolic(&kernels, &self.target))
                .transpose()?;
            (programs, text, native)
        };
        Ok(TargetOutput {
            programs,
            text,
            binaries: native
                .iter()
                .map(|e| (".o".to_string(), e.object.clone()))
                .collect(),
            executable: native.map(|e| e.encode()),
        })
    }
}

/// Names of the built-in backends (every one IREE defines), sorted.
pub const AVAILABLE: &[&str] = &[
    "cuda",
    "llvm-cpu",
    "metal-spirv",
    "rocm",
    "vmvx",
    "vmvx-inline",
    "vulkan-spirv",
    "webgpu-spirv",
];

/// The backend called `name`, configured by `options`; `None` if no backend has that name.
pub fn backend(
    name: &str,
    options: &CompileOptions,
) -> Result<Option<Box<dyn TargetBackend>>, CompileError> {
    Ok(match name {
        "vmvx" => Some(Box::new(Vmvx)),
        "vmvx-inline" => Some(Box::new(VmvxInline)),
        "llvm-cpu" => {
            let mut target = options.llvm_cpu.clone();
            let arch = if target.triple.is_empty() {
                std::env::consts::ARCH
            } else {
                options.llvm_cpu.triple.split('-').next().unwrap_or("")
            };
            let static_output = static_library_output(options)?;
            target.static_library = static_output.as_ref().map(|p| {
                p.file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            });
            let format = match static_output {
                Some(_) => kiln_native::static_format_for_arch(arch),
                None => kiln_native::format_for_arch(arch),
            }
            .ok_or_else(|| CompileError::UnsupportedArch(target.triple.clone()))?;
            Some(Box::new(LlvmCpu {
                target,
                format,
                static_output,
            }))
        }
        "vulkan-spirv" => {
            let arch = options.vulkan_target.as_deref().unwrap_or("generic");
            let target = kiln_codegen_spirv::find_target(arch)?;
            Some(Box::new(GpuBackend(Spirv(target))))
        }
        "metal-spirv" => Some(Box::new(GpuBackend(METAL))),
        "webgpu-spirv" => Some(Box::new(GpuBackend(WEBGPU))),
        "cuda" => {
            let arch = kiln_codegen_llvm::cuda_arch(options.cuda_target.as_deref().unwrap_or(""))?;
            Some(Box::new(GpuBackend(LlvmGpu { arch })))
        }
        "rocm" => {
            let arch = kiln_codegen_llvm::rocm_arch(options.rocm_target.as_deref().unwrap_or(""))?;
            Some(Box::new(GpuBackend(LlvmGpu { arch })))
        }
        other => registered(other).map(|make| make(options)).transpose()?,
    })
}

/// Makes a registered target backend for the compile options (its own flags are the
/// backend's business).
pub type BackendFactory = fn(&CompileOptions) -> Result<Box<dyn TargetBackend>, CompileError>;

/// Target backends added from outside kiln ([`register_backend`]).
static REGISTERED: std::sync::Mutex<Vec<(&'static str, BackendFactory)>> =
    std::sync::Mutex::new(Vec::new());

/// Adds a target backend under `name` (`--iree-hal-target-backends=NAME`), as a crate outside
/// kiln does to plug in its own: it implements [`TargetBackend`] (lowering the kernel IR
/// however it likes, planning with the shared planner, writing an executable in a format its
/// HAL driver loads) and registers it before compiling. Built-in names cannot be taken;
/// registering a name again replaces its factory.
///
/// ```
/// use kiln_compiler::target::{register_backend, TargetBackend, Vmvx};
/// // A backend that is vmvx under another name (a real one would lower differently).
/// struct Mine;
/// impl TargetBackend for Mine {
///     fn name(&self) -> &'static str { "my-target" }
///     fn format(&self) -> &'static str { Vmvx.format() }
///     fn compile(&self, f: &[kiln_compiler::target::FunctionDispatches],
///                c: &mut kiln_compiler::target::Constants, e: u32, s: bool)
///         -> Result<kiln_compiler::target::TargetOutput, kiln_compiler::CompileError> {
///         Vmvx.compile(f, c, e, s)
///     }
/// }
/// register_backend("my-target", |_| Ok(Box::new(Mine)))?;
/// assert!(kiln_compiler::available_targets().contains(&"my-target"));
/// # Ok::<(), kiln_compiler::CompileError>(())
/// ```
pub fn register_backend(name: &'static str, make: BackendFactory) -> Result<(), CompileError> {
    if AVAILABLE.contains(&name) {
        return Err(CompileError::BadFlag {
            flag: "register_backend".into(),
            reason: format!("'{name}' is a built-in target backend's name"),
        });
    }
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    registered.retain(|(n, _)| *n != name);
    registered.push((name, make));
    Ok(())
}

/// The names of the registered target backends.
pub fn registered_backends() -> Vec<&'static str> {
    let registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    registered.iter().map(|(n, _)| *n).collect()
}

fn registered(name: &str) -> Option<BackendFactory> {
    let registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    registered.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The static library's object path, when `--iree-llvmcpu-link-embedded=false` asks for one
/// (both flags go together, as in IREE).
fn static_library_output(
    options: &CompileOptions,
) -> Result<Option<std::path::PathBuf>, CompileError> {
    let bad = |flag: &str, reason: &str| CompileError::BadFlag {
        flag: flag.into(),
        reason: reason.into(),
    };
    match (
        options.llvm_cpu_link_embedded,
        &options.static_library_output,
    ) {
        (Some(false), Some(path)) => {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            if !kiln_codegen_llvm::static_library::valid_name(&name) {
                return Err(bad(
                    "--iree-llvmcpu-static-library-output-path",
                    &format!(
                        "the file name '{name}' names the library ({name}_library_query), so it \
                         must be a C identifier"
                    ),
                ));
            }
            Ok(Some(path.clone()))
        }
        (Some(false), None) => Err(bad(
            "--iree-llvmcpu-link-embedded",
            "false needs --iree-llvmcpu-static-library-output-path=DIR/NAME.o",
        )),
        (_, Some(_)) => Err(bad(
            "--iree-llvmcpu-static-library-output-path",
            "it needs --iree-llvmcpu-link-embedded=false",
        )),
        (_, None) => Ok(None),
    }
}
