//! Depthwise convolution of many channel planes at once, [`LANES`] channels interleaved.
//!
//! The padded input lines of a block of planes are laid out position by position, the
//! block's channels side by side, so that one tap of one output position is one vector over
//! the channels, whatever the window's strides and dilations. A plane whose rows are shorter
//! than a vector wastes no lanes, and the set-up a plane costs on its own is paid once per
//! block. Every output adds its taps in the same order from zero, one fused multiply-add each,
//! as [`depthwise_plane`] does on the CPUs that interleave (AVX-512): the two give the same
//! bits.

use super::plane::depthwise_plane;
use super::window::Window;
use crate::scratch::Scratch;
use crate::AlignedVec;
use alloc::vec::Vec;

/// Channels laid out side by side: one 512-bit vector of f32.
pub const LANES: usize = 16;

/// Output rows narrower than this, at column stride 1, are computed with channels
/// interleaved; wider ones plane by plane.
const INTERLEAVE_BELOW: usize = 32;

/// As [`INTERLEAVE_BELOW`], at column stride 2: plane by plane, each tap of a stride-2 row
/// costs a lane shuffle, but interleaving lays out twice as many input columns as outputs.
const INTERLEAVE_STRIDED_BELOW: usize = 16;

/// Whether [`depthwise_planes`] interleaves channels for output rows `ow` wide of a window
/// with column stride `sx` on a CPU with AVX-512 (a workgroup then best takes a multiple of
/// [`LANES`] planes): narrow rows, whose vectors along the row would be mostly masked, and
/// column strides over 2. Elsewhere every plane runs on its own: on AVX-512 read in place,
/// a vector of outputs along the row per tap; elsewhere through padded lines with AVX2 paths.
pub fn interleaves(ow: usize, sx: usize) -> bool {
    match sx {
        1 => ow < INTERLEAVE_BELOW,
        2 => ow < INTERLEAVE_STRIDED_BELOW,
        _ => true,
    }
}

/// Whether this CPU runs the interleaved path's vector code.
fn vectors() -> bool {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        return true;
    }
    false
}

/// Depthwise convolution of `planes` consecutive `h × w` planes of `x`, plane `c` with the
/// `kh × kw` filter at `filters[c·kh·kw..]`: output rows `oy0..oy1`, `ow` wide, of plane `c`
/// go to `out[c·out_plane..]`. Where [`interleaves`] says so, [`LANES`] planes at a time with
/// their channels interleaved, else plane by plane.
///
/// ```
/// use kiln_ukernel::rows::{depthwise_planes, Window};
/// // Two 3×3 planes, a 2×2 window of ones: each output sums a 2×2 corner.
/// let x: Vec<f32> = (0..18).map(|v| v as f32).collect();
/// let win = Window { kernel: [2, 2], strides: [1, 1], pads: [0, 0], dilations: [1, 1] };
/// let mut out = [0.0; 8];
/// depthwise_planes(&x, [2, 3, 3], &[1.0; 8], &win, [0, 2, 2], &mut out, 4);
/// assert_eq!(out, [8.0, 12.0, 20.0, 24.0, 44.0, 48.0, 56.0, 60.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn depthwise_planes(
    x: &[f32],
    [planes, h, w]: [usize; 3],
    filters: &[f32],
    win: &Window,
    [oy0, oy1, ow]: [usize; 3],
    out: &mut [f32],
    out_plane: usize,
) {
    let taps = win.kernel[0] * win.kernel[1];
    let rows = oy1.saturating_sub(oy0);
    if rows == 0 || ow == 0 || planes == 0 {
        return;
    }
    assert!(
        x.len() >= planes * h * w
            && filters.len() >= planes * taps
            && out.len() >= (planes - 1) * out_plane + rows * ow
            && out_plane >= rows * ow,
        "depthwise planes out of bounds"
    );
    if planes == 1 || !interleaves(ow, win.strides[1]) || !vectors() {
        for c in 0..planes {
            let plane = &x[c * h * w..][..h * w];
            let out = &mut out[c * out_plane..][..rows * ow];
            depthwise_plane(
                plane,
                h,
                w,
                &filters[c * taps..][..taps],
                win,
                oy0,
                oy1,
                ow,
                out,
            );
        }
        return;
    }
    let positions = rows * ow;
    BLOCK.with_mut(|(padded, lanes, sums, offsets)| {
        let block = Block::new(win, h, w, [oy0, oy1, ow], offsets);
        // Every position's sums are written before they are read: sized, not cleared.
        sums.resize(positions * LANES, 0.0);
        for c0 in (0..planes).step_by(LANES) {
            let n = (planes - c0).min(LANES);
            block.lay_out(&x[c0 * h * w..][..n * h * w], n, padded);
            lanes.resize(taps * LANES, 0.0);
            interleave(&filters[c0 * taps..], n, taps, [1, taps], taps, lanes, taps);
            for (r, row) in sums.chunks_exact_mut(ow * LANES).enumerate() {
                block.row_sums(padded, r, lanes, row);
            }
            // Position `p` of every plane's rows is output `(p / ow, p % ow)`.
            let out = &mut out[c0 * out_plane..];
            deinterleave(sums, n, positions, out, out_plane);
        }
    });
}

