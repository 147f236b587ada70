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
        // Tap ranges along x are the same for every row, and for every plane of the same
        // shape: computed once per thread while the window, width and output width stay.
        let key = (*win, w, ow);
        if scratch.x_taps_of != Some(key) {
            scratch.x_taps.clear();
            scratch.x_taps.extend((0..ow).map(|ox| win.taps(1, ox, w)));
            scratch.x_taps_of = Some(key);
        }
        let x_taps = &scratch.x_taps;
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
    /// The window, input width and output width `x_taps` is for.
    x_taps_of: Option<(Window, usize, usize)>,
    /// [`max_pool_separable`]'s row and its stride phases.
    column: Vec<f32>,
    phases: Vec<f32>,
}

crate::scratch! {
    static POOL: PoolScratch;
}

/// Max pooling as two passes (a maximum is exact in any order): for each output row, the input
/// rows its window covers are reduced into one row (a loop over contiguous rows that
/// vectorises; a window of one row reads it in place), which is then reduced along x, for the
/// outputs whose taps all lie inside it by one stride-1 pass per tap over the row split into
/// stride phases (column strides 1 and 2, whose split is a copy or a vector shuffle), or
/// directly, output by output (wider strides, whose split would be a scalar copy of the whole
/// row). NaN inputs are skipped, as `f32::max` does.
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
        let input_row = |ky: usize| {
            let iy = oy * win.strides[0] + ky * win.dilations[0] - win.pads[0];
            &x[iy * w..(iy + 1) * w]
        };
        let row: &[f32] = if ky1 - ky0 == 1 {
            input_row(ky0)
        } else {
            column.fill(f32::NEG_INFINITY);
            for ky in ky0..ky1 {
                for (c, &v) in column.iter_mut().zip(input_row(ky)) {
                    max_into(c, v);
                }
            }
            column
        };
        for ox in (0..inner.start).chain(inner.end..ow) {
            let (kx0, kx1) = x_taps[ox];
            for kx in kx0..kx1 {
                max_into(&mut dst[ox], row[ox * sx + kx * dx - px]);
            }
        }
        if inner.is_empty() {
            continue;
        }
        if sx > 2 {
            let (dst, first) = (&mut dst[inner.clone()], inner.start * sx - px);
            match (kw == sx && dx == 1, sx) {
                (true, 3) => max_of_runs::<3>(dst, &row[first..]),
                (true, 4) => max_of_runs::<4>(dst, &row[first..]),
                (true, 5) => max_of_runs::<5>(dst, &row[first..]),
                (true, 8) => max_of_runs::<8>(dst, &row[first..]),
                _ => {
                    for (o, d) in dst.iter_mut().enumerate() {
                        for v in row[first + o * sx..].iter().step_by(dx).take(kw) {
                            max_into(d, *v);
                        }
                    }
                }
            }
            continue;
        }
        // Input x → phase x mod sx, position x div sx: each tap is one stride-1 pass.
        let split = if sx == 1 {
            row
        } else {
            for (r, phase) in phases.chunks_exact_mut(phase_len).enumerate().take(w) {
                let n = (w - r).div_ceil(sx);
                copy_strided(&mut phase[..n], &row[r..], sx);
            }
            &phases[..]
        };
        let dst = &mut dst[inner.clone()];
        for kx in 0..kw {
            let at = inner.start * sx + kx * dx - px;
            let phase = &split[(at % sx) * phase_len + at / sx..][..dst.len()];
            for (d, &v) in dst.iter_mut().zip(phase) {
                max_into(d, v);
            }
        }
    }
}

/// `dst[o] = max(dst[o], row[N·o .. N·o + N])`: non-overlapping windows of `N` values, with
/// `N` a constant so that the loop vectorises (interleaved loads, one shuffle per tap).
#[inline(always)]
fn max_of_runs<const N: usize>(dst: &mut [f32], row: &[f32]) {
    for (d, run) in dst.iter_mut().zip(row.chunks_exact(N)) {
        for &v in run {
            max_into(d, v);
        }
    }
}

