//! NonMaxSuppression: greedy selection of boxes by score, a run-time loop of the control
//! program.
//!
//! Every batch entry and class is searched at once. Each pass of the loop picks, per
//! `(batch, class)`, the highest-scoring box still in play (the lowest index among equal
//! scores, as ONNX Runtime does), and takes it and every box whose overlap with it exceeds
//! the IoU threshold out of play; the loop ends when nothing is left in play or after
//! `max_output_boxes_per_class` passes. Each pass's picks are stacked, so a group's selections
//! are the first passes' entries of its column in score order. The selected count is read as
//! a size, and row `j` of the result finds its group by the running sums of the groups'
//! counts. Each pass costs one sweep over the scores; a call costs as many passes as the
//! largest group selects.

use super::data_counts::div_mod;
use super::ops::{arg, bin, cast_to, i64_scalar, iota, one_value, reduce_over, reshape_dims};
use super::ops::{reshape_to, scalar_like};
use super::ops::{size_dim, slice_axis, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, ReduceKind, TensorType, UnaryOp, ValueId};
use kiln_types::control::Stmt;
use kiln_types::{ElementType, HostTensor};

/// The boxes' corners and areas, each `[batch, 1, boxes]`, as the loop reads them.
struct Corners {
    y_lo: ValueId,
    x_lo: ValueId,
    y_hi: ValueId,
    x_hi: ValueId,
    area: ValueId,
}

impl Corners {
    fn values(&self) -> [ValueId; 5] {
        [self.y_lo, self.x_lo, self.y_hi, self.x_hi, self.area]
    }
}

/// The corners of `[batch, boxes, 4]` boxes: `[y1, x1, y2, x2]` of either diagonal, or
/// `[x_center, y_center, width, height]` with `center_point_box`.
fn corners(
    im: &mut Importer,
    ctx: &NodeCtx,
    boxes: ValueId,
    batch: usize,
    n: usize,
) -> Result<Corners, ImportError> {
    let dims = im.dims(boxes);
    let mut coord = vec![];
    for k in 0..4 {
        let c = slice_axis(im, ctx, boxes, &dims, 2, k, k + 1)?;
        coord.push(reshape_to(im, ctx, c, vec![batch, 1, n])?);
    }
    let (y_lo, x_lo, y_hi, x_hi) = match ctx.int("center_point_box", 0) {
        0 => (
            bin(im, ctx, BinaryOp::Min, coord[0], coord[2])?,
            bin(im, ctx, BinaryOp::Min, coord[1], coord[3])?,
            bin(im, ctx, BinaryOp::Max, coord[0], coord[2])?,
            bin(im, ctx, BinaryOp::Max, coord[1], coord[3])?,
        ),
        1 => {
            let half = scalar_like(im, ctx, boxes, 0.5);
            let half_w = bin(im, ctx, BinaryOp::Mul, coord[2], half)?;
            let half_h = bin(im, ctx, BinaryOp::Mul, coord[3], half)?;
            (
                bin(im, ctx, BinaryOp::Sub, coord[1], half_h)?,
                bin(im, ctx, BinaryOp::Sub, coord[0], half_w)?,
                bin(im, ctx, BinaryOp::Add, coord[1], half_h)?,
                bin(im, ctx, BinaryOp::Add, coord[0], half_w)?,
            )
        }
        other => return Err(ctx.err(format!("center_point_box must be 0 or 1, got {other}"))),
    };
    let height = bin(im, ctx, BinaryOp::Sub, y_hi, y_lo)?;
    let width = bin(im, ctx, BinaryOp::Sub, x_hi, x_lo)?;
    let area = bin(im, ctx, BinaryOp::Mul, height, width)?;
    Ok(Corners {
        y_lo,
        x_lo,
        y_hi,
        x_hi,
        area,
    })
}

/// Optional scalar input `i` (shape `[]` or `[1]`) as a rank-0 value.
fn scalar_input(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    i: usize,
) -> Result<Option<ValueId>, ImportError> {
    match inputs.get(i).copied().flatten() {
        Some(v) => Ok(Some(one_value(im, ctx, v, &format!("input {i}"))?)),
        None => Ok(None),
    }
}

/// Whether any element of `mask` is true, as a rank-0 boolean.
fn any(im: &mut Importer, ctx: &NodeCtx, mask: ValueId) -> Result<ValueId, ImportError> {
    let ones = cast_to(im, ctx, mask, ElementType::I64)?;
    let rank = im.ty(mask).rank();
    let most = reduce_over(im, ctx, ReduceKind::Max, ones, (0..rank).collect(), false)?;
    let zero = i64_scalar(im, ctx, 0);
    bin(im, ctx, BinaryOp::Greater, most, zero)
}

