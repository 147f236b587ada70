//! The `local-task` worker pool: runs the workgroups of one dispatch on the calling thread and
//! `helpers` worker threads.
//!
//! One inference is a chain of dispatches of a few hundred microseconds each, with a barrier
//! between them, so what matters is how fast idle workers join the next dispatch:
//! - the caller takes part (a two-core machine runs two threads, not a caller asleep beside two
//!   workers);
//! - workgroups are claimed one at a time, so uneven workgroups balance: the caller from the
//!   front of the range and workers from the back, so that the caller computes about the same
//!   front part of each dispatch's output as of the one before (and, with one worker, the
//!   worker the same back part), and the next dispatch finds what a thread wrote in that
//!   thread's cache;
//! - a worker that finished a dispatch spins for [`SPIN`] before it sleeps, so the next dispatch
//!   of the same inference finds it awake; a pool left idle longer sleeps on a condition variable.
//!
//! A dispatch is published in one atomic word, `state`: a generation number, an open flag and the
//! number of workers inside the dispatch. A worker enters only while the flag is set for the
//! generation it saw (one compare-and-swap); the caller clears the flag when no workgroup is left
//! and returns once the count is back to zero, so no worker touches a finished dispatch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle worker watches for the next dispatch before it sleeps.
const SPIN: Duration = Duration::from_micros(200);

const OPEN: u64 = 1 << 31;
const COUNT: u64 = OPEN - 1;
const GENERATION: u64 = 1 << 32;

/// A workgroup function: runs workgroup `wg`.
type Work<'a> = dyn Fn(u32) -> Result<(), String> + Sync + 'a;

/// The dispatch being run, on the caller's stack while it lasts.
struct Dispatch<'a> {
    work: &'a Work<'a>,
    /// The next workgroup from the front (low 32 bits) and one past the next from the back
    /// (high 32 bits): the caller claims from the front, workers from the back.
    ends: AtomicU64,
    error: Mutex<Option<String>>,
}

impl Dispatch<'_> {
    /// Claims one workgroup from the front or the back, if any is left.
    fn claim(&self, from_back: bool) -> Option<u32> {
        let mut ends = self.ends.load(Ordering::Relaxed);
        loop {
            let (front, back) = (ends as u32, (ends >> 32) as u32);
            if front >= back {
                return None;
            }
            let (next, wg) = if from_back {
                (ends - (1 << 32), back - 1)
            } else {
                (ends + 1, front)
            };
            match self
                .ends
                .compare_exchange_weak(ends, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(wg),
                Err(now) => ends = now,
            }
        }
    }

    /// Claims and runs workgroups until none is left or one failed.
    fn drain(&self, from_back: bool) {
        while let Some(wg) = self.claim(from_back) {
            let outcome = catch_unwind(AssertUnwindSafe(|| (self.work)(wg)))
                .unwrap_or_else(|_| Err(format!("workgroup {wg} panicked")));
            if let Err(e) = outcome {
                self.error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                self.ends.store(0, Ordering::Relaxed);
            }
        }
    }
}

struct Shared {
    /// Generation (high 32 bits), [`OPEN`], and the number of workers inside (low bits).
    state: AtomicU64,
    /// The open dispatch, erased to `'static`; valid while [`OPEN`] is set or a worker is inside.
    dispatch: AtomicUsize,
    sleepers: AtomicUsize,
    wake_lock: Mutex<bool>,
    wake: Condvar,
}

/// A pool of worker threads that, with the caller, run one dispatch at a time.
pub struct WorkerPool {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// One dispatch at a time: `run` may be called from several threads.
    running: Mutex<()>,
}

impl WorkerPool {
    /// A pool of `helpers` threads; each dispatch also runs on the thread that calls [`run`].
    ///
    /// [`run`]: WorkerPool::run
    pub fn new(helpers: usize) -> std::io::Result<WorkerPool> {
        let shared = Arc::new(Shared {
            state: AtomicU64::new(0),
            dispatch: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            wake_lock: Mutex::new(false),
            wake: Condvar::new(),
        });
        let threads = (0..helpers)
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("kiln-worker-{i}"))
                    .spawn(move || shared.work())
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(WorkerPool {
            shared,
            threads,
            running: Mutex::new(()),
        })
    }

    /// Runs `work(wg)` for every `wg` in `0..count` across the caller and the workers, and
    /// returns the first error (remaining workgroups are skipped after one fails).
    pub fn run(
        &self,
        count: u32,
        work: &(dyn Fn(u32) -> Result<(), String> + Sync),
    ) -> Result<(), String> {
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let dispatch = Dispatch {
            work,
            ends: AtomicU64::new(u64::from(count) << 32),
            error: Mutex::new(None),
        };
        let s = &self.shared;
        s.dispatch
            .store(&dispatch as *const Dispatch as usize, Ordering::Relaxed);
        let generation =
            (s.state.load(Ordering::Relaxed) & !(OPEN | COUNT)).wrapping_add(GENERATION);
        s.state.store(generation | OPEN, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = s.wake_lock.lock().unwrap_or_else(|p| p.into_inner());
            s.wake.notify_all();
        }
        dispatch.drain(false);
        // No workgroup is left: close the dispatch and wait for the workers inside to leave.
        s.state.fetch_and(!OPEN, Ordering::SeqCst);
        while s.state.load(Ordering::Acquire) & COUNT != 0 {
            std::hint::spin_loop();
        }
        let error = dispatch.error.into_inner();
        error.unwrap_or_else(|p| p.into_inner()).map_or(Ok(()), Err)
    }
}

