//! Resize, and the Upsample it replaced: for sizes known at compile time, any mode; for sizes
//! known only at run time, nearest upsampling by whole scales ([`repeat_nearest`]).
//!
//! Interpolation is separable, so each resized axis is one linear map from the input's
//! positions to the output's: a constant `[out, in]` weight matrix computed here in `f64`
//! exactly as ONNX's reference computes each output position (coordinate transformation,
//! neighbour window, coefficients, `exclude_outside`, edge clamping). Nearest-neighbour axes
//! pick one input position per output, so they become a Gather (exact for every element
//! type); the others become a matmul with the weight matrix. `tf_crop_and_resize` positions
//! outside the input take `extrapolation_value`.
//!
//! Resize 10 and Upsample use the old semantics: asymmetric coordinates and, for nearest,
//! rounding down when enlarging and up when shrinking (as ONNX Runtime does).

use super::ops::{arg, reshape_dims, reshape_to, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{Dim, OpKind, ValueId};
use kiln_types::{ElementType, HostTensor};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Mode {
    Nearest,
    Linear,
    Cubic,
}

/// How a nearest-neighbour axis rounds a position between two inputs.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Rounding {
    PreferFloor,
    PreferCeil,
    Floor,
    Ceil,
    /// Resize 10 and Upsample: down when enlarging, up when shrinking.
    Legacy,
}

/// Everything that shapes one axis's weights besides its sizes.
pub(super) struct Interpolation {
    pub mode: Mode,
    pub rounding: Rounding,
    pub transform: String,
    pub cubic_a: f64,
    pub exclude_outside: bool,
    pub antialias: bool,
}

/// One resized axis: for each output position, the input positions and weights it reads, or
/// `None` where `tf_crop_and_resize` extrapolates.
type AxisWeights = Vec<Option<Vec<(usize, f64)>>>;

pub(super) fn resize(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let x = arg(ctx, inputs, 0)?;
    let legacy = ctx.op_type == "Upsample" || ctx.opset < 11;
    let attribute_scales = ctx.op_type == "Upsample" && ctx.opset < 9;
    if im.ty(x).static_shape().is_none() {
        return repeat_nearest(im, ctx, x, inputs, legacy);
    }
    if !attribute_scales && super::resize_data::reads_data(im, inputs, legacy) {
        return super::resize_data::resize_from_data(im, ctx, inputs, legacy);
    }
    let shape = im.shape(ctx, x)?;
    let rank = shape.len();
    let floats = |im: &Importer, i: usize| -> Result<Option<Vec<f64>>, ImportError> {
        match inputs.get(i).copied().flatten() {
            None => Ok(None),
            Some(v) => {
                let t = im.const_of(v).ok_or_else(|| {
                    ctx.err(format!("input {i} must be a compile-time constant (sizes computed at run time are not supported yet)"))
                })?;
                Ok((t.element_count() > 0).then(|| t.to_f64()))
            }
        }
    };
    let (scales, sizes, roi) = if attribute_scales {
        let s = ctx
            .attr("scales")
            .map(|a| a.floats.iter().map(|&f| f as f64).collect());
        (s, None, None)
    } else if legacy {
        (floats(im, 1)?, None, None)
    } else {
        (floats(im, 2)?, floats(im, 3)?, floats(im, 1)?)
    };
    let axes = resized_axes(ctx, rank)?;
    let interp = interpolation(ctx, legacy)?;
    let (scale, out) = output_sizes(ctx, &shape, &axes, scales, sizes)?;
    // Each resized axis is a dense [out, in] matrix built here; refuse sizes no model has.
    const LIMIT: usize = 1 << 26;
    if axes
        .iter()
        .any(|&a| out[a] >= LIMIT || out[a].saturating_mul(shape[a]) >= LIMIT)
    {
        return Err(ctx.err(format!(
            "resizing {} to {} is too large",
            kiln_types::shape_string(&shape),
            kiln_types::shape_string(&out)
        )));
    }
    let roi = full_roi(ctx, rank, &axes, roi)?;
    let extrapolation = ctx.float("extrapolation_value", 0.0) as f64;
    let et = im.ty(x).element_type;
    if interp.mode != Mode::Nearest && !et.is_float() {
        return Err(ctx.err(format!("linear and cubic modes need float input, got {et}")));
    }
    let mut y = x;
    for &a in &axes {
        let region = [roi[a], roi[a + rank]];
        let identity = (scale[a] - 1.0).abs() <= 1e-9 && out[a] == shape[a] && region == [0.0, 1.0];
        if identity {
            continue;
        }
        let weights = axis_weights(&interp, shape[a], out[a], scale[a], region);
        y = apply_axis(im, ctx, y, a, &weights, extrapolation)?;
    }
    Ok(vec![Some(y)])
}

