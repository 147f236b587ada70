//! Resize (and Upsample) with scales, sizes or a region of interest given as data.
//!
//! Each resized axis's output length is computed on the device (`⌊scale · length⌋`, or the
//! size, or with `keep_aspect_ratio_policy` the common ratio's rounded product) and read as a
//! size ([`super::data_sizes`]). Then, on the device, every output position's source
//! coordinate follows the coordinate transformation of [`super::resize`] with the run-time
//! scale, and the axis becomes a Gather of the rounded coordinates (nearest) or a matmul with a
//! dense `[out, in]` weight matrix built from them: the hat function of the clamped
//! coordinate (linear), or Keys' cubic kernel over the four neighbours, edge-clamped or, with
//! `exclude_outside`, dropped and renormalised (cubic). `tf_crop_and_resize` positions outside
//! the input take `extrapolation_value`. The input's own dims must be known when compiling.
//! Antialiasing (downscaling) stretches the kernel by the inverse scale, so its width is known
//! only per call: every integer position within reach of the axis (up to twice the input's
//! length of kernel half-widths past either edge, as far as a scale can stretch it) gets the
//! kernel's weight, the weights
//! past an edge land on the edge pixel (as the reference's edge padding reads them) or, with
//! `exclude_outside`, are dropped, and each row is normalised.

use super::ops::size_scalar;
use super::ops::{arg, bin, cast_to, reshape_dims, reshape_to, size_dim, slice_axis, un, Outputs};
use super::resize::{interpolation, resized_axes, Interpolation, Mode, Rounding};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, SymExpr, UnaryOp, ValueId};
use kiln_types::{ElementType, HostTensor};

/// Where a Resize node's scales, sizes and region of interest are, if given (non-empty).
struct Given {
    scales: Option<ValueId>,
    sizes: Option<ValueId>,
    roi: Option<ValueId>,
}

fn given(im: &Importer, inputs: &[Option<ValueId>], legacy: bool) -> Given {
    let non_empty = |i: usize| {
        inputs
            .get(i)
            .copied()
            .flatten()
            .filter(|&v| im.const_of(v).is_none_or(|t| t.element_count() > 0))
    };
    if legacy {
        return Given {
            scales: non_empty(1),
            sizes: None,
            roi: None,
        };
    }
    Given {
        scales: non_empty(2),
        sizes: non_empty(3),
        roi: non_empty(1),
    }
}

/// Whether a Resize node reads its scales, sizes or region of interest from data.
pub(super) fn reads_data(im: &Importer, inputs: &[Option<ValueId>], legacy: bool) -> bool {
    let g = given(im, inputs, legacy);
    [g.scales, g.sizes, g.roi]
        .iter()
        .flatten()
        .any(|&v| im.const_of(v).is_none())
}

/// Builds scalar arithmetic on the device.
struct Scalars<'a, 'c> {
    im: &'a mut Importer,
    ctx: &'a NodeCtx<'c>,
}

impl Scalars<'_, '_> {
    fn f(&mut self, v: f64) -> ValueId {
        self.im.constant(
            HostTensor::from_f64(ElementType::F32, &[], &[v]),
            &self.ctx.name,
        )
    }
    fn op(&mut self, op: BinaryOp, a: ValueId, b: ValueId) -> Result<ValueId, ImportError> {
        bin(self.im, self.ctx, op, a, b)
    }
    fn un(&mut self, op: UnaryOp, a: ValueId) -> Result<ValueId, ImportError> {
        un(self.im, self.ctx, op, a)
    }
    fn select(&mut self, c: ValueId, a: ValueId, b: ValueId) -> Result<ValueId, ImportError> {
        self.im.emit(self.ctx, OpKind::Select, &[c, a, b])
    }
    fn cast(&mut self, v: ValueId, t: ElementType) -> Result<ValueId, ImportError> {
        cast_to(self.im, self.ctx, v, t)
    }
    /// Element `j` of a 1-D value, as an f32 scalar.
    fn element(&mut self, v: ValueId, j: usize) -> Result<ValueId, ImportError> {
        let dims = self.im.dims(v);
        let e = slice_axis(self.im, self.ctx, v, &dims, 0, j, j + 1)?;
        let e = reshape_to(self.im, self.ctx, e, vec![])?;
        self.cast(e, ElementType::F32)
    }
    /// A size as an f32 scalar.
    fn size(&mut self, e: SymExpr) -> Result<ValueId, ImportError> {
        let v = size_scalar(self.im, self.ctx, e);
        self.cast(v, ElementType::F32)
    }
}

