//! 2-D sliding windows over one plane: tap ranges, stride phases, the band layout a
//! convolution's GEMM reads, and im2col panels.

use crate::AlignedVec;
use alloc::vec::Vec;
use core::ops::Range;
use smallvec::SmallVec;

/// A 2-D sliding window over one `h×w` plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Top and left padding (bottom/right padding only shows in the output size).
    pub pads: [usize; 2],
    pub dilations: [usize; 2],
}

impl Window {
    /// Whether each output pixel reads only its own input pixel (1×1, unit strides, no top
    /// or left padding): a pointwise convolution's input planes are its GEMM's rows as they
    /// lie, when the output is as large as the input.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.strides == [1, 1] && self.pads == [0, 0]
    }

    /// Input coordinate of output `o`, tap `k` along dim `d`, if inside `0..len`.
    #[inline(always)]
    pub(super) fn input(&self, d: usize, o: usize, k: usize, len: usize) -> Option<usize> {
        let i = (o * self.strides[d] + k * self.dilations[d]).checked_sub(self.pads[d])?;
        (i < len).then_some(i)
    }

    /// How many consecutive padded input positions along dim `d` the windows of `outputs`
    /// consecutive outputs (at least one) read, from the first one's first tap to the last
    /// one's last.
    pub fn reach(&self, d: usize, outputs: usize) -> usize {
        (outputs.max(1) - 1) * self.strides[d] + (self.kernel[d] - 1) * self.dilations[d] + 1
    }

    /// The taps `k` of output `o` along dim `d` whose input lies inside `0..len`, as a range
    /// (taps outside it read padding).
    #[inline(always)]
    pub fn taps(&self, d: usize, o: usize, len: usize) -> (usize, usize) {
        let (s, dl, p) = (self.strides[d], self.dilations[d].max(1), self.pads[d]);
        let start = o * s;
        // start + k*dl >= p  and  start + k*dl < p + len; no division for the usual dl = 1
        // (this runs per output of a pooling row).
        let (lo, hi) = (p.saturating_sub(start), (p + len).saturating_sub(start));
        let (lo, hi) = match dl {
            1 => (lo, hi),
            _ => (lo.div_ceil(dl), hi.div_ceil(dl)),
        };
        (
            lo.min(self.kernel[d]),
            hi.min(self.kernel[d]).max(lo.min(self.kernel[d])),
        )
    }

    /// Outputs `outputs` along dim `d` in runs that read the same taps of a `len`-long input
    /// (the taps [`Window::taps`] gives; the others read padding only), in order.
    ///
    /// ```
    /// use kiln_ukernel::rows::{TapGroup, Window};
    /// // 3 taps, padding 1 on a 4-long input: output 0 reads taps 1..3, 1-2 all, 3 taps 0..2.
    /// let win = Window { kernel: [3, 3], strides: [1, 1], pads: [1, 1], dilations: [1, 1] };
    /// let groups = win.tap_groups(0, 0..4, 4);
    /// let runs: Vec<_> = groups.iter().map(|g| (g.outputs.clone(), g.taps.clone())).collect();
    /// assert_eq!(runs, [(0..1, 1..3), (1..3, 0..3), (3..4, 0..2)]);
    /// ```
    pub fn tap_groups(&self, d: usize, outputs: Range<usize>, len: usize) -> Vec<TapGroup> {
        let mut groups: Vec<TapGroup> = Vec::new();
        for o in outputs {
            let (lo, hi) = self.taps(d, o, len);
            match groups.last_mut() {
                Some(g) if g.taps == (lo..hi) => g.outputs.end = o + 1,
                _ => groups.push(TapGroup {
                    outputs: o..o + 1,
                    taps: lo..hi,
                }),
            }
        }
        groups
    }

    /// The outputs `o < outputs` along dim `d` whose tap `k` lies inside `0..len`, as a range,
    /// with the input coordinate of the first one (meaningless when the range is empty).
    #[inline(always)]
    pub fn outputs_of_tap(
        &self,
        d: usize,
        k: usize,
        len: usize,
        outputs: usize,
    ) -> (usize, usize, usize) {
        let (s, p) = (self.strides[d].max(1), self.pads[d]);
        let off = k * self.dilations[d];
        // o*s + off >= p  and  o*s + off < p + len
        let lo = p.saturating_sub(off).div_ceil(s).min(outputs);
        let hi = (p + len)
            .saturating_sub(off)
            .div_ceil(s)
            .min(outputs)
            .max(lo);
        (lo, hi, (lo * s + off).saturating_sub(p))
    }
}

