//! Executable loaders for local devices: VMVX bytecode, and native code from `llvm-cpu`
//! (linked in memory by `kiln_native::loader`), which shares VMVX's kernel descriptions for
//! binding checks and runs named ops through the same microkernels.

use kiln_runtime::hal::Executable;
use kiln_runtime::HalError;
use kiln_types::sizes::Symbolic;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A decoded and checked VMVX executable, or native code with its kernels' VMVX descriptions,
/// or VMVX kernels whose sizes are bound at each dispatch.
pub struct LocalExecutable {
    pub program: kiln_vmvx::Executable,
    /// Native entry points, one per kernel, for `llvm-cpu` executables.
    native: Option<Native>,
    /// Kernels with run-time sizes (then `program` is empty).
    symbolic: Option<SymbolicKernels>,
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
    bound: Mutex<HashMap<BoundKey, Arc<kiln_vmvx::Executable>>>,
}

/// A kernel (entry point) and the symbol values a dispatch bound it to.
type BoundKey = (usize, Vec<i64>);

/// A native kernel: `i32 (ctx, bindings, workgroup)`.
type NativeFn =
    unsafe extern "C" fn(*const crate::native_imports::DispatchContext, *const *mut u8, u64) -> i32;

/// Linked native code and its entry points.
struct Native {
    entries: Vec<NativeFn>,
    /// The kernels without epilogues, for native code that applies them itself.
    raw: kiln_vmvx::Executable,
    /// The GEMMs around the executable's own register tile, if it brings one.
    kernels: Option<kiln_ukernel::Kernels>,
    /// Keeps the code mapped while the entry points are used.
    _code: kiln_native::loader::LoadedCode,
}

impl LocalExecutable {
    /// Loads a native executable: checks the CPU has the features the code was compiled for
    /// and decodes and checks its kernel descriptions, then links the object.
    pub fn native(exe: kiln_native::Executable) -> Result<Self, HalError> {
        let format = kiln_native::host_format().unwrap_or_default();
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
        Self::load_native(exe).map_err(refused)
    }