/// The axes a Resize node resizes: its `axes` attribute, or every dim.
pub(super) fn resized_axes(ctx: &NodeCtx, rank: usize) -> Result<Vec<usize>, ImportError> {
    let axes: Vec<usize> = match ctx.ints("axes") {
        None => (0..rank).collect(),
        Some(a) => a
            .iter()
            .map(|&v| {
                let n = if v < 0 { v + rank as i64 } else { v };
                usize::try_from(n)
                    .ok()
                    .filter(|&n| n < rank)
                    .ok_or_else(|| ctx.err(format!("axis {v} is out of range for rank {rank}")))
            })
            .collect::<Result<_, _>>()?,
    };
    if (1..axes.len()).any(|i| axes[..i].contains(&axes[i])) {
        return Err(ctx.err(format!("axes {axes:?} repeat an axis")));
    }
    Ok(axes)
}

/// Resize of an input whose size is known only at run time: nearest-neighbour upsampling by
/// whole scales (a detector's `Resize` ×2) where every output position `o` reads input
/// `⌊o / s⌋` at any size, which is each input repeated `s` times: a reshape, a broadcast and
/// a reshape per axis, over symbolic sizes. The coordinate transforms whose positions do not
/// depend on the size (`asymmetric`, `half_pixel`) qualify when the rounding maps them so,
/// checked on the reference positions of a few sizes; anything else names what it needs.
fn repeat_nearest(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    inputs: &[Option<ValueId>],
    legacy: bool,
) -> Outputs {
    let ty = im.ty(x).to_string();
    let unsupported = |what: &str| {
        ctx.err(format!(
            "resizing {ty} (a size known only at run time) supports nearest upsampling by \
             whole scales only: {what}"
        ))
    };
    let scale_input = if legacy { 1 } else { 2 };
    let sizes_given = !legacy
        && inputs
            .get(3)
            .copied()
            .flatten()
            .is_some_and(|v| im.const_of(v).is_none_or(|t| t.element_count() > 0));
    let scales = match (ctx.op_type == "Upsample" && ctx.opset < 9, sizes_given) {
        (true, _) => ctx
            .attr("scales")
            .map(|a| a.floats.iter().map(|&f| f as f64).collect()),
        (false, true) => return Err(unsupported("sizes are given")),
        (false, false) => inputs
            .get(scale_input)
            .copied()
            .flatten()
            .and_then(|v| im.const_of(v))
            .map(|t| t.to_f64()),
    };
    let rank = im.dims(x).len();
    let scales = scales
        .filter(|s| s.len() == rank && ctx.ints("axes").is_none())
        .ok_or_else(|| unsupported("scales must be a constant for every axis"))?;
    let interp = interpolation(ctx, legacy)?;
    let size_free = matches!(interp.transform.as_str(), "asymmetric" | "half_pixel");
    if interp.mode != Mode::Nearest || !size_free {
        return Err(unsupported(
            "the mode must be nearest, the transform asymmetric or half_pixel",
        ));
    }
    let mut y = x;
    for (a, &s) in scales.iter().enumerate() {
        if s == 1.0 {
            continue;
        }
        let whole = (s.fract() == 0.0 && (2.0..=64.0).contains(&s)).then_some(s as usize);
        let repeats = whole.filter(|&s| {
            [3, 4, 7].iter().all(|&n| {
                let w = axis_weights(&interp, n, n * s, s as f64, [0.0, 1.0]);
                w.iter()
                    .enumerate()
                    .all(|(o, w)| w.as_deref() == Some(&[(o / s, 1.0)][..]))
            })
        });
        let Some(s) = repeats else {
            return Err(unsupported(&format!(
                "scale {s} of axis {a} does not repeat each input a whole number of times"
            )));
        };
        y = repeat_axis(im, ctx, y, a, s)?;
    }
    Ok(vec![Some(y)])
}

/// `x` with each entry along `axis` repeated `s` times: a reshape, a broadcast and a
/// reshape, which become an elementwise copy (vectorised, fused with its neighbours) rather
/// than a gather of single elements.
fn repeat_axis(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axis: usize,
    s: usize,
) -> Result<ValueId, ImportError> {
    let mut dims = im.dims(x);
    let mut split = dims.clone();
    split.insert(axis + 1, Dim::Static(1));
    let y = reshape_dims(im, ctx, x, split.clone())?;
    split[axis + 1] = Dim::Static(s);
    let y = im.emit(ctx, OpKind::Broadcast { shape: split }, &[y])?;
    dims[axis] = match &dims[axis] {
        Dim::Static(n) => Dim::Static(n * s),
        Dim::Sym(e) => Dim::Sym(e.clone() * kiln_ir::SymExpr::from(s as i64)),
    };
    reshape_dims(im, ctx, y, dims)
}

