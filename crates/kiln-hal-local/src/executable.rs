//! The VMVX executable loader for local devices.

use kiln_runtime::hal::Executable;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A decoded and checked VMVX executable, with each kernel's fastest observed run time on the
/// thread pool and inline (local-task uses them to pick the faster way per kernel).
pub struct VmvxExecutable {
    pub program: kiln_vmvx::Executable,
    timings: Vec<KernelTimings>,
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
/// After that, every this many runs the slower way is tried again (conditions change).
const RESAMPLE_EVERY: u64 = 64;

impl VmvxExecutable {
    pub fn new(program: kiln_vmvx::Executable) -> Self {
        let timings = program
            .kernels
            .iter()
            .map(|_| KernelTimings {
                best_ns: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
                runs: AtomicU64::new(0),
            })
            .collect();
        VmvxExecutable { program, timings }
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
        } else if run % RESAMPLE_EVERY == 0 {
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
