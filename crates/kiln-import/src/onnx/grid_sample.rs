//! GridSample over 2-D images and 3-D volumes, composed from elementwise ops and Gathers.
//!
//! Each output position's sampling point is computed elementwise from the grid (denormalised
//! for `align_corners`, rounded for nearest, brought inside the image by the padding mode),
//! then each interpolation tap (1 nearest, 2×2 linear, 4×4 cubic) reads the image through a
//! Gather at a flat index `((n·C + c)·H + y)·W + x`, with taps outside the image reading zero
//! (`zeros`), the edge (`border`) or the reflection (`reflection`), as ONNX's reference does.
//! DeformConv samples its taps' moved positions the same way.

use super::ops::{arg, bin, reshape_to, scalar_like, un, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, OpKind, UnaryOp, ValueId};
use kiln_types::{ElementType, HostTensor};

#[derive(Clone, Copy, PartialEq)]
enum Padding {
    Zeros,
    Border,
    Reflection,
}

/// Elementwise helpers over one node.
struct Ops<'a> {
    ctx: &'a NodeCtx<'a>,
}

impl Ops<'_> {
    fn b(
        &self,
        im: &mut Importer,
        op: BinaryOp,
        a: ValueId,
        b: ValueId,
    ) -> Result<ValueId, ImportError> {
        bin(im, self.ctx, op, a, b)
    }
    fn c(&self, im: &mut Importer, like: ValueId, v: f64) -> ValueId {
        scalar_like(im, self.ctx, like, v)
    }
    fn select(
        &self,
        im: &mut Importer,
        c: ValueId,
        a: ValueId,
        b: ValueId,
    ) -> Result<ValueId, ImportError> {
        im.emit(self.ctx, OpKind::Select, &[c, a, b])
    }
    /// `v - n·floor(v / n)`.
    fn floor_rem(&self, im: &mut Importer, v: ValueId, n: ValueId) -> Result<ValueId, ImportError> {
        let q = self.b(im, BinaryOp::Div, v, n)?;
        let q = un(im, self.ctx, UnaryOp::Floor, q)?;
        let t = self.b(im, BinaryOp::Mul, q, n)?;
        self.b(im, BinaryOp::Sub, v, t)
    }

    /// ONNX's reflection of `x` into `[lo, hi]` (by the near border, repeatedly).
    fn reflect(
        &self,
        im: &mut Importer,
        x: ValueId,
        lo: f64,
        hi: f64,
    ) -> Result<ValueId, ImportError> {
        let span = hi - lo;
        let (lo_v, hi_v, span_v) = (self.c(im, x, lo), self.c(im, x, hi), self.c(im, x, span));
        let two = self.c(im, x, 2.0);
        let reflect_side = |im: &mut Importer,
                            dx: ValueId,
                            near: ValueId,
                            far: ValueId,
                            toward_far: BinaryOp|
         -> Result<ValueId, ImportError> {
            // n = floor(dx / span), r = dx - n·span; n even: near ∓ r, odd: far ± r.
            let n = self.b(im, BinaryOp::Div, dx, span_v)?;
            let n = un(im, self.ctx, UnaryOp::Floor, n)?;
            let ns = self.b(im, BinaryOp::Mul, n, span_v)?;
            let r = self.b(im, BinaryOp::Sub, dx, ns)?;
            let parity = self.floor_rem(im, n, two)?;
            let zero = self.c(im, x, 0.0);
            let even = self.b(im, BinaryOp::Equal, parity, zero)?;
            let from_near = self.b(im, toward_far, near, r)?;
            let back = if toward_far == BinaryOp::Add {
                BinaryOp::Sub
            } else {
                BinaryOp::Add
            };
            let from_far = self.b(im, back, far, r)?;
            self.select(im, even, from_near, from_far)
        };
        let below = self.b(im, BinaryOp::Less, x, lo_v)?;
        let dx_lo = self.b(im, BinaryOp::Sub, lo_v, x)?;
        let from_lo = reflect_side(im, dx_lo, lo_v, hi_v, BinaryOp::Add)?;
        let above = self.b(im, BinaryOp::Greater, x, hi_v)?;
        let dx_hi = self.b(im, BinaryOp::Sub, x, hi_v)?;
        let from_hi = reflect_side(im, dx_hi, hi_v, lo_v, BinaryOp::Sub)?;
        let t = self.select(im, above, from_hi, x)?;
        self.select(im, below, from_lo, t)
    }

    fn clamp(
        &self,
        im: &mut Importer,
        x: ValueId,
        lo: f64,
        hi: f64,
    ) -> Result<ValueId, ImportError> {
        let (l, h) = (self.c(im, x, lo), self.c(im, x, hi));
        let t = self.b(im, BinaryOp::Max, x, l)?;
        self.b(im, BinaryOp::Min, t, h)
    }
}

