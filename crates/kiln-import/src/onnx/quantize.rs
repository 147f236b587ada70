//! Quantisation ops, lowered onto kiln's core ops: QuantizeLinear, DequantizeLinear and
//! DynamicQuantizeLinear (per tensor, per axis and blocked), the integer matmuls MatMulInteger
//! and QLinearMatMul, and ConvInteger.
//!
//! A convolution, MatMul or Gemm of two dequantised 8-bit operands (the QDQ form quantisation
//! tools write) runs as kiln's integer convolution or matmul, `ui8` by `i8` summed in `i32`,
//! rescaled once ([`quantized_conv`], [`quantized_matmul`]).
//!
//! ConvInteger and QLinearConv, MatMulInteger and QLinearMatMul take the same integer products
//! when their operands are of that form (8-bit activations with one constant zero point, i8
//! weights with zero zero points). Otherwise values are computed in f32 as ONNX's reference
//! does; the integer matmuls accumulate their products exactly in 64-bit integer registers (a
//! broadcast multiply reduced over the inner dim) before any scaling, so results match the
//! reference's int32 accumulation for any depth; ConvInteger runs as an f32 convolution of the
//! centred operands, exact while a window's sum of products stays below 2^24 (deeper windows
//! are refused).

use super::ops::{
    arg, axis, bin, cast_to, one, reshape_dims, reshape_to, scalar_like, slice_axis, un, Outputs,
};
use super::{narrow_types, Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Conv2dAttrs, Dim, OpKind, ReduceKind, UnaryOp, ValueId};
use kiln_types::ElementType;

/// The range of a quantised integer type, for saturation.
fn int_range(ctx: &NodeCtx, t: ElementType) -> Result<(f64, f64), ImportError> {
    match t.int_width() {
        Some((bits, true)) if bits <= 32 => {
            let half = (1i64 << (bits - 1)) as f64;
            Ok((-half, half - 1.0))
        }
        Some((bits, false)) if bits <= 32 => Ok((0.0, ((1i64 << bits) - 1) as f64)),
        _ => Err(ctx.err(format!(
            "quantising to {t} is not supported (int8, uint8, int16, uint16, int32 and uint32 are)"
        ))),
    }
}

/// `p` (a scale or zero point) shaped to broadcast against `x` of `dims`: a scalar or
/// one-element tensor as is (the axis is then ignored); a 1-D tensor per axis `raw_axis`
/// (negative counts from the end); with `block > 0`, a tensor of `x`'s rank whose axis dim
/// counts blocks, each value repeated over `block` elements.
fn along_axis(
    im: &mut Importer,
    ctx: &NodeCtx,
    p: ValueId,
    dims: &[Dim],
    raw_axis: i64,
    block: usize,
) -> Result<ValueId, ImportError> {
    let pd = im.dims(p);
    let count: Option<usize> = pd.iter().map(Dim::as_static).product();
    if count == Some(1) && block == 0 {
        return Ok(p);
    }
    let axis = axis(ctx, raw_axis, dims.len())?;
    if block == 0 {
        if pd.len() != 1 {
            return Err(ctx.err(format!(
                "a per-axis scale or zero point must be 1-D, got {}",
                im.ty(p).shape_string()
            )));
        }
        let mut shape = vec![Dim::Static(1); dims.len()];
        shape[axis] = pd[0].clone();
        return reshape_dims(im, ctx, p, shape);
    }
    let (Some(Dim::Static(len)), Some(Dim::Static(blocks))) = (dims.get(axis), pd.get(axis)) else {
        return Err(ctx.err("blocked quantisation needs static sizes along its axis"));
    };
    if pd.len() != dims.len() || *blocks != len.div_ceil(block) {
        return Err(ctx.err(format!(
            "a blocked scale or zero point must have the input's rank and {} blocks of {block} along axis {axis}, got {}",
            len.div_ceil(block),
            im.ty(p).shape_string()
        )));
    }
    let (len, blocks) = (*len, *blocks);
    // [.., blocks, ..] -> [.., blocks, 1, ..] -> [.., blocks, block, ..] -> [.., blocks·block, ..].
    let mut split = pd.clone();
    split.insert(axis + 1, Dim::Static(1));
    let p = reshape_dims(im, ctx, p, split.clone())?;
    split[axis + 1] = Dim::Static(block);
    let p = im.emit(ctx, OpKind::Broadcast { shape: split }, &[p])?;
    let mut whole = pd;
    whole[axis] = Dim::Static(blocks * block);
    let p = reshape_dims(im, ctx, p, whole.clone())?;
    if blocks * block == len {
        return Ok(p);
    }
    slice_axis(im, ctx, p, &whole, axis, 0, len)
}

