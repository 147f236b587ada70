//! Ops whose output length counts the data: Compress and NonZero.
//!
//! The number of true (non-zero) elements is summed on the device and read as a size
//! ([`super::data_sizes`]); the `j`-th true element's position is then the number of elements
//! whose running count of trues is at most `j` (a `[count, m]` comparison reduced on the
//! device), and the result gathers those positions. Work grows with count × length, which
//! suits the masks of post-processing; the mask's length must be known when compiling.

use super::ops::{
    arg, axis, bin, cast_to, i64_scalar, iota, reshape_dims, reshape_to, size_dim, Outputs,
};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, ReduceKind, UnaryOp, ValueId};
use kiln_types::ElementType;

fn sum(im: &mut Importer, ctx: &NodeCtx, x: ValueId, axis: usize) -> Result<ValueId, ImportError> {
    let kind = OpKind::Reduce {
        kind: ReduceKind::Sum,
        axes: vec![axis],
        keep_dims: false,
    };
    im.emit(ctx, kind, &[x])
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
    let zero = i64_scalar(im, ctx, 0);
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

/// The quotient and remainder of non-negative i64 values `v` by positive `by`.
pub(super) fn div_mod(
    im: &mut Importer,
    ctx: &NodeCtx,
    v: ValueId,
    by: ValueId,
) -> Result<[ValueId; 2], ImportError> {
    let q = bin(im, ctx, BinaryOp::Div, v, by)?;
    let whole = bin(im, ctx, BinaryOp::Mul, q, by)?;
    Ok([q, bin(im, ctx, BinaryOp::Sub, v, whole)?])
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
    let (s, n) = (
        i64_scalar(im, ctx, stride as i64),
        i64_scalar(im, ctx, n as i64),
    );
    let [q, _] = div_mod(im, ctx, flat, s)?;
    let [_, r] = div_mod(im, ctx, q, n)?;
    Ok(r)
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

/// Unique: the distinct elements (or slices along `axis`) of the input, sorted (lexicographic
/// for slices) or in order of first occurrence, with each one's first index, each input's
/// position among them, and their counts. The number of distinct values is read as a size;
/// everything else compares every pair of elements on the device (work grows with the
/// square of the length).
pub(super) fn unique(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let (_, first, _) = distinct(im, ctx, x)?;
    let ones = cast_to(im, ctx, first, ElementType::I64)?;
    let count = sum(im, ctx, ones, 0)?;
    let count = im.sizes_from_data(ctx, count)?;
    let count = size_dim(ctx, &count.values[0])?;
    let inputs = im.node_inputs(ctx);
    let x = arg(ctx, &inputs, 0)?;
    let (rows, first, key) = distinct(im, ctx, x)?;
    let n = Dim::Static(mask_len(im, ctx, first)?);
    let c = |im: &mut Importer, v: i64| i64_scalar(im, ctx, v);
    let r = iota(im, ctx, vec![count.clone(), Dim::Static(1)], 0)?;
    let key_row = reshape_dims(im, ctx, key, vec![Dim::Static(1), n.clone()])?;
    let first_row = reshape_dims(im, ctx, first, vec![Dim::Static(1), n.clone()])?;
    let at = bin(im, ctx, BinaryOp::Equal, key_row, r)?;
    let chosen = bin(im, ctx, BinaryOp::And, at, first_row)?;
    let i = iota(im, ctx, vec![Dim::Static(1), n], 1)?;
    let zero = c(im, 0);
    let picked = im.emit(ctx, OpKind::Select, &[chosen, i, zero])?;
    let indices = sum(im, ctx, picked, 1)?;
    let a = rows.axis;
    let y = im.emit(ctx, OpKind::Gather { axis: a }, &[rows.x, indices])?;
    let hits = cast_to(im, ctx, at, ElementType::I64)?;
    let counts = sum(im, ctx, hits, 1)?;
    Ok(vec![Some(y), Some(indices), Some(key), Some(counts)])
}

/// The input of a Unique node as rows: `x` (flattened without an axis) and the axis the rows
/// run along.
struct Rows {
    x: ValueId,
    axis: usize,
}

/// For the rows of Unique's input: the rows, whether each is the first of its value, and each
/// one's key (its value's position among the distinct values: by order, or by first
/// occurrence without `sorted`).
fn distinct(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
) -> Result<(Rows, ValueId, ValueId), ImportError> {
    let shape = im
        .ty(x)
        .static_shape()
        .ok_or_else(|| ctx.err("Unique needs its input's dims when compiling"))?;
    let (x, a, shape) = match ctx.attr("axis").and(Some(ctx.int("axis", 0))) {
        Some(raw) => (x, axis(ctx, raw, shape.len())?, shape),
        None => {
            let total = shape.iter().product();
            (reshape_to(im, ctx, x, vec![total])?, 0, vec![total])
        }
    };
    let n = shape[a];
    let k: usize = shape.iter().product::<usize>() / n.max(1);
    let mut perm: Vec<usize> = (0..shape.len()).collect();
    perm.remove(a);
    perm.insert(0, a);
    let moved = im.emit(ctx, OpKind::Transpose { perm }, &[x])?;
    let table = reshape_to(im, ctx, moved, vec![n, k])?;
    let left = reshape_to(im, ctx, table, vec![n, 1, k])?;
    let right = reshape_to(im, ctx, table, vec![1, n, k])?;
    let c = |im: &mut Importer, v: i64| i64_scalar(im, ctx, v);
    let reduce = |im: &mut Importer, kind, v: ValueId, axis: usize| {
        let op = OpKind::Reduce {
            kind,
            axes: vec![axis],
            keep_dims: false,
        };
        im.emit(ctx, op, &[v])
    };
    // same[i, j]: rows i and j hold one value.
    let equal = bin(im, ctx, BinaryOp::Equal, left, right)?;
    let equal_i = cast_to(im, ctx, equal, ElementType::I64)?;
    let same = reduce(im, ReduceKind::Min, equal_i, 2)?;
    let one_ = c(im, 1);
    let same = bin(im, ctx, BinaryOp::Equal, same, one_)?;
    let nn = vec![Dim::Static(n), Dim::Static(n)];
    let (i, j) = (iota(im, ctx, nn.clone(), 0)?, iota(im, ctx, nn, 1)?);
    let earlier = bin(im, ctx, BinaryOp::Less, j, i)?;
    let repeat = bin(im, ctx, BinaryOp::And, same, earlier)?;
    let repeat = cast_to(im, ctx, repeat, ElementType::I64)?;
    let repeat = reduce(im, ReduceKind::Max, repeat, 1)?;
    let zero = c(im, 0);
    let first = bin(im, ctx, BinaryOp::Equal, repeat, zero)?;
    let first_row = reshape_to(im, ctx, first, vec![1, n])?;
    // before[i, j]: row j's value comes before row i's.
    let before = if ctx.int("sorted", 1) != 0 {
        // Lexicographic: at the first position where rows j and i differ, j's is smaller.
        let at = iota(
            im,
            ctx,
            vec![Dim::Static(1), Dim::Static(1), Dim::Static(k)],
            2,
        )?;
        let past = c(im, k as i64);
        let differ_at = im.emit(ctx, OpKind::Select, &[equal, past, at])?;
        let first_diff = reduce(im, ReduceKind::Min, differ_at, 2)?;
        let first_diff = reshape_to(im, ctx, first_diff, vec![n, n, 1])?;
        let there = bin(im, ctx, BinaryOp::Equal, at, first_diff)?;
        let smaller = bin(im, ctx, BinaryOp::Less, right, left)?;
        let smaller = bin(im, ctx, BinaryOp::And, smaller, there)?;
        let smaller = cast_to(im, ctx, smaller, ElementType::I64)?;
        let smaller = reduce(im, ReduceKind::Max, smaller, 2)?;
        bin(im, ctx, BinaryOp::Equal, smaller, one_)?
    } else {
        // By first occurrence: j is a first occurrence before row i's value's first one.
        let past = c(im, n as i64);
        let where_same = im.emit(ctx, OpKind::Select, &[same, j, past])?;
        let first_at = reduce(im, ReduceKind::Min, where_same, 1)?;
        let first_at = reshape_to(im, ctx, first_at, vec![n, 1])?;
        bin(im, ctx, BinaryOp::Less, j, first_at)?
    };
    let counted = bin(im, ctx, BinaryOp::And, before, first_row)?;
    let counted = cast_to(im, ctx, counted, ElementType::I64)?;
    let key = reduce(im, ReduceKind::Sum, counted, 1)?;
    Ok((Rows { x, axis: a }, first, key))
}
