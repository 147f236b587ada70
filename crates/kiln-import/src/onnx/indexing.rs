//! GatherElements, GatherND and ReverseSequence: gathers whose indices address single
//! elements (or inner blocks) of the data, lowered to one Gather over the flattened data with a flat index
//! computed elementwise (each index normalised if negative, times its dim's stride, plus the
//! positions the other dims contribute). An index outside its dim makes the flat index one
//! past the data, so the Gather reports it rather than reading a neighbouring row.

use super::ops::{arg, axis, bin, positions, reshape_to, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::interp::strides_of;
use kiln_ir::{BinaryOp, OpKind, UnaryOp, ValueId};
use kiln_types::{ElementType, HostTensor};

/// `index` as i64 with negative values counted from the end of a dim of `len`, and whether
/// it then lies inside the dim.
pub(super) fn normalised(
    im: &mut Importer,
    ctx: &NodeCtx,
    index: ValueId,
    len: usize,
) -> Result<(ValueId, ValueId), ImportError> {
    let index = if im.ty(index).element_type == ElementType::I64 {
        index
    } else {
        im.emit(ctx, OpKind::Cast(ElementType::I64), &[index])?
    };
    let c = |im: &mut Importer, v: i64| im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name);
    let zero = c(im, 0);
    let negative = bin(im, ctx, BinaryOp::Less, index, zero)?;
    let len = c(im, len as i64);
    let wrapped = bin(im, ctx, BinaryOp::Add, index, len)?;
    let index = im.emit(ctx, OpKind::Select, &[negative, wrapped, index])?;
    let below = bin(im, ctx, BinaryOp::Less, index, zero)?;
    let above = bin(im, ctx, BinaryOp::Less, index, len)?;
    let not_below = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[below])?;
    let inside = bin(im, ctx, BinaryOp::And, not_below, above)?;
    Ok((index, inside))
}

/// `flat` where every index was inside its dim, else `count` (one past the flattened data).
pub(super) fn guarded(
    im: &mut Importer,
    ctx: &NodeCtx,
    flat: ValueId,
    inside: ValueId,
    count: usize,
) -> Result<ValueId, ImportError> {
    let past = im.constant(HostTensor::from_i64(&[], &[count as i64]), &ctx.name);
    im.emit(ctx, OpKind::Select, &[inside, flat, past])
}

/// The flat index into data of strides `strides` of each position of a tensor of `dims`:
/// `along` (an i64 tensor broadcasting to `dims`) as the coordinate on `axis`, the position's
/// own coordinates on the other dims.
pub(super) fn flat_index(
    im: &mut Importer,
    ctx: &NodeCtx,
    along: ValueId,
    axis: usize,
    dims: &[usize],
    strides: &[usize],
) -> Result<ValueId, ImportError> {
    let stride = im.constant(
        HostTensor::from_i64(&[], &[strides[axis] as i64]),
        &ctx.name,
    );
    let mut flat = bin(im, ctx, BinaryOp::Mul, along, stride)?;
    for d in (0..dims.len()).filter(|&d| d != axis && dims[d] > 1) {
        let p = positions(im, ctx, dims.len(), d, dims[d], strides[d]);
        flat = bin(im, ctx, BinaryOp::Add, flat, p)?;
    }
    Ok(flat)
}

pub(super) fn gather_elements(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (data, indices) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (ds, is) = (im.shape(ctx, data)?, im.shape(ctx, indices)?);
    let rank = ds.len();
    let axis = axis(ctx, ctx.int("axis", 0), rank)?;
    if is.len() != rank || (0..rank).any(|d| d != axis && is[d] > ds[d]) {
        return Err(ctx.err(format!(
            "indices {} must have the data's rank and fit its dims {} off the axis",
            im.ty(indices),
            im.ty(data)
        )));
    }
    let (index, inside) = normalised(im, ctx, indices, ds[axis])?;
    let flat = flat_index(im, ctx, index, axis, &is, &strides_of(&ds))?;
    let count: usize = ds.iter().product();
    let flat = guarded(im, ctx, flat, inside, count)?;
    let data = reshape_to(im, ctx, data, vec![count])?;
    Ok(vec![Some(im.emit(
        ctx,
        OpKind::Gather { axis: 0 },
        &[data, flat],
    )?)])
}

