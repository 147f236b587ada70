//! ONNX op builders: one function per op family, registered by op type in [`builder`].
//!
//! A builder receives the node, its inputs (`None` for omitted optional inputs) and returns one
//! value per ONNX output (`None` for outputs kiln does not produce). It lowers onto kiln's core op
//! set; attribute defaults and opset differences are handled here and nowhere else.

use super::shape_values::ShapeValue;
use super::{narrow_types, Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{
    dims_product, BinaryOp, Conv2dAttrs, Dim, OpKind, PoolAttrs, PoolKind, ReduceKind, SymExpr,
    UnaryOp, ValueId,
};
use kiln_types::minifloat::E8M0Rounding;
use kiln_types::{ElementType, HostTensor};

pub(super) type Outputs = Result<Vec<Option<ValueId>>, ImportError>;
pub(super) type Builder = fn(&mut Importer, &NodeCtx, &[Option<ValueId>]) -> Outputs;

/// The builder for an ONNX op type, if kiln supports it.
pub(crate) fn builder(op_type: &str) -> Option<Builder> {
    Some(match op_type {
        "Identity" => identity,
        "Dropout" => dropout,
        "Constant" => constant,
        "Add" | "Sub" | "Mul" | "Div" | "Equal" | "Less" | "Greater" | "And" | "Or" | "Max"
        | "Min" | "BitwiseAnd" | "BitwiseOr" | "BitwiseXor" | "BitShift" => binary,
        "Pow" => pow,
        "Neg" | "Abs" | "Exp" | "Log" | "Sqrt" | "Erf" | "Relu" | "Sigmoid" | "Tanh" | "Not"
        | "Floor" | "Ceil" | "Round" | "Sign" | "Sin" | "Cos" | "Softplus" | "BitwiseNot" => unary,
        "Reciprocal" | "Softsign" | "LeakyRelu" | "PRelu" | "Elu" | "Selu" | "HardSigmoid"
        | "HardSwish" | "Gelu" | "Mish" | "Tan" | "ThresholdedRelu" | "Celu" | "Shrink"
        | "Swish" => activation,
        "Sinh" | "Cosh" | "Asinh" | "Acosh" | "Atanh" => hyperbolic,
        "Asin" | "Acos" | "Atan" => inverse_trig,
        "GreaterOrEqual" | "LessOrEqual" => compare_or_equal,
        "IsNaN" | "IsInf" => classify,
        "CastLike" => cast_like,
        "ArgMax" | "ArgMin" => arg_extreme,
        "TopK" => top_k,
        "OneHot" => one_hot,
        "Det" => det,
        "Hardmax" => hardmax,
        "Trilu" => trilu,
        "RMSNormalization" => rms_norm,
        "LpNormalization" => lp_norm,
        "NegativeLogLikelihoodLoss" | "SoftmaxCrossEntropyLoss" => nll_loss,
        "Attention" => attention,
        "Sum" | "Mean" => sum_mean,
        "Xor" => xor,
        "Mod" => modulo,
        "LogSoftmax" => log_softmax,
        "InstanceNormalization" => instance_norm,
        "GroupNormalization" => group_norm,
        "ReduceL1" | "ReduceL2" | "ReduceSumSquare" | "ReduceLogSum" | "ReduceLogSumExp" => reduce,
        "Split" => split,
        "Tile" => tile,
        "Pad" => pad,
        "Range" => range,
        "Size" | "Shape" => super::shape_values::shape_or_size,
        "DepthToSpace" | "SpaceToDepth" => depth_space,
        "Clip" => clip,
        "Where" => select,
        "Cast" => cast,
        "BitCast" => bit_cast,
        "MatMul" => matmul,
        "Gemm" => gemm,
        "Conv" => conv,
        "MaxPool" | "AveragePool" => pool,
        "LpPool" => lp_pool,
        "CumSum" => cum_sum,
        "CumProd" => cum_prod,
        "SwiGLU" => swiglu,
        "LRN" => lrn,
        "GlobalAveragePool" | "GlobalMaxPool" => global_pool,
        "BatchNormalization" => batch_norm,
        "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd" => reduce,
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
        "Expand" => expand,
        "ConstantOfShape" => constant_of_shape,
        "EyeLike" => eye_like,
        "LSTM" | "GRU" | "RNN" => super::recurrent::recurrent,
        "Resize" | "Upsample" => super::resize::resize,
        "ConvTranspose" => super::conv_transpose::conv_transpose,
        "Einsum" => super::einsum::einsum,
        "RotaryEmbedding" => super::rotary::rotary_embedding,
        "GatherElements" => super::indexing::gather_elements,
        "GridSample" => super::grid_sample::grid_sample,
        "DeformConv" => super::grid_sample::deform_conv,
        "RoiAlign" => super::roi_align::roi_align,
        "DFT" => super::dft::dft,
        "STFT" => super::dft::stft,
        "HannWindow" | "HammingWindow" | "BlackmanWindow" => super::windows::window,
        "MelWeightMatrix" => super::windows::mel_weight_matrix,
        "MeanVarianceNormalization" => mean_variance_normalization,
        "CenterCropPad" => super::data_pads::center_crop_pad,
        "Compress" => super::data_counts::compress,
        "AffineGrid" => super::affine_unpool::affine_grid,
        "MaxUnpool" => super::affine_unpool::max_unpool,
        "NonZero" => super::data_counts::non_zero,
        "NonMaxSuppression" => super::nms::non_max_suppression,
        "Unique" => super::data_counts::unique,
        "Col2Im" => super::col2im::col2im,
        "GatherND" => super::indexing::gather_nd,
        "ReverseSequence" => super::indexing::reverse_sequence,
        "ScatterElements" | "Scatter" => super::scatter::scatter_elements,
        "ScatterND" => super::scatter::scatter_nd,
        "TensorScatter" => super::indexing::tensor_scatter,
        "CausalConvWithState" => super::causal_conv::causal_conv_with_state,
        "LinearAttention" => super::linear_attention::linear_attention,
        "QuantizeLinear" => super::quantize::quantize_linear,
        "DequantizeLinear" => super::quantize::dequantize_linear,
        "DynamicQuantizeLinear" => super::quantize::dynamic_quantize_linear,
        "MatMulInteger" => super::quantize::matmul_integer,
        "ConvInteger" => super::quantize::conv_integer,
        "QLinearConv" => super::quantize::qlinear_conv,
        "QLinearMatMul" => super::quantize::qlinear_matmul,
        "If" => super::control_flow::if_else,
        "Loop" => super::control_flow::loop_,
        "Scan" => super::control_flow::scan,
        _ => return None,
    })
}

/// The builder of an ONNX Runtime contrib op (domain `com.microsoft`) kiln implements.
pub(super) fn contrib_builder(op: &str) -> Option<Builder> {
    Some(match op {
        "DynamicQuantizeLSTM" => super::recurrent::dynamic_quantize_lstm,
        _ => return None,
    })
}

/// Input `i`, required.
pub(super) fn arg(
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    i: usize,
) -> Result<ValueId, ImportError> {
    inputs
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| ctx.err(format!("input {i} is required")))
}

/// Input `i`, which must be a constant known at compile time (shapes, axes, pads …).
pub(super) fn const_arg<'a>(
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
pub(super) fn axis(ctx: &NodeCtx, a: i64, rank: usize) -> Result<usize, ImportError> {
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    if n < 0 || n >= r {
        return Err(ctx.err(format!("axis {a} is out of range for rank {rank}")));
    }
    Ok(n as usize)
}

pub(super) fn one(v: ValueId) -> Outputs {
    Ok(vec![Some(v)])
}

/// Inference-mode dropout is the identity; training mode (random masks) is refused.
fn dropout(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if let Some(t) = inputs.get(2).copied().flatten() {
        let training = im
            .const_of(t)
            .map(|c| c.to_f64().first().copied().unwrap_or(0.0) != 0.0);
        match training {
            Some(false) => {}
            Some(true) => return training_dropout(im, ctx, inputs, None),
            None => return training_dropout(im, ctx, inputs, Some(t)),
        }
    }
    let x = arg(ctx, inputs, 0)?;
    if ctx.node.output.get(1).is_none_or(|o| o.is_empty()) {
        return one(x);
    }
    // In inference nothing is dropped: the mask keeps every element (boolean from opset 10,
    // the data's type before).
    let et = if ctx.opset >= 10 {
        ElementType::I1
    } else {
        im.ty(x).element_type
    };
    let mask = match im.ty(x).static_shape() {
        Some(shape) => {
            let ones = vec![1.0; constant_len(ctx, &shape)?];
            im.constant(HostTensor::from_f64(et, &shape, &ones), &ctx.name)
        }
        None => {
            let one = im.constant(HostTensor::from_f64(et, &[], &[1.0]), &ctx.name);
            im.emit(ctx, OpKind::Broadcast { shape: im.dims(x) }, &[one])?
        }
    };
    Ok(vec![Some(x), Some(mask)])
}

/// Dropout in training mode: each element kept with probability `1 − ratio` and scaled by
/// `1 / (1 − ratio)`, else zeroed. The draws come from a counter-based hash of the element's
/// position and `seed` (PCG's output function), so a call is reproducible but its mask is not
/// NumPy's or ONNX Runtime's. With `training` given as data, each call picks by its value.
fn training_dropout(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    training: Option<ValueId>,
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    let c = |im: &mut Importer, v: i64| im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name);
    let f = |im: &mut Importer, v: f64| {
        im.constant(HostTensor::from_f64(ElementType::F32, &[], &[v]), &ctx.name)
    };
    let ratio = match inputs.get(1).copied().flatten() {
        Some(r) => {
            let r = reshape_to(im, ctx, r, vec![])?;
            cast_to(im, ctx, r, ElementType::F32)?
        }
        None => f(im, 0.5),
    };
    let dims = im.dims(x);
    let total = Dim::from_expr(dims_product(&dims)).ok_or_else(|| ctx.err("too large"))?;
    let at = im.emit(
        ctx,
        OpKind::Iota {
            shape: vec![total],
            axis: 0,
        },
        &[],
    )?;
    let at = reshape_dims(im, ctx, at, dims)?;
    // h = pos · 747796405 + 2891336453 + seed (mod 2³²), then PCG's xorshift-multiply.
    let mask32 = c(im, 0xffff_ffff);
    let mul = c(im, 747_796_405);
    let h = bin(im, ctx, BinaryOp::Mul, at, mul)?;
    let inc = c(im, 2_891_336_453 + ctx.int("seed", 0));
    let h = bin(im, ctx, BinaryOp::Add, h, inc)?;
    let h = bin(im, ctx, BinaryOp::BitAnd, h, mask32)?;
    let (k28, k4) = (c(im, 28), c(im, 4));
    let shift = bin(im, ctx, BinaryOp::Shr, h, k28)?;
    let shift = bin(im, ctx, BinaryOp::Add, shift, k4)?;
    let w = bin(im, ctx, BinaryOp::Shr, h, shift)?;
    let w = bin(im, ctx, BinaryOp::BitXor, w, h)?;
    let mul2 = c(im, 277_803_737);
    let w = bin(im, ctx, BinaryOp::Mul, w, mul2)?;
    let w = bin(im, ctx, BinaryOp::BitAnd, w, mask32)?;
    let k22 = c(im, 22);
    let top = bin(im, ctx, BinaryOp::Shr, w, k22)?;
    let w = bin(im, ctx, BinaryOp::BitXor, top, w)?;
    // A uniform draw in [0, 1) from the top 24 bits (exact in f32).
    let k8 = c(im, 8);
    let w = bin(im, ctx, BinaryOp::Shr, w, k8)?;
    let w = bin(im, ctx, BinaryOp::BitAnd, w, mask32)?;
    let u = cast_to(im, ctx, w, ElementType::F32)?;
    let step = f(im, 1.0 / (1u64 << 24) as f64);
    let u = bin(im, ctx, BinaryOp::Mul, u, step)?;
    let below = bin(im, ctx, BinaryOp::Less, u, ratio)?;
    let keep = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[below])?;
    let one_ = f(im, 1.0);
    let left = bin(im, ctx, BinaryOp::Sub, one_, ratio)?;
    let scale = bin(im, ctx, BinaryOp::Div, one_, left)?;
    let scale = cast_to(im, ctx, scale, im.ty(x).element_type)?;
    let scaled = bin(im, ctx, BinaryOp::Mul, x, scale)?;
    let zero = scalar_like(im, ctx, x, 0.0);
    let mut y = im.emit(ctx, OpKind::Select, &[keep, scaled, zero])?;
    let mut mask = keep;
    if let Some(t) = training {
        let t = reshape_to(im, ctx, t, vec![])?;
        let t = cast_to(im, ctx, t, ElementType::I1)?;
        y = im.emit(ctx, OpKind::Select, &[t, y, x])?;
        let off = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[t])?;
        mask = bin(im, ctx, BinaryOp::Or, mask, off)?;
    }
    Ok(vec![Some(y), Some(mask)])
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

fn binary_kind(ctx: &NodeCtx) -> Result<BinaryOp, ImportError> {
    Ok(match ctx.op_type {
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
        "BitwiseAnd" => BinaryOp::BitAnd,
        "BitwiseOr" => BinaryOp::BitOr,
        "BitwiseXor" => BinaryOp::BitXor,
        "BitShift" => match ctx.string("direction").as_deref().unwrap_or("") {
            "LEFT" => BinaryOp::Shl,
            "RIGHT" => BinaryOp::Shr,
            other => return Err(ctx.err(format!("direction must be LEFT or RIGHT, not '{other}'"))),
        },
        _ => BinaryOp::Min,
    })
}

fn binary(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let kind = binary_kind(ctx)?;
    // Max and Min are variadic in ONNX (one input is the identity); the rest take two.
    let variadic = matches!(kind, BinaryOp::Max | BinaryOp::Min);
    let mut acc = arg(ctx, inputs, 0)?;
    for i in 1..if variadic { inputs.len() } else { 2 } {
        let b = arg(ctx, inputs, i)?;
        acc = im.emit(ctx, OpKind::Binary(kind), &[acc, b])?;
    }
    one(acc)
}

fn pow(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, y) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    // Common constant exponents become cheaper, exact ops, when they do not change the shape.
    let keeps_shape = kiln_ir::ops::broadcast_dims(&im.ty(x).dims, &im.ty(y).dims)
        .is_ok_and(|d| d == im.ty(x).dims);
    let same_type =
        im.ty(x).element_type == im.ty(y).element_type || im.ty(x).element_type.is_float();
    if let Some(e) = im
        .const_of(y)
        .filter(|t| t.element_count() == 1 && keeps_shape && same_type)
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
    let (xt, yt) = (im.ty(x).element_type, im.ty(y).element_type);
    if !xt.is_float() && yt.is_float() {
        // An integer base with a float exponent is computed in floats, then cast back.
        let xf = im.emit(ctx, OpKind::Cast(yt), &[x])?;
        let p = im.emit(ctx, OpKind::Binary(BinaryOp::Pow), &[xf, y])?;
        return one(im.emit(ctx, OpKind::Cast(xt), &[p])?);
    }
    let y = if yt != xt {
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
        "Floor" => UnaryOp::Floor,
        "Ceil" => UnaryOp::Ceil,
        "Round" => UnaryOp::Round,
        "Sign" => UnaryOp::Sign,
        "Sin" => UnaryOp::Sin,
        "Cos" => UnaryOp::Cos,
        "Softplus" => UnaryOp::Softplus,
        "BitwiseNot" => UnaryOp::BitNot,
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
    one(cast_node(im, ctx, arg(ctx, inputs, 0)?, to)?)
}

/// A Cast or CastLike node's conversion, with its `saturate` and `round_mode` (read only for
/// narrow floats, the types they apply to).
fn cast_node(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    to: ElementType,
) -> Result<ValueId, ImportError> {
    if !narrow_types::involved(im.ty(x).element_type, to) {
        return cast_to(im, ctx, x, to);
    }
    let e8m0 = match ctx.string("round_mode").as_deref() {
        None | Some("up") => E8M0Rounding::Up,
        Some("down") => E8M0Rounding::Down,
        Some("nearest") => E8M0Rounding::Nearest,
        Some(other) => {
            return Err(ctx.err(format!(
                "round_mode '{other}' is not one of up, down and nearest"
            )))
        }
    };
    let rounding = narrow_types::Rounding {
        saturate: ctx.int("saturate", 1) != 0,
        e8m0,
    };
    narrow_types::cast(im, ctx, x, to, rounding)
}

/// BitCast between types of one width: between integers (and from bool to 8-bit integers) the
/// same bits read with the other signedness, which is what kiln's integer casts do (they wrap
/// to the target's width); with a float on either side, the stored bytes read as the other
/// type.
fn bit_cast(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let from = im.ty(x).element_type;
    let to = super::element_type(ctx.int("to", 0) as i32).map_err(|m| ctx.err(m))?;
    if from.byte_size() != to.byte_size() {
        return Err(ctx.err(format!(
            "{from} and {to} differ in width; BitCast keeps the bits"
        )));
    }
    let integer = |t: ElementType| t.int_width().is_some();
    if (integer(from) || from == ElementType::I1) && integer(to) {
        return one(cast_to(im, ctx, x, to)?);
    }
    if from == to {
        return one(x);
    }
    one(im.emit(ctx, OpKind::BitCast(to), &[x])?)
}

/// CastLike: a cast to the element type of input 1.
fn cast_like(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let to = im.ty(arg(ctx, inputs, 1)?).element_type;
    one(cast_node(im, ctx, arg(ctx, inputs, 0)?, to)?)
}

/// `x` as element type `to` (itself when it already is).
pub(super) fn cast_to(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    to: ElementType,
) -> Result<ValueId, ImportError> {
    let from = im.ty(x).element_type;
    if from == to {
        return Ok(x);
    }
    if narrow_types::involved(from, to) {
        return narrow_types::cast(im, ctx, x, to, narrow_types::Rounding::default());
    }
    im.emit(ctx, OpKind::Cast(to), &[x])
}

pub(super) fn reshape_to(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    shape: Vec<usize>,
) -> Result<ValueId, ImportError> {
    reshape_dims(im, ctx, x, shape.into_iter().map(Dim::Static).collect())
}

/// Reshapes to static or symbolic dims (nothing to do when `x` has them already).
pub(super) fn reshape_dims(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    shape: Vec<Dim>,
) -> Result<ValueId, ImportError> {
    if im.ty(x).dims == shape {
        return Ok(x);
    }
    im.emit(ctx, OpKind::Reshape { shape }, &[x])
}

