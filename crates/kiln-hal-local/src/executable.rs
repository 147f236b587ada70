//! Executable loaders for local devices: VMVX bytecode, and native code from `llvm-cpu`
//! (linked in memory by `kiln_native::loader`), which shares VMVX's kernel descriptions for
//! binding checks and runs named ops through the same microkernels.

use kiln_runtime::hal::Executable;
use kiln_runtime::HalError;
use kiln_types::sizes::Symbolic;
use kiln_ukernel::gemm::TileFn;
use kiln_vmvx::{BindingNeeds, Kernel, VmvxError};
use smallvec::SmallVec;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bindings a dispatch holds without a heap allocation (a dispatch runs per workgroup, and a
/// loop's small dispatches run thousands of times a call); more spill to the heap.
pub(crate) const INLINE_BINDINGS: usize = 12;

/// A dispatch's bindings as the interpreter and native code take them.
pub(crate) type Bindings = SmallVec<[kiln_vmvx::Binding; INLINE_BINDINGS]>;

/// A decoded and checked VMVX executable, or native code with its kernels' VMVX descriptions;
/// either may hold kernels whose sizes are bound at each dispatch.
pub struct LocalExecutable {
    kernels: KernelSet,
    /// Native entry points, one per kernel, for `llvm-cpu` executables.
    native: Option<Native>,
}

/// The kernels' descriptions.
enum KernelSet {
    Static {
        program: kiln_vmvx::Executable,
        /// The same kernels without epilogues, for native code that applies them itself
        /// (present only when the executable has native code).
        raw: Option<kiln_vmvx::Executable>,
        /// What each kernel needs of a dispatch's bindings, worked out at load.
        needs: Vec<Result<BindingNeeds, VmvxError>>,
    },
    /// Kernels with run-time sizes.
    Symbolic(SymbolicKernels),
}

/// Most bindings of symbolic kernels kept per executable: one per kernel and set of sizes in
/// use, so a model called at a few sizes binds each kernel once per size.
const BOUND_KERNELS: usize = 1024;

/// VMVX kernels whose sizes are expressions over symbols, and the static kernels recent
/// dispatches bound them to.
struct SymbolicKernels {
    kernels: Vec<kiln_vmvx::Kernel<Symbolic>>,
    /// The symbols each kernel reads, in the order dispatches pass their values.
    symbols: Vec<Vec<String>>,
    bound: Mutex<HashMap<BoundKey, Arc<BoundKernel>>>,
}

/// A kernel (entry point) and the symbol values a dispatch bound it to.
type BoundKey = (usize, Vec<i64>);

/// A symbolic kernel bound to one dispatch's sizes.
pub struct BoundKernel {
    /// The static kernel, as the only kernel of an executable.
    program: kiln_vmvx::Executable,
    /// The same without its epilogue, for native code.
    raw: Option<kiln_vmvx::Executable>,
    /// What native code reads: the symbols' values, then a generic kernel's tiles per
    /// parallel dim (the `sizes` of the kernel ABI).
    sizes: Vec<i64>,
    /// What the kernel needs of a dispatch's bindings.
    needs: Result<BindingNeeds, VmvxError>,
}

/// A dispatch's kernel, ready to check and run: an entry point of a static executable, or a
/// symbolic one bound to the dispatch's sizes.
pub enum Prepared {
    Static(usize),
    Bound(usize, Arc<BoundKernel>),
}

/// What running a prepared kernel reads.
struct Parts<'a> {
    program: &'a kiln_vmvx::Executable,
    raw: Option<&'a kiln_vmvx::Executable>,
    /// The kernel's index in `program` and `raw`.
    slot: usize,
    /// The entry point native code names the kernel by.
    entry: usize,
    sizes: &'a [i64],
    needs: &'a Result<BindingNeeds, VmvxError>,
}

