//! DFT (17, 20) and STFT (17) as matmuls with constant twiddle matrices, which is what the transform is for
//! a length known when compiling: the signal's real and imaginary parts (the last dim, 1 or 2
//! wide) each multiply a `[n, bins]` cosine and sine matrix along the transformed axis, the
//! signal cut or zero-padded to `dft_length` by the matrices' rows. Inverse transforms divide by
//! the length; a one-sided inverse (irfft) rebuilds the real signal from the first half of the
//! spectrum, counting every bin but the first (and the middle one of an even length) twice, as
//! NumPy's `irfft` does.

use super::ops::{arg, axis, bin, const_arg, reshape_dims, slice_axis, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, SymExpr, ValueId};
use kiln_types::{ElementType, HostTensor};
use std::f64::consts::PI;

/// A `[rows, cols]` f32 constant whose element `(t, k)` is `f(t, k)`.
fn matrix(
    im: &mut Importer,
    ctx: &NodeCtx,
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize) -> f64,
) -> ValueId {
    let values: Vec<f64> = (0..rows * cols).map(|i| f(i / cols, i % cols)).collect();
    im.constant(
        HostTensor::from_f64(ElementType::F32, &[rows, cols], &values),
        &ctx.name,
    )
}

/// The twiddle angle `2π·t·k / len` of sample `t` and bin `k`.
fn angle(len: usize) -> impl Fn(usize, usize) -> f64 + Copy {
    move |t, k| 2.0 * PI * ((t * k) % len) as f64 / len as f64
}

/// 1 for a sample the transform reads, 0 past its length (the signal is cut; missing samples
/// are zeros).
fn within(len: usize) -> impl Fn(usize) -> f64 + Copy {
    move |t| if t < len { 1.0 } else { 0.0 }
}

/// The forward transform along the last dim (of `n`, cut or zero-padded to `len`) of a
/// signal's f32 real part and, if complex, imaginary part: the spectrum's real and imaginary
/// parts, with `len / 2 + 1` bins when `onesided`, else `len`.
pub(super) fn forward(
    im: &mut Importer,
    ctx: &NodeCtx,
    re: ValueId,
    im_part: Option<ValueId>,
    n: usize,
    len: usize,
    onesided: bool,
) -> Result<(ValueId, ValueId), ImportError> {
    let (theta, within) = (angle(len), within(len));
    let bins = if onesided { len / 2 + 1 } else { len };
    let cos = matrix(im, ctx, n, bins, |t, k| within(t) * theta(t, k).cos());
    let sin = matrix(im, ctx, n, bins, |t, k| within(t) * theta(t, k).sin());
    spectrum(im, ctx, re, im_part, cos, sin)
}

/// The spectrum of a signal's real part (and imaginary part) by the twiddle matrices `cos`
/// and `sin` (`[samples, bins]`).
fn spectrum(
    im: &mut Importer,
    ctx: &NodeCtx,
    re: ValueId,
    im_part: Option<ValueId>,
    cos: ValueId,
    sin: ValueId,
) -> Result<(ValueId, ValueId), ImportError> {
    // X = Σ s·e^{-iθ}: re = Σ re·cos + im·sin, im = Σ im·cos − re·sin.
    let mut out_re = im.emit(ctx, OpKind::MatMul, &[re, cos])?;
    let re_sin = im.emit(ctx, OpKind::MatMul, &[re, sin])?;
    let zero = super::ops::scalar_like(im, ctx, re_sin, 0.0);
    let mut out_im = bin(im, ctx, BinaryOp::Sub, zero, re_sin)?;
    if let Some(ip) = im_part {
        let a = im.emit(ctx, OpKind::MatMul, &[ip, sin])?;
        out_re = bin(im, ctx, BinaryOp::Add, out_re, a)?;
        let b = im.emit(ctx, OpKind::MatMul, &[ip, cos])?;
        out_im = bin(im, ctx, BinaryOp::Add, out_im, b)?;
    }
    Ok((out_re, out_im))
}

