//! The `metal` HAL driver: Apple GPUs through Metal, running `metal-spirv` executables
//! (`metal-msl-fb`: one Metal Shading Language source per kernel, compiled when loaded).
//!
//! It exists only on Apple systems; elsewhere this crate is empty and the driver is not
//! listed, as IREE does. It is type-checked in CI (`cargo check --target aarch64-apple-darwin`)
//! but has not run: no machine kiln is built on has a Mac.
//!
//! - Devices: the system's default Metal device (`metal://`), with its name and limits.
//! - Buffers: shared-storage `MTLBuffer`s in whole 4-byte words (one memory for CPU and GPU),
//!   so host transfers are copies through `contents()`; host imports are copied into
//!   read-only buffers.
//! - Dispatch follows the format's binding convention (`kiln_gpu_binary`'s crate docs):
//!   binding `i` at `[[buffer(i)]]` from its offset rounded down to a word (kernels read 8-
//!   and 16-bit elements a word at a time), the remainder as its element bias in the
//!   parameter block
//!   (biases, then one `i32` per symbol) at `[[buffer(n)]]`, the status word at
//!   `[[buffer(n + 1)]]`, the bindings' byte lengths at `[[buffer(n + 2)]]`. A submission is
//!   one command buffer, committed and waited for; the status word is checked after.

#[cfg(target_vendor = "apple")]
mod metal;

#[cfg(target_vendor = "apple")]
pub use metal::{register, MetalDriver};