/// The axis (as written) and block size of a quantisation node.
fn axis_and_block(ctx: &NodeCtx) -> Result<(i64, usize), ImportError> {
    let block = ctx.int("block_size", 0);
    if block < 0 {
        return Err(ctx.err(format!("block_size {block} is negative")));
    }
    Ok((ctx.int("axis", 1), block as usize))
}

fn to_f32(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Result<ValueId, ImportError> {
    cast_to(im, ctx, x, ElementType::F32)
}

/// `saturate(round_half_even(x / scale) + zero_point)` as `to`, every operand f32 and
/// broadcast already; the division at `precision` (f32 when `None`). To a narrow float,
/// `x / scale + zero_point` is converted as Cast converts (nearest-even, saturating unless
/// the node's `saturate` is 0).
fn quantize_f32(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    scale: ValueId,
    zero_point: Option<ValueId>,
    to: ElementType,
    precision: Option<ElementType>,
) -> Result<ValueId, ImportError> {
    let mut t = bin(im, ctx, BinaryOp::Div, x, scale)?;
    if let Some(narrow) = precision.filter(|p| *p != ElementType::F32) {
        // The division at a narrower precision: its f32 quotient rounded to it.
        t = im.emit(ctx, OpKind::Cast(narrow), &[t])?;
        t = to_f32(im, ctx, t)?;
    }
    if to.is_narrow_float() {
        if let Some(zp) = zero_point {
            t = bin(im, ctx, BinaryOp::Add, t, zp)?;
        }
        let rounding = narrow_types::Rounding {
            saturate: ctx.int("saturate", 1) != 0,
            ..Default::default()
        };
        return narrow_types::cast(im, ctx, t, to, rounding);
    }
    let (lo, hi) = int_range(ctx, to)?;
    let mut t = un(im, ctx, UnaryOp::Round, t)?;
    if let Some(zp) = zero_point {
        t = bin(im, ctx, BinaryOp::Add, t, zp)?;
    }
    let (lo, hi) = (scalar_like(im, ctx, t, lo), scalar_like(im, ctx, t, hi));
    let t = bin(im, ctx, BinaryOp::Max, t, lo)?;
    let t = bin(im, ctx, BinaryOp::Min, t, hi)?;
    im.emit(ctx, OpKind::Cast(to), &[t])
}

/// The element type an `output_dtype` attribute names, if set.
fn output_dtype(ctx: &NodeCtx) -> Result<Option<ElementType>, ImportError> {
    match ctx.int("output_dtype", 0) {
        0 => Ok(None),
        code => super::element_type(code as i32)
            .map(Some)
            .map_err(|m| ctx.err(m)),
    }
}

/// QuantizeLinear: `y = saturate(round(x / y_scale) + y_zero_point)`, per tensor, per axis
/// or per block, to the zero point's type (or `output_dtype`, else uint8).
pub(super) fn quantize_linear(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let (a, block) = axis_and_block(ctx)?;
    let zp = inputs.get(2).copied().flatten();
    let to = match zp {
        Some(z) => im.ty(z).element_type,
        None => output_dtype(ctx)?.unwrap_or(ElementType::U8),
    };
    let scale = arg(ctx, inputs, 1)?;
    // The division's precision: the `precision` attribute, else the scale's type.
    let precision = match ctx.int("precision", 0) {
        0 => im.ty(scale).element_type,
        code => super::element_type(code as i32).map_err(|m| ctx.err(m))?,
    };
    if !precision.is_float() {
        return Err(ctx.err(format!("a division in {precision} is not supported")));
    }
    let scale = along_axis(im, ctx, scale, &dims, a, block)?;
    let scale = to_f32(im, ctx, scale)?;
    let zp = match zp {
        Some(z) => {
            let z = along_axis(im, ctx, z, &dims, a, block)?;
            Some(to_f32(im, ctx, z)?)
        }
        None => None,
    };
    let xf = to_f32(im, ctx, x)?;
    one(quantize_f32(im, ctx, xf, scale, zp, to, Some(precision))?)
}

/// DequantizeLinear: `y = (x - x_zero_point) · x_scale` in the scale's type (or
/// `output_dtype`), per tensor, per axis or per block.
pub(super) fn dequantize_linear(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let et = im.ty(x).element_type;
    if et.int_width().is_none() {
        return Err(ctx.err(format!(
            "dequantising {et} is not supported (integer inputs are)"
        )));
    }
    let dims = im.dims(x);
    let (a, block) = axis_and_block(ctx)?;
    let scale = arg(ctx, inputs, 1)?;
    let to = output_dtype(ctx)?.unwrap_or(im.ty(scale).element_type);
    let scale = along_axis(im, ctx, scale, &dims, a, block)?;
    let scale = to_f32(im, ctx, scale)?;
    let mut y = to_f32(im, ctx, x)?;
    if let Some(z) = inputs.get(2).copied().flatten() {
        let z = along_axis(im, ctx, z, &dims, a, block)?;
        let z = to_f32(im, ctx, z)?;
        y = bin(im, ctx, BinaryOp::Sub, y, z)?;
    }
    let y = bin(im, ctx, BinaryOp::Mul, y, scale)?;
    if to == ElementType::F32 {
        let along = axis(ctx, a, dims.len()).ok();
        if let (0, Some(axis), ElementType::I8 | ElementType::U8) = (block, along, et) {
            let dequantized = Dequantized {
                q: x,
                scale: arg(ctx, inputs, 1)?,
                zero_point: inputs.get(2).copied().flatten(),
                axis,
            };
            im.dequantized.insert(y, dequantized);
        }
        return one(y);
    }
    one(im.emit(ctx, OpKind::Cast(to), &[y])?)
}

/// DynamicQuantizeLinear: uint8 quantisation with the scale and zero point that map
/// `[min(0, min x), max(0, max x)]` onto `[0, 255]`; returns `y`, the scale and the zero point.
pub(super) fn dynamic_quantize_linear(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let x = to_f32(im, ctx, arg(ctx, inputs, 0)?)?;
    let rank = im.ty(x).rank();
    let extreme = |im: &mut Importer, kind| {
        im.emit(
            ctx,
            OpKind::Reduce {
                kind,
                axes: (0..rank).collect(),
                keep_dims: false,
            },
            &[x],
        )
    };
    let (lo, hi) = (extreme(im, ReduceKind::Min)?, extreme(im, ReduceKind::Max)?);
    let zero = scalar_like(im, ctx, lo, 0.0);
    let lo = bin(im, ctx, BinaryOp::Min, lo, zero)?;
    let hi = bin(im, ctx, BinaryOp::Max, hi, zero)?;
    let range = bin(im, ctx, BinaryOp::Sub, hi, lo)?;
    let levels = scalar_like(im, ctx, range, 255.0);
    let scale = bin(im, ctx, BinaryOp::Div, range, levels)?;
    // zero point = saturate(round(0 - lo / scale)).
    let below = bin(im, ctx, BinaryOp::Div, lo, scale)?;
    let zp = un(im, ctx, UnaryOp::Neg, below)?;
    let (q0, q255) = (
        scalar_like(im, ctx, zp, 0.0),
        scalar_like(im, ctx, zp, 255.0),
    );
    let zp = bin(im, ctx, BinaryOp::Max, zp, q0)?;
    let zp = bin(im, ctx, BinaryOp::Min, zp, q255)?;
    let zp = un(im, ctx, UnaryOp::Round, zp)?;
    let y = quantize_f32(im, ctx, x, scale, Some(zp), ElementType::U8, None)?;
    let zp_u8 = im.emit(ctx, OpKind::Cast(ElementType::U8), &[zp])?;
    Ok(vec![Some(y), Some(scale), Some(zp_u8)])
}

/// `(a - a_zero_point) · (b - b_zero_point)` accumulated exactly, for matrices (or stacks of
/// them) `a` and `b`; a 1-D zero point is per row of `a` or per column of `b`. An integer
/// matmul (i32) when the operands are of its form ([`integer_product`]), else in i64.
fn integer_matmul(
    im: &mut Importer,
    ctx: &NodeCtx,
    a: ValueId,
    a_zp: Option<ValueId>,
    b: ValueId,
    b_zp: Option<ValueId>,
) -> Result<ValueId, ImportError> {
    let (ad, bd) = (im.dims(a), im.dims(b));
    if ad.len() < 2 || bd.len() < 2 {
        return Err(ctx.err("integer matmuls need operands of rank 2 or more"));
    }
    if bd.len() == 2 {
        let (aq, bq) = (
            Quantized {
                q: a,
                zero_point: a_zp,
            },
            Quantized {
                q: b,
                zero_point: b_zp,
            },
        );
        if let Some(p) = integer_product(im, ctx, aq, bq, 1)? {
            return p.matmul(im, ctx, false);
        }
    }
    let widen = |im: &mut Importer, v: ValueId| im.emit(ctx, OpKind::Cast(ElementType::I64), &[v]);
    let centred = |im: &mut Importer,
                   v: ValueId,
                   zp: Option<ValueId>,
                   dims: &[Dim],
                   axis: usize|
     -> Result<ValueId, ImportError> {
        let v = widen(im, v)?;
        let Some(z) = zp else { return Ok(v) };
        let z = along_axis(im, ctx, z, dims, axis as i64, 0)?;
        let z = widen(im, z)?;
        bin(im, ctx, BinaryOp::Sub, v, z)
    };
    let a = centred(im, a, a_zp, &ad, ad.len() - 2)?;
    let b = centred(im, b, b_zp, &bd, bd.len() - 1)?;
    // a [.., m, k, 1] · b [.., 1, k, n], summed over k.
    let mut a_shape = ad.clone();
    a_shape.push(Dim::Static(1));
    let mut b_shape = bd.clone();
    b_shape.insert(bd.len() - 2, Dim::Static(1));
    let a = reshape_dims(im, ctx, a, a_shape)?;
    let b = reshape_dims(im, ctx, b, b_shape)?;
    let products = bin(im, ctx, BinaryOp::Mul, a, b)?;
    let rank = im.ty(products).rank();
    im.emit(
        ctx,
        OpKind::Reduce {
            kind: ReduceKind::Sum,
            axes: vec![rank - 2],
            keep_dims: false,
        },
        &[products],
    )
}

/// MatMulInteger: `(a - a_zero_point) · (b - b_zero_point)` as int32.
pub(super) fn matmul_integer(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let opt = |i: usize| inputs.get(i).copied().flatten();
    let (a, b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let y = integer_matmul(im, ctx, a, opt(2), b, opt(3))?;
    one(im.emit(ctx, OpKind::Cast(ElementType::I32), &[y])?)
}

/// QLinearMatMul: the integer matmul of the two quantised operands, rescaled by
/// `a_scale · b_scale / y_scale` and quantised to `y_zero_point`'s type.
pub(super) fn qlinear_matmul(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let input = |i: usize| arg(ctx, inputs, i);
    let (a, b) = (input(0)?, input(3)?);
    let (ad, bd) = (im.dims(a), im.dims(b));
    let acc = integer_matmul(im, ctx, a, Some(input(2)?), b, Some(input(5)?))?;
    let acc = to_f32(im, ctx, acc)?;
    let a_scale = along_axis(im, ctx, input(1)?, &ad, ad.len() as i64 - 2, 0)?;
    let b_scale = along_axis(im, ctx, input(4)?, &bd, bd.len() as i64 - 1, 0)?;
    let (a_scale, b_scale, y_scale) = (
        to_f32(im, ctx, a_scale)?,
        to_f32(im, ctx, b_scale)?,
        to_f32(im, ctx, input(6)?)?,
    );
    let multiplier = bin(im, ctx, BinaryOp::Mul, a_scale, b_scale)?;
    let multiplier = bin(im, ctx, BinaryOp::Div, multiplier, y_scale)?;
    let y = bin(im, ctx, BinaryOp::Mul, acc, multiplier)?;
    let y_zp = input(7)?;
    let to = im.ty(y_zp).element_type;
    let zp = to_f32(im, ctx, y_zp)?;
    let one_ = scalar_like(im, ctx, y, 1.0);
    one(quantize_f32(im, ctx, y, one_, Some(zp), to, None)?)
}

/// ConvInteger: the int32 convolution of `x - x_zero_point` with `w - w_zero_point` (per
/// tensor, or per output channel for the weights), with Conv's attributes.
pub(super) fn conv_integer(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let zero_points = [
        inputs.get(2).copied().flatten(),
        inputs.get(3).copied().flatten(),
    ];
    let y = centred_conv(im, ctx, [x, w], zero_points)?;
    one(im.emit(ctx, OpKind::Cast(ElementType::I32), &[y])?)
}

/// QLinearConv: `saturate(round((conv(x − x_zero, w − w_zero) + B) · x_scale · w_scale /
/// y_scale) + y_zero)` in y's type, the convolution of the centred integers exact in f32 as
/// ConvInteger's, `w`'s scale and zero point per tensor or per output channel.
pub(super) fn qlinear_conv(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 3)?);
    let zero_points = [Some(arg(ctx, inputs, 2)?), Some(arg(ctx, inputs, 5)?)];
    let acc = centred_conv(im, ctx, [x, w], zero_points)?;
    let mut acc = to_f32(im, ctx, acc)?;
    let channels = im.shape(ctx, w)?[0];
    let rank = im.ty(acc).rank();
    // A per-channel value broadcast over `[N, M, ...]`.
    let per_channel = |im: &mut Importer, v: ValueId| -> Result<ValueId, ImportError> {
        let v = to_f32(im, ctx, v)?;
        let count: Option<usize> = im.dims(v).iter().map(Dim::as_static).product();
        if count == Some(1) {
            return reshape_to(im, ctx, v, vec![]);
        }
        let mut shape = vec![1; rank];
        shape[1] = channels;
        reshape_to(im, ctx, v, shape)
    };
    if let Some(b) = inputs.get(8).copied().flatten() {
        let b = per_channel(im, b)?;
        acc = bin(im, ctx, BinaryOp::Add, acc, b)?;
    }
    let xs = per_channel(im, arg(ctx, inputs, 1)?)?;
    let ws = per_channel(im, arg(ctx, inputs, 4)?)?;
    let ys = per_channel(im, arg(ctx, inputs, 6)?)?;
    let scale = bin(im, ctx, BinaryOp::Mul, xs, ws)?;
    let scale = bin(im, ctx, BinaryOp::Div, scale, ys)?;
    let y = bin(im, ctx, BinaryOp::Mul, acc, scale)?;
    let zero = arg(ctx, inputs, 7)?;
    let to = im.ty(zero).element_type;
    let one_ = scalar_like(im, ctx, y, 1.0);
    let zero = per_channel(im, zero)?;
    one(quantize_f32(im, ctx, y, one_, Some(zero), to, None)?)
}

