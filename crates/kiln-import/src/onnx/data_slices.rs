//! Slice with starts, ends, axes or steps given as data.
//!
//! Each sliced dim's start, step and length are computed on the device from the data, with
//! ONNX's rules (negative positions count from the end, then clamp to the dim; a negative
//! step walks back from the start), the lengths are read as sizes
//! ([`super::data_sizes`]), and each dim becomes a Gather of `start + step · position`. Axes
//! given as data are matched against every dim on the device, so no dim's fate is needed when
//! compiling: a dim no axis names takes its whole length.

use super::ops::{
    arg, axis, bin, cast_to, i64_scalar, reshape_to, size_dim, size_scalar, slice_axis, Outputs,
};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, OpKind, ReduceKind, UnaryOp, ValueId};
use kiln_types::ElementType;

/// Which entry of per-axis values (starts, ends, steps, pads) applies to a dim.
#[derive(Clone, Copy)]
pub(super) enum Entry {
    /// Entry `j` (axes known when compiling).
    At(usize),
    /// The entry whose axis (data) names the dim, if any.
    Matching,
}

/// Whether a Slice node (opset 10 on) reads positions from data rather than constants.
pub(super) fn reads_data(im: &Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> bool {
    ctx.opset >= 10
        && (1..=4).any(|i| {
            inputs.get(i).copied().flatten().is_some_and(|v| {
                im.const_of(v).is_none() && (i != 2 || im.shape_value(v).is_none())
            })
        })
}

pub(super) fn slice_from_data(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let rank = im.ty(arg(ctx, inputs, 0)?).rank();
    let k = match im.ty(arg(ctx, inputs, 1)?).static_shape().as_deref() {
        Some(&[k]) => k,
        _ => return Err(ctx.err("starts must be a 1-D tensor of a static length")),
    };
    let dims = axis_entries(im, ctx, inputs.get(3).copied().flatten(), k, rank)?;
    let mut lengths = vec![];
    for &(d, entry) in &dims {
        let (_, _, n) = positions(im, ctx, inputs, d, entry)?;
        lengths.push(reshape_to(im, ctx, n, vec![1])?);
    }
    let lengths = im.emit(ctx, OpKind::Concat { axis: 0 }, &lengths)?;
    let lengths = im.sizes_from_data(ctx, lengths)?;
    let inputs = im.node_inputs(ctx);
    let mut y = arg(ctx, &inputs, 0)?;
    for (&(d, entry), len) in dims.iter().zip(&lengths.values) {
        let (start, step, _) = positions(im, ctx, &inputs, d, entry)?;
        let shape = vec![size_dim(ctx, len)?];
        let at = im.emit(ctx, OpKind::Iota { shape, axis: 0 }, &[])?;
        let at = bin(im, ctx, BinaryOp::Mul, at, step)?;
        let index = bin(im, ctx, BinaryOp::Add, at, start)?;
        y = im.emit(ctx, OpKind::Gather { axis: d }, &[y, index])?;
    }
    Ok(vec![Some(y)])
}

/// The dims `k` per-axis values apply to, each with the entry it takes: the first `k` dims
/// without `axes`, the axes' dims when they are constants, every dim of the rank-`rank`
/// tensor (matched on the device) when they are data.
pub(super) fn axis_entries(
    im: &Importer,
    ctx: &NodeCtx,
    axes: Option<ValueId>,
    k: usize,
    rank: usize,
) -> Result<Vec<(usize, Entry)>, ImportError> {
    Ok(match axes {
        None => (0..k).map(|j| (j, Entry::At(j))).collect(),
        Some(v) => match im.const_of(v) {
            Some(t) => t
                .to_i64()
                .iter()
                .enumerate()
                .map(|(j, &a)| Ok((axis(ctx, a, rank)?, Entry::At(j))))
                .collect::<Result<_, ImportError>>()?,
            None => (0..rank).map(|d| (d, Entry::Matching)).collect(),
        },
    })
}

/// Dim `d`'s clamped start, its step and its length, as i64 scalars computed on the device.
fn positions(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    d: usize,
    entry: Entry,
) -> Result<(ValueId, ValueId, ValueId), ImportError> {
    let c = |im: &mut Importer, v: i64| i64_scalar(im, ctx, v);
    let x = arg(ctx, inputs, 0)?;
    let dim = size_scalar(im, ctx, im.dims(x)[d].expr());
    let (zero, one_) = (c(im, 0), c(im, 1));
    let ends_default = dim;
    let rank = im.ty(x).rank();
    let per_axis = |i: usize| -> Result<PerAxis, ImportError> {
        Ok(PerAxis {
            values: arg(ctx, inputs, i)?,
            axes: inputs.get(3).copied().flatten(),
            rank,
        })
    };
    let (starts, ends) = (per_axis(1)?, per_axis(2)?);
    let start = pick(im, ctx, &starts, d, entry, zero)?;
    let end = pick(im, ctx, &ends, d, entry, ends_default)?;
    let step = match inputs.get(4).copied().flatten() {
        Some(_) => pick(im, ctx, &per_axis(4)?, d, entry, one_)?,
        None => one_,
    };
    let forward = bin(im, ctx, BinaryOp::Greater, step, zero)?;
    // Negative positions count from the end.
    let from_end = |im: &mut Importer, p: ValueId| -> Result<ValueId, ImportError> {
        let negative = bin(im, ctx, BinaryOp::Less, p, zero)?;
        let moved = bin(im, ctx, BinaryOp::Add, p, dim)?;
        im.emit(ctx, OpKind::Select, &[negative, moved, p])
    };
    let clamp = |im: &mut Importer, p: ValueId, lo: ValueId, hi: ValueId| {
        let p = bin(im, ctx, BinaryOp::Max, p, lo)?;
        bin(im, ctx, BinaryOp::Min, p, hi)
    };
    let (start, end) = (from_end(im, start)?, from_end(im, end)?);
    let minus_one = c(im, -1);
    let last = bin(im, ctx, BinaryOp::Add, dim, minus_one)?;
    // Forward: both in [0, dim]; backward: the start in [0, dim − 1], the end in [−1, dim − 1].
    let start_f = clamp(im, start, zero, dim)?;
    let start_b = clamp(im, start, zero, last)?;
    let start = im.emit(ctx, OpKind::Select, &[forward, start_f, start_b])?;
    let end_f = clamp(im, end, zero, dim)?;
    let end_b = clamp(im, end, minus_one, last)?;
    let end = im.emit(ctx, OpKind::Select, &[forward, end_f, end_b])?;
    let ahead = bin(im, ctx, BinaryOp::Sub, end, start)?;
    let behind = bin(im, ctx, BinaryOp::Sub, start, end)?;
    let distance = im.emit(ctx, OpKind::Select, &[forward, ahead, behind])?;
    let distance = bin(im, ctx, BinaryOp::Max, distance, zero)?;
    let stride = im.emit(ctx, OpKind::Unary(UnaryOp::Abs), &[step])?;
    let stride = bin(im, ctx, BinaryOp::Max, stride, one_)?;
    // ⌈distance / stride⌉.
    let n = bin(im, ctx, BinaryOp::Add, distance, stride)?;
    let n = bin(im, ctx, BinaryOp::Sub, n, one_)?;
    let n = bin(im, ctx, BinaryOp::Div, n, stride)?;
    Ok((start, step, n))
}

/// Values given per axis (starts, ends, steps, pads: 1-D), the axes they apply to, and the
/// rank of the tensor those axes are of.
pub(super) struct PerAxis {
    pub values: ValueId,
    pub axes: Option<ValueId>,
    pub rank: usize,
}

/// The entry of `of` for dim `d`, as an i64 scalar; `default` where the axes (data, with
/// [`Entry::Matching`]) name no such dim.
pub(super) fn pick(
    im: &mut Importer,
    ctx: &NodeCtx,
    of: &PerAxis,
    d: usize,
    entry: Entry,
    default: ValueId,
) -> Result<ValueId, ImportError> {
    let (axes, rank) = (of.axes, of.rank);
    let v = cast_to(im, ctx, of.values, ElementType::I64)?;
    let dims = im.dims(v);
    match entry {
        Entry::At(j) => {
            let e = slice_axis(im, ctx, v, &dims, 0, j, j + 1)?;
            reshape_to(im, ctx, e, vec![])
        }
        Entry::Matching => {
            let axes = axes.ok_or_else(|| ctx.err("axes are required"))?;
            let axes = cast_to(im, ctx, axes, ElementType::I64)?;
            let rank = rank as i64;
            let c = |im: &mut Importer, v: i64| i64_scalar(im, ctx, v);
            let (zero, r, want) = (c(im, 0), c(im, rank), c(im, d as i64));
            let negative = bin(im, ctx, BinaryOp::Less, axes, zero)?;
            let moved = bin(im, ctx, BinaryOp::Add, axes, r)?;
            let axes = im.emit(ctx, OpKind::Select, &[negative, moved, axes])?;
            let hit = bin(im, ctx, BinaryOp::Equal, axes, want)?;
            let picked = im.emit(ctx, OpKind::Select, &[hit, v, zero])?;
            let sum = |im: &mut Importer, t: ValueId| {
                let kind = OpKind::Reduce {
                    kind: ReduceKind::Sum,
                    axes: vec![0],
                    keep_dims: false,
                };
                im.emit(ctx, kind, &[t])
            };
            let value = sum(im, picked)?;
            let hits = cast_to(im, ctx, hit, ElementType::I64)?;
            let hits = sum(im, hits)?;
            let named = bin(im, ctx, BinaryOp::Greater, hits, zero)?;
            im.emit(ctx, OpKind::Select, &[named, value, default])
        }
    }
}