pub(super) fn non_max_suppression(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let (boxes, scores) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (box_shape, score_shape) = (im.ty(boxes).static_shape(), im.ty(scores).static_shape());
    let (batch, n, classes) = match (box_shape.as_deref(), score_shape.as_deref()) {
        (Some(&[b, n, 4]), Some(&[b2, c, n2])) if b == b2 && n == n2 => (b, n, c),
        _ => {
            return Err(ctx.err(format!(
                "boxes must be [batch, boxes, 4] and scores [batch, classes, boxes] with dims known when compiling, got {} and {}",
                im.ty(boxes),
                im.ty(scores)
            )))
        }
    };
    if batch * n * classes == 0 {
        return Err(ctx.err("boxes and scores must not be empty"));
    }
    let et = im.ty(scores).element_type;
    if et != im.ty(boxes).element_type || et.int_width().is_some() {
        return Err(ctx.err(format!(
            "boxes and scores must be floats of one type, got {} and {}",
            im.ty(boxes),
            im.ty(scores)
        )));
    }
    let corners = corners(im, ctx, boxes, batch, n)?;
    let most = match scalar_input(im, ctx, inputs, 2)? {
        Some(m) => {
            let m = cast_to(im, ctx, m, ElementType::I64)?;
            let all = i64_scalar(im, ctx, n as i64);
            bin(im, ctx, BinaryOp::Min, m, all)?
        }
        None => i64_scalar(im, ctx, 0),
    };
    let iou_threshold = match scalar_input(im, ctx, inputs, 3)? {
        Some(t) => cast_to(im, ctx, t, et)?,
        None => scalar_like(im, ctx, scores, 0.0),
    };
    let in_play = match scalar_input(im, ctx, inputs, 4)? {
        Some(t) => {
            let t = cast_to(im, ctx, t, et)?;
            bin(im, ctx, BinaryOp::Greater, scores, t)?
        }
        None => {
            let yes = im.constant(
                HostTensor::from_f64(ElementType::I1, &[], &[1.0]),
                &ctx.name,
            );
            let shape = vec![Dim::Static(batch), Dim::Static(classes), Dim::Static(n)];
            im.emit(ctx, OpKind::Broadcast { shape }, &[yes])?
        }
    };
    // The loop runs at least once (a pass with nothing in play picks nothing), so its
    // condition needs no read from the device before it starts.
    let zero = i64_scalar(im, ctx, 0);
    let allowed = bin(im, ctx, BinaryOp::Greater, most, zero)?;
    let in_play = bin(im, ctx, BinaryOp::And, in_play, allowed)?;
    let one = i64_scalar(im, ctx, 1);
    let most = bin(im, ctx, BinaryOp::Max, most, one)?;

    // Values the loop reads: what it updates (in play) and the pass limit in registers, the
    // rest made again inside it.
    let [y_lo, x_lo, y_hi, x_hi, area] = corners.values();
    let reads = [
        scores,
        y_lo,
        x_lo,
        y_hi,
        x_hi,
        area,
        iou_threshold,
        in_play,
        most,
    ];
    let carried = [false, false, false, false, false, false, false, true, true];
    let reads: Vec<Option<ValueId>> = reads.into_iter().map(Some).collect();
    let outer = im.outer_values(&reads, &carried);
    let carry = im.end_segment(&outer.exits())?;
    let [in_play_reg, most_reg] = [7, 8].map(|i| outer.register(i).expect("carried"));
    let (limit, flag, index) = (im.new_scalar(), im.new_scalar(), im.new_scalar());
    im.push_stmt(Stmt::Read {
        tensor: most_reg,
        scalar: limit,
    });
    im.push_stmt(Stmt::SetScalar {
        scalar: flag,
        value: 1,
    });
    let go_reg = im.new_register(Some(TensorType::new(ElementType::I1, &[])));
    let pick_type = TensorType::new(ElementType::I64, &[batch, classes]);
    let pick_reg = im.new_register(Some(pick_type.clone()));
    im.open_block();
    im.start_segment(&carry, &[], &ctx.name);
    let inside: Vec<ValueId> = outer
        .inside(im, &(0..8).collect::<Vec<_>>())
        .into_iter()
        .map(|v| v.expect("every read is given"))
        .collect();
    let [scores, y_lo, x_lo, y_hi, x_hi, area, iou_threshold, in_play] = inside[..] else {
        unreachable!("eight values were picked");
    };
    let corners = Corners {
        y_lo,
        x_lo,
        y_hi,
        x_hi,
        area,
    };
    let (pick, in_play) = pass(im, ctx, scores, &corners, iou_threshold, in_play, n)?;
    let go = any(im, ctx, in_play)?;
    let pick = reshape_to(im, ctx, pick, vec![batch, classes])?;
    im.end_segment(&[(go, go_reg), (in_play, in_play_reg), (pick, pick_reg)])?;
    im.push_stmt(Stmt::Read {
        tensor: go_reg,
        scalar: flag,
    });
    let body = im.close_block();
    let passes = im.fresh_symbol();
    let scan = im.scan_into(pick_reg, &pick_type, passes, false);
    let picks_reg = scan.dst;
    im.push_stmt(Stmt::Loop {
        max: Some(limit),
        cond: Some(flag),
        index,
        body,
        scans: vec![scan],
    });
    let picks = im.start_segment(&carry, &[picks_reg], &ctx.name)[0];
    selected_rows(im, ctx, picks, classes, n)
}

