//! ConvTranspose (1-D, 2-D and 3-D) as a convolution.
//!
//! A transposed convolution with stride `s` is a stride-1 convolution over the input with
//! `s - 1` zeros inserted between neighbours, padded by `dilation · (kernel - 1)` less the
//! node's `pads` (more `output_padding` at the end), with each group's weights transposed
//! (input and output channels swapped) and flipped in space. Zero insertion is a reshape, a
//! Pad and a Slice; negative padding crops the input instead. Constant weights are
//! rearranged once, while importing. 1-D windows run as 2-D with a unit height; 3-D ones as
//! [`super::conv3d`]'s convolution.

use super::ops::{arg, as_2d, from_2d, reshape_to, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Conv2dAttrs, OpKind, ValueId};

/// Per spatial dim (`dims` of them, height first; a 1-D window gets a unit height): the
/// `per_dim` blocks of non-negative values of `name`, `default` when absent.
fn non_negative(
    ctx: &NodeCtx,
    name: &str,
    rank: usize,
    dims: usize,
    per_dim: usize,
    default: usize,
) -> Result<Vec<usize>, ImportError> {
    let values = match ctx.ints(name) {
        None => return Ok(vec![default; dims * per_dim]),
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
        (0..per_dim).flat_map(|b| [default.min(1), v[b]]).collect()
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
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (x, w) = match rank {
        1 | 2 => (
            as_2d(im, ctx, x, "input")?.0,
            as_2d(im, ctx, w, "weights")?.0,
        ),
        3 => (x, w),
        _ => {
            return Err(ctx.err(format!(
                "only 1-D, 2-D and 3-D windows are supported, got input {}",
                im.ty(x)
            )))
        }
    };
    let (xs, ws) = (im.shape(ctx, x)?, im.shape(ctx, w)?);
    // Spatial dims as computed: 2 (1-D and 2-D windows) or 3.
    let dims = xs.len() - 2;
    if ws.len() != xs.len() {
        return Err(ctx.err(format!(
            "weights {} do not fit input {}",
            im.ty(w),
            im.ty(x)
        )));
    }
    let (n, c, input) = (xs[0], xs[1], xs[2..].to_vec());
    let (wc, m_per_group, kernel) = (ws[0], ws[1], ws[2..].to_vec());
    if input.contains(&0) || kernel.contains(&0) {
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
    let strides = non_negative(ctx, "strides", rank, dims, 1, 1)?;
    let dilations = non_negative(ctx, "dilations", rank, dims, 1, 1)?;
    if strides.contains(&0) || dilations.contains(&0) {
        return Err(ctx.err("strides and dilations must be positive"));
    }
    if let Some(ks) = ctx.ints("kernel_shape") {
        let expected: Vec<i64> = kernel[dims - rank..].iter().map(|&k| k as i64).collect();
        if ks != expected {
            return Err(ctx.err(format!(
                "kernel_shape {ks:?} does not match the weights' {expected:?}"
            )));
        }
    }
    let output_padding = non_negative(ctx, "output_padding", rank, dims, 1, 0)?;
    // Sizes this large are no model's; refusing them keeps the arithmetic below exact.
    const LIMIT: usize = 1 << 24;
    let values = [&strides[..], &dilations, &kernel, &input, &output_padding].concat();
    if values.iter().any(|&v| v >= LIMIT) {
        return Err(ctx.err(format!(
            "strides {strides:?}, dilations {dilations:?}, output_padding {output_padding:?} or sizes exceed {LIMIT}"
        )));
    }
    let span = |d: usize| dilations[d] * (kernel[d] - 1) + 1;
    // The full output length per dim before `pads` crop it.
    let full = |d: usize| strides[d] * (input[d] - 1) + output_padding[d] + span(d);
    let auto = ctx.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    // Signed: an output_shape beyond the full output pads its end (negative cropping).
    let mut begin = vec![0i64; dims];
    let mut end = vec![0i64; dims];
    let output_shape = ctx.ints("output_shape");
    if output_shape.is_some() || matches!(auto.as_str(), "SAME_UPPER" | "SAME_LOWER") {
        for d in 0..dims {
            let target = match &output_shape {
                Some(_) if rank == 1 && d == 0 => 1,
                Some(s) => {
                    let v = (s.len() + d)
                        .checked_sub(dims)
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
        let p = non_negative(ctx, "pads", rank, dims, 2, 0)?;
        for d in 0..dims {
            (begin[d], end[d]) = (p[d] as i64, p[d + dims] as i64);
        }
    } else if auto != "VALID" {
        return Err(ctx.err(format!("auto_pad '{auto}' is not supported")));
    }

    // The input with stride - 1 zeros between neighbours: each spatial dim gains a unit dim
    // after it, padded to the stride, merged back and cut after the last input element.
    let mut up = x;
    if strides.iter().any(|&s| s != 1) {
        let mut split = vec![n, c];
        let (mut highs, mut merged, mut ends) = (vec![0, 0], vec![n, c], vec![n as i64, c as i64]);
        for d in 0..dims {
            split.extend([input[d], 1]);
            highs.extend([0, strides[d] - 1]);
            merged.push(input[d] * strides[d]);
            ends.push(((input[d] - 1) * strides[d] + 1) as i64);
        }
        up = reshape_to(im, ctx, up, split)?;
        let lows = vec![0; highs.len()];
        up = im.emit(
            ctx,
            OpKind::Pad {
                lows,
                highs,
                value: 0.0,
            },
            &[up],
        )?;
        up = reshape_to(im, ctx, up, merged)?;
        let starts = vec![0; ends.len()];
        let steps = vec![1; ends.len()];
        up = im.emit(
            ctx,
            OpKind::Slice {
                starts,
                ends,
                steps,
            },
            &[up],
        )?;
    }
    // Padding of the zero-inserted input; a negative amount crops it.
    let mut pads = vec![(0usize, 0usize); dims];
    let mut crop = false;
    let up_shape = im.shape(ctx, up)?;
    let (mut starts, mut ends) = (
        vec![0i64; dims + 2],
        up_shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
    );
    for d in 0..dims {
        let lo = (span(d) - 1) as i64 - begin[d];
        let hi = (span(d) - 1) as i64 - end[d] + output_padding[d] as i64;
        if lo >= 0 {
            pads[d].0 = lo as usize;
        } else {
            starts[d + 2] = -lo;
            crop = true;
        }
        if hi >= 0 {
            pads[d].1 = hi as usize;
        } else {
            ends[d + 2] += hi;
            crop = true;
        }
    }
    if crop {
        if starts.iter().zip(&ends).any(|(s, e)| s > e) {
            return Err(ctx.err("pads crop away the whole output"));
        }
        let steps = vec![1; dims + 2];
        up = im.emit(
            ctx,
            OpKind::Slice {
                starts,
                ends,
                steps,
            },
            &[up],
        )?;
    }
    // Weights: [C, M/g, k…] → per group swapped to [M/g, C/g] and flipped in space.
    let cg = c / groups;
    let m = groups * m_per_group;
    let wt = reshape_to(
        im,
        ctx,
        w,
        [vec![groups, cg, m_per_group], kernel.clone()].concat(),
    )?;
    let mut perm: Vec<usize> = (0..dims + 3).collect();
    perm.swap(1, 2);
    let wt = im.emit(ctx, OpKind::Transpose { perm }, &[wt])?;
    let wt = reshape_to(im, ctx, wt, [vec![m, cg], kernel.clone()].concat())?;
    let flip = OpKind::Slice {
        starts: [vec![0, 0], kernel.iter().map(|&k| k as i64 - 1).collect()].concat(),
        ends: [vec![m as i64, cg as i64], vec![-1; dims]].concat(),
        steps: [vec![1, 1], vec![-1; dims]].concat(),
    };
    let wt = im.emit(ctx, flip, &[wt])?;
    let mut y = if dims == 3 {
        let window = super::conv3d::Window {
            strides: [1; 3],
            dilations: [dilations[0], dilations[1], dilations[2]],
            pads: [pads[0], pads[1], pads[2]],
            group: groups,
        };
        super::conv3d::convolve(im, ctx, up, wt, &window)?
    } else {
        let attrs = Conv2dAttrs {
            strides: [1, 1],
            pads: [pads[0].0, pads[1].0, pads[0].1, pads[1].1],
            dilations: [dilations[0], dilations[1]],
            groups,
        };
        im.emit(ctx, OpKind::Conv2d(attrs), &[up, wt])?
    };
    if let Some(bias) = inputs.get(2).copied().flatten() {
        let mut shape = vec![1; dims + 2];
        shape[1] = m;
        let b = reshape_to(im, ctx, bias, shape)?;
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, b])?;
    }
    Ok(vec![Some(match dims {
        3 => y,
        _ => from_2d(im, ctx, y, rank)?,
    })])
}
