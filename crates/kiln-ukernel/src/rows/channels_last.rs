//! Depthwise convolution and pooling of channels-last (NHWC) images: each pixel's channels lie
//! side by side, so one tap of [`LANES`] neighbouring channels of one output is one vector,
//! read where it lies — no layout, no transposes.
//!
//! Outputs whose windows reach into padding run over exactly the taps that read input
//! ([`Window::taps`] along rows and columns), so every read lies inside the image. Every
//! output adds its taps in order from zero, one multiply-add each (fused on AVX-512, as the
//! planar paths there); an average pools its taps in the same order as
//! [`pool_plane`](super::pool_plane) does, so the two agree to the bit.

use super::window::Window;
use crate::scratch::Scratch;
use alloc::vec::Vec;
use core::ops::Range;

/// Channels one vector holds: 512 bits of f32.
pub const LANES: usize = 16;

/// Outputs of a row the vector path keeps in registers at once.
#[cfg(target_arch = "x86_64")]
const AT_ONCE: usize = 8;

/// Runs shorter than this go output by output, several vectors of channels at once.
#[cfg(target_arch = "x86_64")]
const SHORT_RUN: usize = 4;

/// Depthwise convolution of one channels-last image `x` of `[h, w, c]` (pixel `(iy, ix)`'s
/// channels at `x[(iy·w + ix)·c..]`), tap `t` of channel `ch` weighted by
/// `filters[t·c + ch]` (`[kh·kw, c]`): channels `channels` of output rows `oy0..oy1`, `ow`
/// wide, go to `out`, which holds those rows of the `[oh, ow, c]` output from row `oy0` on.
///
/// ```
/// use kiln_ukernel::rows::{depthwise_channels_last, Window};
/// // A 2x2 image of two channels, a 2x2 window of ones: each channel's sum.
/// let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
/// let win = Window { kernel: [2, 2], strides: [1, 1], pads: [0, 0], dilations: [1, 1] };
/// let mut out = [0.0; 2];
/// depthwise_channels_last(&x, [2, 2, 2], &[1.0; 8], &win, [0, 1, 1], 0..2, &mut out);
/// assert_eq!(out, [10.0, 100.0]);
/// ```
///
/// # Panics
/// When `x`, `filters` or `out` is shorter than that, or `channels` reaches past `c`.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_channels_last(
    x: &[f32],
    [h, w, c]: [usize; 3],
    filters: &[f32],
    win: &Window,
    [oy0, oy1, ow]: [usize; 3],
    channels: Range<usize>,
    out: &mut [f32],
) {
    let [kh, kw] = win.kernel;
    let rows = oy1.saturating_sub(oy0);
    assert!(
        x.len() >= h * w * c
            && filters.len() >= kh * kw * c
            && out.len() >= rows * ow * c
            && channels.end <= c,
        "a channels-last depthwise convolution's operands are too short"
    );
    if rows == 0 || ow == 0 || channels.is_empty() {
        return;
    }
    let [dh, dw] = win.dilations;
    let first =
        |d: usize, o: usize, k: usize| o * win.strides[d] + k * win.dilations[d] - win.pads[d];
    TAPS.with_mut(|taps| {
        for oy in oy0..oy1 {
            let (ky0, ky1) = win.taps(0, oy, h);
            // Runs of outputs along the row that read the same taps.
            let mut ox = 0;
            while ox < ow {
                let (kx0, kx1) = win.taps(1, ox, w);
                let end = (ox + 1..ow)
                    .find(|&o| win.taps(1, o, w) != (kx0, kx1))
                    .unwrap_or(ow);
                // Each tap as where it reads, from the first tap's pixel, and its filter row.
                taps.clear();
                for ky in ky0..ky1 {
                    for kx in kx0..kx1 {
                        let at = ((ky - ky0) * dh * w + (kx - kx0) * dw) * c;
                        taps.push((at, (ky * kw + kx) * c));
                    }
                }
                let job = Job {
                    x,
                    filters,
                    taps,
                    x_step: win.strides[1] * c,
                    pitch: c,
                };
                let at = Run {
                    x: match taps.is_empty() {
                        true => 0,
                        false => (first(0, oy, ky0) * w + first(1, ox, kx0)) * c,
                    },
                    out: ((oy - oy0) * ow + ox) * c,
                };
                job.run(at, end - ox, channels.clone(), out);
                ox = end;
            }
        }
    });
}

