//! Reading control programs back from their bytes, and checking them against the module they
//! live in.

use crate::{ByteReader, FunctionDef, Module};
use alloc::string::String;
use alloc::vec::Vec;
use kiln_types::control::{check_calls, ArithOp, ControlProgram, Scan, Stmt};

/// Nesting depth beyond which a control program is refused (it bounds the decoder's
/// recursion on a corrupt file).
const MAX_NESTING: usize = 64;

pub(crate) fn decode(r: &mut ByteReader) -> ControlProgram {
    ControlProgram {
        tensors: r.u32(),
        scalars: r.u32(),
        body: decode_body(r, 0),
        results: read_regs(r),
    }
}

fn read_regs(r: &mut ByteReader) -> Vec<u32> {
    r.list(4, ByteReader::u32)
}

fn read_optional(r: &mut ByteReader) -> Option<u32> {
    Some(r.u32()).filter(|&v| v != u32::MAX)
}

fn decode_body(r: &mut ByteReader, depth: usize) -> Vec<Stmt> {
    if depth > MAX_NESTING {
        r.invalid(kiln_types::message!(
            "control program nests deeper than {MAX_NESTING} levels"
        ));
        return Vec::new();
    }
    r.list_until_refused(5, |r| decode_stmt(r, depth))
}

/// One statement; `None` (with the reader refusing it) for an unknown one.
fn decode_stmt(r: &mut ByteReader, depth: usize) -> Option<Stmt> {
    Some(match r.u8() {
        0 => Stmt::Call {
            function: r.str(),
            args: read_regs(r),
            results: read_regs(r),
        },
        1 => Stmt::Read {
            tensor: r.u32(),
            scalar: r.u32(),
        },
        2 => Stmt::SetScalar {
            scalar: r.u32(),
            value: r.i64(),
        },
        3 => Stmt::Tensor {
            scalar: r.u32(),
            element_type: r.element_type().code(),
            tensor: r.u32(),
        },
        4 => Stmt::Move {
            src: r.u32(),
            dst: r.u32(),
        },
        5 => Stmt::If {
            cond: r.u32(),
            then_body: decode_body(r, depth + 1),
            else_body: decode_body(r, depth + 1),
        },
        6 => {
            let (max, cond, index) = (read_optional(r), read_optional(r), r.u32());
            let body = decode_body(r, depth + 1);
            let scans = r.list(14, |r| Scan {
                src: r.u32(),
                dst: r.u32(),
                element_type: r.element_type().code(),
                dims: r.i64s(),
                reverse: r.u8() != 0,
            });
            Stmt::Loop {
                max,
                cond,
                index,
                body,
                scans,
            }
        }
        9 => Stmt::Pack {
            scalars: read_regs(r),
            element_type: r.element_type().code(),
            tensor: r.u32(),
        },
        10 => Stmt::Fail { message: r.str() },
        11 => Stmt::Sizes {
            scalars: read_regs(r),
            tensor: r.u32(),
        },
        7 => Stmt::Dim {
            tensor: r.u32(),
            axis: r.u32(),
            scalar: r.u32(),
        },
        8 => {
            let code = r.u8();
            let Some(&op) = ArithOp::ALL.get(code as usize) else {
                r.invalid(kiln_types::message!("unknown control arithmetic {code}"));
                return None;
            };
            Stmt::Arith {
                op,
                lhs: r.u32(),
                rhs: r.u32(),
                dst: r.u32(),
            }
        }
        tag => {
            r.invalid(kiln_types::message!("unknown control statement tag {tag}"));
            return None;
        }
    })
}

/// Checks `f`'s control program against `module`: registers in range, every callee a
/// straight-line function of the module called with as many tensors as it takes and returns.
pub(crate) fn verify(module: &Module, f: &FunctionDef, p: &ControlProgram) -> Result<(), String> {
    p.verify(f.inputs.len())?;
    if p.results.len() != f.outputs.len() {
        return Err(kiln_types::message!(
            "its control program returns {} tensors for {} results",
            p.results.len(),
            f.outputs.len()
        ));
    }
    check_calls(p, |name| {
        let g = module.functions.iter().find(|g| g.name == name)?;
        Some((g.control.is_some(), g.inputs.len(), g.outputs.len()))
    })
}