/// The convolution of `x` and `w` less their zero points (`w`'s per tensor or per output
/// channel): kiln's integer convolution (exact, i32) when the operands are of its form, else
/// in f32, exact while each output's sum of products of 8-bit values fits f32's integers —
/// deeper ungrouped convolutions are summed in i32 from convolutions of channel slices that
/// each fit.
fn centred_conv(
    im: &mut Importer,
    ctx: &NodeCtx,
    [x, w]: [ValueId; 2],
    zero_points: [Option<ValueId>; 2],
) -> Result<ValueId, ImportError> {
    if let Some(y) = integer_centred_conv(im, ctx, [x, w], zero_points)? {
        return Ok(y);
    }
    let ws = im.shape(ctx, w)?;
    // Each output sums depth products of two 8-bit values (at most 255² each): exact in f32
    // while the sum stays within f32's 24-bit integers.
    let depth: usize = ws.iter().skip(1).product();
    let widest = [x, w]
        .iter()
        .map(|&v| im.ty(v).element_type.int_width().map_or(64, |(b, _)| b))
        .max()
        .unwrap_or(64);
    // Most products an f32 sum of 8-bit products holds exactly.
    const EXACT: u64 = (1 << 24) / (255 * 255);
    let window: usize = ws.iter().skip(2).product();
    let slices = (depth as u64).div_ceil(EXACT) as usize;
    if widest > 8 || (slices > 1 && (ctx.int("group", 1) != 1 || window as u64 > EXACT)) {
        return Err(ctx.err(format!(
            "{} over {widest}-bit operands with {depth} products per output is not supported (its f32 accumulation would not be exact)", ctx.op_type
        )));
    }
    let centred = |im: &mut Importer, v: ValueId, zp: Option<ValueId>, per_channel: bool| {
        let v = to_f32(im, ctx, v)?;
        let Some(z) = zp else { return Ok(v) };
        let mut z = to_f32(im, ctx, z)?;
        let count: Option<usize> = im.dims(z).iter().map(Dim::as_static).product();
        if per_channel && count != Some(1) {
            let mut shape = vec![1; ws.len()];
            shape[0] = ws[0];
            z = reshape_to(im, ctx, z, shape)?;
        }
        bin(im, ctx, BinaryOp::Sub, v, z)
    };
    let xf = centred(im, x, zero_points[0], false)?;
    let wf = centred(im, w, zero_points[1], true)?;
    let conv = |im: &mut Importer, xf: ValueId, wf: ValueId| -> Result<ValueId, ImportError> {
        let y = super::ops::conv(im, ctx, &[Some(xf), Some(wf)])?;
        y.into_iter()
            .next()
            .flatten()
            .ok_or_else(|| ctx.err("the convolution has no output"))
    };
    if slices == 1 {
        return conv(im, xf, wf);
    }
    let channels = ws[1];
    let per_slice = (EXACT as usize / window).max(1);
    let mut sum: Option<ValueId> = None;
    for start in (0..channels).step_by(per_slice) {
        let end = (start + per_slice).min(channels);
        let (xd, wd) = (im.dims(xf), im.dims(wf));
        let xs = super::ops::slice_axis(im, ctx, xf, &xd, 1, start, end)?;
        let wsl = super::ops::slice_axis(im, ctx, wf, &wd, 1, start, end)?;
        let part = conv(im, xs, wsl)?;
        let part = im.emit(ctx, OpKind::Cast(ElementType::I32), &[part])?;
        sum = Some(match sum {
            Some(s) => bin(im, ctx, BinaryOp::Add, s, part)?,
            None => part,
        });
    }
    sum.ok_or_else(|| ctx.err("the convolution has no input channels"))
}