/// A run of outputs along one axis of a [`Window`] that read the same taps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapGroup {
    pub outputs: Range<usize>,
    /// The taps whose input lies inside the plane.
    pub taps: Range<usize>,
}

/// One axis of a strided window split into phases: input coordinate `i` belongs to phase
/// `i mod stride` at position `i div stride`, so tap `k` of output `o` (input `o·s + k·d - pad`)
/// reads its phase at position `o + q_k`, a stride-1 access. Tap `k` is `(phase, shift)`: the
/// index of its residue in `residues` and `q_k - q_min`.
struct Phases {
    stride: usize,
    residues: SmallVec<[usize; 4]>,
    taps: SmallVec<[(usize, usize); 16]>,
    q_min: isize,
    /// The largest shift: extra positions a band line needs beyond the outputs.
    span: usize,
}

impl Phases {
    fn new(win: &Window, d: usize) -> Phases {
        let s = win.strides[d].max(1) as isize;
        let offsets: SmallVec<[isize; 16]> = (0..win.kernel[d])
            .map(|k| (k * win.dilations[d].max(1)) as isize - win.pads[d] as isize)
            .collect();
        let q_min = offsets.iter().map(|o| o.div_euclid(s)).min().unwrap_or(0);
        let q_max = offsets.iter().map(|o| o.div_euclid(s)).max().unwrap_or(0);
        // Each residue once, in order (inserted in place: a sort would be kilobytes of code).
        let mut residues: SmallVec<[usize; 4]> = SmallVec::new();
        for o in &offsets {
            let r = o.rem_euclid(s) as usize;
            if let Err(at) = residues.binary_search(&r) {
                residues.insert(at, r);
            }
        }
        let taps = offsets
            .iter()
            .map(|o| {
                let phase = residues.binary_search(&(o.rem_euclid(s) as usize));
                (phase.unwrap_or(0), (o.div_euclid(s) - q_min) as usize)
            })
            .collect();
        Phases {
            stride: s as usize,
            residues,
            taps,
            q_min,
            span: (q_max - q_min) as usize,
        }
    }

    /// For a line of `len` positions of phase `residue` whose position 0 serves output `first`'s
    /// smallest shift: the positions whose input lies inside `0..n`, and the input of the first.
    fn inside(&self, residue: usize, first: usize, len: usize, n: usize) -> (usize, usize, usize) {
        let (s, t0) = (self.stride as isize, first as isize + self.q_min);
        // Position u reads input s·(t0 + u) + residue.
        let lo = (-t0).max(0) as usize;
        let last = (n as isize - 1 - residue as isize).div_euclid(s);
        let hi = ((last - t0 + 1).max(0) as usize).clamp(lo.min(len), len);
        let lo = lo.min(hi);
        (lo, hi, (s * (t0 + lo as isize)).max(0) as usize + residue)
    }
}

/// Copies `src[i·step]` into `dst[i]`.
#[inline(always)]
pub(super) fn copy_strided(dst: &mut [f32], src: &[f32], step: usize) {
    match step {
        1 if dst.len() <= 64 => copy_short(dst, src),
        1 => dst.copy_from_slice(&src[..dst.len()]),
        2 => {
            // Lines of 17 or more values take 16 a step on AVX-512, the rest 4 at a time.
            #[cfg(target_arch = "x86_64")]
            if dst.len() > 16 && crate::x86_feature!("avx512f") {
                // SAFETY: the CPU has AVX-512F.
                let done = unsafe { copy_even_avx512(dst, src) };
                return copy_even(&mut dst[done..], &src[2 * done..]);
            }
            copy_even(dst, src);
        }
        _ => {
            for (d, s) in dst.iter_mut().zip(src.iter().step_by(step)) {
                *d = *s;
            }
        }
    }
}

