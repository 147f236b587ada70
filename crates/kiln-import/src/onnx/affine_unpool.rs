//! AffineGrid and MaxUnpool: ops whose output size an input gives as data (read as sizes,
//! see [`super::data_sizes`]), built from positions over those sizes.

use super::ops::size_scalar;
use super::ops::{arg, bin, cast_to, reshape_dims, size_dim, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{dims_product, BinaryOp, Dim, OpKind, ReduceKind, ValueId};
use kiln_types::{ElementType, HostTensor};

/// A size as an f32 scalar value.
fn size_f32(im: &mut Importer, ctx: &NodeCtx, d: &Dim) -> Result<ValueId, ImportError> {
    let v = size_scalar(im, ctx, d.expr());
    cast_to(im, ctx, v, ElementType::F32)
}

fn f32_scalar(im: &mut Importer, ctx: &NodeCtx, v: f64) -> ValueId {
    im.constant(HostTensor::from_f64(ElementType::F32, &[], &[v]), &ctx.name)
}

/// AffineGrid (opset 20): `theta` (`[N, r, r+1]`) applied to the normalised coordinates
/// `(x, y[, z], 1)` of every position of the 2-D or 3-D `size` (`[N, C, (D,) H, W]`), giving
/// `[N, (D,) H, W, r]`. Coordinates run from −1 to 1 over the corners (`align_corners`) or
/// over the pixels' centres.
pub(super) fn affine_grid(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let mut inputs = inputs.to_vec();
    let sizes = im.shape_input(ctx, &mut inputs, 1)?;
    let theta = arg(ctx, &inputs, 0)?;
    let r = sizes.values.len().saturating_sub(2);
    if !(2..=3).contains(&r) {
        return Err(ctx.err(format!(
            "size must give N, C and 2 or 3 spatial dims, got {} values",
            sizes.values.len()
        )));
    }
    let spatial: Vec<Dim> = sizes.values[2..]
        .iter()
        .map(|e| size_dim(ctx, e))
        .collect::<Result<_, _>>()?;
    let align = ctx.int("align_corners", 0) != 0;
    let mut parts = vec![];
    // x runs along the last dim, y the one before, z the first.
    for k in (0..r).rev() {
        let len = &spatial[k];
        let at = im.emit(
            ctx,
            OpKind::Iota {
                shape: vec![len.clone()],
                axis: 0,
            },
            &[],
        )?;
        let at = cast_to(im, ctx, at, ElementType::F32)?;
        let l = size_f32(im, ctx, len)?;
        let (one_, two) = (f32_scalar(im, ctx, 1.0), f32_scalar(im, ctx, 2.0));
        let coord = if align {
            // −1 + 2i / (L − 1), and −1 for a single position.
            let span = bin(im, ctx, BinaryOp::Sub, l, one_)?;
            let c = bin(im, ctx, BinaryOp::Mul, at, two)?;
            let c = bin(im, ctx, BinaryOp::Div, c, span)?;
            let c = bin(im, ctx, BinaryOp::Sub, c, one_)?;
            let single = bin(im, ctx, BinaryOp::Equal, l, one_)?;
            let minus_one = f32_scalar(im, ctx, -1.0);
            im.emit(ctx, OpKind::Select, &[single, minus_one, c])?
        } else {
            // (2i + 1) / L − 1
            let c = bin(im, ctx, BinaryOp::Mul, at, two)?;
            let c = bin(im, ctx, BinaryOp::Add, c, one_)?;
            let c = bin(im, ctx, BinaryOp::Div, c, l)?;
            bin(im, ctx, BinaryOp::Sub, c, one_)?
        };
        let mut shape = vec![Dim::Static(1); r + 1];
        shape[k] = len.clone();
        let coord = reshape_dims(im, ctx, coord, shape)?;
        let mut full = spatial.clone();
        full.push(Dim::Static(1));
        parts.push(im.emit(ctx, OpKind::Broadcast { shape: full }, &[coord])?);
    }
    let mut full = spatial.clone();
    full.push(Dim::Static(1));
    let ones = f32_scalar(im, ctx, 1.0);
    parts.push(im.emit(ctx, OpKind::Broadcast { shape: full }, &[ones])?);
    let base = im.emit(ctx, OpKind::Concat { axis: r }, &parts)?;
    let points =
        Dim::from_expr(dims_product(&spatial)).ok_or_else(|| ctx.err("size is too large"))?;
    let base = reshape_dims(im, ctx, base, vec![points, Dim::Static(r + 1)])?;
    let et = im.ty(theta).element_type;
    let theta = cast_to(im, ctx, theta, ElementType::F32)?;
    let theta_t = im.emit(
        ctx,
        OpKind::Transpose {
            perm: vec![0, 2, 1],
        },
        &[theta],
    )?;
    let grid = im.emit(ctx, OpKind::MatMul, &[base, theta_t])?;
    let n = im.dims(grid)[0].clone();
    let out = [vec![n], spatial, vec![Dim::Static(r)]].concat();
    let grid = reshape_dims(im, ctx, grid, out)?;
    Ok(vec![Some(cast_to(im, ctx, grid, et)?)])
}

/// MaxUnpool: each input value written at its index into the flattened output, zeros
/// elsewhere. Indices count positions of the default output (from the kernel, strides and
/// pads); an output shape given as data places those positions at the same coordinates of
/// the larger output. Each output element is matched against every index (output × input
/// work, for the small pooled maps this op unpools).
pub(super) fn max_unpool(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let mut inputs = inputs.to_vec();
    let given: Option<Vec<Dim>> = match inputs.get(2).copied().flatten() {
        Some(_) => Some(
            im.shape_input(ctx, &mut inputs, 2)?
                .values
                .iter()
                .map(|e| size_dim(ctx, e))
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    let (x, indices) = (arg(ctx, &inputs, 0)?, arg(ctx, &inputs, 1)?);
    let default = default_unpooled(im, ctx, x)?;
    let count = Dim::from_expr(dims_product(&im.dims(x))).ok_or_else(|| ctx.err("too large"))?;
    let values = reshape_dims(im, ctx, x, vec![Dim::Static(1), count.clone()])?;
    let mut indices = cast_to(im, ctx, indices, ElementType::I64)?;
    let out = match given {
        None => default.iter().map(|&d| Dim::Static(d)).collect(),
        Some(out) => {
            if out.len() != default.len() {
                return Err(ctx.err(format!(
                    "output_shape has {} dims for a rank-{} input",
                    out.len(),
                    default.len()
                )));
            }
            indices = reravel(im, ctx, indices, &default, &out)?;
            out
        }
    };
    let total = Dim::from_expr(dims_product(&out)).ok_or_else(|| ctx.err("too large"))?;
    let indices = reshape_dims(im, ctx, indices, vec![Dim::Static(1), count])?;
    let at = im.emit(
        ctx,
        OpKind::Iota {
            shape: vec![total, Dim::Static(1)],
            axis: 0,
        },
        &[],
    )?;
    let hit = bin(im, ctx, BinaryOp::Equal, at, indices)?;
    let zero = super::ops::scalar_like(im, ctx, x, 0.0);
    let written = im.emit(ctx, OpKind::Select, &[hit, values, zero])?;
    let kind = OpKind::Reduce {
        kind: ReduceKind::Sum,
        axes: vec![1],
        keep_dims: false,
    };
    let flat = im.emit(ctx, kind, &[written])?;
    Ok(vec![Some(reshape_dims(im, ctx, flat, out)?)])
}

/// The output dims MaxUnpool gives by default: `(in − 1)·stride − pads + kernel` per spatial
/// dim.
fn default_unpooled(im: &Importer, ctx: &NodeCtx, x: ValueId) -> Result<Vec<usize>, ImportError> {
    let dims = im
        .ty(x)
        .static_shape()
        .ok_or_else(|| ctx.err("MaxUnpool needs its input's dims when compiling"))?;
    let spatial = dims.len().saturating_sub(2);
    let kernel = ctx
        .ints("kernel_shape")
        .filter(|k| k.len() == spatial)
        .ok_or_else(|| ctx.err("kernel_shape must give every spatial dim"))?;
    let strides = ctx.ints("strides").unwrap_or_else(|| vec![1; spatial]);
    let pads = ctx.ints("pads").unwrap_or_else(|| vec![0; 2 * spatial]);
    let mut out = dims[..2].to_vec();
    for i in 0..spatial {
        let size = (dims[i + 2] as i64 - 1) * strides[i] - pads[i] - pads[i + spatial] + kernel[i];
        out.push(
            usize::try_from(size)
                .map_err(|_| ctx.err(format!("the output's dim {} would be negative", i + 2)))?,
        );
    }
    Ok(out)
}

/// Flat positions of `from` (static dims) moved to the same coordinates of `to`.
fn reravel(
    im: &mut Importer,
    ctx: &NodeCtx,
    flat: ValueId,
    from: &[usize],
    to: &[Dim],
) -> Result<ValueId, ImportError> {
    let mut out: Option<ValueId> = None;
    for d in 0..from.len() {
        let stride: usize = from[d + 1..].iter().product();
        let coord = super::data_counts::coordinate(im, ctx, flat, stride, from[d])?;
        let to_stride = size_scalar(im, ctx, dims_product(&to[d + 1..]));
        let term = bin(im, ctx, BinaryOp::Mul, coord, to_stride)?;
        out = Some(match out {
            None => term,
            Some(o) => bin(im, ctx, BinaryOp::Add, o, term)?,
        });
    }
    out.ok_or_else(|| ctx.err("MaxUnpool needs a ranked input"))
}