pub(super) fn gather_nd(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (data, indices) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (ds, is) = (im.shape(ctx, data)?, im.shape(ctx, indices)?);
    let b = usize::try_from(ctx.int("batch_dims", 0))
        .map_err(|_| ctx.err("batch_dims must be non-negative"))?;
    let k = *is
        .last()
        .ok_or_else(|| ctx.err("indices must have rank 1 or more"))?;
    let q = is.len();
    if b >= q || b + k > ds.len() || is[..b] != ds[..b] {
        return Err(ctx.err(format!(
            "indices {} do not fit data {} with {b} batch dims",
            im.ty(indices),
            im.ty(data)
        )));
    }
    // The first b + k data dims are addressed; the rest are copied whole.
    let outer = &ds[..b + k];
    let st = strides_of(outer);
    let lead = &is[..q - 1];
    let mut flat = None;
    let mut all_inside = None;
    for j in 0..k {
        let mut starts = vec![0i64; q];
        let mut ends: Vec<i64> = is.iter().map(|&d| d as i64).collect();
        starts[q - 1] = j as i64;
        ends[q - 1] = j as i64 + 1;
        let slice = im.emit(
            ctx,
            OpKind::Slice {
                starts,
                ends,
                steps: vec![1; q],
            },
            &[indices],
        )?;
        let slice = reshape_to(im, ctx, slice, lead.to_vec())?;
        let (index, inside) = normalised(im, ctx, slice, ds[b + j])?;
        all_inside = Some(match all_inside {
            None => inside,
            Some(a) => bin(im, ctx, BinaryOp::And, a, inside)?,
        });
        let stride = im.constant(HostTensor::from_i64(&[], &[st[b + j] as i64]), &ctx.name);
        let term = bin(im, ctx, BinaryOp::Mul, index, stride)?;
        flat = Some(match flat {
            None => term,
            Some(f) => bin(im, ctx, BinaryOp::Add, f, term)?,
        });
    }
    let mut flat = match flat {
        Some(f) => f,
        None => {
            let zeros = vec![0; lead.iter().product()];
            im.constant(HostTensor::from_i64(lead, &zeros), &ctx.name)
        }
    };
    for d in 0..b {
        let p = positions(im, ctx, lead.len(), d, lead[d], st[d]);
        flat = bin(im, ctx, BinaryOp::Add, flat, p)?;
    }
    let inner: Vec<usize> = ds[b + k..].to_vec();
    let count: usize = outer.iter().product();
    if let Some(inside) = all_inside {
        flat = guarded(im, ctx, flat, inside, count)?;
    }
    let data = reshape_to(im, ctx, data, [vec![count], inner.clone()].concat())?;
    let y = im.emit(ctx, OpKind::Gather { axis: 0 }, &[data, flat])?;
    let out = [lead.to_vec(), inner].concat();
    Ok(vec![Some(reshape_to(im, ctx, y, out)?)])
}

/// ReverseSequence: along the time axis, each batch entry's first `sequence_lens[b]` elements
/// reversed and the rest kept — one gather whose source position is `len - 1 - t` below the
/// entry's length and `t` past it (a length beyond the time dim makes the gather report it).
pub(super) fn reverse_sequence(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (data, lens) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let ds = im.shape(ctx, data)?;
    let rank = ds.len();
    let (time, batch) = (ctx.int("time_axis", 0), ctx.int("batch_axis", 1));
    if rank < 2 || !matches!((time, batch), (0, 1) | (1, 0)) {
        return Err(ctx.err(format!(
            "time_axis {time} and batch_axis {batch} must be 0 and 1 (either way round) of an input of rank 2 or more, got {}",
            im.ty(data)
        )));
    }
    let (time, batch) = (time as usize, batch as usize);
    if im.shape(ctx, lens)? != [ds[batch]] {
        return Err(ctx.err(format!(
            "sequence_lens must have one length per batch entry ({}), got {}",
            ds[batch],
            im.ty(lens)
        )));
    }
    let mut along_batch = vec![1; rank];
    along_batch[batch] = ds[batch];
    let lens = if im.ty(lens).element_type == ElementType::I64 {
        lens
    } else {
        im.emit(ctx, OpKind::Cast(ElementType::I64), &[lens])?
    };
    let lens = reshape_to(im, ctx, lens, along_batch)?;
    let t = positions(im, ctx, rank, time, ds[time], 1);
    let one = im.constant(HostTensor::from_i64(&[], &[1]), &ctx.name);
    let last = bin(im, ctx, BinaryOp::Sub, lens, one)?;
    let reversed = bin(im, ctx, BinaryOp::Sub, last, t)?;
    let within = bin(im, ctx, BinaryOp::Less, t, lens)?;
    let source = im.emit(ctx, OpKind::Select, &[within, reversed, t])?;
    let (source, inside) = normalised_position(im, ctx, source, ds[time])?;
    let flat = flat_index(im, ctx, source, time, &ds, &strides_of(&ds))?;
    let count: usize = ds.iter().product();
    let flat = guarded(im, ctx, flat, inside, count)?;
    let flat_data = reshape_to(im, ctx, data, vec![count])?;
    let y = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_data, flat])?;
    Ok(vec![Some(reshape_to(im, ctx, y, ds)?)])
}

