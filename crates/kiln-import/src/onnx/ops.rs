//! ONNX op builders: one function per op family, registered by op type in [`builder`].
//!
//! A builder receives the node, its inputs (`None` for omitted optional inputs) and returns one
//! value per ONNX output (`None` for outputs kiln does not produce). It lowers onto kiln's core op
//! set; attribute defaults and opset differences are handled here and nowhere else.

use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Conv2dAttrs, OpKind, PoolAttrs, PoolKind, ReduceKind, UnaryOp, ValueId};
use kiln_types::HostTensor;

type Outputs = Result<Vec<Option<ValueId>>, ImportError>;
type Builder = fn(&mut Importer, &NodeCtx, &[Option<ValueId>]) -> Outputs;

/// The builder for an ONNX op type, if kiln supports it.
pub(crate) fn builder(op_type: &str) -> Option<Builder> {
    Some(match op_type {
        "Identity" | "Dropout" => identity,
        "Constant" => constant,
        "Add" | "Sub" | "Mul" | "Div" | "Equal" | "Less" | "Greater" | "And" | "Or" | "Max"
        | "Min" => binary,
        "Pow" => pow,
        "Neg" | "Abs" | "Exp" | "Log" | "Sqrt" | "Erf" | "Relu" | "Sigmoid" | "Tanh" | "Not" => {
            unary
        }
        "Clip" => clip,
        "Where" => select,
        "Cast" => cast,
        "MatMul" => matmul,
        "Gemm" => gemm,
        "Conv" => conv,
        "MaxPool" | "AveragePool" => pool,
        "GlobalAveragePool" | "GlobalMaxPool" => global_pool,
        "BatchNormalization" => batch_norm,
        "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" => reduce,
        "Softmax" => softmax,
        "LayerNormalization" => layer_norm,
        "Reshape" => reshape,
        "Flatten" => flatten,
        "Squeeze" => squeeze,
        "Unsqueeze" => unsqueeze,
        "Transpose" => transpose,
        "Concat" => concat,
        "Slice" => slice,
        "Gather" => gather,
        "Shape" => shape,
        "Expand" => expand,
        "ConstantOfShape" => constant_of_shape,
        _ => return None,
    })
}

/// Input `i`, required.
fn arg(ctx: &NodeCtx, inputs: &[Option<ValueId>], i: usize) -> Result<ValueId, ImportError> {
    inputs
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| ctx.err(format!("input {i} is required")))
}

/// Input `i`, which must be a constant known at compile time (shapes, axes, pads …).
fn const_arg<'a>(
    im: &'a Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    i: usize,
) -> Result<Option<&'a HostTensor>, ImportError> {
    match inputs.get(i).copied().flatten() {
        None => Ok(None),
        Some(v) => im.const_of(v).map(Some).ok_or_else(|| ctx.err(format!("input {i} must be a compile-time constant (kiln folds shape computations, but this one depends on run-time data)"))),
    }
}

/// Normalises a possibly negative axis against `rank`.
fn axis(ctx: &NodeCtx, a: i64, rank: usize) -> Result<usize, ImportError> {
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    if n < 0 || n >= r {
        return Err(ctx.err(format!("axis {a} is out of range for rank {rank}")));
    }
    Ok(n as usize)
}

fn one(v: ValueId) -> Outputs {
    Ok(vec![Some(v)])
}

fn identity(_: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    one(arg(ctx, inputs, 0)?)
}

fn constant(im: &mut Importer, ctx: &NodeCtx, _: &[Option<ValueId>]) -> Outputs {
    let t = if let Some(t) = ctx.attr("value").and_then(|a| a.t.as_ref()) {
        im.tensor(t).map_err(|m| ctx.err(m))?
    } else if let Some(f) = ctx.attr("value_float").and_then(|a| a.f) {
        HostTensor::from_f32(&[], &[f])
    } else if let Some(a) = ctx.attr("value_floats") {
        HostTensor::from_f32(&[a.floats.len()], &a.floats)
    } else if let Some(i) = ctx.attr("value_int").and_then(|a| a.i) {
        HostTensor::from_i64(&[], &[i])
    } else if let Some(a) = ctx.attr("value_ints") {
        HostTensor::from_i64(&[a.ints.len()], &a.ints)
    } else {
        return Err(ctx.err("only tensor, float(s) and int(s) constants are supported"));
    };
    one(im.constant(t, &ctx.name))
}

