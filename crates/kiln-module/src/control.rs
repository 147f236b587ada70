//! The byte encoding of control programs ([`kiln_types::control`]); reading them back and
//! checking them against the module they live in is `read.rs` (the `control` feature).

use crate::ByteWriter;
use kiln_types::control::{ArithOp, ControlProgram, Stmt};

#[cfg(feature = "control")]
mod read;
#[cfg(feature = "control")]
pub(crate) use read::{decode, verify};

pub(crate) fn encode(p: &ControlProgram, w: &mut ByteWriter) {
    w.u32(p.tensors);
    w.u32(p.scalars);
    encode_body(&p.body, w);
    regs(w, &p.results);
}

fn regs(w: &mut ByteWriter, rs: &[u32]) {
    w.u32(rs.len() as u32);
    rs.iter().for_each(|&r| w.u32(r));
}

fn optional(w: &mut ByteWriter, r: Option<u32>) {
    w.u32(r.map_or(u32::MAX, |r| r));
}

fn encode_body(body: &[Stmt], w: &mut ByteWriter) {
    w.u32(body.len() as u32);
    for s in body {
        match s {
            Stmt::Call {
                function,
                args,
                results,
            } => {
                w.u8(0);
                w.str(function);
                regs(w, args);
                regs(w, results);
            }
            Stmt::Read { tensor, scalar } => {
                w.u8(1);
                w.u32(*tensor);
                w.u32(*scalar);
            }
            Stmt::SetScalar { scalar, value } => {
                w.u8(2);
                w.u32(*scalar);
                w.i64(*value);
            }
            Stmt::Tensor {
                scalar,
                element_type,
                tensor,
            } => {
                w.u8(3);
                w.u32(*scalar);
                w.u8(*element_type);
                w.u32(*tensor);
            }
            Stmt::Pack {
                scalars,
                element_type,
                tensor,
            } => {
                w.u8(9);
                regs(w, scalars);
                w.u8(*element_type);
                w.u32(*tensor);
            }
            Stmt::Fail { message } => {
                w.u8(10);
                w.str(message);
            }
            Stmt::Sizes { scalars, tensor } => {
                w.u8(11);
                regs(w, scalars);
                w.u32(*tensor);
            }
            Stmt::Move { src, dst } => {
                w.u8(4);
                w.u32(*src);
                w.u32(*dst);
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                w.u8(5);
                w.u32(*cond);
                encode_body(then_body, w);
                encode_body(else_body, w);
            }
            Stmt::Dim {
                tensor,
                axis,
                scalar,
            } => {
                w.u8(7);
                w.u32(*tensor);
                w.u32(*axis);
                w.u32(*scalar);
            }
            Stmt::Arith { op, lhs, rhs, dst } => {
                w.u8(8);
                w.u8(ArithOp::ALL.iter().position(|o| o == op).unwrap_or(0) as u8);
                w.u32(*lhs);
                w.u32(*rhs);
                w.u32(*dst);
            }
            Stmt::Loop {
                max,
                cond,
                index,
                body,
                scans,
            } => {
                w.u8(6);
                optional(w, *max);
                optional(w, *cond);
                w.u32(*index);
                encode_body(body, w);
                w.u32(scans.len() as u32);
                for sc in scans {
                    w.u32(sc.src);
                    w.u32(sc.dst);
                    w.u8(sc.element_type);
                    w.i64s(&sc.dims);
                    w.u8(sc.reverse as u8);
                }
            }
        }
    }
}
