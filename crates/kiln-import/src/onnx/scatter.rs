//! ScatterElements and ScatterND without a scatter kernel: every output element combines with
//! the updates aimed at it, found by comparing its flat position with each update's flat target
//! inside a reduction over the updates (the comparison is the reduction's prologue, so nothing
//! of output × updates size is stored). The work is output × updates: right for the small
//! update sets of index-based writes, not for a KV cache written one step at a time.
//!
//! Reductions as ONNX defines them: `none` (the last update aimed at an element wins, in update
//! order), `add`, `mul`, `max`, `min`. An index outside its dim makes a Gather at the target
//! report it, as the indexing ops do.

use super::indexing::{flat_index, guarded, normalised};
use super::ops::{arg, axis, bin, positions, reshape_to, Outputs};
use super::{Importer, NodeCtx};
use kiln_ir::interp::strides_of;
use kiln_ir::{BinaryOp, OpKind, ReduceKind, ValueId};
use kiln_types::{ElementType, HostTensor};

/// `data` (static `shape`) with the `n` `updates` combined into it, by the node's reduction, at
/// the flat `targets` (each inside the data unless `inside` says otherwise; both `n` values in
/// any shape).
fn scatter_flat(
    im: &mut Importer,
    ctx: &NodeCtx,
    data: ValueId,
    shape: &[usize],
    (targets, inside): (ValueId, ValueId),
    updates: ValueId,
    n: usize,
) -> Outputs {
    let reduction = ctx.string("reduction").unwrap_or_else(|| "none".into());
    let targets = reshape_to(im, ctx, targets, vec![n])?;
    let inside = reshape_to(im, ctx, inside, vec![n])?;
    let count: usize = shape.iter().product();
    let et = im.ty(data).element_type;
    let flat_data = reshape_to(im, ctx, data, vec![count])?;
    let updates = reshape_to(im, ctx, updates, vec![n])?;
    // Reading the data at every target makes an out-of-range index an error; the update then
    // passes through a select whose branches agree, so its value is untouched.
    let targets = guarded(im, ctx, targets, inside, count)?;
    let probe = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_data, targets])?;
    let read = bin(im, ctx, BinaryOp::Equal, probe, probe)?;
    let updates = im.emit(ctx, OpKind::Select, &[read, updates, updates])?;
    let at = positions(im, ctx, 2, 0, count, 1);
    let t = reshape_to(im, ctx, targets, vec![1, n])?;
    let u = reshape_to(im, ctx, updates, vec![1, n])?;
    let hit = bin(im, ctx, BinaryOp::Equal, at, t)?;
    let fill =
        |im: &mut Importer, v: f64| im.constant(HostTensor::from_f64(et, &[], &[v]), &ctx.name);
    let over_updates = |im: &mut Importer, kind, v: ValueId| {
        im.emit(
            ctx,
            OpKind::Reduce {
                kind,
                axes: vec![1],
                keep_dims: false,
            },
            &[v],
        )
    };
    let (low, high) = match et.int_width() {
        None => (f64::NEG_INFINITY, f64::INFINITY),
        Some((bits, true)) => (
            -(2f64.powi(bits as i32 - 1)),
            2f64.powi(bits as i32 - 1) - 1.0,
        ),
        Some((bits, false)) => (0.0, 2f64.powi(bits as i32) - 1.0),
    };
    let out = match reduction.as_str() {
        "none" => {
            // The last update aimed at each element, if any.
            let order: Vec<i64> = (0..n as i64).collect();
            let order = im.constant(HostTensor::from_i64(&[1, n], &order), &ctx.name);
            let none = im.constant(HostTensor::from_i64(&[], &[-1]), &ctx.name);
            let which = im.emit(ctx, OpKind::Select, &[hit, order, none])?;
            let last = over_updates(im, ReduceKind::Max, which)?;
            let zero = im.constant(HostTensor::from_i64(&[], &[0]), &ctx.name);
            let missed = bin(im, ctx, BinaryOp::Less, last, zero)?;
            let safe = bin(im, ctx, BinaryOp::Max, last, zero)?;
            let value = im.emit(ctx, OpKind::Gather { axis: 0 }, &[updates, safe])?;
            im.emit(ctx, OpKind::Select, &[missed, flat_data, value])?
        }
        "add" | "mul" => {
            let (identity, kind, op) = match reduction.as_str() {
                "add" => (0.0, ReduceKind::Sum, BinaryOp::Add),
                _ => (1.0, ReduceKind::Prod, BinaryOp::Mul),
            };
            let identity = fill(im, identity);
            let aimed = im.emit(ctx, OpKind::Select, &[hit, u, identity])?;
            let total = over_updates(im, kind, aimed)?;
            bin(im, ctx, op, flat_data, total)?
        }
        "max" | "min" => {
            let (bound, kind, op) = match reduction.as_str() {
                "max" => (low, ReduceKind::Max, BinaryOp::Max),
                _ => (high, ReduceKind::Min, BinaryOp::Min),
            };
            // Elements no update aims at keep their value (also when it is the bound).
            let bound = fill(im, bound);
            let aimed = im.emit(ctx, OpKind::Select, &[hit, u, bound])?;
            let extreme = over_updates(im, kind, aimed)?;
            let any = im.emit(ctx, OpKind::Cast(ElementType::I64), &[hit])?;
            let any = over_updates(im, ReduceKind::Max, any)?;
            let zero = im.constant(HostTensor::from_i64(&[], &[0]), &ctx.name);
            let touched = bin(im, ctx, BinaryOp::Greater, any, zero)?;
            let combined = bin(im, ctx, op, flat_data, extreme)?;
            im.emit(ctx, OpKind::Select, &[touched, combined, flat_data])?
        }
        other => {
            return Err(ctx.err(format!(
                "reduction '{other}' is not one of none, add, mul, max, min"
            )))
        }
    };
    Ok(vec![Some(reshape_to(im, ctx, out, shape.to_vec())?)])
}