impl Shared {
    /// A worker's life: wait for a dispatch of a newer generation, help drain it, repeat.
    fn work(&self) {
        let mut seen = 0u64;
        loop {
            let Some(state) = self.next_dispatch(seen) else {
                return;
            };
            seen = state & !(OPEN | COUNT);
            let mut current = state;
            // Enter only the dispatch of this generation, and only while it is open.
            while current & !COUNT == seen | OPEN {
                match self.state.compare_exchange_weak(
                    current,
                    current + 1,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let ptr = self.dispatch.load(Ordering::Relaxed) as *const Dispatch;
                        // SAFETY: the dispatch is open and this worker is counted inside it, so
                        // the caller's `run` is still waiting and its `Dispatch` is alive.
                        unsafe { &*ptr }.drain(true);
                        self.state.fetch_sub(1, Ordering::Release);
                        break;
                    }
                    Err(now) => current = now,
                }
            }
        }
    }

    /// Waits for a generation other than `seen`: spins for [`SPIN`], then sleeps. `None` when
    /// the pool is shutting down.
    fn next_dispatch(&self, seen: u64) -> Option<u64> {
        let newer = |s: u64| s & !(OPEN | COUNT) != seen;
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let s = self.state.load(Ordering::Acquire);
            if newer(s) {
                return Some(s);
            }
            spins += 1;
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                break;
            }
            std::hint::spin_loop();
        }
        let mut stop = self.wake_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let result = loop {
            if *stop {
                break None;
            }
            let s = self.state.load(Ordering::SeqCst);
            if newer(s) {
                break Some(s);
            }
            stop = self.wake.wait(stop).unwrap_or_else(|p| p.into_inner());
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        *self
            .shared
            .wake_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_workgroup_runs_once_across_many_dispatches() {
        let pool = WorkerPool::new(3).unwrap();
        for count in [0u32, 1, 2, 7, 64, 1000] {
            let hits: Vec<AtomicU32> = (0..count).map(|_| AtomicU32::new(0)).collect();
            pool.run(count, &|wg| {
                hits[wg as usize].fetch_add(1, Ordering::Relaxed);
                Ok(())
            })
            .unwrap();
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn the_caller_takes_workgroups_from_the_front_and_workers_from_the_back() {
        let pool = WorkerPool::new(1).unwrap();
        let caller = std::thread::current().id();
        for _ in 0..20 {
            let by_caller: Vec<AtomicU32> = (0..64).map(|_| AtomicU32::new(0)).collect();
            pool.run(64, &|wg| {
                if std::thread::current().id() == caller {
                    by_caller[wg as usize].store(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_micros(50));
                Ok(())
            })
            .unwrap();
            let ran: Vec<u32> = by_caller
                .iter()
                .map(|r| r.load(Ordering::Relaxed))
                .collect();
            // The caller's workgroups are a prefix of the range.
            assert!(ran.windows(2).all(|w| w[0] >= w[1]), "{ran:?}");
        }
    }

    #[test]
    fn sleeping_workers_wake_for_the_next_dispatch() {
        let pool = WorkerPool::new(1).unwrap();
        std::thread::sleep(SPIN * 5);
        let threads = Mutex::new(std::collections::HashSet::new());
        pool.run(64, &|_| {
            threads.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(Duration::from_millis(1));
            Ok(())
        })
        .unwrap();
        assert_eq!(threads.into_inner().unwrap().len(), 2);
    }

    #[test]
    fn the_first_error_is_returned_and_later_workgroups_are_skipped() {
        let pool = WorkerPool::new(1).unwrap();
        let ran = AtomicU32::new(0);
        let err = pool
            .run(10_000, &|wg| {
                ran.fetch_add(1, Ordering::Relaxed);
                if wg == 3 {
                    Err("workgroup 3 failed".into())
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert_eq!(err, "workgroup 3 failed");
        assert!(ran.load(Ordering::Relaxed) < 10_000);
        let panicked = pool.run(4, &|wg| {
            assert_ne!(wg, 2, "boom");
            Ok(())
        });
        assert_eq!(panicked.unwrap_err(), "workgroup 2 panicked");
    }
}
