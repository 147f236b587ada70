//! Depthwise convolution of one channel plane read in place, on AVX-512.
//!
//! Each tap of 16 neighbouring outputs is one vector load from the input row at column
//! stride one, or two loads and one lane shuffle that keeps every other value at column
//! stride two. Taps that fall on padding are masked loads that read zeros, and rows of
//! padding are skipped, so the plane is neither copied into a padded grid nor split into
//! stride phases first: a large plane is read from memory once, by the sums themselves.
//! Every output adds its taps in the same order from zero, one fused multiply-add each, as
//! the interleaved path does: the two give the same bits.

use super::window::Window;
#[cfg(target_arch = "x86_64")]
use crate::scratch::Scratch;

/// Outputs along a row one vector holds.
#[cfg(target_arch = "x86_64")]
const CHUNK: usize = 16;

/// The most chunks of a row [`Plane::rows_avx512`] computes at once.
#[cfg(target_arch = "x86_64")]
const MAX_GROUP: usize = 4;

/// Whether [`depthwise`] takes a window of column stride `sx` on this CPU.
pub(super) fn handles(sx: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if sx <= 2 && crate::x86_feature!("avx512f") {
        return true;
    }
    let _ = sx;
    false
}

/// Depthwise convolution of the `h × w` plane `x` with the `kh × kw` filter `filter`:
/// output rows `oy0..oy1`, `ow` wide, into `out`. Only where [`handles`] says so.
#[allow(clippy::too_many_arguments)]
pub(super) fn depthwise(
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
    assert!(
        handles(win.strides[1])
            && x.len() >= h * w
            && filter.len() >= kh * kw
            && out.len() >= oy1.saturating_sub(oy0) * ow,
        "direct depthwise: a plane, filter or output out of bounds"
    );
    #[cfg(target_arch = "x86_64")]
    MASKS.with_mut(|(masks, masks_of)| {
        // Per tap column and chunk of a row, and the chunk after its last, the lanes of its
        // (two) loads inside the row: the same for every plane of the same geometry, so made
        // once while it repeats.
        if *masks_of != Some((*win, w, ow)) {
            let (sx, dx, pl) = (win.strides[1], win.dilations[1], win.pads[1] as isize);
            let chunks = ow.div_ceil(CHUNK);
            masks.clear();
            masks.extend((0..kw).flat_map(|kx| {
                (0..=chunks).map(move |j| {
                    let c0 = (j * CHUNK * sx + kx * dx) as isize - pl;
                    [
                        inside(c0, w as isize),
                        inside(c0 + CHUNK as isize, w as isize),
                    ]
                })
            }));
            *masks_of = Some((*win, w, ow));
        }
        let plane = Plane {
            x,
            h,
            w,
            filter,
            win,
            ow,
            oy0,
            masks,
        };
        // SAFETY: `handles` checked the CPU; the bounds just checked are the contract.
        unsafe { plane.rows_avx512(oy1, out) }
    });
}

crate::scratch! {
    /// Per-thread scratch of [`depthwise`]: its loads' masks, and the window, input width and
    /// output width they are for.
    #[cfg(target_arch = "x86_64")]
    static MASKS: (alloc::vec::Vec<[u16; 2]>, Option<(Window, usize, usize)>);
}

/// One plane's convolution: the input, the window and the output rows' geometry.
#[cfg(target_arch = "x86_64")]
struct Plane<'a> {
    x: &'a [f32],
    h: usize,
    w: usize,
    filter: &'a [f32],
    win: &'a Window,
    ow: usize,
    /// The output row `out` starts with.
    oy0: usize,
    /// Tap column `kx`'s masks for chunk `j` of a row (up to the row's chunks, one past its
    /// last) at `kx · (chunks + 1) + j`.
    masks: &'a [[u16; 2]],
}

