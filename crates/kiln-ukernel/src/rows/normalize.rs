//! Softmax and layer normalisation of one contiguous row, in place.

use super::fold_lanes;
use super::math::exp;
#[cfg(not(feature = "std"))]
use num_traits::Float;

/// Softmax of one contiguous row, in place (with AVX-512 where the CPU has it).
pub fn softmax_in_place(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected.
        unsafe { x86::softmax_avx512(row) };
        return;
    }
    softmax_portable(row);
}

/// [`softmax_in_place`] for any CPU.
pub(super) fn softmax_portable(row: &mut [f32]) {
    let max = fold_lanes(row, f32::NEG_INFINITY, f32::max, f32::max);
    row.iter_mut().for_each(|v| *v = exp(*v - max));
    let inv = 1.0 / fold_lanes(row, 0.0, |a, b| a + b, |a, b| a + b);
    row.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! AVX-512 row kernels: 16 lanes with masked tails.
    use super::super::math::{EXP_MAX, EXP_MIN, EXP_TAYLOR, LN2_HI, LN2_LO};
    use core::arch::x86_64::*;

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
            _mm512_mul_ps(clamped, _mm512_set1_ps(core::f32::consts::LOG2_E)),
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