fn matmul(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (mut a, mut b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let (sa, sb) = (im.dims(a), im.dims(b));
    // ONNX promotes 1-D operands to matrices and drops the added dim afterwards.
    if sa.len() == 1 {
        a = reshape_dims(im, ctx, a, vec![Dim::Static(1), sa[0].clone()])?;
    }
    if sb.len() == 1 {
        b = reshape_dims(im, ctx, b, vec![sb[0].clone(), Dim::Static(1)])?;
    }
    let mut y = match super::quantize::quantized_matmul(im, ctx, [a, b], false)? {
        Some(y) => y,
        None => im.emit(ctx, OpKind::MatMul, &[a, b])?,
    };
    if sa.len() == 1 || sb.len() == 1 {
        let mut out = im.dims(y);
        let r = out.len();
        if sb.len() == 1 {
            out.remove(r - 1);
        }
        if sa.len() == 1 {
            out.remove(out.len() - if sb.len() == 1 { 1 } else { 2 });
        }
        y = reshape_dims(im, ctx, y, out)?;
    }
    one(y)
}

fn transpose_2d(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Result<ValueId, ImportError> {
    im.emit(ctx, OpKind::Transpose { perm: vec![1, 0] }, &[x])
}

/// `v`, a tensor of one value (shape `[]` or `[1]`), as a rank-0 value; `what` names it in
/// the error otherwise.
pub(super) fn one_value(
    im: &mut Importer,
    ctx: &NodeCtx,
    v: ValueId,
    what: &str,
) -> Result<ValueId, ImportError> {
    match im.ty(v).static_shape().as_deref() {
        Some([]) => Ok(v),
        Some([1]) => reshape_to(im, ctx, v, vec![]),
        _ => Err(ctx.err(format!("{what} must hold one value, got {}", im.ty(v)))),
    }
}

/// An i64 scalar constant.
pub(super) fn i64_scalar(im: &mut Importer, ctx: &NodeCtx, v: i64) -> ValueId {
    im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name)
}

/// A size as an i64 scalar value: a constant when it is known, else a value the control
/// program computes from the dims it depends on ([`super::host_sizes`]).
pub(super) fn size_scalar(im: &mut Importer, ctx: &NodeCtx, size: SymExpr) -> ValueId {
    let v = ShapeValue {
        values: vec![size],
        scalar: true,
    };
    im.emit_shape_value(ctx, v)
}

pub(super) fn scalar_like(im: &mut Importer, ctx: &NodeCtx, like: ValueId, v: f64) -> ValueId {
    let et = im.ty(like).element_type;
    im.constant(HostTensor::from_f64(et, &[], &[v]), &ctx.name)
}

fn gemm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (mut a, mut b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    if ctx.int("transA", 0) != 0 {
        a = transpose_2d(im, ctx, a)?;
    }
    let transpose_b = ctx.int("transB", 0) != 0;
    let (alpha, beta) = (
        ctx.float("alpha", 1.0) as f64,
        ctx.float("beta", 1.0) as f64,
    );
    let mut y = match super::quantize::quantized_matmul(im, ctx, [a, b], transpose_b)? {
        Some(y) => y,
        None => {
            if transpose_b {
                b = transpose_2d(im, ctx, b)?;
            }
            im.emit(ctx, OpKind::MatMul, &[a, b])?
        }
    };
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
    rank: usize,
    input: [&Dim; 2],
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
) -> Result<[usize; 4], ImportError> {
    let auto = ctx.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" | "" => {
            let p = ctx.ints("pads").unwrap_or_else(|| vec![0; 2 * rank]);
            if p.len() != 2 * rank || p.iter().any(|&v| v < 0) {
                return Err(ctx.err(format!(
                    "pads {p:?} must be {} non-negative values for a {rank}-D window",
                    2 * rank
                )));
            }
            let p: Vec<usize> = p.iter().map(|&v| v as usize).collect();
            // A 1-D window runs as 2-D with a unit height.
            Ok(if rank == 1 {
                [0, p[0], 0, p[1]]
            } else {
                [p[0], p[1], p[2], p[3]]
            })
        }
        "VALID" => Ok([0; 4]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut pads = [0; 4];
            for d in 0..2 {
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let total = match (input[d], strides[d]) {
                    (Dim::Static(n), s) => {
                        let out = n.div_ceil(s);
                        (out.saturating_sub(1) * s + span).saturating_sub(*n)
                    }
                    // With stride 1 the total padding is span - 1 whatever the size.
                    (Dim::Sym(_), 1) => span - 1,
                    (Dim::Sym(_), _) => {
                        return Err(ctx.err(format!(
                            "auto_pad {auto} with stride {} over symbolic size {} is not supported",
                            strides[d], input[d]
                        )))
                    }
                };
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

/// A per-spatial-dim attribute of a 1-D or 2-D window, as two values (1-D gets a unit height).
pub(super) fn pair(
    ctx: &NodeCtx,
    name: &str,
    default: usize,
    rank: usize,
) -> Result<[usize; 2], ImportError> {
    match ctx.ints(name) {
        None => Ok([if rank == 1 { 1 } else { default }, default]),
        Some(v) if v.len() == rank && v.iter().all(|&x| x > 0) => Ok(if rank == 1 {
            [1, v[0] as usize]
        } else {
            [v[0] as usize, v[1] as usize]
        }),
        Some(v) => Err(ctx.err(format!("{name} {v:?} must be {rank} positive values"))),
    }
}

/// Views a 1-D (`N×C×L`) window operand as 2-D (`N×C×1×L`); 2-D operands pass through.
pub(super) fn as_2d(
    im: &mut Importer,
    ctx: &NodeCtx,
    v: ValueId,
    what: &str,
) -> Result<(ValueId, Vec<Dim>), ImportError> {
    let s = im.dims(v);
    match s.len() {
        4 => Ok((v, s)),
        3 => {
            let s4 = vec![s[0].clone(), s[1].clone(), Dim::Static(1), s[2].clone()];
            Ok((reshape_dims(im, ctx, v, s4.clone())?, s4))
        }
        _ => Err(ctx.err(format!(
            "only 1-D and 2-D windows are supported, got {what} {}",
            im.ty(v).shape_string()
        ))),
    }
}

/// Drops the unit height a 1-D window was given.
pub(super) fn from_2d(
    im: &mut Importer,
    ctx: &NodeCtx,
    y: ValueId,
    rank: usize,
) -> Result<ValueId, ImportError> {
    if rank == 2 {
        return Ok(y);
    }
    let s = im.dims(y);
    reshape_dims(im, ctx, y, vec![s[0].clone(), s[1].clone(), s[3].clone()])
}

pub(super) fn conv(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, w) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    if im.ty(x).rank() == 5 {
        return super::conv3d::conv_3d(im, ctx, inputs);
    }
    let ConvWindow { x, w, attrs, rank } = conv_window(im, ctx, x, w)?;
    let channels = im.shape(ctx, w)?[0];
    let integer = match rank {
        2 => super::quantize::quantized_conv(im, ctx, [x, w], &attrs)?,
        _ => None,
    };
    let mut y = match integer {
        Some(y) => y,
        None => im.emit(ctx, OpKind::Conv2d(attrs), &[x, w])?,
    };
    if let Some(bias) = inputs.get(2).copied().flatten() {
        let b = reshape_to(im, ctx, bias, vec![1, channels, 1, 1])?;
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, b])?;
    }
    one(from_2d(im, ctx, y, rank)?)
}

/// A convolution's operands as 2-D images and filters (1-D ones gain a unit dim) and its
/// window; `rank` is the spatial rank as written.
pub(super) struct ConvWindow {
    pub x: ValueId,
    pub w: ValueId,
    pub attrs: Conv2dAttrs,
    pub rank: usize,
}

/// The window of a Conv-like node (strides, dilations, group, pads or auto_pad,
/// kernel_shape checked against the weights) over input `x` and weights `w`.
pub(super) fn conv_window(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    w: ValueId,
) -> Result<ConvWindow, ImportError> {
    let rank = im.ty(x).rank().saturating_sub(2);
    let (x, xs) = as_2d(im, ctx, x, "input")?;
    let (w, _) = as_2d(im, ctx, w, "weights")?;
    let ws = im.shape(ctx, w)?;
    let strides = pair(ctx, "strides", 1, rank)?;
    let dilations = pair(ctx, "dilations", 1, rank)?;
    let groups = ctx.int("group", 1);
    if groups < 1 {
        return Err(ctx.err(format!("group {groups} must be positive")));
    }
    if let Some(ks) = ctx.ints("kernel_shape") {
        let expected: Vec<i64> = if rank == 1 {
            vec![ws[3] as i64]
        } else {
            vec![ws[2] as i64, ws[3] as i64]
        };
        if ks != expected {
            return Err(ctx.err(format!(
                "kernel_shape {ks:?} does not match the weights' {expected:?}"
            )));
        }
    }
    let pads = window_pads(
        ctx,
        rank,
        [&xs[2], &xs[3]],
        [ws[2], ws[3]],
        strides,
        dilations,
    )?;
    let attrs = Conv2dAttrs {
        strides,
        pads,
        dilations,
        groups: groups as usize,
    };
    Ok(ConvWindow { x, w, attrs, rank })
}

fn pool(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let kind = if ctx.op_type == "MaxPool" {
        PoolKind::Max
    } else {
        PoolKind::Avg
    };
    let count_include_pad = ctx.int("count_include_pad", 0) != 0;
    let wants_indices = ctx.node.output.get(1).is_some_and(|o| !o.is_empty());
    if im.ty(arg(ctx, inputs, 0)?).rank() == 5 {
        if wants_indices {
            return Err(ctx.err("the Indices output of 3-D pooling is not supported"));
        }
        return one(pool_3d(
            im,
            ctx,
            arg(ctx, inputs, 0)?,
            kind,
            count_include_pad,
        )?);
    }
    let x = arg(ctx, inputs, 0)?;
    if kind == PoolKind::Max && wants_indices {
        return max_pool_indices(im, ctx, x);
    }
    let (y, _) = windowed_pool(im, ctx, x, kind, count_include_pad)?;
    one(y)
}

/// MaxPool with its Indices output, over 2-D windows of a static image: the values from the
/// pooling kernel, and for each output the flat input index (row-major, or column-major per
/// image with `storage_order=1`) of the first window tap, in scan order, holding the maximum.
/// Taps are read by Gathers at indices computed elementwise, one per window position.
fn max_pool_indices(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Outputs {
    let s = im.shape(ctx, x)?;
    let [n, c, h, w] = s[..] else {
        return Err(ctx.err(format!(
            "MaxPool's Indices output is supported for 2-D images (N, C, H, W), got {}",
            im.ty(x)
        )));
    };
    let column_major = ctx.int("storage_order", 0) != 0;
    let (y, kernel) = windowed_pool_values(im, ctx, x)?;
    let ys = im.shape(ctx, y)?;
    let (oh, ow) = (ys[2], ys[3]);
    let strides = pair(ctx, "strides", 1, 2)?;
    let pads = match ctx.ints("pads") {
        Some(p) if p.len() == 4 => [p[0], p[1]],
        _ => [0, 0],
    };
    let i64c = |im: &mut Importer, dims: &[usize], v: Vec<i64>| {
        im.constant(HostTensor::from_i64(dims, &v), &ctx.name)
    };
    // Each output's image plane base, and its window's top-left corner.
    let plane: Vec<i64> = (0..(n * c) as i64).map(|p| p * (h * w) as i64).collect();
    let plane = i64c(im, &[n, c, 1, 1], plane);
    let top: Vec<i64> = (0..oh as i64)
        .map(|o| o * strides[0] as i64 - pads[0])
        .collect();
    let top = i64c(im, &[1, 1, oh, 1], top);
    let left: Vec<i64> = (0..ow as i64)
        .map(|o| o * strides[1] as i64 - pads[1])
        .collect();
    let left = i64c(im, &[1, 1, 1, ow], left);
    let flat_x = reshape_to(im, ctx, x, vec![n * c * h * w])?;
    let scalar = |im: &mut Importer, v: i64| i64c(im, &[], vec![v]);
    let (zero, hh, ww) = (scalar(im, 0), scalar(im, h as i64), scalar(im, w as i64));
    let mut chosen = zero;
    // Later taps first, so the first tap holding the maximum is the one kept.
    for dy in (0..kernel[0]).rev() {
        for dx in (0..kernel[1]).rev() {
            let dyv = scalar(im, dy as i64);
            let dxv = scalar(im, dx as i64);
            let iy = bin(im, ctx, BinaryOp::Add, top, dyv)?;
            let ix = bin(im, ctx, BinaryOp::Add, left, dxv)?;
            let inside =
                |im: &mut Importer, v: ValueId, len: ValueId| -> Result<ValueId, ImportError> {
                    let below = bin(im, ctx, BinaryOp::Less, v, zero)?;
                    let not_below = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[below])?;
                    let under = bin(im, ctx, BinaryOp::Less, v, len)?;
                    bin(im, ctx, BinaryOp::And, not_below, under)
                };
            let (in_y, in_x) = (inside(im, iy, hh)?, inside(im, ix, ww)?);
            let valid = bin(im, ctx, BinaryOp::And, in_y, in_x)?;
            let row = bin(im, ctx, BinaryOp::Mul, iy, ww)?;
            let at = bin(im, ctx, BinaryOp::Add, row, ix)?;
            let at = bin(im, ctx, BinaryOp::Add, at, plane)?;
            let at = im.emit(ctx, OpKind::Select, &[valid, at, zero])?;
            let v = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_x, at])?;
            let is_max = bin(im, ctx, BinaryOp::Equal, v, y)?;
            let hit = bin(im, ctx, BinaryOp::And, valid, is_max)?;
            let reported = if column_major {
                let col = bin(im, ctx, BinaryOp::Mul, ix, hh)?;
                let at = bin(im, ctx, BinaryOp::Add, col, iy)?;
                bin(im, ctx, BinaryOp::Add, at, plane)?
            } else {
                at
            };
            chosen = im.emit(ctx, OpKind::Select, &[hit, reported, chosen])?;
        }
    }
    Ok(vec![Some(y), Some(chosen)])
}

/// Max or average pooling over 3-D windows (`N×C×D×H×W`), which separates: a 2-D pool over
/// each depth slice, then a `[kd, 1]` pool along depth over the flattened planes. The maximum
/// of a box is the maximum over depth of the plane maxima, and its average (padding counted or
/// not) the average over depth of the plane averages, since a plane window's element count
/// does not depend on the depth. Explicit pads only; dilations and ceil_mode take the dilated
/// stages.
fn pool_3d(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    kind: PoolKind,
    count_include_pad: bool,
) -> Result<ValueId, ImportError> {
    let s = im.shape(ctx, x)?;
    let three = |name: &str, default: i64| -> Result<[usize; 3], ImportError> {
        match ctx.ints(name) {
            None => Ok([default as usize; 3]),
            Some(v) if v.len() == 3 && v.iter().all(|&x| x >= 0) => {
                Ok([v[0] as usize, v[1] as usize, v[2] as usize])
            }
            Some(v) => Err(ctx.err(format!("{name} {v:?} must be 3 non-negative values"))),
        }
    };
    let kernel = three("kernel_shape", 0)?;
    let strides = three("strides", 1)?;
    let dilations = three("dilations", 1)?;
    let ceil = ctx.int("ceil_mode", 0) != 0;
    let auto_pad = ctx
        .string("auto_pad")
        .is_some_and(|p| p != "NOTSET" && p != "VALID");
    if auto_pad || kernel.contains(&0) || strides.contains(&0) || dilations.contains(&0) {
        return Err(ctx.err(
            "3-D pooling takes an explicit kernel, strides, dilations and pads (no auto_pad)",
        ));
    }
    let pads = match ctx.ints("pads") {
        None => [0; 6],
        Some(p) if p.len() == 6 && p.iter().all(|&v| v >= 0) => {
            std::array::from_fn(|i| p[i] as usize)
        }
        Some(p) => return Err(ctx.err(format!("pads {p:?} must be 6 non-negative values"))),
    };
    if ceil || dilations != [1, 1, 1] {
        // Separable the same way, each stage a dilated 2-D pool: a window's taps inside the
        // input (or padding) along each axis do not depend on the others.
        let p = |i: usize| pads[i] as i64;
        let planes = reshape_to(im, ctx, x, vec![s[0], s[1] * s[2], s[3], s[4]])?;
        let plane = Window {
            kernel: [kernel[1], kernel[2]],
            strides: [strides[1], strides[2]],
            dilations: [dilations[1], dilations[2]],
            pads: [p(1), p(2), p(4), p(5)],
            ceil,
        };
        let planes = dilated_pool(im, ctx, planes, kind, count_include_pad, &plane)?;
        let ps = im.shape(ctx, planes)?;
        let depth = reshape_to(im, ctx, planes, vec![s[0], s[1], s[2], ps[2] * ps[3]])?;
        let along_depth = Window {
            kernel: [kernel[0], 1],
            strides: [strides[0], 1],
            dilations: [dilations[0], 1],
            pads: [p(0), 0, p(3), 0],
            ceil,
        };
        let y = dilated_pool(im, ctx, depth, kind, count_include_pad, &along_depth)?;
        let od = im.shape(ctx, y)?[2];
        return reshape_to(im, ctx, y, vec![s[0], s[1], od, ps[2], ps[3]]);
    }
    let out = |d: usize| {
        (s[2 + d] + pads[d] + pads[d + 3])
            .checked_sub(kernel[d])
            .map(|span| span / strides[d] + 1)
            .ok_or_else(|| ctx.err(format!("the window {kernel:?} does not fit input {s:?}")))
    };
    let (od, oh, ow) = (out(0)?, out(1)?, out(2)?);
    let planes = reshape_to(im, ctx, x, vec![s[0], s[1] * s[2], s[3], s[4]])?;
    let plane_attrs = PoolAttrs {
        kind,
        kernel: [kernel[1], kernel[2]],
        strides: [strides[1], strides[2]],
        pads: [pads[1], pads[2], pads[4], pads[5]],
        count_include_pad,
    };
    let planes = im.emit(ctx, OpKind::Pool2d(plane_attrs), &[planes])?;
    let depth = reshape_to(im, ctx, planes, vec![s[0], s[1], s[2], oh * ow])?;
    let depth_attrs = PoolAttrs {
        kind,
        kernel: [kernel[0], 1],
        strides: [strides[0], 1],
        pads: [pads[0], 0, pads[3], 0],
        count_include_pad,
    };
    let y = im.emit(ctx, OpKind::Pool2d(depth_attrs), &[depth])?;
    reshape_to(im, ctx, y, vec![s[0], s[1], od, oh, ow])
}

/// SwiGLU: `A · sigmoid(alpha · A) · B` (Swish of the gate times the value).
fn swiglu(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (a, b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    require_float(im, ctx, a)?;
    if im.ty(a) != im.ty(b) {
        return Err(ctx.err(format!(
            "A {} and B {} must have one type (SwiGLU does not broadcast)",
            im.ty(a),
            im.ty(b)
        )));
    }
    let alpha = scalar_like(im, ctx, a, ctx.float("alpha", 1.0) as f64);
    let t = bin(im, ctx, BinaryOp::Mul, a, alpha)?;
    let s = un(im, ctx, UnaryOp::Sigmoid, t)?;
    let swish = bin(im, ctx, BinaryOp::Mul, a, s)?;
    one(bin(im, ctx, BinaryOp::Mul, swish, b)?)
}

/// LRN: `x / (bias + alpha/size · Σ x²)^beta`, the sum over the `size` channels around each
/// (`floor((size-1)/2)` before, `ceil((size-1)/2)` after), as shifted slices of the squares
/// padded with zeros along the channels.
fn lrn(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    let shape = im.shape(ctx, x)?;
    if shape.len() < 3 {
        return Err(ctx.err(format!("input must have rank 3 or more, got {}", im.ty(x))));
    }
    let size = usize::try_from(ctx.int("size", 0))
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| ctx.err("size must be positive"))?;
    let (before, after) = ((size - 1) / 2, (size - 1).div_ceil(2));
    let c = shape[1];
    let squares = bin(im, ctx, BinaryOp::Mul, x, x)?;
    let mut lows = vec![0; shape.len()];
    let mut highs = vec![0; shape.len()];
    (lows[1], highs[1]) = (before, after);
    let padded = im.emit(
        ctx,
        OpKind::Pad {
            lows,
            highs,
            value: 0.0,
        },
        &[squares],
    )?;
    let dims: Vec<Dim> = im.dims(padded);
    let mut sum = None;
    for k in 0..size {
        let part = slice_axis(im, ctx, padded, &dims, 1, k, k + c)?;
        sum = Some(match sum {
            None => part,
            Some(s) => bin(im, ctx, BinaryOp::Add, s, part)?,
        });
    }
    let sum = sum.expect("size is positive");
    let (alpha, beta, bias) = (
        ctx.float("alpha", 1e-4) as f64 / size as f64,
        ctx.float("beta", 0.75) as f64,
        ctx.float("bias", 1.0) as f64,
    );
    let (alpha, beta, bias) = (
        scalar_like(im, ctx, x, alpha),
        scalar_like(im, ctx, x, beta),
        scalar_like(im, ctx, x, bias),
    );
    let t = bin(im, ctx, BinaryOp::Mul, sum, alpha)?;
    let t = bin(im, ctx, BinaryOp::Add, t, bias)?;
    let t = bin(im, ctx, BinaryOp::Pow, t, beta)?;
    one(bin(im, ctx, BinaryOp::Div, x, t)?)
}

fn cum_sum(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    cumulative(im, ctx, inputs, BinaryOp::Add)
}

/// CumProd (opset 26): as CumSum with products, over static sizes only.
fn cum_prod(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    cumulative(im, ctx, inputs, BinaryOp::Mul)
}

/// CumSum or CumProd along an axis known at compile time, as `log2(n)` shifted steps of `op`
/// (Hillis-Steele): after the step with shift `s`, each element combines the `2s` elements
/// ending at it, the identity (0 or 1) entering at the start. Exact for integers; `exclusive`
/// shifts the result by one, `reverse` runs on the flipped axis.
fn cumulative(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    op: BinaryOp,
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let a = const_arg(im, ctx, inputs, 1)?
        .and_then(|t| t.to_i64().first().copied())
        .ok_or_else(|| ctx.err("the axis input is required"))?;
    let a = axis(ctx, a, im.ty(x).rank())?;
    if im.ty(x).static_shape().is_none() {
        if op != BinaryOp::Add {
            return Err(ctx.err(format!(
                "{} over sizes known only at run time is not supported",
                ctx.op_type
            )));
        }
        return one(cum_sum_by_matmul(im, ctx, x, a)?);
    }
    let identity = if op == BinaryOp::Mul { 1.0 } else { 0.0 };
    let shape = im.shape(ctx, x)?;
    let n = shape[a];
    let rank = shape.len();
    let dims: Vec<Dim> = shape.iter().map(|&d| Dim::Static(d)).collect();
    // `v` moved `by` places along the axis, the identity entering at the start.
    let shifted = |im: &mut Importer, v: ValueId, by: usize| -> Result<ValueId, ImportError> {
        let head = slice_axis(im, ctx, v, &dims, a, 0, n - by)?;
        let mut lows = vec![0; rank];
        lows[a] = by;
        im.emit(
            ctx,
            OpKind::Pad {
                lows,
                highs: vec![0; rank],
                value: identity,
            },
            &[head],
        )
    };
    let flip = |im: &mut Importer, v: ValueId| -> Result<ValueId, ImportError> {
        let mut starts = vec![0i64; rank];
        let mut ends: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let mut steps = vec![1i64; rank];
        (starts[a], ends[a], steps[a]) = (n as i64 - 1, -1, -1);
        im.emit(
            ctx,
            OpKind::Slice {
                starts,
                ends,
                steps,
            },
            &[v],
        )
    };
    let reverse = ctx.int("reverse", 0) != 0;
    if n == 0 {
        return one(x);
    }
    let mut y = if reverse { flip(im, x)? } else { x };
    let mut by = 1;
    while by < n {
        let s = shifted(im, y, by)?;
        y = bin(im, ctx, op, y, s)?;
        by *= 2;
    }
    if ctx.int("exclusive", 0) != 0 {
        y = shifted(im, y, 1)?;
    }
    one(if reverse { flip(im, y)? } else { y })
}