/// ScatterElements (and the deprecated Scatter): `updates[j]` into `data` at `j` with its
/// `axis` coordinate replaced by `indices[j]`.
pub(super) fn scatter_elements(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (data, indices, updates) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let (ds, is) = (im.shape(ctx, data)?, im.shape(ctx, indices)?);
    let rank = ds.len();
    let axis = axis(ctx, ctx.int("axis", 0), rank)?;
    if is.len() != rank
        || im.shape(ctx, updates)? != is
        || (0..rank).any(|d| d != axis && is[d] > ds[d])
    {
        return Err(ctx.err(format!(
            "indices {} and updates {} must have one shape, the data's rank, and fit data {} off the axis",
            im.ty(indices),
            im.ty(updates),
            im.ty(data)
        )));
    }
    let (index, inside) = normalised(im, ctx, indices, ds[axis])?;
    let flat = flat_index(im, ctx, index, axis, &is, &strides_of(&ds))?;
    let n: usize = is.iter().product();
    scatter_flat(im, ctx, data, &ds, (flat, inside), updates, n)
}

/// ScatterND: each row of `indices` (its last dim, `k` long) addresses a slice of `data` (its
/// first `k` dims), which the matching block of `updates` replaces or combines into.
pub(super) fn scatter_nd(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (data, indices, updates) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let (ds, is, us) = (
        im.shape(ctx, data)?,
        im.shape(ctx, indices)?,
        im.shape(ctx, updates)?,
    );
    let k = *is
        .last()
        .ok_or_else(|| ctx.err("indices must have rank 1 or more"))?;
    let lead = &is[..is.len() - 1];
    let mut want = lead.to_vec();
    want.extend_from_slice(ds.get(k..).unwrap_or(&[]));
    if k == 0 || k > ds.len() || us != want {
        return Err(ctx.err(format!(
            "indices {} and updates {} do not fit data {}",
            im.ty(indices),
            im.ty(updates),
            im.ty(data)
        )));
    }
    let st = strides_of(&ds);
    let rows: usize = lead.iter().product();
    let block: usize = ds[k..].iter().product();
    let indices = reshape_to(im, ctx, indices, vec![rows, k])?;
    // Each row's flat start: Σ index_j · stride_j over the k addressed dims.
    let mut start = None;
    let mut all_inside = None;
    for j in 0..k {
        let column = im.emit(
            ctx,
            OpKind::Slice {
                starts: vec![0, j as i64],
                ends: vec![rows as i64, j as i64 + 1],
                steps: vec![1, 1],
            },
            &[indices],
        )?;
        let (index, inside) = normalised(im, ctx, column, ds[j])?;
        let stride = im.constant(HostTensor::from_i64(&[], &[st[j] as i64]), &ctx.name);
        let term = bin(im, ctx, BinaryOp::Mul, index, stride)?;
        start = Some(match start {
            None => term,
            Some(s) => bin(im, ctx, BinaryOp::Add, s, term)?,
        });
        all_inside = Some(match all_inside {
            None => inside,
            Some(a) => bin(im, ctx, BinaryOp::And, a, inside)?,
        });
    }
    let (Some(start), Some(inside)) = (start, all_inside) else {
        return Err(ctx.err("indices address no dim"));
    };
    // Every element of a row's block: start + offset within the block.
    let offsets: Vec<i64> = (0..block as i64).collect();
    let offsets = im.constant(HostTensor::from_i64(&[1, block], &offsets), &ctx.name);
    let flat = bin(im, ctx, BinaryOp::Add, start, offsets)?;
    let ones = im.constant(
        HostTensor::from_f64(ElementType::I1, &[1, block], &vec![1.0; block]),
        &ctx.name,
    );
    let inside = bin(im, ctx, BinaryOp::And, inside, ones)?;
    scatter_flat(im, ctx, data, &ds, (flat, inside), updates, rows * block)
}
