//! RotaryEmbedding (opset 23): rotates pairs of each head's leading `rotary_embedding_dim`
//! features by position-dependent angles, from given cos and sin caches.
//!
//! With `position_ids` the caches are gathered per `[batch, sequence]` position (a run-time
//! Gather); without, they are already `[batch, sequence, dim/2]`. Pairs are the two halves
//! of the rotated features, or neighbours when `interleaved`; the rest pass through.

use super::ops::{arg, bin, reshape_to, slice_axis, Outputs};
use super::{Importer, NodeCtx};
use kiln_ir::{BinaryOp, Dim, OpKind, ValueId};

pub(super) fn rotary_embedding(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let (cos, sin) = (arg(ctx, inputs, 1)?, arg(ctx, inputs, 2)?);
    let shape = im.shape(ctx, x)?;
    // Work in [batch, sequence, heads, head_size].
    let x4 = match shape[..] {
        [b, h, s, d] => {
            let t = im.emit(
                ctx,
                OpKind::Transpose {
                    perm: vec![0, 2, 1, 3],
                },
                &[x],
            )?;
            (t, [b, s, h, d])
        }
        [b, s, hidden] => {
            let h = usize::try_from(ctx.int("num_heads", 0))
                .ok()
                .filter(|&h| h > 0 && hidden % h == 0)
                .ok_or_else(|| ctx.err("3-D input needs num_heads dividing its last dim"))?;
            (
                reshape_to(im, ctx, x, vec![b, s, h, hidden / h])?,
                [b, s, h, hidden / h],
            )
        }
        _ => return Err(ctx.err(format!("input must be 3-D or 4-D, got {}", im.ty(x)))),
    };
    let (x4, [b, s, h, d]) = x4;
    let rot = match ctx.int("rotary_embedding_dim", 0) {
        0 => d,
        r if r > 0 && (r as usize) <= d && r % 2 == 0 => r as usize,
        r => {
            return Err(ctx.err(format!(
                "rotary_embedding_dim {r} must be even and at most the head size {d}"
            )))
        }
    };
    let half = rot / 2;
    let (cos, sin) = match inputs.get(3).copied().flatten() {
        Some(pos) => (
            im.emit(ctx, OpKind::Gather { axis: 0 }, &[cos, pos])?,
            im.emit(ctx, OpKind::Gather { axis: 0 }, &[sin, pos])?,
        ),
        None => (cos, sin),
    };
    for c in [cos, sin] {
        if im.shape(ctx, c)? != [b, s, half] {
            return Err(ctx.err(format!(
                "the caches must give [{b}, {s}, {half}] per position, got {}",
                im.ty(c)
            )));
        }
    }
    let cos = reshape_to(im, ctx, cos, vec![b, s, 1, half])?;
    let sin = reshape_to(im, ctx, sin, vec![b, s, 1, half])?;
    let dims: Vec<Dim> = [b, s, h, d].map(Dim::Static).to_vec();
    let rotated = slice_axis(im, ctx, x4, &dims, 3, 0, rot)?;
    let interleaved = ctx.int("interleaved", 0) != 0;
    // The two members of each pair, [b, s, h, half] each.
    let (x1, x2) = if interleaved {
        let pairs = reshape_to(im, ctx, rotated, vec![b, s, h, half, 2])?;
        let pdims: Vec<Dim> = [b, s, h, half, 2].map(Dim::Static).to_vec();
        let first = slice_axis(im, ctx, pairs, &pdims, 4, 0, 1)?;
        let second = slice_axis(im, ctx, pairs, &pdims, 4, 1, 2)?;
        (
            reshape_to(im, ctx, first, vec![b, s, h, half])?,
            reshape_to(im, ctx, second, vec![b, s, h, half])?,
        )
    } else {
        let rdims: Vec<Dim> = [b, s, h, rot].map(Dim::Static).to_vec();
        (
            slice_axis(im, ctx, rotated, &rdims, 3, 0, half)?,
            slice_axis(im, ctx, rotated, &rdims, 3, half, rot)?,
        )
    };
    let mul = |im: &mut Importer, a, c| bin(im, ctx, BinaryOp::Mul, a, c);
    let (c1, s2) = (mul(im, cos, x1)?, mul(im, sin, x2)?);
    let real = bin(im, ctx, BinaryOp::Sub, c1, s2)?;
    let (s1, c2) = (mul(im, sin, x1)?, mul(im, cos, x2)?);
    let imag = bin(im, ctx, BinaryOp::Add, s1, c2)?;
    let turned = if interleaved {
        let real = reshape_to(im, ctx, real, vec![b, s, h, half, 1])?;
        let imag = reshape_to(im, ctx, imag, vec![b, s, h, half, 1])?;
        let pairs = im.emit(ctx, OpKind::Concat { axis: 4 }, &[real, imag])?;
        reshape_to(im, ctx, pairs, vec![b, s, h, rot])?
    } else {
        im.emit(ctx, OpKind::Concat { axis: 3 }, &[real, imag])?
    };
    let y = if rot < d {
        let rest = slice_axis(im, ctx, x4, &dims, 3, rot, d)?;
        im.emit(ctx, OpKind::Concat { axis: 3 }, &[turned, rest])?
    } else {
        turned
    };
    let y = if shape.len() == 4 {
        im.emit(
            ctx,
            OpKind::Transpose {
                perm: vec![0, 2, 1, 3],
            },
            &[y],
        )?
    } else {
        reshape_to(im, ctx, y, shape)?
    };
    Ok(vec![Some(y)])
}
