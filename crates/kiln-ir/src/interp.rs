//! The reference interpreter: evaluates a tensor program directly. It is the oracle every backend
//! is tested against, and the compiler's constant folder.
//!
//! - Obviously correct over fast: plain loops, every element held as `f64`, accumulation in `f64`.
//! - Each op's result is rounded to its element type, so f32 programs see f32 rounding at op
//!   boundaries, like a real backend.
//! - Symbolic dims are bound from the actual inputs' shapes; symbolic attributes (a reshape's
//!   target shape) are evaluated with those bindings before each op runs.

use crate::function::{Function, Program};
use crate::ops::{BinaryOp, Conv2dAttrs, OpKind, PoolAttrs, PoolKind, ReduceKind, UnaryOp};
use crate::IrError;
use kiln_types::{ElementType, HostTensor};
use std::collections::HashMap;

/// A tensor during interpretation: elements widened to f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub element_type: ElementType,
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Tensor {
    pub fn from_host(t: &HostTensor) -> Tensor {
        Tensor {
            element_type: t.element_type,
            shape: t.shape.clone(),
            data: t.to_f64(),
        }
    }

    pub fn to_host(&self) -> HostTensor {
        HostTensor::from_f64(self.element_type, &self.shape, &self.data)
    }

    fn new(element_type: ElementType, shape: Vec<usize>, mut data: Vec<f64>) -> Tensor {
        for v in &mut data {
            *v = element_type.round(*v);
        }
        Tensor {
            element_type,
            shape,
            data,
        }
    }
}

/// Row-major strides of `shape`.
pub fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Strides to read a tensor of `shape` broadcast to `out` (0 along broadcast dims).
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let s = strides_of(shape);
    let offset = out.len() - shape.len();
    (0..out.len())
        .map(|i| {
            if i < offset || shape[i - offset] == 1 {
                0
            } else {
                s[i - offset]
            }
        })
        .collect()
}

/// Calls `f(index)` for every multi-index of `shape` in row-major order.
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0; shape.len()];
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

fn dot(idx: &[usize], strides: &[usize]) -> usize {
    idx.iter().zip(strides).map(|(i, s)| i * s).sum()
}

/// Evaluates function `name` of `program` on `inputs`.
///
/// ```
/// use kiln_ir::{interp, text};
/// use kiln_types::HostTensor;
/// let p = text::parse_program(r#"
/// func @main(%0 "x": tensor<2xf32>) -> (%1 "y") {
///   %1 = relu %0 : tensor<2xf32> loc("r")
/// }"#).unwrap();
/// let y = interp::run(&p, "main", &[HostTensor::from_f32(&[2], &[-1.0, 2.0])]).unwrap();
/// assert_eq!(y[0].to_f32(), vec![0.0, 2.0]);
/// ```
pub fn run(
    program: &Program,
    name: &str,
    inputs: &[HostTensor],
) -> Result<Vec<HostTensor>, IrError> {
    let f = program
        .function(name)
        .ok_or_else(|| IrError::Eval(format!("no function named '{name}'")))?;
    let inputs: Vec<Tensor> = inputs.iter().map(Tensor::from_host).collect();
    Ok(run_function(program, f, &inputs)?
        .iter()
        .map(Tensor::to_host)
        .collect())
}