/// A native kernel: `i32 (ctx, bindings, workgroup, sizes)`.
type NativeFn = unsafe extern "C" fn(
    *const crate::native_imports::DispatchContext,
    *const *mut u8,
    u64,
    *const i64,
) -> i32;

/// Linked native code and its entry points.
struct Native {
    entries: Vec<NativeFn>,
    /// The GEMMs around the executable's own register tile, if it brings one.
    kernels: Option<kiln_ukernel::Kernels>,
    /// Keeps linked code mapped while the entry points are used (none for a static
    /// library, which is part of the program).
    _code: Option<kiln_native::loader::LoadedCode>,
}

fn without_epilogues<Z: kiln_types::sizes::Sizes>(
    program: &kiln_vmvx::Executable<Z>,
) -> kiln_vmvx::Executable<Z> {
    kiln_vmvx::Executable {
        kernels: program
            .kernels
            .iter()
            .map(|k| k.without_epilogue())
            .collect(),
    }
}

impl LocalExecutable {
    /// Loads a native executable: checks the CPU has the features the code was compiled for
    /// and decodes and checks its kernel descriptions, then links the object, or for a static
    /// library (`format` says which), takes the registered library's entry points.
    pub fn native(format: &str, exe: kiln_native::Executable) -> Result<Self, HalError> {
        let cannot_run = |reason: String| HalError::CannotRun {
            format: format.into(),
            reason,
        };
        let arch = exe.triple.split('-').next().unwrap_or("");
        if arch != std::env::consts::ARCH {
            return Err(cannot_run(format!(
                "the code is for {} and this machine is {}",
                exe.triple,
                std::env::consts::ARCH
            )));
        }
        let missing = exe.missing_features();
        if !missing.is_empty() {
            return Err(cannot_run(format!(
                "the code was compiled for CPU '{}' and needs CPU features this machine lacks: {} (compile with --iree-llvmcpu-target-cpu=generic or for this CPU)",
                exe.cpu,
                missing.join(", ")
            )));
        }
        let refused = |reason: String| HalError::BadExecutable {
            format: format.into(),
            reason,
        };
        if exe.library.is_empty() {
            Self::load_native(exe).map_err(refused)
        } else {
            Self::load_static(exe).map_err(refused)
        }
    }

    /// Decodes and checks a native executable's kernel descriptions, as VMVX kernels without
    /// native code yet.
    fn described(exe: &kiln_native::Executable) -> Result<LocalExecutable, String> {
        let described = |e: kiln_vmvx::VmvxError| format!("kernel descriptions: {e}");
        let mut loaded = if kiln_vmvx::format::is_symbolic(&exe.kernels) {
            Self::symbolic(kiln_vmvx::Executable::decode_symbolic(&exe.kernels).map_err(described)?)
        } else {
            Self::new(kiln_vmvx::Executable::decode(&exe.kernels).map_err(described)?)
        };
        if let KernelSet::Static { program, raw, .. } = &mut loaded.kernels {
            *raw = Some(without_epilogues(program));
        }
        Ok(loaded)
    }