/// CumSum over sizes known only at run time (RoBERTa's position ids count a mask along the
/// open sequence): the axis moved last and multiplied by an `[n, n]` triangle of ones built
/// from `iota` rows and columns, in f32 (exact for integer counts below 2^24).
fn cum_sum_by_matmul(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    a: usize,
) -> Result<ValueId, ImportError> {
    let et = im.ty(x).element_type;
    let rank = im.ty(x).rank();
    let mut perm: Vec<usize> = (0..rank).collect();
    perm.swap(a, rank - 1);
    let moved = im.emit(ctx, OpKind::Transpose { perm: perm.clone() }, &[x])?;
    let mut xs = cast_to(im, ctx, moved, ElementType::F32)?;
    if rank == 1 {
        xs = reshape_dims(im, ctx, xs, [vec![Dim::Static(1)], im.dims(xs)].concat())?;
    }
    let n = im.dims(xs).last().cloned().expect("rank at least 1");
    let square = vec![n.clone(), n];
    let rows = im.emit(
        ctx,
        OpKind::Iota {
            shape: square.clone(),
            axis: 0,
        },
        &[],
    )?;
    let cols = im.emit(
        ctx,
        OpKind::Iota {
            shape: square,
            axis: 1,
        },
        &[],
    )?;
    // Input position `row` adds to output position `col` when row ≤ col (≥ for reverse;
    // strictly for exclusive).
    let (exclusive, reverse) = (ctx.int("exclusive", 0) != 0, ctx.int("reverse", 0) != 0);
    let keep = match (reverse, exclusive) {
        (false, false) => {
            let later = bin(im, ctx, BinaryOp::Greater, rows, cols)?;
            im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[later])?
        }
        (false, true) => bin(im, ctx, BinaryOp::Less, rows, cols)?,
        (true, false) => {
            let earlier = bin(im, ctx, BinaryOp::Less, rows, cols)?;
            im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[earlier])?
        }
        (true, true) => bin(im, ctx, BinaryOp::Greater, rows, cols)?,
    };
    let triangle = cast_to(im, ctx, keep, ElementType::F32)?;
    let mut y = im.emit(ctx, OpKind::MatMul, &[xs, triangle])?;
    if rank == 1 {
        let flat = im.dims(y)[1..].to_vec();
        y = reshape_dims(im, ctx, y, flat)?;
    }
    let y = cast_to(im, ctx, y, et)?;
    im.emit(ctx, OpKind::Transpose { perm }, &[y])
}

/// LpPool: `(Σ |x|^p)^(1/p)` over each window, padding counting as zeros: an average
/// (padding included) of `|x|^p` scaled by the window's size.
fn lp_pool(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    // Version 1 took `p` as a float; later versions as an integer.
    let p = match ctx.attr("p") {
        Some(a) if a.f.is_some() => a.f.unwrap_or(2.0) as f64,
        _ => ctx.int("p", 2) as f64,
    };
    if !(p > 0.0 && p.is_finite()) {
        return Err(ctx.err(format!("p {p} must be positive")));
    }
    let a = un(im, ctx, UnaryOp::Abs, x)?;
    let pw = scalar_like(im, ctx, a, p);
    let powered = bin(im, ctx, BinaryOp::Pow, a, pw)?;
    let (mean, volume) = if im.ty(x).rank() == 5 {
        let volume: i64 = ctx
            .ints("kernel_shape")
            .unwrap_or_default()
            .iter()
            .product();
        (
            pool_3d(im, ctx, powered, PoolKind::Avg, true)?,
            volume as usize,
        )
    } else {
        let (mean, kernel) = windowed_pool(im, ctx, powered, PoolKind::Avg, true)?;
        (mean, kernel[0] * kernel[1])
    };
    let area = scalar_like(im, ctx, mean, volume as f64);
    let sum = bin(im, ctx, BinaryOp::Mul, mean, area)?;
    let root = scalar_like(im, ctx, sum, 1.0 / p);
    one(bin(im, ctx, BinaryOp::Pow, sum, root)?)
}

/// A 2-D pooling window for [`dilated_pool`]: pads are `[begin_h, begin_w, end_h, end_w]`;
/// `ceil` rounds the output size up (ceil_mode).
struct Window {
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
    pads: [i64; 4],
    ceil: bool,
}

impl Window {
    /// A 1-D or 2-D node's window, from its attributes (explicit pads only).
    fn of_node(ctx: &NodeCtx, rank: usize) -> Result<Window, ImportError> {
        if ctx
            .string("auto_pad")
            .is_some_and(|p| p != "NOTSET" && p != "VALID")
        {
            return Err(ctx.err("dilated pooling takes explicit pads (no auto_pad)"));
        }
        let kernel = pair(ctx, "kernel_shape", 0, rank)?;
        let raw = ctx.ints("pads").unwrap_or_else(|| vec![0; 2 * rank]);
        if raw.len() != 2 * rank || raw.iter().any(|&p| p < 0) || kernel.contains(&0) {
            return Err(ctx.err(format!(
                "pads {raw:?} and kernel {kernel:?} do not fit a {rank}-D window"
            )));
        }
        // A 1-D window pads only its width.
        let pads: [i64; 4] = if rank == 1 {
            [0, raw[0], 0, raw[1]]
        } else {
            [raw[0], raw[1], raw[2], raw[3]]
        };
        Ok(Window {
            kernel,
            strides: pair(ctx, "strides", 1, rank)?,
            dilations: pair(ctx, "dilations", 1, rank)?,
            pads,
            ceil: ctx.int("ceil_mode", 0) != 0,
        })
    }
}

/// Pooling with dilated windows (`x` already `N×C×H×W`), from one Gather per window tap: the
/// maximum of the taps inside the input, or their average over the taps inside it (or, with
/// `count_include_pad`, over the taps inside the padded input). Explicit pads; ceil_mode
/// rounds the output size up, its last windows reaching past the padding.
fn dilated_pool(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    kind: PoolKind,
    count_include_pad: bool,
    window: &Window,
) -> Result<ValueId, ImportError> {
    let s = im.shape(ctx, x)?;
    let [n, c, h, w] = s[..] else {
        return Err(ctx.err(format!(
            "dilated pooling needs static sizes, got {}",
            im.ty(x)
        )));
    };
    let Window {
        kernel,
        strides,
        dilations,
        pads,
        ceil,
    } = *window;
    let size = [h, w];
    let mut out = [0usize; 2];
    for d in 0..2 {
        let reach = ((kernel[d] - 1) * dilations[d] + 1) as i64;
        let span = size[d] as i64 + pads[d] + pads[d + 2] - reach;
        if span < 0 {
            return Err(ctx.err(format!("the dilated window does not fit input {s:?}")));
        }
        let st = strides[d] as i64;
        let mut o = if ceil {
            (span + st - 1) / st + 1
        } else {
            span / st + 1
        };
        // The last window must start inside the input or its leading padding.
        if ceil && (o - 1) * st >= size[d] as i64 + pads[d] {
            o -= 1;
        }
        out[d] = o as usize;
    }
    let i64c = |im: &mut Importer, dims: &[usize], v: Vec<i64>| {
        im.constant(HostTensor::from_i64(dims, &v), &ctx.name)
    };
    let plane: Vec<i64> = (0..(n * c) as i64).map(|p| p * (h * w) as i64).collect();
    let plane = i64c(im, &[n, c, 1, 1], plane);
    let starts = |d: usize| -> Vec<i64> {
        (0..out[d] as i64)
            .map(|o| o * strides[d] as i64 - pads[d])
            .collect()
    };
    let top = i64c(im, &[1, 1, out[0], 1], starts(0));
    let left = i64c(im, &[1, 1, 1, out[1]], starts(1));
    let flat_x = reshape_to(im, ctx, x, vec![n * c * h * w])?;
    let scalar = |im: &mut Importer, v: i64| i64c(im, &[], vec![v]);
    let zero = scalar(im, 0);
    let within =
        |im: &mut Importer, v: ValueId, lo: i64, hi: i64| -> Result<ValueId, ImportError> {
            let (lo, hi) = (scalar(im, lo), scalar(im, hi));
            let below = bin(im, ctx, BinaryOp::Less, v, lo)?;
            let not_below = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[below])?;
            let under = bin(im, ctx, BinaryOp::Less, v, hi)?;
            bin(im, ctx, BinaryOp::And, not_below, under)
        };
    let fill = scalar_like(
        im,
        ctx,
        x,
        if kind == PoolKind::Max {
            f64::NEG_INFINITY
        } else {
            0.0
        },
    );
    let one_f = scalar_like(im, ctx, x, 1.0);
    let zero_f = scalar_like(im, ctx, x, 0.0);
    let (mut acc, mut count): (Option<ValueId>, Option<ValueId>) = (None, None);
    for ky in 0..kernel[0] {
        for kx in 0..kernel[1] {
            let dy = scalar(im, (ky * dilations[0]) as i64);
            let dx = scalar(im, (kx * dilations[1]) as i64);
            let iy = bin(im, ctx, BinaryOp::Add, top, dy)?;
            let ix = bin(im, ctx, BinaryOp::Add, left, dx)?;
            let in_y = within(im, iy, 0, h as i64)?;
            let in_x = within(im, ix, 0, w as i64)?;
            let valid = bin(im, ctx, BinaryOp::And, in_y, in_x)?;
            let width = scalar(im, w as i64);
            let row = bin(im, ctx, BinaryOp::Mul, iy, width)?;
            let at = bin(im, ctx, BinaryOp::Add, row, ix)?;
            let at = bin(im, ctx, BinaryOp::Add, at, plane)?;
            let at = im.emit(ctx, OpKind::Select, &[valid, at, zero])?;
            let v = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_x, at])?;
            let v = im.emit(ctx, OpKind::Select, &[valid, v, fill])?;
            acc = Some(match acc {
                None => v,
                Some(a) if kind == PoolKind::Max => bin(im, ctx, BinaryOp::Max, a, v)?,
                Some(a) => bin(im, ctx, BinaryOp::Add, a, v)?,
            });
            let counted = if count_include_pad {
                let py = within(im, iy, -pads[0], h as i64 + pads[2])?;
                let px = within(im, ix, -pads[1], w as i64 + pads[3])?;
                bin(im, ctx, BinaryOp::And, py, px)?
            } else {
                valid
            };
            let counted = im.emit(ctx, OpKind::Select, &[counted, one_f, zero_f])?;
            count = Some(match count {
                None => counted,
                Some(t) => bin(im, ctx, BinaryOp::Add, t, counted)?,
            });
        }
    }
    let (Some(acc), Some(count)) = (acc, count) else {
        return Err(ctx.err("an empty window"));
    };
    if kind == PoolKind::Max {
        return Ok(acc);
    }
    let count = bin(im, ctx, BinaryOp::Max, count, one_f)?;
    bin(im, ctx, BinaryOp::Div, acc, count)
}

/// The values of a MaxPool whose Indices output is also wanted: 2-D windows with explicit
/// pads only (the indices are computed from them).
fn windowed_pool_values(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
) -> Result<(ValueId, [usize; 2]), ImportError> {
    let plain = ctx.int("ceil_mode", 0) == 0
        && ctx
            .string("auto_pad")
            .is_none_or(|p| p == "NOTSET" || p == "VALID");
    if !plain {
        return Err(ctx.err(
            "MaxPool's Indices output is supported with explicit pads (no auto_pad or ceil_mode)",
        ));
    }
    windowed_pool(im, ctx, x, PoolKind::Max, false)
}

/// A 1-D or 2-D pooling window over `x` from the node's window attributes; returns the result
/// and the window's 2-D kernel.
fn windowed_pool(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    kind: PoolKind,
    count_include_pad: bool,
) -> Result<(ValueId, [usize; 2]), ImportError> {
    let rank = im.ty(x).rank().saturating_sub(2);
    // Max pooling of 8- and 16-bit integers runs on their f32 values, which hold them exactly.
    let int_type = im.ty(x).element_type;
    let narrow_int = kind == PoolKind::Max && int_type.int_width().is_some_and(|(b, _)| b <= 16);
    let x = if narrow_int {
        im.emit(ctx, OpKind::Cast(ElementType::F32), &[x])?
    } else {
        x
    };
    let (mut x, xs) = as_2d(im, ctx, x, "input")?;
    let dilations = pair(ctx, "dilations", 1, rank)?;
    if dilations != [1, 1] {
        let window = Window::of_node(ctx, rank)?;
        let y = dilated_pool(im, ctx, x, kind, count_include_pad, &window)?;
        let kernel = pair(ctx, "kernel_shape", 0, rank)?;
        let y = if narrow_int {
            im.emit(ctx, OpKind::Cast(int_type), &[y])?
        } else {
            y
        };
        return Ok((from_2d(im, ctx, y, rank)?, kernel));
    }

    let kernel = pair(ctx, "kernel_shape", 0, rank).and_then(|k| {
        if k.contains(&0) {
            Err(ctx.err("kernel_shape is required"))
        } else {
            Ok(k)
        }
    })?;
    let strides = pair(ctx, "strides", 1, rank)?;
    let mut pads = window_pads(ctx, rank, [&xs[2], &xs[3]], kernel, strides, [1, 1])?;
    if (0..4).any(|i| pads[i] >= kernel[i % 2]) {
        return Err(ctx.err(format!(
            "pads {pads:?} must be smaller than the kernel {kernel:?}"
        )));
    }
    let mut count_include_pad = count_include_pad;
    if ctx.int("ceil_mode", 0) != 0 {
        // Output sizes round up, but the last window must start inside the input or its
        // leading padding; the windows reaching past the end pad read nothing there.
        let mut extra = [0usize; 2];
        for d in 0..2 {
            let input = xs[2 + d]
                .as_static()
                .ok_or_else(|| ctx.err("ceil_mode needs static spatial dims"))?;
            let padded = input + pads[d] + pads[d + 2];
            let span = padded.checked_sub(kernel[d]).ok_or_else(|| {
                ctx.err(format!("window {kernel:?} does not fit the padded input"))
            })?;
            let mut out = span.div_ceil(strides[d]) + 1;
            if out > 1 && (out - 1) * strides[d] >= input + pads[d] {
                out -= 1;
            }
            extra[d] = ((out - 1) * strides[d] + kernel[d]).saturating_sub(padded);
        }
        if extra != [0, 0] {
            if kind == PoolKind::Avg && count_include_pad {
                // The node's own padding counts, the rounding's does not: pad explicitly
                // and count only real elements.
                let lows = vec![0, 0, pads[0], pads[1]];
                let highs = vec![0, 0, pads[2], pads[3]];
                x = im.emit(
                    ctx,
                    OpKind::Pad {
                        lows,
                        highs,
                        value: 0.0,
                    },
                    &[x],
                )?;
                pads = [0; 4];
                count_include_pad = false;
            }
            pads[2] += extra[0];
            pads[3] += extra[1];
        }
    }
    let attrs = PoolAttrs {
        kind,
        kernel,
        strides,
        pads,
        count_include_pad,
    };
    let mut y = im.emit(ctx, OpKind::Pool2d(attrs), &[x])?;
    if narrow_int {
        y = im.emit(ctx, OpKind::Cast(int_type), &[y])?;
    }
    Ok((from_2d(im, ctx, y, rank)?, kernel))
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
    let training = ctx.int("training_mode", 0) != 0;
    if !training && ctx.node.output.len() > 1 && ctx.node.output[1..].iter().any(|o| !o.is_empty())
    {
        return Err(ctx.err("the running statistics are outputs in training mode only"));
    }
    if training {
        if ctx.opset < 14 {
            return Err(ctx.err("training BatchNormalization before version 14 is not supported"));
        }
        return batch_norm_training(im, ctx, inputs);
    }
    let x = arg(ctx, inputs, 0)?;
    let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| arg(ctx, inputs, i));
    let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
    let xs = im.dims(x);
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
    let mut channel_shape = vec![Dim::Static(1); xs.len()];
    channel_shape[1] = xs[1].clone();
    let a = reshape_dims(im, ctx, a, channel_shape.clone())?;
    let b = reshape_dims(im, ctx, b, channel_shape)?;
    let y = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[x, a])?;
    one(im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, b])?)
}

/// Training-mode BatchNormalization (version 14 on): normalises with the batch's own mean
/// and (population) variance over every dim but the channels, and also returns the running
/// statistics `input · momentum + batch · (1 - momentum)`.
fn batch_norm_training(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| arg(ctx, inputs, i));
    let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
    let shape = im.shape(ctx, x)?;
    if shape.len() < 2 {
        return Err(ctx.err("input must have rank 2 or more"));
    }
    let c = shape[1];
    let axes: Vec<usize> = (0..shape.len()).filter(|&d| d != 1).collect();
    let batch_mean = reduce_over(im, ctx, ReduceKind::Mean, x, axes.clone(), true)?;
    let centered = bin(im, ctx, BinaryOp::Sub, x, batch_mean)?;
    let squares = bin(im, ctx, BinaryOp::Mul, centered, centered)?;
    let batch_var = reduce_over(im, ctx, ReduceKind::Mean, squares, axes, true)?;
    let eps = scalar_like(im, ctx, batch_var, ctx.float("epsilon", 1e-5) as f64);
    let t = bin(im, ctx, BinaryOp::Add, batch_var, eps)?;
    let sd = un(im, ctx, UnaryOp::Sqrt, t)?;
    let normalized = bin(im, ctx, BinaryOp::Div, centered, sd)?;
    let mut channel = vec![1; shape.len()];
    channel[1] = c;
    let scale = reshape_to(im, ctx, scale, channel.clone())?;
    let bias = reshape_to(im, ctx, bias, channel)?;
    let y = bin(im, ctx, BinaryOp::Mul, normalized, scale)?;
    let y = bin(im, ctx, BinaryOp::Add, y, bias)?;
    let momentum = ctx.float("momentum", 0.9) as f64;
    let running =
        |im: &mut Importer, old: ValueId, batch: ValueId| -> Result<ValueId, ImportError> {
            let batch = reshape_to(im, ctx, batch, vec![c])?;
            let (m, rest) = (
                scalar_like(im, ctx, old, momentum),
                scalar_like(im, ctx, old, 1.0 - momentum),
            );
            let a = bin(im, ctx, BinaryOp::Mul, old, m)?;
            let b = bin(im, ctx, BinaryOp::Mul, batch, rest)?;
            bin(im, ctx, BinaryOp::Add, a, b)
        };
    let running_mean = running(im, mean, batch_mean)?;
    let running_var = running(im, var, batch_var)?;
    Ok(vec![Some(y), Some(running_mean), Some(running_var)])
}

fn reduce(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let rank = im.ty(x).rank();
    let kind = match ctx.op_type {
        "ReduceMean" => ReduceKind::Mean,
        "ReduceSum" | "ReduceL1" | "ReduceL2" | "ReduceSumSquare" | "ReduceLogSum"
        | "ReduceLogSumExp" => ReduceKind::Sum,
        "ReduceMax" => ReduceKind::Max,
        "ReduceMin" => ReduceKind::Min,
        "ReduceProd" => ReduceKind::Prod,
        other => return Err(ctx.err(format!("'{other}' is not a reduction"))),
    };
    let logarithmic = matches!(ctx.op_type, "ReduceLogSum" | "ReduceLogSumExp");
    if logarithmic {
        require_float(im, ctx, x)?;
    }
    // Axes moved from an attribute to an input in opset 13 (ReduceSum) and 18 (the others).
    let axes_from_input = if ctx.op_type == "ReduceSum" {
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
        _ if ctx.int("noop_with_empty_axes", 0) != 0 => {
            // Nothing is reduced, but the elementwise part still applies (|x|, x², |x|, log x).
            return one(match ctx.op_type {
                "ReduceL1" | "ReduceL2" => im.emit(ctx, OpKind::Unary(UnaryOp::Abs), &[x])?,
                "ReduceSumSquare" => im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[x, x])?,
                "ReduceLogSum" => un(im, ctx, UnaryOp::Log, x)?,
                _ => x,
            });
        }
        _ => (0..rank).collect(),
    };
    let keep_dims = ctx.int("keepdims", 1) != 0;
    if ctx.op_type == "ReduceLogSumExp" {
        return one(log_sum_exp(im, ctx, x, axes, keep_dims)?);
    }
    let x = match ctx.op_type {
        "ReduceL1" => im.emit(ctx, OpKind::Unary(UnaryOp::Abs), &[x])?,
        "ReduceL2" | "ReduceSumSquare" => im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[x, x])?,
        _ => x,
    };
    let dims = im.dims(x);
    if matches!(kind, ReduceKind::Max | ReduceKind::Min)
        && axes.iter().any(|&a| dims[a] == Dim::Static(0))
    {
        return one(empty_extreme(im, ctx, x, &axes, keep_dims, kind)?);
    }
    let open: Vec<Dim> = axes
        .iter()
        .filter(|&&a| dims[a].as_static().is_none())
        .map(|&a| dims[a].clone())
        .collect();
    let mut y = reduce_over(im, ctx, kind, x, axes, keep_dims)?;
    if matches!(kind, ReduceKind::Max | ReduceKind::Min) && !open.is_empty() {
        // A reduced size known only at run time may be 0: then the type's extreme.
        let count = size_scalar(im, ctx, dims_product(&open));
        let zero = im.constant(HostTensor::from_i64(&[], &[0]), &ctx.name);
        let empty = bin(im, ctx, BinaryOp::Equal, count, zero)?;
        let et = im.ty(y).element_type;
        let extreme = im.constant(
            HostTensor::from_f64(et, &[], &[extreme_of(et, kind)]),
            &ctx.name,
        );
        y = im.emit(ctx, OpKind::Select, &[empty, extreme, y])?;
    }
    match ctx.op_type {
        "ReduceL2" => one(un(im, ctx, UnaryOp::Sqrt, y)?),
        "ReduceLogSum" => one(un(im, ctx, UnaryOp::Log, y)?),
        _ => one(y),
    }
}

/// The value ReduceMax (the type's lowest) or ReduceMin (its highest) gives over an empty set.
fn extreme_of(et: ElementType, kind: ReduceKind) -> f64 {
    let lowest = matches!(kind, ReduceKind::Max);
    match (et.int_width(), et) {
        (Some((bits, true)), _) if lowest => -(2f64.powi(bits as i32 - 1)),
        (Some((bits, true)), _) => 2f64.powi(bits as i32 - 1) - 1.0,
        (Some(_), _) if lowest => 0.0,
        (Some((bits, false)), _) => 2f64.powi(bits as i32) - 1.0,
        (None, ElementType::I1) => (!lowest) as u8 as f64,
        (None, _) if lowest => f64::NEG_INFINITY,
        (None, _) => f64::INFINITY,
    }
}

