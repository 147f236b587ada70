//! Specialising a function with open dims for a size of 1, chosen per call.
//!
//! A dim left open takes every size, so dispatch formation cannot fold what a size of 1 would
//! allow (a batch-1 attention's head-split transposes become views of its matmuls only when the
//! batch is known to be 1). For each exported straight-line function with open dims, this pass
//! tries binding each symbol that is an input's leading dim to 1 (one that would empty a value
//! is skipped); when that forms fewer dispatches, the function is compiled
//! twice — as `NAME.open` and `NAME.SYMBOL_1`, both internal — and `NAME` becomes a control
//! program that reads the symbol's size from an input's dim and calls the one that fits. One
//! symbol is specialised per function (the one saving the most dispatches), so a module holds
//! at most twice the code; the weights are shared.

use crate::dispatch::form_dispatches;
use crate::CompileError;
use kiln_ir::{Control, Function, Port, Program};
use kiln_types::control::{ArithOp, ControlProgram, Stmt};

/// Specialises every exported straight-line function of `program` for a symbol of size 1
/// where that forms fewer dispatches (see the module docs).
pub fn specialize_unit_dims(program: &mut Program) -> Result<(), CompileError> {
    let mut added = vec![];
    for fi in 0..program.functions.len() {
        let f = &program.functions[fi];
        if f.internal || f.control.is_some() {
            continue;
        }
        let Some((symbol, input, axis, bound)) = best_unit_binding(program, f)? else {
            continue;
        };
        let name = f.name.clone();
        let mut open = f.clone();
        open.name = format!("{name}.open");
        open.internal = true;
        let mut unit = bound;
        unit.name = format!("{name}.{symbol}_1");
        unit.internal = true;
        program.functions[fi] = dispatcher(&open, &unit, input, axis);
        added.push(open);
        added.push(unit);
    }
    program.functions.extend(added);
    Ok(())
}

/// The symbol whose binding to 1 saves the most dispatches, with the input and axis that
/// define it and the bound function; `None` when no binding saves any.
fn best_unit_binding(
    program: &Program,
    f: &Function,
) -> Result<Option<(String, usize, usize, Function)>, CompileError> {
    let mut defined: Vec<(String, usize, usize)> = vec![];
    for (i, p) in f.params.iter().enumerate() {
        // Leading dims only: a batch (or a sequence-first model's length) of 1 is a common
        // call; an image row of 1 is not.
        let leading = f.ty(p.value).dims.first().map(|d| d.expr());
        if let Some(s) = leading.as_ref().and_then(|e| e.as_symbol()) {
            if !defined.iter().any(|(n, _, _)| n == s) {
                defined.push((s.to_string(), i, 0));
            }
        }
    }
    if defined.is_empty() {
        return Ok(None);
    }
    let base = form_dispatches(program, f)?.dispatches.len();
    let mut best: Option<(usize, (String, usize, usize, Function))> = None;
    for (symbol, input, axis) in defined {
        let mut bound = f.clone();
        // A binding that some size rule refuses (a check that fails at 1) is not a candidate.
        if bound.bind_symbols(&|s| (s == symbol).then_some(1)).is_err() {
            continue;
        }
        // A size of 1 that empties a value (a window that no longer fits) is a degenerate
        // input, not one worth code of its own.
        let empties = bound.values.iter().any(|v| {
            v.ty.dims
                .iter()
                .any(|d| matches!(d, kiln_ir::Dim::Static(0)))
        });
        if empties {
            continue;
        }
        let Ok(formed) = form_dispatches(program, &bound) else {
            continue;
        };
        let count = formed.dispatches.len();
        if count < base && best.as_ref().is_none_or(|(c, _)| count < *c) {
            best = Some((count, (symbol, input, axis, bound)));
        }
    }
    Ok(best.map(|(_, b)| b))
}

/// A function with `open`'s signature whose control program calls `unit` when dim `axis` of
/// input `input` is 1, and `open` otherwise.
fn dispatcher(open: &Function, unit: &Function, input: usize, axis: usize) -> Function {
    let name = open.name.trim_end_matches(".open").to_string();
    let mut f = Function::new(name);
    for p in &open.params {
        f.add_param(p.name.clone(), open.ty(p.value).clone());
    }
    let n = open.params.len() as u32;
    let results: Vec<u32> = (n..n + open.results.len() as u32).collect();
    for p in &open.results {
        let value = f.new_value(open.ty(p.value).clone());
        f.results.push(Port {
            value,
            name: p.name.clone(),
        });
    }
    let args: Vec<u32> = (0..n).collect();
    let call = |g: &Function| {
        vec![Stmt::Call {
            function: g.name.clone(),
            args: args.clone(),
            results: results.clone(),
        }]
    };
    let (size, one, is_one) = (0, 1, 2);
    f.control = Some(Control {
        program: ControlProgram {
            tensors: n + results.len() as u32,
            scalars: 3,
            body: vec![
                Stmt::Dim {
                    tensor: input as u32,
                    axis: axis as u32,
                    scalar: size,
                },
                Stmt::SetScalar {
                    scalar: one,
                    value: 1,
                },
                Stmt::Arith {
                    op: ArithOp::Eq,
                    lhs: size,
                    rhs: one,
                    dst: is_one,
                },
                Stmt::If {
                    cond: is_one,
                    then_body: call(unit),
                    else_body: call(open),
                },
            ],
            results,
        },
        any_rank: vec![false; open.results.len()],
    });
    f
}
