//! Executable loaders for local devices: VMVX bytecode, and native code from `llvm-cpu`
//! (linked in memory by `kiln_native::loader`), which shares VMVX's kernel descriptions for
//! binding checks and runs named ops through the same microkernels.

use kiln_runtime::hal::Executable;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A decoded and checked VMVX executable, with each kernel's fastest observed run time on the
/// thread pool and inline (local-task uses them to pick the faster way per kernel).
pub struct VmvxExecutable {
    pub program: kiln_vmvx::Executable,
    /// Native entry points, one per kernel, for `llvm-cpu` executables.
    native: Option<Native>,
    timings: Vec<KernelTimings>,
}

/// A native kernel: `i32 (ctx, bindings, workgroup)`.
type NativeFn =
    unsafe extern "C" fn(*const kiln_native::imports::DispatchContext, *const *mut u8, u64) -> i32;

/// Linked native code and its entry points.
struct Native {
    entries: Vec<NativeFn>,
    /// The kernels without epilogues, for native code that applies them itself.
    raw: kiln_vmvx::Executable,
    /// Keeps the code mapped while the entry points are used.
    _code: kiln_native::loader::LoadedCode,
}

/// Per-kernel timing samples: the minimum nanoseconds seen `[on the pool, inline]`, and a run
/// counter that schedules samples of both ways.
#[derive(Default)]
struct KernelTimings {
    best_ns: [AtomicU64; 2],
    runs: AtomicU64,
}

/// Runs that alternate between the two ways before the faster one is preferred.
const SAMPLES: u64 = 6;
/// After that, every this many runs the slower way is tried again (conditions change); kernels
/// take their turns in different runs, so no one call runs every kernel the slower way.
const RESAMPLE_EVERY: u64 = 64;

impl VmvxExecutable {
    /// Loads a native executable: checks the CPU has the features the code was compiled for,
    /// then links the object.
    pub fn native(exe: kiln_native::Executable) -> Result<Self, String> {
        let arch = exe.triple.split('-').next().unwrap_or("");
        if arch != std::env::consts::ARCH {
            return Err(format!(
                "the code is for {} and this machine is {}",
                exe.triple,
                std::env::consts::ARCH
            ));
        }
        let missing = exe.missing_features();
        if !missing.is_empty() {
            return Err(format!(
                "the code was compiled for CPU '{}' and needs CPU features this machine lacks: {} (compile with --iree-llvmcpu-target-cpu=generic or for this CPU)",
                exe.cpu,
                missing.join(", ")
            ));
        }
        let code =
            kiln_native::loader::LoadedCode::load(&exe.object, &kiln_native::imports::lookup)?;
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
        let raw = kiln_vmvx::Executable {
            kernels: exe
                .kernels
                .kernels
                .iter()
                .map(|k| k.without_epilogue())
                .collect(),
        };
        let mut loaded = VmvxExecutable::new(exe.kernels);
        loaded.native = Some(Native {
            entries,
            raw,
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
            return unsafe { self.program.run_workgroup(entry, wg, bindings, kernels) };
        };
        let f = native
            .entries
            .get(entry)
            .ok_or_else(|| format!("entry point {entry} does not exist"))?;
        let pointers: Vec<*mut u8> = bindings.iter().map(|b| b.ptr).collect();
        let ctx = kiln_native::imports::DispatchContext {
            program: &self.program,
            raw: &native.raw,
            bindings,
            kernels,
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
        let timings = program
            .kernels
            .iter()
            .map(|_| KernelTimings {
                best_ns: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
                runs: AtomicU64::new(0),
            })
            .collect();
        VmvxExecutable {
            program,
            native: None,
            timings,
        }
    }

    /// Whether kernel `entry`'s next run should use the pool: both ways are sampled a few times
    /// (minimum time kept), then the faster is used, with an occasional re-check of the other.
    pub fn prefers_pool(&self, entry: usize) -> bool {
        let Some(t) = self.timings.get(entry) else {
            return true;
        };
        let run = t.runs.fetch_add(1, Ordering::Relaxed);
        let [pool, inline] = [0, 1].map(|i| t.best_ns[i].load(Ordering::Relaxed));
        let faster_is_pool = pool <= inline;
        if run < SAMPLES {
            run % 2 == 0
        } else if (run + entry as u64).is_multiple_of(RESAMPLE_EVERY) {
            !faster_is_pool
        } else {
            faster_is_pool
        }
    }

    pub fn record_run(&self, entry: usize, on_pool: bool, took: Duration) {
        if let Some(t) = self.timings.get(entry) {
            t.best_ns[usize::from(!on_pool)].fetch_min(
                took.as_nanos().min(u64::MAX as u128 - 1) as u64,
                Ordering::Relaxed,
            );
        }
    }
}

impl Executable for VmvxExecutable {
    fn entry_point_count(&self) -> usize {
        self.program.kernels.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
