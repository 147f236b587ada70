//! The kernel IR verifier: the structural rules every pass and backend may assume.

use crate::{Dispatches, Op, View};

/// A rule of the kernel IR that a dispatch (or the function's results) breaks.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("dispatch_{dispatch}: {message}")]
pub struct VerifyError {
    /// The dispatch's index (the number of dispatches for a bad result).
    pub dispatch: usize,
    pub message: String,
}

/// Checks that every operand names a storage, every view names an operand and has one stride
/// per dim and an extent that fits in 64-bit offsets, each op's views have the ranks its rule
/// says, and every result names a storage.
///
/// ```
/// let text = "%s0 = param 0 [4xf32]\n\
///             dispatch_0(%s0, %s1) = generic [4] (#0[4xf32]) -> (#1[4xf32]) { r0 = in0; yield r0 }\n\
///             return %s0\n";
/// assert!(kiln_kernel::parse(text).is_err()); // %s1 is not a storage
/// ```
pub fn verify(d: &Dispatches) -> Result<(), VerifyError> {
    for (i, dispatch) in d.dispatches.iter().enumerate() {
        let fail = |message: String| VerifyError {
            dispatch: i,
            message,
        };
        if let Some(s) = dispatch
            .operands
            .iter()
            .find(|s| s.index() >= d.storages.len())
        {
            return Err(fail(format!("operand {s} is not a storage")));
        }
        for v in dispatch.kernel.views() {
            if v.operand as usize >= dispatch.operands.len() {
                return Err(fail(format!(
                    "view {v} reads operand {} of {}",
                    v.operand,
                    dispatch.operands.len()
                )));
            }
            if v.shape.len() != v.strides.len() || v.span().is_err() {
                return Err(fail(format!("view {v} has a bad shape or strides")));
            }
        }
        check_ranks(&dispatch.kernel).map_err(fail)?;
    }
    if let Some(s) = d.results.iter().find(|s| s.index() >= d.storages.len()) {
        return Err(VerifyError {
            dispatch: d.dispatches.len(),
            message: format!("result {s} is not a storage"),
        });
    }
    Ok(())
}

/// The view ranks each op's rule needs.
fn check_ranks(op: &Op) -> Result<(), String> {
    let rank = |v: &View, n: usize| {
        if v.shape.len() == n {
            Ok(())
        } else {
            Err(format!("{} needs a rank-{n} view, got {v}", op.name()))
        }
    };
    match op {
        Op::Generic {
            shape,
            reduction_dims,
            inputs,
            outputs,
            ..
        } => {
            if *reduction_dims as usize > shape.len() || outputs.is_empty() {
                return Err("a generic reduces more dims than it has, or has no output".into());
            }
            inputs
                .iter()
                .chain(outputs)
                .try_for_each(|v| rank(v, shape.len()))
        }
        Op::MatMul { a, b, c, .. } => [a, b, c].into_iter().try_for_each(|v| rank(v, 3)),
        Op::Conv2d { x, w, y, .. } => [x, w, y].into_iter().try_for_each(|v| rank(v, 4)),
        Op::Pool2d { x, y, .. } => [x, y].into_iter().try_for_each(|v| rank(v, 4)),
        Op::Softmax { x, y, .. } => [x, y].into_iter().try_for_each(|v| rank(v, 3)),
        Op::LayerNorm { x, y, .. } => [x, y].into_iter().try_for_each(|v| rank(v, 2)),
        Op::Gather { data, indices, out } => {
            rank(data, 3)?;
            rank(indices, 1)?;
            rank(out, 3)
        }
        Op::Recurrent {
            proj,
            weights,
            h0,
            c0,
            biases,
            y,
            ..
        } => {
            rank(proj, 4)?;
            [weights, h0, c0, biases]
                .into_iter()
                .try_for_each(|v| rank(v, 3))?;
            rank(y, 4)
        }
    }
}
