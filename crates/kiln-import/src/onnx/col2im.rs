//! Col2Im (opset 18): the blocks of an im2col matrix summed back into an image of any spatial
//! rank, with strides, dilations and pads.
//!
//! The image and block shapes (inputs, constants or data) and the channel count they imply are
//! read as sizes ([`super::data_sizes`]) when they are data. Every column entry `(block
//! position, block index)` lands on one image position or none; on the device, a `[image, K·L]`
//! 0/1 matrix of those landings multiplies the columns, summing overlapping blocks.

use super::data_counts::div_mod;
use super::ops::{arg, bin, cast_to, i64_scalar, reshape_dims, size_dim, size_scalar, Outputs};
use super::shape_values::ShapeValue;
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{dims_product, BinaryOp, Dim, OpKind, ReduceKind, SymExpr, ValueId};
use kiln_types::ElementType;

pub(super) fn col2im(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, image, block) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let r = match im.ty(image).static_shape().as_deref() {
        Some(&[r]) if r > 0 && im.ty(block).static_shape().as_deref() == Some(&[r]) => r,
        _ => return Err(ctx.err("image_shape and block_shape must be 1-D and of one length")),
    };
    let ints = |name: &str, default: i64, n: usize| -> Result<Vec<i64>, ImportError> {
        let v = ctx.ints(name).unwrap_or_else(|| vec![default; n]);
        if v.len() != n || v.iter().any(|&x| x < 0) {
            return Err(ctx.err(format!("{name} {v:?} must be {n} non-negative values")));
        }
        Ok(v)
    };
    let (strides, dilations, pads) = (
        ints("strides", 1, r)?,
        ints("dilations", 1, r)?,
        ints("pads", 0, 2 * r)?,
    );
    if strides.contains(&0) || dilations.contains(&0) {
        return Err(ctx.err("strides and dilations must be positive"));
    }
    // The sizes: image dims, block dims, then channels = dim 1 / block volume.
    let depth = ShapeValue {
        values: vec![im.dims(x)[1].expr()],
        scalar: false,
    };
    let depth = im.emit_shape_value(ctx, depth);
    let image = cast_to(im, ctx, image, ElementType::I64)?;
    let block = cast_to(im, ctx, block, ElementType::I64)?;
    let volume = im.emit(
        ctx,
        OpKind::Reduce {
            kind: ReduceKind::Prod,
            axes: vec![0],
            keep_dims: true,
        },
        &[block],
    )?;
    let channels = bin(im, ctx, BinaryOp::Div, depth, volume)?;
    let all = im.emit(ctx, OpKind::Concat { axis: 0 }, &[image, block, channels])?;
    let sizes = match im.shape_value(all) {
        Some(s) => s,
        None => im.sizes_from_data(ctx, all)?,
    };
    let inputs = im.node_inputs(ctx);
    let x = arg(ctx, &inputs, 0)?;
    let dims = |i: std::ops::Range<usize>| -> Result<Vec<Dim>, ImportError> {
        sizes.values[i].iter().map(|e| size_dim(ctx, e)).collect()
    };
    let (image, block, channels) = (dims(0..r)?, dims(r..2 * r)?, dims(2 * r..2 * r + 1)?);
    // Blocks along each dim: (image + pads − dilation·(block − 1) − 1) / stride + 1.
    let per_dim: Vec<SymExpr> = (0..r)
        .map(|d| {
            let span = image[d].expr() + SymExpr::from(pads[d] + pads[d + r] - 1 + dilations[d])
                - block[d].expr() * SymExpr::from(dilations[d]);
            span.floor_div(strides[d]) + SymExpr::from(1)
        })
        .collect();
    let xd = im.dims(x);
    let (n, l) = (xd[0].clone(), xd[2].clone());
    let k = Dim::from_expr(dims_product(&block)).ok_or_else(|| ctx.err("block too large"))?;
    let kl = Dim::from_expr(k.expr() * l.expr()).ok_or_else(|| ctx.err("too large"))?;
    let flat = Dim::from_expr(dims_product(&xd)).ok_or_else(|| ctx.err("too large"))?;
    let x = reshape_dims(im, ctx, x, vec![flat])?;
    let want = [vec![n.clone()], channels.clone(), vec![kl.clone()]].concat();
    let checked = OpKind::CheckShape {
        shape: vec![Dim::from_expr(dims_product(&want)).ok_or_else(|| ctx.err("too large"))?],
    };
    let x = im.emit(ctx, checked, &[x])?;
    let x = reshape_dims(im, ctx, x, want)?;
    // Where each column entry lands: a flat image position, or −1.
    let scalar = |im: &mut Importer, e: SymExpr| size_scalar(im, ctx, e);
    let c = |im: &mut Importer, v: i64| i64_scalar(im, ctx, v);
    let split = |im: &mut Importer, v: ValueId, by: ValueId| div_mod(im, ctx, v, by);
    let entry = im.emit(
        ctx,
        OpKind::Iota {
            shape: vec![kl.clone()],
            axis: 0,
        },
        &[],
    )?;
    let l_len = scalar(im, l.expr());
    let [mut in_block, mut which] = split(im, entry, l_len)?;
    let mut target = c(im, 0);
    let mut valid: Option<ValueId> = None;
    for d in (0..r).rev() {
        let block_len = scalar(im, block[d].expr());
        let [rest_b, kb] = split(im, in_block, block_len)?;
        let blocks = scalar(im, per_dim[d].clone());
        let [rest_l, lb] = split(im, which, blocks)?;
        (in_block, which) = (rest_b, rest_l);
        let (s, p, dil) = (c(im, strides[d]), c(im, pads[d]), c(im, dilations[d]));
        let pos = bin(im, ctx, BinaryOp::Mul, lb, s)?;
        let pos = bin(im, ctx, BinaryOp::Sub, pos, p)?;
        let tap = bin(im, ctx, BinaryOp::Mul, kb, dil)?;
        let pos = bin(im, ctx, BinaryOp::Add, pos, tap)?;
        let len = scalar(im, image[d].expr());
        let zero = c(im, 0);
        let below = bin(im, ctx, BinaryOp::Less, pos, zero)?;
        let inside = bin(im, ctx, BinaryOp::Less, pos, len)?;
        let below_not = im.emit(ctx, OpKind::Unary(kiln_ir::UnaryOp::Not), &[below])?;
        let ok = bin(im, ctx, BinaryOp::And, inside, below_not)?;
        valid = Some(match valid {
            None => ok,
            Some(v) => bin(im, ctx, BinaryOp::And, v, ok)?,
        });
        let stride = scalar(im, dims_product(&image[d + 1..]));
        let term = bin(im, ctx, BinaryOp::Mul, pos, stride)?;
        target = bin(im, ctx, BinaryOp::Add, target, term)?;
    }
    let minus = c(im, -1);
    let valid = valid.expect("at least one spatial dim");
    let target = im.emit(ctx, OpKind::Select, &[valid, target, minus])?;
    let positions = Dim::from_expr(dims_product(&image)).ok_or_else(|| ctx.err("too large"))?;
    let target = reshape_dims(im, ctx, target, vec![kl, Dim::Static(1)])?;
    let p = im.emit(
        ctx,
        OpKind::Iota {
            shape: vec![Dim::Static(1), positions.clone()],
            axis: 1,
        },
        &[],
    )?;
    let lands = bin(im, ctx, BinaryOp::Equal, target, p)?;
    let et = im.ty(x).element_type;
    let lands = cast_to(im, ctx, lands, et)?;
    let y = im.emit(ctx, OpKind::MatMul, &[x, lands])?;
    let out = [vec![n], channels, image].concat();
    Ok(vec![Some(reshape_dims(im, ctx, y, out)?)])
}