    /// Decodes and checks a native executable's kernel descriptions, then links its object.
    fn load_native(exe: kiln_native::Executable) -> Result<LocalExecutable, String> {
        let program = kiln_vmvx::Executable::decode(&exe.kernels)
            .map_err(|e| format!("kernel descriptions: {e}"))?;
        if exe.symbols.len() != program.kernels.len() {
            return Err(format!(
                "{} symbols for {} kernels",
                exe.symbols.len(),
                program.kernels.len()
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
            .map(|t| native_tile(&code, t))
            .transpose()?;
        let raw = kiln_vmvx::Executable {
            kernels: program
                .kernels
                .iter()
                .map(|k| k.without_epilogue())
                .collect(),
        };
        let mut loaded = LocalExecutable::new(program);
        loaded.native = Some(Native {
            entries,
            raw,
            kernels,
            _code: code,
        });
        Ok(loaded)
    }

    /// Runs workgroup `wg` of kernel `entry`, natively when the executable has native code.
    ///
    /// # Safety
    /// As [`kiln_vmvx::Executable::run_workgroup`]: `check_bindings` succeeded for these
    /// bindings, which stay valid, and only workgroups of this dispatch run concurrently.
    pub unsafe fn run_workgroup(
        &self,
        entry: usize,
        wg: u32,
        workgroups: u32,
        bindings: &[kiln_vmvx::Binding],
        kernels: &kiln_ukernel::Kernels,
    ) -> Result<(), String> {
        let Some(native) = &self.native else {
            // SAFETY: forwarded contract.
            let run = unsafe { self.program.run_workgroup(entry, wg, bindings, kernels) };
            // The dispatch's error names the kernel already.
            return run.map_err(|e| match e {
                kiln_vmvx::VmvxError::Workgroup { message, .. } => message,
                e => e.to_string(),
            });
        };
        let f = native
            .entries
            .get(entry)
            .ok_or_else(|| format!("entry point {entry} does not exist"))?;
        let pointers: Vec<*mut u8> = bindings.iter().map(|b| b.ptr).collect();
        let ctx = crate::native_imports::DispatchContext {
            program: &self.program,
            raw: &native.raw,
            bindings,
            kernels: native.kernels.as_ref().unwrap_or(kernels),
            entry: entry as u32,
            workgroups,
            error: Default::default(),
        };
        // SAFETY: the kernel reads and writes only inside its views, which were checked against
        // these bindings; `ctx` and `pointers` outlive the call.
        let status = unsafe { f(&ctx, pointers.as_ptr(), wg as u64) };
        if status == 0 {
            return Ok(());
        }
        Err(ctx
            .error
            .into_inner()
            .unwrap_or_else(|| format!("the kernel failed with status {status}")))
    }

    pub fn new(program: kiln_vmvx::Executable) -> Self {
        LocalExecutable {
            program,
            native: None,
            symbolic: None,
        }
    }

    /// An executable of VMVX kernels whose sizes are bound at each dispatch.
    pub fn symbolic(program: kiln_vmvx::Executable<Symbolic>) -> Self {
        let symbols = program.kernels.iter().map(|k| k.symbols()).collect();
        LocalExecutable {
            program: kiln_vmvx::Executable::default(),
            native: None,
            symbolic: Some(SymbolicKernels {
                kernels: program.kernels,
                symbols,
                bound: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The static program and entry point a dispatch of `entry` with `params` runs: this
    /// executable's own, or for kernels with run-time sizes, the kernel bound to `params`
    /// (checked as the loader checks every kernel, once per distinct `params`).
    pub fn bound(
        &self,
        entry: usize,
        params: &[i64],
    ) -> Result<(Option<Arc<kiln_vmvx::Executable>>, usize), String> {
        let Some(sym) = &self.symbolic else {
            if !params.is_empty() {
                return Err("the kernel takes no parameters".into());
            }
            return Ok((None, entry));
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
            return Ok((Some(b.clone()), 0));
        }
        let k = kernel.bind(names, params)?;
        k.check()?;
        if bound.len() >= BOUND_KERNELS {
            bound.clear();
        }
        let exe = Arc::new(kiln_vmvx::Executable { kernels: vec![k] });
        bound.insert(key, exe.clone());
        Ok((Some(exe), 0))
    }
}

/// The GEMM kernels around the register tile `tile` of linked `code`.
fn native_tile(
    code: &kiln_native::loader::LoadedCode,
    tile: &kiln_native::NativeTile,
) -> Result<kiln_ukernel::Kernels, String> {
    use kiln_ukernel::gemm::{ExternalTile, TileFn, TileShape};
    let shape = TileShape::with_size(tile.mr as usize, tile.nr as usize).ok_or_else(|| {
        format!(
            "the code's GEMM tile is {}x{}, an unknown shape",
            tile.mr, tile.nr
        )
    })?;
    let address = code
        .symbol(&tile.symbol)
        .ok_or_else(|| format!("the object does not define its GEMM tile '{}'", tile.symbol))?;
    // SAFETY: the symbol is the tile the compiler generated with TileFn's signature and
    // contract for this shape, inside code that stays mapped while the kernels are used (they
    // live in the same `Native`).
    unsafe { ExternalTile::new(shape, std::mem::transmute::<usize, TileFn>(address)) }
        .map(kiln_ukernel::Kernels::external)
}

impl Executable for LocalExecutable {
    fn workgroup_count(&self, entry_point: u32, params: &[i64]) -> Result<[u32; 3], HalError> {
        let (bound, entry) = self
            .bound(entry_point as usize, params)
            .map_err(HalError::Invalid)?;
        let program = bound.as_deref().unwrap_or(&self.program);
        let count = program
            .kernels
            .get(entry)
            .map(|k| k.workgroup_count())
            .ok_or_else(|| {
                HalError::Invalid(format!("entry point {entry_point} does not exist"))
            })?;
        let count = u32::try_from(count).map_err(|_| {
            HalError::Invalid(format!(
                "entry point {entry_point} needs {count} workgroups"
            ))
        })?;
        Ok([count, 1, 1])
    }
    fn entry_point_count(&self) -> usize {
        match &self.symbolic {
            Some(s) => s.kernels.len(),
            None => self.program.kernels.len(),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
