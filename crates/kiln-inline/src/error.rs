//! The inline runtime's errors: what is wrong with a module when it loads, or with a call.

use alloc::string::String;
use kiln_module::ModuleError;
use kiln_vmvx::VmvxError;

/// Why a module did not load or a call did not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InlineError {
    #[error(transparent)]
    Module(#[from] ModuleError),
    #[error(
        "the module has no vmvx-inline executable (it has: {formats}); compile it with \
         --iree-hal-target-backends=vmvx-inline to run it without a device"
    )]
    NoInlineExecutable { formats: String },
    #[error("executable {index} (vmvx-inline) is invalid: {source}")]
    Executable { index: usize, source: VmvxError },
    /// A function the inline runtime cannot run, found when the module loads.
    #[error("function @{function} cannot run inline: {reason}")]
    Unrunnable { function: String, reason: String },
    /// Inputs whose number, element types or shapes do not match the signature.
    #[error("{0}")]
    Input(String),
    #[error("the module has no function @{name} (it exports: {exported})")]
    NoFunction { name: String, exported: String },
    #[error("@{function} takes {expected} {what}s, but the call passes {got}")]
    ArgumentCount {
        function: String,
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error(
        "@{function}: {what} {index} ('{name}', {type_string}) takes {expected} bytes, but the \
         call passes {got}"
    )]
    ArgumentSize {
        function: String,
        what: &'static str,
        index: usize,
        name: String,
        type_string: String,
        expected: usize,
        got: usize,
    },
    #[error("@{function}: {what} {index} ('{name}') must start at a multiple of {align} bytes")]
    Misaligned {
        function: String,
        what: &'static str,
        index: usize,
        name: String,
        align: usize,
    },
    #[error("@{function}: dispatch {index} failed: {source}")]
    Dispatch {
        function: String,
        index: usize,
        source: VmvxError,
    },
}
