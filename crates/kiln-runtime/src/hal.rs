//! The hardware abstraction layer: what a driver implements to run kiln modules.
//!
//! Shape after IREE's HAL: a [`Driver`] enumerates and creates [`Device`]s; a device allocates
//! [`Buffer`]s, loads [`Executable`]s and executes [`CommandBuffer`]s, signalling a timeline
//! [`Semaphore`] when done.
//!
//! - Object-safe traits behind `Arc<dyn …>`, so drivers can live in other crates (out of tree)
//!   and be chosen at run time by name.
//! - Validation happens once, here and in [`crate::vm`]: command buffers check every binding
//!   range against its buffer when recorded, so drivers may assume ranges are in bounds.
//! - Lifetimes: a command buffer holds `Arc`s to everything it references, so buffers and
//!   executables stay alive until it is dropped.
//! - Errors: recording errors come from `CommandBuffer` methods; execution errors (a kernel's
//!   own checks, a device fault) come from [`Device::queue_execute`].

use crate::HalError;
use std::any::Any;
use std::sync::{Arc, Condvar, Mutex};

/// What `--list_devices` and `query_available_devices()` report for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: u64,
    /// The part after `driver://` in a device URI; empty for the default device.
    pub path: String,
    pub name: String,
}

/// Options for creating a device, as `key=value` pairs (e.g. `task_topology_max_group_count`).
#[derive(Clone, Debug, Default)]
pub struct DeviceOptions {
    pub params: Vec<(String, String)>,
}

