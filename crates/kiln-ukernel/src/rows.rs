//! Row and window kernels: softmax and layer normalisation over a contiguous row, 2-D pooling and
//! depthwise convolution over one channel plane. Accumulation is in f32 with max-subtraction
//! for softmax and two-pass variance for layer normalisation, for accuracy.

use std::ops::Range;

/// Lanes of the partial results the row reductions keep, so that LLVM vectorises them (a
/// single running f32 sum or max is a serial chain it may not reorder).
const LANES: usize = 8;

/// Folds `row` with `f` into `LANES` partial results, and those with `combine` into one.
#[inline(always)]
fn fold_lanes(
    row: &[f32],
    init: f32,
    f: impl Fn(f32, f32) -> f32,
    combine: impl Fn(f32, f32) -> f32,
) -> f32 {
    let mut acc = [init; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder().iter().fold(init, |a, &v| f(a, v));
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = f(*a, v);
        }
    }
    acc.into_iter().fold(tail, combine)
}

/// `ln 2` split so that `n·LN2_HI` is exact for the `n` [`exp`] meets.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// Where [`exp`] gives 0 below and infinity above.
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.72;
/// Taylor coefficients of `e^r` from `r^7` down, for Horner's scheme.
const EXP_TAYLOR: [f32; 8] = [
    1.0 / 5040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `e^x` in f32 within 2 ulp, written so that LLVM vectorises a loop of it: `x = n·ln 2 + r`
/// with `|r| ≤ ln 2 / 2`, `e^r` by its Taylor series to `r^7` (truncation below 1e-8
/// relative), scaled by `2^n` through the exponent bits (in two halves, so `n` may reach 128).
/// Below `x = -87` (results under `1.7e-38`, near f32's subnormals) it returns 0.
///
/// ```
/// use kiln_ukernel::rows::exp;
/// for x in [-80.0f32, -3.5, 0.0, 1.0, 10.0, 88.0] {
///     assert!((exp(x) - x.exp()).abs() <= 2.5e-7 * x.exp());
/// }
/// assert_eq!(exp(-200.0), 0.0);
/// assert_eq!(exp(200.0), f32::INFINITY);
/// ```
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer without a libm call.
    const ROUND: f32 = 12_582_912.0;
    const MAX: f32 = EXP_MAX;
    let clamped = x.clamp(EXP_MIN, MAX);
    let n = (clamped * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let mut p = EXP_TAYLOR[0];
    for c in &EXP_TAYLOR[1..] {
        p = p * r + c;
    }
    let power = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    let (half, n) = ((n as i32) >> 1, n as i32);
    let scaled = p * power(half) * power(n - half);
    if x < EXP_MIN {
        0.0
    } else if x > MAX {
        f32::INFINITY
    } else if x.is_nan() {
        x
    } else {
        scaled
    }
}

/// The error function within 4e-7 (absolute), written so that LLVM vectorises a loop of it:
/// below `|x| = 0.5` its Taylor series to `x^11`; elsewhere Abramowitz and Stegun's 7.1.26,
/// `1 - poly(t)·e^(-x²)` with `t = 1/(1 + 0.3275911·|x|)` and [`exp`], given `x`'s sign. It is
/// the formula llvm-cpu's generated kernels use.
///
/// ```
/// use kiln_ukernel::rows::erf;
/// for (x, want) in [(0.1f32, 0.112_462_92f32), (-0.7, -0.677_801_2), (2.0, 0.995_322_3)] {
///     assert!((erf(x) - want).abs() < 2e-7);
/// }
/// assert_eq!(erf(f32::INFINITY), 1.0);
/// assert!(erf(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let (ax, x2) = (x.abs(), x * x);
    let mut series = -1.0 / 1320.0;
    for k in [1.0 / 216.0, -1.0 / 42.0, 1.0 / 10.0, -1.0 / 3.0, 1.0] {
        series = series * x2 + k;
    }
    let small = series * x * std::f32::consts::FRAC_2_SQRT_PI;
    let t = 1.0 / (1.0 + 0.327_591_1 * ax);
    let mut poly = 1.061_405_4;
    for k in [-1.453_152, 1.421_413_8, -0.284_496_74, 0.254_829_6] {
        poly = poly * t + k;
    }
    let large = (1.0 - poly * t * exp(-x2)).copysign(x);
    if ax < 0.5 {
        small
    } else {
        large
    }
}

