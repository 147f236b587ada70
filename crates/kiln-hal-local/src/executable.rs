//! The VMVX executable loader for local devices.

use kiln_runtime::hal::Executable;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A decoded and checked VMVX executable, with each kernel's last run time on the thread pool
/// and inline (local-task uses them to pick the faster way per kernel).
pub struct VmvxExecutable {
    pub program: kiln_vmvx::Executable,
    /// Nanoseconds per kernel: `[pool, inline]`, `u64::MAX` until measured.
    timings: Vec<[AtomicU64; 2]>,
}

impl VmvxExecutable {
    pub fn new(program: kiln_vmvx::Executable) -> Self {
        let timings = program
            .kernels
            .iter()
            .map(|_| [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)])
            .collect();
        VmvxExecutable { program, timings }
    }

    /// Whether kernel `entry` should run on the pool: first measure the pool, then inline,
    /// then keep to whichever was faster.
    pub fn prefers_pool(&self, entry: usize) -> bool {
        let Some([pool, inline]) = self.timings.get(entry) else {
            return true;
        };
        let (p, i) = (pool.load(Ordering::Relaxed), inline.load(Ordering::Relaxed));
        p == u64::MAX || (i != u64::MAX && p <= i)
    }

    pub fn record_run(&self, entry: usize, on_pool: bool, took: Duration) {
        if let Some(t) = self.timings.get(entry) {
            t[usize::from(!on_pool)].store(
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