pub(super) fn resize_from_data(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    legacy: bool,
) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let shape = im.shape(ctx, x).map_err(|_| {
        ctx.err("resizing by scales or sizes given as data needs the input's dims when compiling")
    })?;
    let axes = resized_axes(ctx, shape.len())?;
    let interp = interpolation(ctx, legacy)?;
    let mut lengths = vec![];
    for j in 0..axes.len() {
        let (_, out) = axis_scale(im, ctx, inputs, legacy, &shape, &axes, j)?;
        lengths.push(reshape_to(im, ctx, out, vec![1])?);
    }
    let lengths = im.emit(ctx, OpKind::Concat { axis: 0 }, &lengths)?;
    let lengths = im.sizes_from_data(ctx, lengths)?;
    let inputs = im.node_inputs(ctx);
    let mut y = arg(ctx, &inputs, 0)?;
    let extrapolation = ctx.float("extrapolation_value", 0.0) as f64;
    for (j, (&a, len)) in axes.iter().zip(&lengths.values).enumerate() {
        let (scale, _) = axis_scale(im, ctx, &inputs, legacy, &shape, &axes, j)?;
        let roi = region(im, ctx, &inputs, legacy, axes.len(), j)?;
        let axis = Axis {
            a,
            input: shape[a],
            output: size_dim(ctx, len)?,
            scale,
            roi,
        };
        y = resize_axis(im, ctx, y, &axis, &interp, extrapolation)?;
    }
    Ok(vec![Some(y)])
}

/// The scale (f32) and output length (i64) of the `j`-th resized axis, on the device.
fn axis_scale(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    legacy: bool,
    shape: &[usize],
    axes: &[usize],
    j: usize,
) -> Result<(ValueId, ValueId), ImportError> {
    let g = given(im, inputs, legacy);
    let mut s = Scalars { im, ctx };
    let n = s.f(shape[axes[j]] as f64);
    match (g.scales, g.sizes) {
        (Some(scales), None) => {
            let scale = s.element(scales, j)?;
            let out = s.op(BinaryOp::Mul, scale, n)?;
            let out = s.un(UnaryOp::Floor, out)?;
            Ok((scale, s.cast(out, ElementType::I64)?))
        }
        (None, Some(sizes)) => {
            let policy = ctx
                .string("keep_aspect_ratio_policy")
                .unwrap_or_else(|| "stretch".into());
            let ratio_of = |s: &mut Scalars, k: usize| -> Result<ValueId, ImportError> {
                let size = s.element(sizes, k)?;
                let n = s.f(shape[axes[k]] as f64);
                s.op(BinaryOp::Div, size, n)
            };
            let common = match policy.as_str() {
                "stretch" => None,
                "not_larger" => Some(BinaryOp::Min),
                "not_smaller" => Some(BinaryOp::Max),
                other => {
                    return Err(ctx.err(format!(
                        "keep_aspect_ratio_policy '{other}' is not supported"
                    )))
                }
            };
            match common {
                None => {
                    let size = s.element(sizes, j)?;
                    let scale = s.op(BinaryOp::Div, size, n)?;
                    Ok((scale, s.cast(size, ElementType::I64)?))
                }
                Some(op) => {
                    let mut c = ratio_of(&mut s, 0)?;
                    for k in 1..axes.len() {
                        let r = ratio_of(&mut s, k)?;
                        c = s.op(op, c, r)?;
                    }
                    // Rounded half up, as ONNX's reference does.
                    let out = s.op(BinaryOp::Mul, c, n)?;
                    let half = s.f(0.5);
                    let out = s.op(BinaryOp::Add, out, half)?;
                    let out = s.un(UnaryOp::Floor, out)?;
                    Ok((c, s.cast(out, ElementType::I64)?))
                }
            }
        }
        (Some(_), Some(_)) => Err(ctx.err("give scales or sizes, not both")),
        (None, None) => Err(ctx.err("scales or sizes is required")),
    }
}

