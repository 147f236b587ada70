//! Conv over volumes (`N×C×D×H×W`) as one 2-D convolution: the depth window is folded into
//! the channels. The input, zero-padded along depth, is gathered into every output depth's
//! `kD` source slices (`[N, C, out_d, kD, H, W]`), moved to `[N·out_d, C·kD, H, W]`, and
//! convolved with the weights read as `[M, C/group·kD, kH, kW]` (each group's channels stay
//! contiguous, depth taps innermost, as the fold lays them out); the result goes back to
//! `[N, M, out_d, out_h, out_w]`. Strides, dilations, pads (or auto_pad) and groups apply per
//! axis as ONNX defines them.

use super::ops::{arg, bin, reshape_to, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Conv2dAttrs, OpKind, ValueId};
use kiln_types::HostTensor;

/// The per-axis attribute `name` of a 3-D window (`default` when absent), each positive.
fn per_axis(ctx: &NodeCtx, name: &str, default: usize) -> Result<[usize; 3], ImportError> {
    match ctx.ints(name) {
        None => Ok([default; 3]),
        Some(v) if v.len() == 3 && v.iter().all(|&x| x > 0) => {
            Ok([v[0] as usize, v[1] as usize, v[2] as usize])
        }
        Some(v) => Err(ctx.err(format!("{name} {v:?} must be 3 positive values"))),
    }
}

/// Begin and end padding per axis, from `pads` or `auto_pad`.
fn pads(
    ctx: &NodeCtx,
    input: [usize; 3],
    span: [usize; 3],
    strides: [usize; 3],
) -> Result<[(usize, usize); 3], ImportError> {
    let auto = ctx.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    let mut out = [(0, 0); 3];
    match auto.as_str() {
        "NOTSET" | "" => {
            let p = ctx.ints("pads").unwrap_or_else(|| vec![0; 6]);
            if p.len() != 6 || p.iter().any(|&v| v < 0) {
                return Err(ctx.err(format!("pads {p:?} must be 6 non-negative values")));
            }
            for (d, o) in out.iter_mut().enumerate() {
                *o = (p[d] as usize, p[d + 3] as usize);
            }
        }
        "VALID" => {}
        "SAME_UPPER" | "SAME_LOWER" => {
            for (d, o) in out.iter_mut().enumerate() {
                let total = ((input[d].div_ceil(strides[d])).saturating_sub(1) * strides[d]
                    + span[d])
                    .saturating_sub(input[d]);
                let (small, big) = (total / 2, total - total / 2);
                *o = if auto == "SAME_UPPER" {
                    (small, big)
                } else {
                    (big, small)
                };
            }
        }
        other => return Err(ctx.err(format!("auto_pad '{other}' is not supported"))),
    }
    Ok(out)
}

pub(super) fn conv_3d(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (xs, ws) = (im.shape(ctx, x)?, im.shape(ctx, w)?);
    let (&[_, c, depth, h, wd], &[m, cg, kd, kh, kw]) = (&xs[..], &ws[..]) else {
        return Err(ctx.err(format!(
            "a 3-D convolution takes N×C×D×H×W input and M×C×kD×kH×kW weights, got {} and {}",
            im.ty(x),
            im.ty(w)
        )));
    };
    if [depth, h, wd, kd, kh, kw].contains(&0) {
        return Err(ctx.err(format!(
            "input {} and weights {} need non-empty spatial dims",
            im.ty(x),
            im.ty(w)
        )));
    }
    let group = usize::try_from(ctx.int("group", 1))
        .ok()
        .filter(|&g| g > 0 && c % g == 0 && m % g == 0 && c / g == cg)
        .ok_or_else(|| {
            ctx.err(format!(
                "group {} does not fit input {} and weights {}",
                ctx.int("group", 1),
                im.ty(x),
                im.ty(w)
            ))
        })?;
    if let Some(ks) = ctx.ints("kernel_shape") {
        if ks != [kd as i64, kh as i64, kw as i64] {
            return Err(ctx.err(format!(
                "kernel_shape {ks:?} does not match the weights' [{kd}, {kh}, {kw}]"
            )));
        }
    }
    let strides = per_axis(ctx, "strides", 1)?;
    let dilations = per_axis(ctx, "dilations", 1)?;
    let kernel = [kd, kh, kw];
    let span: [usize; 3] = std::array::from_fn(|d| (kernel[d] - 1) * dilations[d] + 1);
    let pads = pads(ctx, [depth, h, wd], span, strides)?;
    let window = Window {
        strides,
        dilations,
        pads,
        group,
    };
    let mut y = convolve(im, ctx, x, w, &window)?;
    if let Some(b) = inputs.get(2).copied().flatten() {
        let b = reshape_to(im, ctx, b, vec![1, m, 1, 1, 1])?;
        y = bin(im, ctx, BinaryOp::Add, y, b)?;
    }
    Ok(vec![Some(y)])
}

