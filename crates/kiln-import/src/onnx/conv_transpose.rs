//! ConvTranspose (1-D and 2-D) as a convolution.
//!
//! A transposed convolution with stride `s` is a stride-1 convolution over the input with
//! `s - 1` zeros inserted between neighbours, padded by `dilation · (kernel - 1)` less the
//! node's `pads` (more `output_padding` at the end), with each group's weights transposed
//! (input and output channels swapped) and flipped in space. Zero insertion is a reshape, a
//! Pad and a Slice; negative padding crops the input instead. Constant weights are
//! rearranged once, while importing.

use super::ops::{arg, as_2d, from_2d, pair, reshape_to, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Conv2dAttrs, OpKind, ValueId};

/// Per spatial dim (two, height first; a 1-D window gets a unit height): non-negative values
/// of `name`, `default` when absent.
fn non_negative(
    ctx: &NodeCtx,
    name: &str,
    rank: usize,
    per_dim: usize,
) -> Result<Vec<usize>, ImportError> {
    let values = match ctx.ints(name) {
        None => return Ok(vec![0; 2 * per_dim]),
        Some(v) => v,
    };
    if values.len() != rank * per_dim || values.iter().any(|&v| v < 0) {
        return Err(ctx.err(format!(
            "{name} {values:?} must be {} non-negative values",
            rank * per_dim
        )));
    }
    let v: Vec<usize> = values.iter().map(|&v| v as usize).collect();
    // Lay out as [h..., w...] blocks of `per_dim` with a unit-height dim for 1-D windows.
    Ok(if rank == 1 {
        (0..per_dim).flat_map(|b| [0, v[b]]).collect()
    } else {
        v
    })
}