pub(super) fn dft(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let shape = im.shape(ctx, x)?;
    let rank = shape.len();
    let parts = shape.last().copied().unwrap_or(0);
    if rank < 2 || !(parts == 1 || parts == 2) {
        return Err(ctx.err(format!(
            "the signal must end in a dim of 1 (real) or 2 (complex), got {}",
            im.ty(x)
        )));
    }
    let raw_axis = if ctx.opset >= 20 {
        match const_arg(im, ctx, inputs, 2)? {
            Some(t) => *t.to_i64().first().ok_or_else(|| ctx.err("axis is empty"))?,
            None => -2,
        }
    } else {
        ctx.int("axis", 1)
    };
    let a = axis(ctx, raw_axis, rank)?;
    if a == rank - 1 {
        return Err(ctx.err("the transformed axis cannot be the last (real, imaginary) dim"));
    }
    let (inverse, onesided) = (ctx.int("inverse", 0) != 0, ctx.int("onesided", 0) != 0);
    let n = shape[a];
    let len = match const_arg(im, ctx, inputs, 1)? {
        Some(t) => {
            let l = *t
                .to_i64()
                .first()
                .ok_or_else(|| ctx.err("dft_length is empty"))?;
            usize::try_from(l)
                .ok()
                .filter(|&l| l > 0)
                .ok_or_else(|| ctx.err(format!("dft_length {l} must be positive")))?
        }
        None if inverse && onesided => 2 * n.saturating_sub(1),
        None => n,
    };
    if len == 0 {
        return Err(ctx.err("the transform length is zero"));
    }
    let et = im.ty(x).element_type;
    let x = if et == ElementType::F32 {
        x
    } else {
        im.emit(ctx, OpKind::Cast(ElementType::F32), &[x])?
    };
    // Real and imaginary parts with the transformed axis last: [..., n].
    let mut perm: Vec<usize> = (0..rank - 1).filter(|&d| d != a).collect();
    perm.push(a);
    let dims: Vec<Dim> = shape.iter().map(|&d| Dim::Static(d)).collect();
    let part = |im: &mut Importer, i: usize| -> Result<ValueId, ImportError> {
        let p = slice_axis(im, ctx, x, &dims, rank - 1, i, i + 1)?;
        let p = reshape_dims(im, ctx, p, dims[..rank - 1].to_vec())?;
        im.emit(ctx, OpKind::Transpose { perm: perm.clone() }, &[p])
    };
    let re = part(im, 0)?;
    let im_part = if parts == 2 { Some(part(im, 1)?) } else { None };
    let (theta, within) = (angle(len), within(len));
    let (out_re, out_im) = if !inverse {
        let (out_re, out_im) = forward(im, ctx, re, im_part, n, len, onesided)?;
        (out_re, Some(out_im))
    } else if !onesided {
        let scale = 1.0 / len as f64;
        let cos = matrix(im, ctx, n, len, |t, k| {
            within(t) * scale * theta(t, k).cos()
        });
        let sin = matrix(im, ctx, n, len, |t, k| {
            within(t) * scale * theta(t, k).sin()
        });
        // x = (1/L) Σ X·e^{iθ}: re = Σ re·cos − im·sin, im = Σ re·sin + im·cos.
        let mut out_re = im.emit(ctx, OpKind::MatMul, &[re, cos])?;
        let mut out_im = im.emit(ctx, OpKind::MatMul, &[re, sin])?;
        if let Some(ip) = im_part {
            let a = im.emit(ctx, OpKind::MatMul, &[ip, sin])?;
            out_re = bin(im, ctx, BinaryOp::Sub, out_re, a)?;
            let b = im.emit(ctx, OpKind::MatMul, &[ip, cos])?;
            out_im = bin(im, ctx, BinaryOp::Add, out_im, b)?;
        }
        (out_re, Some(out_im))
    } else {
        // irfft: the bins 0..=L/2 of a Hermitian spectrum, each but the first (and an even
        // length's middle one) standing for itself and its mirror image; their imaginary
        // parts do not contribute.
        let half = len / 2 + 1;
        let weight = move |k: usize| {
            if k >= half {
                0.0
            } else if k == 0 || (len % 2 == 0 && k == len / 2) {
                1.0
            } else {
                2.0
            }
        };
        let scale = 1.0 / len as f64;
        let cos = matrix(im, ctx, n, len, |k, t| {
            weight(k) * scale * theta(t, k).cos()
        });
        let mut out = im.emit(ctx, OpKind::MatMul, &[re, cos])?;
        if let Some(ip) = im_part {
            let middle = |k: usize| k == 0 || (len % 2 == 0 && k == len / 2);
            let sin = matrix(im, ctx, n, len, |k, t| {
                if middle(k) {
                    0.0
                } else {
                    weight(k) * scale * theta(t, k).sin()
                }
            });
            let b = im.emit(ctx, OpKind::MatMul, &[ip, sin])?;
            out = bin(im, ctx, BinaryOp::Sub, out, b)?;
        }
        (out, None)
    };
    // Back to the input's layout, with the parts stacked in a last dim.
    let mut inverse_perm = vec![0; rank - 1];
    for (i, &p) in perm.iter().enumerate() {
        inverse_perm[p] = i;
    }
    let restore = |im: &mut Importer, v: ValueId| -> Result<ValueId, ImportError> {
        let v = im.emit(
            ctx,
            OpKind::Transpose {
                perm: inverse_perm.clone(),
            },
            &[v],
        )?;
        let mut d = im.dims(v);
        d.push(Dim::Static(1));
        reshape_dims(im, ctx, v, d)
    };
    let mut y = restore(im, out_re)?;
    if let Some(oi) = out_im {
        let oi = restore(im, oi)?;
        y = im.emit(ctx, OpKind::Concat { axis: rank - 1 }, &[y, oi])?;
    }
    if et == ElementType::F32 {
        return Ok(vec![Some(y)]);
    }
    Ok(vec![Some(im.emit(ctx, OpKind::Cast(et), &[y])?)])
}

