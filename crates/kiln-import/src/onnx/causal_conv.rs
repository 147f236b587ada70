//! CausalConvWithState (opset 27): the stateful causal depthwise 1-D convolution of Mamba and
//! Gated DeltaNet blocks, lowered as its definition reads — the past state (zeros when absent)
//! concatenated before the input along time, a depthwise convolution without padding, the
//! optional SiLU, and the last `k - 1` padded positions as the present state.

use super::ops::{arg, as_2d, bin, from_2d, reshape_to, scalar_like, slice_axis, un, Outputs};
use super::{Importer, NodeCtx};
use kiln_ir::{BinaryOp, Conv2dAttrs, Dim, OpKind, UnaryOp, ValueId};

pub(super) fn causal_conv_with_state(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let activation = ctx.string("activation").unwrap_or_else(|| "none".into());
    if !matches!(activation.as_str(), "none" | "silu" | "swish") {
        return Err(ctx.err(format!(
            "activation '{activation}' is not one of none, silu, swish"
        )));
    }
    let xd = im.dims(x);
    let wd = im.shape(ctx, w)?;
    let channels = match xd.get(1) {
        Some(Dim::Static(c)) if xd.len() == 3 => *c,
        _ => {
            return Err(ctx.err(format!(
                "input must be (batch, channels, length) with static channels, got {}",
                im.ty(x).shape_string()
            )))
        }
    };
    if wd.len() != 3 || wd[0] != channels || wd[1] != 1 || wd[2] == 0 {
        return Err(ctx.err(format!(
            "weight must be (channels, 1, k) for input {}, got {}",
            im.ty(x).shape_string(),
            im.ty(w).shape_string()
        )));
    }
    let k = wd[2];
    let state_dims = vec![xd[0].clone(), Dim::Static(channels), Dim::Static(k - 1)];
    let padded = if k == 1 {
        x
    } else {
        let past = match inputs.get(3).copied().flatten() {
            Some(p) => p,
            None => {
                let zero = scalar_like(im, ctx, x, 0.0);
                im.emit(
                    ctx,
                    OpKind::Broadcast {
                        shape: state_dims.clone(),
                    },
                    &[zero],
                )?
            }
        };
        im.emit(ctx, OpKind::Concat { axis: 2 }, &[past, x])?
    };
    let (p4, _) = as_2d(im, ctx, padded, "input")?;
    let (w4, _) = as_2d(im, ctx, w, "weight")?;
    let attrs = Conv2dAttrs {
        strides: [1, 1],
        pads: [0; 4],
        dilations: [1, 1],
        groups: channels,
    };
    let mut y = im.emit(ctx, OpKind::Conv2d(attrs), &[p4, w4])?;
    if let Some(bias) = inputs.get(2).copied().flatten() {
        let b = reshape_to(im, ctx, bias, vec![1, channels, 1, 1])?;
        y = bin(im, ctx, BinaryOp::Add, y, b)?;
    }
    let mut y = from_2d(im, ctx, y, 1)?;
    if activation != "none" {
        let s = un(im, ctx, UnaryOp::Sigmoid, y)?;
        y = bin(im, ctx, BinaryOp::Mul, y, s)?;
    }
    // The present state: the last k - 1 positions of the padded input.
    let total = im.dims(padded);
    let present = match (&total[2], k) {
        (_, 1) => {
            let zero = scalar_like(im, ctx, x, 0.0);
            im.emit(ctx, OpKind::Broadcast { shape: state_dims }, &[zero])?
        }
        (Dim::Static(n), _) => slice_axis(im, ctx, padded, &total, 2, n - (k - 1), *n)?,
        (len, _) => {
            return Err(ctx.err(format!(
                "a present state over a length known only at run time ({len}) is not supported"
            )))
        }
    };
    Ok(vec![Some(y), Some(present)])
}