/// The `j`-th resized axis's region of interest `[start, end]` (f32 scalars), the whole
/// input unless `tf_crop_and_resize` reads a given one.
fn region(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    legacy: bool,
    k: usize,
    j: usize,
) -> Result<[ValueId; 2], ImportError> {
    let g = given(im, inputs, legacy);
    let crop =
        ctx.string("coordinate_transformation_mode").as_deref() == Some("tf_crop_and_resize");
    let mut s = Scalars { im, ctx };
    match (g.roi, crop) {
        (Some(roi), true) => Ok([s.element(roi, j)?, s.element(roi, k + j)?]),
        _ => Ok([s.f(0.0), s.f(1.0)]),
    }
}

/// One resized axis: its index, input length, output length, scale and region.
struct Axis {
    a: usize,
    input: usize,
    output: Dim,
    scale: ValueId,
    roi: [ValueId; 2],
}

fn resize_axis(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axis: &Axis,
    interp: &Interpolation,
    extrapolation: f64,
) -> Result<ValueId, ImportError> {
    let n = axis.input;
    let mut s = Scalars { im, ctx };
    let at = s.im.emit(
        ctx,
        OpKind::Iota {
            shape: vec![axis.output.clone()],
            axis: 0,
        },
        &[],
    )?;
    let y = s.cast(at, ElementType::F32)?;
    let coords = source_coordinates(&mut s, y, axis, interp)?;
    let (zero, last) = (s.f(0.0), s.f(n as f64 - 1.0));
    let outside = if interp.transform == "tf_crop_and_resize" {
        let low = s.op(BinaryOp::Less, coords, zero)?;
        let high = s.op(BinaryOp::Greater, coords, last)?;
        Some(s.op(BinaryOp::Or, low, high)?)
    } else {
        None
    };
    let et = s.im.ty(x).element_type;
    let mut out = match interp.mode {
        Mode::Nearest => {
            let index = nearest(&mut s, coords, axis.scale, interp.rounding, n)?;
            s.im.emit(ctx, OpKind::Gather { axis: axis.a }, &[x, index])?
        }
        Mode::Linear | Mode::Cubic => {
            if !et.is_float() {
                return Err(ctx.err(format!("linear and cubic modes need float input, got {et}")));
            }
            let w = weights(&mut s, coords, axis, interp)?;
            let w = s.cast(w, et)?;
            apply(s.im, ctx, x, axis, w)?
        }
    };
    if let Some(outside) = outside {
        let rank = im.ty(out).rank();
        let mut shape = vec![Dim::Static(1); rank];
        shape[axis.a] = axis.output.clone();
        let outside = reshape_dims(im, ctx, outside, shape)?;
        let value = im.constant(HostTensor::from_f64(et, &[], &[extrapolation]), &ctx.name);
        out = im.emit(ctx, OpKind::Select, &[outside, value, out])?;
    }
    Ok(out)
}