/// `*d = max(*d, v)`, skipping a NaN `v`.
#[inline(always)]
fn max_into(d: &mut f32, v: f32) {
    *d = if v > *d { v } else { *d };
}

/// Depthwise convolution of one plane with one `kh×kw` filter, output rows `oy0..oy1`: on
/// AVX-512 at column strides 1 and 2 read in place (`direct.rs`), elsewhere over padded
/// input lines split into stride phases.
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
    if ow == 0 || oy0 >= oy1 {
        return;
    }
    if super::direct::handles(win.strides[1]) {
        return super::direct::depthwise(x, h, w, filter, win, oy0, oy1, ow, out);
    }
    if win.strides == [1, 1] {
        return depthwise_plane_unit_stride(x, h, w, filter, win, oy0, oy1, ow, out);
    }
    let [kh, kw] = win.kernel;
    let grid = PhaseLines::new(win, h, w, oy0, oy1, ow);
    GRID.with_mut(|(padded, _, offsets)| {
        grid.lay_out(x, padded);
        offsets.clear();
        offsets.extend(
            (0..kh)
                .flat_map(|ky| (0..kw).map(move |kx| (ky, kx)))
                .map(|(ky, kx)| grid.tap(0, ky, kx)),
        );
        tap_rows(padded, grid.tap(1, 0, 0), offsets, filter, out, ow);
    });
}

/// Values [`tap_rows`] computes at once along a row; its source must reach this many values
/// past each row's last output's taps.
const CHUNK: usize = 16;

/// Vector accumulators [`Taps::rows_avx512`] keeps at once: eight chains of fused
/// multiply-adds overlap their latency and fill both vector units.
#[cfg(target_arch = "x86_64")]
const ACCUMULATORS: usize = 8;

/// `out[r·len + i] = Σ_t filter[t] · src[r·pitch + offsets[t] + i]` for every row `r` of
/// `out` (`len` values each), the taps added in order from zero: the output rows of a
/// depthwise window whose taps are laid out as contiguous runs `pitch` apart. Each chunk of
/// outputs stays in registers over all the taps (vectorised with the widest instructions the
/// CPU has; with AVX-512 several short rows go at once, multiplied and added in one
/// rounding); `src` must hold [`CHUNK`] values past the last one a tap reads.
fn tap_rows(
    src: &[f32],
    pitch: usize,
    offsets: &[usize],
    filter: &[f32],
    out: &mut [f32],
    len: usize,
) {
    let rows = out.len().checked_div(len).unwrap_or(0);
    assert_eq!(out.len(), rows * len, "tap rows: not whole rows");
    if rows == 0 {
        return;
    }
    let reach = (rows - 1) * pitch + len.next_multiple_of(CHUNK);
    assert!(
        offsets.len() <= filter.len() && offsets.iter().all(|&o| o + reach <= src.len()),
        "a tap reads past its source"
    );
    let taps = Taps {
        offsets,
        filter,
        pitch,
        len,
    };
    #[cfg(target_arch = "x86_64")]
    {
        if crate::x86_feature!("avx512f") {
            // SAFETY: the CPU has AVX-512F; every tap's chunks lie inside `src` (checked).
            return unsafe { taps.rows_avx512(src, out) };
        }
        if crate::x86_feature!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { taps.rows_avx2(src, out) };
        }
    }
    taps.rows_chunks(src, out)
}

/// The taps of [`tap_rows`] and the geometry of its rows.
struct Taps<'a> {
    offsets: &'a [usize],
    filter: &'a [f32],
    /// Source values from one row's first output to the next one's.
    pitch: usize,
    /// Outputs in a row.
    len: usize,
}

