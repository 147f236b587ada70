//! Local CPU HAL drivers.
//!
//! - `local-sync` runs every workgroup inline on the calling thread.
//! - `local-task` spreads each dispatch's workgroups over the calling thread and a pool of
//!   workers, one thread per core in all by default (`task_topology_max_group_count` caps it). Barriers are the points between
//!   dispatches where all workgroups have finished.
//! - Buffers are host memory; module constants are used in place (no copy).
//! - Executables: the VMVX format (`vmvx-bytecode`), run by [`kiln_vmvx`] with the microkernels
//!   [`kiln_ukernel::Kernels::best`] picks for this CPU.
//!
//! ```
//! let mut registry = kiln_runtime::DriverRegistry::new();
//! kiln_hal_local::register(&mut registry);
//! assert_eq!(registry.names(), ["local-sync", "local-task"]);
//! ```

mod device;
mod executable;
mod native_imports;
mod pool;
mod static_library;

pub use device::{LocalDevice, LocalDriver};
pub use static_library::register as register_static_library;
use std::sync::Arc;

/// Registers `local-sync` and `local-task`.
pub fn register(registry: &mut kiln_runtime::DriverRegistry) {
    registry.register(Arc::new(LocalDriver::sync()));
    registry.register(Arc::new(LocalDriver::task()));
}
