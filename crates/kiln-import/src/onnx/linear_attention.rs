//! LinearAttention (opset 27): recurrent linear attention with the update rules of Gated
//! DeltaNet and its relatives (`linear`, `gated`, `delta`, `gated_delta`), lowered as ONNX's
//! reference computes it: in f32, one step per position over a state `S` of shape
//! `(batch, kv_heads, d_k, d_v)` —
//!
//! - gated: `S ← S · exp(decay_t)` (per head, or per key dim);
//! - delta: `v_t ← beta_t · (v_t − k_tᵀ S)`;
//! - `S ← S + k_t v_tᵀ`, and the output `scale · q_t S` (query heads grouped over key heads).
//!
//! The sequence is unrolled, so its length must be known when compiling, as for LSTM; `chunk_size`
//! is a tuning hint that does not change the result.

use super::ops::{arg, bin, reshape_dims, scalar_like, slice_axis, un, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, UnaryOp, ValueId};
use kiln_types::ElementType;

/// `(batch, time, heads·d)` as `(batch, heads, time, d)` in f32.
fn heads_first(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    heads: usize,
    what: &str,
) -> Result<(ValueId, usize), ImportError> {
    let dims = im.dims(x);
    let (b, t) = match dims.as_slice() {
        [b, t, Dim::Static(hd)] if hd % heads == 0 => (b.clone(), t.clone()),
        _ => {
            return Err(ctx.err(format!(
                "{what} must be (batch, time, {heads}·d), got {}",
                im.ty(x).shape_string()
            )))
        }
    };
    let d = im.dims(x)[2].as_static().unwrap_or(0) / heads;
    let x = to_f32(im, ctx, x)?;
    let x = reshape_dims(im, ctx, x, vec![b, t, Dim::Static(heads), Dim::Static(d)])?;
    let x = im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 2, 1, 3],
        },
        &[x],
    )?;
    Ok((x, d))
}

