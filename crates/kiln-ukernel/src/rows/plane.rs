//! Pooling and depthwise convolution of one channel plane.

use super::window::{copy_strided, Window};
use crate::scratch::Scratch;
use alloc::vec::Vec;

/// Max or average pooling of output rows `oy0..oy1` of one plane into `out` (`(oy1-oy0)×ow`).
#[allow(clippy::too_many_arguments)]
pub fn pool_plane(
    x: &[f32],
    h: usize,
    w: usize,
    win: &Window,
    max: bool,
    count_include_pad: bool,
    oy0: usize,
    oy1: usize,
    ow: usize,
    out: &mut [f32],
) {
    let full = (win.kernel[0] * win.kernel[1]) as f32;
    let (sy, sx, dy, dx) = (
        win.strides[0],
        win.strides[1],
        win.dilations[0],
        win.dilations[1],
    );
    POOL.with_mut(|scratch| {
        // Tap ranges along x are the same for every row: compute them once.
        let x_taps = &mut scratch.x_taps;
        x_taps.clear();
        x_taps.extend((0..ow).map(|ox| win.taps(1, ox, w)));
        if max {
            let scratch = (&mut scratch.column, &mut scratch.phases);
            max_pool_separable(x, h, w, win, x_taps, scratch, oy0, oy1, ow, out);
            return;
        }
        for oy in oy0..oy1 {
            let (ky0, ky1) = win.taps(0, oy, h);
            let dst = &mut out[(oy - oy0) * ow..(oy - oy0 + 1) * ow];
            for ((ox, o), &(kx0, kx1)) in dst.iter_mut().enumerate().zip(x_taps.iter()) {
                let mut acc = 0.0;
                for ky in ky0..ky1 {
                    let iy = oy * sy + ky * dy - win.pads[0];
                    let row = &x[iy * w..(iy + 1) * w];
                    for kx in kx0..kx1 {
                        acc += row[ox * sx + kx * dx - win.pads[1]];
                    }
                }
                let count = (ky1 - ky0) * (kx1 - kx0);
                *o = if count_include_pad {
                    acc / full
                } else {
                    acc / count.max(1) as f32
                };
            }
        }
    });
}

/// Per-thread scratch of [`pool_plane`].
#[derive(Default)]
struct PoolScratch {
    /// Each output column's taps along x.
    x_taps: Vec<(usize, usize)>,
    /// [`max_pool_separable`]'s row and its stride phases.
    column: Vec<f32>,
    phases: Vec<f32>,
}

crate::scratch! {
    static POOL: PoolScratch;
}