/// One sampled dim: its length and the padding rules.
struct Axis {
    len: usize,
    align_corners: bool,
    padding: Padding,
}

impl Axis {
    /// The border a sampling point is brought inside of.
    fn border(&self) -> (f64, f64) {
        if self.align_corners {
            (0.0, self.len as f64 - 1.0)
        } else {
            (-0.5, self.len as f64 - 0.5)
        }
    }

    /// The sampling point from normalised coordinates `g` (`[-1, 1]` spans the image).
    fn point(
        &self,
        im: &mut Importer,
        o: &Ops,
        g: ValueId,
        round: bool,
    ) -> Result<ValueId, ImportError> {
        let l = self.len as f64;
        let one = o.c(im, g, 1.0);
        let t = o.b(im, BinaryOp::Add, g, one)?;
        let x = if self.align_corners {
            let s = o.c(im, g, (l - 1.0) / 2.0);
            o.b(im, BinaryOp::Mul, t, s)?
        } else {
            let (s, half) = (o.c(im, g, l / 2.0), o.c(im, g, 0.5));
            let t = o.b(im, BinaryOp::Mul, t, s)?;
            o.b(im, BinaryOp::Sub, t, half)?
        };
        let x = if round {
            un(im, o.ctx, UnaryOp::Round, x)?
        } else {
            x
        };
        let (lo, hi) = self.border();
        match self.padding {
            Padding::Zeros => Ok(x),
            // Only points beyond the border move (to the nearest pixel centre); cubic weights
            // see the difference between -0.3 and 0.
            Padding::Border => {
                let (lo_v, hi_v) = (o.c(im, x, lo), o.c(im, x, hi));
                let below = o.b(im, BinaryOp::Less, x, lo_v)?;
                let above = o.b(im, BinaryOp::Greater, x, hi_v)?;
                let outside = o.b(im, BinaryOp::Or, below, above)?;
                let clamped = o.clamp(im, x, 0.0, l - 1.0)?;
                o.select(im, outside, clamped, x)
            }
            Padding::Reflection => o.reflect(im, x, lo, hi),
        }
    }

    /// For an integral tap position `i`: the position read and whether it is inside the
    /// image (always, except with zeros padding).
    fn tap(
        &self,
        im: &mut Importer,
        o: &Ops,
        i: ValueId,
    ) -> Result<(ValueId, Option<ValueId>), ImportError> {
        let l = self.len as f64;
        match self.padding {
            Padding::Zeros => {
                let (zero, len) = (o.c(im, i, 0.0), o.c(im, i, l));
                let below = o.b(im, BinaryOp::Less, i, zero)?;
                let not_below = un(im, o.ctx, UnaryOp::Not, below)?;
                let under = o.b(im, BinaryOp::Less, i, len)?;
                let inside = o.b(im, BinaryOp::And, not_below, under)?;
                Ok((o.clamp(im, i, 0.0, l - 1.0)?, Some(inside)))
            }
            Padding::Border => Ok((o.clamp(im, i, 0.0, l - 1.0)?, None)),
            Padding::Reflection => {
                let (lo, hi) = self.border();
                let r = o.reflect(im, i, lo, hi)?;
                // int() truncates toward zero; the reflected value is within [-0.5, l - 0.5].
                let t = un(im, o.ctx, UnaryOp::Abs, r)?;
                let t = un(im, o.ctx, UnaryOp::Floor, t)?;
                let s = un(im, o.ctx, UnaryOp::Sign, r)?;
                let r = o.b(im, BinaryOp::Mul, t, s)?;
                Ok((o.clamp(im, r, 0.0, l - 1.0)?, None))
            }
        }
    }
}

