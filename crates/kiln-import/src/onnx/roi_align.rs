//! RoiAlign, composed from elementwise ops, Gathers and reductions as ONNX's reference
//! computes it: each output bin of each region of interest averages (or maxes) a fixed
//! `sampling_ratio × sampling_ratio` grid of bilinear samples of its image. Sample rows and
//! columns are separable (`y` depends on the region and the output row, `x` on the region and
//! the output column); a sample outside `[-1, H] × [-1, W]` weighs nothing, and one within a
//! pixel of the far edge reads that edge.

use super::ops::{arg, bin, reshape_to, scalar_like, un, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, OpKind, ReduceKind, UnaryOp, ValueId};
use kiln_types::{ElementType, HostTensor};

/// One axis of the sampling grid: per region and sample, the low and high pixel, their
/// weights, and whether the sample lies inside the image's reach.
struct AxisSamples {
    low: ValueId,
    high: ValueId,
    w_low: ValueId,
    w_high: ValueId,
    valid: ValueId,
}

/// The samples along one axis of `len` pixels for regions from `start` to `end` (each `[R, 1]`,
/// already scaled and offset), `out` bins of `ratio` samples each: tensors of `[R, out·ratio]`.
fn axis_samples(
    im: &mut Importer,
    ctx: &NodeCtx,
    (start, end): (ValueId, ValueId),
    out: usize,
    ratio: usize,
    len: usize,
    half_pixel: bool,
) -> Result<AxisSamples, ImportError> {
    let c = |im: &mut Importer, v: f64| scalar_like(im, ctx, start, v);
    let mut size = bin(im, ctx, BinaryOp::Sub, end, start)?;
    if !half_pixel {
        // Malformed regions count as one pixel.
        let one = c(im, 1.0);
        size = bin(im, ctx, BinaryOp::Max, size, one)?;
    }
    let bins = c(im, out as f64);
    let bin_size = bin(im, ctx, BinaryOp::Div, size, bins)?;
    // Sample k = bin·ratio + i sits at start + bin·bin_size + (i + 0.5)·bin_size / ratio.
    let (bin_index, within): (Vec<f64>, Vec<f64>) = (0..out * ratio)
        .map(|k| ((k / ratio) as f64, (k % ratio) as f64 + 0.5))
        .unzip();
    let n = out * ratio;
    let bin_index = im.constant(
        HostTensor::from_f64(ElementType::F32, &[1, n], &bin_index),
        &ctx.name,
    );
    let within = im.constant(
        HostTensor::from_f64(ElementType::F32, &[1, n], &within),
        &ctx.name,
    );
    let ratio_v = c(im, ratio as f64);
    let step = bin(im, ctx, BinaryOp::Mul, bin_index, bin_size)?;
    let fine = bin(im, ctx, BinaryOp::Mul, within, bin_size)?;
    let fine = bin(im, ctx, BinaryOp::Div, fine, ratio_v)?;
    let pos = bin(im, ctx, BinaryOp::Add, start, step)?;
    let pos = bin(im, ctx, BinaryOp::Add, pos, fine)?;
    // Outside [-1, len] the sample weighs nothing.
    let (minus_one, len_v) = (c(im, -1.0), c(im, len as f64));
    let below = bin(im, ctx, BinaryOp::Less, pos, minus_one)?;
    let above = bin(im, ctx, BinaryOp::Greater, pos, len_v)?;
    let outside = bin(im, ctx, BinaryOp::Or, below, above)?;
    let valid = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[outside])?;
    let zero = c(im, 0.0);
    let pos = bin(im, ctx, BinaryOp::Max, pos, zero)?;
    let low = un(im, ctx, UnaryOp::Floor, pos)?;
    // At the last pixel (or past it) both taps read it, with the sample on it.
    let last = c(im, len.saturating_sub(1) as f64);
    let before_edge = bin(im, ctx, BinaryOp::Less, low, last)?;
    let at_edge = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[before_edge])?;
    let low = im.emit(ctx, OpKind::Select, &[at_edge, last, low])?;
    let one = c(im, 1.0);
    let next = bin(im, ctx, BinaryOp::Add, low, one)?;
    let high = im.emit(ctx, OpKind::Select, &[at_edge, last, next])?;
    let pos = im.emit(ctx, OpKind::Select, &[at_edge, last, pos])?;
    let w_high = bin(im, ctx, BinaryOp::Sub, pos, low)?;
    let w_low = bin(im, ctx, BinaryOp::Sub, one, w_high)?;
    let as_index =
        |im: &mut Importer, v: ValueId| im.emit(ctx, OpKind::Cast(ElementType::I64), &[v]);
    Ok(AxisSamples {
        low: as_index(im, low)?,
        high: as_index(im, high)?,
        w_low,
        w_high,
        valid,
    })
}