pub(super) fn interpolation(ctx: &NodeCtx, legacy: bool) -> Result<Interpolation, ImportError> {
    let mode = match ctx.string("mode").as_deref().unwrap_or("nearest") {
        "nearest" => Mode::Nearest,
        "linear" | "bilinear" => Mode::Linear,
        "cubic" if !legacy => Mode::Cubic,
        other => return Err(ctx.err(format!("mode '{other}' is not supported"))),
    };
    let rounding = if legacy {
        Rounding::Legacy
    } else {
        match ctx
            .string("nearest_mode")
            .as_deref()
            .unwrap_or("round_prefer_floor")
        {
            "round_prefer_floor" => Rounding::PreferFloor,
            "round_prefer_ceil" => Rounding::PreferCeil,
            "floor" => Rounding::Floor,
            "ceil" => Rounding::Ceil,
            other => return Err(ctx.err(format!("nearest_mode '{other}' is not supported"))),
        }
    };
    let transform = if legacy {
        "asymmetric".to_string()
    } else {
        ctx.string("coordinate_transformation_mode")
            .unwrap_or_else(|| "half_pixel".into())
    };
    const TRANSFORMS: [&str; 6] = [
        "half_pixel",
        "half_pixel_symmetric",
        "pytorch_half_pixel",
        "align_corners",
        "asymmetric",
        "tf_crop_and_resize",
    ];
    if !TRANSFORMS.contains(&transform.as_str()) {
        return Err(ctx.err(format!(
            "coordinate_transformation_mode '{transform}' is not supported"
        )));
    }
    let antialias = ctx.int("antialias", 0) != 0;
    if antialias && mode == Mode::Nearest {
        return Err(ctx.err("antialias applies to linear and cubic modes only"));
    }
    Ok(Interpolation {
        mode,
        rounding,
        transform,
        cubic_a: ctx.float("cubic_coeff_a", -0.75) as f64,
        exclude_outside: ctx.int("exclude_outside", 0) != 0,
        antialias,
    })
}

/// Per dim: the scale the coordinate transform uses and the output size, from `scales` or
/// `sizes` (given for `axes`), honouring `keep_aspect_ratio_policy`.
fn output_sizes(
    ctx: &NodeCtx,
    shape: &[usize],
    axes: &[usize],
    scales: Option<Vec<f64>>,
    sizes: Option<Vec<f64>>,
) -> Result<(Vec<f64>, Vec<usize>), ImportError> {
    let mut scale = vec![1.0; shape.len()];
    let mut out = shape.to_vec();
    match (scales, sizes) {
        (Some(_), Some(_)) => Err(ctx.err("give scales or sizes, not both")),
        (None, None) => Err(ctx.err("scales or sizes is required")),
        (Some(s), None) => {
            if s.len() != axes.len() || s.iter().any(|&v| !(v > 0.0 && v.is_finite())) {
                return Err(ctx.err(format!(
                    "scales {s:?} must be {} positive values",
                    axes.len()
                )));
            }
            for (&a, &v) in axes.iter().zip(&s) {
                scale[a] = v;
                out[a] = (v * shape[a] as f64).floor() as usize;
            }
            Ok((scale, out))
        }
        (None, Some(s)) => {
            if s.len() != axes.len() || s.iter().any(|&v| v < 0.0) {
                return Err(ctx.err(format!("sizes {s:?} must be {} sizes", axes.len())));
            }
            if axes.iter().any(|&a| shape[a] == 0) {
                return Err(ctx.err("cannot resize an empty axis to a size"));
            }
            let ratio: Vec<f64> = axes
                .iter()
                .zip(&s)
                .map(|(&a, &v)| v / shape[a] as f64)
                .collect();
            let policy = ctx
                .string("keep_aspect_ratio_policy")
                .unwrap_or_else(|| "stretch".into());
            let common = match policy.as_str() {
                "stretch" => None,
                "not_larger" => ratio.iter().copied().reduce(f64::min),
                "not_smaller" => ratio.iter().copied().reduce(f64::max),
                other => {
                    return Err(ctx.err(format!(
                        "keep_aspect_ratio_policy '{other}' is not supported"
                    )))
                }
            };
            for (i, &a) in axes.iter().enumerate() {
                match common {
                    None => (scale[a], out[a]) = (ratio[i], s[i] as usize),
                    // Rounded half up, as ONNX's reference does.
                    Some(c) => (scale[a], out[a]) = (c, (c * shape[a] as f64 + 0.5) as usize),
                }
            }
            Ok((scale, out))
        }
    }
}

