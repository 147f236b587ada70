//! The local driver and device: execution on the host CPU, inline or on a thread pool.

use crate::executable::{Bindings, LocalExecutable};
use crate::pool::WorkerPool;
use kiln_runtime::hal::{
    Buffer, Command, CommandBuffer, Device, DeviceInfo, DeviceOptions, DispatchTime, Driver,
    Executable, HostBytes, Semaphore,
};
use kiln_runtime::host_buffer::HostBuffer;
use kiln_runtime::HalError;
use kiln_ukernel::Kernels;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Sync,
    Task,
}

/// The `local-sync` or `local-task` driver.
pub struct LocalDriver {
    mode: Mode,
}

impl LocalDriver {
    pub fn sync() -> Self {
        LocalDriver { mode: Mode::Sync }
    }
    pub fn task() -> Self {
        LocalDriver { mode: Mode::Task }
    }
}

impl Driver for LocalDriver {
    fn name(&self) -> &str {
        match self.mode {
            Mode::Sync => "local-sync",
            Mode::Task => "local-task",
        }
    }
    fn description(&self) -> &str {
        match self.mode {
            Mode::Sync => "Local execution using a lightweight inline synchronous queue",
            Mode::Task => "Local execution using the kiln multithreading task system",
        }
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        Ok(vec![DeviceInfo {
            device_id: 0,
            path: String::new(),
            name: "default".into(),
        }])
    }
    fn create_device(
        &self,
        path: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        if !path.is_empty() {
            return Err(HalError::UnknownDevice {
                driver: self.name().into(),
                path: path.into(),
                available: "the default device (empty path)".into(),
            });
        }
        Ok(Arc::new(LocalDevice::new(self.mode, options)?))
    }
}

/// A CPU device. `local-task` runs dispatches on the calling thread and `workers - 1` more.
pub struct LocalDevice {
    mode: Mode,
    workers: usize,
    pool: Option<WorkerPool>,
    kernels: &'static Kernels,
    /// Per-kernel dispatch times while timing is on ([`Device::time_dispatches`]).
    timing: Mutex<Option<Vec<DispatchTime>>>,
}

impl LocalDevice {
    fn new(mode: Mode, options: &DeviceOptions) -> Result<LocalDevice, HalError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let workers = match options.get("task_topology_max_group_count") {
            None => cores,
            Some(v) => v.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                HalError::BadOption(format!(
                    "task_topology_max_group_count must be a positive integer, got '{v}'"
                ))
            })?,
        };
        let pool = match mode {
            Mode::Sync => None,
            Mode::Task => Some(
                WorkerPool::new(workers - 1)
                    .map_err(|e| HalError::Device(format!("cannot start worker threads: {e}")))?,
            ),
        };
        Ok(LocalDevice {
            mode,
            workers: if mode == Mode::Sync { 1 } else { workers },
            pool,
            kernels: Kernels::best(),
            timing: Mutex::new(None),
        })
    }

    /// Adds `seconds` to `kernel`'s time, if timing is on.
    fn record(&self, kernel: impl FnOnce() -> String, seconds: f64) {
        let mut timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = timing.as_mut() else {
            return;
        };
        let kernel = kernel();
        match times.iter_mut().find(|t| t.kernel == kernel) {
            Some(t) => {
                t.dispatches += 1;
                t.seconds += seconds;
            }
            None => times.push(DispatchTime {
                kernel,
                dispatches: 1,
                seconds,
            }),
        }
    }

    fn run_dispatch(
        &self,
        index: usize,
        exe: &LocalExecutable,
        entry: usize,
        workgroups: [u32; 3],
        bindings: &[kiln_vmvx::Binding],
        params: &[i64],
    ) -> Result<(), HalError> {
        let count = workgroups[0] as u64 * workgroups[1] as u64 * workgroups[2] as u64;
        let count = u32::try_from(count)
            .map_err(|_| HalError::Invalid("workgroup grid too large".into()))?;
        let fail = |kernel: &str, reason: String| HalError::Dispatch {
            index,
            kernel: kernel.to_string(),
            reason,
        };
        let prepared = exe
            .prepare(entry, params)
            .map_err(|e| fail(&format!("entry point {entry}"), e))?;
        let (program, slot) = exe
            .kernel(&prepared)
            .map_err(|e| fail(&format!("entry point {entry}"), e))?;
        let name = &program.kernels[slot].name;
        let fail = |reason: String| fail(name, reason);
        exe.check_bindings(&prepared, count, bindings)
            .map_err(fail)?;
        // SAFETY: bindings were checked above; buffers outlive this call (the command buffer
        // holds them); workgroups of one dispatch write disjoint tiles by construction.
        let run =
            |wg: u32| unsafe { exe.run_workgroup(&prepared, wg, count, bindings, self.kernels) };
        let Some(pool) = self.pool.as_ref().filter(|_| count > 1) else {
            return (0..count).try_for_each(run).map_err(fail);
        };
        // The caller drains workgroups itself and waits only for workers that joined, so a
        // small dispatch costs little more than inline even when the workers are asleep.
        pool.run(count, &run).map_err(fail)
    }
}