fn binary_kind(op_type: &str) -> BinaryOp {
    match op_type {
        "Add" => BinaryOp::Add,
        "Sub" => BinaryOp::Sub,
        "Mul" => BinaryOp::Mul,
        "Div" => BinaryOp::Div,
        "Equal" => BinaryOp::Equal,
        "Less" => BinaryOp::Less,
        "Greater" => BinaryOp::Greater,
        "And" => BinaryOp::And,
        "Or" => BinaryOp::Or,
        "Max" => BinaryOp::Max,
        _ => BinaryOp::Min,
    }
}

fn binary(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let kind = binary_kind(ctx.op_type);
    // Max and Min are variadic in ONNX.
    let mut acc = arg(ctx, inputs, 0)?;
    for i in 1..inputs.len().max(2) {
        let b = arg(ctx, inputs, i)?;
        acc = im.emit(ctx, OpKind::Binary(kind), &[acc, b])?;
    }
    one(acc)
}

fn pow(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, y) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    // Common constant exponents become cheaper, exact ops.
    if let Some(e) = im
        .const_of(y)
        .filter(|t| t.element_count() == 1)
        .map(|t| t.to_f64()[0])
    {
        if e == 2.0 {
            return one(im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[x, x])?);
        }
        if e == 0.5 {
            return one(im.emit(ctx, OpKind::Unary(UnaryOp::Sqrt), &[x])?);
        }
        if e == 1.0 {
            return one(x);
        }
    }
    let xt = im.ty(x).element_type;
    let y = if im.ty(y).element_type != xt {
        im.emit(ctx, OpKind::Cast(xt), &[y])?
    } else {
        y
    };
    one(im.emit(ctx, OpKind::Binary(BinaryOp::Pow), &[x, y])?)
}

fn unary(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let u = match ctx.op_type {
        "Neg" => UnaryOp::Neg,
        "Abs" => UnaryOp::Abs,
        "Exp" => UnaryOp::Exp,
        "Log" => UnaryOp::Log,
        "Sqrt" => UnaryOp::Sqrt,
        "Erf" => UnaryOp::Erf,
        "Relu" => UnaryOp::Relu,
        "Sigmoid" => UnaryOp::Sigmoid,
        "Tanh" => UnaryOp::Tanh,
        _ => UnaryOp::Not,
    };
    one(im.emit(ctx, OpKind::Unary(u), &[arg(ctx, inputs, 0)?])?)
}

fn clip(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let mut x = arg(ctx, inputs, 0)?;
    let et = im.ty(x).element_type;
    let bound = |im: &mut Importer, i: usize, attr: &str| -> Result<Option<ValueId>, ImportError> {
        if ctx.opset < 11 {
            return Ok(ctx
                .attr(attr)
                .and_then(|a| a.f)
                .map(|f| im.constant(HostTensor::from_f64(et, &[], &[f as f64]), &ctx.name)));
        }
        Ok(inputs.get(i).copied().flatten())
    };
    if let Some(lo) = bound(im, 1, "min")? {
        x = im.emit(ctx, OpKind::Binary(BinaryOp::Max), &[x, lo])?;
    }
    if let Some(hi) = bound(im, 2, "max")? {
        x = im.emit(ctx, OpKind::Binary(BinaryOp::Min), &[x, hi])?;
    }
    one(x)
}

fn select(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let ops = [
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    ];
    one(im.emit(ctx, OpKind::Select, &ops)?)
}

fn cast(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let to = super::element_type(ctx.int("to", 0) as i32).map_err(|m| ctx.err(m))?;
    let x = arg(ctx, inputs, 0)?;
    if im.ty(x).element_type == to {
        return one(x);
    }
    one(im.emit(ctx, OpKind::Cast(to), &[x])?)
}