fn to_f32(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Result<ValueId, ImportError> {
    if im.ty(x).element_type == ElementType::F32 {
        return Ok(x);
    }
    im.emit(ctx, OpKind::Cast(ElementType::F32), &[x])
}

/// Position `i` of a `(batch, heads, time, d)` value: `(batch, heads, 1, d)`.
fn step(im: &mut Importer, ctx: &NodeCtx, x: ValueId, i: usize) -> Result<ValueId, ImportError> {
    let dims = im.dims(x);
    slice_axis(im, ctx, x, &dims, 2, i, i + 1)
}

/// `(b, h, 1, n)` as `(b, h, n, 1)`: a row as a column.
fn column(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Result<ValueId, ImportError> {
    let d = im.dims(x);
    reshape_dims(
        im,
        ctx,
        x,
        vec![d[0].clone(), d[1].clone(), d[3].clone(), Dim::Static(1)],
    )
}

pub(super) fn linear_attention(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let opt = |i: usize| inputs.get(i).copied().flatten();
    let (query, key, value) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let (past, decay, beta) = (opt(3), opt(4), opt(5));
    let rule = ctx
        .string("update_rule")
        .unwrap_or_else(|| "gated_delta".into());
    let (gating, delta) = match rule.as_str() {
        "linear" => (false, false),
        "gated" => (true, false),
        "delta" => (false, true),
        "gated_delta" => (true, true),
        other => {
            return Err(ctx.err(format!(
                "update_rule '{other}' is not one of linear, gated, delta, gated_delta"
            )))
        }
    };
    if gating != decay.is_some() || delta != beta.is_some() {
        return Err(ctx.err(format!(
            "update_rule '{rule}' takes {} decay and {} beta input",
            if gating { "a" } else { "no" },
            if delta { "a" } else { "no" }
        )));
    }
    let (hq, hkv) = (ctx.int("q_num_heads", 0), ctx.int("kv_num_heads", 0));
    if hq <= 0 || hkv <= 0 || hq % hkv != 0 {
        return Err(ctx.err(format!(
            "q_num_heads ({hq}) must be a positive multiple of kv_num_heads ({hkv})"
        )));
    }
    let (hq, hkv) = (hq as usize, hkv as usize);
    let out_type = im.ty(query).element_type;
    let qd = im.dims(query);
    let Some(Dim::Static(t)) = qd.get(1).cloned() else {
        return Err(ctx.err(format!(
            "the sequence length must be known when compiling (it is unrolled), got query {}",
            im.ty(query).shape_string()
        )));
    };
    let b = qd[0].clone();
    let (q4, dk) = heads_first(im, ctx, query, hq, "query")?;
    let (k4, _) = heads_first(im, ctx, key, hkv, "key")?;
    let (v4, dv) = heads_first(im, ctx, value, hkv, "value")?;
    let per_dim = |im: &mut Importer, x: ValueId, what: &str, allowed: &[usize]| {
        let last = im.dims(x).last().and_then(Dim::as_static).unwrap_or(0);
        if im.ty(x).rank() != 3 || !allowed.contains(&last) {
            return Err(ctx.err(format!(
                "{what} must be (batch, time, n) with n in {allowed:?}, got {}",
                im.ty(x).shape_string()
            )));
        }
        heads_first(im, ctx, x, if last == 1 { 1 } else { hkv }, what).map(|(x, _)| x)
    };
    let decay4 = decay
        .map(|d| per_dim(im, d, "decay", &[hkv, hkv * dk]))
        .transpose()?;
    let beta4 = beta
        .map(|v| per_dim(im, v, "beta", &[hkv, 1]))
        .transpose()?;
    let state_dims = vec![
        b.clone(),
        Dim::Static(hkv),
        Dim::Static(dk),
        Dim::Static(dv),
    ];
    let mut state = match past {
        Some(p) => {
            if im.dims(p) != state_dims {
                return Err(ctx.err(format!(
                    "past_state must be (batch, {hkv}, {dk}, {dv}), got {}",
                    im.ty(p).shape_string()
                )));
            }
            to_f32(im, ctx, p)?
        }
        None => {
            let zero = scalar_like(im, ctx, q4, 0.0);
            im.emit(ctx, OpKind::Broadcast { shape: state_dims }, &[zero])?
        }
    };
    // A zero (or absent) scale means 1/sqrt(d_k).
    let given = ctx.float("scale", 0.0) as f64;
    let scale = if given == 0.0 {
        1.0 / (dk as f64).sqrt()
    } else {
        given
    };
    let scale = scalar_like(im, ctx, q4, scale);
    let group = hq / hkv;
    let mut outputs = Vec::with_capacity(t);
    for i in 0..t {
        let (q_t, k_t) = (step(im, ctx, q4, i)?, step(im, ctx, k4, i)?);
        let mut v_t = step(im, ctx, v4, i)?;
        if let Some(d) = decay4 {
            let g = step(im, ctx, d, i)?;
            let g = un(im, ctx, UnaryOp::Exp, g)?;
            let g = column(im, ctx, g)?;
            state = bin(im, ctx, BinaryOp::Mul, state, g)?;
        }
        if let Some(bt) = beta4 {
            let retrieved = im.emit(ctx, OpKind::MatMul, &[k_t, state])?;
            let diff = bin(im, ctx, BinaryOp::Sub, v_t, retrieved)?;
            let beta_t = step(im, ctx, bt, i)?;
            v_t = bin(im, ctx, BinaryOp::Mul, beta_t, diff)?;
        }
        let k_col = column(im, ctx, k_t)?;
        let update = bin(im, ctx, BinaryOp::Mul, k_col, v_t)?;
        state = bin(im, ctx, BinaryOp::Add, state, update)?;
        // Query heads grouped over their key head: (b, kv, group, d_k) · S.
        let q_grouped = reshape_dims(
            im,
            ctx,
            q_t,
            vec![
                b.clone(),
                Dim::Static(hkv),
                Dim::Static(group),
                Dim::Static(dk),
            ],
        )?;
        let read = im.emit(ctx, OpKind::MatMul, &[q_grouped, state])?;
        let read = bin(im, ctx, BinaryOp::Mul, read, scale)?;
        outputs.push(reshape_dims(
            im,
            ctx,
            read,
            vec![b.clone(), Dim::Static(hq), Dim::Static(1), Dim::Static(dv)],
        )?);
    }
    let all = match outputs.as_slice() {
        [one] => *one,
        _ => im.emit(ctx, OpKind::Concat { axis: 2 }, &outputs)?,
    };
    let all = im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 2, 1, 3],
        },
        &[all],
    )?;
    let mut output = reshape_dims(im, ctx, all, vec![b, Dim::Static(t), Dim::Static(hq * dv)])?;
    if out_type != ElementType::F32 {
        output = im.emit(ctx, OpKind::Cast(out_type), &[output])?;
    }
    let state_type = past.map_or(out_type, |p| im.ty(p).element_type);
    if state_type != ElementType::F32 {
        state = im.emit(ctx, OpKind::Cast(state_type), &[state])?;
    }
    Ok(vec![Some(output), Some(state)])
}