crate::scratch! {
    /// Per-thread scratch of [`depthwise_planes`] (a warm call allocates nothing): the
    /// interleaved input lines, the filters interleaved the same way (`lanes`), the block's
    /// sums, the taps' offsets. Aligned, so that each position's vector is one cache line.
    static BLOCK: (AlignedVec, AlignedVec, AlignedVec, Vec<usize>);
}

/// The input lines that output rows `oy0..oy1` of a window read, zero-padded, with
/// [`LANES`] channels interleaved: value `(line, column, channel)` at
/// `(line · width + column) · LANES + channel`.
struct Block<'a> {
    lines: usize,
    width: usize,
    /// Where each tap of output `(0, 0)` lies.
    taps: &'a [usize],
    strides: [usize; 2],
    pads: [usize; 2],
    first: usize,
    input: [usize; 2],
    ow: usize,
}

impl<'a> Block<'a> {
    /// The block of output rows `oy0..oy1`, its taps' offsets kept in `taps`.
    fn new(
        win: &Window,
        h: usize,
        w: usize,
        [oy0, oy1, ow]: [usize; 3],
        taps: &'a mut Vec<usize>,
    ) -> Self {
        let ([kh, kw], [sy, sx], [dy, dx]) = (win.kernel, win.strides, win.dilations);
        let width = win.reach(1, ow);
        taps.clear();
        taps.extend(
            (0..kh).flat_map(|ky| (0..kw).map(move |kx| (ky * dy * width + kx * dx) * LANES)),
        );
        Block {
            lines: win.reach(0, oy1 - oy0),
            width,
            taps,
            strides: [sy, sx],
            pads: win.pads,
            first: oy0 * sy,
            input: [h, w],
            ow,
        }
    }

    /// Lays out `n` planes of `x` (the rest of the lanes zero) into `padded`, zero where the
    /// window reads padding (every value written once).
    fn lay_out(&self, x: &[f32], n: usize, padded: &mut AlignedVec) {
        let ([h, w], [pt, pl], width) = (self.input, self.pads, self.width);
        padded.resize(self.lines * width * LANES, 0.0);
        // Lines `l0..l1` hold input rows `l0 + first - pt..`; in each, padded columns
        // `j0..j1` hold input columns `0..j1 - j0`.
        let line = |iy: usize| (iy + pt).saturating_sub(self.first).min(self.lines);
        let (l0, l1) = (line(0), line(h));
        let (j0, j1) = (pl.min(width), (pl + w).min(width));
        padded[..l0 * width * LANES].fill(0.0);
        padded[l1 * width * LANES..].fill(0.0);
        for line in padded[l0 * width * LANES..l1 * width * LANES].chunks_exact_mut(width * LANES) {
            line[..j0 * LANES].fill(0.0);
            line[j1 * LANES..].fill(0.0);
        }
        if l0 < l1 {
            let iy0 = l0 + self.first - pt;
            let dst = &mut padded[(l0 * width + j0) * LANES..];
            interleave(&x[iy0 * w..], n, h * w, [l1 - l0, w], j1 - j0, dst, width);
        }
    }

    /// The sums of output row `r`, each output's [`LANES`] channels side by side.
    fn row_sums(&self, padded: &[f32], r: usize, filters: &[f32], sums: &mut [f32]) {
        let src = &padded[r * self.strides[0] * self.width * LANES..];
        let last = (self.ow - 1) * self.strides[1] * LANES;
        assert!(
            self.taps.iter().all(|&t| t + last + LANES <= src.len())
                && filters.len() >= self.taps.len() * LANES
                && sums.len() == self.ow * LANES,
            "a tap reads past the block"
        );
        #[cfg(target_arch = "x86_64")]
        if crate::x86_feature!("avx512f") {
            // SAFETY: the CPU has AVX-512F; every read and write is inside its slice (checked).
            return unsafe { row_sums_avx512(src, self.taps, filters, self.strides[1], sums) };
        }
        row_sums_portable(src, self.taps, filters, self.strides[1], sums)
    }
}