fn reshape_to(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    shape: Vec<usize>,
) -> Result<ValueId, ImportError> {
    if im.ty(x).static_shape().as_deref() == Some(&shape[..]) {
        return Ok(x);
    }
    im.emit(ctx, OpKind::Reshape { shape }, &[x])
}

fn matmul(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (mut a, mut b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (sa, sb) = (im.shape(ctx, a)?, im.shape(ctx, b)?);
    // ONNX promotes 1-D operands to matrices and drops the added dim afterwards.
    if sa.len() == 1 {
        a = reshape_to(im, ctx, a, vec![1, sa[0]])?;
    }
    if sb.len() == 1 {
        b = reshape_to(im, ctx, b, vec![sb[0], 1])?;
    }
    let mut y = im.emit(ctx, OpKind::MatMul, &[a, b])?;
    if sa.len() == 1 || sb.len() == 1 {
        let mut out = im.shape(ctx, y)?;
        let r = out.len();
        if sb.len() == 1 {
            out.remove(r - 1);
        }
        if sa.len() == 1 {
            out.remove(out.len() - if sb.len() == 1 { 1 } else { 2 });
        }
        y = reshape_to(im, ctx, y, out)?;
    }
    one(y)
}

fn transpose_2d(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Result<ValueId, ImportError> {
    im.emit(ctx, OpKind::Transpose { perm: vec![1, 0] }, &[x])
}

fn scalar_like(im: &mut Importer, ctx: &NodeCtx, like: ValueId, v: f64) -> ValueId {
    let et = im.ty(like).element_type;
    im.constant(HostTensor::from_f64(et, &[], &[v]), &ctx.name)
}

fn gemm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (mut a, mut b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    if ctx.int("transA", 0) != 0 {
        a = transpose_2d(im, ctx, a)?;
    }
    if ctx.int("transB", 0) != 0 {
        b = transpose_2d(im, ctx, b)?;
    }
    let (alpha, beta) = (
        ctx.float("alpha", 1.0) as f64,
        ctx.float("beta", 1.0) as f64,
    );
    let mut y = im.emit(ctx, OpKind::MatMul, &[a, b])?;
    if alpha != 1.0 {
        let s = scalar_like(im, ctx, y, alpha);
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[y, s])?;
    }
    if let Some(mut c) = inputs.get(2).copied().flatten() {
        if beta != 1.0 {
            let s = scalar_like(im, ctx, c, beta);
            c = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[c, s])?;
        }
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, c])?;
    }
    one(y)
}

/// Resolves ONNX `pads`/`auto_pad` for a 2-D window into (top, left, bottom, right).
fn window_pads(
    ctx: &NodeCtx,
    input: [usize; 2],
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
) -> Result<[usize; 4], ImportError> {
    let auto = ctx.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" | "" => {
            let p = ctx.ints("pads").unwrap_or_else(|| vec![0; 4]);
            if p.len() != 4 || p.iter().any(|&v| v < 0) {
                return Err(ctx.err(format!(
                    "pads {p:?} must be 4 non-negative values for a 2-D window"
                )));
            }
            Ok([p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize])
        }
        "VALID" => Ok([0; 4]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut pads = [0; 4];
            for d in 0..2 {
                let out = input[d].div_ceil(strides[d]);
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let total = ((out - 1) * strides[d] + span).saturating_sub(input[d]);
                let (small, big) = (total / 2, total - total / 2);
                let (begin, end) = if auto == "SAME_UPPER" {
                    (small, big)
                } else {
                    (big, small)
                };
                pads[d] = begin;
                pads[d + 2] = end;
            }
            Ok(pads)
        }
        other => Err(ctx.err(format!("auto_pad '{other}' is not supported"))),
    }
}