/// One pass: per `(batch, class)`, the index of the best box in play (`n` when none is) as
/// `[batch, classes, 1]`, and what stays in play after it and the boxes it overlaps leave.
fn pass(
    im: &mut Importer,
    ctx: &NodeCtx,
    scores: ValueId,
    c: &Corners,
    iou_threshold: ValueId,
    in_play: ValueId,
    n: usize,
) -> Result<(ValueId, ValueId), ImportError> {
    let lowest = scalar_like(im, ctx, scores, f64::NEG_INFINITY);
    let playing = im.emit(ctx, OpKind::Select, &[in_play, scores, lowest])?;
    let best = reduce_over(im, ctx, ReduceKind::Max, playing, vec![2], true)?;
    let at_best = bin(im, ctx, BinaryOp::Equal, scores, best)?;
    let at_best = bin(im, ctx, BinaryOp::And, at_best, in_play)?;
    let position = iota(
        im,
        ctx,
        vec![Dim::Static(1), Dim::Static(1), Dim::Static(n)],
        2,
    )?;
    let none = i64_scalar(im, ctx, n as i64);
    let candidates = im.emit(ctx, OpKind::Select, &[at_best, position, none])?;
    let pick = reduce_over(im, ctx, ReduceKind::Min, candidates, vec![2], true)?;
    let picked = bin(im, ctx, BinaryOp::Equal, position, pick)?;
    let zero = scalar_like(im, ctx, scores, 0.0);
    let mut of_pick = |v: ValueId| -> Result<ValueId, ImportError> {
        let only = im.emit(ctx, OpKind::Select, &[picked, v, zero])?;
        reduce_over(im, ctx, ReduceKind::Sum, only, vec![2], true)
    };
    let [p_y_lo, p_x_lo, p_y_hi, p_x_hi, p_area] = [
        of_pick(c.y_lo)?,
        of_pick(c.x_lo)?,
        of_pick(c.y_hi)?,
        of_pick(c.x_hi)?,
        of_pick(c.area)?,
    ];
    let mut overlap = |lo: ValueId, hi: ValueId, p_lo: ValueId, p_hi: ValueId| {
        let hi = bin(im, ctx, BinaryOp::Min, hi, p_hi)?;
        let lo = bin(im, ctx, BinaryOp::Max, lo, p_lo)?;
        let extent = bin(im, ctx, BinaryOp::Sub, hi, lo)?;
        bin(im, ctx, BinaryOp::Max, extent, zero)
    };
    let height = overlap(c.y_lo, c.y_hi, p_y_lo, p_y_hi)?;
    let width = overlap(c.x_lo, c.x_hi, p_x_lo, p_x_hi)?;
    let inter = bin(im, ctx, BinaryOp::Mul, height, width)?;
    let both = bin(im, ctx, BinaryOp::Add, p_area, c.area)?;
    let union = bin(im, ctx, BinaryOp::Sub, both, inter)?;
    let iou = bin(im, ctx, BinaryOp::Div, inter, union)?;
    // As ONNX Runtime: boxes that do not meet, or with no area, never suppress each other.
    let mut suppress = bin(im, ctx, BinaryOp::Greater, iou, iou_threshold)?;
    for v in [inter, p_area, c.area, union] {
        let positive = bin(im, ctx, BinaryOp::Greater, v, zero)?;
        suppress = bin(im, ctx, BinaryOp::And, suppress, positive)?;
    }
    let leaves = bin(im, ctx, BinaryOp::Or, suppress, picked)?;
    let stays = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[leaves])?;
    let in_play = bin(im, ctx, BinaryOp::And, in_play, stays)?;
    Ok((pick, in_play))
}

