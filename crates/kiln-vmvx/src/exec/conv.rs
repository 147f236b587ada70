//! Workgroups of the float convolutions and pooling (the `conv` feature): convolutions as
//! GEMMs over bands of input lines, im2col panels or pixel rows ([`pixel_rows`], planar or
//! channels-last images), depthwise convolutions plane by plane, 16 planes at once or over
//! channels-last images, pooling and the band layouts ([`KernelOp::ConvBand`]) a
//! convolution reads. A build without the feature refuses such kernels when an executable
//! is checked.

use super::{run_epilogue, Mem};
use crate::format::*;
use crate::pixel_rows;
use alloc::string::String;
use alloc::vec::Vec;
use kiln_ukernel::gemm::{Lhs, MatrixMut, Offsets, Rhs};
use kiln_ukernel::scratch::Scratch;
use kiln_ukernel::{rows, AlignedVec, Kernels, Matrix};

/// Runs workgroup `wg` of `k`, a float convolution, a pooling or a band layout.
pub(super) fn run(m: &Mem, k: &Kernel, wg: u64, kernels: &Kernels) -> Result<(), String> {
    match &k.op {
        KernelOp::Conv2d {
            x,
            w,
            y,
            strides,
            pads,
            dilations,
            gemm,
            accumulate,
            epilogue,
            ..
        } => {
            let tile = ConvTile::of(k, wg);
            let [_, kh, kw] = conv_weight_dims(w);
            let window = window([kh, kw], *strides, *pads, *dilations);
            let weights = match packing(&k.op) {
                None => ConvWeights::Plain,
                Some(p) if *gemm == ConvGemm::PixelRows => {
                    ConvWeights::Columns(kernels.for_packing(p)?)
                }
                Some(p) => ConvWeights::Rows(kernels.for_packing(p)?),
            };
            // A depthwise workgroup covers several groups; others one.
            if matches!(weights, ConvWeights::Plain) && k.op.is_depthwise_conv() {
                if *accumulate {
                    return Err("a depthwise convolution does not accumulate".into());
                }
                depthwise(m, x, w, y, window, tile);
            } else {
                for t in tile.per_group() {
                    conv2d(m, kernels, weights, x, w, y, window, t, *accumulate)?;
                }
            }
            if let Some(e) = epilogue {
                run_epilogue(m, y, e, k, wg);
            }
        }
        KernelOp::PointwiseDepthwise {
            x,
            expand,
            steps,
            w,
            y,
            strides,
            pads,
            dilations,
            epilogue,
            ..
        } => {
            let packing = packing(&k.op).ok_or("pointwise weights are not packed")?;
            let gemm = kernels.for_packing(packing)?;
            let win = window([w.shape[2], w.shape[3]], *strides, *pads, *dilations);
            let steps = match steps {
                Some(e) => {
                    let s = ChannelSteps::of(&e.body, e.inputs.len())
                        .ok_or("pointwise steps are not a bias and a clamp")?;
                    (s, e.inputs.first())
                }
                None => (ChannelSteps::NONE, None),
            };
            let views = PointwiseDepthwiseViews { x, expand, w, y };
            // SAFETY: this workgroup owns its tile of `y` (checked with the kernel: packed
            // weights hold every strip, the views agree).
            unsafe { pointwise_depthwise(m, &gemm, views, steps, win, ConvTile::of(k, wg)) };
            if let Some(e) = epilogue {
                run_epilogue(m, y, e, k, wg);
            }
        }
        KernelOp::Pool2d {
            x,
            y,
            max,
            kernel,
            strides,
            pads,
            count_include_pad,
            epilogue,
        } => {
            let (h, w) = (x.shape[2] as usize, x.shape[3] as usize);
            let (oh, ow) = (y.shape[2] as usize, y.shape[3] as usize);
            let win = window(*kernel, *strides, *pads, [1, 1]);
            let xs = m.f32s(x);
            if x.is_channels_last() {
                // Workgroup `wg` is output row `oy` of image `n`, every channel.
                let (n, oy, c) = (wg as usize / oh, wg as usize % oh, x.shape[1] as usize);
                let image = &xs[x.offset as usize + n * h * w * c..][..h * w * c];
                let out = m.f32_mut(y, (n * oh + oy) * ow * c, ow * c);
                let (cip, extent) = (*count_include_pad, [oy, oy + 1, ow]);
                rows::pool_channels_last(image, [h, w, c], &win, *max, cip, extent, out);
            } else {
                let plane = &xs[x.offset as usize + wg as usize * h * w..][..h * w];
                let out = m.f32_mut(y, wg as usize * oh * ow, oh * ow);
                rows::pool_plane(plane, h, w, &win, *max, *count_include_pad, 0, oh, ow, out);
            }
            if let Some(e) = epilogue {
                run_epilogue(m, y, e, k, wg);
            }
        }
        KernelOp::ConvBand {
            x,
            y,
            kernel,
            strides,
            pads,
            dilations,
            out,
        } => {
            let win = window(*kernel, *strides, *pads, *dilations);
            let (h, w) = (x.shape[2] as usize, x.shape[3] as usize);
            let layout = rows::BandLayout::new(&win, out[0] as usize, out[1] as usize);
            let (len, planes) = (layout.channel_len(), x.shape[0] * x.shape[1]);
            let xs = m.f32s(x);
            let plane = &xs[x.offset as usize + wg as usize * h * w..][..h * w];
            layout.fill(plane, [1, h, w], 0, m.f32_mut(y, wg as usize * len, len));
            if wg + 1 == planes {
                // What the GEMM reads past the last channel only feeds dropped columns;
                // zeros keep them deterministic.
                let end = planes as usize * len;
                m.f32_mut(y, end, y.shape[0] as usize - end).fill(0.0);
            }
        }
        _ => return Err("not a convolution, pooling or band layout".into()),
    }
    Ok(())
}