/// Outputs [`row_sums_avx512`] keeps in registers at once: eight chains of fused
/// multiply-adds that overlap rather than each waiting on the one before.
#[cfg(target_arch = "x86_64")]
const AT_ONCE: usize = 8;

/// [`row_sums_portable`] on 16 lanes, [`AT_ONCE`] outputs at a time, each tap one fused
/// multiply-add.
///
/// # Safety
/// The CPU must support AVX-512F; as checked by [`Block::row_sums`], every tap of every
/// output of `sums` lies inside `src`, and `filters` holds a vector per tap.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn row_sums_avx512(
    src: &[f32],
    taps: &[usize],
    filters: &[f32],
    sx: usize,
    sums: &mut [f32],
) {
    let ow = sums.len() / LANES;
    let mut ox = 0;
    // SAFETY (each call): the caller's contract.
    unsafe {
        while ox + AT_ONCE <= ow {
            outputs_avx512::<AT_ONCE>(src, taps, filters, sx, ox, sums);
            ox += AT_ONCE;
        }
        match ow - ox {
            7 => outputs_avx512::<7>(src, taps, filters, sx, ox, sums),
            6 => outputs_avx512::<6>(src, taps, filters, sx, ox, sums),
            5 => outputs_avx512::<5>(src, taps, filters, sx, ox, sums),
            4 => outputs_avx512::<4>(src, taps, filters, sx, ox, sums),
            3 => outputs_avx512::<3>(src, taps, filters, sx, ox, sums),
            2 => outputs_avx512::<2>(src, taps, filters, sx, ox, sums),
            1 => outputs_avx512::<1>(src, taps, filters, sx, ox, sums),
            _ => {}
        }
    }
}

/// Outputs `ox..ox + N` of [`row_sums_avx512`].
///
/// # Safety
/// As [`row_sums_avx512`]; `ox + N` outputs fit in `sums`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn outputs_avx512<const N: usize>(
    src: &[f32],
    taps: &[usize],
    filters: &[f32],
    sx: usize,
    ox: usize,
    sums: &mut [f32],
) {
    use core::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); N];
    for (t, &at) in taps.iter().enumerate() {
        // SAFETY: the caller's contract keeps every vector inside its slice.
        unsafe {
            let f = _mm512_loadu_ps(filters.as_ptr().add(t * LANES));
            for (j, a) in acc.iter_mut().enumerate() {
                let v = _mm512_loadu_ps(src.as_ptr().add(at + (ox + j) * sx * LANES));
                *a = _mm512_fmadd_ps(f, v, *a);
            }
        }
    }
    for (j, a) in acc.into_iter().enumerate() {
        // SAFETY: output `ox + j` lies inside `sums`.
        unsafe { _mm512_storeu_ps(sums.as_mut_ptr().add((ox + j) * LANES), a) };
    }
}

/// `sums[ox][c] = Σ_t filters[t][c] · src[taps[t] + ox·sx][c]`, the taps added in order from
/// zero.
fn row_sums_portable(src: &[f32], taps: &[usize], filters: &[f32], sx: usize, sums: &mut [f32]) {
    for (ox, acc) in sums.chunks_exact_mut(LANES).enumerate() {
        acc.fill(0.0);
        for (&at, f) in taps.iter().zip(filters.chunks_exact(LANES)) {
            let v = &src[at + ox * sx * LANES..][..LANES];
            for ((a, &f), &v) in acc.iter_mut().zip(f).zip(v) {
                *a += f * v;
            }
        }
    }
}

/// Interleaves `n` planes (plane `c` at `src[c·stride..]`, `rows × w` values) into `dst`:
/// value `(r, i)` of plane `c` to `dst[(r·pitch + i)·LANES + c]`, for `i < keep`; lanes `n..`
/// are zero.
fn interleave(
    src: &[f32],
    n: usize,
    stride: usize,
    [rows, w]: [usize; 2],
    keep: usize,
    dst: &mut [f32],
    pitch: usize,
) {
    assert!(
        n <= LANES
            && keep <= w.min(pitch)
            && (n == 0 || (n - 1) * stride + rows * w <= src.len())
            && (rows == 0 || ((rows - 1) * pitch + keep) * LANES <= dst.len()),
        "planes out of bounds"
    );
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: the CPU has AVX-512F; every read and write is inside its slice (checked).
        return unsafe { interleave_avx512(src, n, stride, [rows, w], keep, dst, pitch) };
    }
    interleave_portable(src, n, stride, [rows, w], keep, dst, pitch)
}