/// `dst[i] = src[2i]` for `i` below the returned count, 16 values a step from two loads and
/// one lane shuffle, as many whole steps as stay inside `src`'s values up to `src[2·(n-1)]`
/// ([`copy_even`] does the rest).
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn copy_even_avx512(dst: &mut [f32], src: &[f32]) -> usize {
    use core::arch::x86_64::*;
    let Some(last) = dst.len().checked_sub(1) else {
        return 0;
    };
    let src = &src[..=2 * last];
    let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    let mut i = 0;
    // A step reads 32 values: the last of them, src[2i + 31], must lie inside `src` (which
    // also keeps the 16 written inside `dst`).
    while 2 * i + 32 <= src.len() {
        // SAFETY: values 2i..2i + 32 of `src` and i..i + 16 of `dst` exist (checked above).
        unsafe {
            let at = src.as_ptr().add(2 * i);
            let (lo, hi) = (_mm512_loadu_ps(at), _mm512_loadu_ps(at.add(16)));
            _mm512_storeu_ps(
                dst.as_mut_ptr().add(i),
                _mm512_permutex2var_ps(lo, even, hi),
            );
        }
        i += 16;
    }
    i
}

/// `dst[i] = src[2i]`, 4 values a step (an SSE shuffle on x86-64).
fn copy_even(dst: &mut [f32], src: &[f32]) {
    let Some(last) = dst.len().checked_sub(1) else {
        return;
    };
    // Whole blocks of 4 read 8 values (the last value read, src[2·last], bounds them).
    let blocks = last / 4;
    for (d, s) in dst
        .chunks_exact_mut(4)
        .zip(src.chunks_exact(8))
        .take(blocks)
    {
        even_lanes(d, s);
    }
    for i in blocks * 4..=last {
        dst[i] = src[2 * i];
    }
}