fn pair(ctx: &NodeCtx, name: &str, default: usize) -> Result<[usize; 2], ImportError> {
    match ctx.ints(name) {
        None => Ok([default; 2]),
        Some(v) if v.len() == 2 && v.iter().all(|&x| x > 0) => Ok([v[0] as usize, v[1] as usize]),
        Some(v) => Err(ctx.err(format!(
            "{name} {v:?} must be two positive values (only 2-D windows are supported)"
        ))),
    }
}

fn conv(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (xs, ws) = (im.shape(ctx, x)?, im.shape(ctx, w)?);
    if xs.len() != 4 || ws.len() != 4 {
        return Err(ctx.err(format!(
            "only 2-D convolution (4-D NCHW input) is supported, got input {}",
            kiln_types::shape_string(&xs)
        )));
    }
    let strides = pair(ctx, "strides", 1)?;
    let dilations = pair(ctx, "dilations", 1)?;
    let groups = ctx.int("group", 1);
    if groups < 1 {
        return Err(ctx.err(format!("group {groups} must be positive")));
    }
    let pads = window_pads(ctx, [xs[2], xs[3]], [ws[2], ws[3]], strides, dilations)?;
    let attrs = Conv2dAttrs {
        strides,
        pads,
        dilations,
        groups: groups as usize,
    };
    let mut y = im.emit(ctx, OpKind::Conv2d(attrs), &[x, w])?;
    if let Some(bias) = inputs.get(2).copied().flatten() {
        let b = reshape_to(im, ctx, bias, vec![1, ws[0], 1, 1])?;
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, b])?;
    }
    one(y)
}

fn pool(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let xs = im.shape(ctx, x)?;
    if xs.len() != 4 {
        return Err(ctx.err("only 2-D pooling (4-D NCHW input) is supported"));
    }
    if ctx.int("ceil_mode", 0) != 0 {
        return Err(ctx.err("ceil_mode=1 is not supported"));
    }
    if pair(ctx, "dilations", 1)? != [1, 1] {
        return Err(ctx.err("dilated pooling is not supported"));
    }
    if ctx.node.output.len() > 1 && ctx.node.output[1..].iter().any(|o| !o.is_empty()) {
        return Err(ctx.err("the Indices output is not supported"));
    }
    let kernel = pair(ctx, "kernel_shape", 0).and_then(|k| {
        if k.contains(&0) {
            Err(ctx.err("kernel_shape is required"))
        } else {
            Ok(k)
        }
    })?;
    let strides = pair(ctx, "strides", 1)?;
    let pads = window_pads(ctx, [xs[2], xs[3]], kernel, strides, [1, 1])?;
    let kind = if ctx.op_type == "MaxPool" {
        PoolKind::Max
    } else {
        PoolKind::Avg
    };
    let attrs = PoolAttrs {
        kind,
        kernel,
        strides,
        pads,
        count_include_pad: ctx.int("count_include_pad", 0) != 0,
    };
    one(im.emit(ctx, OpKind::Pool2d(attrs), &[x])?)
}

fn global_pool(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let rank = im.ty(x).rank();
    if rank < 3 {
        return Err(ctx.err("input must have rank 3 or more"));
    }
    let kind = if ctx.op_type == "GlobalMaxPool" {
        ReduceKind::Max
    } else {
        ReduceKind::Mean
    };
    one(im.emit(
        ctx,
        OpKind::Reduce {
            kind,
            axes: (2..rank).collect(),
            keep_dims: true,
        },
        &[x],
    )?)
}