pub(super) fn roi_align(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, rois, batch) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let xs = im.shape(ctx, x)?;
    let [n, channels, height, width] = xs[..] else {
        return Err(ctx.err(format!("X must be (N, C, H, W), got {}", im.ty(x))));
    };
    let rs = im.shape(ctx, rois)?;
    let [regions, 4] = rs[..] else {
        return Err(ctx.err(format!("rois must be (num_rois, 4), got {}", im.ty(rois))));
    };
    if im.shape(ctx, batch)? != [regions] {
        return Err(ctx.err(format!(
            "batch_indices must hold one index per region ({regions}), got {}",
            im.ty(batch)
        )));
    }
    let mode = ctx.string("mode").unwrap_or_else(|| "avg".into());
    let max = match mode.as_str() {
        "avg" => false,
        "max" => true,
        other => return Err(ctx.err(format!("mode '{other}' is not avg or max"))),
    };
    let transform = ctx
        .string("coordinate_transformation_mode")
        .unwrap_or_else(|| {
            if ctx.opset >= 16 {
                "half_pixel"
            } else {
                "output_half_pixel"
            }
            .into()
        });
    let half_pixel = match transform.as_str() {
        "half_pixel" => true,
        "output_half_pixel" => false,
        other => {
            return Err(ctx.err(format!(
                "coordinate_transformation_mode '{other}' is not half_pixel or output_half_pixel"
            )))
        }
    };
    let (oh, ow) = (ctx.int("output_height", 1), ctx.int("output_width", 1));
    let ratio = ctx.int("sampling_ratio", 0);
    if oh < 1 || ow < 1 {
        return Err(ctx.err(format!("output size {oh}x{ow} must be positive")));
    }
    if ratio < 1 {
        return Err(ctx.err(
            "sampling_ratio 0 (a grid per region sized from the region at run time) is not supported; give a positive sampling_ratio",
        ));
    }
    let (oh, ow, ratio) = (oh as usize, ow as usize, ratio as usize);
    let scale = ctx.float("spatial_scale", 1.0) as f64;
    let x32 = if im.ty(x).element_type == ElementType::F32 {
        x
    } else {
        im.emit(ctx, OpKind::Cast(ElementType::F32), &[x])?
    };
    let rois = if im.ty(rois).element_type == ElementType::F32 {
        rois
    } else {
        im.emit(ctx, OpKind::Cast(ElementType::F32), &[rois])?
    };
    // Region corners, scaled and offset: [R, 1] each.
    let corner = |im: &mut Importer, i: usize| -> Result<ValueId, ImportError> {
        let pick = im.constant(HostTensor::from_i64(&[1], &[i as i64]), &ctx.name);
        let v = im.emit(ctx, OpKind::Gather { axis: 1 }, &[rois, pick])?;
        let s = scalar_like(im, ctx, v, scale);
        let v = bin(im, ctx, BinaryOp::Mul, v, s)?;
        let offset = scalar_like(im, ctx, v, if half_pixel { 0.5 } else { 0.0 });
        bin(im, ctx, BinaryOp::Sub, v, offset)
    };
    let (x1, y1, x2, y2) = (
        corner(im, 0)?,
        corner(im, 1)?,
        corner(im, 2)?,
        corner(im, 3)?,
    );
    let ys = axis_samples(im, ctx, (y1, y2), oh, ratio, height, half_pixel)?;
    let xs_ = axis_samples(im, ctx, (x1, x2), ow, ratio, width, half_pixel)?;
    let (sh, sw) = (oh * ratio, ow * ratio);
    // Everything is [R, C, sh, sw]: rows [R, 1, sh, 1], columns [R, 1, 1, sw].
    let rows = |im: &mut Importer, v: ValueId| reshape_to(im, ctx, v, vec![regions, 1, sh, 1]);
    let cols = |im: &mut Importer, v: ValueId| reshape_to(im, ctx, v, vec![regions, 1, 1, sw]);
    let batch = if im.ty(batch).element_type == ElementType::I64 {
        batch
    } else {
        im.emit(ctx, OpKind::Cast(ElementType::I64), &[batch])?
    };
    let batch = reshape_to(im, ctx, batch, vec![regions, 1, 1, 1])?;
    let c_pos: Vec<i64> = (0..channels as i64).collect();
    let c_pos = im.constant(
        HostTensor::from_i64(&[1, channels, 1, 1], &c_pos),
        &ctx.name,
    );
    // Plane base: (b·C + c)·H·W; batch indices outside 0..N point past the image.
    let ci = |im: &mut Importer, v: i64| im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name);
    let (cn, cc, chw) = (
        ci(im, n as i64),
        ci(im, channels as i64),
        ci(im, (height * width) as i64),
    );
    let zero_i = ci(im, 0);
    let neg = bin(im, ctx, BinaryOp::Less, batch, zero_i)?;
    let big = bin(im, ctx, BinaryOp::Less, batch, cn)?;
    let big = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[big])?;
    let bad = bin(im, ctx, BinaryOp::Or, neg, big)?;
    let past = ci(im, (n * channels * height * width) as i64);
    let plane = bin(im, ctx, BinaryOp::Mul, batch, cc)?;
    let plane = bin(im, ctx, BinaryOp::Add, plane, c_pos)?;
    let plane = bin(im, ctx, BinaryOp::Mul, plane, chw)?;
    let flat_x = reshape_to(im, ctx, x32, vec![n * channels * height * width])?;
    let cw = ci(im, width as i64);
    let (y_low, y_high) = (rows(im, ys.low)?, rows(im, ys.high)?);
    let (x_low, x_high) = (cols(im, xs_.low)?, cols(im, xs_.high)?);
    let (wy_low, wy_high) = (rows(im, ys.w_low)?, rows(im, ys.w_high)?);
    let (wx_low, wx_high) = (cols(im, xs_.w_low)?, cols(im, xs_.w_high)?);
    let valid = {
        let (vy, vx) = (rows(im, ys.valid)?, cols(im, xs_.valid)?);
        bin(im, ctx, BinaryOp::And, vy, vx)?
    };
    let zero_f = scalar_like(im, ctx, x32, 0.0);
    let mut taps = vec![];
    for (y, wy) in [(y_low, wy_low), (y_high, wy_high)] {
        for (xx, wx) in [(x_low, wx_low), (x_high, wx_high)] {
            let at = bin(im, ctx, BinaryOp::Mul, y, cw)?;
            let at = bin(im, ctx, BinaryOp::Add, at, xx)?;
            let at = bin(im, ctx, BinaryOp::Add, at, plane)?;
            let at = im.emit(ctx, OpKind::Select, &[bad, past, at])?;
            let v = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_x, at])?;
            let w = bin(im, ctx, BinaryOp::Mul, wy, wx)?;
            let w = im.emit(ctx, OpKind::Select, &[valid, w, zero_f])?;
            taps.push(bin(im, ctx, BinaryOp::Mul, w, v)?);
        }
    }
    let combine = if max { BinaryOp::Max } else { BinaryOp::Add };
    let mut sample = taps[0];
    for &t in &taps[1..] {
        sample = bin(im, ctx, combine, sample, t)?;
    }
    let grid = reshape_to(
        im,
        ctx,
        sample,
        vec![regions, channels, oh, ratio, ow, ratio],
    )?;
    let kind = if max {
        ReduceKind::Max
    } else {
        ReduceKind::Mean
    };
    let y = im.emit(
        ctx,
        OpKind::Reduce {
            kind,
            axes: vec![3, 5],
            keep_dims: false,
        },
        &[grid],
    )?;
    let out_type = im.ty(x).element_type;
    if out_type == ElementType::F32 {
        return Ok(vec![Some(y)]);
    }
    Ok(vec![Some(im.emit(ctx, OpKind::Cast(out_type), &[y])?)])
}