/// Softmax of one contiguous row, in place (with AVX-512 where the CPU has it).
pub fn softmax_in_place(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: AVX-512F was detected.
        unsafe { x86::softmax_avx512(row) };
        return;
    }
    softmax_portable(row);
}

/// [`softmax_in_place`] for any CPU.
fn softmax_portable(row: &mut [f32]) {
    let max = fold_lanes(row, f32::NEG_INFINITY, f32::max, f32::max);
    row.iter_mut().for_each(|v| *v = exp(*v - max));
    let inv = 1.0 / fold_lanes(row, 0.0, |a, b| a + b, |a, b| a + b);
    row.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! AVX-512 row kernels: 16 lanes with masked tails.
    use super::{EXP_MAX, EXP_MIN, EXP_TAYLOR, LN2_HI, LN2_LO};
    use std::arch::x86_64::*;

    /// [`super::exp`] on 16 lanes: the same reduction and polynomial, scaled by `2^n` with
    /// `vscalefps`; lanes below -87 give 0, above 88.72 infinity, NaN stays NaN.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn exp16(x: __m512) -> __m512 {
        let (min, max) = (_mm512_set1_ps(EXP_MIN), _mm512_set1_ps(EXP_MAX));
        let clamped = _mm512_min_ps(_mm512_max_ps(x, min), max);
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(clamped, _mm512_set1_ps(std::f32::consts::LOG2_E)),
        );
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), clamped);
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
        let mut p = _mm512_set1_ps(EXP_TAYLOR[0]);
        for &c in &EXP_TAYLOR[1..] {
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
        }
        let scaled = _mm512_scalef_ps(p, n);
        let low = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, min);
        let high = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, max);
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
        let y = _mm512_mask_mov_ps(scaled, low, _mm512_setzero_ps());
        let y = _mm512_mask_mov_ps(y, high, _mm512_set1_ps(f32::INFINITY));
        _mm512_mask_mov_ps(y, nan, x)
    }

    /// The lanes of the 16-value block at `start` that lie inside a row of `len`.
    #[inline(always)]
    fn lanes(start: usize, len: usize) -> __mmask16 {
        let n = (len - start).min(16);
        (((1u32 << n) - 1) & 0xffff) as __mmask16
    }

    /// Replaces the 16 values at `p` with `exp(v - max)` and returns them.
    ///
    /// # Safety
    /// `p` must be valid for 16 reads and writes; the CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn exp_minus_in_place(p: *mut f32, max: __m512) -> __m512 {
        // SAFETY: by the caller's contract.
        unsafe {
            let e = exp16(_mm512_sub_ps(_mm512_loadu_ps(p), max));
            _mm512_storeu_ps(p, e);
            e
        }
    }

    /// Softmax of one contiguous row, in place: whole 16-value blocks unmasked, the tail
    /// masked, and the exponentials summed in two chains so the adds do not wait on each other.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn softmax_avx512(row: &mut [f32]) {
        let (len, p) = (row.len(), row.as_mut_ptr());
        let (whole, tail) = (len - len % 16, lanes(len - len % 16, len));
        // SAFETY: unmasked loads and stores stay below `whole`, masked ones inside the row.
        unsafe {
            // `max` keeps its lane where the value is NaN, as `f32::max` does.
            let mut max = _mm512_set1_ps(f32::NEG_INFINITY);
            for start in (0..whole).step_by(16) {
                max = _mm512_max_ps(_mm512_loadu_ps(p.add(start)), max);
            }
            max = _mm512_max_ps(_mm512_mask_loadu_ps(max, tail, p.add(whole)), max);
            let max = _mm512_set1_ps(_mm512_reduce_max_ps(max));
            let (mut even, mut odd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
            let mut start = 0;
            while start + 32 <= whole {
                even = _mm512_add_ps(even, exp_minus_in_place(p.add(start), max));
                odd = _mm512_add_ps(odd, exp_minus_in_place(p.add(start + 16), max));
                start += 32;
            }
            if start < whole {
                even = _mm512_add_ps(even, exp_minus_in_place(p.add(start), max));
            }
            if whole < len {
                let e = exp16(_mm512_sub_ps(
                    _mm512_maskz_loadu_ps(tail, p.add(whole)),
                    max,
                ));
                _mm512_mask_storeu_ps(p.add(whole), tail, e);
                odd = _mm512_mask_add_ps(odd, tail, odd, e);
            }
            let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(_mm512_add_ps(even, odd)));
            for start in (0..whole).step_by(16) {
                let v = _mm512_loadu_ps(p.add(start));
                _mm512_storeu_ps(p.add(start), _mm512_mul_ps(v, inv));
            }
            let v = _mm512_maskz_loadu_ps(tail, p.add(whole));
            _mm512_mask_storeu_ps(p.add(whole), tail, _mm512_mul_ps(v, inv));
        }
    }
}