fn batch_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if ctx.int("training_mode", 0) != 0
        || ctx.node.output.len() > 1 && ctx.node.output[1..].iter().any(|o| !o.is_empty())
    {
        return Err(ctx.err("only inference-mode BatchNormalization is supported"));
    }
    let x = arg(ctx, inputs, 0)?;
    let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| arg(ctx, inputs, i));
    let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
    let xs = im.shape(ctx, x)?;
    if xs.len() < 2 {
        return Err(ctx.err("input must have rank 2 or more"));
    }
    // y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a; constant parameters
    // fold to two per-channel vectors here.
    let eps = scalar_like(im, ctx, var, ctx.float("epsilon", 1e-5) as f64);
    let v = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[var, eps])?;
    let s = im.emit(ctx, OpKind::Unary(UnaryOp::Sqrt), &[v])?;
    let a = im.emit(ctx, OpKind::Binary(BinaryOp::Div), &[scale, s])?;
    let ma = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[mean, a])?;
    let b = im.emit(ctx, OpKind::Binary(BinaryOp::Sub), &[bias, ma])?;
    let mut channel_shape = vec![1; xs.len()];
    channel_shape[1] = xs[1];
    let a = reshape_to(im, ctx, a, channel_shape.clone())?;
    let b = reshape_to(im, ctx, b, channel_shape)?;
    let y = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[x, a])?;
    one(im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, b])?)
}

fn reduce(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let rank = im.ty(x).rank();
    let kind = match ctx.op_type {
        "ReduceMean" => ReduceKind::Mean,
        "ReduceSum" => ReduceKind::Sum,
        "ReduceMax" => ReduceKind::Max,
        _ => ReduceKind::Min,
    };
    // Axes moved from an attribute to an input in opset 13 (ReduceSum) and 18 (the others).
    let axes_from_input = if kind == ReduceKind::Sum {
        ctx.opset >= 13
    } else {
        ctx.opset >= 18
    };
    let raw = if axes_from_input {
        const_arg(im, ctx, inputs, 1)?.map(|t| t.to_i64())
    } else {
        ctx.ints("axes")
    };
    let axes: Vec<usize> = match raw {
        Some(a) if !a.is_empty() => {
            let mut v = a
                .iter()
                .map(|&i| axis(ctx, i, rank))
                .collect::<Result<Vec<_>, _>>()?;
            v.sort_unstable();
            v.dedup();
            v
        }
        _ if ctx.int("noop_with_empty_axes", 0) != 0 => return one(x),
        _ => (0..rank).collect(),
    };
    let keep_dims = ctx.int("keepdims", 1) != 0;
    one(im.emit(
        ctx,
        OpKind::Reduce {
            kind,
            axes,
            keep_dims,
        },
        &[x],
    )?)
}

fn softmax(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let shape = im.shape(ctx, x)?;
    let default = if ctx.opset >= 13 { -1 } else { 1 };
    let a = axis(ctx, ctx.int("axis", default), shape.len())?;
    if ctx.opset >= 13 || a + 1 == shape.len() {
        return one(im.emit(ctx, OpKind::Softmax { axis: a }, &[x])?);
    }
    // Before opset 13, softmax normalised over all dims from `axis` on, flattened.
    let outer: usize = shape[..a].iter().product();
    let flat = reshape_to(im, ctx, x, vec![outer, shape[a..].iter().product()])?;
    let y = im.emit(ctx, OpKind::Softmax { axis: 1 }, &[flat])?;
    one(reshape_to(im, ctx, y, shape)?)
}

fn layer_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if ctx.node.output.len() > 1 && ctx.node.output[1..].iter().any(|o| !o.is_empty()) {
        return Err(ctx.err("only the first output (Y) is supported"));
    }
    let x = arg(ctx, inputs, 0)?;
    let a = axis(ctx, ctx.int("axis", -1), im.ty(x).rank())?;
    let epsilon = ctx.float("epsilon", 1e-5) as f64;
    let mut y = im.emit(ctx, OpKind::LayerNorm { axis: a, epsilon }, &[x])?;
    let scale = arg(ctx, inputs, 1)?;
    y = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[y, scale])?;
    if let Some(bias) = inputs.get(2).copied().flatten() {
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, bias])?;
    }
    one(y)
}