/// Each output position's coordinate in the input, as [`super::resize`] computes it.
fn source_coordinates(
    s: &mut Scalars,
    y: ValueId,
    axis: &Axis,
    interp: &Interpolation,
) -> Result<ValueId, ImportError> {
    let (scale, len) = (axis.scale, s.f(axis.input as f64));
    let one_ = s.f(1.0);
    let half = s.f(0.5);
    let out_f = s.op(BinaryOp::Mul, scale, len)?;
    let single = s.op(BinaryOp::Equal, out_f, one_)?;
    let len_m1 = s.op(BinaryOp::Sub, len, one_)?;
    let out_m1 = s.op(BinaryOp::Sub, out_f, one_)?;
    // (y + 0.5) / scale − 0.5
    let centred = |s: &mut Scalars| -> Result<ValueId, ImportError> {
        let c = s.op(BinaryOp::Add, y, half)?;
        let c = s.op(BinaryOp::Div, c, scale)?;
        s.op(BinaryOp::Sub, c, half)
    };
    Ok(match interp.transform.as_str() {
        "align_corners" => {
            let x = s.op(BinaryOp::Mul, y, len_m1)?;
            let x = s.op(BinaryOp::Div, x, out_m1)?;
            let zero = s.f(0.0);
            s.select(single, zero, x)?
        }
        "asymmetric" => s.op(BinaryOp::Div, y, scale)?,
        "tf_crop_and_resize" => {
            let [start, end] = axis.roi;
            let span = s.op(BinaryOp::Sub, end, start)?;
            let base = s.op(BinaryOp::Mul, start, len_m1)?;
            let step = s.op(BinaryOp::Mul, span, len_m1)?;
            let two = s.f(2.0);
            let middle = s.op(BinaryOp::Div, step, two)?;
            let x = s.op(BinaryOp::Mul, y, step)?;
            let x = s.op(BinaryOp::Div, x, out_m1)?;
            let x = s.select(single, middle, x)?;
            s.op(BinaryOp::Add, x, base)?
        }
        "pytorch_half_pixel" => {
            let c = centred(s)?;
            let minus_half = s.f(-0.5);
            s.select(single, minus_half, c)?
        }
        "half_pixel_symmetric" => {
            let out_len = s.size(axis.output.expr())?;
            let shrink = s.op(BinaryOp::Div, out_len, out_f)?;
            let shrink = s.op(BinaryOp::Sub, one_, shrink)?;
            let two = s.f(2.0);
            let centre = s.op(BinaryOp::Div, len, two)?;
            let offset = s.op(BinaryOp::Mul, centre, shrink)?;
            let c = centred(s)?;
            s.op(BinaryOp::Add, offset, c)?
        }
        _ => centred(s)?,
    })
}

/// The input position a nearest-neighbour output reads (i64, clamped into the axis).
fn nearest(
    s: &mut Scalars,
    x: ValueId,
    scale: ValueId,
    rounding: Rounding,
    n: usize,
) -> Result<ValueId, ImportError> {
    let fl = s.un(UnaryOp::Floor, x)?;
    let ratio = s.op(BinaryOp::Sub, x, fl)?;
    let (half, zero, one_) = (s.f(0.5), s.f(0.0), s.f(1.0));
    // Whether the position rounds up to the next input.
    let up = match rounding {
        Rounding::PreferFloor => Some(s.op(BinaryOp::Greater, ratio, half)?),
        Rounding::PreferCeil => {
            let below = s.op(BinaryOp::Less, ratio, half)?;
            Some(s.un(UnaryOp::Not, below)?)
        }
        Rounding::Floor => None,
        Rounding::Ceil => Some(s.op(BinaryOp::Greater, ratio, zero)?),
        // Down when enlarging, up when shrinking.
        Rounding::Legacy => {
            let shrinking = s.op(BinaryOp::Less, scale, one_)?;
            let inside = s.op(BinaryOp::Greater, ratio, zero)?;
            Some(s.op(BinaryOp::And, shrinking, inside)?)
        }
    };
    let picked = match up {
        Some(up) => {
            let next = s.op(BinaryOp::Add, fl, one_)?;
            s.select(up, next, fl)?
        }
        None => fl,
    };
    let (zero, last) = (s.f(0.0), s.f(n as f64 - 1.0));
    let picked = s.op(BinaryOp::Max, picked, zero)?;
    let picked = s.op(BinaryOp::Min, picked, last)?;
    s.cast(picked, ElementType::I64)
}

