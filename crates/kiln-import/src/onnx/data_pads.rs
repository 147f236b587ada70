//! Pad with pads, value or axes given as data, and CenterCropPad.
//!
//! Each padded (or cropped) dim's output length is computed on the device and read as a size
//! ([`super::data_sizes`]); each output position then reads a source position, `o − low`,
//! mapped into the dim as the mode says (clamped for `edge`, reflected for `reflect`, modulo the
//! dim for `wrap`), through one Gather per dim. Positions outside the dim take the constant
//! value (`constant` mode, CenterCropPad's padding).

use super::data_slices::{axis_entries, pick, Entry, PerAxis};
use super::ops::{
    arg, axis, bin, cast_to, i64_scalar, size_dim, size_scalar, slice_axis, un, Outputs,
};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, OpKind, UnaryOp, ValueId};
use kiln_types::ElementType;

/// Whether a Pad node (opset 11 on) reads its pads, value or axes from data.
pub(super) fn reads_data(im: &Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> bool {
    ctx.opset >= 11
        && (1..=3).any(|i| {
            inputs
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|v| im.const_of(v).is_none())
        })
}

/// Dim `d` of `x` as an i64 scalar value.
fn dim_value(im: &mut Importer, ctx: &NodeCtx, x: ValueId, d: usize) -> ValueId {
    size_scalar(im, ctx, im.dims(x)[d].expr())
}

/// The dims a Pad node pads, each with the entry of its pads it takes, and the pads split
/// into begins and ends.
struct Padded {
    dims: Vec<(usize, Entry)>,
    begins: PerAxis,
    ends: PerAxis,
}

fn padded_dims(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Result<Padded, ImportError> {
    let (x, pads) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let rank = im.ty(x).rank();
    let k = match im.ty(pads).static_shape().as_deref() {
        Some(&[n]) if n % 2 == 0 => n / 2,
        _ => return Err(ctx.err("pads must be a 1-D tensor of an even static length")),
    };
    let axes = inputs.get(3).copied().flatten();
    let dims = axis_entries(im, ctx, axes, k, rank)?;
    let pd = im.dims(pads);
    let half = |im: &mut Importer, i: usize| -> Result<PerAxis, ImportError> {
        Ok(PerAxis {
            values: slice_axis(im, ctx, pads, &pd, 0, i * k, (i + 1) * k)?,
            axes,
            rank,
        })
    };
    Ok(Padded {
        dims,
        begins: half(im, 0)?,
        ends: half(im, 1)?,
    })
}

pub(super) fn pad_from_data(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let mode = ctx.string("mode").unwrap_or_else(|| "constant".into());
    if !matches!(mode.as_str(), "constant" | "edge" | "reflect" | "wrap") {
        return Err(ctx.err(format!(
            "mode '{mode}' is not one of constant, edge, reflect, wrap"
        )));
    }
    let Padded { dims, begins, ends } = padded_dims(im, ctx, inputs)?;
    let x = arg(ctx, inputs, 0)?;
    let zero = i64_scalar(im, ctx, 0);
    let mut lengths = vec![];
    for &(d, entry) in &dims {
        let low = pick(im, ctx, &begins, d, entry, zero)?;
        let high = pick(im, ctx, &ends, d, entry, zero)?;
        let n = dim_value(im, ctx, x, d);
        let len = bin(im, ctx, BinaryOp::Add, n, low)?;
        let len = bin(im, ctx, BinaryOp::Add, len, high)?;
        lengths.push(super::ops::reshape_to(im, ctx, len, vec![1])?);
    }
    let lengths = im.emit(ctx, OpKind::Concat { axis: 0 }, &lengths)?;
    let lengths = im.sizes_from_data(ctx, lengths)?;
    let inputs = im.node_inputs(ctx);
    let Padded { dims, begins, .. } = padded_dims(im, ctx, &inputs)?;
    let mut y = arg(ctx, &inputs, 0)?;
    let fill = match (mode.as_str(), inputs.get(2).copied().flatten()) {
        ("constant", Some(v)) => {
            let v = super::ops::reshape_to(im, ctx, v, vec![])?;
            Some(cast_to(im, ctx, v, im.ty(y).element_type)?)
        }
        ("constant", None) => Some(super::ops::scalar_like(im, ctx, y, 0.0)),
        _ => None,
    };
    let zero = i64_scalar(im, ctx, 0);
    for (&(d, entry), len) in dims.iter().zip(&lengths.values) {
        let low = pick(im, ctx, &begins, d, entry, zero)?;
        let shift = un(im, ctx, UnaryOp::Neg, low)?;
        let how = Outside { mode: &mode, fill };
        y = read_shifted(im, ctx, (y, d), len, shift, &how)?;
    }
    Ok(vec![Some(y)])
}

/// CenterCropPad: each named dim cropped or padded (with zeros) to the size the `shape`
/// input gives, centred (the extra element of an odd difference goes to the end).
pub(super) fn center_crop_pad(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let mut inputs = inputs.to_vec();
    let sizes = im.shape_input(ctx, &mut inputs, 1)?;
    let x = arg(ctx, &inputs, 0)?;
    let rank = im.ty(x).rank();
    let axes: Vec<usize> = match ctx.ints("axes") {
        Some(a) => a
            .iter()
            .map(|&a| axis(ctx, a, rank))
            .collect::<Result<_, _>>()?,
        None => (0..rank).collect(),
    };
    if axes.len() != sizes.values.len() {
        return Err(ctx.err(format!(
            "{} sizes for {} axes",
            sizes.values.len(),
            axes.len()
        )));
    }
    let fill = Some(super::ops::scalar_like(im, ctx, x, 0.0));
    let mut y = x;
    for (&d, size) in axes.iter().zip(&sizes.values) {
        // Source position o + shift: shift = (n − t) / 2 when cropping, −((t − n) / 2) when
        // padding.
        let n = dim_value(im, ctx, y, d);
        let t = size_scalar(im, ctx, size.clone());
        let two = i64_scalar(im, ctx, 2);
        let crop = bin(im, ctx, BinaryOp::Sub, n, t)?;
        let crop = bin(im, ctx, BinaryOp::Div, crop, two)?;
        let grow = bin(im, ctx, BinaryOp::Sub, t, n)?;
        let grow = bin(im, ctx, BinaryOp::Div, grow, two)?;
        let grow = un(im, ctx, UnaryOp::Neg, grow)?;
        let shrinking = bin(im, ctx, BinaryOp::Less, t, n)?;
        let shift = im.emit(ctx, OpKind::Select, &[shrinking, crop, grow])?;
        let how = Outside {
            mode: "constant",
            fill,
        };
        y = read_shifted(im, ctx, (y, d), size, shift, &how)?;
    }
    Ok(vec![Some(y)])
}

/// Axis `a` of `y` padded by `mode` (`edge`, `reflect` or `wrap`) to `len` positions, output
/// position `o` reading source `o + shift`: for an axis whose size is known only at run time.
pub(super) fn pad_axis(
    im: &mut Importer,
    ctx: &NodeCtx,
    (y, a): (ValueId, usize),
    len: &kiln_ir::SymExpr,
    shift: ValueId,
    mode: &str,
) -> Result<ValueId, ImportError> {
    let how = Outside { mode, fill: None };
    read_shifted(im, ctx, (y, a), len, shift, &how)
}

/// How a position outside the dim is read: Pad's `mode`, and the value that fills it where
/// the mode reads none (`constant`).
struct Outside<'a> {
    mode: &'a str,
    fill: Option<ValueId>,
}