/// `d[i] = s[2i]` for a block of 4.
#[inline(always)]
fn even_lanes(d: &mut [f32], s: &[f32]) {
    let (d, s): (&mut [f32; 4], &[f32; 8]) = (d.try_into().unwrap(), s.try_into().unwrap());
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        // SAFETY: SSE is part of every x86-64 CPU; the arrays hold the 4 and 8 values.
        unsafe {
            let (lo, hi) = (_mm_loadu_ps(s.as_ptr()), _mm_loadu_ps(s.as_ptr().add(4)));
            _mm_storeu_ps(d.as_mut_ptr(), _mm_shuffle_ps::<0b10_00_10_00>(lo, hi));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for (i, v) in d.iter_mut().enumerate() {
        *v = s[2 * i];
    }
}

/// How wide a line of a [`gathered_band`] is for a `ow`-wide output: `ow` plus the columns
/// computed and dropped per output row.
pub fn gathered_band_width(win: &Window, ow: usize) -> usize {
    ow + Phases::new(win, 1).span
}

/// How a [`gathered_band`] lays out the input of `rows` output rows of an `ow`-wide
/// convolution output: per input channel, one plane per pair of stride phases, each `lines`
/// lines of `wp` values. Output pixel `(r, ox)` of the band is GEMM column `r·wp + ox`.
pub struct BandLayout {
    py: Phases,
    px: Phases,
    /// Values per line: `ow` plus the columns computed and dropped per output row.
    pub wp: usize,
    /// Lines per phase plane: the output rows plus the rows the window reaches below them.
    pub lines: usize,
}

impl BandLayout {
    pub fn new(win: &Window, rows: usize, ow: usize) -> BandLayout {
        let (py, px) = (Phases::new(win, 0), Phases::new(win, 1));
        let (wp, lines) = (ow + px.span, rows + py.span);
        BandLayout { py, px, wp, lines }
    }

    /// Stride-phase planes per input channel.
    pub fn phase_planes(&self) -> usize {
        self.py.residues.len() * self.px.residues.len()
    }

    /// Values per input channel.
    pub fn channel_len(&self) -> usize {
        self.phase_planes() * self.lines * self.wp
    }

    /// Values a GEMM reads past the last channel for the extra columns of the last line
    /// (besides the strip slack its caller asks for).
    pub fn tail(&self) -> usize {
        self.px.span
    }

    /// Writes the layout of input planes `x` (`cig` channels of `h×w`) for output rows from
    /// `oy0` into `out` (`cig ·` [`channel_len`] values), zeros where the window reads padding.
    ///
    /// [`channel_len`]: BandLayout::channel_len
    pub fn fill(&self, x: &[f32], [cig, h, w]: [usize; 3], oy0: usize, out: &mut [f32]) {
        let (py, px, wp) = (&self.py, &self.px, self.wp);
        let plane = self.lines * wp;
        let lines: SmallVec<[_; 4]> = py
            .residues
            .iter()
            .map(|&r| py.inside(r, oy0, self.lines, h))
            .collect();
        let columns: SmallVec<[_; 4]> = px
            .residues
            .iter()
            .map(|&r| px.inside(r, 0, wp, w))
            .collect();
        // Each value is written once: padding zeroed around what is copied. The column
        // phases of one row phase are written line by line together, so that each input line
        // is read from memory once and then from L1.
        let row_groups = out[..cig * self.channel_len()].chunks_exact_mut(plane * columns.len());
        for (index, group) in row_groups.enumerate() {
            let (ic, row_phase) = (index / py.residues.len(), index % py.residues.len());
            let (v_lo, v_hi, iy_lo) = lines[row_phase];
            for out in group.chunks_exact_mut(plane) {
                out[..v_lo * wp].fill(0.0);
                out[v_hi * wp..].fill(0.0);
            }
            for (v, iy) in (v_lo..v_hi).zip((iy_lo..).step_by(py.stride)) {
                let src = &x[(ic * h + iy) * w..][..w];
                for (out, &(u_lo, u_hi, ix_lo)) in group.chunks_exact_mut(plane).zip(&columns) {
                    let line = &mut out[v * wp..][..wp];
                    line[..u_lo].fill(0.0);
                    line[u_hi..].fill(0.0);
                    if u_lo < u_hi {
                        copy_strided(&mut line[u_lo..u_hi], &src[ix_lo..], px.stride);
                    }
                }
            }
        }
    }

    /// Where each depth row `(ic, ky, kx)` of `cig` channels starts for the output rows from
    /// `row` (counted from the layout's first): `starts[(ic·kh + ky)·kw + kx]`.
    pub fn starts(&self, cig: usize, row: usize, starts: &mut Vec<usize>) {
        let (py, px, wp) = (&self.py, &self.px, self.wp);
        let plane = self.lines * wp;
        starts.clear();
        for &(iry, sy) in &py.taps {
            starts.extend(
                px.taps.iter().map(|&(irx, sx)| {
                    (iry * px.residues.len() + irx) * plane + (row + sy) * wp + sx
                }),
            );
        }
        let taps = starts.len();
        let channel = self.channel_len();
        for ic in 1..cig {
            starts.extend_from_within(..taps);
            starts[ic * taps..]
                .iter_mut()
                .for_each(|s| *s += ic * channel);
        }
    }
}

/// Lays out the input that output rows `oy0..oy1` of a convolution read so that its GEMM can
/// read it in place (no im2col), for any stride and dilation. The input planes `x` (`cig`
/// channels of `h×w`) are split into stride phases per axis and copied, zero-padded, into lines
/// `wp =` [`gathered_band_width`] wide ([`BandLayout`]); output pixel `(oy0 + r, ox)` is then
/// GEMM column `r·wp + ox`, and depth row `(ic, ky, kx)` starts at `starts[(ic·kh + ky)·kw +
/// kx]` in `band`, each tap a stride-1 read. `band` has `slack` readable values past the last
/// column. Returns `wp`.
///
/// ```
/// use kiln_ukernel::rows::{gathered_band, Window};
/// use kiln_ukernel::AlignedVec;
/// // A 1×4 input, 1×2 kernel, stride 2: outputs 0 and 1 read inputs (0,1) and (2,3).
/// let win = Window { kernel: [1, 2], strides: [1, 2], pads: [0, 0], dilations: [1, 1] };
/// let (mut band, mut starts) = (AlignedVec::default(), Vec::new());
/// let wp = gathered_band(&[1.0, 2.0, 3.0, 4.0], [1, 1, 4], &win, 0, 1, 2, 0, &mut band, &mut starts);
/// assert_eq!(wp, 2);
/// let tap = |k: usize| &band[starts[k]..starts[k] + 2];
/// assert_eq!((tap(0), tap(1)), (&[1.0, 3.0][..], &[2.0, 4.0][..]));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gathered_band(
    x: &[f32],
    dims: [usize; 3],
    win: &Window,
    oy0: usize,
    oy1: usize,
    ow: usize,
    slack: usize,
    band: &mut AlignedVec,
    starts: &mut Vec<usize>,
) -> usize {
    let layout = BandLayout::new(win, oy1 - oy0, ow);
    let len = dims[0] * layout.channel_len();
    band.resize(len + layout.tail() + slack, 0.0);
    band[len..].fill(0.0);
    layout.fill(x, dims, oy0, band);
    layout.starts(dims[0], 0, starts);
    layout.wp
}