/// The region of interest per dim (`[starts..., ends...]`, the whole input by default).
fn full_roi(
    ctx: &NodeCtx,
    rank: usize,
    axes: &[usize],
    roi: Option<Vec<f64>>,
) -> Result<Vec<f64>, ImportError> {
    let mut full = [vec![0.0; rank], vec![1.0; rank]].concat();
    let transform_uses_roi =
        ctx.string("coordinate_transformation_mode").as_deref() == Some("tf_crop_and_resize");
    if let (Some(r), true) = (roi, transform_uses_roi) {
        if r.len() != 2 * axes.len() {
            return Err(ctx.err(format!(
                "roi needs {} values, got {}",
                2 * axes.len(),
                r.len()
            )));
        }
        for (i, &a) in axes.iter().enumerate() {
            full[a] = r[i];
            full[rank + a] = r[axes.len() + i];
        }
    }
    Ok(full)
}

/// The weights of one axis resized from `input` to `output` positions.
fn axis_weights(
    interp: &Interpolation,
    input: usize,
    output: usize,
    scale: f64,
    roi: [f64; 2],
) -> AxisWeights {
    let (len, out_f) = (input as f64, scale * input as f64);
    (0..output)
        .map(|y| {
            let y = y as f64;
            let x = match interp.transform.as_str() {
                "align_corners" if out_f == 1.0 => 0.0,
                "align_corners" => y * (len - 1.0) / (out_f - 1.0),
                "asymmetric" => y / scale,
                "tf_crop_and_resize" => {
                    let span = roi[1] - roi[0];
                    let x = if out_f == 1.0 {
                        span * (len - 1.0) / 2.0
                    } else {
                        y * span * (len - 1.0) / (out_f - 1.0)
                    } + roi[0] * (len - 1.0);
                    if x < 0.0 || x > len - 1.0 {
                        return None;
                    }
                    x
                }
                "pytorch_half_pixel" if out_f == 1.0 => -0.5,
                "half_pixel_symmetric" => {
                    let offset = len / 2.0 * (1.0 - output as f64 / out_f);
                    offset + (y + 0.5) / scale - 0.5
                }
                _ => (y + 0.5) / scale - 0.5,
            };
            let ratio = if x == x.floor() { 1.0 } else { x - x.floor() };
            let mut coeffs = coefficients(interp, ratio, scale);
            let n = coeffs.len() as i64;
            // The n positions nearest to x, preferring smaller ones, as ONNX's reference picks
            // them from an edge-padded input.
            let pad = (n + 1) / 2;
            let xp = x + pad as f64;
            let (p, frac) = (xp.floor() as i64, xp - xp.floor());
            let offset = if n % 2 == 0 {
                if frac == 0.0 {
                    -(n / 2)
                } else {
                    -(n / 2) + 1
                }
            } else if frac <= 0.5 {
                -((n - 1) / 2)
            } else {
                -((n - 1) / 2) + 1
            };
            let start = p + offset - pad;
            let positions: Vec<i64> = (0..n).map(|j| start + j).collect();
            if interp.exclude_outside {
                for (c, &i) in coeffs.iter_mut().zip(&positions) {
                    if i < 0 || i >= input as i64 {
                        *c = 0.0;
                    }
                }
                let sum: f64 = coeffs.iter().sum();
                let sum = if sum == 0.0 { 1.0 } else { sum };
                coeffs.iter_mut().for_each(|c| *c /= sum);
            }
            Some(
                positions
                    .iter()
                    .zip(&coeffs)
                    .filter(|(_, &c)| c != 0.0)
                    .map(|(&i, &c)| (i.clamp(0, input as i64 - 1) as usize, c))
                    .collect(),
            )
        })
        .collect()
}