/// A DequantizeLinear output `(q - zero_point) · scale` of 8-bit integers `q` to f32, per
/// tensor or along `axis`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Dequantized {
    q: ValueId,
    scale: ValueId,
    zero_point: Option<ValueId>,
    axis: usize,
}

/// Largest depth of an integer product: its sums of `ui8 · i8` products stay in `i32`.
const MAX_INTEGER_DEPTH: usize = (i32::MAX / (255 * 128)) as usize;

/// Integers of an integer product's operand with their zero point (none: 0).
#[derive(Clone, Copy)]
struct Quantized {
    q: ValueId,
    zero_point: Option<ValueId>,
}

/// A product (convolution or matmul) of 8-bit activations by 8-bit weights, less their zero
/// points, that kiln computes on the integers: the activations as `ui8` pixels with zero
/// point `zero` (int8 shifted by 128), the weights `i8` with zero zero points.
struct IntegerProduct {
    pixels: ValueId,
    zero: f64,
    weights: ValueId,
    channels: usize,
}

/// `x` and `w` as an [`IntegerProduct`] whose output channels lie along `w`'s axis
/// `channel_axis`, if they are of that form: `x` 8-bit with one constant zero point, `w`
/// `i8` of static shape with zero zero points, and a depth whose sums stay in `i32`.
fn integer_product(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: Quantized,
    w: Quantized,
    channel_axis: usize,
) -> Result<Option<IntegerProduct>, ImportError> {
    let Some(ws) = im.ty(w.q).static_shape() else {
        return Ok(None);
    };
    let Some(&channels) = ws.get(channel_axis) else {
        return Ok(None);
    };
    let depth = ws.iter().product::<usize>() / channels.max(1);
    let w_symmetric = w.zero_point.is_none_or(|z| {
        im.const_of(z)
            .is_some_and(|t| t.to_f64().iter().all(|&v| v == 0.0))
    });
    let x_type = im.ty(x.q).element_type;
    let x_zero = match x.zero_point {
        None => Some(0.0),
        Some(z) => im.const_of(z).and_then(|t| match t.to_f64()[..] {
            [v] => Some(v),
            _ => None,
        }),
    };
    let (Some(x_zero), true, ElementType::I8, ElementType::U8 | ElementType::I8, true) = (
        x_zero,
        w_symmetric,
        im.ty(w.q).element_type,
        x_type,
        depth <= MAX_INTEGER_DEPTH,
    ) else {
        return Ok(None);
    };
    let (pixels, zero) = if x_type == ElementType::I8 {
        // One shifted copy, however many products read the pixels.
        let pixels = match im.shifted_pixels.get(&x.q) {
            Some(&p) => p,
            None => {
                let wide = im.emit(ctx, OpKind::Cast(ElementType::I32), &[x.q])?;
                let shift = scalar_like(im, ctx, wide, 128.0);
                let shifted = bin(im, ctx, BinaryOp::Add, wide, shift)?;
                let p = im.emit(ctx, OpKind::Cast(ElementType::U8), &[shifted])?;
                im.shifted_pixels.insert(x.q, p);
                p
            }
        };
        (pixels, x_zero + 128.0)
    } else {
        (x.q, x_zero)
    };
    Ok(Some(IntegerProduct {
        pixels,
        zero,
        weights: w.q,
        channels,
    }))
}