impl Taps<'_> {
    /// [`tap_rows`] on 16 lanes with fused multiply-adds: [`ACCUMULATORS`] chunks at once,
    /// from as many rows as fit when a row is that short, else along one row.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `out` holds whole rows of `len` values and every tap of
    /// every row, rounded up to [`CHUNK`] values, lies inside `src`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn rows_avx512(&self, src: &[f32], out: &mut [f32]) {
        let (len, rows) = (self.len, out.len() / self.len);
        let (src, out) = (src.as_ptr(), out.as_mut_ptr());
        let mut r = 0;
        // SAFETY (each call): the caller's contract covers every row and chunk named.
        unsafe {
            match len.div_ceil(CHUNK) {
                1 => self.row_blocks::<8, 1>(src, out, rows, &mut r),
                2 => self.row_blocks::<4, 2>(src, out, rows, &mut r),
                3 => self.row_blocks::<2, 3>(src, out, rows, &mut r),
                4 => self.row_blocks::<2, 4>(src, out, rows, &mut r),
                _ => {}
            }
            for r in r..rows {
                let mut start = 0;
                while start + ACCUMULATORS * CHUNK <= len {
                    self.chunks_avx512::<1, ACCUMULATORS>(src, out, r, start);
                    start += ACCUMULATORS * CHUNK;
                }
                match (len - start).div_ceil(CHUNK) {
                    8 => self.chunks_avx512::<1, 8>(src, out, r, start),
                    7 => self.chunks_avx512::<1, 7>(src, out, r, start),
                    6 => self.chunks_avx512::<1, 6>(src, out, r, start),
                    5 => self.chunks_avx512::<1, 5>(src, out, r, start),
                    4 => self.chunks_avx512::<1, 4>(src, out, r, start),
                    3 => self.chunks_avx512::<1, 3>(src, out, r, start),
                    2 => self.chunks_avx512::<1, 2>(src, out, r, start),
                    1 => self.chunks_avx512::<1, 1>(src, out, r, start),
                    _ => {}
                }
            }
        }
    }

    /// Rows `*r..rows`, `N` chunks each (all of a row), in blocks of `R` while whole blocks
    /// remain; `*r` is left at the first row not done.
    ///
    /// # Safety
    /// As [`Taps::rows_avx512`].
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn row_blocks<const R: usize, const N: usize>(
        &self,
        src: *const f32,
        out: *mut f32,
        rows: usize,
        r: &mut usize,
    ) {
        while *r + R <= rows {
            // SAFETY: the caller's contract covers rows `*r..*r + R`.
            unsafe { self.chunks_avx512::<R, N>(src, out, *r, 0) };
            *r += R;
        }
    }

    /// `N` chunks from value `start` of each of rows `row..row + R`, the last chunk of a row
    /// masked to its `len` values.
    ///
    /// # Safety
    /// As [`Taps::rows_avx512`]; the rows exist and `start + (N - 1) · CHUNK < len`.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn chunks_avx512<const R: usize, const N: usize>(
        &self,
        src: *const f32,
        out: *mut f32,
        row: usize,
        start: usize,
    ) {
        use core::arch::x86_64::*;
        let mut acc = [[_mm512_setzero_ps(); N]; R];
        for (&off, &f) in self.offsets.iter().zip(self.filter) {
            let f = _mm512_set1_ps(f);
            for (i, acc) in acc.iter_mut().enumerate() {
                let from = (row + i) * self.pitch + off + start;
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: the caller's contract keeps the 16 values inside `src`.
                    let v = unsafe { _mm512_loadu_ps(src.add(from + j * CHUNK)) };
                    *a = _mm512_fmadd_ps(f, v, *a);
                }
            }
        }
        for (i, acc) in acc.into_iter().enumerate() {
            for (j, a) in acc.into_iter().enumerate() {
                let at = start + j * CHUNK;
                let n = (self.len - at).min(CHUNK);
                let lanes = ((1u32 << n) - 1) as __mmask16;
                // SAFETY: the mask keeps the store inside row `row + i` of `out`.
                unsafe { _mm512_mask_storeu_ps(out.add((row + i) * self.len + at), lanes, a) };
            }
        }
    }

    /// [`Taps::rows_chunks`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn rows_avx2(&self, src: &[f32], out: &mut [f32]) {
        self.rows_chunks(src, out)
    }

    /// [`tap_rows`] chunk by chunk, each product rounded before it is added.
    #[inline(always)]
    fn rows_chunks(&self, src: &[f32], out: &mut [f32]) {
        for (r, row) in out.chunks_exact_mut(self.len).enumerate() {
            let src = &src[r * self.pitch..];
            for (c, dst) in row.chunks_mut(CHUNK).enumerate() {
                let mut acc = [0.0f32; CHUNK];
                for (&off, &f) in self.offsets.iter().zip(self.filter) {
                    let taps: &[f32; CHUNK] =
                        src[off + c * CHUNK..][..CHUNK].try_into().expect("a chunk");
                    for (a, &v) in acc.iter_mut().zip(taps) {
                        *a += f * v;
                    }
                }
                if let Ok(dst) = <&mut [f32; CHUNK]>::try_from(&mut *dst) {
                    *dst = acc;
                } else {
                    dst.copy_from_slice(&acc[..dst.len()]);
                }
            }
        }
    }
}