/// [`interleave`] value by value.
fn interleave_portable(
    src: &[f32],
    n: usize,
    stride: usize,
    [rows, w]: [usize; 2],
    keep: usize,
    dst: &mut [f32],
    pitch: usize,
) {
    for r in 0..rows {
        for i in 0..keep {
            let at = &mut dst[(r * pitch + i) * LANES..][..LANES];
            for (c, v) in at.iter_mut().enumerate() {
                *v = if c < n {
                    src[c * stride + r * w + i]
                } else {
                    0.0
                };
            }
        }
    }
}

/// Writes lane `c` of each position of `sums` (`positions` of them, [`LANES`] values each) to
/// `out[c·out_plane..]`, for the first `n` lanes.
fn deinterleave(sums: &[f32], n: usize, positions: usize, out: &mut [f32], out_plane: usize) {
    assert!(
        n <= LANES
            && sums.len() >= positions * LANES
            && (n == 0 || (n - 1) * out_plane + positions <= out.len()),
        "planes out of bounds"
    );
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: the CPU has AVX-512F; every plane is inside `out` (checked).
        return unsafe { deinterleave_avx512(sums, n, positions, out, out_plane) };
    }
    deinterleave_portable(sums, n, positions, out, out_plane)
}

/// [`deinterleave`] value by value.
fn deinterleave_portable(
    sums: &[f32],
    n: usize,
    positions: usize,
    out: &mut [f32],
    out_plane: usize,
) {
    for (p, s) in sums[..positions * LANES].chunks_exact(LANES).enumerate() {
        for (c, &v) in s[..n].iter().enumerate() {
            out[c * out_plane + p] = v;
        }
    }
}

/// [`interleave`], 16 values of each plane at a time (across rows) through a register
/// transpose.
///
/// # Safety
/// The CPU must support AVX-512F; the planes and positions lie inside `src` and `dst` as
/// [`interleave`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn interleave_avx512(
    src: &[f32],
    n: usize,
    stride: usize,
    [rows, w]: [usize; 2],
    keep: usize,
    dst: &mut [f32],
    pitch: usize,
) {
    use core::arch::x86_64::*;
    let len = rows * w;
    let (mut r, mut i) = (0, 0);
    for p in (0..len).step_by(LANES) {
        let m = (len - p).min(LANES);
        let mask = ((1u32 << m) - 1) as __mmask16;
        // Planes `n..` load nothing (an empty mask reads no memory): zero lanes.
        let v: [__m512; LANES] = core::array::from_fn(|c| {
            let mask = if c < n { mask } else { 0 };
            let at = src.as_ptr().wrapping_add(c * stride + p);
            // SAFETY: `m` values of plane `c < n` from `p` lie inside `src` (the caller's
            // contract); other planes read nothing.
            unsafe { _mm512_maskz_loadu_ps(mask, at) }
        });
        for t in crate::transpose::transpose16(v).iter().take(m) {
            if i < keep {
                // SAFETY: value `(r, i)` with `i < keep` has its position inside `dst`.
                unsafe { _mm512_storeu_ps(dst.as_mut_ptr().add((r * pitch + i) * LANES), *t) };
            }
            i += 1;
            if i == w {
                (r, i) = (r + 1, 0);
            }
        }
    }
}