/// Keys' cubic convolution weight (A = -0.75) at distance `d`.
fn cubic_weight(im: &mut Importer, o: &Ops, d: ValueId) -> Result<ValueId, ImportError> {
    let a = -0.75;
    let d = un(im, o.ctx, UnaryOp::Abs, d)?;
    let d2 = o.b(im, BinaryOp::Mul, d, d)?;
    let d3 = o.b(im, BinaryOp::Mul, d2, d)?;
    let term =
        |im: &mut Importer, c3: f64, c2: f64, c1: f64, c0: f64| -> Result<ValueId, ImportError> {
            let (k3, k2, k1, k0) = (
                o.c(im, d, c3),
                o.c(im, d, c2),
                o.c(im, d, c1),
                o.c(im, d, c0),
            );
            let t3 = o.b(im, BinaryOp::Mul, d3, k3)?;
            let t2 = o.b(im, BinaryOp::Mul, d2, k2)?;
            let t1 = o.b(im, BinaryOp::Mul, d, k1)?;
            let s = o.b(im, BinaryOp::Add, t3, t2)?;
            let s = o.b(im, BinaryOp::Add, s, t1)?;
            o.b(im, BinaryOp::Add, s, k0)
        };
    let near = term(im, a + 2.0, -(a + 3.0), 0.0, 1.0)?;
    let far = term(im, a, -5.0 * a, 8.0 * a, -4.0 * a)?;
    let (one, two, zero) = (o.c(im, d, 1.0), o.c(im, d, 2.0), o.c(im, d, 0.0));
    let is_near = o.b(im, BinaryOp::Greater, d, one)?;
    let is_near = un(im, o.ctx, UnaryOp::Not, is_near)?;
    let is_far = o.b(im, BinaryOp::Less, d, two)?;
    let t = o.select(im, is_far, far, zero)?;
    o.select(im, is_near, near, t)
}

/// Per tap of one axis: position (integral, float) and weight.
fn taps(
    im: &mut Importer,
    o: &Ops,
    x: ValueId,
    mode: &str,
) -> Result<Vec<(ValueId, ValueId)>, ImportError> {
    if mode == "nearest" {
        let one = o.c(im, x, 1.0);
        return Ok(vec![(x, one)]);
    }
    let x0 = un(im, o.ctx, UnaryOp::Floor, x)?;
    let frac = o.b(im, BinaryOp::Sub, x, x0)?;
    let offsets: &[f64] = if mode == "linear" {
        &[0.0, 1.0]
    } else {
        &[-1.0, 0.0, 1.0, 2.0]
    };
    let mut out = vec![];
    for &k in offsets {
        let kv = o.c(im, x, k);
        let pos = o.b(im, BinaryOp::Add, x0, kv)?;
        let dist = o.b(im, BinaryOp::Sub, frac, kv)?;
        let w = if mode == "linear" {
            let one = o.c(im, x, 1.0);
            let d = un(im, o.ctx, UnaryOp::Abs, dist)?;
            o.b(im, BinaryOp::Sub, one, d)?
        } else {
            cubic_weight(im, o, dist)?
        };
        out.push((pos, w));
    }
    Ok(out)
}

