//! Signal windows (HannWindow, HammingWindow, BlackmanWindow, opset 17): sums of cosines of
//! each position, `Σ aₖ · cos(2πk·n / N)`, over a length given as data (read as a size, see
//! [`super::data_sizes`]) or known now. `periodic` (the default) divides by the length,
//! otherwise by one less, for a symmetric window. MelWeightMatrix's filter bank, from
//! constants, is made here too.

use super::ops::size_scalar;
use super::ops::{arg, bin, cast_to, const_arg, one, scalar_like, size_dim, un, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, OpKind, SymExpr, UnaryOp, ValueId};
use kiln_types::{ElementType, HostTensor};
use std::f64::consts::PI;

/// The cosine coefficients `a₀, a₁, a₂` of a window op.
fn coefficients(op: &str) -> [f64; 3] {
    match op {
        "HannWindow" => [0.5, -0.5, 0.0],
        "HammingWindow" => [25.0 / 46.0, -21.0 / 46.0, 0.0],
        _ => [0.42, -0.5, 0.08],
    }
}

pub(super) fn window(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let size = arg(ctx, inputs, 0)?;
    let n = match im.shape_value(size) {
        Some(s) => s,
        None => im.sizes_from_data(ctx, size)?,
    };
    let len = n
        .values
        .first()
        .cloned()
        .ok_or_else(|| ctx.err("the size is empty"))?;
    let to = super::element_type(ctx.int("output_datatype", 1) as i32).map_err(|m| ctx.err(m))?;
    let periodic = ctx.int("periodic", 1) != 0;
    let period = if periodic {
        len.clone()
    } else {
        len.clone() - SymExpr::from(1)
    };
    let shape = vec![size_dim(ctx, &len)?];
    let at = im.emit(ctx, OpKind::Iota { shape, axis: 0 }, &[])?;
    let at = cast_to(im, ctx, at, ElementType::F32)?;
    let period = size_scalar(im, ctx, period);
    let period = cast_to(im, ctx, period, ElementType::F32)?;
    // The phase 2π·n / N of each position.
    let two_pi = scalar_like(im, ctx, at, 2.0 * PI);
    let phase = bin(im, ctx, BinaryOp::Mul, at, two_pi)?;
    let phase = bin(im, ctx, BinaryOp::Div, phase, period)?;
    let [a0, a1, a2] = coefficients(ctx.op_type);
    let mut w = scalar_like(im, ctx, at, a0);
    for (k, a) in [(1.0, a1), (2.0, a2)] {
        if a == 0.0 {
            continue;
        }
        let k = scalar_like(im, ctx, at, k);
        let kp = bin(im, ctx, BinaryOp::Mul, phase, k)?;
        let c = un(im, ctx, UnaryOp::Cos, kp)?;
        let a = scalar_like(im, ctx, at, a);
        let term = bin(im, ctx, BinaryOp::Mul, c, a)?;
        w = bin(im, ctx, BinaryOp::Add, w, term)?;
    }
    one(cast_to(im, ctx, w, to)?)
}

/// MelWeightMatrix (17): the `[dft_length / 2 + 1, num_mel_bins]` matrix of triangular
/// filters that maps a one-sided spectrum to mel bands, computed while compiling (as ONNX's
/// reference does, in f64) from its inputs, which must be constants.
pub(super) fn mel_weight_matrix(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let mut values = [0.0; 5];
    for (i, v) in values.iter_mut().enumerate() {
        let t = const_arg(im, ctx, inputs, i)?
            .ok_or_else(|| ctx.err(format!("input {i} is required")))?;
        *v = *t
            .to_f64()
            .first()
            .ok_or_else(|| ctx.err(format!("input {i} is empty")))?;
    }
    let [mel_bins, dft_length, sample_rate, lower, upper] = values;
    let positive = |v: f64, name: &str| {
        (v >= 1.0 && v <= (1 << 24) as f64)
            .then_some(v as usize)
            .ok_or_else(|| ctx.err(format!("{name} {v} must be a positive count")))
    };
    let (mel_bins, dft_length) = (
        positive(mel_bins, "num_mel_bins")?,
        positive(dft_length, "dft_length")?,
    );
    let sample_rate = positive(sample_rate, "sample_rate")? as f64;
    let spectrum_bins = dft_length / 2 + 1;
    let mel = |hz: f64| 2595.0 * (hz / 700.0).ln_1p() / 10f64.ln();
    let (low, high) = (mel(lower), mel(upper));
    let step = (high - low) / (mel_bins + 2) as f64;
    // The spectrum bin of each filter edge: mel_bins + 2 equally spaced mel frequencies.
    let edges: Vec<i64> = (0..mel_bins + 2)
        .map(|i| {
            let hz = 700.0 * ((i as f64 * step + low) / 2595.0 * 10f64.ln()).exp_m1();
            ((dft_length + 1) as f64 * hz / sample_rate).floor() as i64
        })
        .collect();
    let mut w = vec![0.0; spectrum_bins * mel_bins];
    let mut set = |j: i64, i: usize, v: f64| -> Result<(), ImportError> {
        let row = usize::try_from(j)
            .ok()
            .filter(|&j| j < spectrum_bins)
            .ok_or_else(|| {
                ctx.err(format!(
                    "mel band {i} reaches spectrum bin {j}, outside 0..{spectrum_bins} (check the edge frequencies against the sample rate)"
                ))
            })?;
        w[row * mel_bins + i] = v;
        Ok(())
    };
    for i in 0..mel_bins {
        let (left, center, right) = (edges[i], edges[i + 1], edges[i + 2]);
        if center == left {
            set(center, i, 1.0)?;
        } else {
            for j in left..=center {
                set(j, i, (j - left) as f64 / (center - left) as f64)?;
            }
        }
        for j in center..right {
            set(j, i, (right - j) as f64 / (right - center) as f64)?;
        }
    }
    let to = super::element_type(ctx.int("output_datatype", 1) as i32).map_err(|m| ctx.err(m))?;
    let t = HostTensor::from_f64(to, &[spectrum_bins, mel_bins], &w);
    one(im.constant(t, &ctx.name))
}
