//! Row and window kernels, by subject: [`math`] (vectorisable `exp`, `tanh` and `erf`),
//! [`gates`] (a recurrent cell's sigmoid and tanh over a row), [`bias_clamp_in_place`] and
//! [`bias_swish_in_place`] (a bias and an activation over a row), [`normalize`]
//! (softmax and layer normalisation of a contiguous row), [`window`] (2-D sliding windows, the
//! stride-phase band layout convolutions read, im2col panels), [`plane`] (pooling and
//! depthwise convolution of one channel plane, which `direct` reads in place on AVX-512),
//! [`interleaved`] (depthwise convolution of many planes, channels side by side) and
//! [`channels_last`] (depthwise convolution and pooling of channels-last images, read in
//! place). Accumulation
//! is in f32 with max-subtraction for softmax and two-pass variance for layer normalisation,
//! for accuracy.

mod activate;
pub mod channels_last;
mod direct;
pub mod gates;
pub mod interleaved;
pub mod math;
pub mod normalize;
pub mod plane;
pub mod window;

pub use activate::{bias_clamp_in_place, bias_swish_in_place};
pub use channels_last::{depthwise_channels_last, pool_channels_last};
pub use gates::{sigmoid_in_place, tanh_in_place};
pub use interleaved::depthwise_planes;
pub use math::{erf, exp, tanh};
pub use normalize::{layer_norm_in_place, layer_norm_into, softmax_in_place, softmax_into};
pub use plane::{depthwise_plane, pool_plane, PaddedGrid};
pub use window::{
    gathered_band, gathered_band_width, BandLayout, Im2col, TapGroup, Window, MAX_PANEL_WIDTH,
};

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

#[cfg(test)]
mod tests {
    use super::normalize::softmax_portable;
    use super::*;
    use std::prelude::rust_2021::*;

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

    /// Every small window geometry over an `h × w` plane (each stride 1 to 3 along each dim,
    /// kernels 1 to 5, pads, dilations) that has outputs, with its output size.
    pub(super) fn small_windows(h: usize, w: usize) -> Vec<(Window, usize, usize)> {
        let mut windows = Vec::new();
        for k in 1..6 {
            for s in 0..9 {
                for dl in 1..3 {
                    for p in 0..3 {
                        let win = Window {
                            kernel: [k, k - k / 3],
                            strides: [s % 3 + 1, s / 3 + 1],
                            pads: [p, 2 - p],
                            dilations: [dl, 3 - dl],
                        };
                        let size = |d: usize, len: usize| {
                            let reach = (win.kernel[d] - 1) * win.dilations[d] + 1;
                            (len + 2 * win.pads[d])
                                .checked_sub(reach)
                                .map(|n| n / win.strides[d] + 1)
                        };
                        if let (Some(oh), Some(ow)) = (size(0, h), size(1, w)) {
                            windows.push((win, oh, ow));
                        }
                    }
                }
            }
        }
        windows
    }

    /// Depthwise convolution of every small window geometry (each stride 1 to 3 along each
    /// dim, pads, dilations, bands of rows starting anywhere, planes narrower and wider than
    /// a chunk of sums, 1 to 4 chunks left over, rows wide enough that whole groups of
    /// chunks read no padding) against a per-tap sum in the same order.
    #[test]
    fn depthwise_planes_match_brute_force() {
        for (h, w) in [(9, 11), (5, 37), (7, 7), (4, 150)] {
            for (win, oh, ow) in small_windows(h, w) {
                check_depthwise_plane(h, w, &win, oh, ow);
            }
        }
    }

    /// The 3 and 5 wide windows at column stride one or two whose taps are vectors of one
    /// load per tap column and input row (at unit strides, shared by the rows they feed), or
    /// shifted vectors of one load (at column stride two, of the even or odd columns of two)
    /// per chunk and row: rows of one to ten chunks over planes of 6 to 20 rows (blocks of
    /// eight, four, two and one rows), every pair of left and right pads up to the window's
    /// width, top pads from none to all but one row of the window.
    #[test]
    fn shifted_depthwise_rows_match_brute_force() {
        for (kh, kw) in [(3, 3), (5, 5), (1, 3)] {
            for (sx, w) in [9, 20, 33, 48, 56, 70, 100, 150]
                .iter()
                .flat_map(|&w| [(1, w), (2, w)])
            {
                for (pl, pr) in (0..kw).flat_map(|l| (0..kw).map(move |r| (l, r))) {
                    for (h, pt) in [(11, kh / 2), (20, 0), (6, kh - 1)] {
                        let win = Window {
                            kernel: [kh, kw],
                            strides: [sx, sx],
                            pads: [pt, pl],
                            dilations: [1, 1],
                        };
                        let ow = (w + pl + pr - kw) / sx + 1;
                        let oh = (h + pt + (kh - 1 - pt) - kh) / sx + 1;
                        check_depthwise_plane(h, w, &win, oh, ow);
                    }
                }
            }
        }
    }

    /// Windows wider than a vector of outputs: 1-D kernels of 31 taps padded by 15 (or more
    /// than a vector, 40) on each side, strided and dilated, over rows of 100.
    #[test]
    fn wide_depthwise_windows_match_brute_force() {
        for (sx, dx, pl) in [(1, 1, 15), (2, 1, 15), (1, 2, 40), (2, 2, 40), (2, 1, 0)] {
            let win = Window {
                kernel: [1, 31],
                strides: [1, sx],
                pads: [0, pl],
                dilations: [1, dx],
            };
            let ow = (100 + 2 * pl - (31 - 1) * dx - 1) / sx + 1;
            check_depthwise_plane(2, 100, &win, 2, ow);
        }
    }

    /// [`depthwise_plane`] over an `h × w` plane of small integers, whose sums are exact in
    /// any order, against a per-tap sum, for bands of rows starting anywhere.
    fn check_depthwise_plane(h: usize, w: usize, win: &Window, oh: usize, ow: usize) {
        let x: Vec<f32> = (0..h * w).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
        let filter: Vec<f32> = (0..win.kernel[0] * win.kernel[1])
            .map(|i| 0.5 + (i % 16) as f32 * 0.25)
            .collect();
        for (oy0, oy1) in [(0, oh), (oh / 2, oh), (oh / 3, oh / 3 + 1)] {
            let mut got = vec![f32::NAN; (oy1 - oy0) * ow];
            depthwise_plane(&x, h, w, &filter, win, oy0, oy1, ow, &mut got);
            for oy in oy0..oy1 {
                for ox in 0..ow {
                    let mut want = 0.0;
                    for ky in 0..win.kernel[0] {
                        for kx in 0..win.kernel[1] {
                            let iy = win.input(0, oy, ky, h);
                            let ix = win.input(1, ox, kx, w);
                            if let (Some(iy), Some(ix)) = (iy, ix) {
                                want += filter[ky * win.kernel[1] + kx] * x[iy * w + ix];
                            }
                        }
                    }
                    let at = (oy - oy0) * ow + ox;
                    assert_eq!(got[at], want, "{win:?} rows {oy0}..{oy1} at {oy},{ox}");
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
            let mut into = vec![f32::NAN; len];
            softmax_into(&row, &mut into);
            let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&into), bits(&best), "len {len}: into vs in place");
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