/// STFT (17): the signal `[batch, length, 1 or 2]` cut into frames of `frame_length` every
/// `frame_step` samples (a gather), each multiplied by the window and transformed as DFT
/// does: `[batch, frames, bins, 2]`. A frame step or length given as data is read as a size
/// (the number of frames, and the length when no window fixes it); the twiddle matrices of a
/// length known only per call are computed on the device.
pub(super) fn stft(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let (batch, length, parts) = match im.shape(ctx, x)?[..] {
        [b, l, p] if p == 1 || p == 2 => (b, l, p),
        _ => {
            return Err(ctx.err(format!(
                "the signal must be [batch, length, 1 or 2], got {}",
                im.ty(x)
            )))
        }
    };
    let onesided = ctx.int("onesided", 1) != 0;
    if onesided && parts == 2 {
        return Err(ctx.err("a one-sided transform needs a real signal"));
    }
    let window_len = match inputs.get(2).copied().flatten() {
        Some(w) => match im.shape(ctx, w)?[..] {
            [n] if n > 0 => Some(n),
            _ => return Err(ctx.err(format!("the window must be 1-D, got {}", im.ty(w)))),
        },
        None => None,
    };
    let known = |im: &Importer, v: ValueId, name: &str| -> Result<Option<usize>, ImportError> {
        let Some(t) = im.const_of(v) else {
            return Ok(None);
        };
        let v = *t
            .to_i64()
            .first()
            .ok_or_else(|| ctx.err(format!("{name} is empty")))?;
        usize::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .map(Some)
            .ok_or_else(|| ctx.err(format!("{name} {v} must be positive")))
    };
    let step = known(im, arg(ctx, inputs, 1)?, "frame_step")?;
    // The window's length is the frame length (a frame_length given beside it must agree).
    let frame = match (window_len, inputs.get(3).copied().flatten()) {
        (Some(w), Some(f)) => match known(im, f, "frame_length")? {
            Some(f) if f != w => {
                return Err(ctx.err(format!(
                    "frame_length {f} differs from the window's length {w}"
                )))
            }
            _ => Some(w),
        },
        (Some(w), None) => Some(w),
        (None, Some(f)) => known(im, f, "frame_length")?,
        (None, None) => Some(length),
    };
    if let Some(f) = frame.filter(|&f| f > length) {
        return Err(ctx.err(format!(
            "frame_length {f} is longer than the signal ({length})"
        )));
    }
    let (frames, frame) = match (step, frame) {
        (Some(s), Some(f)) => (Dim::Static((length - f) / s + 1), Dim::Static(f)),
        _ => frames_from_data(im, ctx, inputs, length, frame)?,
    };
    let inputs = im.node_inputs(ctx);
    let x = super::ops::cast_to(im, ctx, arg(ctx, &inputs, 0)?, ElementType::F32)?;
    let step = match step {
        Some(s) => super::ops::i64_scalar(im, ctx, s as i64),
        None => length_value(im, ctx, arg(ctx, &inputs, 1)?)?,
    };
    // Sample t of frame f is at f·step + t.
    let grid = vec![frames.clone(), frame.clone()];
    let f = super::ops::iota(im, ctx, grid.clone(), 0)?;
    let t = super::ops::iota(im, ctx, grid, 1)?;
    let start = bin(im, ctx, BinaryOp::Mul, f, step)?;
    let at = bin(im, ctx, BinaryOp::Add, start, t)?;
    let framed = im.emit(ctx, OpKind::Gather { axis: 1 }, &[x, at])?;
    let dims = vec![
        Dim::Static(batch),
        frames,
        frame.clone(),
        Dim::Static(parts),
    ];
    let window = match inputs.get(2).copied().flatten() {
        Some(w) => {
            let w = super::ops::cast_to(im, ctx, w, ElementType::F32)?;
            let shape = vec![Dim::Static(1), Dim::Static(1), frame.clone()];
            Some(reshape_dims(im, ctx, w, shape)?)
        }
        None => None,
    };
    let part = |im: &mut Importer, i: usize| -> Result<ValueId, ImportError> {
        let p = slice_axis(im, ctx, framed, &dims, 3, i, i + 1)?;
        let p = reshape_dims(im, ctx, p, dims[..3].to_vec())?;
        match window {
            Some(w) => bin(im, ctx, BinaryOp::Mul, p, w),
            None => Ok(p),
        }
    };
    let re = part(im, 0)?;
    let im_part = if parts == 2 { Some(part(im, 1)?) } else { None };
    let (re, imag) = match frame {
        Dim::Static(n) => forward(im, ctx, re, im_part, n, n, onesided)?,
        _ => forward_at_run_time(im, ctx, re, im_part, &frame, onesided)?,
    };
    let mut stacked = vec![];
    for v in [re, imag] {
        let mut d = im.dims(v);
        d.push(Dim::Static(1));
        stacked.push(reshape_dims(im, ctx, v, d)?);
    }
    let y = im.emit(ctx, OpKind::Concat { axis: 3 }, &stacked)?;
    let et = im.ty(arg(ctx, &inputs, 0)?).element_type;
    Ok(vec![Some(super::ops::cast_to(im, ctx, y, et)?)])
}