/// The widest right-hand strip any GEMM tile uses.
pub const MAX_PANEL_WIDTH: usize = 32;

/// One output band of a convolution, seen as the right-hand side of its GEMM (im2col): column
/// `j` is output pixel `(oy0 + j / ow, j % ow)`, depth row `(ic, ky, kx)` is that tap of input
/// channel `ic`. [`Im2col::panel`] writes strips of it in `gemm::Rhs::Panels` layout.
pub struct Im2col<'a> {
    /// The group's input channels: planes of `h×w`.
    x: &'a [f32],
    h: usize,
    w: usize,
    win: Window,
    ow: usize,
    oy0: usize,
    /// Per tap `kx`: the outputs along x whose tap reads inside the row, and the input x of
    /// the first ([`Window::outputs_of_tap`]).
    x_taps: Vec<(usize, usize, usize)>,
}

impl<'a> Im2col<'a> {
    /// The band of output rows from `oy0` of a `ow`-wide output, over input planes `x` of
    /// `h×w`.
    pub fn new(x: &'a [f32], h: usize, w: usize, win: Window, ow: usize, oy0: usize) -> Self {
        let x_taps = (0..win.kernel[1])
            .map(|kx| win.outputs_of_tap(1, kx, w, ow))
            .collect();
        Im2col {
            x,
            h,
            w,
            win,
            ow: ow.max(1),
            oy0,
            x_taps,
        }
    }

    /// Writes columns `j0..j0+width`, depth rows `p0..p0+kc` as `kc` rows of `nr` values into
    /// `out` (`kc·nr` long; columns past `width` and taps in the padding are zero).
    #[allow(clippy::too_many_arguments)]
    pub fn panel(&self, j0: usize, width: usize, p0: usize, kc: usize, nr: usize, out: &mut [f32]) {
        let [kh, kw] = self.win.kernel;
        let (sx, ow, plane_len) = (self.win.strides[1], self.ow, self.h * self.w);
        // The strip's columns as runs along output rows: (oy, first ox, column of it, length).
        let mut runs = [(0usize, 0usize, 0usize, 0usize); MAX_PANEL_WIDTH];
        let mut n_runs = 0;
        let mut j = j0;
        while j < j0 + width && n_runs < runs.len() {
            let (oy, ox) = (self.oy0 + j / ow, j % ow);
            let len = (ow - ox).min(j0 + width - j);
            runs[n_runs] = (oy, ox, j - j0, len);
            n_runs += 1;
            j += len;
        }
        assert!(
            j == j0 + width,
            "a panel is at most {MAX_PANEL_WIDTH} columns wide"
        );
        let runs = &runs[..n_runs];
        let (mut ic, tap) = (p0 / (kh * kw), p0 % (kh * kw));
        let (mut ky, mut kx) = (tap / kw, tap % kw);
        for row in out[..kc * nr].chunks_exact_mut(nr) {
            row[width..].fill(0.0);
            let plane = &self.x[ic * plane_len..][..plane_len];
            let (ox_lo, ox_hi, ix_lo) = self.x_taps[kx];
            for &(oy, ox, col, len) in runs {
                let dst = &mut row[col..col + len];
                let Some(iy) = self.win.input(0, oy, ky, self.h) else {
                    dst.fill(0.0);
                    continue;
                };
                let a = ox.max(ox_lo);
                let b = (ox + len).min(ox_hi).max(a);
                dst[..a - ox].fill(0.0);
                dst[b - ox..].fill(0.0);
                if a == b {
                    continue;
                }
                let src = &plane[iy * self.w..][..self.w];
                let first = ix_lo + (a - ox_lo) * sx;
                let dst = &mut dst[a - ox..b - ox];
                if sx == 1 {
                    copy_short(dst, &src[first..first + dst.len()]);
                } else {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = src[first + i * sx];
                    }
                }
            }
            kx += 1;
            if kx == kw {
                kx = 0;
                ky += 1;
                if ky == kh {
                    ky = 0;
                    ic += 1;
                }
            }
        }
    }
}

