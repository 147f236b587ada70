//! The 16×16 transpose of f32 vectors in AVX-512 registers, which kernels use to move values
//! between a channel-major and a position-major layout (the interleaved depthwise
//! convolution, GEMM tiles stored transposed).

use core::arch::x86_64::*;

/// The 16×16 transpose of `r`: lane `j` of vector `i` becomes lane `i` of vector `j`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn transpose16(r: [__m512; 16]) -> [__m512; 16] {
    // Pairs of rows interleaved by value, then by pairs of values: `u[4q + j]` holds, in its
    // 128-bit lane `l`, column `4l + j` of rows `4q..4q + 4`.
    let mut u = [_mm512_setzero_ps(); 16];
    for q in 0..4 {
        let [a, b, c, d] = [r[4 * q], r[4 * q + 1], r[4 * q + 2], r[4 * q + 3]];
        let (ab0, ab1) = (_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
        let (cd0, cd1) = (_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
        let pd = _mm512_castps_pd;
        u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(ab0), pd(cd0)));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(ab0), pd(cd0)));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(ab1), pd(cd1)));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(ab1), pd(cd1)));
    }
    // Then 128-bit lanes gathered across the four groups of rows: column `4l + j` is lane
    // `l` of `u[j]`, `u[4 + j]`, `u[8 + j]`, `u[12 + j]`.
    let mut out = [_mm512_setzero_ps(); 16];
    for j in 0..4 {
        let even01 = _mm512_shuffle_f32x4::<0x88>(u[j], u[4 + j]);
        let odd01 = _mm512_shuffle_f32x4::<0xDD>(u[j], u[4 + j]);
        let even23 = _mm512_shuffle_f32x4::<0x88>(u[8 + j], u[12 + j]);
        let odd23 = _mm512_shuffle_f32x4::<0xDD>(u[8 + j], u[12 + j]);
        out[j] = _mm512_shuffle_f32x4::<0x88>(even01, even23);
        out[8 + j] = _mm512_shuffle_f32x4::<0xDD>(even01, even23);
        out[4 + j] = _mm512_shuffle_f32x4::<0x88>(odd01, odd23);
        out[12 + j] = _mm512_shuffle_f32x4::<0xDD>(odd01, odd23);
    }
    out
}