/// Max pooling as two passes (a maximum is exact in any order): for each output row, the input
/// rows its window covers are reduced into one row (a loop over contiguous rows that
/// vectorises), which is then reduced along x, for the outputs whose taps all lie inside it
/// by one stride-1 pass per tap over the row split into stride phases. NaN inputs are skipped,
/// as `f32::max` does.
#[allow(clippy::too_many_arguments)]
fn max_pool_separable(
    x: &[f32],
    h: usize,
    w: usize,
    win: &Window,
    x_taps: &[(usize, usize)],
    (column, phases): (&mut Vec<f32>, &mut Vec<f32>),
    oy0: usize,
    oy1: usize,
    ow: usize,
    out: &mut [f32],
) {
    let (sx, dx, px) = (win.strides[1], win.dilations[1], win.pads[1]);
    let max = |d: &mut f32, v: f32| *d = if v > *d { v } else { *d };
    // Outputs `inner` along x read every tap inside the row.
    let kw = win.kernel[1];
    let full = x_taps.iter().map(|&(a, b)| a == 0 && b == kw);
    let first_full = full.clone().position(|f| f).unwrap_or(ow);
    let inner = first_full..first_full + full.skip(first_full).take_while(|&f| f).count();
    let phase_len = w.div_ceil(sx);
    column.clear();
    column.resize(w, f32::NEG_INFINITY);
    phases.clear();
    phases.resize(phase_len * sx, f32::NEG_INFINITY);
    for oy in oy0..oy1 {
        let dst = &mut out[(oy - oy0) * ow..(oy - oy0 + 1) * ow];
        dst.fill(f32::NEG_INFINITY);
        let (ky0, ky1) = win.taps(0, oy, h);
        if ky0 == ky1 {
            continue;
        }
        column.fill(f32::NEG_INFINITY);
        for ky in ky0..ky1 {
            let iy = oy * win.strides[0] + ky * win.dilations[0] - win.pads[0];
            for (c, &v) in column.iter_mut().zip(&x[iy * w..(iy + 1) * w]) {
                max(c, v);
            }
        }
        for ox in (0..inner.start).chain(inner.end..ow) {
            let (kx0, kx1) = x_taps[ox];
            for kx in kx0..kx1 {
                max(&mut dst[ox], column[ox * sx + kx * dx - px]);
            }
        }
        if inner.is_empty() {
            continue;
        }
        // Input x → phase x mod sx, position x div sx: each tap is one stride-1 pass.
        let split = if sx == 1 {
            &column
        } else {
            for (r, phase) in phases.chunks_exact_mut(phase_len).enumerate().take(w) {
                let n = (w - r).div_ceil(sx);
                copy_strided(&mut phase[..n], &column[r..], sx);
            }
            &phases
        };
        let dst = &mut dst[inner.clone()];
        for kx in 0..kw {
            let at = inner.start * sx + kx * dx - px;
            let phase = &split[(at % sx) * phase_len + at / sx..][..dst.len()];
            for (d, &v) in dst.iter_mut().zip(phase) {
                max(d, v);
            }
        }
    }
}

/// Depthwise convolution of one plane with one `kh×kw` filter, output rows `oy0..oy1`.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_plane(
    x: &[f32],
    h: usize,
    w: usize,
    filter: &[f32],
    win: &Window,
    oy0: usize,
    oy1: usize,
    ow: usize,
    out: &mut [f32],
) {
    if win.strides == [1, 1] {
        return depthwise_plane_unit_stride(x, h, w, filter, win, oy0, oy1, ow, out);
    }
    let kw = win.kernel[1];
    // Which outputs each tap along x reaches does not depend on the row: compute it once.
    let x_ranges: Vec<(usize, usize, usize)> =
        (0..kw).map(|kx| win.outputs_of_tap(1, kx, w, ow)).collect();
    for oy in oy0..oy1 {
        let dst = &mut out[(oy - oy0) * ow..(oy - oy0 + 1) * ow];
        dst.fill(0.0);
        for ky in 0..win.kernel[0] {
            let Some(iy) = win.input(0, oy, ky, h) else {
                continue;
            };
            let src = &x[iy * w..(iy + 1) * w];
            for kx in 0..kw {
                let f = filter[ky * kw + kx];
                // Only the outputs whose tap lies inside the row: a contiguous range.
                let (ox0, ox1, ix0) = x_ranges[kx];
                let sx = win.strides[1];
                if ox0 == ox1 {
                    continue;
                }
                if sx == 1 {
                    for (d, &v) in dst[ox0..ox1].iter_mut().zip(&src[ix0..]) {
                        *d += f * v;
                    }
                } else {
                    for (j, d) in dst[ox0..ox1].iter_mut().enumerate() {
                        *d += f * src[ix0 + j * sx];
                    }
                }
            }
        }
    }
}

crate::scratch! {
    /// Per-thread scratch of [`depthwise_plane_unit_stride`]: padded input lines, sums.
    static GRID: (Vec<f32>, Vec<f32>);
}