pub(super) fn conv_transpose(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let rank = im.ty(arg(ctx, inputs, 0)?).rank().saturating_sub(2);
    let (x, _) = as_2d(im, ctx, arg(ctx, inputs, 0)?, "input")?;
    let (w, _) = as_2d(im, ctx, arg(ctx, inputs, 1)?, "weights")?;
    let [n, c, h, wd] = *im.shape(ctx, x)? else {
        return Err(ctx.err(format!("input must be 4-D, got {}", im.ty(x))));
    };
    let [wc, m_per_group, kh, kw] = *im.shape(ctx, w)? else {
        return Err(ctx.err(format!("weights must be 4-D, got {}", im.ty(w))));
    };
    if [h, wd, kh, kw].contains(&0) {
        return Err(ctx.err(format!(
            "input {} and weights {} need non-empty spatial dims",
            im.ty(x),
            im.ty(w)
        )));
    }
    let groups = usize::try_from(ctx.int("group", 1))
        .ok()
        .filter(|&g| g >= 1 && c % g == 0 && wc == c)
        .ok_or_else(|| {
            ctx.err(format!(
                "group {} does not divide the input's {c} channels, or the weights' {wc} input channels differ",
                ctx.int("group", 1)
            ))
        })?;
    let strides = pair(ctx, "strides", 1, rank)?;
    let dilations = pair(ctx, "dilations", 1, rank)?;
    let kernel = [kh, kw];
    if let Some(ks) = ctx.ints("kernel_shape") {
        let expected: Vec<i64> = kernel[2 - rank..].iter().map(|&k| k as i64).collect();
        if ks != expected {
            return Err(ctx.err(format!(
                "kernel_shape {ks:?} does not match the weights' {expected:?}"
            )));
        }
    }
    let output_padding = non_negative(ctx, "output_padding", rank, 1)?;
    let input = [h, wd];
    // Sizes this large are no model's; refusing them keeps the arithmetic below exact.
    const LIMIT: usize = 1 << 24;
    let values = [strides, dilations, kernel, input].concat();
    if values.iter().chain(&output_padding).any(|&v| v >= LIMIT) {
        return Err(ctx.err(format!(
            "strides {strides:?}, dilations {dilations:?}, output_padding {output_padding:?} or sizes exceed {LIMIT}"
        )));
    }
    let span = |d: usize| dilations[d] * (kernel[d] - 1) + 1;
    // The full output length per dim before `pads` crop it.
    let full = |d: usize| strides[d] * (input[d] - 1) + output_padding[d] + span(d);
    let auto = ctx.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    // Signed: an output_shape beyond the full output pads its end (negative cropping).
    let mut begin = [0i64; 2];
    let mut end = [0i64; 2];
    let output_shape = ctx.ints("output_shape");
    if output_shape.is_some() || matches!(auto.as_str(), "SAME_UPPER" | "SAME_LOWER") {
        for d in 0..2 {
            let target = match &output_shape {
                Some(_) if rank == 1 && d == 0 => 1,
                Some(s) => {
                    let v = (s.len() + d)
                        .checked_sub(2)
                        .and_then(|i| s.get(i))
                        .ok_or_else(|| ctx.err("output_shape needs a size per spatial dim"))?;
                    usize::try_from(*v)
                        .ok()
                        .filter(|&v| v < LIMIT)
                        .ok_or_else(|| ctx.err(format!("output_shape {s:?} is out of range")))?
                }
                None => input[d] * strides[d],
            };
            let total = full(d) as i64 - target as i64;
            let (small, big) = (total.div_euclid(2), total - total.div_euclid(2));
            (begin[d], end[d]) = if auto == "SAME_UPPER" {
                (small, big)
            } else {
                (big, small)
            };
        }
    } else if auto == "NOTSET" || auto.is_empty() {
        let p = non_negative(ctx, "pads", rank, 2)?;
        begin = [p[0] as i64, p[1] as i64];
        end = [p[2] as i64, p[3] as i64];
    } else if auto != "VALID" {
        return Err(ctx.err(format!("auto_pad '{auto}' is not supported")));
    }

    // The input with stride - 1 zeros between neighbours.
    let mut up = x;
    if strides != [1, 1] {
        let [sh, sw] = strides;
        up = reshape_to(im, ctx, up, vec![n, c, h, 1, wd, 1])?;
        up = im.emit(
            ctx,
            OpKind::Pad {
                lows: vec![0; 6],
                highs: vec![0, 0, 0, sh - 1, 0, sw - 1],
                value: 0.0,
            },
            &[up],
        )?;
        up = reshape_to(im, ctx, up, vec![n, c, h * sh, wd * sw])?;
        up = im.emit(
            ctx,
            OpKind::Slice {
                starts: vec![0; 4],
                ends: vec![
                    n as i64,
                    c as i64,
                    ((h - 1) * sh + 1) as i64,
                    ((wd - 1) * sw + 1) as i64,
                ],
                steps: vec![1; 4],
            },
            &[up],
        )?;
    }
    // Padding of the zero-inserted input; a negative amount crops it.
    let mut pads = [0usize; 4];
    let mut crop = false;
    let up_shape = im.shape(ctx, up)?;
    let (mut starts, mut ends) = (
        vec![0i64; 4],
        up_shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
    );
    for d in 0..2 {
        let lo = (span(d) - 1) as i64 - begin[d];
        let hi = (span(d) - 1) as i64 - end[d] + output_padding[d] as i64;
        if lo >= 0 {
            pads[d] = lo as usize;
        } else {
            starts[d + 2] = -lo;
            crop = true;
        }
        if hi >= 0 {
            pads[d + 2] = hi as usize;
        } else {
            ends[d + 2] += hi;
            crop = true;
        }
    }
    if crop {
        if (0..4).any(|d| starts[d] > ends[d]) {
            return Err(ctx.err("pads crop away the whole output"));
        }
        up = im.emit(
            ctx,
            OpKind::Slice {
                starts,
                ends,
                steps: vec![1; 4],
            },
            &[up],
        )?;
    }
    // Weights: [C, M/g, kh, kw] → per group swapped to [M/g, C/g] and flipped in space.
    let cg = c / groups;
    let wt = reshape_to(im, ctx, w, vec![groups, cg, m_per_group, kh, kw])?;
    let wt = im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 2, 1, 3, 4],
        },
        &[wt],
    )?;
    let wt = reshape_to(im, ctx, wt, vec![groups * m_per_group, cg, kh, kw])?;
    let wt = im.emit(
        ctx,
        OpKind::Slice {
            starts: vec![0, 0, kh as i64 - 1, kw as i64 - 1],
            ends: vec![(groups * m_per_group) as i64, cg as i64, -1, -1],
            steps: vec![1, 1, -1, -1],
        },
        &[wt],
    )?;
    let attrs = Conv2dAttrs {
        strides: [1, 1],
        pads,
        dilations,
        groups,
    };
    let mut y = im.emit(ctx, OpKind::Conv2d(attrs), &[up, wt])?;
    if let Some(bias) = inputs.get(2).copied().flatten() {
        let b = reshape_to(im, ctx, bias, vec![1, groups * m_per_group, 1, 1])?;
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, b])?;
    }
    Ok(vec![Some(from_2d(im, ctx, y, rank)?)])
}