/// Whether non-negative-or-not `position` lies in `0..len`, as an i1 tensor, with the
/// position itself.
fn normalised_position(
    im: &mut Importer,
    ctx: &NodeCtx,
    position: ValueId,
    len: usize,
) -> Result<(ValueId, ValueId), ImportError> {
    let c = |im: &mut Importer, v: i64| im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name);
    let (zero, len) = (c(im, 0), c(im, len as i64));
    let below = bin(im, ctx, BinaryOp::Less, position, zero)?;
    let not_below = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[below])?;
    let above = bin(im, ctx, BinaryOp::Less, position, len)?;
    Ok((position, bin(im, ctx, BinaryOp::And, not_below, above)?))
}

/// TensorScatter (a KV cache's write): along `axis`, each batch entry's `update` written into
/// `past_cache` from that entry's write index on (wrapping around the axis in `circular`
/// mode). Computed as a gather: each cache position reads the update at its distance past the
/// write index when that falls inside the update, else keeps its value — one read per output
/// element.
pub(super) fn tensor_scatter(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (past, update) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (ps, us) = (im.shape(ctx, past)?, im.shape(ctx, update)?);
    let rank = ps.len();
    let a = ctx.int("axis", -2);
    let axis = usize::try_from(if a < 0 { a + rank as i64 } else { a })
        .ok()
        .filter(|&x| x < rank && x > 0)
        .ok_or_else(|| {
            ctx.err(format!(
                "axis {a} must be a dim after the batch dim of rank {rank}"
            ))
        })?;
    let circular = match ctx.string("mode").as_deref().unwrap_or("linear") {
        "linear" => false,
        "circular" => true,
        other => return Err(ctx.err(format!("mode '{other}' is not linear or circular"))),
    };
    if us.len() != rank
        || (0..rank).any(|d| {
            if d == axis {
                us[d] > ps[d]
            } else {
                us[d] != ps[d]
            }
        })
    {
        return Err(ctx.err(format!(
            "update {} does not fit past_cache {} along axis {axis}",
            im.ty(update),
            im.ty(past)
        )));
    }
    let (len, steps) = (ps[axis] as i64, us[axis] as i64);
    let mut per_batch = vec![1; rank];
    per_batch[0] = ps[0];
    let write = match inputs.get(2).copied().flatten() {
        Some(w) => {
            let w = if im.ty(w).element_type == ElementType::I64 {
                w
            } else {
                im.emit(ctx, OpKind::Cast(ElementType::I64), &[w])?
            };
            reshape_to(im, ctx, w, per_batch)?
        }
        None => im.constant(HostTensor::from_i64(&[], &[0]), &ctx.name),
    };
    let c = |im: &mut Importer, v: i64| im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name);
    let at = positions(im, ctx, rank, axis, ps[axis], 1);
    let mut offset = bin(im, ctx, BinaryOp::Sub, at, write)?;
    if circular {
        // Positions and write indices lie in 0..len, so one wrap brings the distance there.
        let zero = c(im, 0);
        let behind = bin(im, ctx, BinaryOp::Less, offset, zero)?;
        let len_v = c(im, len);
        let wrapped = bin(im, ctx, BinaryOp::Add, offset, len_v)?;
        offset = im.emit(ctx, OpKind::Select, &[behind, wrapped, offset])?;
    }
    let (zero, steps_v) = (c(im, 0), c(im, steps));
    let before = bin(im, ctx, BinaryOp::Less, offset, zero)?;
    let not_before = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[before])?;
    let within = bin(im, ctx, BinaryOp::Less, offset, steps_v)?;
    let written = bin(im, ctx, BinaryOp::And, not_before, within)?;
    let source = im.emit(ctx, OpKind::Select, &[written, offset, zero])?;
    // The update's flat index at every cache position.
    let flat = flat_index(im, ctx, source, axis, &ps, &strides_of(&us))?;
    let count: usize = us.iter().product();
    let flat_update = reshape_to(im, ctx, update, vec![count])?;
    let value = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_update, flat])?;
    Ok(vec![Some(im.emit(
        ctx,
        OpKind::Select,
        &[written, value, past],
    )?)])
}