/// Copies a few floats with fixed-size moves (a `memcpy` call costs more than a short copy).
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let src = &src[..dst.len()];
    let mut i = 0;
    while dst.len() - i >= 8 {
        dst[i..i + 8].copy_from_slice(&src[i..i + 8]);
        i += 8;
    }
    if dst.len() - i >= 4 {
        dst[i..i + 4].copy_from_slice(&src[i..i + 4]);
        i += 4;
    }
    if dst.len() - i >= 2 {
        dst[i..i + 2].copy_from_slice(&src[i..i + 2]);
        i += 2;
    }
    if i < dst.len() {
        dst[i] = src[i];
    }
}

#[cfg(test)]
mod tests {
    use super::{BandLayout, Window};
    use std::prelude::rust_2021::*;

    /// Every tap of every output pixel a [`BandLayout`] lays out reads the input value the
    /// window puts there, or zero on padding, and every value of it is written: strides 1-3
    /// (both column phases of stride 2 written together, 16 at a time on AVX-512),
    /// dilations, different padding per axis, lines longer and shorter than a vector, output
    /// rows from the top and from inside the image.
    #[test]
    fn band_layouts_hold_what_each_tap_reads() {
        let (cig, h) = (2, 9);
        for w in [7, 23, 71] {
            for (kernel, strides, pads, dilations) in [
                ([3, 3], [2, 2], [1, 1], [1, 1]),
                ([3, 3], [1, 1], [1, 1], [1, 1]),
                ([7, 7], [2, 2], [3, 3], [1, 1]),
                ([3, 5], [1, 2], [0, 2], [2, 1]),
                ([2, 3], [3, 3], [1, 0], [1, 1]),
            ] {
                let win = Window {
                    kernel,
                    strides,
                    pads,
                    dilations,
                };
                let out_size = |n: usize, d: usize| {
                    (n + 2 * pads[d] - dilations[d] * (kernel[d] - 1) - 1) / strides[d] + 1
                };
                let (oh, ow) = (out_size(h, 0), out_size(w, 1));
                let x: Vec<f32> = (0..cig * h * w).map(|i| i as f32 + 1.0).collect();
                for oy0 in [0, oh / 2] {
                    let rows = oh - oy0;
                    let layout = BandLayout::new(&win, rows, ow);
                    let mut band = vec![f32::NAN; cig * layout.channel_len()];
                    layout.fill(&x, [cig, h, w], oy0, &mut band);
                    assert!(band.iter().all(|v| !v.is_nan()), "{win:?} w {w}: unwritten");
                    let mut starts = vec![];
                    layout.starts(cig, 0, &mut starts);
                    for (d, &start) in starts.iter().enumerate() {
                        let (ic, ky, kx) = (
                            d / (kernel[0] * kernel[1]),
                            d / kernel[1] % kernel[0],
                            d % kernel[1],
                        );
                        for (r, ox) in (0..rows).flat_map(|r| (0..ow).map(move |ox| (r, ox))) {
                            let iy = ((oy0 + r) * strides[0] + ky * dilations[0]) as isize
                                - pads[0] as isize;
                            let ix =
                                (ox * strides[1] + kx * dilations[1]) as isize - pads[1] as isize;
                            let inside =
                                (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                            let want = match inside {
                                true => x[(ic * h + iy as usize) * w + ix as usize],
                                false => 0.0,
                            };
                            let got = band[start + r * layout.wp + ox];
                            assert_eq!(
                                got, want,
                                "{win:?} w {w} oy0 {oy0} tap {d} pixel ({r}, {ox})"
                            );
                        }
                    }
                }
            }
        }
    }
}