/// The input and output of one convolution workgroup computed from a band of input lines
/// ([`rows::gathered_band`], a [`KernelOp::ConvBand`]'s layout, or the planes themselves).
///
/// Safety contract of the kernels taking one: `y` must point at output channel 0 of this
/// workgroup's band (rows `oy0..oy1` of an `oh×ow` plane per channel) and the workgroup must
/// own those rows of its `channels` planes.
#[derive(Clone, Copy)]
struct BandJob<'a> {
    source: BandSource<'a>,
    win: &'a rows::Window,
    /// `[channels, oy0, oy1, oh, ow]`.
    extent: [usize; 5],
    y: *mut f32,
    /// Whether the products are added to what `y` holds.
    accumulate: bool,
}

/// Where a convolution workgroup's band comes from.
#[derive(Clone, Copy)]
enum BandSource<'a> {
    /// The group's input planes, `dims = [channels, h, w]`: the workgroup lays out its band.
    Planes { x: &'a [f32], dims: [usize; 3] },
    /// The group's `channels` in the layout of a [`KernelOp::ConvBand`] for all output rows
    /// (`data` runs on to the end of that output).
    LaidOut {
        data: &'a [f32],
        channels: usize,
        layout: &'a rows::BandLayout,
    },
}

impl BandJob<'_> {
    /// The input planes themselves as the band, with `starts` set, when the window reads
    /// each output pixel's own input pixel (1×1, unit stride, no padding): a band laid out
    /// would be a copy of them. (The GEMM copies a last strip that would read past them.)
    fn in_place(&self, starts: &mut Vec<usize>) -> Option<&[f32]> {
        let BandSource::Planes { x, dims: [c, h, w] } = self.source else {
            return None;
        };
        let [_, oy0, oy1, _, ow] = self.extent;
        let reach = (c.max(1) - 1) * h * w + oy1 * w;
        if !self.win.is_pointwise() || ow != w || oy1 > h || reach > x.len() {
            return None;
        }
        starts.clear();
        starts.extend((0..c).map(|p| p * h * w + oy0 * w));
        Some(x)
    }

    /// The band this workgroup's GEMM reads (`slack` values readable past its last column),
    /// with `starts` set to where each depth row begins in it, and the band's line width.
    fn band<'s>(
        &'s self,
        slack: usize,
        scratch: &'s mut AlignedVec,
        starts: &mut Vec<usize>,
    ) -> (&'s [f32], usize) {
        let [_, oy0, oy1, _, ow] = self.extent;
        match self.source {
            BandSource::Planes { x, dims } => {
                let wp =
                    rows::gathered_band(x, dims, self.win, oy0, oy1, ow, slack, scratch, starts);
                (scratch, wp)
            }
            BandSource::LaidOut {
                data,
                channels,
                layout,
            } => {
                layout.starts(channels, oy0, starts);
                (data, layout.wp)
            }
        }
    }
}