fn reshape(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let from = im.shape(ctx, x)?;
    let spec = const_arg(im, ctx, inputs, 1)?
        .ok_or_else(|| ctx.err("the shape input is required"))?
        .to_i64();
    let allow_zero = ctx.int("allowzero", 0) != 0;
    let mut shape = vec![];
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                shape.push(1);
            }
            0 if !allow_zero => shape.push(*from.get(i).ok_or_else(|| {
                ctx.err(format!(
                    "shape entry {i} copies a dim the input does not have"
                ))
            })?),
            d if d >= 0 => shape.push(d as usize),
            _ => return Err(ctx.err(format!("invalid target shape {spec:?}"))),
        }
    }
    let total: usize = from.iter().product();
    if let Some(i) = infer {
        let rest: usize = shape.iter().product();
        if rest == 0 || !total.is_multiple_of(rest) {
            return Err(ctx.err(format!(
                "cannot reshape {} into {spec:?}",
                kiln_types::shape_string(&from)
            )));
        }
        shape[i] = total / rest;
    }
    one(reshape_to(im, ctx, x, shape)?)
}

fn flatten(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let s = im.shape(ctx, x)?;
    let a = ctx.int("axis", 1);
    let a = if a == s.len() as i64 {
        s.len()
    } else {
        axis(ctx, a, s.len())?
    };
    one(reshape_to(
        im,
        ctx,
        x,
        vec![s[..a].iter().product(), s[a..].iter().product()],
    )?)
}

/// Axes given as an attribute before opset 13 and as an input from 13 on.
fn axes_arg(
    im: &Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Result<Option<Vec<i64>>, ImportError> {
    if ctx.opset >= 13 {
        Ok(const_arg(im, ctx, inputs, 1)?.map(|t| t.to_i64()))
    } else {
        Ok(ctx.ints("axes"))
    }
}

fn squeeze(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let s = im.shape(ctx, x)?;
    let axes = match axes_arg(im, ctx, inputs)? {
        Some(a) => a
            .iter()
            .map(|&i| axis(ctx, i, s.len()))
            .collect::<Result<Vec<_>, _>>()?,
        None => (0..s.len()).filter(|&i| s[i] == 1).collect(),
    };
    if let Some(&bad) = axes.iter().find(|&&a| s[a] != 1) {
        return Err(ctx.err(format!("cannot squeeze dim {bad} of size {}", s[bad])));
    }
    let out = (0..s.len())
        .filter(|i| !axes.contains(i))
        .map(|i| s[i])
        .collect();
    one(reshape_to(im, ctx, x, out)?)
}

fn unsqueeze(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let s = im.shape(ctx, x)?;
    let raw = axes_arg(im, ctx, inputs)?.ok_or_else(|| ctx.err("axes are required"))?;
    let rank = s.len() + raw.len();
    let mut axes = raw
        .iter()
        .map(|&i| axis(ctx, i, rank))
        .collect::<Result<Vec<_>, _>>()?;
    axes.sort_unstable();
    let mut out = vec![];
    let mut it = s.iter();
    for i in 0..rank {
        if axes.contains(&i) {
            out.push(1);
        } else {
            out.push(*it.next().ok_or_else(|| ctx.err("duplicate axes"))?);
        }
    }
    one(reshape_to(im, ctx, x, out)?)
}

fn transpose(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let rank = im.ty(x).rank();
    let perm = match ctx.ints("perm") {
        Some(p) => p
            .iter()
            .map(|&i| axis(ctx, i, rank))
            .collect::<Result<Vec<_>, _>>()?,
        None => (0..rank).rev().collect(),
    };
    one(im.emit(ctx, OpKind::Transpose { perm }, &[x])?)
}

fn concat(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let vals: Vec<ValueId> = inputs.iter().flatten().copied().collect();
    let first = *vals
        .first()
        .ok_or_else(|| ctx.err("needs at least one input"))?;
    let a = axis(ctx, ctx.int("axis", 0), im.ty(first).rank())?;
    if vals.len() == 1 {
        return one(first);
    }
    one(im.emit(ctx, OpKind::Concat { axis: a }, &vals)?)
}

fn slice(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let shape = im.shape(ctx, x)?;
    let rank = shape.len();
    let (starts, ends, axes, steps) = if ctx.opset >= 10 {
        let get = |i: usize| -> Result<Option<Vec<i64>>, ImportError> {
            Ok(const_arg(im, ctx, inputs, i)?.map(|t| t.to_i64()))
        };
        (
            get(1)?.unwrap_or_default(),
            get(2)?.unwrap_or_default(),
            get(3)?,
            get(4)?,
        )
    } else {
        (
            ctx.ints("starts").unwrap_or_default(),
            ctx.ints("ends").unwrap_or_default(),
            ctx.ints("axes"),
            None,
        )
    };
    if starts.len() != ends.len() {
        return Err(ctx.err("starts and ends differ in length"));
    }
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(ctx.err("starts, ends, axes and steps differ in length"));
    }
    let mut st: Vec<i64> = vec![0; rank];
    let mut en: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut sp: Vec<i64> = vec![1; rank];
    for i in 0..starts.len() {
        let a = axis(ctx, axes[i], rank)?;
        let dim = shape[a] as i64;
        let step = steps[i];
        if step == 0 {
            return Err(ctx.err("slice step must not be zero"));
        }
        let norm = |v: i64| if v < 0 { v + dim } else { v };
        // Clamp as the ONNX spec says: [0, dim] for positive steps, [-1, dim-1] for negative.
        let (lo, hi) = if step > 0 { (0, dim) } else { (-1, dim - 1) };
        st[a] = norm(starts[i]).clamp(lo, hi);
        en[a] = norm(ends[i].clamp(-(i64::MAX / 2), i64::MAX / 2)).clamp(lo, hi);
        sp[a] = step;
    }
    one(im.emit(
        ctx,
        OpKind::Slice {
            starts: st,
            ends: en,
            steps: sp,
        },
        &[x],
    )?)
}

