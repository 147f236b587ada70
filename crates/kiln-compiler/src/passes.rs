//! Global optimisation passes over the tensor program.
//!
//! - [`fold_constants`]: an op whose operands are all constants is evaluated by the reference
//!   interpreter and replaced by a constant (results up to 16M elements).
//! - [`eliminate_dead_code`]: removes ops whose results nothing uses, then drops constants no
//!   op refers to, so the module stores each live weight once.
//!
//! Both keep the program verified.

use kiln_ir::{interp, ConstId, OpKind, Program};
use std::collections::HashMap;

const FOLD_LIMIT: usize = 1 << 24;

/// Replaces ops with all-constant operands by constants.
pub fn fold_constants(program: &mut Program) -> Result<(), String> {
    for fi in 0..program.functions.len() {
        let mut consts: HashMap<kiln_ir::ValueId, ConstId> = HashMap::new();
        for oi in 0..program.functions[fi].ops.len() {
            let op = program.functions[fi].ops[oi].clone();
            if let OpKind::Constant(id) = op.kind {
                consts.insert(op.results[0], id);
                continue;
            }
            if op.operands.is_empty() || !op.operands.iter().all(|v| consts.contains_key(v)) {
                continue;
            }
            let f = &program.functions[fi];
            let small = f
                .ty(op.results[0])
                .static_shape()
                .is_some_and(|s| s.iter().product::<usize>() <= FOLD_LIMIT);
            if !small {
                continue;
            }
            let args: Vec<interp::Tensor> = op
                .operands
                .iter()
                .map(|v| interp::Tensor::from_host(program.constant(consts[v])))
                .collect();
            let refs: Vec<&interp::Tensor> = args.iter().collect();
            let value = interp::eval_op(program, &op.kind, &refs)
                .map_err(|m| format!("'{}' ({}): {m}", op.kind.name(), op.loc))?;
            let id = program.add_constant(value.to_host());
            let op_mut = &mut program.functions[fi].ops[oi];
            op_mut.kind = OpKind::Constant(id);
            op_mut.operands.clear();
            consts.insert(op.results[0], id);
        }
    }
    Ok(())
}

/// Removes unused ops, then unused constants (renumbering the rest).
pub fn eliminate_dead_code(program: &mut Program) {
    for f in &mut program.functions {
        loop {
            let uses = f.use_counts();
            let before = f.ops.len();
            f.ops
                .retain(|op| op.results.iter().any(|r| uses[r.index()] > 0));
            if f.ops.len() == before {
                break;
            }
        }
    }
    let mut remap: HashMap<u32, u32> = HashMap::new();
    let mut kept = vec![];
    for f in &mut program.functions {
        for op in &mut f.ops {
            if let OpKind::Constant(id) = &mut op.kind {
                let new = *remap.entry(id.0).or_insert_with(|| {
                    kept.push(id.0);
                    kept.len() as u32 - 1
                });
                *id = ConstId(new);
            }
        }
    }
    let old = std::mem::take(&mut program.constants);
    let mut old: Vec<Option<kiln_types::HostTensor>> = old.into_iter().map(Some).collect();
    program.constants = kept
        .iter()
        .map(|&i| old[i as usize].take().expect("each constant kept once"))
        .collect();
}