kiln_ukernel::scratch! {
    /// Per-thread scratch of [`conv2d_direct`]: padded input band, row starts, output tile,
    /// one output row's row starts.
    static DIRECT: (AlignedVec, Vec<usize>, Vec<f32>, Vec<usize>);
}

/// A convolution workgroup without im2col: the input its output band reads is laid out once by
/// [`rows::gathered_band`] (split into stride phases, zero-padded, lines `wp` wide) — or read
/// where it lies, for a pointwise window — and the GEMM reads it in place through a table of
/// row starts (a gathered right-hand side). Output pixel `(r, ox)` is column `r·wp + ox`; with
/// `wp - ow` extra columns per row, rows at least a register tile wide are written straight
/// to the output planes by a GEMM each (its columns `ow`, its row starts shifted by `r·wp`),
/// narrower ones computed into a tile whose extra columns are dropped when it is copied out;
/// else one GEMM writes the output planes.
///
/// # Safety
/// As [`BandJob`].
unsafe fn conv2d_direct(gemm: &Kernels, lhs: Lhs, job: &BandJob) {
    let nr = gemm.tile.nr;
    let [channels, oy0, oy1, oh, ow] = job.extent;
    let (rows, y) = (oy1 - oy0, job.y);
    DIRECT.with_mut(|(scratch, starts, out, row_starts)| {
        let (band, wp) = match job.in_place(starts) {
            Some(planes) => (planes, ow),
            None => job.band(nr, scratch, starts),
        };
        if wp != ow && ow >= nr {
            for r in 0..rows {
                row_starts.clear();
                row_starts.extend(starts.iter().map(|s| s + r * wp));
                let shifted = Offsets::new(core::mem::take(row_starts));
                let rhs = Rhs::Gather {
                    data: band,
                    rows: &shifted,
                };
                // SAFETY: row r of each of the workgroup's channels lies in its output.
                let c =
                    MatrixMut::rows(unsafe { y.add(r * ow) }, oh * ow).accumulating(job.accumulate);
                // SAFETY: as above.
                unsafe { gemm.packed_gemm(channels, ow, shifted.len(), lhs, rhs, c) };
                *row_starts = shifted.into_values();
            }
            return;
        }
        let cols = rows * wp;
        let rows_of_band = Offsets::new(core::mem::take(starts));
        let rhs = Rhs::Gather {
            data: band,
            rows: &rows_of_band,
        };
        // Band lines as wide as the output's rows: each channel's columns are its rows
        // `oy0..oy1`, contiguous in its output plane, and the GEMM writes them there.
        let c = if wp == ow {
            MatrixMut::rows(y, oh * ow).accumulating(job.accumulate)
        } else {
            out.resize(channels * cols, 0.0);
            MatrixMut::rows(out.as_mut_ptr(), cols)
        };
        // SAFETY: `c` is `out` (channels × cols, exclusively this thread's) or this
        // workgroup's rows of its output planes.
        unsafe { gemm.packed_gemm(channels, cols, rows_of_band.len(), lhs, rhs, c) };
        *starts = rows_of_band.into_values();
        if wp == ow {
            return;
        }
        for co in 0..channels {
            for r in 0..rows {
                let src = &out[co * cols + r * wp..][..ow];
                // SAFETY: row r of channel co of the band lies in the workgroup's output, which
                // no other thread touches.
                let dst = unsafe { core::slice::from_raw_parts_mut(y.add((co * oh + r) * ow), ow) };
                match job.accumulate {
                    true => dst.iter_mut().zip(src).for_each(|(d, s)| *d += s),
                    false => dst.copy_from_slice(src),
                }
            }
        }
    });
}