/// Max or average pooling of one channels-last image `x` of `[h, w, c]` (pixel `(iy, ix)`'s
/// channels at `x[(iy·w + ix)·c..]`): every channel of output rows `oy0..oy1`, `ow` wide, goes
/// to `out`, which holds those rows of the `[oh, ow, c]` output from row `oy0` on. An average
/// divides by the taps that read the image, or by the whole window with `count_include_pad`; a
/// maximum skips NaN, as `f32::max` does (a window wholly in padding gives zero or minus
/// infinity).
///
/// ```
/// use kiln_ukernel::rows::{pool_channels_last, Window};
/// // A 2x2 image of two channels, one 2x2 window: each channel's maximum, then its mean.
/// let x = [1.0, 10.0, 2.0, 40.0, 3.0, 30.0, 4.0, 20.0];
/// let win = Window { kernel: [2, 2], strides: [1, 1], pads: [0, 0], dilations: [1, 1] };
/// let mut out = [0.0; 2];
/// pool_channels_last(&x, [2, 2, 2], &win, true, false, [0, 1, 1], &mut out);
/// assert_eq!(out, [4.0, 40.0]);
/// pool_channels_last(&x, [2, 2, 2], &win, false, false, [0, 1, 1], &mut out);
/// assert_eq!(out, [2.5, 25.0]);
/// ```
///
/// # Panics
/// When `x` or `out` is shorter than that.
pub fn pool_channels_last(
    x: &[f32],
    [h, w, c]: [usize; 3],
    win: &Window,
    max: bool,
    count_include_pad: bool,
    [oy0, oy1, ow]: [usize; 3],
    out: &mut [f32],
) {
    assert!(
        x.len() >= h * w * c && out.len() >= oy1.saturating_sub(oy0) * ow * c,
        "a channels-last pooling's operands are too short"
    );
    let job = Pooling {
        x,
        dims: [h, w, c],
        win,
        max,
        count_include_pad,
    };
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { job.rows_avx512(oy0..oy1, ow, out) };
    }
    job.rows(oy0..oy1, ow, out)
}

/// What [`pool_channels_last`] pools.
struct Pooling<'a> {
    x: &'a [f32],
    dims: [usize; 3],
    win: &'a Window,
    max: bool,
    count_include_pad: bool,
}

impl Pooling<'_> {
    /// [`Pooling::rows`] compiled for AVX-512, whose loops over a pixel's channels LLVM
    /// vectorises 16 lanes wide.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn rows_avx512(&self, rows: Range<usize>, ow: usize, out: &mut [f32]) {
        self.rows(rows, ow, out)
    }

    /// Pools output rows `rows` into `out` (from the first of them on), output by output, each
    /// tap a pass over the pixel's channels.
    #[inline(always)]
    fn rows(&self, rows: Range<usize>, ow: usize, out: &mut [f32]) {
        let [h, w, c] = self.dims;
        let win = self.win;
        let whole = (win.kernel[0] * win.kernel[1]) as f32;
        let at =
            |d: usize, o: usize, k: usize| o * win.strides[d] + k * win.dilations[d] - win.pads[d];
        let oy0 = rows.start;
        for oy in rows {
            let (ky0, ky1) = win.taps(0, oy, h);
            for ox in 0..ow {
                let (kx0, kx1) = win.taps(1, ox, w);
                let o = &mut out[((oy - oy0) * ow + ox) * c..][..c];
                o.fill(if self.max { f32::NEG_INFINITY } else { 0.0 });
                for ky in ky0..ky1 {
                    for kx in kx0..kx1 {
                        let pixel = at(0, oy, ky) * w + at(1, ox, kx);
                        let tap = &self.x[pixel * c..][..c];
                        if self.max {
                            o.iter_mut().zip(tap).for_each(|(a, &v)| *a = a.max(v));
                        } else {
                            o.iter_mut().zip(tap).for_each(|(a, &v)| *a += v);
                        }
                    }
                }
                if !self.max {
                    let count = (ky1 - ky0) * (kx1 - kx0);
                    let divisor = match self.count_include_pad {
                        true => whole,
                        false => count.max(1) as f32,
                    };
                    o.iter_mut().for_each(|a| *a /= divisor);
                }
            }
        }
    }
}

crate::scratch! {
    /// Per-thread scratch of [`depthwise_channels_last`] (a warm call allocates nothing): a
    /// run's taps.
    static TAPS: Vec<(usize, usize)>;
}

/// Where a run of outputs starts: its first output's first tap in `x`, and its first output
/// in `out`.
#[derive(Clone, Copy)]
struct Run {
    x: usize,
    out: usize,
}

