//! A bias and an activation over a contiguous row, in place: what a convolution's bias and
//! ReLU, ReLU6 or swish do to its sums. The portable loops vectorise (the clamp's comparisons
//! select as x86's `max`/`min` do, a NaN passing through; swish through [`super::exp`]); on
//! x86 they are compiled again for AVX-512 and chosen where the CPU has it (the crate's
//! baseline is SSE2, four lanes).

use super::math::exp;

/// `min(max(x + bias, lo), hi)` over `row`, in place; a NaN stays NaN. A `bias` of `-0.0`
/// adds nothing (it leaves every value as it is, `-0.0` included).
///
/// ```
/// let mut row = [-1.0f32, 2.0, 9.0, f32::NAN];
/// kiln_ukernel::rows::bias_clamp_in_place(&mut row, 1.0, 0.0, 6.0);
/// assert_eq!(row[..3], [0.0, 3.0, 6.0]);
/// assert!(row[3].is_nan());
/// ```
pub fn bias_clamp_in_place(row: &mut [f32], bias: f32, lo: f32, hi: f32) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected.
        unsafe { x86::bias_clamp(row, bias, lo, hi) };
        return;
    }
    bias_clamp_portable(row, bias, lo, hi);
}

/// `s · sigmoid(s)` for `s = x + bias` over `row`, in place (swish, or SiLU): on AVX-512
/// llvm-cpu's sigmoid (`math::x86::sigmoid16`), elsewhere `1 / (1 + e^-s)` with
/// [`super::exp`].
///
/// ```
/// let mut row = [-1.0f32, 0.0, 3.0];
/// kiln_ukernel::rows::bias_swish_in_place(&mut row, 1.0);
/// assert_eq!(row[0], 0.0);
/// assert!((row[1] - 1.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-6);
/// assert!((row[2] - 4.0 / (1.0 + (-4.0f32).exp())).abs() < 1e-5);
/// ```
pub fn bias_swish_in_place(row: &mut [f32], bias: f32) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected.
        unsafe { x86::bias_swish(row, bias) };
        return;
    }
    bias_swish_portable(row, bias);
}

#[inline(always)]
fn bias_swish_portable(row: &mut [f32], bias: f32) {
    for x in row {
        let s = *x + bias;
        *x = s * (1.0 / (1.0 + exp(-s)));
    }
}

#[inline(always)]
fn bias_clamp_portable(row: &mut [f32], bias: f32, lo: f32, hi: f32) {
    for x in row {
        let s = *x + bias;
        // Comparisons with a NaN are false: it is kept.
        let t = if lo > s { lo } else { s };
        *x = if hi < t { hi } else { t };
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The portable loops compiled for AVX-512.

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn bias_clamp(row: &mut [f32], bias: f32, lo: f32, hi: f32) {
        super::bias_clamp_portable(row, bias, lo, hi)
    }

    use super::super::math::x86::{lanes, sigmoid16};
    use core::arch::x86_64::*;

    /// 16 lanes at a time (a masked last block), by [`sigmoid16`]: llvm-cpu's formula on
    /// AVX-512, so a swish gives the same values fused here as in a generated epilogue.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn bias_swish(row: &mut [f32], bias: f32) {
        let b = _mm512_set1_ps(bias);
        let p = row.as_mut_ptr();
        for at in (0..row.len()).step_by(16) {
            let m = lanes(at, row.len());
            // SAFETY: lanes `m` of the block at `at` lie inside `row`; AVX-512F was detected.
            unsafe {
                let x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, p.add(at)), b);
                _mm512_mask_storeu_ps(p.add(at), m, _mm512_mul_ps(x, sigmoid16(x)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::prelude::rust_2021::*;

    /// The dispatched kernels (AVX-512 where the CPU has it) agree with the portable loops
    /// over every magnitude, the ends of exp's range, NaN and a ragged last block.
    #[test]
    fn dispatched_kernels_match_the_portable_loops() {
        let mut row: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.7).collect();
        row.extend([-1e30, -200.0, -88.5, -88.0, -87.5, 89.0, 200.0, -0.0]);
        for bias in [0.25f32, -0.0] {
            let (mut got, mut want) = (row.clone(), row.clone());
            super::bias_swish_in_place(&mut got, bias);
            super::bias_swish_portable(&mut want, bias);
            for (g, w) in got.iter().zip(&want) {
                // Below -87 the two limit e^-s differently (e^88 and e^87): both about 1e-36.
                assert!((g - w).abs() <= 1e-6 * w.abs() + 1e-25, "{g} vs {w}");
            }
            let (mut got, mut want) = (row.clone(), row.clone());
            super::bias_clamp_in_place(&mut got, bias, -1.5, 6.0);
            super::bias_clamp_portable(&mut want, bias, -1.5, 6.0);
            assert_eq!(got, want);
        }
        let mut nan = [f32::NAN; 3];
        super::bias_swish_in_place(&mut nan, 1.0);
        assert!(nan.iter().all(|v| v.is_nan()));
    }
}
