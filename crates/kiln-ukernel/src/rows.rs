//! Row and window kernels: softmax and layer normalisation over a contiguous row, 2-D pooling and
//! depthwise convolution over one channel plane. Accumulation is in f32 with max-subtraction
//! for softmax and two-pass variance for layer normalisation, for accuracy.

/// Softmax of one contiguous row, in place.
pub fn softmax_in_place(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}

/// Normalises one contiguous row to zero mean and unit variance, in place.
pub fn layer_norm_in_place(row: &mut [f32], epsilon: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + epsilon).sqrt();
    row.iter_mut().for_each(|v| *v = (*v - mean) * inv);
}

/// A 2-D sliding window over one `h×w` plane.
#[derive(Clone, Copy, Debug)]
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

/// Max pooling as two passes (a maximum is exact in any order): each input row the band reads
/// is reduced along x once, then output rows take the maximum of those rows along y, a loop
/// over contiguous rows that vectorises. NaN inputs are skipped, as `f32::max` does.
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
    // The input rows this band of outputs reads.
    let rows: Vec<(usize, usize)> = (oy0..oy1).map(|oy| win.taps(0, oy, h)).collect();
    let first = |oy: usize, ky: usize| oy * win.strides[0] + ky * win.dilations[0] - win.pads[0];
    let lo = rows
        .iter()
        .zip(oy0..)
        .filter(|((a, b), _)| a < b)
        .map(|((a, _), oy)| first(oy, *a))
        .min();
    let Some(lo) = lo else {
        out[..(oy1 - oy0) * ow].fill(f32::NEG_INFINITY);
        return;
    };
    let hi = rows
        .iter()
        .zip(oy0..)
        .filter(|((a, b), _)| a < b)
        .map(|((_, b), oy)| first(oy, *b - 1) + 1)
        .max()
        .unwrap_or(lo);
    let mut reduced = vec![f32::NEG_INFINITY; (hi - lo) * ow];
    for iy in lo..hi {
        let src = &x[iy * w..(iy + 1) * w];
        let dst = &mut reduced[(iy - lo) * ow..(iy - lo + 1) * ow];
        for ((ox, d), &(kx0, kx1)) in dst.iter_mut().enumerate().zip(x_taps) {
            let mut acc = f32::NEG_INFINITY;
            for kx in kx0..kx1 {
                let v = src[ox * sx + kx * dx - px];
                acc = if v > acc { v } else { acc };
            }
            *d = acc;
        }
    }
    for (oy, &(ky0, ky1)) in (oy0..oy1).zip(&rows) {
        let dst = &mut out[(oy - oy0) * ow..(oy - oy0 + 1) * ow];
        dst.fill(f32::NEG_INFINITY);
        for ky in ky0..ky1 {
            let iy = first(oy, ky) - lo;
            let row = &reduced[iy * ow..(iy + 1) * ow];
            for (d, &v) in dst.iter_mut().zip(row) {
                *d = if v > *d { v } else { *d };
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
        for len in 1..7 {
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
                            if dl == 1 {
                                check_pool(&win, len, outputs);
                            }
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
}