/// Normalises one contiguous row to zero mean and unit variance, in place.
pub fn layer_norm_in_place(row: &mut [f32], epsilon: f32) {
    let n = row.len() as f32;
    let add = |a: f32, b: f32| a + b;
    let mean = fold_lanes(row, 0.0, add, add) / n;
    let var = fold_lanes(row, 0.0, |a, v| a + (v - mean) * (v - mean), add) / n;
    let inv = 1.0 / (var + epsilon).sqrt();
    row.iter_mut().for_each(|v| *v = (*v - mean) * inv);
}

/// A 2-D sliding window over one `h×w` plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Top and left padding (bottom/right padding only shows in the output size).
    pub pads: [usize; 2],
    pub dilations: [usize; 2],
}

impl Window {
    /// Input coordinate of output `o`, tap `k` along dim `d`, if inside `0..len`.
    #[inline(always)]
    fn input(&self, d: usize, o: usize, k: usize, len: usize) -> Option<usize> {
        let i = (o * self.strides[d] + k * self.dilations[d]).checked_sub(self.pads[d])?;
        (i < len).then_some(i)
    }

    /// The taps `k` of output `o` along dim `d` whose input lies inside `0..len`, as a range
    /// (taps outside it read padding).
    #[inline(always)]
    pub fn taps(&self, d: usize, o: usize, len: usize) -> (usize, usize) {
        let (s, dl, p) = (self.strides[d], self.dilations[d].max(1), self.pads[d]);
        let start = o * s;
        // start + k*dl >= p  and  start + k*dl < p + len
        let lo = p.saturating_sub(start).div_ceil(dl);
        let hi = (p + len).saturating_sub(start).div_ceil(dl);
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
    residues: Vec<usize>,
    taps: Vec<(usize, usize)>,
    q_min: isize,
    /// The largest shift: extra positions a band line needs beyond the outputs.
    span: usize,
}

impl Phases {
    fn new(win: &Window, d: usize) -> Phases {
        let s = win.strides[d].max(1) as isize;
        let offsets: Vec<isize> = (0..win.kernel[d])
            .map(|k| (k * win.dilations[d].max(1)) as isize - win.pads[d] as isize)
            .collect();
        let q_min = offsets.iter().map(|o| o.div_euclid(s)).min().unwrap_or(0);
        let q_max = offsets.iter().map(|o| o.div_euclid(s)).max().unwrap_or(0);
        let mut residues: Vec<usize> = offsets.iter().map(|o| o.rem_euclid(s) as usize).collect();
        residues.sort_unstable();
        residues.dedup();
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
fn copy_strided(dst: &mut [f32], src: &[f32], step: usize) {
    match step {
        1 if dst.len() <= 64 => copy_short(dst, src),
        1 => dst.copy_from_slice(&src[..dst.len()]),
        2 => {
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
        _ => {
            for (d, s) in dst.iter_mut().zip(src.iter().step_by(step)) {
                *d = *s;
            }
        }
    }
}

/// `d[i] = s[2i]` for a block of 4.
#[inline(always)]
fn even_lanes(d: &mut [f32], s: &[f32]) {
    let (d, s): (&mut [f32; 4], &[f32; 8]) = (d.try_into().unwrap(), s.try_into().unwrap());
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
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
        let (plane, phase_planes) = (self.lines * wp, self.phase_planes());
        let lines: Vec<_> = py
            .residues
            .iter()
            .map(|&r| py.inside(r, oy0, self.lines, h))
            .collect();
        let columns: Vec<_> = px
            .residues
            .iter()
            .map(|&r| px.inside(r, 0, wp, w))
            .collect();
        // Each value is written once: padding zeroed around what is copied.
        let planes = out[..cig * self.channel_len()].chunks_exact_mut(plane);
        for (index, out) in planes.enumerate() {
            let (ic, phase) = (index / phase_planes, index % phase_planes);
            let (v_lo, v_hi, iy_lo) = lines[phase / px.residues.len()];
            let (u_lo, u_hi, ix_lo) = columns[phase % px.residues.len()];
            out[..v_lo * wp].fill(0.0);
            out[v_hi * wp..].fill(0.0);
            for (v, iy) in (v_lo..v_hi).zip((iy_lo..).step_by(py.stride)) {
                let line = &mut out[v * wp..][..wp];
                line[..u_lo].fill(0.0);
                line[u_hi..].fill(0.0);
                if u_lo < u_hi {
                    let src = &x[(ic * h + iy) * w..][..w];
                    copy_strided(&mut line[u_lo..u_hi], &src[ix_lo..], px.stride);
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
/// // A 1×4 input, 1×2 kernel, stride 2: outputs 0 and 1 read inputs (0,1) and (2,3).
/// let win = Window { kernel: [1, 2], strides: [1, 2], pads: [0, 0], dilations: [1, 1] };
/// let (mut band, mut starts) = (Vec::new(), Vec::new());
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
    band: &mut Vec<f32>,
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
    // Tap ranges along x are the same for every row: compute them once.
    let x_taps: Vec<(usize, usize)> = (0..ow).map(|ox| win.taps(1, ox, w)).collect();
    if max {
        max_pool_separable(x, h, w, win, &x_taps, oy0, oy1, ow, out);
        return;
    }
    for oy in oy0..oy1 {
        let (ky0, ky1) = win.taps(0, oy, h);
        let dst = &mut out[(oy - oy0) * ow..(oy - oy0 + 1) * ow];
        for ((ox, o), &(kx0, kx1)) in dst.iter_mut().enumerate().zip(&x_taps) {
            let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
            for ky in ky0..ky1 {
                let iy = oy * sy + ky * dy - win.pads[0];
                let row = &x[iy * w..(iy + 1) * w];
                for kx in kx0..kx1 {
                    let v = row[ox * sx + kx * dx - win.pads[1]];
                    // NaN inputs are skipped, as `f32::max` does, in one compare.
                    acc = if max {
                        if v > acc {
                            v
                        } else {
                            acc
                        }
                    } else {
                        acc + v
                    };
                }
            }
            let count = (ky1 - ky0) * (kx1 - kx0);
            *o = if max {
                acc
            } else if count_include_pad {
                acc / full
            } else {
                acc / count.max(1) as f32
            };
        }
    }
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
    let mut column = vec![f32::NEG_INFINITY; w];
    let mut phases = vec![f32::NEG_INFINITY; phase_len * sx];
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every window geometry up to small sizes: the tap and output ranges agree with testing
    /// each coordinate, and pooling agrees with a direct per-tap implementation.
    #[test]
    fn window_ranges_and_pooling_match_brute_force() {
        for len in 1..12 {
            for k in 1..4 {
                for s in 1..4 {
                    for dl in 1..3 {
                        for p in 0..3 {
                            let win = Window {
                                kernel: [k, k],
                                strides: [s, s],
                                pads: [p, p],
                                dilations: [dl, dl],
                            };
                            let outputs = (len + 2 * p).saturating_sub(dl * (k - 1) + 1) / s + 1;
                            for o in 0..outputs {
                                let inside: Vec<usize> = (0..k)
                                    .filter(|&t| win.input(0, o, t, len).is_some())
                                    .collect();
                                let (lo, hi) = win.taps(0, o, len);
                                assert_eq!(
                                    (lo..hi).collect::<Vec<_>>(),
                                    inside,
                                    "{win:?} len {len} o {o}"
                                );
                            }
                            for t in 0..k {
                                let inside: Vec<usize> = (0..outputs)
                                    .filter(|&o| win.input(0, o, t, len).is_some())
                                    .collect();
                                let (lo, hi, first) = win.outputs_of_tap(0, t, len, outputs);
                                assert_eq!((lo..hi).collect::<Vec<_>>(), inside);
                                if lo < hi {
                                    assert_eq!(Some(first), win.input(0, lo, t, len));
                                }
                            }
                            check_pool(&win, len, outputs);
                            check_depthwise(&win, len, outputs);
                        }
                    }
                }
            }
        }
    }

    fn check_depthwise(win: &Window, len: usize, outputs: usize) {
        let x: Vec<f32> = (0..len * len)
            .map(|i| ((i * 5) % 13) as f32 - 6.0)
            .collect();
        let f: Vec<f32> = (0..win.kernel[0] * win.kernel[1])
            .map(|i| i as f32 * 0.5 - 1.0)
            .collect();
        let mut got = vec![0.0; outputs * outputs];
        depthwise_plane(&x, len, len, &f, win, 0, outputs, outputs, &mut got);
        for oy in 0..outputs {
            for ox in 0..outputs {
                let mut want = 0.0f32;
                for ky in 0..win.kernel[0] {
                    for kx in 0..win.kernel[1] {
                        if let (Some(iy), Some(ix)) =
                            (win.input(0, oy, ky, len), win.input(1, ox, kx, len))
                        {
                            want += f[ky * win.kernel[1] + kx] * x[iy * len + ix];
                        }
                    }
                }
                assert_eq!(got[oy * outputs + ox], want, "{win:?} ({oy}, {ox})");
            }
        }
    }

    fn check_pool(win: &Window, len: usize, outputs: usize) {
        let x: Vec<f32> = (0..len * len)
            .map(|i| ((i * 7) % 11) as f32 - 5.0)
            .collect();
        for max in [false, true] {
            for include in [false, true] {
                let mut got = vec![0.0; outputs * outputs];
                pool_plane(
                    &x, len, len, win, max, include, 0, outputs, outputs, &mut got,
                );
                for oy in 0..outputs {
                    for ox in 0..outputs {
                        let (mut acc, mut n) = (if max { f32::NEG_INFINITY } else { 0.0 }, 0);
                        for ky in 0..win.kernel[0] {
                            for kx in 0..win.kernel[1] {
                                if let (Some(iy), Some(ix)) =
                                    (win.input(0, oy, ky, len), win.input(1, ox, kx, len))
                                {
                                    let v = x[iy * len + ix];
                                    acc = if max { acc.max(v) } else { acc + v };
                                    n += 1;
                                }
                            }
                        }
                        let want = if max {
                            acc
                        } else if include {
                            acc / (win.kernel[0] * win.kernel[1]) as f32
                        } else {
                            acc / n.max(1) as f32
                        };
                        assert_eq!(got[oy * outputs + ox], want, "{win:?} {max} {include}");
                    }
                }
            }
        }
    }

    /// `exp` against f64's over the whole finite range, in steps that hit every reduction.
    #[test]
    fn exp_is_within_two_ulp() {
        let mut x = -87.0f32;
        while x < 88.72 {
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            let ulp = (want as f32).abs() * f32::EPSILON;
            assert!(
                (got - want).abs() <= 2.0 * ulp as f64,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0137;
        }
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
    }

    /// The AVX-512 softmax (where this CPU has it) agrees with the portable one on rows of
    /// every tail length, with values that underflow and, in some rows, a NaN (which makes
    /// every output NaN in both).
    #[test]
    fn softmax_kernels_agree() {
        for len in [0, 1, 5, 16, 17, 32, 33, 48, 128, 130] {
            let mut row: Vec<f32> = (0..len)
                .map(|i| ((i * 29) % 23) as f32 * 1.3 - 12.0)
                .collect();
            if len > 4 {
                row[4] = -200.0;
            }
            if len % 2 == 1 && len > 4 {
                row[3] = f32::NAN;
            }
            let mut portable = row.clone();
            softmax_portable(&mut portable);
            let mut best = row.clone();
            softmax_in_place(&mut best);
            for (a, b) in best.iter().zip(&portable) {
                assert!(
                    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-6 * b.abs().max(1e-30),
                    "len {len}: {a} vs {b}"
                );
            }
        }
    }

    /// The lane-split reductions agree with plain f64 ones on rows of every tail length.
    #[test]
    fn softmax_and_layer_norm_match_f64() {
        for len in [1, 7, 8, 9, 128, 131] {
            let row: Vec<f32> = (0..len)
                .map(|i| ((i * 37) % 11) as f32 * 0.7 - 3.0)
                .collect();
            let max = row
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, |a, v| a.max(v as f64));
            let e: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
            let mut soft = row.clone();
            softmax_in_place(&mut soft);
            let total: f64 = e.iter().sum();
            for (got, e) in soft.iter().zip(&e) {
                assert!((*got as f64 - e / total).abs() < 1e-6);
            }
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / len as f64;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / len as f64;
            let mut norm = row.clone();
            layer_norm_in_place(&mut norm, 1e-5);
            for (got, v) in norm.iter().zip(&row) {
                let want = (*v as f64 - mean) / (var + 1e-5).sqrt();
                assert!(
                    (*got as f64 - want).abs() < 1e-5,
                    "len {len}: {got} vs {want}"
                );
            }
        }
    }
}