/// Evaluates `f` on interpreter tensors.
pub fn run_function(
    program: &Program,
    f: &Function,
    inputs: &[Tensor],
) -> Result<Vec<Tensor>, IrError> {
    if inputs.len() != f.params.len() {
        return Err(IrError::Eval(format!(
            "'{}' takes {} inputs, got {}",
            f.name,
            f.params.len(),
            inputs.len()
        )));
    }
    if let Some(c) = &f.control {
        return crate::interp_control::run(program, f, &c.program, inputs);
    }
    // Dims that are one symbol bind it; every dim must then evaluate to the input's size.
    let mut symbols: HashMap<String, i64> = HashMap::new();
    for (p, t) in f.params.iter().zip(inputs) {
        for (d, &n) in f.ty(p.value).dims.iter().zip(&t.shape) {
            if let Some(s) = d.expr().as_symbol() {
                symbols.entry(s.to_string()).or_insert(n as i64);
            }
        }
    }
    let lookup = |s: &str| symbols.get(s).copied();
    let mut env: Vec<Option<Tensor>> = vec![None; f.values.len()];
    for (p, t) in f.params.iter().zip(inputs) {
        let ty = f.ty(p.value);
        let ok = ty.element_type == t.element_type
            && ty.rank() == t.shape.len()
            && ty
                .dims
                .iter()
                .zip(&t.shape)
                .all(|(d, &n)| d.expr().eval(&lookup) == Some(n as i64));
        if !ok {
            return Err(IrError::Eval(format!(
                "input '{}' expects {} but got {}",
                p.name,
                ty,
                t.to_host().type_string()
            )));
        }
        env[p.value.index()] = Some(t.clone());
    }
    for op in &f.ops {
        let args: Vec<&Tensor> = op
            .operands
            .iter()
            .map(|v| {
                env[v.index()]
                    .as_ref()
                    .ok_or_else(|| IrError::Eval(format!("{v} used before definition")))
            })
            .collect::<Result<_, _>>()?;
        let out = op
            .kind
            .substitute(&lookup)
            .and_then(|kind| eval_op(program, &kind, &args))
            .map_err(|m| IrError::Eval(format!("'{}' ({}): {m}", op.kind.name(), op.loc)))?;
        env[op.results[0].index()] = Some(out);
    }
    f.results
        .iter()
        .map(|r| {
            env[r.value.index()]
                .clone()
                .ok_or_else(|| IrError::Eval(format!("result '{}' undefined", r.name)))
        })
        .collect()
}