/// A rank-0 `i64` value of a frame step or length given as data (`[]` or `[1]`).
fn length_value(im: &mut Importer, ctx: &NodeCtx, v: ValueId) -> Result<ValueId, ImportError> {
    let v = super::ops::cast_to(im, ctx, v, ElementType::I64)?;
    super::ops::one_value(im, ctx, v, "frame sizes")
}

/// The number of frames, and the frame length unless `frame` knows it, read as sizes from
/// STFT's data inputs.
fn frames_from_data(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    length: usize,
    frame: Option<usize>,
) -> Result<(Dim, Dim), ImportError> {
    let step = length_value(im, ctx, arg(ctx, inputs, 1)?)?;
    let frame_v = match frame {
        Some(f) => super::ops::i64_scalar(im, ctx, f as i64),
        None => length_value(im, ctx, arg(ctx, inputs, 3)?)?,
    };
    let whole = super::ops::i64_scalar(im, ctx, length as i64);
    let rest = bin(im, ctx, BinaryOp::Sub, whole, frame_v)?;
    let more = bin(im, ctx, BinaryOp::Div, rest, step)?;
    let one = super::ops::i64_scalar(im, ctx, 1);
    let frames = bin(im, ctx, BinaryOp::Add, more, one)?;
    let mut read = vec![super::ops::reshape_to(im, ctx, frames, vec![1])?];
    if frame.is_none() {
        read.push(super::ops::reshape_to(im, ctx, frame_v, vec![1])?);
    }
    let read = match read[..] {
        [one] => one,
        _ => im.emit(ctx, OpKind::Concat { axis: 0 }, &read)?,
    };
    let sizes = im.sizes_from_data(ctx, read)?;
    let frames = super::ops::size_dim(ctx, &sizes.values[0])?;
    let frame = match frame {
        Some(f) => Dim::Static(f),
        None => super::ops::size_dim(ctx, &sizes.values[1])?,
    };
    Ok((frames, frame))
}