#[cfg(target_arch = "x86_64")]
impl Plane<'_> {
    /// Output rows `oy0..oy1`: rows that read every tap in blocks (up to eight rows of one
    /// chunk or, where [`Plane::slides`], of two; else four of two, or two), border rows one
    /// at a time over the taps inside the plane; each block in groups of up to four chunks
    /// along the row.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `x`, `filter` and `out` hold what [`depthwise`] checks.
    #[target_feature(enable = "avx512f")]
    unsafe fn rows_avx512(&self, oy1: usize, out: &mut [f32]) {
        let (kh, h) = (self.win.kernel[0], self.h);
        let chunks = self.ow.div_ceil(CHUNK);
        let (most, group) = match chunks {
            1 => (8, 1),
            // Eight rows that share their input rows over two chunks keep 16 sums going.
            _ if self.slides() => (8, 2),
            2 => (4, 2),
            // Four rows of shifted taps keep 16 sums going; other groups' two rows, eight.
            _ if self.shifts(3) => (4, 4),
            _ => (2, 4),
        };
        let out = out.as_mut_ptr();
        let mut oy = self.oy0;
        while oy < oy1 {
            let (ky0, ky1) = self.win.taps(0, oy, h);
            let all = (0, kh);
            // The most rows, a power of two, that all read every tap.
            let mut rows = 1;
            if (ky0, ky1) == all {
                while rows < most
                    && oy + 2 * rows <= oy1
                    && self.win.taps(0, oy + 2 * rows - 1, h) == all
                {
                    rows *= 2;
                }
            }
            let mut c = 0;
            while c < chunks {
                let n = (chunks - c).min(group);
                let at = [oy, ky0, ky1, c];
                // SAFETY (each call): rows `oy..oy + rows` read input rows inside the plane
                // for taps `ky0..ky1`, and their chunks `c..c + n` are outputs of `out`.
                unsafe {
                    if self.halves(n) {
                        match (rows, n, self.win.kernel[1]) {
                            (4, _, 3) => self.halved::<4, 2, 3>(at, out),
                            (4, _, _) => self.halved::<4, 2, 5>(at, out),
                            (2, 4, 3) => self.halved::<2, 4, 3>(at, out),
                            (2, 4, _) => self.halved::<2, 4, 5>(at, out),
                            (2, 3, 3) => self.halved::<2, 3, 3>(at, out),
                            (2, 3, _) => self.halved::<2, 3, 5>(at, out),
                            (2, _, 3) => self.halved::<2, 2, 3>(at, out),
                            (2, _, _) => self.halved::<2, 2, 5>(at, out),
                            (_, 4, 3) => self.halved::<1, 4, 3>(at, out),
                            (_, 4, _) => self.halved::<1, 4, 5>(at, out),
                            (_, 3, 3) => self.halved::<1, 3, 3>(at, out),
                            (_, 3, _) => self.halved::<1, 3, 5>(at, out),
                            (_, _, 3) => self.halved::<1, 2, 3>(at, out),
                            (_, _, _) => self.halved::<1, 2, 5>(at, out),
                        }
                        c += n;
                        continue;
                    }
                    if self.slides() && (ky0, ky1) == all {
                        match (rows, n, self.win.kernel[1]) {
                            (8, 1, 3) => self.slid::<8, 1, 3>(at, out),
                            (8, 1, _) => self.slid::<8, 1, 5>(at, out),
                            (8, _, 3) => self.slid::<8, 2, 3>(at, out),
                            (8, _, _) => self.slid::<8, 2, 5>(at, out),
                            (4, 1, 3) => self.slid::<4, 1, 3>(at, out),
                            (4, 1, _) => self.slid::<4, 1, 5>(at, out),
                            (4, _, 3) => self.slid::<4, 2, 3>(at, out),
                            (4, _, _) => self.slid::<4, 2, 5>(at, out),
                            (2, 1, 3) => self.slid::<2, 1, 3>(at, out),
                            (2, 1, _) => self.slid::<2, 1, 5>(at, out),
                            (2, _, 3) => self.slid::<2, 2, 3>(at, out),
                            (2, _, _) => self.slid::<2, 2, 5>(at, out),
                            (_, 1, 3) => self.slid::<1, 1, 3>(at, out),
                            (_, 1, _) => self.slid::<1, 1, 5>(at, out),
                            (_, _, 3) => self.slid::<1, 2, 3>(at, out),
                            (_, _, _) => self.slid::<1, 2, 5>(at, out),
                        }
                        c += n;
                        continue;
                    }
                    if self.shifts(n) {
                        match (rows, n, self.win.kernel[1]) {
                            (4, 4, 3) => self.shifted::<4, 4, 3>(at, out),
                            (4, 4, _) => self.shifted::<4, 4, 5>(at, out),
                            (4, 3, 3) => self.shifted::<4, 3, 3>(at, out),
                            (4, 3, _) => self.shifted::<4, 3, 5>(at, out),
                            (2, 4, 3) => self.shifted::<2, 4, 3>(at, out),
                            (2, 4, _) => self.shifted::<2, 4, 5>(at, out),
                            (2, 3, 3) => self.shifted::<2, 3, 3>(at, out),
                            (2, 3, _) => self.shifted::<2, 3, 5>(at, out),
                            (_, 4, 3) => self.shifted::<1, 4, 3>(at, out),
                            (_, 4, _) => self.shifted::<1, 4, 5>(at, out),
                            (_, 3, 3) => self.shifted::<1, 3, 3>(at, out),
                            (_, _, _) => self.shifted::<1, 3, 5>(at, out),
                        }
                        c += n;
                        continue;
                    }
                    match (rows, n, self.win.strides[1]) {
                        (8, _, 1) => self.block::<8, 1, 1>(at, out),
                        (8, _, _) => self.block::<8, 1, 2>(at, out),
                        (4, 1, 1) => self.block::<4, 1, 1>(at, out),
                        (4, 1, _) => self.block::<4, 1, 2>(at, out),
                        (4, _, 1) => self.block::<4, 2, 1>(at, out),
                        (4, _, _) => self.block::<4, 2, 2>(at, out),
                        (2, 1, 1) => self.block::<2, 1, 1>(at, out),
                        (2, 1, _) => self.block::<2, 1, 2>(at, out),
                        (2, 2, 1) => self.block::<2, 2, 1>(at, out),
                        (2, 2, _) => self.block::<2, 2, 2>(at, out),
                        (2, 3, 1) => self.block::<2, 3, 1>(at, out),
                        (2, 3, _) => self.block::<2, 3, 2>(at, out),
                        (2, _, 1) => self.block::<2, 4, 1>(at, out),
                        (2, _, _) => self.block::<2, 4, 2>(at, out),
                        (_, 1, 1) => self.block::<1, 1, 1>(at, out),
                        (_, 1, _) => self.block::<1, 1, 2>(at, out),
                        (_, 2, 1) => self.block::<1, 2, 1>(at, out),
                        (_, 2, _) => self.block::<1, 2, 2>(at, out),
                        (_, 3, 1) => self.block::<1, 3, 1>(at, out),
                        (_, 3, _) => self.block::<1, 3, 2>(at, out),
                        (_, _, 1) => self.block::<1, 4, 1>(at, out),
                        (_, _, _) => self.block::<1, 4, 2>(at, out),
                    }
                }
                c += n;
            }
            oy += rows;
        }
    }

    /// Whether [`Plane::shifted`] computes a group of `n` chunks (where [`Plane::slid`] does
    /// not: a window that is not square, or strided or dilated along rows): column
    /// stride and dilation one, a 3 or 5 wide window, groups of three or four chunks (rows of 33 or
    /// more outputs), where each chunk's taps would otherwise be as many loads that mostly
    /// straddle two cache lines.
    fn shifts(&self, n: usize) -> bool {
        let win = self.win;
        win.strides[1] == 1 && win.dilations[1] == 1 && matches!(win.kernel[1], 3 | 5) && n >= 3
    }

    /// As [`Plane::block`] at column stride and dilation one, for a `KW` wide window: each
    /// input row is loaded once per group, in 16-value vectors from the first chunk's first
    /// tap on, and tap `kx` of chunk `j` is vectors `j` and `j + 1` shifted by `kx` lanes
    /// (`valignd`): `G + 1` loads per row instead of `G · KW`. The same sums in the same
    /// order as [`Plane::block`].
    ///
    /// # Safety
    /// As [`Plane::block`]; [`Plane::shifts`] holds.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn shifted<const R: usize, const G: usize, const KW: usize>(
        &self,
        [oy, ky0, ky1, c]: [usize; 4],
        out: *mut f32,
    ) {
        use core::arch::x86_64::*;
        let win = self.win;
        let ([sy, _], [dy, _], [pt, pl]) = (win.strides, win.dilations, win.pads);
        let row_step = sy * self.w;
        let first = (c * CHUNK) as isize - pl as isize;
        // Tap column 0's masks: chunk `j`'s first vector, and the last chunk's second.
        // SAFETY: chunks `c..c + G` are the row's (the caller's contract).
        let masks: [u16; G] =
            core::array::from_fn(|j| unsafe { (*self.masks.as_ptr().add(c + j))[0] });
        let last = unsafe { (*self.masks.as_ptr().add(c + G - 1))[1] };
        let mut acc = [[_mm512_setzero_ps(); G]; R];
        for ky in ky0..ky1 {
            let row0 = self
                .x
                .as_ptr()
                .wrapping_add(((oy * sy + ky * dy) - pt) * self.w)
                .wrapping_offset(first);
            // SAFETY: tap row `ky` is inside the filter.
            let f: [__m512; KW] = core::array::from_fn(|kx| unsafe {
                _mm512_set1_ps(*self.filter.as_ptr().add(ky * KW + kx))
            });
            for (r, acc) in acc.iter_mut().enumerate() {
                let at = row0.wrapping_add(r * row_step);
                // SAFETY: the masks keep every lane read inside the input row (a row of the
                // plane, the caller's contract); masked lanes read nothing.
                let v: [__m512; G] = core::array::from_fn(|j| unsafe {
                    _mm512_maskz_loadu_ps(masks[j], at.wrapping_add(j * CHUNK))
                });
                let after = unsafe { _mm512_maskz_loadu_ps(last, at.wrapping_add(G * CHUNK)) };
                for j in 0..G {
                    let (lo, hi) = (v[j], if j + 1 < G { v[j + 1] } else { after });
                    for (kx, &f) in f.iter().enumerate() {
                        let tap = shift(lo, hi, kx);
                        acc[j] = _mm512_fmadd_ps(f, tap, acc[j]);
                    }
                }
            }
        }
        // SAFETY: as above.
        unsafe { self.store(acc, oy, c, out) };
    }

    /// Whether [`Plane::slid`] computes this plane's blocks of rows that read every tap:
    /// unit strides and dilations, a square 3x3 or 5x5 window.
    fn slides(&self) -> bool {
        let win = self.win;
        win.strides == [1, 1]
            && win.dilations == [1, 1]
            && win.kernel[0] == win.kernel[1]
            && matches!(win.kernel[1], 3 | 5)
    }

    /// As [`Plane::block`] at unit strides and dilations, for a `KW × KW` window and rows
    /// that read every tap: each input row the `R` rows read is loaded once, each tap column
    /// of a chunk one unaligned vector from it, and feeds every output row it is a tap row
    /// of (`KW` loads per input row and chunk where tap by tap takes `KW · KW`, and no lane
    /// shuffles). The same sums in the same order as [`Plane::block`].
    ///
    /// # Safety
    /// As [`Plane::block`], with every tap row read (`ky0..ky1` the whole window);
    /// [`Plane::slides`] holds.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn slid<const R: usize, const G: usize, const KW: usize>(
        &self,
        [oy, _, _, c]: [usize; 4],
        out: *mut f32,
    ) {
        use core::arch::x86_64::*;
        let pt = self.win.pads[0];
        let chunks = self.ow.div_ceil(CHUNK);
        // Tap column `kx`'s mask for chunk `c + j` (one load at column stride one).
        // SAFETY: `kx < KW` and the chunks are the row's (the caller's contract): inside the
        // table.
        let masks: [[u16; KW]; G] = core::array::from_fn(|j| {
            core::array::from_fn(|kx| unsafe {
                (*self.masks.as_ptr().add(kx * (chunks + 1) + c + j))[0]
            })
        });
        // SAFETY: the filter holds `KW · KW` taps.
        let f: [[__m512; KW]; KW] = core::array::from_fn(|ky| {
            core::array::from_fn(|kx| unsafe {
                _mm512_set1_ps(*self.filter.as_ptr().add(ky * KW + kx))
            })
        });
        let first = (c * CHUNK) as isize - self.win.pads[1] as isize;
        let top = self
            .x
            .as_ptr()
            .wrapping_add((oy - pt) * self.w)
            .wrapping_offset(first);
        let mut acc = [[_mm512_setzero_ps(); G]; R];
        // Input row `q` (from the first row's first tap row on) is tap row `q - r` of output
        // row `oy + r`; ascending `q` adds each output's tap rows in order.
        for q in 0..R + KW - 1 {
            let row = top.wrapping_add(q * self.w);
            // SAFETY: the masks keep every lane read inside the input row (a row of the
            // plane, the caller's contract); masked lanes read nothing.
            let v: [[__m512; KW]; G] = core::array::from_fn(|j| {
                core::array::from_fn(|kx| unsafe {
                    _mm512_maskz_loadu_ps(masks[j][kx], row.wrapping_add(j * CHUNK + kx))
                })
            });
            for (r, acc) in acc.iter_mut().enumerate() {
                if q < r || q - r >= KW {
                    continue;
                }
                for (acc, v) in acc.iter_mut().zip(&v) {
                    for (&f, &v) in f[q - r].iter().zip(v) {
                        *acc = _mm512_fmadd_ps(f, v, *acc);
                    }
                }
            }
        }
        // SAFETY: as above.
        unsafe { self.store(acc, oy, c, out) };
    }

    /// Whether [`Plane::halved`] computes a group of `n` chunks: column stride two, dilation
    /// one, a 3 or 5 wide window, two chunks or more (rows of 17 or more outputs).
    fn halves(&self, n: usize) -> bool {
        let win = self.win;
        win.strides[1] == 2 && win.dilations[1] == 1 && matches!(win.kernel[1], 3 | 5) && n >= 2
    }

    /// As [`Plane::block`] at column stride two and dilation one, for a `KW` wide window:
    /// each input row is loaded once per group, 32 values per chunk and the chunk after the
    /// group's, and split into its even and its odd columns; tap `kx` of chunk `j` is the
    /// even (`kx` even) or odd columns of chunks `j` and `j + 1` shifted by `kx / 2` lanes.
    /// `2 · (G + 1)` loads per row instead of `2 · G · KW`. The same sums in the same order as
    /// [`Plane::block`].
    ///
    /// # Safety
    /// As [`Plane::block`]; [`Plane::halves`] holds.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn halved<const R: usize, const G: usize, const KW: usize>(
        &self,
        [oy, ky0, ky1, c]: [usize; 4],
        out: *mut f32,
    ) {
        use core::arch::x86_64::*;
        let win = self.win;
        let ([sy, _], [dy, _], [pt, pl]) = (win.strides, win.dilations, win.pads);
        let row_step = sy * self.w;
        let first = (c * CHUNK * 2) as isize - pl as isize;
        // The lanes inside the row of each chunk's two loads, the group's and the next: tap
        // column 0's masks, whose loads are these at column stride two.
        let masks: [[u16; 2]; MAX_GROUP + 1] =
            core::array::from_fn(|j| if j > G { [0; 2] } else { self.masks[c + j] });
        let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        let mut acc = [[_mm512_setzero_ps(); G]; R];
        for ky in ky0..ky1 {
            let row0 = self
                .x
                .as_ptr()
                .wrapping_add(((oy * sy + ky * dy) - pt) * self.w)
                .wrapping_offset(first);
            // SAFETY: tap row `ky` is inside the filter.
            let f: [__m512; KW] = core::array::from_fn(|kx| unsafe {
                _mm512_set1_ps(*self.filter.as_ptr().add(ky * KW + kx))
            });
            for (r, acc) in acc.iter_mut().enumerate() {
                let at = row0.wrapping_add(r * row_step);
                // Even and odd columns of chunks `0..=G`.
                let halves: [[__m512; 2]; MAX_GROUP + 1] = core::array::from_fn(|j| {
                    if j > G {
                        return [_mm512_setzero_ps(); 2];
                    }
                    let at = at.wrapping_add(j * 2 * CHUNK);
                    // SAFETY: the masks keep every lane read inside the input row (a row of
                    // the plane, the caller's contract); masked lanes read nothing.
                    let (lo, hi) = unsafe {
                        (
                            _mm512_maskz_loadu_ps(masks[j][0], at),
                            _mm512_maskz_loadu_ps(masks[j][1], at.wrapping_add(CHUNK)),
                        )
                    };
                    [
                        _mm512_permutex2var_ps(lo, even, hi),
                        _mm512_permutex2var_ps(lo, odd, hi),
                    ]
                });
                for j in 0..G {
                    for (kx, &f) in f.iter().enumerate() {
                        let (this, next) = (halves[j][kx % 2], halves[j + 1][kx % 2]);
                        let tap = shift(this, next, kx / 2);
                        acc[j] = _mm512_fmadd_ps(f, tap, acc[j]);
                    }
                }
            }
        }
        // SAFETY: as above.
        unsafe { self.store(acc, oy, c, out) };
    }

    /// Output rows `oy..oy + R`, chunks `c..c + G` of each, over taps `ky0..ky1` of every
    /// row, at column stride `SX`; the row's last chunk's store is masked to the row.
    ///
    /// # Safety
    /// As [`Plane::rows_avx512`]; taps `ky0..ky1` of the `R` rows read input rows inside the
    /// plane, and the chunks are the row's.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn block<const R: usize, const G: usize, const SX: usize>(
        &self,
        [oy, ky0, ky1, c]: [usize; 4],
        out: *mut f32,
    ) {
        use core::arch::x86_64::*;
        let win = self.win;
        let ([sy, _], [dy, dx], [pt, pl], kw) =
            (win.strides, win.dilations, win.pads, win.kernel[1]);
        let chunks = self.ow.div_ceil(CHUNK);
        let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        let row_step = sy * self.w;
        // Where chunk `c`'s first output's tap (ky, 0) starts, for the first row and tap.
        let first = (c * CHUNK * SX) as isize - pl as isize;
        let mut acc = [[_mm512_setzero_ps(); G]; R];
        for ky in ky0..ky1 {
            let row0 = self
                .x
                .as_ptr()
                .wrapping_add(((oy * sy + ky * dy) - pt) * self.w)
                .wrapping_offset(first);
            let filter = self.filter.as_ptr().wrapping_add(ky * kw);
            for kx in 0..kw {
                // SAFETY: tap `(ky, kx)` is inside the filter; the masks' index is inside
                // the table (`kx < kw`, chunks `c..c + G` of the row).
                let (f, masks) = unsafe {
                    (
                        _mm512_set1_ps(*filter.add(kx)),
                        self.masks.as_ptr().add(kx * (chunks + 1) + c),
                    )
                };
                let tap = row0.wrapping_add(kx * dx);
                for j in 0..G {
                    // SAFETY: as above.
                    let [m0, m1] = unsafe { *masks.add(j) };
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let at = tap.wrapping_add(r * row_step + j * CHUNK * SX);
                        // SAFETY: the masks keep every lane read inside the row (an input row
                        // of the plane, the caller's contract); masked lanes read nothing.
                        let v = unsafe {
                            let lo = _mm512_maskz_loadu_ps(m0, at);
                            match SX {
                                1 => lo,
                                _ => {
                                    let hi = _mm512_maskz_loadu_ps(m1, at.wrapping_add(CHUNK));
                                    _mm512_permutex2var_ps(lo, even, hi)
                                }
                            }
                        };
                        acc[j] = _mm512_fmadd_ps(f, v, acc[j]);
                    }
                }
            }
        }
        // SAFETY: as above.
        unsafe { self.store(acc, oy, c, out) };
    }

    /// Stores the sums of output rows `oy..oy + R`, chunks `c..c + G` of each, the row's
    /// last chunk through a mask that keeps it inside the row.
    ///
    /// # Safety
    /// As [`Plane::block`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store<const R: usize, const G: usize>(
        &self,
        acc: [[core::arch::x86_64::__m512; G]; R],
        oy: usize,
        c: usize,
        out: *mut f32,
    ) {
        use core::arch::x86_64::*;
        let out_row = oy - self.oy0;
        for (r, acc) in acc.into_iter().enumerate() {
            for (j, a) in acc.into_iter().enumerate() {
                let at = (c + j) * CHUNK;
                let n = (self.ow - at).min(CHUNK);
                let lanes = ((1u32 << n) - 1) as __mmask16;
                // SAFETY: the mask keeps the store inside output row `out_row + r`.
                unsafe { _mm512_mask_storeu_ps(out.add((out_row + r) * self.ow + at), lanes, a) };
            }
        }
    }
}