/// A 3-D window: per axis (depth, height, width) stride, dilation and (begin, end) padding,
/// and the group count.
pub(super) struct Window {
    pub strides: [usize; 3],
    pub dilations: [usize; 3],
    pub pads: [(usize, usize); 3],
    pub group: usize,
}

/// The convolution of `x` (`N×C×D×H×W`) by `w` (`M×C/group×kD×kH×kW`) over `window`, as the
/// module docs describe.
pub(super) fn convolve(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    w: ValueId,
    window: &Window,
) -> Result<ValueId, ImportError> {
    let (xs, ws) = (im.shape(ctx, x)?, im.shape(ctx, w)?);
    let (&[n, c, depth, h, wd], &[m, cg, kd, kh, kw]) = (&xs[..], &ws[..]) else {
        return Err(ctx.err("a 3-D convolution takes 5-D operands"));
    };
    let Window {
        strides,
        dilations,
        pads,
        group,
    } = *window;
    let span = (kd - 1) * dilations[0] + 1;
    let padded = depth + pads[0].0 + pads[0].1;
    if padded < span {
        return Err(ctx.err("the kernel is deeper than the padded input"));
    }
    let out_d = (padded - span) / strides[0] + 1;
    let x = if pads[0] == (0, 0) {
        x
    } else {
        let (mut lows, mut highs) = (vec![0; 5], vec![0; 5]);
        (lows[2], highs[2]) = pads[0];
        im.emit(
            ctx,
            OpKind::Pad {
                lows,
                highs,
                value: 0.0,
            },
            &[x],
        )?
    };
    // Depth slice od·sD + t·dD of every output depth od and depth tap t.
    let at: Vec<i64> = (0..out_d * kd)
        .map(|i| ((i / kd) * strides[0] + (i % kd) * dilations[0]) as i64)
        .collect();
    let at = im.constant(HostTensor::from_i64(&[out_d, kd], &at), &ctx.name);
    let slices = im.emit(ctx, OpKind::Gather { axis: 2 }, &[x, at])?;
    let slices = im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 2, 1, 3, 4, 5],
        },
        &[slices],
    )?;
    let folded = reshape_to(im, ctx, slices, vec![n * out_d, c * kd, h, wd])?;
    let weights = reshape_to(im, ctx, w, vec![m, cg * kd, kh, kw])?;
    let attrs = Conv2dAttrs {
        strides: [strides[1], strides[2]],
        pads: [pads[1].0, pads[2].0, pads[1].1, pads[2].1],
        dilations: [dilations[1], dilations[2]],
        groups: group,
    };
    let y = im.emit(ctx, OpKind::Conv2d(attrs), &[folded, weights])?;
    let [_, _, out_h, out_w] = im.shape(ctx, y)?[..] else {
        return Err(ctx.err("the folded convolution is not 4-D"));
    };
    let y = reshape_to(im, ctx, y, vec![n, out_d, m, out_h, out_w])?;
    im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 2, 1, 3, 4],
        },
        &[y],
    )
}