/// The dense `[out, in]` weights of a linear or cubic axis.
fn weights(
    s: &mut Scalars,
    x: ValueId,
    axis: &Axis,
    interp: &Interpolation,
) -> Result<ValueId, ImportError> {
    let n = axis.input;
    let column = vec![axis.output.clone(), Dim::Static(1)];
    let x = reshape_dims(s.im, s.ctx, x, column)?;
    if interp.antialias {
        return antialiased_weights(s, x, axis, interp);
    }
    let positions: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let row = s.im.constant(
        HostTensor::from_f64(ElementType::F32, &[1, n], &positions),
        &s.ctx.name,
    );
    let (zero, last) = (s.f(0.0), s.f(n as f64 - 1.0));
    if interp.mode == Mode::Linear {
        // The hat function of the coordinate clamped into the axis (edge padding).
        let c = s.op(BinaryOp::Max, x, zero)?;
        let c = s.op(BinaryOp::Min, c, last)?;
        let d = s.op(BinaryOp::Sub, c, row)?;
        let d = s.un(UnaryOp::Abs, d)?;
        let one_ = s.f(1.0);
        let w = s.op(BinaryOp::Sub, one_, d)?;
        return s.op(BinaryOp::Max, w, zero);
    }
    // Cubic: four neighbours floor(x) − 1 … floor(x) + 2.
    let fl = s.un(UnaryOp::Floor, x)?;
    let ratio = s.op(BinaryOp::Sub, x, fl)?;
    let mut taps = vec![];
    for k in -1i64..=2 {
        let kf = s.f(k as f64);
        let at = s.op(BinaryOp::Add, fl, kf)?;
        let dist = s.op(BinaryOp::Sub, ratio, kf)?;
        let mut c = keys_cubic(s, dist, interp.cubic_a)?;
        if interp.exclude_outside {
            let low = s.op(BinaryOp::Less, at, zero)?;
            let high = s.op(BinaryOp::Greater, at, last)?;
            let out = s.op(BinaryOp::Or, low, high)?;
            c = s.select(out, zero, c)?;
        }
        taps.push((at, c));
    }
    let mut total = taps[0].1;
    for &(_, c) in &taps[1..] {
        total = s.op(BinaryOp::Add, total, c)?;
    }
    if interp.exclude_outside {
        let none = s.op(BinaryOp::Equal, total, zero)?;
        let one_ = s.f(1.0);
        total = s.select(none, one_, total)?;
    }
    let mut w = None;
    for (at, c) in taps {
        let at = s.op(BinaryOp::Max, at, zero)?;
        let at = s.op(BinaryOp::Min, at, last)?;
        let hit = s.op(BinaryOp::Equal, at, row)?;
        let c = s.op(BinaryOp::Div, c, total)?;
        let term = s.select(hit, c, zero)?;
        w = Some(match w {
            None => term,
            Some(w) => s.op(BinaryOp::Add, w, term)?,
        });
    }
    Ok(w.expect("four taps"))
}