/// Writes the values of `row`, placed at column `pl` of a zeroed line, into the line's two
/// stride phases (`line[..phase]` the even columns, `line[phase..]` the odd ones).
fn split_pairs(row: &[f32], pl: usize, line: &mut [f32], phase: usize) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { split_pairs_avx512(row, pl, line, phase) };
    }
    split_pairs_portable(row, pl, line, phase)
}

/// [`split_pairs_portable`] compiled for AVX-512.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn split_pairs_avx512(row: &[f32], pl: usize, line: &mut [f32], phase: usize) {
    split_pairs_portable(row, pl, line, phase)
}

#[inline(always)]
fn split_pairs_portable(row: &[f32], pl: usize, line: &mut [f32], phase: usize) {
    let (even, odd) = line.split_at_mut(phase);
    // An odd left padding puts the row's first value in the odd phase: peel it off, and
    // the rest pairs up from an even column.
    let (row, start) = match (pl % 2, row.split_first()) {
        (1, Some((&first, rest))) => {
            odd[pl / 2] = first;
            (rest, pl / 2 + 1)
        }
        _ => (row, pl / 2),
    };
    let pairs = row.chunks_exact(2);
    if let [last] = pairs.remainder() {
        even[start + row.len() / 2] = *last;
    }
    for ((pair, e), o) in pairs.zip(&mut even[start..]).zip(&mut odd[start..]) {
        *e = pair[0];
        *o = pair[1];
    }
}

/// The input lines that output rows `oy0..oy1` of a strided window read (an `h × w` plane),
/// zero-padded and split by column into the window's `sx` stride phases (column `c` of a
/// padded line goes to phase `c mod sx`, position `c div sx`): every tap of an output row
/// is then a contiguous run of `ow` values ([`PhaseLines::tap`]), which vectorises where
/// reading every `sx`-th value does not.
struct PhaseLines {
    /// Padded input lines laid out, and the values of one stride phase of one line.
    lines: usize,
    phase: usize,
    sx: usize,
    sy: usize,
    dilations: [usize; 2],
    pads: [usize; 2],
    /// The first output row's first input line (before padding).
    first: usize,
    input: [usize; 2],
}

impl PhaseLines {
    fn new(win: &Window, h: usize, w: usize, oy0: usize, oy1: usize, ow: usize) -> Self {
        let ([sy, sx], [dy, dx]) = (win.strides, win.dilations);
        let width = win.reach(1, ow).max(win.pads[1] + w);
        PhaseLines {
            lines: win.reach(0, oy1 - oy0),
            phase: width.div_ceil(sx),
            sx,
            sy,
            dilations: [dy, dx],
            pads: win.pads,
            first: oy0 * sy,
            input: [h, w],
        }
    }