/// The image and filters a run of outputs reads, its taps, how far apart its outputs' reads
/// lie, and how far apart its outputs lie (the channels per pixel).
struct Job<'a> {
    x: &'a [f32],
    filters: &'a [f32],
    taps: &'a [(usize, usize)],
    x_step: usize,
    pitch: usize,
}

impl Job<'_> {
    /// Computes `n` consecutive outputs from `at`, channels `channels`. Outputs without
    /// taps (a window wholly in padding) are zero.
    fn run(&self, at: Run, n: usize, channels: Range<usize>, out: &mut [f32]) {
        if n == 0 {
            return;
        }
        let reach = self.taps.iter().map(|t| t.0).max().unwrap_or(0);
        assert!(
            (self.taps.is_empty()
                || at.x + reach + (n - 1) * self.x_step + channels.end <= self.x.len())
                && at.out + (n - 1) * self.pitch + channels.end <= out.len()
                && self
                    .taps
                    .iter()
                    .all(|t| t.1 + channels.end <= self.filters.len()),
            "a channels-last depthwise run reaches past its operands"
        );
        #[cfg(target_arch = "x86_64")]
        if crate::x86_feature!("avx512f") {
            // SAFETY: the CPU has AVX-512F; every read and write is inside its slice (checked).
            return unsafe { self.run_avx512(at, n, channels, out) };
        }
        self.run_portable(at, n, channels, out)
    }

    /// [`Job::run`] one output channel at a time.
    fn run_portable(&self, at: Run, n: usize, channels: Range<usize>, out: &mut [f32]) {
        for j in 0..n {
            for ch in channels.clone() {
                let mut acc = 0.0f32;
                for &(xo, fo) in self.taps {
                    acc += self.filters[fo + ch] * self.x[at.x + j * self.x_step + xo + ch];
                }
                out[at.out + j * self.pitch + ch] = acc;
            }
        }
    }

    /// [`Job::run`] on 16 lanes: [`AT_ONCE`] outputs at a time for each vector of channels
    /// (each input pixel loaded once for the outputs it feeds where the taps lie in rows,
    /// [`Job::tap_rows`]), then the outputs left over for several vectors of channels at
    /// once, so that as many sums are going as in a whole block.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; the reads and writes [`Job::run`] checks lie inside
    /// their slices.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, at: Run, n: usize, channels: Range<usize>, out: &mut [f32]) {
        if n < SHORT_RUN {
            // SAFETY: the caller's contract.
            return unsafe { self.short_run_avx512(at, n, channels, out) };
        }
        let rows = self.tap_rows();
        let whole = n / AT_ONCE * AT_ONCE;
        for ch in channels.clone().step_by(LANES) {
            let mask = super::math::x86::lanes(ch, channels.end);
            for j in (0..whole).step_by(AT_ONCE) {
                // SAFETY: the caller's contract, for outputs `j..j + AT_ONCE`, channels
                // `ch..` of the mask.
                unsafe {
                    match rows {
                        Some(3) => self.sliding_block_avx512::<AT_ONCE, 3>(at, j, ch, mask, out),
                        Some(5) => self.sliding_block_avx512::<AT_ONCE, 5>(at, j, ch, mask, out),
                        Some(7) => self.sliding_block_avx512::<AT_ONCE, 7>(at, j, ch, mask, out),
                        _ => self.block_avx512::<AT_ONCE, 1>(at, j, ch, mask, out),
                    }
                }
            }
        }
        // SAFETY: the caller's contract, for outputs `whole..n`.
        unsafe {
            match n - whole {
                7 => self.tail_avx512::<7, 1>(at, whole, channels, out),
                6 => self.tail_avx512::<6, 1>(at, whole, channels, out),
                5 => self.tail_avx512::<5, 2>(at, whole, channels, out),
                4 => self.tail_avx512::<4, 2>(at, whole, channels, out),
                3 => self.tail_avx512::<3, 3>(at, whole, channels, out),
                2 => self.tail_avx512::<2, 4>(at, whole, channels, out),
                1 => self.tail_avx512::<1, AT_ONCE>(at, whole, channels, out),
                _ => {}
            }
        }
    }

    /// Outputs `j..j + N` of [`Job::run_avx512`], `K` vectors of channels at a time, then
    /// one at a time, the last masked to the channels.
    ///
    /// # Safety
    /// As [`Job::run_avx512`], for those outputs.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn tail_avx512<const N: usize, const K: usize>(
        &self,
        at: Run,
        j: usize,
        channels: Range<usize>,
        out: &mut [f32],
    ) {
        let mut ch = channels.start;
        // SAFETY (each call): the caller's contract, for outputs `j..j + N`, channels from
        // `ch` on.
        unsafe {
            while channels.end - ch >= K * LANES {
                self.block_avx512::<N, K>(at, j, ch, u16::MAX, out);
                ch += K * LANES;
            }
            for ch in (ch..channels.end).step_by(LANES) {
                self.block_avx512::<N, 1>(
                    at,
                    j,
                    ch,
                    super::math::x86::lanes(ch, channels.end),
                    out,
                );
            }
        }
    }

    /// The length of the taps' rows when they are rows of one length of neighbouring taps
    /// (each a pixel and a filter row after the one before) and outputs step one pixel: a
    /// window of unit stride and dilation along rows, over taps that read the image.
    #[cfg(target_arch = "x86_64")]
    fn tap_rows(&self) -> Option<usize> {
        let next = |w: &[(usize, usize)]| w[1] == (w[0].0 + self.pitch, w[0].1 + self.pitch);
        if self.x_step != self.pitch || self.taps.is_empty() {
            return None;
        }
        let len = self
            .taps
            .windows(2)
            .position(|w| !next(w))
            .map_or(self.taps.len(), |i| i + 1);
        let rows_whole = self.taps.len().is_multiple_of(len)
            && self
                .taps
                .chunks_exact(len)
                .all(|row| row.windows(2).all(next));
        rows_whole.then_some(len)
    }

    /// Outputs `j..j + N` of [`Job::run_avx512`] over taps in rows of `L`
    /// ([`Job::tap_rows`]), the vector of channels from `ch` (lanes of `mask`): each input
    /// pixel of a row is loaded once for the `L` outputs it feeds (`N + L - 1` loads a row,
    /// where tap by tap takes `L · N`), each output still adding its taps in order.
    ///
    /// # Safety
    /// As [`Job::run_avx512`], with those channels inside the checked range.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn sliding_block_avx512<const N: usize, const L: usize>(
        &self,
        at: Run,
        j: usize,
        ch: usize,
        mask: u16,
        out: &mut [f32],
    ) {
        use core::arch::x86_64::*;
        let mut acc = [_mm512_setzero_ps(); N];
        let src = self.x.as_ptr().wrapping_add(at.x + j * self.x_step + ch);
        let filters = self.filters.as_ptr().wrapping_add(ch);
        for row in self.taps.chunks_exact(L) {
            let (xo, fo) = row[0];
            // SAFETY: the row's taps and pixels are the ones the tap-by-tap block reads
            // (pixel `p` of the row is output `p - t`'s tap `t`); masked-off lanes are not
            // read.
            unsafe {
                let f: [__m512; L] = core::array::from_fn(|t| {
                    _mm512_maskz_loadu_ps(mask, filters.add(fo + t * self.pitch))
                });
                for p in 0..N + L - 1 {
                    let v = _mm512_maskz_loadu_ps(mask, src.add(xo + p * self.pitch));
                    for (t, &f) in f.iter().enumerate() {
                        if p >= t && p - t < N {
                            acc[p - t] = _mm512_fmadd_ps(f, v, acc[p - t]);
                        }
                    }
                }
            }
        }
        let dst = out.as_mut_ptr().wrapping_add(at.out + j * self.pitch + ch);
        for (i, v) in acc.into_iter().enumerate() {
            // SAFETY: output `j + i`'s lanes of the mask lie inside `out`.
            unsafe { _mm512_mask_storeu_ps(dst.add(i * self.pitch), mask, v) };
        }
    }

    /// [`Job::run_avx512`] for a run of fewer than [`SHORT_RUN`] outputs (a border column):
    /// output by output, [`AT_ONCE`] vectors of channels at once, so that the chains of
    /// multiply-adds overlap as a long run's outputs' do.
    ///
    /// # Safety
    /// As [`Job::run_avx512`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn short_run_avx512(&self, at: Run, n: usize, channels: Range<usize>, out: &mut [f32]) {
        for j in 0..n {
            let mut ch = channels.start;
            let mut vectors = channels.len() / LANES;
            // SAFETY (each call): the caller's contract, for output `j`, channels from `ch`.
            unsafe {
                while vectors >= AT_ONCE {
                    self.block_avx512::<1, AT_ONCE>(at, j, ch, u16::MAX, out);
                    (ch, vectors) = (ch + AT_ONCE * LANES, vectors - AT_ONCE);
                }
                match vectors {
                    7 => self.block_avx512::<1, 7>(at, j, ch, u16::MAX, out),
                    6 => self.block_avx512::<1, 6>(at, j, ch, u16::MAX, out),
                    5 => self.block_avx512::<1, 5>(at, j, ch, u16::MAX, out),
                    4 => self.block_avx512::<1, 4>(at, j, ch, u16::MAX, out),
                    3 => self.block_avx512::<1, 3>(at, j, ch, u16::MAX, out),
                    2 => self.block_avx512::<1, 2>(at, j, ch, u16::MAX, out),
                    1 => self.block_avx512::<1, 1>(at, j, ch, u16::MAX, out),
                    _ => {}
                }
                ch += vectors * LANES;
                if ch < channels.end {
                    self.block_avx512::<1, 1>(
                        at,
                        j,
                        ch,
                        super::math::x86::lanes(ch, channels.end),
                        out,
                    );
                }
            }
        }
    }

    /// Outputs `j..j + N` of [`Job::run_avx512`], `K` vectors of channels from `ch`, the
    /// last one's lanes those of `mask` (the others whole).
    ///
    /// # Safety
    /// As [`Job::run_avx512`], with those channels inside the checked range.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn block_avx512<const N: usize, const K: usize>(
        &self,
        at: Run,
        j: usize,
        ch: usize,
        mask: u16,
        out: &mut [f32],
    ) {
        use core::arch::x86_64::*;
        let masks: [u16; K] = core::array::from_fn(|k| if k + 1 == K { mask } else { u16::MAX });
        let mut acc = [[_mm512_setzero_ps(); K]; N];
        let src = self.x.as_ptr().wrapping_add(at.x + j * self.x_step + ch);
        let taps = self.filters.as_ptr().wrapping_add(ch);
        for &(xo, fo) in self.taps {
            for (k, &m) in masks.iter().enumerate() {
                // SAFETY: the caller's contract keeps every vector's lanes of its mask inside
                // its slice; masked-off lanes are not read.
                unsafe {
                    let f = _mm512_maskz_loadu_ps(m, taps.add(fo + k * LANES));
                    for (i, a) in acc.iter_mut().enumerate() {
                        let v = _mm512_maskz_loadu_ps(m, src.add(xo + i * self.x_step + k * LANES));
                        a[k] = _mm512_fmadd_ps(f, v, a[k]);
                    }
                }
            }
        }
        let dst = out.as_mut_ptr().wrapping_add(at.out + j * self.pitch + ch);
        for (i, a) in acc.into_iter().enumerate() {
            for (k, (v, &m)) in a.into_iter().zip(&masks).enumerate() {
                // SAFETY: output `j + i`'s lanes of the mask lie inside `out`.
                unsafe { _mm512_mask_storeu_ps(dst.add(i * self.pitch + k * LANES), m, v) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104729) % 1009) as f32 / 504.5 - 1.0)
            .collect()
    }

    /// Against a direct sum over every tap, padding read as zeros: odd channel counts (a
    /// masked last vector), strides, dilations, padding on every side, row ranges.
    #[test]
    fn matches_a_direct_sum() {
        for (c, [h, w], k, s, d, p) in [
            (24, [9, 11], 3, 1, 1, 1),
            (33, [7, 7], 3, 2, 1, 1),
            (16, [12, 5], 5, 1, 1, 2),
            (5, [6, 9], 3, 2, 2, 2),
            (40, [4, 4], 3, 3, 1, 0),
            (17, [10, 21], 5, 2, 1, 2),
            // Interior runs of rows of neighbouring taps, each pixel loaded once for them.
            (40, [10, 23], 5, 1, 1, 2),
            (20, [9, 30], 7, 1, 1, 3),
            (24, [8, 20], 3, 1, 2, 2),
        ] {
            let win = Window {
                kernel: [k, k],
                strides: [s, s],
                pads: [p, p],
                dilations: [d, d],
            };
            let out_len = |n: usize| (n + 2 * p - d * (k - 1) - 1) / s + 1;
            let [oh, ow] = [out_len(h), out_len(w)];
            let x = values(h * w * c, c);
            let f = values(k * k * c, k);
            let mut expect = vec![0.0f32; oh * ow * c];
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..c {
                        let mut acc = 0.0f32;
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * s + ky * d) as isize - p as isize;
                                let ix = (ox * s + kx * d) as isize - p as isize;
                                if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                    let v = x[(iy as usize * w + ix as usize) * c + ch];
                                    acc += f[(ky * k + kx) * c + ch] * v;
                                }
                            }
                        }
                        expect[(oy * ow + ox) * c + ch] = acc;
                    }
                }
            }
            // Two row ranges, the channels split unevenly.
            let split = oh / 2;
            let mut got = vec![f32::NAN; oh * ow * c];
            for (rows, chans) in [
                (0..split, 0..c / 3),
                (0..split, c / 3..c),
                (split..oh, 0..c),
            ] {
                let out = &mut got[rows.start * ow * c..];
                depthwise_channels_last(
                    &x,
                    [h, w, c],
                    &f,
                    &win,
                    [rows.start, rows.end, ow],
                    chans,
                    out,
                );
            }
            for (i, (g, e)) in got.iter().zip(&expect).enumerate() {
                assert!(
                    (g - e).abs() <= 1e-5 * (1.0 + e.abs()),
                    "c {c} at {i}: {g} vs {e}"
                );
            }
        }
    }

    /// The vector path against the portable one on a run of every length up to two blocks
    /// of outputs, a masked last vector included.
    #[test]
    fn vector_path_matches_the_portable_one() {
        let c = 150;
        let scattered = [(0, 0), (150, 150), (450, 300)];
        // Two rows of three neighbouring taps, outputs a pixel apart: the sliding path.
        let rows = [0, 1, 2, 20, 21, 22].map(|t| (t % 20 * c + t / 20 * 20 * c, t % 20 * c));
        let x = values(60 * c, 3);
        let f = values(3 * c, 4);
        for (taps, x_step) in [(&scattered[..], 2 * c), (&rows[..], c)] {
            let job = Job {
                x: &x,
                filters: &f,
                taps,
                x_step,
                pitch: c,
            };
            #[cfg(target_arch = "x86_64")]
            assert_eq!(job.tap_rows(), (x_step == c).then_some(3));
            // Up to two blocks of eight outputs, and a rest.
            for n in 1..=19 {
                let at = Run { x: 5, out: 3 };
                let mut want = vec![0.0; 3 + n * c];
                job.run_portable(at, n, 2..c, &mut want);
                let mut got = vec![0.0; 3 + n * c];
                job.run(at, n, 2..c, &mut got);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-6 * (1.0 + w.abs()), "{n}: {g} vs {w}");
                }
            }
        }
    }

    /// Pooling a channels-last image agrees to the bit with pooling its planes one by one
    /// ([`pool_plane`](super::super::pool_plane)): max and average, padding counted or not,
    /// strides, windows reaching past the image, odd channel counts, row ranges.
    #[test]
    fn pooling_matches_the_planes() {
        for (c, [h, w], k, s, p) in [
            (24, [9, 11], 3, 2, 1),
            (5, [7, 7], 2, 2, 0),
            (33, [6, 13], 5, 1, 2),
            (17, [5, 4], 3, 3, 2),
        ] {
            let win = Window {
                kernel: [k, k],
                strides: [s, s],
                pads: [p, p],
                dilations: [1, 1],
            };
            let out_len = |n: usize| (n + 2 * p - k) / s + 1;
            let [oh, ow] = [out_len(h), out_len(w)];
            let x = values(h * w * c, c + k);
            for (max, count_include_pad) in [(true, false), (false, false), (false, true)] {
                let mut expect = vec![0.0f32; oh * ow * c];
                let mut plane_out = vec![0.0f32; oh * ow];
                for ch in 0..c {
                    let plane: Vec<f32> = (0..h * w).map(|i| x[i * c + ch]).collect();
                    crate::rows::pool_plane(
                        &plane,
                        h,
                        w,
                        &win,
                        max,
                        count_include_pad,
                        0,
                        oh,
                        ow,
                        &mut plane_out,
                    );
                    for (i, &v) in plane_out.iter().enumerate() {
                        expect[i * c + ch] = v;
                    }
                }
                let mut got = vec![f32::NAN; oh * ow * c];
                let split = oh / 2;
                for rows in [0..split, split..oh] {
                    let out = &mut got[rows.start * ow * c..];
                    let extent = [rows.start, rows.end, ow];
                    pool_channels_last(&x, [h, w, c], &win, max, count_include_pad, extent, out);
                }
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got),
                    bits(&expect),
                    "c {c} k {k} s {s} p {p} max {max}"
                );
            }
        }
    }
}