/// The dense `[out, in]` weights of an antialiased linear or cubic axis at source
/// coordinates `x` (`[out, 1]`): the kernel at `(q − x) · s` (`s` the scale, at most 1) for
/// every integer position `q` the stretched kernel can reach, folded onto the edges (or
/// dropped with `exclude_outside`) and normalised per row.
fn antialiased_weights(
    s: &mut Scalars,
    x: ValueId,
    axis: &Axis,
    interp: &Interpolation,
) -> Result<ValueId, ImportError> {
    let n = axis.input;
    // A kernel of half-width r (1 linear, 2 cubic) stretched by 1/s reaches r/s + 1
    // positions past either edge; an output of at least one element keeps 1/s below 2n
    // (`not_larger` sizes round half a pixel up).
    let reach = if interp.mode == Mode::Linear {
        2 * n + 1
    } else {
        4 * n + 1
    };
    let span = n + 2 * reach;
    let positions: Vec<f64> = (0..span).map(|i| i as f64 - reach as f64).collect();
    let row = s.im.constant(
        HostTensor::from_f64(ElementType::F32, &[1, span], &positions),
        &s.ctx.name,
    );
    let one_ = s.f(1.0);
    let shrink = s.op(BinaryOp::Min, axis.scale, one_)?;
    let d = s.op(BinaryOp::Sub, row, x)?;
    let d = s.op(BinaryOp::Mul, d, shrink)?;
    let k = if interp.mode == Mode::Linear {
        let d = s.un(UnaryOp::Abs, d)?;
        let w = s.op(BinaryOp::Sub, one_, d)?;
        let zero = s.f(0.0);
        s.op(BinaryOp::Max, w, zero)?
    } else {
        keys_cubic(s, d, interp.cubic_a)?
    };
    let out = axis.output.clone();
    let dims = vec![out.clone(), Dim::Static(span)];
    let part =
        |s: &mut Scalars, from: usize, to: usize| slice_axis(s.im, s.ctx, k, &dims, 1, from, to);
    let inside = part(s, reach, reach + n)?;
    let reduce = |s: &mut Scalars, v: ValueId| {
        super::ops::reduce_over(s.im, s.ctx, kiln_ir::ReduceKind::Sum, v, vec![1], true)
    };
    let w = if interp.exclude_outside {
        inside
    } else {
        // What the kernel reads past an edge is the edge pixel.
        let (below, above) = (part(s, 0, reach)?, part(s, reach + n, span)?);
        let (below, above) = (reduce(s, below)?, reduce(s, above)?);
        let edge = |s: &mut Scalars, at: usize| -> Result<ValueId, ImportError> {
            let v: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i == at))).collect();
            Ok(s.im.constant(
                HostTensor::from_f64(ElementType::F32, &[1, n], &v),
                &s.ctx.name,
            ))
        };
        let (first, last) = (edge(s, 0)?, edge(s, n - 1)?);
        let below = s.op(BinaryOp::Mul, below, first)?;
        let above = s.op(BinaryOp::Mul, above, last)?;
        let w = s.op(BinaryOp::Add, inside, below)?;
        s.op(BinaryOp::Add, w, above)?
    };
    let total = reduce(s, w)?;
    let zero = s.f(0.0);
    let none = s.op(BinaryOp::Equal, total, zero)?;
    let total = s.select(none, one_, total)?;
    s.op(BinaryOp::Div, w, total)
}

/// Keys' cubic convolution kernel at distance `d` with parameter `a`.
fn keys_cubic(s: &mut Scalars, d: ValueId, a: f64) -> Result<ValueId, ImportError> {
    let d = s.un(UnaryOp::Abs, d)?;
    let poly = |s: &mut Scalars, cs: [f64; 4]| -> Result<ValueId, ImportError> {
        // ((c0·d + c1)·d + c2)·d + c3
        let mut v = s.f(cs[0]);
        for &c in &cs[1..] {
            v = s.op(BinaryOp::Mul, v, d)?;
            let c = s.f(c);
            v = s.op(BinaryOp::Add, v, c)?;
        }
        Ok(v)
    };
    let near = poly(s, [a + 2.0, -(a + 3.0), 0.0, 1.0])?;
    let far = poly(s, [a, -5.0 * a, 8.0 * a, -4.0 * a])?;
    let (one_, two, zero) = (s.f(1.0), s.f(2.0), s.f(0.0));
    let is_near = s.op(BinaryOp::Greater, d, one_)?;
    let is_near = s.un(UnaryOp::Not, is_near)?;
    let within = s.op(BinaryOp::Less, d, two)?;
    let v = s.select(within, far, zero)?;
    s.select(is_near, near, v)
}

/// `x` with axis `a` mapped through the `[out, in]` weights `w` (a matmul over the axis).
fn apply(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axis: &Axis,
    w: ValueId,
) -> Result<ValueId, ImportError> {
    let dims = im.dims(x);
    let a = axis.a;
    let product = |d: &[Dim]| Dim::from_expr(kiln_ir::dims_product(d)).expect("a size");
    let (pre, post) = (product(&dims[..a]), product(&dims[a + 1..]));
    let input = Dim::Static(axis.input);
    let x3 = reshape_dims(im, ctx, x, vec![pre, input, post])?;
    let y = im.emit(ctx, OpKind::MatMul, &[w, x3])?;
    let mut out = dims;
    out[a] = axis.output.clone();
    reshape_dims(im, ctx, y, out)
}