/// `y` along dim `d` resized to `len`, output position `o` reading source `o + shift` mapped
/// into the dim as `outside` says.
fn read_shifted(
    im: &mut Importer,
    ctx: &NodeCtx,
    (y, d): (ValueId, usize),
    len: &kiln_ir::SymExpr,
    shift: ValueId,
    outside: &Outside,
) -> Result<ValueId, ImportError> {
    let Outside { mode, fill } = *outside;
    let n = dim_value(im, ctx, y, d);
    let shape = vec![size_dim(ctx, len)?];
    let at = im.emit(ctx, OpKind::Iota { shape, axis: 0 }, &[])?;
    let src = bin(im, ctx, BinaryOp::Add, at, shift)?;
    let (zero, one_) = (i64_scalar(im, ctx, 0), i64_scalar(im, ctx, 1));
    let last = bin(im, ctx, BinaryOp::Sub, n, one_)?;
    let clamped = |im: &mut Importer, p: ValueId| -> Result<ValueId, ImportError> {
        let p = bin(im, ctx, BinaryOp::Max, p, zero)?;
        bin(im, ctx, BinaryOp::Min, p, last)
    };
    let index = match mode {
        "wrap" => euclid_mod(im, ctx, src, n)?,
        "reflect" => {
            let period = bin(im, ctx, BinaryOp::Add, last, last)?;
            let m = euclid_mod(im, ctx, src, period)?;
            let back = bin(im, ctx, BinaryOp::Sub, period, m)?;
            let ahead = bin(im, ctx, BinaryOp::Less, m, n)?;
            let r = im.emit(ctx, OpKind::Select, &[ahead, m, back])?;
            clamped(im, r)?
        }
        _ => clamped(im, src)?,
    };
    let mut out = im.emit(ctx, OpKind::Gather { axis: d }, &[y, index])?;
    if let Some(fill) = fill {
        let rank = im.ty(out).rank();
        let low = bin(im, ctx, BinaryOp::Less, src, zero)?;
        let high = bin(im, ctx, BinaryOp::Greater, src, last)?;
        let outside = bin(im, ctx, BinaryOp::Or, low, high)?;
        let mut shape = vec![kiln_ir::Dim::Static(1); rank];
        shape[d] = size_dim(ctx, len)?;
        let outside = super::ops::reshape_dims(im, ctx, outside, shape)?;
        out = im.emit(ctx, OpKind::Select, &[outside, fill, out])?;
    }
    Ok(out)
}

/// `i mod n` with the sign of `n` (Python's `%`), for i64 values, through f32's floor.
fn euclid_mod(
    im: &mut Importer,
    ctx: &NodeCtx,
    i: ValueId,
    n: ValueId,
) -> Result<ValueId, ImportError> {
    let fi = cast_to(im, ctx, i, ElementType::F32)?;
    let fnn = cast_to(im, ctx, n, ElementType::F32)?;
    let q = bin(im, ctx, BinaryOp::Div, fi, fnn)?;
    let q = un(im, ctx, UnaryOp::Floor, q)?;
    let q = cast_to(im, ctx, q, ElementType::I64)?;
    let whole = bin(im, ctx, BinaryOp::Mul, q, n)?;
    bin(im, ctx, BinaryOp::Sub, i, whole)
}