impl IntegerProduct {
    /// The exact `i32` product of the centred operands from `acc`, the product of the pixels
    /// by `weights` (the weights' integers as the op reads them): less `zero · Σw` summed
    /// over `weights`' axes `depth_axes`, per channel shaped `channel_shape`.
    fn centred(
        &self,
        im: &mut Importer,
        ctx: &NodeCtx,
        acc: ValueId,
        weights: ValueId,
        depth_axes: Vec<usize>,
        channel_shape: Vec<usize>,
    ) -> Result<ValueId, ImportError> {
        if self.zero == 0.0 {
            return Ok(acc);
        }
        let wide = im.emit(ctx, OpKind::Cast(ElementType::I32), &[weights])?;
        let sums = im.emit(
            ctx,
            OpKind::Reduce {
                kind: ReduceKind::Sum,
                axes: depth_axes,
                keep_dims: false,
            },
            &[wide],
        )?;
        let sums = reshape_to(im, ctx, sums, channel_shape)?;
        let zero = scalar_like(im, ctx, sums, self.zero);
        let correction = bin(im, ctx, BinaryOp::Mul, sums, zero)?;
        bin(im, ctx, BinaryOp::Sub, acc, correction)
    }

    /// The exact `i32` convolution of the centred operands with `attrs` (2-D): padding reads
    /// the zero point (an explicit `pad` when it is not 0).
    fn conv(
        &self,
        im: &mut Importer,
        ctx: &NodeCtx,
        attrs: &Conv2dAttrs,
    ) -> Result<ValueId, ImportError> {
        let (mut pixels, mut attrs) = (self.pixels, attrs.clone());
        if self.zero != 0.0 && attrs.pads.iter().any(|&v| v > 0) {
            let [top, left, bottom, right] = attrs.pads;
            let pad = OpKind::Pad {
                lows: vec![0, 0, top, left],
                highs: vec![0, 0, bottom, right],
                value: self.zero,
            };
            pixels = im.emit(ctx, pad, &[pixels])?;
            attrs.pads = [0; 4];
        }
        let acc = im.emit(ctx, OpKind::Conv2d(attrs), &[pixels, self.weights])?;
        let channel_shape = vec![1, self.channels, 1, 1];
        self.centred(im, ctx, acc, self.weights, vec![1, 2, 3], channel_shape)
    }

