//! kiln's runtime: loads `.kiln` modules and runs them on HAL devices.
//!
//! - [`hal`]: the traits a driver implements (driver, device, buffer, executable, command
//!   buffer, semaphore). Drivers live in their own crates (`kiln-hal-local`, …) and register in
//!   a [`registry::DriverRegistry`]; out-of-tree drivers register the same way.
//! - [`vm`]: module loading (verify first, then map constants in place) and the host-program VM.
//! - The runtime never depends on the compiler; a deployment ships this crate, the drivers it
//!   wants and `.kiln` files.

pub mod hal;
pub mod host_buffer;
pub mod registry;
pub mod vm;

pub use registry::DriverRegistry;
pub use vm::{DeviceTensor, HostInput, LoadedModule, ModuleBytes, OutputBuffer};

/// Errors from drivers and devices.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HalError {
    #[error("unknown driver '{name}' (available: {available})")]
    UnknownDriver { name: String, available: String },
    #[error("{driver}: no device at '{path}' (devices: {available})")]
    UnknownDevice {
        driver: String,
        path: String,
        available: String,
    },
    #[error("{driver}: failed to initialize: {reason}")]
    Unavailable { driver: String, reason: String },
    #[error("invalid device option: {0}")]
    BadOption(String),
    #[error("{0}")]
    Invalid(String),
    #[error("device error: {0}")]
    Device(String),
    #[error("executable format '{format}' is not supported (this device loads {supported})")]
    UnsupportedFormat { format: String, supported: String },
    /// An executable in a supported format that does not decode, check or link.
    #[error("{format} executable refused: {reason}")]
    BadExecutable { format: String, reason: String },
    /// A valid executable this device cannot run (code for another CPU, or for CPU features
    /// this one lacks); a module with another variant runs that instead.
    #[error("{format} executable cannot run here: {reason}")]
    CannotRun { format: String, reason: String },
    /// A dispatch whose bindings do not fit its kernel, or whose workgroups failed.
    #[error("dispatch {index} ('{kernel}'): {reason}")]
    Dispatch {
        index: usize,
        kernel: String,
        reason: String,
    },
    #[error("cannot allocate {bytes} bytes")]
    OutOfMemory { bytes: usize },
}

/// Errors from loading modules and calling functions.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeError {
    #[error("cannot read '{path}': {message}")]
    Io { path: String, message: String },
    #[error("'{module}': {message}")]
    BadModule { module: String, message: String },
    #[error("'{module}' cannot run on device '{device}': {message}")]
    Incompatible {
        module: String,
        device: String,
        message: String,
    },
    #[error("no function named '{name}' (exported: {available})")]
    UnknownFunction { name: String, available: String },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Hal(#[from] HalError),
}