/// VMVX everywhere, and native code for this machine's architecture.
/// Native code first: where a module has both, llvm-cpu's executable runs, not VMVX's.
fn formats() -> Vec<String> {
    let mut f: Vec<String> = [
        kiln_native::host_format(),
        kiln_native::host_static_format(),
    ]
    .into_iter()
    .flatten()
    .map(str::to_string)
    .collect();
    f.push(kiln_vmvx::FORMAT.to_string());
    f
}

impl Device for LocalDevice {
    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            device_id: 0,
            path: String::new(),
            name: "default".into(),
        }
    }
    fn driver_name(&self) -> &str {
        match self.mode {
            Mode::Sync => "local-sync",
            Mode::Task => "local-task",
        }
    }
    fn properties(&self) -> Vec<(String, String)> {
        vec![
            ("executable-formats".into(), formats().join(", ")),
            ("worker-count".into(), self.workers.to_string()),
            ("microkernels".into(), self.kernels.tile.isa.into()),
        ]
    }
    fn executable_formats(&self) -> Vec<String> {
        formats()
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(HostBuffer::zeroed(bytes)?))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(HostBuffer::shared(bytes, offset, length)?))
    }
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        let native = [
            kiln_native::host_format(),
            kiln_native::host_static_format(),
        ];
        if native.contains(&Some(format)) {
            let refused = |reason: String| HalError::BadExecutable {
                format: format.into(),
                reason,
            };
            let exe = kiln_native::Executable::decode(data).map_err(|e| refused(e.to_string()))?;
            if exe.library.is_empty() != (Some(format) == kiln_native::host_format()) {
                return Err(refused(
                    "a static library's executable must name its library, an object's must not"
                        .into(),
                ));
            }
            let loaded = LocalExecutable::native(format, exe)?;
            return Ok(Arc::new(loaded));
        }
        if format != kiln_vmvx::FORMAT {
            return Err(HalError::UnsupportedFormat {
                format: format.into(),
                supported: formats().join(", "),
            });
        }
        let bad = |e: kiln_vmvx::VmvxError| HalError::BadExecutable {
            format: format.into(),
            reason: e.to_string(),
        };
        if kiln_vmvx::format::is_symbolic(data) {
            let program = kiln_vmvx::Executable::decode_symbolic(data).map_err(bad)?;
            return Ok(Arc::new(LocalExecutable::symbolic(program)));
        }
        let program = kiln_vmvx::Executable::decode(data).map_err(bad)?;
        Ok(Arc::new(LocalExecutable::new(program)))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        for (i, c) in commands.commands().iter().enumerate() {
            match c {
                // Dispatches run one after another, so every point between them is a barrier.
                Command::Barrier => {}
                Command::Dispatch {
                    executable,
                    entry_point,
                    workgroups,
                    bindings,
                    params,
                } => {
                    let exe = executable
                        .as_any()
                        .downcast_ref::<LocalExecutable>()
                        .ok_or_else(|| {
                            HalError::Invalid("executable belongs to another device".into())
                        })?;
                    let binds = bindings
                        .iter()
                        .map(|b| {
                            let buffer = HostBuffer::of(&b.buffer)?;
                            Ok(kiln_vmvx::Binding {
                                ptr: buffer.address(b.offset),
                                len: b.length,
                                writable: buffer.writable(),
                            })
                        })
                        .collect::<Result<Bindings, HalError>>()?;
                    let entry = *entry_point as usize;
                    let timed = self.timing.lock().is_ok_and(|t| t.is_some());
                    let start = timed.then(Instant::now);
                    self.run_dispatch(i, exe, entry, *workgroups, &binds, params)?;
                    if let Some(start) = start {
                        let seconds = start.elapsed().as_secs_f64();
                        let count: u64 = workgroups.iter().map(|&w| u64::from(w)).product();
                        let kernel =
                            || format!("{} [{count} workgroups]", exe.summary(entry, params));
                        self.record(kernel, seconds);
                    }
                }
            }
        }
        if let Some((s, v)) = signal {
            s.signal(v);
        }
        Ok(())
    }

    fn time_dispatches(&self, on: bool) -> bool {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner()) = on.then(Vec::new);
        true
    }

    fn dispatch_times(&self) -> Vec<DispatchTime> {
        let timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        timing.clone().unwrap_or_default()
    }
}
