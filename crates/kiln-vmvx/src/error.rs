//! Errors of loading and running VMVX executables.

use alloc::string::String;
use kiln_module::ModuleError;
use kiln_types::ElementType;

/// Why an executable was refused, a dispatch's bindings did not fit it, or a workgroup failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VmvxError {
    /// The bytes do not decode (truncated, unknown codes, foreign version).
    #[error(transparent)]
    Encoding(#[from] ModuleError),
    /// A decoded kernel breaks a rule of the format (the message says which).
    #[error("kernel '{kernel}': {message}")]
    InvalidKernel { kernel: String, message: String },
    #[error("kernel {index} does not exist (executable has {count})")]
    NoKernel { index: usize, count: usize },
    #[error("kernel '{kernel}' expects {expected} workgroups, dispatched with {got}")]
    Workgroups {
        kernel: String,
        expected: u64,
        got: u32,
    },
    #[error("kernel '{kernel}' uses binding {binding} but only {bound} are bound")]
    Unbound {
        kernel: String,
        binding: u32,
        bound: usize,
    },
    #[error("kernel '{kernel}' reads or writes outside binding {binding} ({bytes} bytes)")]
    OutOfBounds {
        kernel: String,
        binding: u32,
        bytes: usize,
    },
    #[error("binding {binding} is not aligned for {element_type}")]
    Misaligned {
        binding: u32,
        element_type: ElementType,
    },
    #[error("kernel '{kernel}' writes read-only binding {binding}")]
    ReadOnly { kernel: String, binding: u32 },
    /// A kernel needing a part of the interpreter this build of the runtime leaves out (a
    /// kiln-vmvx cargo feature off, as in a firmware that links only what its models use): a
    /// kernel family or a transcendental function.
    #[error(
        "kernel '{kernel}' needs {what}, which this build of the runtime leaves out (kiln-vmvx \
         feature `{feature}`)"
    )]
    NotBuilt {
        kernel: String,
        what: &'static str,
        feature: &'static str,
    },
    /// A workgroup met input it cannot compute (a gather index out of range) or a kernel
    /// this CPU cannot run.
    #[error("kernel '{kernel}': {message}")]
    Workgroup { kernel: String, message: String },
}