/// The interpolation coefficients of the window around a position `ratio` past its floor
/// (`ratio` in `(0, 1]`).
fn coefficients(interp: &Interpolation, ratio: f64, scale: f64) -> Vec<f64> {
    let a = interp.cubic_a;
    match interp.mode {
        Mode::Nearest => {
            let ceil = if ratio == 1.0 {
                true
            } else {
                match interp.rounding {
                    Rounding::PreferFloor => ratio > 0.5,
                    Rounding::PreferCeil => ratio >= 0.5,
                    Rounding::Floor => false,
                    Rounding::Ceil => true,
                    Rounding::Legacy => scale < 1.0,
                }
            };
            vec![f64::from(u8::from(!ceil)), f64::from(u8::from(ceil))]
        }
        Mode::Linear if interp.antialias => {
            let s = scale.min(1.0);
            let start = (-1.0 / s).floor() as i64 + 1;
            let footprint = 2 - 2 * start;
            let c: Vec<f64> = (start..start + footprint)
                .map(|i| (1.0 - ((i as f64 - ratio) * s).abs()).clamp(0.0, 1.0))
                .collect();
            normalised(c)
        }
        Mode::Linear => vec![1.0 - ratio, ratio],
        Mode::Cubic if interp.antialias => {
            let s = scale.min(1.0);
            let start = (-2.0 / s).floor() as i64 + 1;
            let c: Vec<f64> = (start..2 - start)
                .map(|i| cubic((s * (i as f64 - ratio)).abs(), a))
                .collect();
            normalised(c)
        }
        Mode::Cubic => [ratio + 1.0, ratio, 1.0 - ratio, 2.0 - ratio]
            .iter()
            .map(|&d| cubic(d, a))
            .collect(),
    }
}

/// Keys' cubic convolution kernel at distance `x` with parameter `a`.
fn cubic(x: f64, a: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

fn normalised(c: Vec<f64>) -> Vec<f64> {
    let sum: f64 = c.iter().sum();
    c.into_iter().map(|v| v / sum).collect()
}

/// Applies one axis's weights to `x`: a Gather where every output reads one input with
/// weight 1, else a matmul with the `[out, in]` weight matrix.
fn apply_axis(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axis: usize,
    weights: &AxisWeights,
    extrapolation: f64,
) -> Result<ValueId, ImportError> {
    let shape = im.shape(ctx, x)?;
    let (input, output) = (shape[axis], weights.len());
    let et = im.ty(x).element_type;
    let mut out_shape = shape.clone();
    out_shape[axis] = output;
    let picks: Option<Vec<i64>> = weights
        .iter()
        .map(|w| match w.as_deref() {
            Some([(i, c)]) if *c == 1.0 => Some(*i as i64),
            None => Some(0),
            _ => None,
        })
        .collect();
    // Output `o` reading input `o / s` (nearest upsampling by a whole scale) repeats each
    // input `s` times.
    let repeats = (output % input.max(1) == 0 && output > input)
        .then(|| output / input)
        .filter(|&s| {
            picks
                .as_ref()
                .is_some_and(|p| (0..output).all(|o| p[o] == (o / s) as i64))
        });
    let y = match (picks, repeats) {
        (Some(_), Some(s)) => repeat_axis(im, ctx, x, axis, s)?,
        (Some(indices), None) => {
            let idx = im.constant(HostTensor::from_i64(&[output], &indices), &ctx.name);
            im.emit(ctx, OpKind::Gather { axis }, &[x, idx])?
        }
        (None, _) => {
            let mut matrix = vec![0.0; output * input];
            for (row, w) in weights.iter().enumerate() {
                for &(col, c) in w.iter().flatten() {
                    matrix[row * input + col] += c;
                }
            }
            let pre: usize = shape[..axis].iter().product();
            let post: usize = shape[axis + 1..].iter().product();
            let w = im.constant(
                HostTensor::from_f64(et, &[output, input], &matrix),
                &ctx.name,
            );
            let y = if post == 1 {
                // The last axis: one GEMM, [pre, in] · [in, out] (the transpose folds here).
                let wt = im.emit(ctx, OpKind::Transpose { perm: vec![1, 0] }, &[w])?;
                let x2 = reshape_to(im, ctx, x, vec![pre, input])?;
                im.emit(ctx, OpKind::MatMul, &[x2, wt])?
            } else {
                let x3 = reshape_to(im, ctx, x, vec![pre, input, post])?;
                im.emit(ctx, OpKind::MatMul, &[w, x3])?
            };
            reshape_to(im, ctx, y, out_shape.clone())?
        }
    };
    if weights.iter().all(Option::is_some) {
        return Ok(y);
    }
    // Positions outside the crop take the extrapolation value.
    let mut mask_shape = vec![1; shape.len()];
    mask_shape[axis] = output;
    let outside: Vec<f64> = weights
        .iter()
        .map(|w| f64::from(u8::from(w.is_none())))
        .collect();
    let mask = im.constant(
        HostTensor::from_f64(ElementType::I1, &mask_shape, &outside),
        &ctx.name,
    );
    let value = im.constant(HostTensor::from_f64(et, &[], &[extrapolation]), &ctx.name);
    im.emit(ctx, OpKind::Select, &[mask, value, y])
}