    /// The exact `i32` matmul of the centred operands, the weights `[K, N]` (transposed
    /// first with `transpose`).
    fn matmul(
        &self,
        im: &mut Importer,
        ctx: &NodeCtx,
        transpose: bool,
    ) -> Result<ValueId, ImportError> {
        let mut weights = self.weights;
        if transpose {
            weights = im.emit(ctx, OpKind::Transpose { perm: vec![1, 0] }, &[weights])?;
        }
        let acc = im.emit(ctx, OpKind::MatMul, &[self.pixels, weights])?;
        self.centred(im, ctx, acc, weights, vec![0], vec![self.channels])
    }
}

/// `centred · x_scale · w_scale` in f32, `x`'s scale per tensor and `w`'s reshaped to
/// `w_scale_shape` (`[]` per tensor, else per channel as the product's result broadcasts).
fn rescaled(
    im: &mut Importer,
    ctx: &NodeCtx,
    centred: ValueId,
    [dx, dw]: [Dequantized; 2],
    w_scale_shape: Vec<usize>,
) -> Result<ValueId, ImportError> {
    let acc = to_f32(im, ctx, centred)?;
    let x_scale = to_f32(im, ctx, dx.scale)?;
    let x_scale = reshape_to(im, ctx, x_scale, vec![])?;
    let w_scale = to_f32(im, ctx, dw.scale)?;
    let w_scale = reshape_to(im, ctx, w_scale, w_scale_shape)?;
    let scale = bin(im, ctx, BinaryOp::Mul, w_scale, x_scale)?;
    bin(im, ctx, BinaryOp::Mul, acc, scale)
}