    /// [`LocalExecutable::described`], then links the object.
    fn load_native(exe: kiln_native::Executable) -> Result<LocalExecutable, String> {
        let mut loaded = Self::described(&exe)?;
        if exe.symbols.len() != loaded.entry_point_count() {
            return Err(format!(
                "{} symbols for {} kernels",
                exe.symbols.len(),
                loaded.entry_point_count()
            ));
        }
        let code =
            kiln_native::loader::LoadedCode::load(&exe.object, &crate::native_imports::lookup)
                .map_err(|e| e.to_string())?;
        let entries = exe
            .symbols
            .iter()
            .map(|s| {
                let address = code
                    .symbol(s)
                    .ok_or_else(|| format!("the object does not define '{s}'"))?;
                // SAFETY: the symbol is a function the compiler emitted with this signature
                // (the kernel ABI in `kiln_native`), inside code that stays mapped.
                Ok(unsafe { std::mem::transmute::<usize, NativeFn>(address) })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let kernels = exe
            .tile
            .as_ref()
            .map(|t| {
                let address = code.symbol(&t.symbol).ok_or_else(|| {
                    format!("the object does not define its GEMM tile '{}'", t.symbol)
                })?;
                // SAFETY: the symbol is the tile the compiler generated with TileFn's
                // signature and contract, inside code that stays mapped while the kernels
                // are used (they live in the same `Native`).
                unsafe { native_tile(t, std::mem::transmute::<usize, TileFn>(address)) }
            })
            .transpose()?;
        loaded.native = Some(Native {
            entries,
            kernels,
            _code: Some(code),
        });
        Ok(loaded)
    }

    /// [`LocalExecutable::described`], then takes the entry points of the registered static
    /// library the executable names.
    fn load_static(exe: kiln_native::Executable) -> Result<LocalExecutable, String> {
        let mut loaded = Self::described(&exe)?;
        let library = crate::static_library::find(&exe.library)?.descriptor();
        if library.checksum != kiln_native::kernels_checksum(&exe.kernels, exe.tile.as_ref()) {
            return Err(format!(
                "the registered static library '{}' was not compiled with this module: its \
                 kernels differ (compile both again, together)",
                exe.library
            ));
        }
        let count = loaded.entry_point_count();
        if library.kernel_count as usize != count {
            return Err(format!(
                "the registered static library '{}' has {} kernels, but the module's executable \
                 has {count}: they were not compiled together",
                exe.library, library.kernel_count
            ));
        }
        // SAFETY: the registered descriptor's table holds `kernel_count` entries for the
        // program's life (`static_library::register`'s contract).
        let table = unsafe { std::slice::from_raw_parts(library.kernels, count) };
        let entries = table
            .iter()
            .enumerate()
            .map(|(i, f)| {
                // SAFETY: the compiler wrote each entry with the kernel ABI, which `NativeFn`
                // spells with the context's own type.
                f.map(|f| unsafe { std::mem::transmute::<kiln_native::KernelFn, NativeFn>(f) })
                    .ok_or_else(|| format!("the static library's kernel {i} is null"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let kernels = match (&exe.tile, library.tile) {
            (None, _) => None,
            // SAFETY: the library's tile was compiled with TileFn's contract for the shape the
            // module records, and it is part of the program.
            (Some(t), Some(f)) => Some(unsafe { native_tile(t, f) }?),
            (Some(_), None) => {
                return Err(
                    "the module expects the static library's GEMM tile, which it lacks".into(),
                )
            }
        };
        loaded.native = Some(Native {
            entries,
            kernels,
            _code: None,
        });
        Ok(loaded)
    }

    /// An executable of static VMVX kernels.
    pub fn new(program: kiln_vmvx::Executable) -> Self {
        let needs = program.kernels.iter().map(Kernel::binding_needs).collect();
        LocalExecutable {
            kernels: KernelSet::Static {
                raw: None,
                program,
                needs,
            },
            native: None,
        }
    }

    /// An executable of VMVX kernels whose sizes are bound at each dispatch.
    pub fn symbolic(program: kiln_vmvx::Executable<Symbolic>) -> Self {
        let symbols = program.kernels.iter().map(|k| k.symbols()).collect();
        LocalExecutable {
            kernels: KernelSet::Symbolic(SymbolicKernels {
                kernels: program.kernels,
                symbols,
                bound: Mutex::new(HashMap::new()),
            }),
            native: None,
        }
    }

    /// The kernel a dispatch of `entry` with `params` runs: this executable's own, or for
    /// kernels with run-time sizes, the kernel bound to `params` (checked as the loader checks
    /// every kernel, once per distinct `params`).
    pub fn prepare(&self, entry: usize, params: &[i64]) -> Result<Prepared, String> {
        let sym = match &self.kernels {
            KernelSet::Static { program, .. } => {
                if !params.is_empty() {
                    return Err("the kernel takes no parameters".into());
                }
                if entry >= program.kernels.len() {
                    return Err(format!("entry point {entry} does not exist"));
                }
                return Ok(Prepared::Static(entry));
            }
            KernelSet::Symbolic(sym) => sym,
        };
        let (kernel, names) = sym
            .kernels
            .get(entry)
            .zip(sym.symbols.get(entry))
            .ok_or_else(|| format!("entry point {entry} does not exist"))?;
        if names.len() != params.len() {
            return Err(format!(
                "the kernel reads {} symbols ({}) but the dispatch passes {} values",
                names.len(),
                names.join(", "),
                params.len()
            ));
        }
        let key = (entry, params.to_vec());
        let mut bound = sym.bound.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = bound.get(&key) {
            return Ok(Prepared::Bound(entry, b.clone()));
        }
        let k = kernel.bind(names, params)?;
        k.check()?;
        let mut sizes = params.to_vec();
        if let kiln_vmvx::KernelOp::Generic {
            shape,
            tile,
            reduction_dims,
            ..
        } = &k.op
        {
            let p = shape.len() - *reduction_dims as usize;
            sizes.extend(tile[..p].iter().map(|&t| t as i64));
        }
        if bound.len() >= BOUND_KERNELS {
            bound.clear();
        }
        let needs = k.binding_needs();
        let program = kiln_vmvx::Executable { kernels: vec![k] };
        let b = Arc::new(BoundKernel {
            raw: self.native.is_some().then(|| without_epilogues(&program)),
            program,
            sizes,
            needs,
        });
        bound.insert(key, b.clone());
        Ok(Prepared::Bound(entry, b))
    }

    fn parts<'a>(&'a self, prepared: &'a Prepared) -> Result<Parts<'a>, String> {
        match (prepared, &self.kernels) {
            (
                Prepared::Static(entry),
                KernelSet::Static {
                    program,
                    raw,
                    needs,
                },
            ) => Ok(Parts {
                program,
                raw: raw.as_ref(),
                slot: *entry,
                entry: *entry,
                sizes: &[],
                needs: &needs[*entry],
            }),
            (Prepared::Bound(entry, b), KernelSet::Symbolic(_)) => Ok(Parts {
                program: &b.program,
                raw: b.raw.as_ref(),
                slot: 0,
                entry: *entry,
                sizes: &b.sizes,
                needs: &b.needs,
            }),
            _ => Err("the kernel was prepared for another executable".into()),
        }
    }

    /// The static description of a prepared kernel: its program and its index there.
    pub fn kernel<'a>(
        &'a self,
        prepared: &'a Prepared,
    ) -> Result<(&'a kiln_vmvx::Executable, usize), String> {
        self.parts(prepared).map(|p| (p.program, p.slot))
    }

    /// Checks a dispatch of a prepared kernel ([`kiln_vmvx::Executable::check_bindings`]),
    /// against what the kernel needs of its bindings, worked out once.
    pub fn check_bindings(
        &self,
        prepared: &Prepared,
        workgroups: u32,
        bindings: &[kiln_vmvx::Binding],
    ) -> Result<(), String> {
        let needs = self.parts(prepared)?.needs.as_ref();
        needs
            .map_err(|e| e.to_string())?
            .check(workgroups, bindings)
            .map_err(|e| e.to_string())
    }

    /// What entry point `entry` computes, for dispatch statistics
    /// ([`kiln_vmvx::Kernel::summary`], its sizes bound to `params`).
    pub fn summary(&self, entry: usize, params: &[i64]) -> String {
        let prepared = self.prepare(entry, params);
        match prepared.as_ref().map(|p| self.kernel(p)) {
            Ok(Ok((program, slot))) => program.kernels[slot].summary(),
            _ => format!("entry point {entry}"),
        }
    }

    /// Runs workgroup `wg` of a prepared kernel, natively when the executable has native code.
    ///
    /// # Safety
    /// As [`kiln_vmvx::Executable::run_workgroup`]: `check_bindings` succeeded for this
    /// kernel and these bindings, which stay valid, and only workgroups of this dispatch run
    /// concurrently.
    pub unsafe fn run_workgroup(
        &self,
        prepared: &Prepared,
        wg: u32,
        workgroups: u32,
        bindings: &[kiln_vmvx::Binding],
        kernels: &kiln_ukernel::Kernels,
    ) -> Result<(), String> {
        let parts = self.parts(prepared)?;
        let Some(native) = &self.native else {
            // SAFETY: forwarded contract.
            let run = unsafe {
                parts
                    .program
                    .run_workgroup(parts.slot, wg, bindings, kernels)
            };
            // The dispatch's error names the kernel already.
            return run.map_err(|e| match e {
                kiln_vmvx::VmvxError::Workgroup { message, .. } => message,
                e => e.to_string(),
            });
        };
        let f = native
            .entries
            .get(parts.entry)
            .ok_or_else(|| format!("entry point {} does not exist", parts.entry))?;
        let raw = parts
            .raw
            .ok_or("native code without its kernels' descriptions (without epilogues)")?;
        let pointers: SmallVec<[*mut u8; INLINE_BINDINGS]> =
            bindings.iter().map(|b| b.ptr).collect();
        let ctx = crate::native_imports::DispatchContext {
            program: parts.program,
            raw,
            bindings,
            kernels: native.kernels.as_ref().unwrap_or(kernels),
            entry: parts.entry as u32,
            slot: parts.slot,
            workgroups,
            error: Default::default(),
        };
        // SAFETY: the kernel reads and writes only inside its views, which were checked against
        // these bindings for these sizes; `ctx`, `pointers` and the sizes outlive the call.
        let status = unsafe { f(&ctx, pointers.as_ptr(), wg as u64, parts.sizes.as_ptr()) };
        if status == 0 {
            return Ok(());
        }
        Err(ctx
            .error
            .into_inner()
            .unwrap_or_else(|| format!("the kernel failed with status {status}")))
    }
}

/// The GEMM kernels around the register tile `tile` of linked `code`.
/// The GEMMs around an executable's own tile, `f`.
///
/// # Safety
/// `f` must compute what [`TileFn`] says for `tile`'s shape and stay valid while the kernels
/// are used.
unsafe fn native_tile(
    tile: &kiln_native::NativeTile,
    f: TileFn,
) -> Result<kiln_ukernel::Kernels, String> {
    use kiln_ukernel::gemm::{ExternalTile, TileShape};
    let shape = TileShape::with_size(tile.mr as usize, tile.nr as usize).ok_or_else(|| {
        format!(
            "the code's GEMM tile is {}x{}, an unknown shape",
            tile.mr, tile.nr
        )
    })?;
    // SAFETY: forwarded contract.
    unsafe { ExternalTile::new(shape, f) }.map(kiln_ukernel::Kernels::external)
}

impl Executable for LocalExecutable {
    fn workgroup_count(&self, entry_point: u32, params: &[i64]) -> Result<[u32; 3], HalError> {
        let prepared = self
            .prepare(entry_point as usize, params)
            .map_err(HalError::Invalid)?;
        let (program, slot) = self.kernel(&prepared).map_err(HalError::Invalid)?;
        let count = program.kernels[slot].workgroup_count();
        let count = u32::try_from(count).map_err(|_| {
            HalError::Invalid(format!(
                "entry point {entry_point} needs {count} workgroups"
            ))
        })?;
        Ok([count, 1, 1])
    }
    fn entry_point_count(&self) -> usize {
        match &self.kernels {
            KernelSet::Symbolic(s) => s.kernels.len(),
            KernelSet::Static { program, .. } => program.kernels.len(),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