pub(super) fn grid_sample(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, grid) = (arg(ctx, inputs, 0)?, arg(ctx, inputs, 1)?);
    let xs = im.shape(ctx, x)?;
    let gs = im.shape(ctx, grid)?;
    // Spatial dims: 2 (images) or 3 (volumes).
    let r = xs.len().saturating_sub(2);
    if !(r == 2 || r == 3) {
        return Err(ctx.err(format!(
            "only 4-D input (2-D images) and 5-D input (volumes) are supported, got {}",
            im.ty(x)
        )));
    }
    let (n, spatial) = (xs[0], &xs[2..]);
    if gs.len() != r + 2
        || gs[0] != n
        || gs[r + 1] != r
        || !im.ty(x).element_type.is_float()
        || im.ty(grid).element_type != im.ty(x).element_type
    {
        return Err(ctx.err(format!(
            "the grid {} does not fit the input {}",
            im.ty(grid),
            im.ty(x)
        )));
    }
    let out_spatial = &gs[1..=r];
    let mode = match ctx.string("mode").as_deref().unwrap_or(if ctx.opset >= 20 {
        "linear"
    } else {
        "bilinear"
    }) {
        "linear" | "bilinear" => "linear",
        "nearest" => "nearest",
        "cubic" | "bicubic" if r == 2 => "cubic",
        other => {
            return Err(ctx.err(format!(
                "mode '{other}' is not supported for {r}-D sampling"
            )))
        }
    };
    let padding = match ctx.string("padding_mode").as_deref().unwrap_or("zeros") {
        "zeros" => Padding::Zeros,
        "border" => Padding::Border,
        "reflection" => Padding::Reflection,
        other => return Err(ctx.err(format!("padding_mode '{other}' is not supported"))),
    };
    let align_corners = ctx.int("align_corners", 0) != 0;
    let o = Ops { ctx };
    // Grid component k as [N, 1, out...]: component 0 is the last spatial axis (width).
    let mut coord_shape = vec![n, 1];
    coord_shape.extend_from_slice(out_spatial);
    let coord = |im: &mut Importer, k: usize| -> Result<ValueId, ImportError> {
        let mut starts = vec![0i64; r + 2];
        let mut ends: Vec<i64> = gs.iter().map(|&d| d as i64).collect();
        starts[r + 1] = k as i64;
        ends[r + 1] = k as i64 + 1;
        let s = im.emit(
            ctx,
            OpKind::Slice {
                starts,
                ends,
                steps: vec![1; r + 2],
            },
            &[grid],
        )?;
        reshape_to(im, ctx, s, coord_shape.clone())
    };
    let round = mode == "nearest";
    // Per spatial dim (in the input's order): its axis and its sampling points.
    let mut axes = vec![];
    let mut points = vec![];
    for (d, &len) in spatial.iter().enumerate() {
        let axis = Axis {
            len,
            align_corners,
            padding,
        };
        let g = coord(im, r - 1 - d)?;
        points.push(axis.point(im, &o, g, round)?);
        axes.push(axis);
    }
    Ok(vec![Some(sample(im, ctx, x, &axes, &points, mode)?)])
}

/// The `[N, C, out…]` samples of `x` (`[N, C, spatial…]`) at `points` (per spatial dim, in
/// pixel coordinates, `[N, 1, out…]`), interpolated by `mode` (`nearest`, `linear`, `cubic`)
/// with each axis' padding.
fn sample(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    axes: &[Axis],
    points: &[ValueId],
    mode: &str,
) -> Result<ValueId, ImportError> {
    let o = Ops { ctx };
    let xs = im.shape(ctx, x)?;
    let (n, c, spatial) = (xs[0], xs[1], &xs[2..]);
    let r = spatial.len();
    let mut all_taps = vec![];
    for &p in points {
        all_taps.push(taps(im, &o, p, mode)?);
    }
    // Flat offset of each (n, c) image or volume: [N, C, 1, ...].
    let size: usize = spatial.iter().product();
    let base: Vec<i64> = (0..n * c).map(|i| (i * size) as i64).collect();
    let mut base_shape = vec![n, c];
    base_shape.extend(std::iter::repeat_n(1, im.ty(points[0]).rank() - 2));
    let base = im.constant(HostTensor::from_i64(&base_shape, &base), &ctx.name);
    let flat_x = reshape_to(im, ctx, x, vec![n * c * size])?;
    let strides = kiln_ir::interp::strides_of(spatial);
    // Every combination of one tap per dim.
    let combos: usize = all_taps.iter().map(Vec::len).product();
    let mut y: Option<ValueId> = None;
    for combo in 0..combos {
        let mut rest = combo;
        let (mut pos, mut inside, mut weight): (Option<ValueId>, Option<ValueId>, Option<ValueId>) =
            (None, None, None);
        for d in (0..r).rev() {
            let (t, w) = all_taps[d][rest % all_taps[d].len()];
            rest /= all_taps[d].len();
            let (at, at_inside) = axes[d].tap(im, &o, t)?;
            // Positions are whole numbers; the flat index is summed in i64 (f16 holds whole
            // numbers only up to 2048).
            let at = im.emit(ctx, OpKind::Cast(ElementType::I64), &[at])?;
            let stride = super::ops::i64_scalar(im, ctx, strides[d] as i64);
            let offset = o.b(im, BinaryOp::Mul, at, stride)?;
            pos = Some(match pos {
                None => offset,
                Some(p) => o.b(im, BinaryOp::Add, p, offset)?,
            });
            inside = match (inside, at_inside) {
                (Some(a), Some(b)) => Some(o.b(im, BinaryOp::And, a, b)?),
                (a, b) => a.or(b),
            };
            weight = Some(match weight {
                None => w,
                Some(acc) => o.b(im, BinaryOp::Mul, w, acc)?,
            });
        }
        let (Some(pos), Some(weight)) = (pos, weight) else {
            return Err(ctx.err("a sample with no taps"));
        };
        let idx = o.b(im, BinaryOp::Add, pos, base)?;
        let mut v = im.emit(ctx, OpKind::Gather { axis: 0 }, &[flat_x, idx])?;
        if let Some(inside) = inside {
            let zero = o.c(im, v, 0.0);
            v = o.select(im, inside, v, zero)?;
        }
        let term = o.b(im, BinaryOp::Mul, v, weight)?;
        y = Some(match y {
            None => term,
            Some(acc) => o.b(im, BinaryOp::Add, acc, term)?,
        });
    }
    y.ok_or_else(|| ctx.err("a sample with no taps"))
}

