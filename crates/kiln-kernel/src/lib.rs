//! The kernel IR: what a dispatch region is before any target has touched it.
//!
//! Dispatch formation (`kiln-compiler`) turns each function of a tensor program into
//! [`Dispatches`]: the storages the function's tensors live in, and the ordered list of
//! [`Dispatch`]es that compute them. A dispatch is its operands (storages) and one [`Op`] over
//! strided [`View`]s of those operands: a generic elementwise or reduction op with a scalar
//! [`Body`], or a named op (matmul, convolution, pooling, softmax, layer
//! norm, gather) that carries its meaning only, with an optional fused elementwise
//! [`Epilogue`].
//!
//! Design choices:
//! - **No target decision lives here.** There are no tile sizes, workgroup grids, data-tiled
//!   layouts or thread mappings: each target backend attaches its own (its lowering config) in
//!   its own crate — the CPU backends in `kiln-codegen-cpu`, SPIR-V in `kiln-codegen-spirv` —
//!   the way IREE keeps dispatch regions target-free and materialises encodings per target.
//! - **No byte encoding.** This IR lives in the compiler only; executables have their own
//!   formats. It prints ([`Dispatches`]' `Display`) and parses back ([`parse`]), so tests are
//!   text in, text out.
//! - **Operands, not buffers.** A view's `operand` indexes its dispatch's
//!   [`Dispatch::operands`], which is also the binding number every backend uses: storages
//!   are assigned to buffers later, by the compiler's planner, once per target.
//! - [`Dispatches`] is generic over the kernel type, so a backend's lowered form
//!   (`Dispatches<kiln_vmvx::Kernel>` for the CPU) keeps the same storages and operands and
//!   the same planner serves every target.
//!
//! **Architecture Invariant:** this crate depends on no backend, runtime or executable format
//! crate: only on `kiln-types` and the shared scalar language `kiln-scalar`.

mod bind;
mod dispatch;
mod op;
mod parse;
mod print;
mod verify;
mod view;

pub use dispatch::{number_operands, Dispatch, Dispatches, Storage, StorageId, StorageKind};
pub use kiln_scalar::{reg_kind, BinaryFn, Body, Inst, ReduceFn, RegKind, UnaryFn, MAX_BODY_INSTS};
pub use kiln_types::sizes::{Sizes, Static, Symbolic};
pub use op::{Epilogue, Op};
pub use parse::{parse, ParseError};
pub use verify::{verify, VerifyError};
pub use view::{ExtentOverflow, View};