kiln_ukernel::scratch! {
    /// Per-thread scratch of [`pointwise_depthwise`]: the pointwise rows, the input's row
    /// starts.
    static MID: (AlignedVec, Vec<usize>);
}

/// The views of a [`KernelOp::PointwiseDepthwise`].
struct PointwiseDepthwiseViews<'a> {
    x: &'a View,
    expand: &'a View,
    w: &'a View,
    y: &'a View,
}

/// One workgroup of a fused pointwise and depthwise convolution: the pointwise rows its
/// output rows read, for its channels (`tile.group..tile.group_end`), computed by one GEMM
/// into scratch (the input rows read in place), `steps` applied there (bias read from the
/// view, at each channel's first pixel), then the depthwise convolution of those rows as of
/// planes of their own, the window's top padding what remains of it above them.
///
/// # Safety
/// The workgroup must own rows `tile.oy0..tile.oy1` of its channels of image `tile.image`
/// of `y`; the views must agree as [`KernelOp::PointwiseDepthwise`] says.
unsafe fn pointwise_depthwise(
    m: &Mem,
    gemm: &Kernels,
    views: PointwiseDepthwiseViews,
    (steps, bias): (ChannelSteps, Option<&View>),
    win: rows::Window,
    tile: ConvTile,
) {
    let PointwiseDepthwiseViews { x, expand, w, y } = views;
    let [ci, h, wd] = [x.shape[1], x.shape[2], x.shape[3]].map(|v| v as usize);
    let [c, oh, ow] = [y.shape[1], y.shape[2], y.shape[3]].map(|v| v as usize);
    let [n, c0, c1, oy0, oy1] =
        [tile.image, tile.group, tile.group_end, tile.oy0, tile.oy1].map(|v| v as usize);
    let (channels, rows) = (c1 - c0, oy1 - oy0);
    let taps = win.kernel[0] * win.kernel[1];
    let out_len = (channels - 1) * oh * ow + rows * ow;
    let out = m.f32_mut(y, ((n * c + c0) * oh + oy0) * ow, out_len);
    // Input rows `first..end` hold every tap of output rows `oy0..oy1` that is not padding.
    let [sy, dy, top] = [win.strides[0], win.dilations[0], win.pads[0]];
    let first = (oy0 * sy).saturating_sub(top);
    let end = ((oy1 - 1) * sy + dy * (win.kernel[0] - 1) + 1)
        .saturating_sub(top)
        .min(h);
    if end <= first {
        // Every tap of these rows reads padding.
        for co in 0..channels {
            out[co * oh * ow..][..rows * ow].fill(0.0);
        }
        return;
    }
    let band_win = rows::Window {
        pads: [top + first - oy0 * sy, win.pads[1]],
        ..win
    };
    let cols = (end - first) * wd;
    let image = &m.f32s(x)[x.offset as usize + n * ci * h * wd..][..ci * h * wd];
    let strip = gemm.tile.mr;
    let strips = &m.f32s(expand)[expand.offset as usize + c0 / strip * ci * strip..];
    MID.with_mut(|(scratch, starts)| {
        // Grown only: every value the GEMM writes before it is read.
        if scratch.len() < channels * cols {
            scratch.resize(channels * cols, 0.0);
        }
        let mid = &mut scratch[..channels * cols];
        starts.clear();
        starts.extend((0..ci).map(|p| (p * h + first) * wd));
        let input_rows = Offsets::new(core::mem::take(starts));
        let rhs = Rhs::Gather {
            data: image,
            rows: &input_rows,
        };
        let c_mid = MatrixMut::rows(mid.as_mut_ptr(), cols);
        // SAFETY: `mid` is this thread's, `channels × cols`; the strips hold channels
        // `c0..c1` over depth `ci` (checked with the kernel).
        unsafe { gemm.packed_gemm(channels, cols, ci, Lhs::Packed(strips), rhs, c_mid) };
        *starts = input_rows.into_values();
        for (j, row) in mid.chunks_exact_mut(cols).enumerate() {
            let b = bias.map_or(0.0, |v| {
                let at = v.offset as i64 + n as i64 * v.strides[0] + (c0 + j) as i64 * v.strides[1];
                m.f32s(v)[at as usize]
            });
            steps.apply(row, b);
        }
        let filters = &m.f32s(w)[w.offset as usize + c0 * taps..][..channels * taps];
        let dims = [channels, end - first, wd];
        let extent = [0, rows, ow];
        rows::depthwise_planes(mid, dims, filters, &band_win, extent, out, oh * ow);
    });
}