/// Evaluates one op on concrete operands.
pub fn eval_op(program: &Program, kind: &OpKind, args: &[&Tensor]) -> Result<Tensor, String> {
    let types: Vec<_> = args
        .iter()
        .map(|t| crate::TensorType::new(t.element_type, &t.shape))
        .collect();
    let out_ty = match kind {
        OpKind::Constant(id) => return Ok(Tensor::from_host(program.constant(*id))),
        k => k
            .infer(&types.iter().collect::<Vec<_>>())
            .map_err(|e| e.to_string())?
            .remove(0),
    };
    let et = out_ty.element_type;
    let shape = out_ty.static_shape().ok_or("symbolic result shape")?;
    let n: usize = shape.iter().product();
    let data = match kind {
        OpKind::Constant(_) => unreachable!("handled above"),
        OpKind::Unary(u) => args[0].data.iter().map(|&x| unary(*u, x)).collect(),
        OpKind::Binary(b) => {
            let (sa, sb) = (
                broadcast_strides(&args[0].shape, &shape),
                broadcast_strides(&args[1].shape, &shape),
            );
            let integer = !args[0].element_type.is_float();
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| {
                out.push(binary(
                    *b,
                    args[0].data[dot(i, &sa)],
                    args[1].data[dot(i, &sb)],
                    integer,
                ))
            });
            out
        }
        OpKind::Select => {
            let s: Vec<_> = args
                .iter()
                .map(|a| broadcast_strides(&a.shape, &shape))
                .collect();
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| {
                let c = args[0].data[dot(i, &s[0])] != 0.0;
                out.push(if c {
                    args[1].data[dot(i, &s[1])]
                } else {
                    args[2].data[dot(i, &s[2])]
                });
            });
            out
        }
        OpKind::Cast(_) => args[0].data.clone(),
        OpKind::BitCast(to) => {
            let bytes = args[0].to_host().data;
            let t = HostTensor::new(*to, shape.clone(), bytes).map_err(|e| e.to_string())?;
            t.to_f64()
        }
        OpKind::MatMul => matmul(args[0], args[1], &shape),
        OpKind::Conv2d(a) => conv2d(args[0], args[1], a, &shape),
        OpKind::Pool2d(a) => pool2d(args[0], a, &shape),
        OpKind::Reduce { kind, axes, .. } => reduce(args[0], *kind, axes),
        OpKind::Softmax { axis } => softmax(args[0], *axis),
        OpKind::LayerNorm { axis, epsilon } => layer_norm(args[0], *axis, *epsilon),
        OpKind::Recurrent(cell) => crate::interp_recurrent::recurrent(cell, args),
        OpKind::Reshape { .. } | OpKind::CheckShape { .. } => args[0].data.clone(),
        OpKind::Broadcast { .. } => {
            let s = broadcast_strides(&args[0].shape, &shape);
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| out.push(args[0].data[dot(i, &s)]));
            out
        }
        OpKind::Transpose { perm } => {
            let s = strides_of(&args[0].shape);
            let ps: Vec<usize> = perm.iter().map(|&p| s[p]).collect();
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| out.push(args[0].data[dot(i, &ps)]));
            out
        }
        OpKind::Slice { starts, steps, .. } => {
            let s = strides_of(&args[0].shape);
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| {
                let flat: i64 = (0..i.len())
                    .map(|d| (starts[d] + steps[d] * i[d] as i64) * s[d] as i64)
                    .sum();
                out.push(args[0].data[flat as usize]);
            });
            out
        }
        OpKind::Iota { axis, .. } => {
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| out.push(i[*axis] as f64));
            out
        }
        OpKind::Take { .. } => {
            let s = strides_of(&args[0].shape);
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| out.push(args[0].data[dot(i, &s)]));
            out
        }
        OpKind::Concat { axis } => {
            let outer: usize = shape[..*axis].iter().product();
            let mut out = Vec::with_capacity(n);
            for o in 0..outer {
                for a in args {
                    let chunk: usize = a.shape[*axis..].iter().product();
                    out.extend_from_slice(&a.data[o * chunk..(o + 1) * chunk]);
                }
            }
            out
        }
        OpKind::Pad { lows, value, .. } => {
            let s = strides_of(&args[0].shape);
            let mut out = Vec::with_capacity(n);
            for_each_index(&shape, |i| {
                let inside =
                    (0..i.len()).all(|d| i[d] >= lows[d] && i[d] - lows[d] < args[0].shape[d]);
                out.push(if inside {
                    args[0].data[(0..i.len()).map(|d| (i[d] - lows[d]) * s[d]).sum::<usize>()]
                } else {
                    *value
                });
            });
            out
        }
        OpKind::Gather { axis } => {
            let data = args[0];
            let outer: usize = data.shape[..*axis].iter().product();
            let inner: usize = data.shape[axis + 1..].iter().product();
            let len = data.shape[*axis] as i64;
            let mut out = Vec::with_capacity(n);
            for o in 0..outer {
                for &raw in &args[1].data {
                    let i = raw as i64;
                    let i = if i < 0 { i + len } else { i };
                    if i < 0 || i >= len {
                        return Err(format!("index {raw} out of range for dim of size {len}"));
                    }
                    let base = (o * len as usize + i as usize) * inner;
                    out.extend_from_slice(&data.data[base..base + inner]);
                }
            }
            out
        }
    };
    Ok(Tensor::new(et, shape, data))
}

/// Scalar semantics of unary ops, shared with the constant folder.
pub fn unary(op: UnaryOp, x: f64) -> f64 {
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Abs => x.abs(),
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Erf => libm::erf(x),
        UnaryOp::Relu => nan_max(x, 0.0),
        UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Not => (x == 0.0) as u8 as f64,
        UnaryOp::BitNot => !(x as i64) as f64,
        UnaryOp::Floor => x.floor(),
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Round => x.round_ties_even(),
        UnaryOp::Sign => sign(x),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Softplus => softplus(x),
    }
}