/// [`depthwise_plane`] at stride 1, over a [`PaddedGrid`]: each tap one pass over all the
/// rows; every output still adds its taps in the same order.
#[allow(clippy::too_many_arguments)]
fn depthwise_plane_unit_stride(
    x: &[f32],
    h: usize,
    w: usize,
    filter: &[f32],
    win: &Window,
    oy0: usize,
    oy1: usize,
    ow: usize,
    out: &mut [f32],
) {
    let [kh, kw] = win.kernel;
    let grid = PaddedGrid::new(win, h, w, oy0, oy1, ow);
    GRID.with_mut(|(padded, sums)| {
        grid.lay_out(x, padded, 0.0);
        sums.clear();
        sums.resize(grid.values(), 0.0);
        for ky in 0..kh {
            for kx in 0..kw {
                let f = filter[ky * kw + kx];
                let taps = &padded[grid.tap(ky, kx)..][..sums.len()];
                for (s, &v) in sums.iter_mut().zip(taps) {
                    *s += f * v;
                }
            }
        }
        grid.keep_outputs(sums, out);
    });
}

/// The input lines that output rows `oy0..oy1` of a stride-1 window read (an `h × w`
/// plane), zero-padded into lines `width` wide, so that a tap over all those outputs is one
/// pass: output `(r, ox)`'s tap `(ky, kx)` is value `tap(ky, kx) + r·width + ox`. Sums made
/// over [`PaddedGrid::values`] such positions hold each row's outputs first, then `width -
/// ow` values to drop ([`PaddedGrid::keep_outputs`]).
pub struct PaddedGrid {
    rows: usize,
    width: usize,
    lines: usize,
    ow: usize,
    /// How far past the last line the last taps read.
    slack: usize,
    dilations: [usize; 2],
    pads: [usize; 2],
    oy0: usize,
    input: [usize; 2],
}

impl PaddedGrid {
    /// The grid of output rows `oy0..oy1`, `ow` wide, of stride-1 window `win` over an
    /// `h × w` plane.
    pub fn new(win: &Window, h: usize, w: usize, oy0: usize, oy1: usize, ow: usize) -> Self {
        let [kh, kw] = win.kernel;
        let [dy, dx] = win.dilations;
        let rows = oy1 - oy0;
        PaddedGrid {
            rows,
            width: (ow + (kw - 1) * dx).max(win.pads[1] + w),
            lines: rows + (kh - 1) * dy,
            ow,
            slack: (kw - 1) * dx,
            dilations: [dy, dx],
            pads: win.pads,
            oy0,
            input: [h, w],
        }
    }

    /// Positions a pass over the outputs covers: `rows · width`.
    pub fn values(&self) -> usize {
        self.rows * self.width
    }

    /// Where tap `(ky, kx)` of output `(0, 0)` lies in the padded lines.
    pub fn tap(&self, ky: usize, kx: usize) -> usize {
        ky * self.dilations[0] * self.width + kx * self.dilations[1]
    }

    /// Lays out the plane `x` into `padded`, `zero` where the window reads padding.
    pub fn lay_out<T: Copy>(&self, x: &[T], padded: &mut Vec<T>, zero: T) {
        let ([h, w], [pt, pl]) = (self.input, self.pads);
        padded.clear();
        padded.resize(self.lines * self.width + self.slack, zero);
        for (l, line) in padded
            .chunks_exact_mut(self.width)
            .take(self.lines)
            .enumerate()
        {
            if let Some(iy) = (self.oy0 + l).checked_sub(pt).filter(|&iy| iy < h) {
                line[pl..pl + w].copy_from_slice(&x[iy * w..(iy + 1) * w]);
            }
        }
    }

    /// Copies each row's outputs from `sums` (a pass's values) into `out` (`rows × ow`).
    pub fn keep_outputs<T: Copy>(&self, sums: &[T], out: &mut [T]) {
        for (dst, src) in out
            .chunks_exact_mut(self.ow)
            .zip(sums.chunks_exact(self.width))
        {
            dst.copy_from_slice(&src[..self.ow]);
        }
    }
}