/// DeformConv (19, 22): a convolution whose every tap reads the input at its position moved
/// by a learned offset (bilinear, zero outside the image), weighted by an optional mask.
/// Per offset group, the taps' samples `[N, C/G, K, out_h, out_w]` come from one bilinear
/// sampling over all kernel taps at once; the convolution is then a matmul of the weights
/// `[group, M/group, C/group·K]` with those columns.
pub(super) fn deform_conv(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let (x, w, offset) = (
        arg(ctx, inputs, 0)?,
        arg(ctx, inputs, 1)?,
        arg(ctx, inputs, 2)?,
    );
    let (xs, ws, os) = (im.shape(ctx, x)?, im.shape(ctx, w)?, im.shape(ctx, offset)?);
    let (&[n, c, h, wd], &[m, cg, kh, kw]) = (&xs[..], &ws[..]) else {
        return Err(ctx.err(format!(
            "only 2-D deformable convolutions are supported, got input {} and weights {}",
            im.ty(x),
            im.ty(w)
        )));
    };
    let ints = |name: &str, default: Vec<i64>| -> Vec<i64> {
        ctx.attr(name)
            .map(|a| a.ints.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
    };
    let (strides, dilations) = (ints("strides", vec![1, 1]), ints("dilations", vec![1, 1]));
    let pads = ints("pads", vec![0; 4]);
    let (group, offset_group) = (ctx.int("group", 1), ctx.int("offset_group", 1));
    let k = kh * kw;
    let positive = |v: i64| usize::try_from(v).ok().filter(|&v| v > 0);
    let (Some(group), Some(og), &[sh, sw], &[dh, dw], &[pt, pl, pb, pr]) = (
        positive(group),
        positive(offset_group),
        &strides[..],
        &dilations[..],
        &pads[..],
    ) else {
        return Err(ctx.err("strides, dilations, pads, group or offset_group do not fit 2-D"));
    };
    let out = |len: usize, lo: i64, hi: i64, d: i64, kn: usize, s: i64| -> Option<usize> {
        let span = len as i64 + lo + hi - d * (kn as i64 - 1) - 1;
        (span >= 0 && s > 0).then(|| (span / s + 1) as usize)
    };
    let (Some(oh), Some(ow)) = (out(h, pt, pb, dh, kh, sh), out(wd, pl, pr, dw, kw, sw)) else {
        return Err(ctx.err("the kernel does not fit the padded input"));
    };
    if c % group != 0
        || cg * group != c
        || m % group != 0
        || c % og != 0
        || os != [n, og * 2 * k, oh, ow]
    {
        return Err(ctx.err(format!(
            "input {}, weights {} and offsets {} do not fit group {group} and offset_group {og}",
            im.ty(x),
            im.ty(w),
            im.ty(offset)
        )));
    }
    let et = im.ty(x).element_type;
    let mask = match inputs.get(4).copied().flatten() {
        Some(mk) if im.shape(ctx, mk)? == [n, og * k, oh, ow] => {
            Some(reshape_to(im, ctx, mk, vec![n, og, k, oh, ow])?)
        }
        Some(mk) => return Err(ctx.err(format!("the mask {} does not fit", im.ty(mk)))),
        None => None,
    };
    let offset = reshape_to(im, ctx, offset, vec![n, og, k, 2, oh, ow])?;
    // Where each tap reads before its offset: [1, 1, K, out_h, out_w] per axis.
    let grid = |lo: i64, s: i64, d: i64, along_h: bool| -> Vec<f64> {
        let mut v = Vec::with_capacity(k * oh * ow);
        for t in 0..k {
            let tap = if along_h { t / kw } else { t % kw } as i64;
            for y in 0..oh {
                for xx in 0..ow {
                    let o = if along_h { y } else { xx } as i64;
                    v.push((o * s - lo + tap * d) as f64);
                }
            }
        }
        v
    };
    let place = vec![1, 1, k, oh, ow];
    let base_y = im.constant(
        HostTensor::from_f64(et, &place, &grid(pt, sh, dh, true)),
        &ctx.name,
    );
    let base_x = im.constant(
        HostTensor::from_f64(et, &place, &grid(pl, sw, dw, false)),
        &ctx.name,
    );
    let per_group = c / og;
    let axes = [h, wd].map(|len| Axis {
        len,
        align_corners: true,
        padding: Padding::Zeros,
    });
    let mut columns = vec![];
    let pick = |im: &mut Importer, v: ValueId, starts: Vec<i64>, ends: Vec<i64>| {
        let steps = vec![1; starts.len()];
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
    for g in 0..og {
        let (gi, n_, k_, oh_, ow_) = (g as i64, n as i64, k as i64, oh as i64, ow as i64);
        let mut moved = vec![];
        for (axis, base) in [(0, base_y), (1, base_x)] {
            let d = pick(
                im,
                offset,
                vec![0, gi, 0, axis, 0, 0],
                vec![n_, gi + 1, k_, axis + 1, oh_, ow_],
            )?;
            let d = reshape_to(im, ctx, d, vec![n, 1, k, oh, ow])?;
            moved.push(bin(im, ctx, BinaryOp::Add, base, d)?);
        }
        let xg = pick(
            im,
            x,
            vec![0, (g * per_group) as i64, 0, 0],
            vec![n_, ((g + 1) * per_group) as i64, h as i64, wd as i64],
        )?;
        let mut s = sample(im, ctx, xg, &axes, &moved, "linear")?;
        if let Some(mk) = mask {
            let mg = pick(im, mk, vec![0, gi, 0, 0, 0], vec![n_, gi + 1, k_, oh_, ow_])?;
            s = bin(im, ctx, BinaryOp::Mul, s, mg)?;
        }
        columns.push(s);
    }
    let cols = match columns[..] {
        [one] => one,
        _ => im.emit(ctx, OpKind::Concat { axis: 1 }, &columns)?,
    };
    // [N, C, K, oh, ow] -> [N, group, C/group·K, oh·ow] against [group, M/group, C/group·K].
    let cols = reshape_to(im, ctx, cols, vec![n, group, cg * k, oh * ow])?;
    let weights = reshape_to(im, ctx, w, vec![group, m / group, cg * k])?;
    let y = im.emit(ctx, OpKind::MatMul, &[weights, cols])?;
    let mut y = reshape_to(im, ctx, y, vec![n, m, oh, ow])?;
    if let Some(b) = inputs.get(3).copied().flatten() {
        let b = reshape_to(im, ctx, b, vec![1, m, 1, 1])?;
        y = bin(im, ctx, BinaryOp::Add, y, b)?;
    }
    Ok(vec![Some(y)])
}