    /// Lays out the plane `x` into `padded`, zero where the window reads padding (every
    /// value written once).
    fn lay_out(&self, x: &[f32], padded: &mut Vec<f32>) {
        let ([h, w], [pt, pl], sx) = (self.input, self.pads, self.sx);
        let lines = self.lines * sx * self.phase;
        padded.resize(lines + CHUNK, 0.0);
        padded[lines..].fill(0.0);
        for (l, line) in padded[..lines]
            .chunks_exact_mut(sx * self.phase)
            .enumerate()
        {
            let Some(iy) = (self.first + l).checked_sub(pt).filter(|&iy| iy < h) else {
                line.fill(0.0);
                continue;
            };
            let row = &x[iy * w..(iy + 1) * w];
            // Each phase's values: `n` from position `c0 / sx`, where `c0` is the first
            // padded column of the phase that holds an input value; zeros around them.
            for (p, phase) in line.chunks_exact_mut(self.phase).enumerate() {
                let c0 = pl + (p + sx - pl % sx) % sx;
                let n = w.saturating_sub(c0 - pl).div_ceil(sx);
                let j0 = (c0 / sx).min(self.phase);
                phase[..j0].fill(0.0);
                phase[j0 + n..].fill(0.0);
                if sx != 2 && n > 0 {
                    copy_strided(&mut phase[j0..][..n], &row[c0 - pl..], sx);
                }
            }
            if sx == 2 {
                split_pairs(row, pl, line, self.phase);
            }
        }
    }

    /// Where tap `(ky, kx)` of output row `r`'s first output lies: the row's outputs read
    /// it and the `ow - 1` values after it.
    fn tap(&self, r: usize, ky: usize, kx: usize) -> usize {
        let line = r * self.sy + ky * self.dilations[0];
        let c = kx * self.dilations[1];
        (line * self.sx + c % self.sx) * self.phase + c / self.sx
    }
}

crate::scratch! {
    /// Per-thread scratch of [`depthwise_plane`]: padded input lines, sums, tap offsets.
    static GRID: (Vec<f32>, Vec<f32>, Vec<usize>);
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
    GRID.with_mut(|(padded, sums, offsets)| {
        grid.lay_out(x, padded, 0.0);
        offsets.clear();
        let grid_ref = &grid;
        offsets.extend((0..kh).flat_map(|ky| (0..kw).map(move |kx| grid_ref.tap(ky, kx))));
        // Row by row straight into `out`, unless one pass over the grid (whose values past
        // each row's outputs are then dropped, a copy) takes a quarter fewer chunks of sums.
        let rows = oy1 - oy0;
        if 3 * rows * ow.div_ceil(CHUNK) <= 4 * grid.values().div_ceil(CHUNK) {
            tap_rows(padded, grid.width, offsets, filter, out, ow);
        } else {
            // Every value is written by the pass: sized, not cleared.
            let values = grid.values();
            sums.resize(values, 0.0);
            tap_rows(padded, values, offsets, filter, sums, values);
            grid.keep_outputs(sums, out);
        }
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

    /// Lays out the plane `x` into `padded`, `zero` where the window reads padding (every
    /// value written once: the lines' values copied, only the padding around them zeroed).
    pub fn lay_out<T: Copy>(&self, x: &[T], padded: &mut Vec<T>, zero: T) {
        let ([h, w], [pt, pl]) = (self.input, self.pads);
        let lines = self.lines * self.width;
        padded.resize(lines + self.slack + CHUNK, zero);
        padded[lines..].fill(zero);
        for (l, line) in padded[..lines].chunks_exact_mut(self.width).enumerate() {
            match (self.oy0 + l).checked_sub(pt).filter(|&iy| iy < h) {
                Some(iy) => {
                    line[..pl].fill(zero);
                    line[pl..pl + w].copy_from_slice(&x[iy * w..(iy + 1) * w]);
                    line[pl + w..].fill(zero);
                }
                None => line.fill(zero),
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
