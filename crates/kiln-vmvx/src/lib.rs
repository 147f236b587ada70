//! VMVX: kiln's portable executable format and the interpreter that runs it on the CPU.
//!
//! - [`format`](mod@format) defines executables: kernels that are structured ops over strided views of the
//!   dispatch's bindings, with elementwise bodies in a tiny SSA bytecode. The compiler writes
//!   it; [`Executable::decode`] reads and checks it (every index, kind and shape), so a corrupt
//!   executable is an error, never a crash.
//! - [`tiling`] is the workgroup → tile mapping of every kernel, which the interpreter, the
//!   load-time checks and the llvm-cpu code generator share.
//! - [`exec`] runs one workgroup at a time; the HAL spreads workgroups over threads.
//!
//! This crate belongs to the runtime side: it never depends on the compiler.
#![no_std]

extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;
#[cfg(test)]
#[macro_use]
extern crate std;

#[cfg(all(feature = "conv", feature = "quantized"))]
mod conv_u8;
mod error;
pub mod exec;
pub mod format;
#[cfg(feature = "conv")]
mod pixel_rows;
pub mod tile_config;
pub mod tiling;

pub use error::VmvxError;
pub use exec::{Binding, BindingNeeds};
pub use format::{
    Body, Epilogue, Executable, Inst, Kernel, KernelOp, ReduceFn, View, FORMAT, INLINE_FORMAT,
};