/// ReduceMax or ReduceMin over an empty set: the element type's lowest or highest value
/// everywhere (as ONNX defines it; a kernel's starting value, ±∞ or i64's extremes, is not
/// the narrow type's and a boolean would read it as true).
fn empty_extreme(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axes: &[usize],
    keep_dims: bool,
    kind: ReduceKind,
) -> Result<ValueId, ImportError> {
    let et = im.ty(x).element_type;
    let value = extreme_of(et, kind);
    let shape: Vec<Dim> = im
        .dims(x)
        .into_iter()
        .enumerate()
        .filter_map(|(i, d)| match (axes.contains(&i), keep_dims) {
            (false, _) => Some(d),
            (true, true) => Some(Dim::Static(1)),
            (true, false) => None,
        })
        .collect();
    let c = im.constant(HostTensor::from_f64(et, &[], &[value]), &ctx.name);
    im.emit(ctx, OpKind::Broadcast { shape }, &[c])
}

/// `m + log Σ exp(x - m)` over `axes`, with `m` the slice's maximum where that is finite (so
/// large inputs do not overflow) and 0 where it is not (so ±∞ slices give ±∞, not NaN).
fn log_sum_exp(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axes: Vec<usize>,
    keep_dims: bool,
) -> Result<ValueId, ImportError> {
    let m = reduce_over(im, ctx, ReduceKind::Max, x, axes.clone(), true)?;
    let (zero, inf) = (
        scalar_like(im, ctx, x, 0.0),
        scalar_like(im, ctx, x, f64::INFINITY),
    );
    let am = un(im, ctx, UnaryOp::Abs, m)?;
    let finite = bin(im, ctx, BinaryOp::Less, am, inf)?;
    let m = im.emit(ctx, OpKind::Select, &[finite, m, zero])?;
    let shifted = bin(im, ctx, BinaryOp::Sub, x, m)?;
    let e = un(im, ctx, UnaryOp::Exp, shifted)?;
    let total = reduce_over(im, ctx, ReduceKind::Sum, e, axes.clone(), true)?;
    let l = un(im, ctx, UnaryOp::Log, total)?;
    let y = bin(im, ctx, BinaryOp::Add, l, m)?;
    if keep_dims {
        return Ok(y);
    }
    let dims = im
        .dims(y)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, d)| d)
        .collect();
    reshape_dims(im, ctx, y, dims)
}

fn softmax(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let shape = im.dims(x);
    let default = if ctx.opset >= 13 { -1 } else { 1 };
    let a = axis(ctx, ctx.int("axis", default), shape.len())?;
    if ctx.opset >= 13 || a + 1 == shape.len() {
        return one(im.emit(ctx, OpKind::Softmax { axis: a }, &[x])?);
    }
    // Before opset 13, softmax normalised over all dims from `axis` on, flattened.
    let flat = reshape_dims(im, ctx, x, flattened(ctx, &shape, a)?)?;
    let y = im.emit(ctx, OpKind::Softmax { axis: 1 }, &[flat])?;
    one(reshape_dims(im, ctx, y, shape)?)
}

fn layer_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let rank = im.ty(x).rank();
    let a = axis(ctx, ctx.int("axis", -1), rank)?;
    let epsilon = ctx.float("epsilon", 1e-5) as f64;
    let mut y = im.emit(ctx, OpKind::LayerNorm { axis: a, epsilon }, &[x])?;
    let scale = arg(ctx, inputs, 1)?;
    y = im.emit(ctx, OpKind::Binary(BinaryOp::Mul), &[y, scale])?;
    if let Some(bias) = inputs.get(2).copied().flatten() {
        y = im.emit(ctx, OpKind::Binary(BinaryOp::Add), &[y, bias])?;
    }
    let wanted = |i: usize| ctx.node.output.get(i).is_some_and(|o| !o.is_empty());
    if !wanted(1) && !wanted(2) {
        return one(y);
    }
    // Mean and InvStdDev over the normalised dims (kept as 1s), in the stash type (f32).
    if ctx.int("stash_type", 1) != 1 {
        return Err(ctx.err("only stash_type=1 (float) is supported"));
    }
    let x32 = cast_to(im, ctx, x, ElementType::F32)?;
    let mean_of = |im: &mut Importer, v: ValueId| {
        reduce_over(im, ctx, ReduceKind::Mean, v, (a..rank).collect(), true)
    };
    let mean = mean_of(im, x32)?;
    let centered = bin(im, ctx, BinaryOp::Sub, x32, mean)?;
    let squares = bin(im, ctx, BinaryOp::Mul, centered, centered)?;
    let var = mean_of(im, squares)?;
    let eps = scalar_like(im, ctx, var, epsilon);
    let var = bin(im, ctx, BinaryOp::Add, var, eps)?;
    let sd = un(im, ctx, UnaryOp::Sqrt, var)?;
    let one_ = scalar_like(im, ctx, sd, 1.0);
    let inv = bin(im, ctx, BinaryOp::Div, one_, sd)?;
    Ok(vec![Some(y), Some(mean), Some(inv)])
}

/// A shape input (Reshape, Expand, ConstantOfShape): its entries, which may be symbolic sizes
/// computed from the model's symbolic dims.
fn shape_arg(
    im: &Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    i: usize,
) -> Result<Vec<SymExpr>, ImportError> {
    let v = arg(ctx, inputs, i)?;
    im.shape_value(v).map(|s| s.values).ok_or_else(|| {
        ctx.err(format!(
            "input {i} must be a shape known at compile time (kiln folds shape computations, but this one depends on run-time data)"
        ))
    })
}

/// A non-negative size from a shape entry, static or symbolic.
pub(super) fn size_dim(ctx: &NodeCtx, e: &SymExpr) -> Result<Dim, ImportError> {
    Dim::from_expr(e.clone()).ok_or_else(|| ctx.err(format!("invalid size {e}")))
}

fn reshape(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if im.shape_value(arg(ctx, inputs, 1)?).is_none() {
        return reshape_from_data(im, ctx, &mut inputs.to_vec());
    }
    let x = arg(ctx, inputs, 0)?;
    let from = im.dims(x);
    let spec = shape_arg(im, ctx, inputs, 1)?;
    let allow_zero = ctx.int("allowzero", 0) != 0;
    let mut shape = vec![];
    let mut infer = None;
    for (i, d) in spec.iter().enumerate() {
        match d.as_const() {
            Some(-1) if infer.is_none() => {
                infer = Some(i);
                shape.push(Dim::Static(1));
            }
            Some(0) if !allow_zero => shape.push(from.get(i).cloned().ok_or_else(|| {
                ctx.err(format!(
                    "shape entry {i} copies a dim the input does not have"
                ))
            })?),
            _ => shape.push(size_dim(ctx, d)?),
        }
    }
    if let Some(i) = infer {
        let rest = dims_product(&shape);
        let total = dims_product(&from);
        let inferred = (rest.as_const() != Some(0))
            .then(|| total.exact_div(&rest))
            .flatten()
            .and_then(Dim::from_expr)
            .ok_or_else(|| {
                let spec: Vec<String> = spec.iter().map(|e| e.to_string()).collect();
                ctx.err(format!(
                    "cannot reshape {} into [{}]",
                    im.ty(x).shape_string(),
                    spec.join(", ")
                ))
            })?;
        shape[i] = inferred;
    }
    one(reshape_dims(im, ctx, x, shape)?)
}

/// Reshape to a shape the model gives as data: its `0` (copy the input's dim, unless
/// `allowzero`) and `-1` (the rest of the elements) entries resolved on the device, the sizes
/// read ([`Importer::sizes_from_data`]), and the element count checked when the call runs.
fn reshape_from_data(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &mut Vec<Option<ValueId>>,
) -> Outputs {
    let (x, spec) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let k = match im.ty(spec).static_shape().as_deref() {
        Some(&[k]) => k,
        _ => {
            return Err(ctx.err(format!(
                "the shape must be a 1-D tensor of a static length, got {}",
                im.ty(spec)
            )))
        }
    };
    let from = im.dims(x);
    let c = |im: &mut Importer, v: i64| im.constant(HostTensor::from_i64(&[], &[v]), &ctx.name);
    let mut d = cast_to(im, ctx, spec, ElementType::I64)?;
    if ctx.int("allowzero", 0) == 0 {
        let copied = ShapeValue {
            values: (0..k)
                .map(|i| from.get(i).map_or(SymExpr::from(0), Dim::expr))
                .collect(),
            scalar: false,
        };
        let copied = im.emit_shape_value(ctx, copied);
        let zero = c(im, 0);
        let is_zero = bin(im, ctx, BinaryOp::Equal, d, zero)?;
        d = im.emit(ctx, OpKind::Select, &[is_zero, copied, d])?;
    }
    let minus_one = c(im, -1);
    let infer = bin(im, ctx, BinaryOp::Equal, d, minus_one)?;
    let one_ = c(im, 1);
    let known = im.emit(ctx, OpKind::Select, &[infer, one_, d])?;
    let product = im.emit(
        ctx,
        OpKind::Reduce {
            kind: ReduceKind::Prod,
            axes: vec![0],
            keep_dims: false,
        },
        &[known],
    )?;
    let product = bin(im, ctx, BinaryOp::Max, product, one_)?;
    let total = size_scalar(im, ctx, dims_product(&from));
    let fill = bin(im, ctx, BinaryOp::Div, total, product)?;
    let d = im.emit(ctx, OpKind::Select, &[infer, fill, d])?;
    let sizes = im.sizes_from_data(ctx, d)?;
    *inputs = im.node_inputs(ctx);
    let x = arg(ctx, inputs, 0)?;
    let dims: Vec<Dim> = sizes
        .values
        .iter()
        .map(|e| size_dim(ctx, e))
        .collect::<Result<_, _>>()?;
    let size = |e| Dim::from_expr(e).ok_or_else(|| ctx.err("the element count is too large"));
    let flat = reshape_dims(im, ctx, x, vec![size(dims_product(&im.dims(x)))?])?;
    let checked = OpKind::CheckShape {
        shape: vec![size(dims_product(&dims))?],
    };
    let flat = im.emit(ctx, checked, &[flat])?;
    one(reshape_dims(im, ctx, flat, dims)?)
}

/// MeanVarianceNormalization, as ONNX defines it by its function body: `(x − E[x]) / (√(E[x²]
/// − E[x]²) + 1e-9)` with the means over `axes` (default N, H and W).
fn mean_variance_normalization(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    let rank = im.ty(x).rank();
    let axes = ctx
        .ints("axes")
        .unwrap_or_else(|| vec![0, 2, 3])
        .iter()
        .map(|&a| axis(ctx, a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    let mean = |im: &mut Importer, v: ValueId| {
        let kind = OpKind::Reduce {
            kind: ReduceKind::Mean,
            axes: axes.clone(),
            keep_dims: true,
        };
        im.emit(ctx, kind, &[v])
    };
    let m = mean(im, x)?;
    let sq = bin(im, ctx, BinaryOp::Mul, x, x)?;
    let msq = mean(im, sq)?;
    let m2 = bin(im, ctx, BinaryOp::Mul, m, m)?;
    let var = bin(im, ctx, BinaryOp::Sub, msq, m2)?;
    let sd = un(im, ctx, UnaryOp::Sqrt, var)?;
    let eps = scalar_like(im, ctx, sd, 1e-9);
    let sd = bin(im, ctx, BinaryOp::Add, sd, eps)?;
    let centred = bin(im, ctx, BinaryOp::Sub, x, m)?;
    one(bin(im, ctx, BinaryOp::Div, centred, sd)?)
}

/// `shape` flattened to two dims at `a`: the product of the dims before it and after.
fn flattened(ctx: &NodeCtx, shape: &[Dim], a: usize) -> Result<Vec<Dim>, ImportError> {
    let product = |d: &[Dim]| {
        Dim::from_expr(dims_product(d)).ok_or_else(|| ctx.err("the flattened size is too large"))
    };
    Ok(vec![product(&shape[..a])?, product(&shape[a..])?])
}

fn flatten(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let s = im.dims(x);
    let a = ctx.int("axis", 1);
    let a = if a == s.len() as i64 {
        s.len()
    } else {
        axis(ctx, a, s.len())?
    };
    one(reshape_dims(im, ctx, x, flattened(ctx, &s, a)?)?)
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
    let s = im.dims(x);
    let axes = match axes_arg(im, ctx, inputs)? {
        Some(a) => a
            .iter()
            .map(|&i| axis(ctx, i, s.len()))
            .collect::<Result<Vec<_>, _>>()?,
        None => (0..s.len()).filter(|&i| s[i] == Dim::Static(1)).collect(),
    };
    if let Some(&bad) = axes
        .iter()
        .find(|&&a| matches!(s[a], Dim::Static(n) if n != 1))
    {
        return Err(ctx.err(format!("cannot squeeze dim {bad} of size {}", s[bad])));
    }
    // A squeezed dim known only at run time must be 1 then, which the call checks.
    let x = if axes.iter().any(|&a| s[a] != Dim::Static(1)) {
        let mut checked = s.clone();
        axes.iter().for_each(|&a| checked[a] = Dim::Static(1));
        im.emit(ctx, OpKind::CheckShape { shape: checked }, &[x])?
    } else {
        x
    };
    let out = (0..s.len())
        .filter(|i| !axes.contains(i))
        .map(|i| s[i].clone())
        .collect();
    one(reshape_dims(im, ctx, x, out)?)
}

fn unsqueeze(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let s = im.dims(x);
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
            out.push(Dim::Static(1));
        } else {
            out.push(
                it.next()
                    .cloned()
                    .ok_or_else(|| ctx.err("duplicate axes"))?,
            );
        }
    }
    one(reshape_dims(im, ctx, x, out)?)
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
    if super::data_slices::reads_data(im, ctx, inputs) {
        return super::data_slices::slice_from_data(im, ctx, inputs);
    }
    let x = arg(ctx, inputs, 0)?;
    let shape = im.dims(x);
    let rank = shape.len();
    // Ends may be sizes known only at run time (`[:seq]` of a position table): the slice
    // keeps the rest of the dim, and a `take` then keeps that many.
    let symbolic_ends = inputs
        .get(2)
        .copied()
        .flatten()
        .filter(|&v| im.const_of(v).is_none())
        .and_then(|v| im.shape_value(v))
        .map(|s| s.values);
    let (starts, ends, axes, steps) = if ctx.opset >= 10 {
        let get = |i: usize| -> Result<Option<Vec<i64>>, ImportError> {
            Ok(const_arg(im, ctx, inputs, i)?.map(|t| t.to_i64()))
        };
        let ends = match &symbolic_ends {
            Some(e) => e.iter().map(|v| v.as_const().unwrap_or(i64::MAX)).collect(),
            None => get(2)?.unwrap_or_default(),
        };
        (get(1)?.unwrap_or_default(), ends, get(3)?, get(4)?)
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
    let mut en: Vec<i64> = shape.iter().map(whole_dim_end).collect();
    let mut sp: Vec<i64> = vec![1; rank];
    let mut take: Vec<Option<SymExpr>> = vec![None; rank];
    for i in 0..starts.len() {
        let a = axis(ctx, axes[i], rank)?;
        let step = steps[i];
        if step == 0 {
            return Err(ctx.err("slice step must not be zero"));
        }
        let run_time_end = symbolic_ends
            .as_ref()
            .and_then(|e| e.get(i))
            .filter(|e| e.as_const().is_none());
        if let Some(end) = run_time_end {
            if step != 1 || starts[i] < 0 || !end.is_nonnegative() {
                return Err(ctx.err(format!(
                    "a slice ending at a size known only at run time ({end}) needs a \
                     non-negative start and step 1 (got start {} and step {step})",
                    starts[i]
                )));
            }
            (st[a], en[a]) = (starts[i], whole_dim_end(&shape[a]));
            take[a] = Some(end.clone() - SymExpr::from(starts[i]));
            continue;
        }
        let dim = match &shape[a] {
            Dim::Static(n) => *n as i64,
            // A symbolic dim can be sliced from a known start to its end.
            Dim::Sym(_) if step > 0 && starts[i] >= 0 && ends[i] >= i64::from(i32::MAX) => {
                (st[a], en[a], sp[a]) = (starts[i], kiln_ir::ops::SLICE_TO_END, step);
                continue;
            }
            Dim::Sym(_) => {
                return Err(ctx.err(format!(
                    "slicing symbolic dim {} of axis {a} is supported from a non-negative start to the end with a positive step only (got {}:{}:{step})",
                    shape[a], starts[i], ends[i]
                )))
            }
        };
        let norm = |v: i64| if v < 0 { v + dim } else { v };
        // Clamp as the ONNX spec says: starts and ends to [0, dim] for positive steps; starts to
        // [0, dim-1] and ends to [-1, dim-1] for negative ones.
        let big = i64::MAX / 2;
        let (s, e) = (
            norm(starts[i].clamp(-big, big)),
            norm(ends[i].clamp(-big, big)),
        );
        if step > 0 {
            st[a] = s.clamp(0, dim);
            en[a] = e.clamp(0, dim);
        } else if dim == 0 {
            (st[a], en[a]) = (-1, -1);
        } else {
            st[a] = s.clamp(0, dim - 1);
            en[a] = e.clamp(-1, dim - 1);
        }
        sp[a] = step;
    }
    let y = im.emit(
        ctx,
        OpKind::Slice {
            starts: st,
            ends: en,
            steps: sp,
        },
        &[x],
    )?;
    if take.iter().all(Option::is_none) {
        return one(y);
    }
    let dims = im
        .dims(y)
        .into_iter()
        .zip(take)
        .map(|(d, t)| match t {
            None => Ok(d),
            Some(t) => Dim::from_expr(t.clone())
                .ok_or_else(|| ctx.err(format!("slice length {t} is negative"))),
        })
        .collect::<Result<_, _>>()?;
    one(im.emit(ctx, OpKind::Take { shape: dims }, &[y])?)
}

fn gather(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, idx) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let a = axis(ctx, ctx.int("axis", 0), im.ty(x).rank())?;
    one(im.emit(ctx, OpKind::Gather { axis: a }, &[x, idx])?)
}

fn expand(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let mut inputs = inputs.to_vec();
    if im.shape_value(arg(ctx, &inputs, 1)?).is_none() {
        expanded_sizes_from_data(im, ctx, &mut inputs)?;
    }
    let x = arg(ctx, &inputs, 0)?;
    let xs = im.dims(x);
    let target: Vec<Dim> = shape_arg(im, ctx, &inputs, 1)?
        .iter()
        .map(|e| size_dim(ctx, e))
        .collect::<Result<_, _>>()?;
    // Expand broadcasts both ways: the result is broadcast(input shape, target).
    let out = kiln_ir::ops::broadcast_dims(&xs, &target).map_err(|m| {
        ctx.err(format!(
            "cannot expand {} to {}: {m}",
            im.ty(x).shape_string(),
            kiln_ir::TensorType {
                element_type: im.ty(x).element_type,
                dims: target.clone()
            }
            .shape_string()
        ))
    })?;
    if out == xs {
        return one(x);
    }
    one(im.emit(ctx, OpKind::Broadcast { shape: out }, &[x])?)
}

/// Expand's target shape given as data, made a shape value in a new segment (`inputs` then
/// holds the node's inputs there, input 1 the shape): where the input's aligned dim is 1 or
/// missing the target's entry is read as a size; where it is another static size, that size
/// is the result's (the only one broadcasting allows).
fn expanded_sizes_from_data(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &mut Vec<Option<ValueId>>,
) -> Result<(), ImportError> {
    let (x, shape) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let xs = im.dims(x);
    let k = match im.ty(shape).static_shape().as_deref() {
        Some(&[k]) if k >= xs.len() => k,
        _ => {
            return Err(ctx.err(format!(
                "the shape must be a 1-D tensor of a static length of at least the input's rank, got {}",
                im.ty(shape)
            )))
        }
    };
    let aligned: Vec<Dim> = [vec![Dim::Static(1); k - xs.len()], xs].concat();
    if aligned.iter().any(|d| d.as_static().is_none()) {
        return Err(ctx.err(
            "expanding an input with sizes known only at run time to a shape given as data is not supported",
        ));
    }
    let data = im.sizes_from_data(ctx, shape)?;
    *inputs = im.node_inputs(ctx);
    let values = aligned
        .iter()
        .zip(data.values)
        .map(|(d, s)| match d {
            Dim::Static(1) => s,
            d => d.expr(),
        })
        .collect();
    let resolved = ShapeValue {
        values,
        scalar: false,
    };
    inputs[1] = Some(im.emit_shape_value(ctx, resolved));
    Ok(())
}

/// How many elements a constant of `shape` built at import holds, refused above 2²⁸.
fn constant_len(ctx: &NodeCtx, shape: &[usize]) -> Result<usize, ImportError> {
    kiln_types::element_count(shape)
        .filter(|&n| n <= 1 << 28)
        .ok_or_else(|| {
            ctx.err(format!(
                "shape {} is too large for a constant",
                kiln_types::shape_string(shape)
            ))
        })
}

fn constant_of_shape(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let dims: Vec<Dim> = im
        .shape_input(ctx, &mut inputs.to_vec(), 0)?
        .values
        .iter()
        .map(|e| size_dim(ctx, e))
        .collect::<Result<_, _>>()?;
    let value = match ctx.attr("value").and_then(|a| a.t.as_ref()) {
        Some(t) => im.tensor(t).map_err(|m| ctx.err(m))?,
        None => HostTensor::from_f32(&[], &[0.0]),
    };
    let v = value.to_f64().first().copied().unwrap_or(0.0);
    let Some(shape) = dims
        .iter()
        .map(Dim::as_static)
        .collect::<Option<Vec<usize>>>()
    else {
        // A symbolic shape: the one value, broadcast.
        let scalar = im.constant(
            HostTensor::from_f64(value.element_type, &[], &[v]),
            &ctx.name,
        );
        return one(im.emit(ctx, OpKind::Broadcast { shape: dims }, &[scalar])?);
    };
    let count = constant_len(ctx, &shape)?;
    one(im.constant(
        HostTensor::from_f64(value.element_type, &shape, &vec![v; count]),
        &ctx.name,
    ))
}