/// The result from the stacked picks `[passes, batch, classes]`: `[count, 3]` rows of
/// (batch, class, box) by batch, class and pass.
fn selected_rows(
    im: &mut Importer,
    ctx: &NodeCtx,
    picks: ValueId,
    classes: usize,
    n: usize,
) -> Outputs {
    let counts = |im: &mut Importer, picks: ValueId| -> Result<ValueId, ImportError> {
        let dims = im.dims(picks);
        let groups = Dim::from_expr(kiln_ir::dims_product(&dims[1..]))
            .ok_or_else(|| ctx.err("too many groups"))?;
        let table = reshape_dims(im, ctx, picks, vec![dims[0].clone(), groups])?;
        let none = i64_scalar(im, ctx, n as i64);
        let got = bin(im, ctx, BinaryOp::Less, table, none)?;
        let got = cast_to(im, ctx, got, ElementType::I64)?;
        reduce_over(im, ctx, ReduceKind::Sum, got, vec![0], false)
    };
    let per_group = counts(im, picks)?;
    let total = reduce_over(im, ctx, ReduceKind::Sum, per_group, vec![0], false)?;
    let (count, kept) = im.sizes_from_data_keeping(ctx, total, &[picks])?;
    let count = size_dim(ctx, &count.values[0])?;
    let picks = kept[0];
    let per_group = counts(im, picks)?;
    let groups = match im.ty(per_group).static_shape().as_deref() {
        Some(&[g]) => g,
        _ => return Err(ctx.err("the number of groups must be known when compiling")),
    };
    // ends[g] = Σ_{h ≤ g} per_group[h]; a group's rows start where the one before ends.
    let column = reshape_to(im, ctx, per_group, vec![groups, 1])?;
    let gg = vec![Dim::Static(groups), Dim::Static(groups)];
    let h = iota(im, ctx, gg.clone(), 0)?;
    let g = iota(im, ctx, gg, 1)?;
    let after = bin(im, ctx, BinaryOp::Greater, h, g)?;
    let zero = i64_scalar(im, ctx, 0);
    let counted = im.emit(ctx, OpKind::Select, &[after, zero, column])?;
    let ends = reduce_over(im, ctx, ReduceKind::Sum, counted, vec![0], false)?;
    let starts = bin(im, ctx, BinaryOp::Sub, ends, per_group)?;
    // Row j lies in the group of the first end past it, at pass j - start.
    let rows = iota(im, ctx, vec![count.clone(), Dim::Static(1)], 0)?;
    let ends = reshape_to(im, ctx, ends, vec![1, groups])?;
    let past = bin(im, ctx, BinaryOp::Greater, ends, rows)?;
    let done = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[past])?;
    let done = cast_to(im, ctx, done, ElementType::I64)?;
    let group = reduce_over(im, ctx, ReduceKind::Sum, done, vec![1], false)?;
    let start = im.emit(ctx, OpKind::Gather { axis: 0 }, &[starts, group])?;
    let row = reshape_dims(im, ctx, rows, vec![count.clone()])?;
    let pass = bin(im, ctx, BinaryOp::Sub, row, start)?;
    let width = i64_scalar(im, ctx, groups as i64);
    let at = bin(im, ctx, BinaryOp::Mul, pass, width)?;
    let at = bin(im, ctx, BinaryOp::Add, at, group)?;
    let all = Dim::from_expr(kiln_ir::dims_product(&im.dims(picks)))
        .ok_or_else(|| ctx.err("too many picks"))?;
    let flat = reshape_dims(im, ctx, picks, vec![all])?;
    let chosen = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat, at])?;
    let per_batch = i64_scalar(im, ctx, classes as i64);
    let [b, c] = div_mod(im, ctx, group, per_batch)?;
    let mut columns = vec![];
    for v in [b, c, chosen] {
        columns.push(reshape_dims(
            im,
            ctx,
            v,
            vec![count.clone(), Dim::Static(1)],
        )?);
    }
    Ok(vec![Some(im.emit(
        ctx,
        OpKind::Concat { axis: 1 },
        &columns,
    )?)])
}