/// A convolution's weights as a workgroup reads them.
#[derive(Clone, Copy)]
enum ConvWeights {
    /// `[co, ci/groups, kh, kw]`, packed here when a GEMM needs them.
    Plain,
    /// Left-hand strips these kernels read: output channels are the GEMM's rows.
    Rows(Kernels),
    /// Right-hand strips these kernels read: output channels are the GEMM's columns.
    Columns(Kernels),
}

/// One workgroup of a depthwise convolution: the planes of its groups (one channel each), one
/// filter per plane. Several groups' planes go at once when the tile covers their whole
/// planes (as [`tile_config::depthwise_tile`](crate::tile_config::depthwise_tile) makes
/// them), else one group at a time.
fn depthwise(m: &Mem, x: &View, w: &View, y: &View, win: rows::Window, tile: ConvTile) {
    if x.is_channels_last() {
        return depthwise_channels_last(m, x, w, y, win, tile);
    }
    let taps = win.kernel[0] * win.kernel[1];
    let [h, wd] = [x.shape[2], x.shape[3]].map(|v| v as usize);
    let [c, oh, ow] = [y.shape[1], y.shape[2], y.shape[3]].map(|v| v as usize);
    let [n, oy0, oy1] = [tile.image, tile.oy0, tile.oy1].map(|v| v as usize);
    let (xs, ws) = (m.f32s(x), m.f32s(w));
    let whole = (oy0, oy1) == (0, oh);
    let groups = tile.group as usize..tile.group_end as usize;
    let blocks = if whole { 1 } else { groups.len() };
    let per_block = if whole { groups.len() } else { 1 };
    for b in 0..blocks {
        let g0 = groups.start + b * per_block;
        let planes = &xs[x.offset as usize + (n * c + g0) * h * wd..][..per_block * h * wd];
        let filters = &ws[w.offset as usize + g0 * taps..][..per_block * taps];
        let len = (per_block - 1) * oh * ow + (oy1 - oy0) * ow;
        let out = m.f32_mut(y, ((n * c + g0) * oh + oy0) * ow, len);
        let dims = [per_block, h, wd];
        rows::depthwise_planes(planes, dims, filters, &win, [oy0, oy1, ow], out, oh * ow);
    }
}

kiln_ukernel::scratch! {
    /// Per-thread scratch of [`depthwise_channels_last`]: the filters tap by tap.
    static FILTERS: Vec<f32>;
}

