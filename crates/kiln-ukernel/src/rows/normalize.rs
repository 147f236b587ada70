//! Softmax and layer normalisation of one contiguous row, in place or from one row into
//! another.

use super::fold_lanes;
use super::math::exp;
#[cfg(not(feature = "std"))]
use num_traits::Float;

/// Softmax of one contiguous row, in place (with AVX-512 where the CPU has it).
pub fn softmax_in_place(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected; the row is read and written through one pointer.
        unsafe { x86::softmax_avx512(row.as_ptr(), row.as_mut_ptr(), row.len()) };
        return;
    }
    softmax_portable(row);
}

/// Softmax of the contiguous row `src` written to `dst` (as long): with AVX-512, the
/// exponentials go straight to `dst` rather than through a copy of `src`.
///
/// ```
/// let mut out = [0.0; 2];
/// kiln_ukernel::rows::softmax_into(&[1.0, 1.0], &mut out);
/// assert_eq!(out, [0.5, 0.5]);
/// ```
pub fn softmax_into(src: &[f32], dst: &mut [f32]) {
    assert_eq!(src.len(), dst.len(), "softmax rows of different lengths");
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected; both rows hold `len` values.
        unsafe { x86::softmax_avx512(src.as_ptr(), dst.as_mut_ptr(), src.len()) };
        return;
    }
    dst.copy_from_slice(src);
    softmax_portable(dst);
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
    use super::super::math::x86::{exp16_nonpositive, lanes};
    use core::arch::x86_64::*;
    #[cfg(not(feature = "std"))]
    use num_traits::Float;

    /// Writes `exp(v - max)` of the 16 values at `src + at` to `dst + at` and returns them.
    ///
    /// # Safety
    /// The 16 values must be valid to read at `src + at` and to write at `dst + at`; the CPU
    /// must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn exp_minus(src: *const f32, dst: *mut f32, at: usize, max: __m512) -> __m512 {
        // SAFETY: by the caller's contract.
        unsafe {
            let e = exp16_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(src.add(at)), max));
            _mm512_storeu_ps(dst.add(at), e);
            e
        }
    }

    /// Softmax of the `len` values at `src` written to `dst` (the same row, or another that
    /// does not overlap it): whole 16-value blocks unmasked, the tail masked, and the
    /// exponentials summed in two chains so the adds do not wait on each other.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `src` must be valid for `len` reads and `dst` for `len`
    /// writes, and they are the same row or apart.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn softmax_avx512(src: *const f32, dst: *mut f32, len: usize) {
        let (whole, tail) = (len - len % 16, lanes(len - len % 16, len));
        // SAFETY: unmasked loads and stores stay below `whole`, masked ones inside the rows.
        unsafe {
            // `max` keeps its lane where the value is NaN, as `f32::max` does.
            let mut max = _mm512_set1_ps(f32::NEG_INFINITY);
            for start in (0..whole).step_by(16) {
                max = _mm512_max_ps(_mm512_loadu_ps(src.add(start)), max);
            }
            max = _mm512_max_ps(_mm512_mask_loadu_ps(max, tail, src.add(whole)), max);
            let max = _mm512_set1_ps(_mm512_reduce_max_ps(max));
            let (mut even, mut odd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
            let mut start = 0;
            while start + 32 <= whole {
                even = _mm512_add_ps(even, exp_minus(src, dst, start, max));
                odd = _mm512_add_ps(odd, exp_minus(src, dst, start + 16, max));
                start += 32;
            }
            if start < whole {
                even = _mm512_add_ps(even, exp_minus(src, dst, start, max));
            }
            if whole < len {
                let e = exp16_nonpositive(_mm512_sub_ps(
                    _mm512_maskz_loadu_ps(tail, src.add(whole)),
                    max,
                ));
                _mm512_mask_storeu_ps(dst.add(whole), tail, e);
                odd = _mm512_mask_add_ps(odd, tail, odd, e);
            }
            let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(_mm512_add_ps(even, odd)));
            for start in (0..whole).step_by(16) {
                let v = _mm512_loadu_ps(dst.add(start));
                _mm512_storeu_ps(dst.add(start), _mm512_mul_ps(v, inv));
            }
            let v = _mm512_maskz_loadu_ps(tail, dst.add(whole));
            _mm512_mask_storeu_ps(dst.add(whole), tail, _mm512_mul_ps(v, inv));
        }
    }

    /// The sum of `term(v)` over the `len` values at `src`, in two chains of 16 lanes (a
    /// masked tail's other lanes add nothing).
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `src` must be valid for `len` reads.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn sum16(src: *const f32, len: usize, term: impl Fn(__m512) -> __m512) -> f32 {
        let (whole, tail) = (len - len % 16, lanes(len - len % 16, len));
        // SAFETY: unmasked loads stay below `whole`, the masked one inside the row.
        unsafe {
            let (mut even, mut odd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
            let mut start = 0;
            while start + 32 <= whole {
                even = _mm512_add_ps(even, term(_mm512_loadu_ps(src.add(start))));
                odd = _mm512_add_ps(odd, term(_mm512_loadu_ps(src.add(start + 16))));
                start += 32;
            }
            if start < whole {
                even = _mm512_add_ps(even, term(_mm512_loadu_ps(src.add(start))));
            }
            if whole < len {
                let t = term(_mm512_maskz_loadu_ps(tail, src.add(whole)));
                odd = _mm512_mask_add_ps(odd, tail, odd, t);
            }
            _mm512_reduce_add_ps(_mm512_add_ps(even, odd))
        }
    }

    /// Layer normalisation of the `len` values at `src` written to `dst` (the same row, or
    /// another that does not overlap it): the mean, then the variance about it, then each
    /// value less the mean over the deviation.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `src` must be valid for `len` reads and `dst` for `len`
    /// writes, and they are the same row or apart.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn layer_norm_avx512(
        src: *const f32,
        dst: *mut f32,
        len: usize,
        epsilon: f32,
    ) {
        let n = len as f32;
        // SAFETY: by the caller's contract; unmasked loads and stores stay below `whole`,
        // masked ones inside the rows.
        unsafe {
            let mean = sum16(src, len, |v| v) / n;
            let m = _mm512_set1_ps(mean);
            let var = sum16(src, len, |v| {
                let d = _mm512_sub_ps(v, m);
                _mm512_mul_ps(d, d)
            }) / n;
            let inv = _mm512_set1_ps(1.0 / (var + epsilon).sqrt());
            let (whole, tail) = (len - len % 16, lanes(len - len % 16, len));
            for start in (0..whole).step_by(16) {
                let v = _mm512_sub_ps(_mm512_loadu_ps(src.add(start)), m);
                _mm512_storeu_ps(dst.add(start), _mm512_mul_ps(v, inv));
            }
            let v = _mm512_sub_ps(_mm512_maskz_loadu_ps(tail, src.add(whole)), m);
            _mm512_mask_storeu_ps(dst.add(whole), tail, _mm512_mul_ps(v, inv));
        }
    }
}