/// EyeLike: a constant of the 2-D input's shape, one on the `k`-th diagonal and zero elsewhere,
/// in `dtype` (by default the input's type). Only the input's shape is read.
fn eye_like(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let shape = im.shape(ctx, x)?;
    let [_, cols] = shape[..] else {
        return Err(ctx.err(format!(
            "needs a 2-D input, got {}",
            kiln_types::shape_string(&shape)
        )));
    };
    let et = match ctx.attr("dtype") {
        Some(_) => super::element_type(ctx.int("dtype", 0) as i32).map_err(|m| ctx.err(m))?,
        None => im.ty(x).element_type,
    };
    let k = ctx.int("k", 0);
    let values: Vec<f64> = (0..constant_len(ctx, &shape)?)
        .map(|n| f64::from(u8::from((n % cols) as i64 - (n / cols) as i64 == k)))
        .collect();
    one(im.constant(HostTensor::from_f64(et, &shape, &values), &ctx.name))
}

pub(super) fn un(
    im: &mut Importer,
    ctx: &NodeCtx,
    u: UnaryOp,
    x: ValueId,
) -> Result<ValueId, ImportError> {
    im.emit(ctx, OpKind::Unary(u), &[x])
}

pub(super) fn bin(
    im: &mut Importer,
    ctx: &NodeCtx,
    b: BinaryOp,
    x: ValueId,
    y: ValueId,
) -> Result<ValueId, ImportError> {
    im.emit(ctx, OpKind::Binary(b), &[x, y])
}

/// `x * alpha + beta` clamped to `[0, 1]`.
fn hard_sigmoid(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    alpha: f64,
    beta: f64,
) -> Result<ValueId, ImportError> {
    let (a, b) = (
        scalar_like(im, ctx, x, alpha),
        scalar_like(im, ctx, x, beta),
    );
    let (zero, one_) = (scalar_like(im, ctx, x, 0.0), scalar_like(im, ctx, x, 1.0));
    let t = bin(im, ctx, BinaryOp::Mul, x, a)?;
    let t = bin(im, ctx, BinaryOp::Add, t, b)?;
    let t = bin(im, ctx, BinaryOp::Min, t, one_)?;
    bin(im, ctx, BinaryOp::Max, t, zero)
}

/// An activation by its ONNX name, with its `alpha` and `beta` (ignored by those without):
/// the functions the activation ops and the recurrent ops' `activations` share.
pub(super) fn named_activation(
    im: &mut Importer,
    ctx: &NodeCtx,
    name: &str,
    [alpha, beta]: [f64; 2],
    x: ValueId,
) -> Result<ValueId, ImportError> {
    let c = |im: &mut Importer, v: f64| scalar_like(im, ctx, x, v);
    Ok(match name {
        "Relu" => un(im, ctx, UnaryOp::Relu, x)?,
        "Tanh" => un(im, ctx, UnaryOp::Tanh, x)?,
        "Sigmoid" => un(im, ctx, UnaryOp::Sigmoid, x)?,
        "Softplus" => un(im, ctx, UnaryOp::Softplus, x)?,
        "Softsign" => {
            let one_ = c(im, 1.0);
            let a = un(im, ctx, UnaryOp::Abs, x)?;
            let d = bin(im, ctx, BinaryOp::Add, a, one_)?;
            bin(im, ctx, BinaryOp::Div, x, d)?
        }
        "LeakyRelu" => {
            let (zero, slope) = (c(im, 0.0), c(im, alpha));
            let neg = bin(im, ctx, BinaryOp::Less, x, zero)?;
            let scaled = bin(im, ctx, BinaryOp::Mul, x, slope)?;
            im.emit(ctx, OpKind::Select, &[neg, scaled, x])?
        }
        "ThresholdedRelu" => {
            let (zero, a) = (c(im, 0.0), c(im, alpha));
            let above = bin(im, ctx, BinaryOp::Greater, x, a)?;
            im.emit(ctx, OpKind::Select, &[above, x, zero])?
        }
        "Elu" => {
            let (zero, one_, a) = (c(im, 0.0), c(im, 1.0), c(im, alpha));
            let e = un(im, ctx, UnaryOp::Exp, x)?;
            let e = bin(im, ctx, BinaryOp::Sub, e, one_)?;
            let e = bin(im, ctx, BinaryOp::Mul, e, a)?;
            let pos = bin(im, ctx, BinaryOp::Greater, x, zero)?;
            im.emit(ctx, OpKind::Select, &[pos, x, e])?
        }
        "HardSigmoid" => hard_sigmoid(im, ctx, x, alpha, beta)?,
        "Affine" => {
            let (a, b) = (c(im, alpha), c(im, beta));
            let t = bin(im, ctx, BinaryOp::Mul, x, a)?;
            bin(im, ctx, BinaryOp::Add, t, b)?
        }
        "ScaledTanh" => {
            let (a, b) = (c(im, alpha), c(im, beta));
            let t = bin(im, ctx, BinaryOp::Mul, x, b)?;
            let t = un(im, ctx, UnaryOp::Tanh, t)?;
            bin(im, ctx, BinaryOp::Mul, t, a)?
        }
        other => return Err(ctx.err(format!("activation '{other}' is not supported"))),
    })
}

/// Activations ONNX defines as formulas over kiln's elementwise ops.
fn activation(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    let c = |im: &mut Importer, v: f64| scalar_like(im, ctx, x, v);
    let zero = c(im, 0.0);
    let y = match ctx.op_type {
        "Reciprocal" => {
            let one_ = c(im, 1.0);
            bin(im, ctx, BinaryOp::Div, one_, x)?
        }
        "Softsign" => named_activation(im, ctx, "Softsign", [0.0; 2], x)?,
        "LeakyRelu" => {
            let alpha = ctx.float("alpha", 0.01) as f64;
            named_activation(im, ctx, "LeakyRelu", [alpha, 0.0], x)?
        }
        "PRelu" => {
            let slope = arg(ctx, inputs, 1)?;
            let neg = bin(im, ctx, BinaryOp::Less, x, zero)?;
            let scaled = bin(im, ctx, BinaryOp::Mul, x, slope)?;
            im.emit(ctx, OpKind::Select, &[neg, scaled, x])?
        }
        "Elu" => {
            let alpha = ctx.float("alpha", 1.0) as f64;
            named_activation(im, ctx, "Elu", [alpha, 0.0], x)?
        }
        "Selu" => {
            let alpha = ctx.float("alpha", 1.673_263_2) as f64;
            let y = named_activation(im, ctx, "Elu", [alpha, 0.0], x)?;
            let gamma = c(im, ctx.float("gamma", 1.050_701) as f64);
            bin(im, ctx, BinaryOp::Mul, y, gamma)?
        }
        "HardSigmoid" => {
            let (alpha, beta) = (ctx.float("alpha", 0.2), ctx.float("beta", 0.5));
            named_activation(im, ctx, "HardSigmoid", [alpha as f64, beta as f64], x)?
        }
        "HardSwish" => {
            let h = hard_sigmoid(im, ctx, x, 1.0 / 6.0, 0.5)?;
            bin(im, ctx, BinaryOp::Mul, x, h)?
        }
        "Tan" => {
            let (sn, cs) = (un(im, ctx, UnaryOp::Sin, x)?, un(im, ctx, UnaryOp::Cos, x)?);
            bin(im, ctx, BinaryOp::Div, sn, cs)?
        }
        "ThresholdedRelu" => {
            let alpha = ctx.float("alpha", 1.0) as f64;
            named_activation(im, ctx, "ThresholdedRelu", [alpha, 0.0], x)?
        }
        "Celu" => {
            // max(0, x) + min(0, alpha · (exp(x / alpha) - 1)).
            let alpha = ctx.float("alpha", 1.0) as f64;
            let (a, one_) = (c(im, alpha), c(im, 1.0));
            let t = bin(im, ctx, BinaryOp::Div, x, a)?;
            let t = un(im, ctx, UnaryOp::Exp, t)?;
            let t = bin(im, ctx, BinaryOp::Sub, t, one_)?;
            let t = bin(im, ctx, BinaryOp::Mul, t, a)?;
            let neg = bin(im, ctx, BinaryOp::Min, zero, t)?;
            let pos = bin(im, ctx, BinaryOp::Max, zero, x)?;
            bin(im, ctx, BinaryOp::Add, pos, neg)?
        }
        "Shrink" => {
            // x + bias below -lambd, x - bias above lambd, 0 between.
            let lambd = ctx.float("lambd", 0.5) as f64;
            let (bias, lo, hi) = (
                c(im, ctx.float("bias", 0.0) as f64),
                c(im, -lambd),
                c(im, lambd),
            );
            let below = bin(im, ctx, BinaryOp::Less, x, lo)?;
            let above = bin(im, ctx, BinaryOp::Greater, x, hi)?;
            let plus = bin(im, ctx, BinaryOp::Add, x, bias)?;
            let minus = bin(im, ctx, BinaryOp::Sub, x, bias)?;
            let y = im.emit(ctx, OpKind::Select, &[above, minus, zero])?;
            im.emit(ctx, OpKind::Select, &[below, plus, y])?
        }
        "Swish" => {
            let alpha = c(im, ctx.float("alpha", 1.0) as f64);
            let t = bin(im, ctx, BinaryOp::Mul, x, alpha)?;
            let s = un(im, ctx, UnaryOp::Sigmoid, t)?;
            bin(im, ctx, BinaryOp::Mul, x, s)?
        }
        "Gelu" => {
            let (half, one_) = (c(im, 0.5), c(im, 1.0));
            let inner = match ctx.string("approximate").as_deref() {
                None | Some("none") => {
                    let s = c(im, std::f64::consts::FRAC_1_SQRT_2);
                    let t = bin(im, ctx, BinaryOp::Mul, x, s)?;
                    un(im, ctx, UnaryOp::Erf, t)?
                }
                Some("tanh") => {
                    let (k, a) = (c(im, (2.0 / std::f64::consts::PI).sqrt()), c(im, 0.044715));
                    let x2 = bin(im, ctx, BinaryOp::Mul, x, x)?;
                    let x3 = bin(im, ctx, BinaryOp::Mul, x2, x)?;
                    let t = bin(im, ctx, BinaryOp::Mul, x3, a)?;
                    let t = bin(im, ctx, BinaryOp::Add, x, t)?;
                    let t = bin(im, ctx, BinaryOp::Mul, t, k)?;
                    un(im, ctx, UnaryOp::Tanh, t)?
                }
                Some(other) => {
                    return Err(ctx.err(format!("approximate='{other}' is not supported")))
                }
            };
            let t = bin(im, ctx, BinaryOp::Add, inner, one_)?;
            let t = bin(im, ctx, BinaryOp::Mul, t, half)?;
            bin(im, ctx, BinaryOp::Mul, x, t)?
        }
        "Mish" => {
            // x * tanh(softplus(x)).
            let s = un(im, ctx, UnaryOp::Softplus, x)?;
            let t = un(im, ctx, UnaryOp::Tanh, s)?;
            bin(im, ctx, BinaryOp::Mul, x, t)?
        }
        other => return Err(ctx.err(format!("'{other}' is not an activation"))),
    };
    one(y)
}

/// Input 0, which must be a float, widened to f32 for math done once in single precision,
/// with its own element type to round the result back to.
fn float_input_in_f32(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Result<(ValueId, ElementType), ImportError> {
    let x = arg(ctx, inputs, 0)?;
    let et = require_float(im, ctx, x)?;
    Ok((cast_to(im, ctx, x, ElementType::F32)?, et))
}

/// `x`'s element type, which must be a float.
fn require_float(im: &Importer, ctx: &NodeCtx, x: ValueId) -> Result<ElementType, ImportError> {
    let et = im.ty(x).element_type;
    if !et.is_float() {
        return Err(ctx.err(format!("needs a float input, got {et}")));
    }
    Ok(et)
}

/// Sinh, Cosh, Asinh, Acosh and Atanh, in f32 (rounded once to the input's type), without
/// the cancellation and overflow of their textbook forms: odd functions by their Taylor
/// series below 1/100; sinh and cosh from `e^(±x - ln 2)` (finite up to their own overflow);
/// asinh of `|x|` with the sign put back, and asinh and acosh as `ln 2x` above 10⁴, where
/// `x² ± 1` would round or overflow.
fn hyperbolic(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, et) = float_input_in_f32(im, ctx, inputs)?;
    let c = |im: &mut Importer, v: f64| scalar_like(im, ctx, x, v);
    let ln2 = std::f64::consts::LN_2;
    let abs = un(im, ctx, UnaryOp::Abs, x)?;
    let small = c(im, 0.01);
    let is_small = bin(im, ctx, BinaryOp::Less, abs, small)?;
    // x + c3·x³ + c5·x⁵.
    let series =
        |im: &mut Importer, v: ValueId, c3: f64, c5: f64| -> Result<ValueId, ImportError> {
            let v2 = bin(im, ctx, BinaryOp::Mul, v, v)?;
            let (k3, k5) = (c(im, c3), c(im, c5));
            let t = bin(im, ctx, BinaryOp::Mul, v2, k5)?;
            let t = bin(im, ctx, BinaryOp::Add, t, k3)?;
            let t = bin(im, ctx, BinaryOp::Mul, t, v2)?;
            let t = bin(im, ctx, BinaryOp::Mul, t, v)?;
            bin(im, ctx, BinaryOp::Add, v, t)
        };
    // ln(v + sqrt(v² ± 1)), or ln v + ln 2 above 10⁴.
    let log_root = |im: &mut Importer, v: ValueId, plus: bool| -> Result<ValueId, ImportError> {
        let one_ = c(im, 1.0);
        let v2 = bin(im, ctx, BinaryOp::Mul, v, v)?;
        let op = if plus { BinaryOp::Add } else { BinaryOp::Sub };
        let r = bin(im, ctx, op, v2, one_)?;
        let r = un(im, ctx, UnaryOp::Sqrt, r)?;
        let t = bin(im, ctx, BinaryOp::Add, v, r)?;
        let near = un(im, ctx, UnaryOp::Log, t)?;
        let lv = un(im, ctx, UnaryOp::Log, v)?;
        let l2 = c(im, ln2);
        let far = bin(im, ctx, BinaryOp::Add, lv, l2)?;
        let big = c(im, 1e4);
        let is_big = bin(im, ctx, BinaryOp::Greater, v, big)?;
        im.emit(ctx, OpKind::Select, &[is_big, far, near])
    };
    let y = match ctx.op_type {
        "Sinh" | "Cosh" => {
            let l2 = c(im, ln2);
            let up = bin(im, ctx, BinaryOp::Sub, x, l2)?;
            let up = un(im, ctx, UnaryOp::Exp, up)?;
            let nx = un(im, ctx, UnaryOp::Neg, x)?;
            let down = bin(im, ctx, BinaryOp::Sub, nx, l2)?;
            let down = un(im, ctx, UnaryOp::Exp, down)?;
            if ctx.op_type == "Cosh" {
                bin(im, ctx, BinaryOp::Add, up, down)?
            } else {
                let far = bin(im, ctx, BinaryOp::Sub, up, down)?;
                let near = series(im, x, 1.0 / 6.0, 1.0 / 120.0)?;
                im.emit(ctx, OpKind::Select, &[is_small, near, far])?
            }
        }
        "Asinh" => {
            let far = log_root(im, abs, true)?;
            let near = series(im, abs, -1.0 / 6.0, 3.0 / 40.0)?;
            let magnitude = im.emit(ctx, OpKind::Select, &[is_small, near, far])?;
            let sign = un(im, ctx, UnaryOp::Sign, x)?;
            bin(im, ctx, BinaryOp::Mul, sign, magnitude)?
        }
        "Acosh" => log_root(im, x, false)?,
        _ => {
            // Atanh: ln((1 + x) / (1 - x)) / 2.
            let (half, one_) = (c(im, 0.5), c(im, 1.0));
            let p = bin(im, ctx, BinaryOp::Add, one_, x)?;
            let m = bin(im, ctx, BinaryOp::Sub, one_, x)?;
            let q = bin(im, ctx, BinaryOp::Div, p, m)?;
            let l = un(im, ctx, UnaryOp::Log, q)?;
            let far = bin(im, ctx, BinaryOp::Mul, l, half)?;
            let near = series(im, x, 1.0 / 3.0, 1.0 / 5.0)?;
            im.emit(ctx, OpKind::Select, &[is_small, near, far])?
        }
    };
    one(cast_to(im, ctx, y, et)?)
}

/// Asin, Acos and Atan, in f32 (rounded once to the input's type), all from one arctangent:
/// `asin x = atan(x / sqrt((1 - x)(1 + x)))` and `acos x = 2 atan(sqrt((1 - x) / (1 + x)))`,
/// forms that stay accurate up to |x| = 1 and give NaN beyond it.
fn inverse_trig(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, et) = float_input_in_f32(im, ctx, inputs)?;
    let one_ = scalar_like(im, ctx, x, 1.0);
    let below = bin(im, ctx, BinaryOp::Sub, one_, x)?;
    let above = bin(im, ctx, BinaryOp::Add, one_, x)?;
    let y = match ctx.op_type {
        "Atan" => arctangent(im, ctx, x)?,
        "Asin" => {
            let p = bin(im, ctx, BinaryOp::Mul, below, above)?;
            let r = un(im, ctx, UnaryOp::Sqrt, p)?;
            let t = bin(im, ctx, BinaryOp::Div, x, r)?;
            arctangent(im, ctx, t)?
        }
        "Acos" => {
            let q = bin(im, ctx, BinaryOp::Div, below, above)?;
            let r = un(im, ctx, UnaryOp::Sqrt, q)?;
            let a = arctangent(im, ctx, r)?;
            bin(im, ctx, BinaryOp::Add, a, a)?
        }
        other => return Err(ctx.err(format!("'{other}' is not an inverse trigonometric op"))),
    };
    one(cast_to(im, ctx, y, et)?)
}

/// `atan x` for f32 `x`: |x| is reduced to [0, tan π/8] by `atan v = π/2 + atan(-1/v)` above
/// tan 3π/8 and `atan v = π/4 + atan((v - 1)/(v + 1))` above tan π/8, where an odd
/// polynomial of degree 9 (single-precision minimax coefficients) is accurate to about one
/// ulp; the sign is restored last, so NaN stays NaN and ±∞ gives ±π/2.
fn arctangent(im: &mut Importer, ctx: &NodeCtx, x: ValueId) -> Result<ValueId, ImportError> {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
    let c = |im: &mut Importer, v: f64| scalar_like(im, ctx, x, v);
    let v = un(im, ctx, UnaryOp::Abs, x)?;
    let (high, low) = (c(im, 2.414_213_562_373_095), c(im, 0.414_213_562_373_095));
    let is_high = bin(im, ctx, BinaryOp::Greater, v, high)?;
    let is_mid = bin(im, ctx, BinaryOp::Greater, v, low)?;
    let (one_, minus_one) = (c(im, 1.0), c(im, -1.0));
    let inv = bin(im, ctx, BinaryOp::Div, minus_one, v)?;
    let (num, den) = (
        bin(im, ctx, BinaryOp::Sub, v, one_)?,
        bin(im, ctx, BinaryOp::Add, v, one_)?,
    );
    let shifted = bin(im, ctx, BinaryOp::Div, num, den)?;
    let a = im.emit(ctx, OpKind::Select, &[is_mid, shifted, v])?;
    let a = im.emit(ctx, OpKind::Select, &[is_high, inv, a])?;
    let (zero, quarter, half) = (c(im, 0.0), c(im, FRAC_PI_4), c(im, FRAC_PI_2));
    let offset = im.emit(ctx, OpKind::Select, &[is_mid, quarter, zero])?;
    let offset = im.emit(ctx, OpKind::Select, &[is_high, half, offset])?;
    let z = bin(im, ctx, BinaryOp::Mul, a, a)?;
    let mut p = c(im, 8.053_744_495_38e-2);
    for k in [
        -1.387_768_560_32e-1,
        1.997_771_064_78e-1,
        -3.333_294_915_39e-1,
    ] {
        p = bin(im, ctx, BinaryOp::Mul, p, z)?;
        let k = c(im, k);
        p = bin(im, ctx, BinaryOp::Add, p, k)?;
    }
    let p = bin(im, ctx, BinaryOp::Mul, p, z)?;
    let p = bin(im, ctx, BinaryOp::Mul, p, a)?;
    let p = bin(im, ctx, BinaryOp::Add, p, a)?;
    let magnitude = bin(im, ctx, BinaryOp::Add, offset, p)?;
    let negative = bin(im, ctx, BinaryOp::Less, x, zero)?;
    let flipped = un(im, ctx, UnaryOp::Neg, magnitude)?;
    im.emit(ctx, OpKind::Select, &[negative, flipped, magnitude])
}

/// `a >= b` as `a > b or a == b` (false when either is NaN), and likewise `a <= b`.
fn compare_or_equal(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (a, b) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let strict = if ctx.op_type == "GreaterOrEqual" {
        BinaryOp::Greater
    } else {
        BinaryOp::Less
    };
    let s = bin(im, ctx, strict, a, b)?;
    let e = bin(im, ctx, BinaryOp::Equal, a, b)?;
    one(bin(im, ctx, BinaryOp::Or, s, e)?)
}

