//! kiln's tensor program: the IR every frontend lowers to and every backend starts from.
//!
//! - A [`Program`] holds functions and a shared constant table. A [`Function`] is SSA over ranked
//!   tensors ([`TensorType`]: element type plus static or symbolic dims); values and ops live in
//!   tables addressed by typed ids ([`ValueId`] prints as `%N`).
//! - The op set ([`OpKind`]) is declared once in [`ops`]: names, attributes and type rules. The
//!   builder ([`Function::push_op`]), the [`verify`]er, the [`text`] printer/parser and the
//!   [`interp`]reter all work from it.
//! - Validation happens in [`verify`]; passes may assume a verified program.
//! - [`interp`] is the reference interpreter: slow, simple, f64 inside. It is the oracle for every
//!   backend and also folds constants at compile time.
#![forbid(unsafe_code)]

pub mod function;
pub mod interp;
mod interp_control;
mod interp_recurrent;
pub mod ops;

pub mod text;
pub mod types;
pub mod verify;

pub use function::{Control, Function, Op, Port, Program, ValueData, ValueId};
pub use kiln_types::sym;
pub use ops::{
    Attr, BinaryOp, ConstId, Conv2dAttrs, OpKind, PoolAttrs, PoolKind, ReduceKind, TypeError,
    UnaryOp,
};
pub use sym::SymExpr;
pub use types::{dims_product, Dim, TensorType};

/// Errors from parsing, verifying or interpreting a tensor program.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum IrError {
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
    #[error("in function '{function}', at '{loc}': {message}")]
    Verify {
        function: String,
        loc: String,
        message: String,
    },
    #[error("evaluation failed: {0}")]
    Eval(String),
}