/// Normalises one contiguous row to zero mean and unit variance, in place (with AVX-512
/// where the CPU has it).
pub fn layer_norm_in_place(row: &mut [f32], epsilon: f32) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected; the row is read and written through one pointer.
        unsafe { x86::layer_norm_avx512(row.as_ptr(), row.as_mut_ptr(), row.len(), epsilon) };
        return;
    }
    layer_norm_portable(row, epsilon);
}

/// [`layer_norm_in_place`] of the contiguous row `src` written to `dst` (as long), which is
/// then the only row written.
///
/// ```
/// let mut out = [0.0; 2];
/// kiln_ukernel::rows::layer_norm_into(&[1.0, 3.0], &mut out, 0.0);
/// assert_eq!(out, [-1.0, 1.0]);
/// ```
pub fn layer_norm_into(src: &[f32], dst: &mut [f32], epsilon: f32) {
    assert_eq!(src.len(), dst.len(), "layer norm rows of different lengths");
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected; both rows hold `len` values.
        unsafe { x86::layer_norm_avx512(src.as_ptr(), dst.as_mut_ptr(), src.len(), epsilon) };
        return;
    }
    dst.copy_from_slice(src);
    layer_norm_portable(dst, epsilon);
}

/// [`layer_norm_in_place`] for any CPU.
fn layer_norm_portable(row: &mut [f32], epsilon: f32) {
    let n = row.len() as f32;
    let add = |a: f32, b: f32| a + b;
    let mean = fold_lanes(row, 0.0, add, add) / n;
    let var = fold_lanes(row, 0.0, |a, v| a + (v - mean) * (v - mean), add) / n;
    let inv = 1.0 / (var + epsilon).sqrt();
    row.iter_mut().for_each(|v| *v = (*v - mean) * inv);
}