/// [`forward`] over a transform length known only per call (the signal's last dim, `len`):
/// the twiddles `cos` and `sin` of `2π·m / len`, `m = t·k mod len`, computed on the device
/// from the quarter turn `m` falls in and the angle past it, so that quarter turns are exact
/// (the imaginary parts of a real signal's first and middle bins are zeros, not rounding).
fn forward_at_run_time(
    im: &mut Importer,
    ctx: &NodeCtx,
    re: ValueId,
    im_part: Option<ValueId>,
    len: &Dim,
    onesided: bool,
) -> Result<(ValueId, ValueId), ImportError> {
    let bins = match onesided {
        true => Dim::from_expr(len.expr().floor_div(2) + SymExpr::from(1))
            .ok_or_else(|| ctx.err("the number of bins does not fit"))?,
        false => len.clone(),
    };
    let grid = vec![len.clone(), bins];
    let t = super::ops::iota(im, ctx, grid.clone(), 0)?;
    let k = super::ops::iota(im, ctx, grid, 1)?;
    let n = super::ops::size_scalar(im, ctx, len.expr());
    let tk = bin(im, ctx, BinaryOp::Mul, t, k)?;
    let turns = bin(im, ctx, BinaryOp::Div, tk, n)?;
    let whole = bin(im, ctx, BinaryOp::Mul, turns, n)?;
    let m = bin(im, ctx, BinaryOp::Sub, tk, whole)?;
    // 4m = quarter·len + rest: the angle is quarter·π/2 + (π/2)·rest/len.
    let four = super::ops::i64_scalar(im, ctx, 4);
    let m4 = bin(im, ctx, BinaryOp::Mul, m, four)?;
    let quarter = bin(im, ctx, BinaryOp::Div, m4, n)?;
    let past = bin(im, ctx, BinaryOp::Mul, quarter, n)?;
    let rest = bin(im, ctx, BinaryOp::Sub, m4, past)?;
    let rest = super::ops::cast_to(im, ctx, rest, ElementType::F32)?;
    let nf = super::ops::cast_to(im, ctx, n, ElementType::F32)?;
    let right = super::ops::scalar_like(im, ctx, rest, PI / 2.0);
    let phi = bin(im, ctx, BinaryOp::Mul, rest, right)?;
    let phi = bin(im, ctx, BinaryOp::Div, phi, nf)?;
    let c = im.emit(ctx, OpKind::Unary(kiln_ir::UnaryOp::Cos), &[phi])?;
    let s = im.emit(ctx, OpKind::Unary(kiln_ir::UnaryOp::Sin), &[phi])?;
    let neg_c = im.emit(ctx, OpKind::Unary(kiln_ir::UnaryOp::Neg), &[c])?;
    let neg_s = im.emit(ctx, OpKind::Unary(kiln_ir::UnaryOp::Neg), &[s])?;
    // Quarters 0..3 turn (cos, sin) into (c, s), (−s, c), (−c, −s), (s, −c).
    let mut by_quarter = |values: [ValueId; 4]| -> Result<ValueId, ImportError> {
        let mut out = values[3];
        for q in (0..3).rev() {
            let at = super::ops::i64_scalar(im, ctx, q as i64);
            let here = bin(im, ctx, BinaryOp::Equal, quarter, at)?;
            out = im.emit(ctx, OpKind::Select, &[here, values[q], out])?;
        }
        Ok(out)
    };
    let cos = by_quarter([c, neg_s, neg_c, s])?;
    let sin = by_quarter([s, c, neg_s, neg_c])?;
    spectrum(im, ctx, re, im_part, cos, sin)
}