/// IsNaN (`x != x`) and IsInf (`x == ±inf`, each sign as `detect_positive`/`detect_negative`
/// say).
fn classify(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    if ctx.op_type == "IsNaN" {
        let same = bin(im, ctx, BinaryOp::Equal, x, x)?;
        return one(un(im, ctx, UnaryOp::Not, same)?);
    }
    let mut found: Option<ValueId> = None;
    for (attr, value) in [
        ("detect_positive", f64::INFINITY),
        ("detect_negative", f64::NEG_INFINITY),
    ] {
        if ctx.int(attr, 1) != 0 {
            let inf = scalar_like(im, ctx, x, value);
            let hit = bin(im, ctx, BinaryOp::Equal, x, inf)?;
            found = Some(match found {
                Some(f) => bin(im, ctx, BinaryOp::Or, f, hit)?,
                None => hit,
            });
        }
    }
    match found {
        Some(f) => one(f),
        None => {
            // Neither sign detected: all false, shaped like x.
            let zero = scalar_like(im, ctx, x, 0.0);
            let never = bin(im, ctx, BinaryOp::Equal, x, zero)?;
            let ever = un(im, ctx, UnaryOp::Not, never)?;
            one(bin(im, ctx, BinaryOp::And, never, ever)?)
        }
    }
}

/// Positions `0..n` along dim `a` of a rank-`rank` tensor (size 1 elsewhere), as i64.
/// `scale ·` the position along dim `a` of a rank-`rank` tensor with `n` positions there,
/// shaped to broadcast (`[1, …, n, …, 1]`).
pub(super) fn positions(
    im: &mut Importer,
    ctx: &NodeCtx,
    rank: usize,
    a: usize,
    n: usize,
    scale: usize,
) -> ValueId {
    let mut dims = vec![1; rank];
    dims[a] = n;
    let values: Vec<i64> = (0..n).map(|i| (i * scale) as i64).collect();
    im.constant(HostTensor::from_i64(&dims, &values), &ctx.name)
}

/// Each position along axis `a` of a tensor with `dims`, as an i64 tensor of 1s but along
/// `a` (a constant for a static axis, else an `iota`), and a value past the last position.
fn axis_positions(
    im: &mut Importer,
    ctx: &NodeCtx,
    dims: &[Dim],
    a: usize,
) -> Result<(ValueId, i64), ImportError> {
    Ok(match &dims[a] {
        Dim::Static(n) => (positions(im, ctx, dims.len(), a, *n, 1), *n as i64),
        Dim::Sym(_) => {
            let mut shape = vec![Dim::Static(1); dims.len()];
            shape[a] = dims[a].clone();
            (
                im.emit(ctx, OpKind::Iota { shape, axis: a }, &[])?,
                i64::MAX,
            )
        }
    })
}

/// The index of the first (or, with `last`, the last) extreme value of `x` along `a`:
/// the extreme by a reduction, then the lowest (highest) position holding it.
fn extreme_index(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    a: usize,
    max: bool,
    last: bool,
    keep_dims: bool,
) -> Result<ValueId, ImportError> {
    let dims = im.dims(x);
    let kind = if max {
        ReduceKind::Max
    } else {
        ReduceKind::Min
    };
    let extreme = reduce_over(im, ctx, kind, x, vec![a], true)?;
    let mut hit = bin(im, ctx, BinaryOp::Equal, x, extreme)?;
    if im.ty(x).element_type.is_float() {
        // As NumPy's argmax/argmin, a NaN is the extreme: where a slice holds one, its NaNs
        // are the candidates (the reductions skip NaN, and NaN equals nothing).
        let same = bin(im, ctx, BinaryOp::Equal, x, x)?;
        let nan = un(im, ctx, UnaryOp::Not, same)?;
        let count = cast_to(im, ctx, nan, ElementType::I64)?;
        let any = reduce_over(im, ctx, ReduceKind::Max, count, vec![a], true)?;
        let one_ = im.constant(HostTensor::from_i64(&[], &[1]), &ctx.name);
        let has_nan = bin(im, ctx, BinaryOp::Equal, any, one_)?;
        hit = im.emit(ctx, OpKind::Select, &[has_nan, nan, hit])?;
    }
    let (at, past_end) = axis_positions(im, ctx, &dims, a)?;
    let sentinel = if last { -1 } else { past_end };
    let miss = im.constant(HostTensor::from_i64(&[], &[sentinel]), &ctx.name);
    let candidates = im.emit(ctx, OpKind::Select, &[hit, at, miss])?;
    let pick = if last {
        ReduceKind::Max
    } else {
        ReduceKind::Min
    };
    reduce_over(im, ctx, pick, candidates, vec![a], keep_dims)
}

/// ArgMax and ArgMin, first index by default, last with `select_last_index`.
fn arg_extreme(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let a = axis(ctx, ctx.int("axis", 0), im.ty(x).rank())?;
    one(extreme_index(
        im,
        ctx,
        x,
        a,
        ctx.op_type == "ArgMax",
        ctx.int("select_last_index", 0) != 0,
        ctx.int("keepdims", 1) != 0,
    )?)
}

/// TopK with `k` known when compiling: `k` rounds each taking the extreme of the elements not
/// taken yet and the lowest position holding it (ONNX's order among equal values), so values
/// and indices come out sorted. Each round reads the whole axis: meant for the small `k` of
/// classifier and detector heads.
fn top_k(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let a = axis(ctx, ctx.int("axis", -1), dims.len())?;
    let k = if ctx.opset >= 10 {
        let t = const_arg(im, ctx, inputs, 1)?.ok_or_else(|| ctx.err("the K input is required"))?;
        *t.to_i64().first().ok_or_else(|| ctx.err("K is empty"))?
    } else {
        ctx.int("k", 0)
    };
    let Dim::Static(n) = dims[a] else {
        return Err(ctx.err(format!(
            "TopK along axis {a}, whose size is known only at run time, is not supported"
        )));
    };
    let k = usize::try_from(k)
        .ok()
        .filter(|&k| k <= n)
        .ok_or_else(|| ctx.err(format!("K {k} must be between 0 and the axis size {n}")))?;
    if k == 0 {
        return Err(ctx.err("K 0 (empty outputs) is not supported"));
    }
    let largest = ctx.int("largest", 1) != 0;
    let et = im.ty(x).element_type;
    // What a taken element reads as: never above (below) a remaining one.
    let fill = match (et.int_width(), largest) {
        (None, true) => f64::NEG_INFINITY,
        (None, false) => f64::INFINITY,
        (Some((bits, signed)), true) => {
            if signed {
                -(2f64.powi(bits as i32 - 1))
            } else {
                0.0
            }
        }
        (Some((bits, signed)), false) => {
            if signed {
                2f64.powi(bits as i32 - 1) - 1.0
            } else {
                2f64.powi(bits as i32) - 1.0
            }
        }
    };
    let (at, past) = axis_positions(im, ctx, &dims, a)?;
    let past = im.constant(HostTensor::from_i64(&[], &[past]), &ctx.name);
    let fill = scalar_like(im, ctx, x, fill);
    let reduce = |im: &mut Importer, kind, v: ValueId| {
        im.emit(
            ctx,
            OpKind::Reduce {
                kind,
                axes: vec![a],
                keep_dims: true,
            },
            &[v],
        )
    };
    let (mut values, mut indices) = (vec![], vec![]);
    let mut taken: Option<ValueId> = None;
    for _ in 0..k {
        let remaining = match taken {
            Some(t) => im.emit(ctx, OpKind::Select, &[t, fill, x])?,
            None => x,
        };
        let extreme = reduce(
            im,
            if largest {
                ReduceKind::Max
            } else {
                ReduceKind::Min
            },
            remaining,
        )?;
        let mut candidate = bin(im, ctx, BinaryOp::Equal, x, extreme)?;
        if let Some(t) = taken {
            let free = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[t])?;
            candidate = bin(im, ctx, BinaryOp::And, candidate, free)?;
        }
        let position = im.emit(ctx, OpKind::Select, &[candidate, at, past])?;
        let index = reduce(im, ReduceKind::Min, position)?;
        let hot = bin(im, ctx, BinaryOp::Equal, at, index)?;
        taken = Some(match taken {
            Some(t) => bin(im, ctx, BinaryOp::Or, t, hot)?,
            None => hot,
        });
        values.push(extreme);
        indices.push(index);
    }
    let stack = |im: &mut Importer, vs: Vec<ValueId>| -> Result<ValueId, ImportError> {
        match vs.as_slice() {
            [one] => Ok(*one),
            _ => im.emit(ctx, OpKind::Concat { axis: a }, &vs),
        }
    };
    Ok(vec![Some(stack(im, values)?), Some(stack(im, indices)?)])
}

/// OneHot: `on` where a new axis' position equals the index (negative indices count from the
/// end of `depth`; indices outside it match nowhere), `off` elsewhere, in the type of `values
/// = [off, on]`. A depth given as data is read as a size.
fn one_hot(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let mut inputs = inputs.to_vec();
    let given = arg(ctx, &inputs, 1)?;
    let depth = match im.const_of(given) {
        Some(t) => {
            let d = t
                .to_f64()
                .first()
                .copied()
                .ok_or_else(|| ctx.err("depth is empty"))?;
            if !(d >= 1.0 && d <= (1u64 << 31) as f64) {
                return Err(ctx.err(format!("depth {d} must be a positive size")));
            }
            Dim::Static(d as usize)
        }
        None => {
            let s = im.sizes_from_data(ctx, given)?;
            inputs = im.node_inputs(ctx);
            size_dim(ctx, &s.values[0])?
        }
    };
    let inputs = &inputs[..];
    let indices = arg(ctx, inputs, 0)?;
    let values = arg(ctx, inputs, 2)?;
    if im
        .ty(values)
        .static_shape()
        .map(|s| s.iter().product::<usize>())
        != Some(2)
    {
        return Err(ctx.err(format!(
            "values must be [off_value, on_value], got {}",
            im.ty(values)
        )));
    }
    let mut dims = im.dims(indices);
    let a = axis(ctx, ctx.int("axis", -1), dims.len() + 1)?;
    let index = cast_to(im, ctx, indices, ElementType::I64)?;
    let zero = im.constant(HostTensor::from_i64(&[], &[0]), &ctx.name);
    let len = size_scalar(im, ctx, depth.expr());
    let negative = bin(im, ctx, BinaryOp::Less, index, zero)?;
    let wrapped = bin(im, ctx, BinaryOp::Add, index, len)?;
    let index = im.emit(ctx, OpKind::Select, &[negative, wrapped, index])?;
    dims.insert(a, depth);
    let (at, _) = axis_positions(im, ctx, &dims, a)?;
    dims[a] = Dim::Static(1);
    let index = reshape_dims(im, ctx, index, dims.clone())?;
    let hot = bin(im, ctx, BinaryOp::Equal, index, at)?;
    let values = reshape_to(im, ctx, values, vec![2])?;
    let vshape = [Dim::Static(2)];
    let off = slice_axis(im, ctx, values, &vshape, 0, 0, 1)?;
    let on = slice_axis(im, ctx, values, &vshape, 0, 1, 2)?;
    let (off, on) = (
        reshape_to(im, ctx, off, vec![])?,
        reshape_to(im, ctx, on, vec![])?,
    );
    one(im.emit(ctx, OpKind::Select, &[hot, on, off])?)
}

/// Largest matrix Det expands by cofactors (n! products of n elements).
const DET_MAX_SIZE: usize = 5;

/// Det of the trailing `n×n` matrices, by cofactor expansion along the first row over
/// elements sliced out as `[...]` tensors: exact in the order of its products, meant for the
/// small matrices of geometry (n up to [`DET_MAX_SIZE`]).
fn det(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    require_float(im, ctx, x)?;
    let dims = im.dims(x);
    let r = dims.len();
    let n = match dims.get(r.wrapping_sub(1)).zip(dims.get(r.wrapping_sub(2))) {
        Some((Dim::Static(a), Dim::Static(b))) if a == b && (1..=DET_MAX_SIZE).contains(a) => *a,
        _ => {
            return Err(ctx.err(format!(
                "Det takes square matrices of at most {DET_MAX_SIZE}×{DET_MAX_SIZE} in the last two dims, got {}",
                im.ty(x)
            )))
        }
    };
    let batch = dims[..r - 2].to_vec();
    let mut element = vec![vec![x; n]; n];
    for (i, row) in element.iter_mut().enumerate() {
        for (j, e) in row.iter_mut().enumerate() {
            let a = slice_axis(im, ctx, x, &dims, r - 2, i, i + 1)?;
            let mut d = dims.clone();
            d[r - 2] = Dim::Static(1);
            let a = slice_axis(im, ctx, a, &d, r - 1, j, j + 1)?;
            *e = reshape_dims(im, ctx, a, batch.clone())?;
        }
    }
    let rows: Vec<usize> = (0..n).collect();
    let cols: Vec<usize> = (0..n).collect();
    one(cofactor(im, ctx, &element, &rows, &cols)?)
}

/// The determinant of the minor of `element` on `rows` × `cols`, expanded along its first row.
fn cofactor(
    im: &mut Importer,
    ctx: &NodeCtx,
    element: &[Vec<ValueId>],
    rows: &[usize],
    cols: &[usize],
) -> Result<ValueId, ImportError> {
    if let ([r], [c]) = (rows, cols) {
        return Ok(element[*r][*c]);
    }
    let mut total: Option<ValueId> = None;
    for (k, &c) in cols.iter().enumerate() {
        let rest: Vec<usize> = cols.iter().copied().filter(|&x| x != c).collect();
        let minor = cofactor(im, ctx, element, &rows[1..], &rest)?;
        let term = bin(im, ctx, BinaryOp::Mul, element[rows[0]][c], minor)?;
        total = Some(match total {
            None => term,
            Some(t) if k % 2 == 1 => bin(im, ctx, BinaryOp::Sub, t, term)?,
            Some(t) => bin(im, ctx, BinaryOp::Add, t, term)?,
        });
    }
    total.ok_or_else(|| ctx.err("an empty minor"))
}

/// Hardmax: 1 at the first maximum along `axis`, 0 elsewhere.
fn hardmax(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if ctx.opset < 13 {
        return Err(ctx.err("Hardmax before opset 13 (over a flattened 2-D view) is not supported"));
    }
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let a = axis(ctx, ctx.int("axis", -1), dims.len())?;
    let first = extreme_index(im, ctx, x, a, true, false, true)?;
    let (at, _) = axis_positions(im, ctx, &dims, a)?;
    let hot = bin(im, ctx, BinaryOp::Equal, at, first)?;
    one(cast_to(im, ctx, hot, im.ty(x).element_type)?)
}

/// Trilu: the upper (`upper=1`) or lower triangle of the last two dims from diagonal `k`
/// (input 1, a compile-time constant), zeros elsewhere.
fn trilu(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    if dims.len() < 2 {
        return Err(ctx.err("needs an input of rank 2 or more"));
    }
    let k_input = inputs.get(1).copied().flatten();
    let k = match k_input.and_then(|v| im.const_of(v)) {
        Some(t) => Some(
            *t.to_i64()
                .first()
                .ok_or_else(|| ctx.err("k must be a scalar"))?,
        ),
        None if k_input.is_some() => None,
        None => Some(0),
    };
    let upper = ctx.int("upper", 1) != 0;
    let static_mask = im.ty(x).static_shape().zip(k);
    let Some((shape, k)) = static_mask else {
        // Over sizes known only at run time (a causal mask of an open sequence), or with k
        // read at run time, the mask is computed from positions: keep where column − row is
        // at least (at most) k.
        let plane = dims[dims.len() - 2..].to_vec();
        let pos = |im: &mut Importer, axis| {
            im.emit(
                ctx,
                OpKind::Iota {
                    shape: plane.clone(),
                    axis,
                },
                &[],
            )
        };
        let (rows, cols) = (pos(im, 0)?, pos(im, 1)?);
        let diff = bin(im, ctx, BinaryOp::Sub, cols, rows)?;
        let k = match (k, k_input) {
            (Some(k), _) => im.constant(HostTensor::from_i64(&[], &[k]), &ctx.name),
            (None, v) => {
                let v = v.ok_or_else(|| ctx.err("k is missing"))?;
                if im.ty(v).static_shape().map(|s| s.iter().product::<usize>()) != Some(1) {
                    return Err(ctx.err(format!(
                        "k must be a scalar, got {}",
                        im.ty(v).shape_string()
                    )));
                }
                let v = reshape_dims(im, ctx, v, vec![])?;
                cast_to(im, ctx, v, ElementType::I64)?
            }
        };
        let keep = match upper {
            // diff >= k is not (diff < k); diff <= k is not (diff > k).
            true => bin(im, ctx, BinaryOp::Less, diff, k)?,
            false => bin(im, ctx, BinaryOp::Greater, diff, k)?,
        };
        let keep = im.emit(ctx, OpKind::Unary(UnaryOp::Not), &[keep])?;
        let zero = scalar_like(im, ctx, x, 0.0);
        return one(im.emit(ctx, OpKind::Select, &[keep, x, zero])?);
    };
    let (rows, cols) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let keep: Vec<bool> = (0..rows as i64)
        .flat_map(|i| (0..cols as i64).map(move |j| if upper { j - i >= k } else { j - i <= k }))
        .collect();
    let keep: Vec<f64> = keep.into_iter().map(f64::from).collect();
    let mask = im.constant(
        HostTensor::from_f64(ElementType::I1, &[rows, cols], &keep),
        &ctx.name,
    );
    let zero = scalar_like(im, ctx, x, 0.0);
    one(im.emit(ctx, OpKind::Select, &[mask, x, zero])?)
}

/// RMSNormalization: `x / sqrt(mean(x²) + epsilon) · scale` over the dims from `axis` on.
fn rms_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let rank = im.ty(x).rank();
    let a = axis(ctx, ctx.int("axis", -1), rank)?;
    if ctx.int("stash_type", 1) != 1 {
        return Err(ctx.err("only stash_type=1 (float) is supported"));
    }
    let et = im.ty(x).element_type;
    let x32 = cast_to(im, ctx, x, ElementType::F32)?;
    let squares = bin(im, ctx, BinaryOp::Mul, x32, x32)?;
    let mean = reduce_over(
        im,
        ctx,
        ReduceKind::Mean,
        squares,
        (a..rank).collect(),
        true,
    )?;
    let eps = scalar_like(im, ctx, mean, ctx.float("epsilon", 1e-5) as f64);
    let ms = bin(im, ctx, BinaryOp::Add, mean, eps)?;
    let rms = un(im, ctx, UnaryOp::Sqrt, ms)?;
    let y = bin(im, ctx, BinaryOp::Div, x32, rms)?;
    let y = cast_to(im, ctx, y, et)?;
    let scale = arg(ctx, inputs, 1)?;
    one(bin(im, ctx, BinaryOp::Mul, y, scale)?)
}

/// LpNormalization: `x` divided by its L1 (`p=1`) or L2 (`p=2`) norm along `axis` (zero
/// where the norm is).
fn lp_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let a = axis(ctx, ctx.int("axis", -1), im.ty(x).rank())?;
    let sum =
        |im: &mut Importer, v: ValueId| reduce_over(im, ctx, ReduceKind::Sum, v, vec![a], true);
    let norm = match ctx.int("p", 2) {
        1 => {
            let m = un(im, ctx, UnaryOp::Abs, x)?;
            sum(im, m)?
        }
        2 => {
            let sq = bin(im, ctx, BinaryOp::Mul, x, x)?;
            let s = sum(im, sq)?;
            un(im, ctx, UnaryOp::Sqrt, s)?
        }
        p => return Err(ctx.err(format!("p={p} is not supported (1 or 2)"))),
    };
    // A zero norm (an all-zero slice) gives zeros, as ONNX's reference does, not NaN.
    let zero = scalar_like(im, ctx, norm, 0.0);
    let empty = bin(im, ctx, BinaryOp::Equal, norm, zero)?;
    let scaled = bin(im, ctx, BinaryOp::Div, x, norm)?;
    one(im.emit(ctx, OpKind::Select, &[empty, zero, scaled])?)
}

/// An `i64` tensor of `shape` whose elements are their coordinate along `axis`.
pub(super) fn iota(
    im: &mut Importer,
    ctx: &NodeCtx,
    shape: Vec<Dim>,
    axis: usize,
) -> Result<ValueId, ImportError> {
    im.emit(ctx, OpKind::Iota { shape, axis }, &[])
}

/// A reduction over `axes` of `x`.
pub(super) fn reduce_over(
    im: &mut Importer,
    ctx: &NodeCtx,
    kind: ReduceKind,
    x: ValueId,
    axes: Vec<usize>,
    keep_dims: bool,
) -> Result<ValueId, ImportError> {
    im.emit(
        ctx,
        OpKind::Reduce {
            kind,
            axes,
            keep_dims,
        },
        &[x],
    )
}