impl DeviceOptions {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A family of devices (one per API or backend).
pub trait Driver: Send + Sync {
    /// The name used in `--device=<name>` and URIs.
    fn name(&self) -> &str;
    /// One line for `--list_drivers`.
    fn description(&self) -> &str;
    /// Devices this driver can create. Fails with a reason if the driver cannot initialise
    /// (e.g. its system library is missing).
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError>;
    /// Creates the device at `path` (empty: the default device).
    fn create_device(
        &self,
        path: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError>;
}

/// Memory a device can read and write.
pub trait Buffer: Send + Sync + Any {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies bytes out of the buffer; the range must be in bounds.
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError>;
    /// Copies bytes into the buffer; the range must be in bounds.
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError>;
    fn as_any(&self) -> &dyn Any;
    /// Where the bytes live when the buffer is host memory the caller may inspect (for
    /// diagnostics and zero-copy checks); `None` for device memory.
    fn host_address(&self) -> Option<usize> {
        None
    }
}

/// Checks a host transfer of `n` bytes at `offset` into (`write`) or out of a buffer of `len`
/// bytes; drivers call it before copying.
pub fn check_transfer(
    len: usize,
    writable: bool,
    offset: usize,
    n: usize,
    write: bool,
) -> Result<(), HalError> {
    if write && !writable {
        return Err(HalError::Invalid("buffer is read-only".into()));
    }
    if offset.checked_add(n).is_none_or(|end| end > len) {
        let what = if write { "write" } else { "read" };
        return Err(HalError::Invalid(format!(
            "{what} of {n} bytes at {offset} is outside the buffer of {len} bytes"
        )));
    }
    Ok(())
}

/// `bytes[offset..offset + len]` for [`Device::import_host`], or an error naming the range.
pub fn host_range(bytes: &[u8], offset: usize, len: usize) -> Result<&[u8], HalError> {
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or_else(|| {
            HalError::Invalid(format!(
                "host range {offset}+{len} exceeds {} bytes",
                bytes.len()
            ))
        })
}

/// Loaded device code with numbered entry points.
pub trait Executable: Send + Sync + Any {
    fn entry_point_count(&self) -> usize;
    fn as_any(&self) -> &dyn Any;
    /// The workgroup grid entry point `entry_point` needs for `params`, for kernels whose
    /// sizes (and so tiles) are known only at run time; executables whose dispatches carry
    /// their grid need not say.
    fn workgroup_count(&self, entry_point: u32, params: &[i64]) -> Result<[u32; 3], HalError> {
        let _ = params;
        Err(HalError::Invalid(format!(
            "entry point {entry_point} has no run-time workgroup count"
        )))
    }
}

/// Read-only bytes that outlive the buffers made from them (a module file, usually mmapped).
pub trait HostBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

/// A byte range of a buffer bound to a dispatch.
#[derive(Clone)]
pub struct BufferBinding {
    pub buffer: Arc<dyn Buffer>,
    pub offset: usize,
    pub length: usize,
}

/// One recorded command.
#[derive(Clone)]
pub enum Command {
    Dispatch {
        executable: Arc<dyn Executable>,
        entry_point: u32,
        workgroups: [u32; 3],
        bindings: Vec<BufferBinding>,
        /// Values of the symbols a kernel with run-time sizes reads (empty for static ones).
        params: Vec<i64>,
    },
    /// Every earlier command completes before any later one starts.
    Barrier,
}

/// A recorded list of commands. Recording validates ranges and entry points.
#[derive(Clone, Default)]
pub struct CommandBuffer {
    commands: Vec<Command>,
}

impl CommandBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty command buffer with room for `commands` commands (a host program records
    /// as many as it has instructions).
    ///
    /// ```
    /// let cb = kiln_runtime::hal::CommandBuffer::with_capacity(4);
    /// assert!(cb.commands().is_empty());
    /// ```
    pub fn with_capacity(commands: usize) -> Self {
        CommandBuffer {
            commands: Vec::with_capacity(commands),
        }
    }

    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// Records a dispatch of `entry_point` over `workgroups`.
    pub fn dispatch(
        &mut self,
        executable: Arc<dyn Executable>,
        entry_point: u32,
        workgroups: [u32; 3],
        bindings: Vec<BufferBinding>,
    ) -> Result<(), HalError> {
        self.dispatch_with_params(executable, entry_point, workgroups, bindings, vec![])
    }

    /// Records a dispatch of a kernel whose sizes are known only at run time, with the
    /// values of the symbols it reads (`params`, in the order the kernel lists them).
    pub fn dispatch_with_params(
        &mut self,
        executable: Arc<dyn Executable>,
        entry_point: u32,
        workgroups: [u32; 3],
        bindings: Vec<BufferBinding>,
        params: Vec<i64>,
    ) -> Result<(), HalError> {
        if entry_point as usize >= executable.entry_point_count() {
            return Err(HalError::Invalid(format!(
                "entry point {entry_point} does not exist (executable has {})",
                executable.entry_point_count()
            )));
        }
        for (i, b) in bindings.iter().enumerate() {
            if b.offset
                .checked_add(b.length)
                .is_none_or(|end| end > b.buffer.len())
            {
                return Err(HalError::Invalid(format!(
                    "binding {i} range {}+{} exceeds its buffer of {} bytes",
                    b.offset,
                    b.length,
                    b.buffer.len()
                )));
            }
        }
        self.commands.push(Command::Dispatch {
            executable,
            entry_point,
            workgroups,
            bindings,
            params,
        });
        Ok(())
    }

    pub fn barrier(&mut self) {
        self.commands.push(Command::Barrier);
    }
}

/// A device: memory, code loading and a queue.
pub trait Device: Send + Sync {
    fn info(&self) -> DeviceInfo;
    fn driver_name(&self) -> &str;
    /// `(key, value)` lines for `--dump_devices`.
    fn properties(&self) -> Vec<(String, String)>;
    /// Executable formats this device loads (`vmvx-bytecode`, …), best first: a module
    /// compiled for several targets runs the variant whose format comes earliest here.
    fn executable_formats(&self) -> Vec<String>;
    /// Allocates zeroed device memory.
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError>;
    /// Makes `bytes[offset..offset+length]` available as a read-only buffer; devices that can
    /// read host memory use it in place.
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError>;
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError>;
    /// Executes `commands`, then signals `signal` (semaphore, value). May block until done.
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError>;
    /// Starts timing every dispatch `queue_execute` runs, forgetting earlier times, or stops
    /// (`on` false). Returns whether this device times dispatches (by default it does not).
    fn time_dispatches(&self, on: bool) -> bool {
        let _ = on;
        false
    }
    /// The dispatch times recorded since timing started, per kernel.
    fn dispatch_times(&self) -> Vec<DispatchTime> {
        Vec::new()
    }
}

/// The time a device spent in one kernel's dispatches ([`Device::dispatch_times`]).
#[derive(Clone, Debug, PartialEq)]
pub struct DispatchTime {
    /// The kernel: its name, op and output shapes.
    pub kernel: String,
    /// Dispatches of it timed.
    pub dispatches: u64,
    /// Their total wall-clock seconds.
    pub seconds: f64,
}

/// A timeline semaphore: a monotonically increasing value that work signals and hosts wait on.
#[derive(Default)]
pub struct Semaphore {
    value: Mutex<u64>,
    changed: Condvar,
}

impl Semaphore {
    pub fn new(initial: u64) -> Self {
        Semaphore {
            value: Mutex::new(initial),
            changed: Condvar::new(),
        }
    }
    pub fn value(&self) -> u64 {
        *self.value.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Raises the value (never lowers it) and wakes waiters.
    pub fn signal(&self, value: u64) {
        let mut v = self.value.lock().unwrap_or_else(|e| e.into_inner());
        *v = (*v).max(value);
        self.changed.notify_all();
    }
    /// Blocks until the value reaches `value`.
    pub fn wait(&self, value: u64) {
        let mut v = self.value.lock().unwrap_or_else(|e| e.into_inner());
        while *v < value {
            v = self.changed.wait(v).unwrap_or_else(|e| e.into_inner());
        }
    }
}