/// One workgroup of a depthwise convolution of channels-last images (checked with the
/// kernel: both `x` and `y`, every channel in each workgroup): rows `oy0..oy1` of its image,
/// with the filters tap by tap (`[kh·kw, c]`), so that a tap's channels lie side by side as
/// the image's do — packed so when compiling, else laid out here.
fn depthwise_channels_last(
    m: &Mem,
    x: &View,
    w: &View,
    y: &View,
    win: rows::Window,
    tile: ConvTile,
) {
    let taps = win.kernel[0] * win.kernel[1];
    let [h, wd] = [x.shape[2], x.shape[3]].map(|v| v as usize);
    let [c, oh, ow] = [y.shape[1], y.shape[2], y.shape[3]].map(|v| v as usize);
    let [n, oy0, oy1] = [tile.image, tile.oy0, tile.oy1].map(|v| v as usize);
    let (xs, ws) = (m.f32s(x), m.f32s(w));
    let image = &xs[x.offset as usize + n * h * wd * c..][..h * wd * c];
    let filters = &ws[w.offset as usize..][..c * taps];
    let out = m.f32_mut(y, (n * oh + oy0) * ow * c, (oy1 - oy0) * ow * c);
    let rows = [oy0, oy1, ow];
    if w.is_tap_major() {
        return rows::depthwise_channels_last(image, [h, wd, c], filters, &win, rows, 0..c, out);
    }
    FILTERS.with_mut(|by_tap| {
        by_tap.clear();
        by_tap.extend((0..taps).flat_map(|t| filters.iter().skip(t).step_by(taps)));
        rows::depthwise_channels_last(image, [h, wd, c], by_tap, &win, rows, 0..c, out);
    });
}