/// NegativeLogLikelihoodLoss, and SoftmaxCrossEntropyLoss (the same loss of the scores' log
/// softmax over the class dim, which it may also return). Input `[N, C, d…]`, integer targets
/// `[N, d…]`, optional class weights `[C]`; `ignore_index` targets weigh 0; `reduction` is
/// `mean` (weighted), `sum` or `none`. Each target picks its class through a one-hot mask, so
/// the targets may be run-time data.
fn nll_loss(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (scores, target) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let shape = im.shape(ctx, scores)?;
    let rank = shape.len();
    if rank < 2 || !im.ty(scores).element_type.is_float() {
        return Err(ctx.err("needs float scores of rank 2 or more"));
    }
    let target_shape = im.shape(ctx, target)?;
    let mut expected = vec![shape[0]];
    expected.extend(&shape[2..]);
    if target_shape != expected || im.ty(target).element_type.is_float() {
        return Err(ctx.err(format!(
            "targets must be integers of shape {expected:?}, got {target_shape:?}"
        )));
    }
    let log_prob = if ctx.op_type == "SoftmaxCrossEntropyLoss" {
        // x - max - log(sum(exp(x - max))) over the class dim: no log of an underflowed 0.
        let m = reduce_over(im, ctx, ReduceKind::Max, scores, vec![1], true)?;
        let shifted = bin(im, ctx, BinaryOp::Sub, scores, m)?;
        let e = un(im, ctx, UnaryOp::Exp, shifted)?;
        let total = reduce_over(im, ctx, ReduceKind::Sum, e, vec![1], true)?;
        let lse = un(im, ctx, UnaryOp::Log, total)?;
        Some(bin(im, ctx, BinaryOp::Sub, shifted, lse)?)
    } else {
        None
    };
    let input = log_prob.unwrap_or(scores);
    let mut target_dims = vec![shape[0], 1];
    target_dims.extend(&shape[2..]);
    let target_i64 = cast_to(im, ctx, target, ElementType::I64)?;
    let target_u = reshape_to(im, ctx, target_i64, target_dims)?;
    let classes = positions(im, ctx, rank, 1, shape[1], 1);
    let hot = bin(im, ctx, BinaryOp::Equal, classes, target_u)?;
    let zero = scalar_like(im, ctx, input, 0.0);
    let picked = im.emit(ctx, OpKind::Select, &[hot, input, zero])?;
    let picked = reduce_over(im, ctx, ReduceKind::Sum, picked, vec![1], false)?;
    // The weight of each target's class (1 without weights), 0 for ignored targets.
    let one_ = scalar_like(im, ctx, input, 1.0);
    let weights = match inputs.get(2).copied().flatten() {
        Some(w) => {
            let mut dims = vec![1; rank];
            dims[1] = shape[1];
            let w = reshape_to(im, ctx, w, dims)?;
            let w = im.emit(ctx, OpKind::Select, &[hot, w, zero])?;
            reduce_over(im, ctx, ReduceKind::Sum, w, vec![1], false)?
        }
        None => {
            let any = im.emit(ctx, OpKind::Select, &[hot, one_, zero])?;
            reduce_over(im, ctx, ReduceKind::Sum, any, vec![1], false)?
        }
    };
    let (picked, weights) = match ctx.attr("ignore_index") {
        Some(_) => {
            // An ignored target's loss and weight are 0, whatever its input (even -inf).
            let ignore = im.constant(
                HostTensor::from_i64(&[], &[ctx.int("ignore_index", 0)]),
                &ctx.name,
            );
            let ignored = bin(im, ctx, BinaryOp::Equal, target_i64, ignore)?;
            (
                im.emit(ctx, OpKind::Select, &[ignored, zero, picked])?,
                im.emit(ctx, OpKind::Select, &[ignored, zero, weights])?,
            )
        }
        None => (picked, weights),
    };
    let loss = bin(im, ctx, BinaryOp::Mul, picked, weights)?;
    let loss = un(im, ctx, UnaryOp::Neg, loss)?;
    let all: Vec<usize> = (0..rank - 1).collect();
    let loss = match ctx.string("reduction").as_deref().unwrap_or("mean") {
        "none" => loss,
        "sum" => reduce_over(im, ctx, ReduceKind::Sum, loss, all, false)?,
        "mean" => {
            let total = reduce_over(im, ctx, ReduceKind::Sum, loss, all.clone(), false)?;
            let weight = reduce_over(im, ctx, ReduceKind::Sum, weights, all, false)?;
            bin(im, ctx, BinaryOp::Div, total, weight)?
        }
        other => return Err(ctx.err(format!("unknown reduction '{other}'"))),
    };
    Ok(vec![Some(loss), log_prob])
}

/// Attention (opset 23): `softmax(Q·Kᵀ·scale + bias)·V` per head, for 4-D `[B, H, L, D]`
/// inputs or 3-D `[B, L, H·D]` ones (with `q_num_heads`/`kv_num_heads`), key/value heads
/// shared by groups of query heads (GQA, MQA). The bias is a boolean mask's `-inf` where it
/// is false, or a float mask, plus the causal mask (`is_causal`: key `j` for query `i` iff
/// `j <= i + past length`), after `softcap` when it is set; a query row every key of which is
/// masked gives zeros. With `past_key`/`past_value` the cache comes before the new keys and
/// values, and `present_key`/`present_value` are the whole. The `qk_matmul_output` output,
/// `nonpad_kv_seqlen` and masks shorter than the keys are refused.
fn attention(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (q, k, v) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let input = |i: usize| inputs.get(i).copied().flatten();
    let past = match (input(4), input(5)) {
        (Some(key), Some(value)) => Some((key, value)),
        (None, None) => None,
        _ => return Err(ctx.err("past_key and past_value come together")),
    };
    let nonpad = input(6);
    if nonpad.is_some() && past.is_some() {
        return Err(ctx.err("nonpad_kv_seqlen cannot be combined with past_key/past_value"));
    }
    let qk_mode = ctx.int("qk_matmul_output_mode", 0);
    if !(0..=3).contains(&qk_mode) {
        return Err(ctx.err(format!("qk_matmul_output_mode {qk_mode} must be 0 to 3")));
    }
    if !im.ty(q).element_type.is_float() {
        return Err(ctx.err("needs float inputs"));
    }
    // [B, L, H·D] -> [B, H, L, D].
    let heads = |im: &mut Importer, x: ValueId, attr: &str| -> Result<ValueId, ImportError> {
        let s = im.shape(ctx, x)?;
        match s.len() {
            4 => Ok(x),
            3 => {
                let h = ctx.int(attr, 0);
                if h < 1 || s[2] % h as usize != 0 {
                    return Err(ctx.err(format!("3-D inputs need {attr} dividing their last dim")));
                }
                let h = h as usize;
                let x = reshape_to(im, ctx, x, vec![s[0], s[1], h, s[2] / h])?;
                im.emit(
                    ctx,
                    OpKind::Transpose {
                        perm: vec![0, 2, 1, 3],
                    },
                    &[x],
                )
            }
            r => Err(ctx.err(format!("needs 3-D or 4-D inputs, got rank {r}"))),
        }
    };
    let three_d = im.ty(q).rank() == 3;
    if im.ty(k).rank() != im.ty(q).rank() || im.ty(v).rank() != im.ty(q).rank() {
        return Err(ctx.err("Q, K and V must have the same rank"));
    }
    // Computed in f32 whatever the inputs' float type, rounded once at the end; the present
    // keys take K's type and the present values V's.
    let (et, key_type, value_type) = (
        im.ty(q).element_type,
        im.ty(k).element_type,
        im.ty(v).element_type,
    );
    let (q, k, v) = (
        cast_to(im, ctx, q, ElementType::F32)?,
        cast_to(im, ctx, k, ElementType::F32)?,
        cast_to(im, ctx, v, ElementType::F32)?,
    );
    let (q, mut k, mut v) = (
        heads(im, q, "q_num_heads")?,
        heads(im, k, "kv_num_heads")?,
        heads(im, v, "kv_num_heads")?,
    );
    // The KV cache: past keys and values come first; the present ones are the whole.
    let mut past_len = 0;
    if let Some((past_key, past_value)) = past {
        past_len = *im.shape(ctx, past_key)?.get(2).unwrap_or(&0);
        let key = cast_to(im, ctx, past_key, ElementType::F32)?;
        let value = cast_to(im, ctx, past_value, ElementType::F32)?;
        k = im.emit(ctx, OpKind::Concat { axis: 2 }, &[key, k])?;
        v = im.emit(ctx, OpKind::Concat { axis: 2 }, &[value, v])?;
    }
    let (qs, ks, vs) = (im.shape(ctx, q)?, im.shape(ctx, k)?, im.shape(ctx, v)?);
    let (batch, q_heads, len, dim) = (qs[0], qs[1], qs[2], qs[3]);
    let (kv_heads, kv_len) = (ks[1], ks[2]);
    if kv_heads == 0
        || q_heads % kv_heads != 0
        || ks[0] != batch
        || ks[3] != dim
        || vs[..3] != ks[..3]
    {
        return Err(ctx.err(format!(
            "Q {qs:?}, K {ks:?} and V {vs:?} do not fit together"
        )));
    }
    // Key/value heads repeat for each query head of their group.
    let repeat = |im: &mut Importer, x: ValueId, last: usize| -> Result<ValueId, ImportError> {
        if kv_heads == q_heads {
            return Ok(x);
        }
        let group = q_heads / kv_heads;
        let x = reshape_to(im, ctx, x, vec![batch, kv_heads, 1, kv_len, last])?;
        let x = im.emit(
            ctx,
            OpKind::Broadcast {
                shape: [batch, kv_heads, group, kv_len, last]
                    .map(Dim::Static)
                    .to_vec(),
            },
            &[x],
        )?;
        reshape_to(im, ctx, x, vec![batch, q_heads, kv_len, last])
    };
    let (k_all, v_all) = (k, v);
    let (k, v) = (repeat(im, k, dim)?, repeat(im, v, vs[3])?);
    let kt = im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 1, 3, 2],
        },
        &[k],
    )?;
    let scores = im.emit(ctx, OpKind::MatMul, &[q, kt])?;
    let scale = match ctx.attr("scale") {
        Some(_) => ctx.float("scale", 0.0) as f64,
        None => 1.0 / (dim as f64).sqrt(),
    };
    let scale = scalar_like(im, ctx, scores, scale);
    let mut scores = bin(im, ctx, BinaryOp::Mul, scores, scale)?;
    let softcap = ctx.float("softcap", 0.0) as f64;
    if softcap > 0.0 {
        // softcap · tanh(scores / softcap).
        let cap = scalar_like(im, ctx, scores, softcap);
        let t = bin(im, ctx, BinaryOp::Div, scores, cap)?;
        let t = un(im, ctx, UnaryOp::Tanh, t)?;
        scores = bin(im, ctx, BinaryOp::Mul, t, cap)?;
    }
    let (zero, minus_inf) = (
        scalar_like(im, ctx, scores, 0.0),
        scalar_like(im, ctx, scores, f64::NEG_INFINITY),
    );
    // Modes 0 and 1 report the (softcapped) scores before any bias.
    let mut qk_output = scores;
    let mut masked = false;
    if let Some(mask) = inputs.get(3).copied().flatten() {
        let mask = padded_mask(im, ctx, mask, kv_len)?;
        let bias = if im.ty(mask).element_type == ElementType::I1 {
            im.emit(ctx, OpKind::Select, &[mask, zero, minus_inf])?
        } else {
            cast_to(im, ctx, mask, ElementType::F32)?
        };
        scores = bin(im, ctx, BinaryOp::Add, scores, bias)?;
        masked = true;
    }
    // Positions are bottom-right aligned: query i sits at i + offset among the keys, offset
    // being the cached keys (past_key) or, per batch, the valid keys before the queries
    // (nonpad_kv_seqlen - q_len).
    let offset = match nonpad {
        Some(n) => {
            let n = cast_to(im, ctx, n, ElementType::I64)?;
            let n = reshape_to(im, ctx, n, vec![batch, 1, 1, 1])?;
            let l = im.constant(HostTensor::from_i64(&[], &[len as i64]), &ctx.name);
            Some(bin(im, ctx, BinaryOp::Sub, n, l)?)
        }
        None => None,
    };
    // key j minus query i, [len, kv_len]: the causal and window rules compare it to offset.
    let gap: Vec<i64> = (0..len)
        .flat_map(|i| (0..kv_len).map(move |j| j as i64 - i as i64))
        .collect();
    let gap = im.constant(HostTensor::from_i64(&[len, kv_len], &gap), &ctx.name);
    let static_offset = im.constant(HostTensor::from_i64(&[], &[past_len as i64]), &ctx.name);
    let offset = offset.unwrap_or(static_offset);
    let mut keep_where = |im: &mut Importer, keep: ValueId| -> Result<(), ImportError> {
        let bias = im.emit(ctx, OpKind::Select, &[keep, zero, minus_inf])?;
        scores = bin(im, ctx, BinaryOp::Add, scores, bias)?;
        masked = true;
        Ok(())
    };
    if ctx.int("is_causal", 0) != 0 {
        // j <= i + offset.
        let beyond = bin(im, ctx, BinaryOp::Greater, gap, offset)?;
        let keep = un(im, ctx, UnaryOp::Not, beyond)?;
        keep_where(im, keep)?;
    }
    let (left, right) = (
        ctx.int("left_window_size", -1),
        ctx.int("right_window_size", -1),
    );
    if left >= 0 || right >= 0 {
        // i + offset - left <= j <= i + offset + right: how far key j lies behind the
        // query's position, and how far ahead, each within its window (-1: unbounded).
        let behind = bin(im, ctx, BinaryOp::Sub, offset, gap)?;
        let ahead = bin(im, ctx, BinaryOp::Sub, gap, offset)?;
        for (limit, distance) in [(left, behind), (right, ahead)] {
            if limit < 0 {
                continue;
            }
            let l = im.constant(HostTensor::from_i64(&[], &[limit]), &ctx.name);
            let far = bin(im, ctx, BinaryOp::Greater, distance, l)?;
            let keep = un(im, ctx, UnaryOp::Not, far)?;
            keep_where(im, keep)?;
        }
    }
    if let Some(n) = nonpad {
        // Keys from nonpad_kv_seqlen on are padding.
        let n = cast_to(im, ctx, n, ElementType::I64)?;
        let n = reshape_to(im, ctx, n, vec![batch, 1, 1, 1])?;
        let keys: Vec<i64> = (0..kv_len as i64).collect();
        let keys = im.constant(HostTensor::from_i64(&[1, 1, 1, kv_len], &keys), &ctx.name);
        let keep = bin(im, ctx, BinaryOp::Less, keys, n)?;
        keep_where(im, keep)?;
    }
    if qk_mode == 2 {
        qk_output = scores;
    }
    let mut probs = im.emit(ctx, OpKind::Softmax { axis: 3 }, &[scores])?;
    if masked {
        let top = reduce_over(im, ctx, ReduceKind::Max, scores, vec![3], true)?;
        let dead = bin(im, ctx, BinaryOp::Equal, top, minus_inf)?;
        probs = im.emit(ctx, OpKind::Select, &[dead, zero, probs])?;
    }
    if qk_mode == 3 {
        qk_output = probs;
    }
    let mut y = im.emit(ctx, OpKind::MatMul, &[probs, v])?;
    if three_d {
        let perm = vec![0, 2, 1, 3];
        y = im.emit(ctx, OpKind::Transpose { perm }, &[y])?;
        y = reshape_to(im, ctx, y, vec![batch, len, q_heads * vs[3]])?;
    }
    let y = cast_to(im, ctx, y, et)?;
    let present = match past {
        Some(_) => Some((
            cast_to(im, ctx, k_all, key_type)?,
            cast_to(im, ctx, v_all, value_type)?,
        )),
        None => None,
    };
    let qk_output = cast_to(im, ctx, qk_output, et)?;
    Ok(vec![
        Some(y),
        present.map(|p| p.0),
        present.map(|p| p.1),
        Some(qk_output),
    ])
}

/// An attention mask as long as the keys: ONNX pads a shorter one with masked positions
/// (false, or -inf for a float mask).
fn padded_mask(
    im: &mut Importer,
    ctx: &NodeCtx,
    mask: ValueId,
    kv_len: usize,
) -> Result<ValueId, ImportError> {
    let shape = im.shape(ctx, mask)?;
    let last = *shape
        .last()
        .ok_or_else(|| ctx.err("attn_mask must have rank 1 or more"))?;
    if last == kv_len {
        return Ok(mask);
    }
    if last > kv_len {
        return Err(ctx.err(format!(
            "attn_mask spans {last} keys, more than the {kv_len} keys"
        )));
    }
    let mut pad_shape = shape.clone();
    *pad_shape.last_mut().expect("rank checked") = kv_len - last;
    let et = im.ty(mask).element_type;
    let value = if et == ElementType::I1 {
        0.0
    } else {
        f64::NEG_INFINITY
    };
    let count = constant_len(ctx, &pad_shape)?;
    let pad = im.constant(
        HostTensor::from_f64(et, &pad_shape, &vec![value; count]),
        &ctx.name,
    );
    im.emit(
        ctx,
        OpKind::Concat {
            axis: shape.len() - 1,
        },
        &[mask, pad],
    )
}

fn sum_mean(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let vals: Vec<ValueId> = inputs.iter().flatten().copied().collect();
    let mut acc = *vals
        .first()
        .ok_or_else(|| ctx.err("needs at least one input"))?;
    for &v in &vals[1..] {
        acc = bin(im, ctx, BinaryOp::Add, acc, v)?;
    }
    if ctx.op_type == "Mean" && vals.len() > 1 {
        let n = scalar_like(im, ctx, acc, vals.len() as f64);
        acc = bin(im, ctx, BinaryOp::Div, acc, n)?;
    }
    one(acc)
}

fn xor(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let e = bin(
        im,
        ctx,
        BinaryOp::Equal,
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
    )?;
    one(un(im, ctx, UnaryOp::Not, e)?)
}

/// Mod: the remainder of `x / y`. With `fmod=1` it takes the dividend's sign (C's `fmod`);
/// with `fmod=0` the divisor's, as Python's `%` does (for floats, as opset 28 defines it).
/// The quotient comes from kiln's division (truncating for integers, where a zero divisor
/// leaves `x`); for floats one correction step puts the remainder back in range when `x / y`
/// rounded across an integer, a zero divisor or infinite dividend gives NaN, and an infinite
/// divisor leaves `x` (moved by `y` where Python's sign rule asks).
fn modulo(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, y) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let et = im.ty(x).element_type;
    let fmod = ctx.int("fmod", 0) != 0;
    let zero = scalar_like(im, ctx, x, 0.0);
    let r = if et.is_float() {
        let t = bin(im, ctx, BinaryOp::Div, x, y)?;
        let (down, up) = (
            un(im, ctx, UnaryOp::Floor, t)?,
            un(im, ctx, UnaryOp::Ceil, t)?,
        );
        let negative = bin(im, ctx, BinaryOp::Less, t, zero)?;
        let q = im.emit(ctx, OpKind::Select, &[negative, up, down])?;
        let qy = bin(im, ctx, BinaryOp::Mul, q, y)?;
        let r = bin(im, ctx, BinaryOp::Sub, x, qy)?;
        // A zero quotient leaves x, also where y is infinite (0 · ∞ would be NaN).
        let q_zero = bin(im, ctx, BinaryOp::Equal, q, zero)?;
        let r = im.emit(ctx, OpKind::Select, &[q_zero, x, r])?;
        // Remainder must carry x's sign and stay below |y|: step once by sign(x)·|y| if not.
        let (sx, ay) = (
            un(im, ctx, UnaryOp::Sign, x)?,
            un(im, ctx, UnaryOp::Abs, y)?,
        );
        let step = bin(im, ctx, BinaryOp::Mul, sx, ay)?;
        let rsx = bin(im, ctx, BinaryOp::Mul, r, sx)?;
        let under = bin(im, ctx, BinaryOp::Less, rsx, zero)?;
        let raised = bin(im, ctx, BinaryOp::Add, r, step)?;
        let r = im.emit(ctx, OpKind::Select, &[under, raised, r])?;
        let ar = un(im, ctx, UnaryOp::Abs, r)?;
        let below = bin(im, ctx, BinaryOp::Less, ar, ay)?;
        let lowered = bin(im, ctx, BinaryOp::Sub, r, step)?;
        im.emit(ctx, OpKind::Select, &[below, r, lowered])?
    } else {
        let q = bin(im, ctx, BinaryOp::Div, x, y)?;
        let qy = bin(im, ctx, BinaryOp::Mul, q, y)?;
        bin(im, ctx, BinaryOp::Sub, x, qy)?
    };
    if fmod {
        return one(r);
    }
    // Python's sign: a nonzero remainder whose sign differs from y's moves by y.
    let r_neg = bin(im, ctx, BinaryOp::Less, r, zero)?;
    let r_pos = bin(im, ctx, BinaryOp::Greater, r, zero)?;
    let y_neg = bin(im, ctx, BinaryOp::Less, y, zero)?;
    let y_pos = bin(im, ctx, BinaryOp::Greater, y, zero)?;
    let a = bin(im, ctx, BinaryOp::And, r_neg, y_pos)?;
    let b = bin(im, ctx, BinaryOp::And, r_pos, y_neg)?;
    let differ = bin(im, ctx, BinaryOp::Or, a, b)?;
    let moved = bin(im, ctx, BinaryOp::Add, r, y)?;
    let r = im.emit(ctx, OpKind::Select, &[differ, moved, r])?;
    if !et.is_float() {
        return one(r);
    }
    // A zero remainder takes y's sign: |r| · sign(y).
    let r_zero = bin(im, ctx, BinaryOp::Equal, r, zero)?;
    let (ar, sy) = (
        un(im, ctx, UnaryOp::Abs, r)?,
        un(im, ctx, UnaryOp::Sign, y)?,
    );
    let signed = bin(im, ctx, BinaryOp::Mul, ar, sy)?;
    one(im.emit(ctx, OpKind::Select, &[r_zero, signed, r])?)
}

/// `x - max - log(Σ exp(x - max))` along the axis: no overflow or log(0) for large inputs.
fn log_softmax(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let default = if ctx.opset >= 13 { -1 } else { 1 };
    let a = axis(ctx, ctx.int("axis", default), dims.len())?;
    // Before opset 13 the axis means "flatten from here".
    let flat = ctx.opset < 13 && a + 1 != dims.len();
    let (x, a) = if flat {
        let size = |ds: &[Dim]| {
            Dim::from_expr(ds.iter().fold(SymExpr::from(1), |p, d| p * d.expr()))
                .expect("sizes are non-negative")
        };
        let two = vec![size(&dims[..a]), size(&dims[a..])];
        (reshape_dims(im, ctx, x, two)?, 1)
    } else {
        (x, a)
    };
    let reduce = |kind| OpKind::Reduce {
        kind,
        axes: vec![a],
        keep_dims: true,
    };
    let m = im.emit(ctx, reduce(ReduceKind::Max), &[x])?;
    let d = bin(im, ctx, BinaryOp::Sub, x, m)?;
    let e = un(im, ctx, UnaryOp::Exp, d)?;
    let s = im.emit(ctx, reduce(ReduceKind::Sum), &[e])?;
    let l = un(im, ctx, UnaryOp::Log, s)?;
    let y = bin(im, ctx, BinaryOp::Sub, d, l)?;
    one(if flat {
        reshape_dims(im, ctx, y, dims)?
    } else {
        y
    })
}

