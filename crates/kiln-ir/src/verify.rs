//! The verifier: checks a program's structural and type invariants.
//!
//! It runs after import and, in tests, between passes. Every value must be defined once before
//! use, ops must type-check under [`crate::OpKind::infer`], constants must exist and match their
//! declared type.

use crate::function::{Function, Program};
use crate::ops::OpKind;
use crate::IrError;

/// Verifies every function of `program`.
pub fn verify(program: &Program) -> Result<(), IrError> {
    for f in &program.functions {
        verify_function(program, f)?;
    }
    Ok(())
}

fn verify_function(program: &Program, f: &Function) -> Result<(), IrError> {
    let err = |loc: &str, message: String| IrError::Verify {
        function: f.name.clone(),
        loc: loc.to_string(),
        message,
    };
    if let Some(c) = &f.control {
        return verify_control(program, f, c).map_err(|m| err("control", m));
    }
    let mut defined = vec![false; f.values.len()];
    let define = |v: crate::ValueId, loc: &str, defined: &mut Vec<bool>| -> Result<(), IrError> {
        match defined.get_mut(v.index()) {
            Some(d) if !*d => {
                *d = true;
                Ok(())
            }
            Some(_) => Err(err(loc, format!("{v} is defined twice"))),
            None => Err(err(loc, format!("{v} is not a value of this function"))),
        }
    };
    for p in &f.params {
        define(p.value, &p.name, &mut defined)?;
    }
    for op in &f.ops {
        for v in &op.operands {
            if !defined.get(v.index()).copied().unwrap_or(false) {
                return Err(err(
                    &op.loc,
                    format!("'{}' uses {v} before it is defined", op.kind.name()),
                ));
            }
        }
        let expected = match &op.kind {
            OpKind::Constant(id) => {
                if id.0 as usize >= program.constants.len() {
                    return Err(err(&op.loc, format!("constant {id} does not exist")));
                }
                if !op.operands.is_empty() {
                    return Err(err(&op.loc, "constant takes no operands".into()));
                }
                vec![program.constant_type(*id)]
            }
            kind => {
                let types: Vec<_> = op.operands.iter().map(|v| f.ty(*v)).collect();
                kind.infer(&types)
                    .map_err(|m| err(&op.loc, m.to_string()))?
            }
        };
        if expected.len() != op.results.len() {
            return Err(err(
                &op.loc,
                format!(
                    "'{}' has {} results, expected {}",
                    op.kind.name(),
                    op.results.len(),
                    expected.len()
                ),
            ));
        }
        for (r, t) in op.results.iter().zip(&expected) {
            define(*r, &op.loc, &mut defined)?;
            if f.ty(*r) != t {
                return Err(err(
                    &op.loc,
                    format!(
                        "'{}' result {r} is declared {} but computes {t}",
                        op.kind.name(),
                        f.ty(*r)
                    ),
                ));
            }
        }
    }
    for r in &f.results {
        if !defined.get(r.value.index()).copied().unwrap_or(false) {
            return Err(err(&r.name, format!("result {} is never defined", r.value)));
        }
    }
    Ok(())
}

/// A function with a control program: no ops, registers in range, one rank flag per result,
/// and every callee a straight-line function of the program with matching arity.
fn verify_control(program: &Program, f: &Function, c: &crate::Control) -> Result<(), String> {
    if !f.ops.is_empty() {
        return Err("a function with a control program has no ops".into());
    }
    if c.any_rank.len() != f.results.len() || c.program.results.len() != f.results.len() {
        return Err(format!(
            "{} results but the control program returns {}",
            f.results.len(),
            c.program.results.len()
        ));
    }
    c.program.verify(f.params.len())?;
    kiln_types::control::check_calls(&c.program, |name| {
        let g = program.function(name)?;
        Some((g.control.is_some(), g.params.len(), g.results.len()))
    })
}