/// Whether `dx`'s scale is per tensor and `dw`'s per tensor (`Some(true)`) or along
/// `channel_axis` (`Some(false)`); `None` otherwise.
fn scales_fit(im: &Importer, [dx, dw]: [Dequantized; 2], channel_axis: usize) -> Option<bool> {
    let count = |v: ValueId| -> Option<usize> { im.dims(v).iter().map(Dim::as_static).product() };
    let channels = im.ty(dw.q).static_shape()?.get(channel_axis).copied();
    if count(dx.scale) != Some(1) {
        return None;
    }
    if count(dw.scale) == Some(1) {
        return Some(true);
    }
    (dw.axis == channel_axis && im.ty(dw.scale).rank() == 1 && count(dw.scale) == channels)
        .then_some(false)
}

impl Dequantized {
    fn quantized(self) -> Quantized {
        Quantized {
            q: self.q,
            zero_point: self.zero_point,
        }
    }
}

/// `conv(x, w)` with `attrs` (2-D, NCHW) when both operands are dequantised 8-bit integers
/// as QDQ models write them — `x` per tensor with a constant zero point, `w` constant `i8`
/// weights with zero zero points per tensor or per output channel — as the integer
/// convolution of the quantised values, rescaled by `x_scale · w_scale`. `None` (convolve the
/// floats) for any other operands.
///
/// `int8` pixels shift to `ui8` (`q + 128`, zero point `zp + 128`); padding reads the zero
/// point (an explicit `pad`), and `conv(q - zp, w) = conv(q, w) - zp · Σw` per output channel.
pub(super) fn quantized_conv(
    im: &mut Importer,
    ctx: &NodeCtx,
    [x, w]: [ValueId; 2],
    attrs: &Conv2dAttrs,
) -> Result<Option<ValueId>, ImportError> {
    let (Some(dx), Some(dw)) = (
        im.dequantized.get(&x).copied(),
        im.dequantized.get(&w).copied(),
    ) else {
        return Ok(None);
    };
    let Some(per_tensor) = scales_fit(im, [dx, dw], 0) else {
        return Ok(None);
    };
    let Some(p) = integer_product(im, ctx, dx.quantized(), dw.quantized(), 0)? else {
        return Ok(None);
    };
    let centred = p.conv(im, ctx, attrs)?;
    let w_scale_shape = if per_tensor {
        vec![]
    } else {
        vec![1, p.channels, 1, 1]
    };
    rescaled(im, ctx, centred, [dx, dw], w_scale_shape).map(Some)
}