/// Maximum that propagates NaN, as ONNX Runtime and NumPy's `maximum` do.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Minimum that propagates NaN.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `ln(1 + e^x)`, exact enough for large `x` where `e^x` would overflow.
fn softplus(x: f64) -> f64 {
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

/// Scalar semantics of binary ops. Integer division truncates toward zero, like ONNX Runtime.
pub fn binary(op: BinaryOp, a: f64, b: f64, integer: bool) -> f64 {
    let t = |c: bool| c as u8 as f64;
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if integer => {
            if b == 0.0 {
                0.0
            } else {
                (a / b).trunc()
            }
        }
        BinaryOp::Div => a / b,
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Max => nan_max(a, b),
        BinaryOp::Min => nan_min(a, b),
        BinaryOp::Equal => t(a == b),
        BinaryOp::Less => t(a < b),
        BinaryOp::Greater => t(a > b),
        BinaryOp::And => t(a != 0.0 && b != 0.0),
        BinaryOp::Or => t(a != 0.0 || b != 0.0),
        BinaryOp::BitAnd => ((a as i64) & (b as i64)) as f64,
        BinaryOp::BitOr => ((a as i64) | (b as i64)) as f64,
        BinaryOp::BitXor => ((a as i64) ^ (b as i64)) as f64,
        BinaryOp::Shl | BinaryOp::Shr => {
            let (x, amount) = (a as i64, b as i64);
            let shifted = match (op, u32::try_from(amount).ok().filter(|&n| n < 64)) {
                (BinaryOp::Shl, Some(n)) => x << n,
                (BinaryOp::Shl, None) => 0,
                (_, Some(n)) => x >> n,
                (_, None) => x >> 63,
            };
            shifted as f64
        }
    }
}

fn matmul(a: &Tensor, b: &Tensor, out: &[usize]) -> Vec<f64> {
    let r = out.len();
    let (m, n) = (out[r - 2], out[r - 1]);
    let k = a.shape[a.shape.len() - 1];
    let batch = &out[..r - 2];
    let mut abatch = a.shape[..a.shape.len() - 2].to_vec();
    abatch.push(1);
    let mut bbatch = b.shape[..b.shape.len() - 2].to_vec();
    bbatch.push(1);
    let mut batch1 = batch.to_vec();
    batch1.push(1);
    let sa = broadcast_strides(&abatch, &batch1);
    let sb = broadcast_strides(&bbatch, &batch1);
    let mut res = Vec::with_capacity(out.iter().product());
    let mut bidx = batch.to_vec();
    bidx.push(0);
    for_each_index(&batch1, |i| {
        let ao = dot(i, &sa) * m * k;
        let bo = dot(i, &sb) * k * n;
        for mi in 0..m {
            for ni in 0..n {
                let mut acc = 0.0;
                for ki in 0..k {
                    acc += a.data[ao + mi * k + ki] * b.data[bo + ki * n + ni];
                }
                res.push(acc);
            }
        }
    });
    res
}