/// [`deinterleave`], 16 positions at a time through a register transpose.
///
/// # Safety
/// The CPU must support AVX-512F; the planes lie inside `out` as [`deinterleave`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn deinterleave_avx512(
    sums: &[f32],
    n: usize,
    positions: usize,
    out: &mut [f32],
    out_plane: usize,
) {
    use core::arch::x86_64::*;
    for p in (0..positions).step_by(LANES) {
        let m = (positions - p).min(LANES);
        // Positions past the last load nothing (an empty mask reads no memory).
        let v: [__m512; LANES] = core::array::from_fn(|k| {
            let mask = if k < m { !0 } else { 0 };
            let at = sums.as_ptr().wrapping_add((p + k) * LANES);
            // SAFETY: position `p + k < positions` lies inside `sums`; others read nothing.
            unsafe { _mm512_maskz_loadu_ps(mask, at) }
        });
        let mask = ((1u32 << m) - 1) as __mmask16;
        for (c, t) in crate::transpose::transpose16(v).iter().enumerate().take(n) {
            // SAFETY: positions `p..p + m` of plane `c < n` lie inside `out`.
            unsafe {
                let at = out.as_mut_ptr().add(c * out_plane + p);
                if m == LANES {
                    _mm512_storeu_ps(at, *t);
                } else {
                    _mm512_mask_storeu_ps(at, mask, *t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7 + seed * 13) % 23) as f32 * 0.37 - 4.0)
            .collect()
    }

    /// Many planes at once give the bits of one plane at a time, for every small window
    /// geometry (strides 1-3, pads, dilations, bands of rows, blocks of planes that fill the
    /// lanes or not), and leave the output between planes' rows untouched.
    #[test]
    fn planes_at_once_match_planes_one_by_one() {
        for (h, w) in [(9, 11), (5, 37), (7, 7), (14, 14)] {
            for planes in [2, 16, 19, 35] {
                let x = values(planes * h * w, 1);
                for (win, oh, ow) in crate::rows::tests::small_windows(h, w) {
                    let taps = win.kernel[0] * win.kernel[1];
                    let filters = values(planes * taps, 2);
                    for (oy0, oy1) in [(0, oh), (oh / 2, oh), (oh / 3, oh / 3 + 1)] {
                        let (rows, stride) = (oy1 - oy0, oh * ow + 3);
                        let mut got = vec![f32::NAN; planes * stride];
                        let out = &mut got[..];
                        depthwise_planes(
                            &x,
                            [planes, h, w],
                            &filters,
                            &win,
                            [oy0, oy1, ow],
                            out,
                            stride,
                        );
                        for c in 0..planes {
                            let mut want = vec![0.0; rows * ow];
                            let filter = &filters[c * taps..][..taps];
                            let plane = &x[c * h * w..][..h * w];
                            depthwise_plane(plane, h, w, filter, &win, oy0, oy1, ow, &mut want);
                            let row = &got[c * stride..][..stride];
                            let (outputs, rest) = row.split_at(rows * ow);
                            let bits =
                                |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                            assert_eq!(
                                bits(outputs),
                                bits(&want),
                                "{win:?} {planes} planes, plane {c}, rows {oy0}..{oy1}"
                            );
                            assert!(
                                rest.iter().all(|v| v.is_nan()),
                                "{win:?}: wrote past the rows"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The AVX-512 paths move the values the portable ones do, for every count of planes and
    /// positions around a vector.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn vector_paths_match_portable_ones() {
        if !crate::x86_feature!("avx512f") {
            return;
        }
        for n in [1, 7, 16] {
            for (rows, w, keep, pitch) in [
                (1, 9, 9, 9),
                (3, 7, 5, 10),
                (2, 21, 21, 24),
                (5, 16, 16, 16),
            ] {
                // Planes three values apart beyond their own values.
                let stride = rows * w + 3;
                let src = values(n * stride, n);
                let mut want = vec![f32::NAN; (rows * pitch) * LANES];
                let mut got = want.clone();
                interleave_portable(&src, n, stride, [rows, w], keep, &mut want, pitch);
                // SAFETY: the CPU has AVX-512F; the arguments are those checked above.
                unsafe { interleave_avx512(&src, n, stride, [rows, w], keep, &mut got, pitch) };
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "interleave {n} {rows}x{w}");
            }
            for positions in [1, 15, 16, 17, 49] {
                let sums = values(positions * LANES, n);
                let stride = positions + 2;
                let mut want = vec![f32::NAN; n * stride];
                let mut got = want.clone();
                deinterleave_portable(&sums, n, positions, &mut want, stride);
                // SAFETY: the CPU has AVX-512F; every plane fits in `got`.
                unsafe { deinterleave_avx512(&sums, n, positions, &mut got, stride) };
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "deinterleave {n} {positions}");
            }
        }
        for (ow, sx) in [(1, 1), (7, 2), (8, 1), (15, 3)] {
            let taps = [0, LANES * 3, LANES * 11];
            let src = values(taps[2] + ow * sx * LANES + LANES, ow);
            let filters = values(taps.len() * LANES, sx);
            let mut want = vec![0.0; ow * LANES];
            let mut got = want.clone();
            row_sums_portable(&src, &taps, &filters, sx, &mut want);
            // SAFETY: the CPU has AVX-512F; every tap of every output lies inside `src`.
            unsafe { row_sums_avx512(&src, &taps, &filters, sx, &mut got) };
            // The portable sums round each product; the vector ones fuse them.
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                    "row sums {ow} {sx}"
                );
            }
        }
    }
}