/// `a · b` (`b` 2-D, transposed first with `transpose_b`) when both are dequantised as
/// [`quantized_conv`] needs, output channels being `b`'s columns: the integer matmul of the
/// quantised values, less `zp · Σ_k b[k, n]`, rescaled. `None` for any other operands.
pub(super) fn quantized_matmul(
    im: &mut Importer,
    ctx: &NodeCtx,
    [a, b]: [ValueId; 2],
    transpose_b: bool,
) -> Result<Option<ValueId>, ImportError> {
    let (Some(da), Some(db)) = (
        im.dequantized.get(&a).copied(),
        im.dequantized.get(&b).copied(),
    ) else {
        return Ok(None);
    };
    if im.ty(a).rank() < 2 || im.ty(b).rank() != 2 {
        return Ok(None);
    }
    let channel_axis = if transpose_b { 0 } else { 1 };
    let Some(per_tensor) = scales_fit(im, [da, db], channel_axis) else {
        return Ok(None);
    };
    let Some(p) = integer_product(im, ctx, da.quantized(), db.quantized(), channel_axis)? else {
        return Ok(None);
    };
    let centred = p.matmul(im, ctx, transpose_b)?;
    let w_scale_shape = if per_tensor { vec![] } else { vec![p.channels] };
    rescaled(im, ctx, centred, [da, db], w_scale_shape).map(Some)
}

/// The exact `i32` convolution of `x - x_zero_point` by `w - w_zero_point` with the node's
/// window, as an integer convolution, when the operands are of its form
/// ([`integer_product`]).
fn integer_centred_conv(
    im: &mut Importer,
    ctx: &NodeCtx,
    [x, w]: [ValueId; 2],
    zero_points: [Option<ValueId>; 2],
) -> Result<Option<ValueId>, ImportError> {
    let window = super::ops::conv_window(im, ctx, x, w)?;
    let (xq, wq) = (
        Quantized {
            q: window.x,
            zero_point: zero_points[0],
        },
        Quantized {
            q: window.w,
            zero_point: zero_points[1],
        },
    );
    let Some(p) = integer_product(im, ctx, xq, wq, 0)? else {
        return Ok(None);
    };
    let y = p.conv(im, ctx, &window.attrs)?;
    super::ops::from_2d(im, ctx, y, window.rank).map(Some)
}
