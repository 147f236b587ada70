//! Signal windows (HannWindow, HammingWindow, BlackmanWindow, opset 17): sums of cosines of
//! each position, `Σ aₖ · cos(2πk·n / N)`, over a length given as data (read as a size, see
//! [`super::data_sizes`]) or known now. `periodic` (the default) divides by the length,
//! otherwise by one less, for a symmetric window.

use super::ops::size_scalar;
use super::ops::{arg, bin, cast_to, one, scalar_like, size_dim, un, Outputs};
use super::{Importer, NodeCtx};
use kiln_ir::{BinaryOp, OpKind, SymExpr, UnaryOp, ValueId};
use kiln_types::ElementType;
use std::f64::consts::PI;

/// The cosine coefficients `a₀, a₁, a₂` of a window op.
fn coefficients(op: &str) -> [f64; 3] {
    match op {
        "HannWindow" => [0.5, -0.5, 0.0],
        "HammingWindow" => [25.0 / 46.0, -21.0 / 46.0, 0.0],
        _ => [0.42, -0.5, 0.08],
    }
}

pub(super) fn window(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let size = arg(ctx, inputs, 0)?;
    let n = match im.shape_value(size) {
        Some(s) => s,
        None => im.sizes_from_data(ctx, size)?,
    };
    let len = n
        .values
        .first()
        .cloned()
        .ok_or_else(|| ctx.err("the size is empty"))?;
    let to = super::element_type(ctx.int("output_datatype", 1) as i32).map_err(|m| ctx.err(m))?;
    let periodic = ctx.int("periodic", 1) != 0;
    let period = if periodic {
        len.clone()
    } else {
        len.clone() - SymExpr::from(1)
    };
    let shape = vec![size_dim(ctx, &len)?];
    let at = im.emit(ctx, OpKind::Iota { shape, axis: 0 }, &[])?;
    let at = cast_to(im, ctx, at, ElementType::F32)?;
    let period = size_scalar(im, ctx, period);
    let period = cast_to(im, ctx, period, ElementType::F32)?;
    // The phase 2π·n / N of each position.
    let two_pi = scalar_like(im, ctx, at, 2.0 * PI);
    let phase = bin(im, ctx, BinaryOp::Mul, at, two_pi)?;
    let phase = bin(im, ctx, BinaryOp::Div, phase, period)?;
    let [a0, a1, a2] = coefficients(ctx.op_type);
    let mut w = scalar_like(im, ctx, at, a0);
    for (k, a) in [(1.0, a1), (2.0, a2)] {
        if a == 0.0 {
            continue;
        }
        let k = scalar_like(im, ctx, at, k);
        let kp = bin(im, ctx, BinaryOp::Mul, phase, k)?;
        let c = un(im, ctx, UnaryOp::Cos, kp)?;
        let a = scalar_like(im, ctx, at, a);
        let term = bin(im, ctx, BinaryOp::Mul, c, a)?;
        w = bin(im, ctx, BinaryOp::Add, w, term)?;
    }
    one(cast_to(im, ctx, w, to)?)
}
