//! Ops whose output length counts the data: Compress and NonZero.
//!
//! The number of true (non-zero) elements is summed on the device and read as a size
//! ([`super::data_sizes`]); the `j`-th true element's position is then the number of elements
//! whose running count of trues is at most `j` (a `[count, m]` comparison reduced on the
//! device), and the result gathers those positions. Work grows with count × length, which
//! suits the masks of post-processing; the mask's length must be known when compiling.

use super::ops::{arg, axis, bin, cast_to, reshape_dims, reshape_to, size_dim, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, ReduceKind, UnaryOp, ValueId};
use kiln_types::{ElementType, HostTensor};

fn sum(im: &mut Importer, ctx: &NodeCtx, x: ValueId, axis: usize) -> Result<ValueId, ImportError> {
    let kind = OpKind::Reduce {
        kind: ReduceKind::Sum,
        axes: vec![axis],
        keep_dims: false,
    };
    im.emit(ctx, kind, &[x])
}

fn iota(
    im: &mut Importer,
    ctx: &NodeCtx,
    shape: Vec<Dim>,
    axis: usize,
) -> Result<ValueId, ImportError> {
    im.emit(ctx, OpKind::Iota { shape, axis }, &[])
}

/// The length of a 1-D mask known when compiling.
fn mask_len(im: &Importer, ctx: &NodeCtx, mask: ValueId) -> Result<usize, ImportError> {
    match im.ty(mask).static_shape().as_deref() {
        Some(&[m]) => Ok(m),
        _ => Err(ctx.err(format!(
            "the mask must be 1-D with a length known when compiling, got {}",
            im.ty(mask)
        ))),
    }
}

/// How many of the 1-D boolean `mask`'s elements are true, read as a size of a new segment.
fn count_read(im: &mut Importer, ctx: &NodeCtx, mask: ValueId) -> Result<Dim, ImportError> {
    let ones = cast_to(im, ctx, mask, ElementType::I64)?;
    let n = sum(im, ctx, ones, 0)?;
    let n = im.sizes_from_data(ctx, n)?;
    size_dim(ctx, &n.values[0])
}

/// The positions of the `count` true elements of the 1-D boolean `mask`, in order (i64).
fn true_positions(
    im: &mut Importer,
    ctx: &NodeCtx,
    mask: ValueId,
    count: Dim,
) -> Result<ValueId, ImportError> {
    let m = Dim::Static(mask_len(im, ctx, mask)?);
    let ones = cast_to(im, ctx, mask, ElementType::I64)?;
    let column = reshape_dims(im, ctx, ones, vec![m.clone(), Dim::Static(1)])?;
    // running[i] = Σ_{k ≤ i} mask[k]
    let k = iota(im, ctx, vec![m.clone(), m.clone()], 0)?;
    let i = iota(im, ctx, vec![m.clone(), m.clone()], 1)?;
    let after = bin(im, ctx, BinaryOp::Greater, k, i)?;
    let zero = im.constant(HostTensor::from_i64(&[], &[0]), &ctx.name);
    let counted = im.emit(ctx, OpKind::Select, &[after, zero, column])?;
    let running = sum(im, ctx, counted, 0)?;
    let running = reshape_dims(im, ctx, running, vec![Dim::Static(1), m.clone()])?;
    // position[j] = #{i : running[i] ≤ j}
    let j = iota(im, ctx, vec![count, m], 0)?;
    let later = bin(im, ctx, BinaryOp::Greater, running, j)?;
    let before = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[later])?;
    let before = cast_to(im, ctx, before, ElementType::I64)?;
    sum(im, ctx, before, 1)
}

/// The coordinate `(flat / stride) mod n` of non-negative flat positions (i64), along a dim
/// of `n` whose elements are `stride` apart.
pub(super) fn coordinate(
    im: &mut Importer,
    ctx: &NodeCtx,
    flat: ValueId,
    stride: usize,
    n: usize,
) -> Result<ValueId, ImportError> {
    let c = |im: &mut Importer, v: usize| {
        im.constant(HostTensor::from_i64(&[], &[v as i64]), &ctx.name)
    };
    let (s, n) = (c(im, stride), c(im, n));
    let q = bin(im, ctx, BinaryOp::Div, flat, s)?;
    let whole = bin(im, ctx, BinaryOp::Div, q, n)?;
    let whole = bin(im, ctx, BinaryOp::Mul, whole, n)?;
    bin(im, ctx, BinaryOp::Sub, q, whole)
}

/// Compress: the slices of the input along `axis` (of the flattened input without one) whose
/// condition is true.
pub(super) fn compress(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let condition = arg(ctx, inputs, 1)?;
    mask_len(im, ctx, condition)?;
    let count = count_read(im, ctx, condition)?;
    let inputs = im.node_inputs(ctx);
    let (mut x, condition) = (arg(ctx, &inputs, 0)?, arg(ctx, &inputs, 1)?);
    let a = match ctx.attr("axis").and(Some(ctx.int("axis", 0))) {
        Some(raw) => axis(ctx, raw, im.ty(x).rank())?,
        None => {
            let total = Dim::from_expr(kiln_ir::dims_product(&im.dims(x)))
                .ok_or_else(|| ctx.err("the input is too large"))?;
            x = reshape_dims(im, ctx, x, vec![total])?;
            0
        }
    };
    let positions = true_positions(im, ctx, condition, count)?;
    Ok(vec![Some(im.emit(
        ctx,
        OpKind::Gather { axis: a },
        &[x, positions],
    )?)])
}

/// NonZero: the coordinates of the input's non-zero elements in row-major order, as
/// `[rank, count]` i64.
pub(super) fn non_zero(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let flat_mask = |im: &mut Importer, x: ValueId| -> Result<ValueId, ImportError> {
        let shape = im
            .ty(x)
            .static_shape()
            .ok_or_else(|| ctx.err("NonZero needs its input's dims when compiling"))?;
        let flat = reshape_to(im, ctx, x, vec![shape.iter().product()])?;
        let zero = super::ops::scalar_like(im, ctx, flat, 0.0);
        let is_zero = bin(im, ctx, BinaryOp::Equal, flat, zero)?;
        im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[is_zero])
    };
    let mask = flat_mask(im, arg(ctx, inputs, 0)?)?;
    let count = count_read(im, ctx, mask)?;
    let inputs = im.node_inputs(ctx);
    let x = arg(ctx, &inputs, 0)?;
    let shape = im.ty(x).static_shape().expect("checked above");
    let mask = flat_mask(im, x)?;
    let positions = true_positions(im, ctx, mask, count.clone())?;
    let mut rows = vec![];
    for d in 0..shape.len() {
        let stride = shape[d + 1..].iter().product();
        let coord = coordinate(im, ctx, positions, stride, shape[d])?;
        rows.push(reshape_dims(
            im,
            ctx,
            coord,
            vec![Dim::Static(1), count.clone()],
        )?);
    }
    let out = match rows.as_slice() {
        [one] => *one,
        _ => im.emit(ctx, OpKind::Concat { axis: 0 }, &rows)?,
    };
    Ok(vec![Some(out)])
}
