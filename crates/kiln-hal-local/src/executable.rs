//! The VMVX executable loader for local devices.

use kiln_runtime::hal::Executable;
use std::any::Any;

/// A decoded and checked VMVX executable.
pub struct VmvxExecutable {
    pub program: kiln_vmvx::Executable,
}

impl Executable for VmvxExecutable {
    fn entry_point_count(&self) -> usize {
        self.program.kernels.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