/// Lanes `k..k + 16` of `lo` followed by `hi`, for `k` up to 4 (a constant once the
/// caller's tap loop is unrolled).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn shift(
    lo: core::arch::x86_64::__m512,
    hi: core::arch::x86_64::__m512,
    k: usize,
) -> core::arch::x86_64::__m512 {
    use core::arch::x86_64::*;
    let (lo, hi) = (_mm512_castps_si512(lo), _mm512_castps_si512(hi));
    _mm512_castsi512_ps(match k {
        0 => lo,
        1 => _mm512_alignr_epi32::<1>(hi, lo),
        2 => _mm512_alignr_epi32::<2>(hi, lo),
        3 => _mm512_alignr_epi32::<3>(hi, lo),
        _ => _mm512_alignr_epi32::<4>(hi, lo),
    })
}

/// The lanes of a 16-value load from column `c` of a row `w` long that lie inside the row.
#[cfg(target_arch = "x86_64")]
fn inside(c: isize, w: isize) -> u16 {
    let lo = (-c).clamp(0, CHUNK as isize) as u32;
    let hi = (w - c).clamp(0, CHUNK as isize) as u32;
    match hi > lo {
        true => (((1u32 << hi) - 1) & !((1u32 << lo) - 1)) as u16,
        false => 0,
    }
}