fn instance_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let Some(Dim::Static(channels)) = dims.get(1).filter(|_| dims.len() >= 3) else {
        return Err(ctx.err("input must have rank 3 or more and static channels"));
    };
    let (rank, channels) = (dims.len(), *channels);
    let epsilon = ctx.float("epsilon", 1e-5) as f64;
    let y = im.emit(ctx, OpKind::LayerNorm { axis: 2, epsilon }, &[x])?;
    one(channel_affine(im, ctx, inputs, y, rank, channels)?)
}

/// `y · scale + bias` with `scale` (input 1) and `bias` (input 2) given per channel (axis 1
/// of an N×C×… tensor of `rank` with `channels` channels).
fn channel_affine(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    y: ValueId,
    rank: usize,
    channels: usize,
) -> Result<ValueId, ImportError> {
    let mut channel = vec![1; rank];
    channel[1] = channels;
    let scale = reshape_to(im, ctx, arg(ctx, inputs, 1)?, channel.clone())?;
    let bias = reshape_to(im, ctx, arg(ctx, inputs, 2)?, channel)?;
    let y = bin(im, ctx, BinaryOp::Mul, y, scale)?;
    bin(im, ctx, BinaryOp::Add, y, bias)
}

/// GroupNormalization (opset 21): each instance's channels in `num_groups` equal groups,
/// normalised over the group and its spatial extent in f32 (`stash_type` 1), then scaled and
/// shifted per channel in the input's type.
fn group_norm(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let Some(Dim::Static(channels)) = dims.get(1).filter(|_| dims.len() >= 3) else {
        return Err(ctx.err("input must have rank 3 or more and static channels"));
    };
    let channels = *channels;
    let groups = ctx.int("num_groups", 0);
    if groups <= 0 || channels % groups as usize != 0 {
        return Err(ctx.err(format!(
            "num_groups must be a positive divisor of the {channels} channels, got {groups}"
        )));
    }
    let stash = ctx.int("stash_type", 1);
    if stash != 1 {
        return Err(ctx.err(format!(
            "stash_type {stash} is not supported (only 1, float32)"
        )));
    }
    let et = im.ty(x).element_type;
    let groups = groups as usize;
    // Each group's channels and spatial extent (which may be known only at run time).
    let per_group = dims[2..]
        .iter()
        .fold(SymExpr::from((channels / groups) as i64), |p, d| {
            p * d.expr()
        });
    let per_group = Dim::from_expr(per_group).expect("sizes are non-negative");
    let x32 = cast_to(im, ctx, x, ElementType::F32)?;
    let grouped = vec![dims[0].clone(), Dim::Static(groups), per_group];
    let grouped = reshape_dims(im, ctx, x32, grouped)?;
    let epsilon = ctx.float("epsilon", 1e-5) as f64;
    let y = im.emit(ctx, OpKind::LayerNorm { axis: 2, epsilon }, &[grouped])?;
    let y = reshape_dims(im, ctx, y, dims.clone())?;
    let y = cast_to(im, ctx, y, et)?;
    one(channel_affine(im, ctx, inputs, y, dims.len(), channels)?)
}

/// The end of a whole dim in slice attributes: its size, or the symbolic dim's end.
pub(super) fn whole_dim_end(d: &Dim) -> i64 {
    match d {
        Dim::Static(n) => *n as i64,
        Dim::Sym(_) => kiln_ir::ops::SLICE_TO_END,
    }
}

pub(super) fn slice_axis(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    shape: &[Dim],
    axis: usize,
    start: usize,
    end: usize,
) -> Result<ValueId, ImportError> {
    let mut starts = vec![0i64; shape.len()];
    let mut ends: Vec<i64> = shape.iter().map(whole_dim_end).collect();
    starts[axis] = start as i64;
    ends[axis] = end as i64;
    im.emit(
        ctx,
        OpKind::Slice {
            starts,
            ends,
            steps: vec![1; shape.len()],
        },
        &[x],
    )
}

fn split(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let from_data = inputs.get(1).copied().flatten();
    if let Some(v) = from_data.filter(|&v| ctx.opset >= 13 && im.shape_value(v).is_none()) {
        return split_from_data(im, ctx, v);
    }
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let a = axis(ctx, ctx.int("axis", 0), dims.len())?;
    let Dim::Static(len) = dims[a] else {
        return Err(ctx.err(format!(
            "splitting symbolic dim {} of axis {a} is not supported",
            dims[a]
        )));
    };
    let n = ctx.node.output.len();
    let given = if ctx.opset >= 13 {
        const_arg(im, ctx, inputs, 1)?.map(|t| t.to_i64())
    } else {
        ctx.ints("split")
    };
    let sizes: Vec<usize> = match given {
        Some(v) => v
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| ctx.err(format!("negative split size {d}"))))
            .collect::<Result<_, _>>()?,
        None => {
            // Equal parts; with num_outputs (opset 18) the last part may be smaller.
            let parts = if ctx.opset >= 18 {
                ctx.int("num_outputs", n as i64).max(0) as usize
            } else {
                n
            };
            if parts == 0 {
                return Err(ctx.err("cannot split into zero parts"));
            }
            if ctx.opset < 18 && len % parts != 0 {
                return Err(ctx.err(format!(
                    "dim {a} of size {} does not split evenly into {parts} outputs",
                    len
                )));
            }
            let chunk = len.div_ceil(parts);
            (0..parts)
                .map(|i| chunk.min(len.saturating_sub(i * chunk)))
                .collect()
        }
    };
    if sizes.iter().sum::<usize>() != len || sizes.len() != n {
        return Err(ctx.err(format!(
            "split sizes {sizes:?} do not divide dim {a} of size {} into {n} outputs",
            len
        )));
    }
    let mut out = vec![];
    let mut at = 0;
    for size in sizes {
        out.push(Some(slice_axis(im, ctx, x, &dims, a, at, at + size)?));
        at += size;
    }
    Ok(out)
}

/// Split by sizes given as data: the sizes read ([`Importer::sizes_from_data`]), the axis
/// checked to hold their sum when the call runs, and each part gathered from its offset.
fn split_from_data(im: &mut Importer, ctx: &NodeCtx, sizes: ValueId) -> Outputs {
    let sizes = im.sizes_from_data(ctx, sizes)?;
    let inputs = im.node_inputs(ctx);
    let x = arg(ctx, &inputs, 0)?;
    let mut dims = im.dims(x);
    let a = axis(ctx, ctx.int("axis", 0), dims.len())?;
    if sizes.values.len() != ctx.node.output.len() {
        return Err(ctx.err(format!(
            "{} split sizes for {} outputs",
            sizes.values.len(),
            ctx.node.output.len()
        )));
    }
    let total = sizes
        .values
        .iter()
        .fold(SymExpr::from(0), |t, s| t + s.clone());
    dims[a] = size_dim(ctx, &total)?;
    let x = im.emit(ctx, OpKind::CheckShape { shape: dims }, &[x])?;
    let mut out = vec![];
    let mut offset = SymExpr::from(0);
    for size in &sizes.values {
        let at = im.emit(
            ctx,
            OpKind::Iota {
                shape: vec![size_dim(ctx, size)?],
                axis: 0,
            },
            &[],
        )?;
        let start = size_scalar(im, ctx, offset.clone());
        let index = bin(im, ctx, BinaryOp::Add, at, start)?;
        out.push(Some(im.emit(
            ctx,
            OpKind::Gather { axis: a },
            &[x, index],
        )?));
        offset = offset + size.clone();
    }
    Ok(out)
}

fn tile(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let mut inputs = inputs.to_vec();
    // Repeats may be sizes known only at run time (`mask.repeat(batch, 1, 1)`), or data.
    let reps: Vec<SymExpr> = match inputs.get(1).copied().flatten() {
        Some(v) if im.const_of(v).is_none() => im.shape_input(ctx, &mut inputs, 1)?.values,
        _ => const_arg(im, ctx, &inputs, 1)?
            .ok_or_else(|| ctx.err("the repeats input is required"))?
            .to_i64()
            .into_iter()
            .map(SymExpr::from)
            .collect(),
    };
    let x = arg(ctx, &inputs, 0)?;
    let s = im.dims(x);
    let dim = |e: SymExpr| Dim::from_expr(e).ok_or_else(|| ctx.err("a repeat count is negative"));
    if reps.len() != s.len() || reps.iter().any(|r| !r.is_nonnegative()) {
        return Err(ctx.err(format!(
            "repeats [{}] must be one non-negative count per dim",
            reps.iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // [d0, d1] -> [1, d0, 1, d1] -> broadcast [r0, d0, r1, d1] -> [r0*d0, r1*d1].
    let interleaved: Vec<Dim> = s.iter().flat_map(|d| [Dim::Static(1), d.clone()]).collect();
    let mut expanded = vec![];
    let mut out = vec![];
    for (d, r) in s.iter().zip(&reps) {
        expanded.extend([dim(r.clone())?, d.clone()]);
        out.push(dim(r.clone() * d.expr())?);
    }
    if out
        .iter()
        .any(|d| matches!(d, Dim::Static(n) if *n >= 1 << 40))
    {
        return Err(ctx.err("tiled shape is too large"));
    }
    let t = reshape_dims(im, ctx, x, interleaved)?;
    let t = im.emit(ctx, OpKind::Broadcast { shape: expanded }, &[t])?;
    one(reshape_dims(im, ctx, t, out)?)
}

fn pad(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if super::data_pads::reads_data(im, ctx, inputs) {
        return super::data_pads::pad_from_data(im, ctx, inputs);
    }
    let x = arg(ctx, inputs, 0)?;
    // Pads are constants; the padded dims may be sizes known only at run time.
    let rank = im.ty(x).rank();
    let mode = ctx.string("mode").unwrap_or_else(|| "constant".into());
    if !matches!(mode.as_str(), "constant" | "edge" | "reflect" | "wrap") {
        return Err(ctx.err(format!(
            "mode '{mode}' is not one of constant, edge, reflect, wrap"
        )));
    }
    let (raw, value) = if ctx.opset >= 11 {
        let pads = const_arg(im, ctx, inputs, 1)?
            .ok_or_else(|| ctx.err("the pads input is required"))?
            .to_i64();
        let value = const_arg(im, ctx, inputs, 2)?
            .and_then(|t| t.to_f64().first().copied())
            .unwrap_or(0.0);
        (pads, value)
    } else {
        (
            ctx.ints("pads").unwrap_or_default(),
            ctx.float("value", 0.0) as f64,
        )
    };
    let axes: Vec<usize> = match const_arg(im, ctx, inputs, 3)? {
        Some(t) => t
            .to_i64()
            .iter()
            .map(|&a| axis(ctx, a, rank))
            .collect::<Result<_, _>>()?,
        None => (0..rank).collect(),
    };
    if raw.len() != 2 * axes.len() || raw.iter().any(|&p| p < 0) {
        return Err(ctx.err(format!(
            "pads {raw:?} must be {} non-negative values (negative pads are not supported)",
            2 * axes.len()
        )));
    }
    let (mut lows, mut highs) = (vec![0; rank], vec![0; rank]);
    for (i, &a) in axes.iter().enumerate() {
        lows[a] = raw[i] as usize;
        highs[a] = raw[i + axes.len()] as usize;
    }
    if mode == "constant" {
        return one(im.emit(ctx, OpKind::Pad { lows, highs, value }, &[x])?);
    }
    // Edge, reflect and wrap read existing elements: one gather per padded axis, from the
    // source position of each output position (NumPy's `np.pad` modes, as ONNX defines them).
    let mut y = x;
    for a in (0..rank).filter(|&a| lows[a] + highs[a] > 0) {
        let Dim::Static(n) = im.dims(y)[a] else {
            // A size known only at run time: the source positions are computed on the device.
            let len = im.dims(y)[a].expr() + SymExpr::from((lows[a] + highs[a]) as i64);
            let shift = im.constant(HostTensor::from_i64(&[], &[-(lows[a] as i64)]), &ctx.name);
            y = super::data_pads::pad_axis(im, ctx, (y, a), &len, shift, &mode)?;
            continue;
        };
        if n == 0 {
            return Err(ctx.err(format!("mode '{mode}' cannot pad the empty axis {a}")));
        }
        let source: Vec<i64> = (0..lows[a] + n + highs[a])
            .map(|i| pad_source(&mode, i as i64 - lows[a] as i64, n as i64))
            .collect();
        let len = source.len();
        let index = im.constant(HostTensor::from_i64(&[len], &source), &ctx.name);
        y = im.emit(ctx, OpKind::Gather { axis: a }, &[y, index])?;
    }
    one(y)
}

/// Which element of an axis of `n` (`n > 0`) position `j` (relative to the axis' start, so
/// negative in the leading padding) reads under padding `mode`: the nearest edge (`edge`),
/// the mirror image without repeating the edge (`reflect`), or the other end (`wrap`).
fn pad_source(mode: &str, j: i64, n: i64) -> i64 {
    match mode {
        "edge" => j.clamp(0, n - 1),
        "wrap" => j.rem_euclid(n),
        _ if n == 1 => 0,
        _ => {
            let m = j.rem_euclid(2 * (n - 1));
            if m < n {
                m
            } else {
                2 * (n - 1) - m
            }
        }
    }
}

fn range(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    // Version 27's stash type: f16 and bf16 ranges computed in f32 (the default) is what kiln
    // does for every float type.
    if ctx.int("stash_type", 1) != 1 {
        return Err(ctx.err("only stash_type 1 (f32) is supported"));
    }
    if let Some(out) = range_to_size(im, ctx, inputs)? {
        return one(out);
    }
    let given = (0..3).all(|i| inputs.get(i).copied().flatten().is_some());
    if given && (0..3).any(|i| im.const_of(arg(ctx, inputs, i).expect("given")).is_none()) {
        return range_from_data(im, ctx, &mut inputs.to_vec());
    }
    let mut vals = [0.0; 3];
    let mut et = kiln_types::ElementType::F32;
    for (i, v) in vals.iter_mut().enumerate() {
        let t = const_arg(im, ctx, inputs, i)?
            .ok_or_else(|| ctx.err(format!("input {i} is required")))?;
        *v = t
            .to_f64()
            .first()
            .copied()
            .ok_or_else(|| ctx.err(format!("input {i} is empty")))?;
        et = t.element_type;
    }
    let [s, l, d] = vals;
    if d == 0.0 {
        return Err(ctx.err("delta must not be zero"));
    }
    let n = ((l - s) / d).ceil().max(0.0) as usize;
    if n > 1 << 26 {
        return Err(ctx.err(format!("range of {n} elements is too large")));
    }
    let values: Vec<f64> = (0..n).map(|i| s + i as f64 * d).collect();
    one(im.constant(HostTensor::from_f64(et, &[n], &values), &ctx.name))
}

/// A Range whose start, limit or delta is data: its length `max(⌈(limit − start) / delta⌉,
/// 0)` computed on the device (in f32) and read as a size, then `start + delta · position` in
/// the range's type (integers exactly).
fn range_from_data(im: &mut Importer, ctx: &NodeCtx, inputs: &mut Vec<Option<ValueId>>) -> Outputs {
    let wide = |im: &mut Importer, inputs: &[Option<ValueId>], i: usize, t: ElementType| {
        let v = arg(ctx, inputs, i)?;
        let v = reshape_to(im, ctx, v, vec![])?;
        cast_to(im, ctx, v, t)
    };
    let (start, limit, delta) = (
        wide(im, inputs, 0, ElementType::F32)?,
        wide(im, inputs, 1, ElementType::F32)?,
        wide(im, inputs, 2, ElementType::F32)?,
    );
    let span = bin(im, ctx, BinaryOp::Sub, limit, start)?;
    let steps = bin(im, ctx, BinaryOp::Div, span, delta)?;
    let steps = un(im, ctx, UnaryOp::Ceil, steps)?;
    let zero = scalar_like(im, ctx, steps, 0.0);
    let steps = bin(im, ctx, BinaryOp::Max, steps, zero)?;
    let n = cast_to(im, ctx, steps, ElementType::I64)?;
    let n = im.sizes_from_data(ctx, n)?;
    *inputs = im.node_inputs(ctx);
    let et = im.ty(arg(ctx, inputs, 0)?).element_type;
    let exact = if et.is_float() {
        ElementType::F32
    } else {
        ElementType::I64
    };
    let (start, delta) = (wide(im, inputs, 0, exact)?, wide(im, inputs, 2, exact)?);
    let shape = vec![size_dim(ctx, &n.values[0])?];
    let at = im.emit(ctx, OpKind::Iota { shape, axis: 0 }, &[])?;
    let at = cast_to(im, ctx, at, exact)?;
    let x = bin(im, ctx, BinaryOp::Mul, at, delta)?;
    let x = bin(im, ctx, BinaryOp::Add, x, start)?;
    one(cast_to(im, ctx, x, et)?)
}

/// A Range whose limit is a size known only at run time (`Range(0, seq, 1)` of position ids)
/// with integer start and delta known now: `start + delta · position` over `⌈(limit −
/// start) / delta⌉` positions. `None` when the limit is known now (the constant path).
fn range_to_size(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Result<Option<ValueId>, ImportError> {
    let Some(limit) = inputs.get(1).copied().flatten() else {
        return Ok(None);
    };
    if im.const_of(limit).is_some() {
        return Ok(None);
    }
    let Some(limit) = im
        .shape_value(limit)
        .and_then(|s| s.values.first().cloned())
    else {
        return Ok(None);
    };
    let scalar = |i: usize| -> Result<(i64, ElementType), ImportError> {
        let t = const_arg(im, ctx, inputs, i)?
            .ok_or_else(|| ctx.err(format!("input {i} is required")))?;
        let v = t
            .to_i64()
            .first()
            .copied()
            .ok_or_else(|| ctx.err(format!("input {i} is empty")))?;
        Ok((v, t.element_type))
    };
    let ((start, et), (delta, _)) = (scalar(0)?, scalar(2)?);
    if et.int_width().is_none() || delta <= 0 {
        return Err(ctx.err(format!(
            "a range up to a size known only at run time ({limit}) needs an integer start and \
             a positive integer delta"
        )));
    }
    // ⌈(limit − start) / delta⌉ is 0 for a limit up to delta − 1 below the start; one further
    // below makes the size negative, which the call's binding refuses.
    let n = Dim::from_expr((limit - SymExpr::from(start)).ceil_div(delta))
        .ok_or_else(|| ctx.err("the range's length is negative"))?;
    let mut x = im.emit(
        ctx,
        OpKind::Iota {
            shape: vec![n],
            axis: 0,
        },
        &[],
    )?;
    for (op, c) in [(BinaryOp::Mul, delta), (BinaryOp::Add, start)] {
        let c = im.constant(HostTensor::from_i64(&[], &[c]), &ctx.name);
        x = im.emit(ctx, OpKind::Binary(op), &[x, c])?;
    }
    Ok(Some(if et == ElementType::I64 {
        x
    } else {
        im.emit(ctx, OpKind::Cast(et), &[x])?
    }))
}

fn depth_space(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let dims = im.dims(x);
    let b = ctx.int("blocksize", 0);
    if dims.len() != 4 || b < 1 {
        return Err(ctx.err("needs a 4-D input and a positive blocksize"));
    }
    let Dim::Static(c) = dims[1] else {
        return Err(ctx.err(format!("needs static channels, got {}", im.ty(x))));
    };
    let b = b as usize;
    // Batch, height and width may be sizes known only at run time (a super-resolution
    // network's pixel shuffle over any image size); SpaceToDepth divides them, so it needs
    // them static.
    let (n, h, w) = (dims[0].clone(), dims[2].clone(), dims[3].clone());
    let times = |d: &Dim, k: usize| match d {
        Dim::Static(v) => Dim::Static(v * k),
        Dim::Sym(e) => Dim::Sym(e.clone() * SymExpr::from(k as i64)),
    };
    let st = Dim::Static;
    let (shape6, perm, out) = if ctx.op_type == "DepthToSpace" {
        if c % (b * b) != 0 {
            return Err(ctx.err(format!(
                "channels {c} are not divisible by blocksize squared {}",
                b * b
            )));
        }
        let out = vec![n.clone(), st(c / (b * b)), times(&h, b), times(&w, b)];
        if ctx.string("mode").as_deref() == Some("CRD") {
            (
                vec![n, st(c / (b * b)), st(b), st(b), h, w],
                vec![0, 1, 4, 2, 5, 3],
                out,
            )
        } else {
            (
                vec![n, st(b), st(b), st(c / (b * b)), h, w],
                vec![0, 3, 4, 1, 5, 2],
                out,
            )
        }
    } else {
        let (Dim::Static(hs), Dim::Static(ws)) = (&h, &w) else {
            return Err(ctx.err(format!("needs static height and width, got {}", im.ty(x))));
        };
        let (hs, ws) = (*hs, *ws);
        if hs % b != 0 || ws % b != 0 {
            return Err(ctx.err(format!(
                "spatial dims {hs}x{ws} are not divisible by blocksize {b}"
            )));
        }
        // DCR (the only order before opset 28): blocks before channels; CRD: channels first.
        let perm = match ctx.string("mode").as_deref() {
            None | Some("DCR") => vec![0, 3, 5, 1, 2, 4],
            Some("CRD") => vec![0, 1, 3, 5, 2, 4],
            Some(other) => return Err(ctx.err(format!("unknown mode '{other}'"))),
        };
        (
            vec![n.clone(), st(c), st(hs / b), st(b), st(ws / b), st(b)],
            perm,
            vec![n, st(c * b * b), st(hs / b), st(ws / b)],
        )
    };
    let t = reshape_dims(im, ctx, x, shape6)?;
    let t = im.emit(ctx, OpKind::Transpose { perm }, &[t])?;
    one(reshape_dims(im, ctx, t, out)?)
}