fn conv2d(x: &Tensor, w: &Tensor, a: &Conv2dAttrs, out: &[usize]) -> Vec<f64> {
    let (c, h, wd) = (x.shape[1], x.shape[2], x.shape[3]);
    let (co, cig, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
    let cog = co / a.groups;
    let mut res = Vec::with_capacity(out.iter().product());
    for ni in 0..out[0] {
        for oc in 0..co {
            let g = oc / cog;
            for oy in 0..out[2] {
                for ox in 0..out[3] {
                    let mut acc = 0.0;
                    for ic in 0..cig {
                        let xc = g * cig + ic;
                        for ky in 0..kh {
                            let iy =
                                (oy * a.strides[0] + ky * a.dilations[0]) as i64 - a.pads[0] as i64;
                            if iy < 0 || iy >= h as i64 {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * a.strides[1] + kx * a.dilations[1]) as i64
                                    - a.pads[1] as i64;
                                if ix < 0 || ix >= wd as i64 {
                                    continue;
                                }
                                acc += x.data[((ni * c + xc) * h + iy as usize) * wd + ix as usize]
                                    * w.data[((oc * cig + ic) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    res.push(acc);
                }
            }
        }
    }
    res
}

fn pool2d(x: &Tensor, a: &PoolAttrs, out: &[usize]) -> Vec<f64> {
    let (h, w) = (x.shape[2] as i64, x.shape[3] as i64);
    let mut res = Vec::with_capacity(out.iter().product());
    for plane in 0..out[0] * out[1] {
        let base = plane * (h * w) as usize;
        for oy in 0..out[2] {
            for ox in 0..out[3] {
                let (mut acc, mut count, mut max) = (0.0, 0usize, f64::NEG_INFINITY);
                for ky in 0..a.kernel[0] {
                    for kx in 0..a.kernel[1] {
                        let iy = (oy * a.strides[0] + ky) as i64 - a.pads[0] as i64;
                        let ix = (ox * a.strides[1] + kx) as i64 - a.pads[1] as i64;
                        if iy < 0 || iy >= h || ix < 0 || ix >= w {
                            continue;
                        }
                        let v = x.data[base + (iy * w + ix) as usize];
                        acc += v;
                        max = max.max(v);
                        count += 1;
                    }
                }
                res.push(match a.kind {
                    PoolKind::Max => max,
                    PoolKind::Avg if a.count_include_pad => {
                        acc / (a.kernel[0] * a.kernel[1]) as f64
                    }
                    PoolKind::Avg => acc / count.max(1) as f64,
                });
            }
        }
    }
    res
}

fn reduce(x: &Tensor, kind: ReduceKind, axes: &[usize]) -> Vec<f64> {
    let out_shape: Vec<usize> = x
        .shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let os = strides_of(&out_shape);
    let ostr: Vec<usize> = (0..x.shape.len())
        .map(|i| if axes.contains(&i) { 0 } else { os[i] })
        .collect();
    let count: usize = axes.iter().map(|&a| x.shape[a]).product();
    let init = match kind {
        ReduceKind::Sum | ReduceKind::Mean => 0.0,
        ReduceKind::Max => f64::NEG_INFINITY,
        ReduceKind::Min => f64::INFINITY,
        ReduceKind::Prod => 1.0,
    };
    let mut acc = vec![init; out_shape.iter().product()];
    let mut flat = 0;
    for_each_index(&x.shape, |i| {
        let o = dot(i, &ostr);
        let v = x.data[flat];
        flat += 1;
        acc[o] = match kind {
            ReduceKind::Sum | ReduceKind::Mean => acc[o] + v,
            ReduceKind::Max => acc[o].max(v),
            ReduceKind::Min => acc[o].min(v),
            ReduceKind::Prod => acc[o] * v,
        };
    });
    if kind == ReduceKind::Mean {
        for v in &mut acc {
            *v /= count as f64;
        }
    }
    acc
}

/// Splits `shape` around `axis` into (outer, axis length, inner) element counts.
fn around(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

fn softmax(x: &Tensor, axis: usize) -> Vec<f64> {
    let (outer, len, inner) = around(&x.shape, axis);
    let mut out = x.data.clone();
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * len + k) * inner + i;
            let max = (0..len)
                .map(|k| x.data[at(k)])
                .fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..len).map(|k| (x.data[at(k)] - max).exp()).sum();
            for k in 0..len {
                out[at(k)] = (x.data[at(k)] - max).exp() / sum;
            }
        }
    }
    out
}

fn layer_norm(x: &Tensor, axis: usize, epsilon: f64) -> Vec<f64> {
    let inner: usize = x.shape[axis..].iter().product();
    let mut out = Vec::with_capacity(x.data.len());
    for row in x.data.chunks(inner.max(1)) {
        let mean = row.iter().sum::<f64>() / inner as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / inner as f64;
        let inv = 1.0 / (var + epsilon).sqrt();
        out.extend(row.iter().map(|v| (v - mean) * inv));
    }
    out
}