fn gather(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, idx) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let a = axis(ctx, ctx.int("axis", 0), im.ty(x).rank())?;
    one(im.emit(ctx, OpKind::Gather { axis: a }, &[x, idx])?)
}

fn shape(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let s = im.shape(ctx, x)?;
    let r = s.len() as i64;
    let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clampi(ctx.int("start", 0));
    let end = clampi(ctx.int("end", r)).max(start);
    let dims: Vec<i64> = s[start..end].iter().map(|&d| d as i64).collect();
    one(im.constant(HostTensor::from_i64(&[dims.len()], &dims), &ctx.name))
}

fn expand(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let xs = im.shape(ctx, x)?;
    let target = const_arg(im, ctx, inputs, 1)?
        .ok_or_else(|| ctx.err("the shape input is required"))?
        .to_i64();
    // Expand broadcasts both ways: the result is broadcast(input shape, target).
    let rank = xs.len().max(target.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let a = if i + xs.len() >= rank {
            xs[i + xs.len() - rank]
        } else {
            1
        };
        let b = if i + target.len() >= rank {
            target[i + target.len() - rank].max(0) as usize
        } else {
            1
        };
        out[i] = if a == 1 {
            b
        } else if b == 1 || a == b {
            a
        } else {
            return Err(ctx.err(format!(
                "cannot expand {} to {target:?}",
                kiln_types::shape_string(&xs)
            )));
        };
    }
    if out == xs {
        return one(x);
    }
    one(im.emit(ctx, OpKind::Broadcast { shape: out }, &[x])?)
}

fn constant_of_shape(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let dims = const_arg(im, ctx, inputs, 0)?
        .ok_or_else(|| ctx.err("the shape input is required"))?
        .to_i64();
    let shape: Vec<usize> = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| ctx.err(format!("negative dim {d}"))))
        .collect::<Result<_, _>>()?;
    let value = match ctx.attr("value").and_then(|a| a.t.as_ref()) {
        Some(t) => im.tensor(t).map_err(|m| ctx.err(m))?,
        None => HostTensor::from_f32(&[], &[0.0]),
    };
    let v = value.to_f64().first().copied().unwrap_or(0.0);
    let count = kiln_types::element_count(&shape).ok_or_else(|| ctx.err("too many elements"))?;
    one(im.constant(
        HostTensor::from_f64(value.element_type, &shape, &vec![v; count]),
        &ctx.name,
    ))
}