/// One workgroup of a convolution (its `tile`, one group): a GEMM of
/// the weights and the input. With pixel rows ([`ConvWeights::Columns`], [`pixel_rows`]) the
/// GEMM reads the input in place pixel by pixel and writes the output transposed into planes
/// or as it is into a channels-last image; with channel rows (planar images only) it reads a
/// [`rows::gathered_band`] in place when that computes few extra columns, else im2col panels
/// built strip by strip as the GEMM consumes them.
#[allow(clippy::too_many_arguments)]
fn conv2d(
    m: &Mem,
    kernels: &Kernels,
    weights: ConvWeights,
    x: &View,
    w: &View,
    y: &View,
    win: rows::Window,
    tile: ConvTile,
    accumulate: bool,
) -> Result<(), String> {
    let channels_last = [x, y].map(View::is_channels_last);
    if !matches!(weights, ConvWeights::Columns(_)) && channels_last.contains(&true) {
        return Err("a convolution of channels-last images computes with pixel rows".into());
    }
    let [kh, kw] = win.kernel;
    let cig = conv_weight_dims(w)[0] as usize;
    let [oh, ow] = [y.shape[2], y.shape[3]].map(|v| v as usize);
    let (n, g, cog) = (
        tile.image as usize,
        tile.group as usize,
        tile.group_channels as usize,
    );
    let c = cig * (y.shape[1] as usize / cog);
    let [co0, co1, oy0, oy1] = [tile.co0, tile.co1, tile.oy0, tile.oy1].map(|v| v as usize);
    let xs = m.f32s(x);
    let ws = m.f32s(w);
    let kdim = cig * kh * kw;
    let c_ptr = m.f32_ptr(y, &[n as u64, (g * cog + co0) as u64, oy0 as u64, 0]);
    // Packed weights: where this workgroup's first strip of `s` channels starts.
    let strips_from = |s: usize| w.offset as usize + (g * cog.div_ceil(s) + co0 / s) * kdim * s;
    // A rank-1 input is a ConvBand's output (checked with the kernel): every workgroup's band
    // is already laid out. Otherwise the workgroup reads the group's planes.
    let laid_out = (x.shape.len() == 1).then(|| rows::BandLayout::new(&win, oh, ow));
    let source = match &laid_out {
        Some(layout) => BandSource::LaidOut {
            data: &xs[x.offset as usize + (n * c + g * cig) * layout.channel_len()..],
            channels: cig,
            layout,
        },
        None if channels_last[0] => {
            // The group's channels of every pixel of image n, the image's last pixel's ending
            // at its group's last channel.
            let [h, wd] = [x.shape[2], x.shape[3]].map(|v| v as usize);
            let image = &xs[x.offset as usize + n * h * wd * c..][..h * wd * c];
            BandSource::Planes {
                x: &image[g * cig..h * wd * c - (c - (g + 1) * cig)],
                dims: [cig, h, wd],
            }
        }
        None => {
            let [h, wd] = [x.shape[2], x.shape[3]].map(|v| v as usize);
            let x_group = &xs[x.offset as usize + (n * c + g * cig) * h * wd..][..cig * h * wd];
            BandSource::Planes {
                x: x_group,
                dims: [cig, h, wd],
            }
        }
    };
    let band = BandJob {
        source,
        win: &win,
        extent: [co1 - co0, oy0, oy1, oh, ow],
        y: c_ptr,
        accumulate,
    };
    let (gemm, lhs) = match &weights {
        ConvWeights::Columns(gemm) => {
            let BandSource::Planes { x: x_group, dims } = source else {
                return Err("a convolution with pixel rows reads its input planes".into());
            };
            let nr = gemm.tile.nr;
            // `[channel, pixel]` strides of planes or of channels-last images.
            let strides = |channels_last: bool, plane: usize, channels: usize| match channels_last {
                true => [1, channels],
                false => [plane, 1],
            };
            let geometry = pixel_rows::Geometry {
                win,
                input: dims,
                strides: [
                    strides(channels_last[0], dims[1] * dims[2], c),
                    strides(channels_last[1], oh * ow, y.shape[1] as usize),
                ],
                output: [oy0, oy1, ow],
                nr,
                tap_major: channels_last[0],
            };
            let strips = &ws[strips_from(nr)..];
            // SAFETY: this workgroup owns output channels [co0, co1) of group g, rows
            // [oy0, oy1) of image n; packed weights were checked to hold every strip.
            unsafe {
                pixel_rows::conv2d(
                    gemm,
                    x_group,
                    strips,
                    geometry,
                    co1 - co0,
                    c_ptr,
                    accumulate,
                )
            };
            return Ok(());
        }
        ConvWeights::Rows(gemm) => (gemm, Lhs::Packed(&ws[strips_from(gemm.tile.mr)..])),
        ConvWeights::Plain => (
            kernels,
            Lhs::Matrix(Matrix {
                data: ws,
                offset: w.offset as usize + (g * cog + co0) * kdim,
                row_stride: kdim,
                col_stride: 1,
            }),
        ),
    };
    let band = match source {
        BandSource::Planes {
            x,
            dims: [_, h, wd],
        } if rows::gathered_band_width(&win, ow) > 2 * ow => {
            rows::Im2col::new(x, h, wd, win, ow, oy0)
        }
        _ => {
            // SAFETY: as below.
            unsafe { conv2d_direct(gemm, lhs, &band) };
            return Ok(());
        }
    };
    let nr = gemm.tile.nr;
    let mut fill = |j0: usize, width: usize, p0: usize, kc: usize, out: &mut [f32]| {
        band.panel(j0, width, p0, kc, nr, out)
    };
    // SAFETY: this workgroup owns output channels [co0, co1) of group g, rows [oy0, oy1) of
    // image n; packed weights were checked to hold every strip of the group.
    unsafe {
        gemm.packed_gemm(
            co1 - co0,
            (oy1 - oy0) * ow,
            kdim,
            lhs,
            Rhs::Panels(&mut fill),
            MatrixMut::rows(c_ptr, oh * ow).accumulating(accumulate),
        )
    };
    Ok(())
}
