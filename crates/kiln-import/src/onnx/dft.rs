//! DFT (17, 20) as matmuls with constant twiddle matrices, which is what the transform is for
//! a length known when compiling: the signal's real and imaginary parts (the last dim, 1 or 2
//! wide) each multiply a `[n, bins]` cosine and sine matrix along the transformed axis, the
//! signal cut or zero-padded to `dft_length` by the matrices' rows. Inverse transforms divide by
//! the length; a one-sided inverse (irfft) rebuilds the real signal from the first half of the
//! spectrum, counting every bin but the first (and the middle one of an even length) twice, as
//! NumPy's `irfft` does.

use super::ops::{arg, axis, bin, const_arg, reshape_dims, slice_axis, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, ValueId};
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
    let theta = move |t: usize, k: usize| 2.0 * PI * ((t * k) % len) as f64 / len as f64;
    // Rows past the transform length read nothing (the signal is cut); missing rows are zeros.
    let within = move |t: usize| if t < len { 1.0 } else { 0.0 };
    let (out_re, out_im) = if !inverse {
        let bins = if onesided { len / 2 + 1 } else { len };
        let cos = matrix(im, ctx, n, bins, |t, k| within(t) * theta(t, k).cos());
        let sin = matrix(im, ctx, n, bins, |t, k| within(t) * theta(t, k).sin());
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
