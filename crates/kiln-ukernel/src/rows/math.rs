//! Vectorisable `exp`, `tanh` and `erf` for f32 rows: range reduction and polynomials LLVM
//! turns into vector code, within a few ulp of the C library; and the sigmoid's constants,
//! which llvm-cpu's generated kernels and the AVX-512 row kernels here share.

/// `ln 2` split so that `n·LN2_HI` is exact for the `n` [`exp`] meets.
pub(super) const LN2_HI: f32 = 0.693_145_75;
pub(super) const LN2_LO: f32 = 1.428_606_8e-6;
/// Where [`exp`] gives 0 below and infinity above.
pub(super) const EXP_MIN: f32 = -87.0;
pub(super) const EXP_MAX: f32 = 88.72;
/// Taylor coefficients of `e^r` from `r^7` down, for Horner's scheme.
pub(super) const EXP_TAYLOR: [f32; 8] = [
    1.0 / 5040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// The sigmoid's rounding constant, `1.5·2^23 + 127`: a value in `[-126, 127]` added to it
/// rounds to an integer `n`, and the sum's low mantissa bits hold `n + 127` (`2^n`'s exponent
/// field). llvm-cpu's sigmoid and the row kernels' alike.
pub const SIGMOID_ROUND: f32 = 12_583_039.0;

/// `ln 2` in two parts for the reductions of llvm-cpu's `exp` and sigmoid (Cody and Waite's:
/// the first, 355/512, times any `n` they meet exact): `ln 2 = LN2_SPLIT[0] - LN2_SPLIT[1]`.
pub const LN2_SPLIT: [f32; 2] = [0.693_359_4, 2.121_944_4e-4];

/// `e^r` on `|r| ≤ ln2/2` from the `r^6` coefficient down (a minimax fit of relative error,
/// 1.9e-9 in exact arithmetic, within 1e-7 evaluated in f32), for the sigmoid.
pub const SIGMOID_EXP_POLY: [f32; 7] = [
    1.383_685_5e-3,
    8.374_816e-3,
    4.166_822_5e-2,
    1.666_642e-1,
    4.999_999e-1,
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
    let shifted = clamped * core::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let mut p = EXP_TAYLOR[0];
    for c in &EXP_TAYLOR[1..] {
        p = p * r + c;
    }
    let power = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    // `n` as an integer, read from the low bits of `shifted` (`ROUND + n`, in ROUND's binade)
    // rather than by `as i32`, whose saturating conversion LLVM checks lane by lane. A NaN
    // gives bits that the NaN case below discards.
    let k = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let half = k >> 1;
    let scaled = p * power(half) * power(k - half);
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

/// `tanh x` within a few ulp, written so that LLVM vectorises a loop of it, by the formula
/// llvm-cpu's generated kernels use: below `|x| = 0.625` an odd polynomial, above it
/// `1 - 2 / (e^(2|x|) + 1)` (with `|x|` capped at 15, where tanh is 1 in f32) given `x`'s sign.
///
/// ```
/// use kiln_ukernel::rows::tanh;
/// for x in [-20.0f32, -1.5, -0.3, 0.0, 1e-4, 0.6, 0.7, 3.0] {
///     assert!((tanh(x) - x.tanh()).abs() <= 4e-7 * x.tanh().abs().max(1e-3), "{x}");
/// }
/// assert!(tanh(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let (ax, z) = (x.abs(), x * x);
    let mut p = -5.704_988_7e-3;
    for c in [2.063_909e-2, -5.373_971_6e-2, 1.333_144_2e-1, -3.333_328e-1] {
        p = p * z + c;
    }
    let small = p * z * x + x;
    let large = 1.0 - 2.0 / (exp(2.0 * ax.min(15.0)) + 1.0);
    // NaN compares false and keeps the polynomial's NaN.
    if ax >= 0.625 {
        large.copysign(x)
    } else {
        small
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
    let small = series * x * core::f32::consts::FRAC_2_SQRT_PI;
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

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    //! `e^y` and llvm-cpu's sigmoid on AVX-512 vectors, for the row kernels' explicit vector
    //! code.
    use super::EXP_MIN;
    use core::arch::x86_64::*;

    /// `e^(±y)` (`-y` for `NEG`) as `(p, 2^n)`, whose product it is, for `±y` in `[-87, 88]`
    /// (`2^n` is 0 a little below -87; a NaN gives a NaN `p`), by llvm-cpu's method:
    /// `±y = n·ln2 + r` with `n` rounded by adding [`SIGMOID_ROUND`](super::SIGMOID_ROUND)
    /// (whose low bits, shifted, are `2^n`), `e^r` by
    /// [`SIGMOID_EXP_POLY`](super::SIGMOID_EXP_POLY). For `NEG` it is evaluated at `-r` with
    /// its odd coefficients negated: the same values, with no negation of `y`.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn exp_parts16<const NEG: bool>(y: __m512) -> (__m512, __m512) {
        use super::{LN2_SPLIT, SIGMOID_EXP_POLY as POLY, SIGMOID_ROUND};
        let s = if NEG { -1.0 } else { 1.0 };
        let round = _mm512_set1_ps(SIGMOID_ROUND);
        let shifted = _mm512_fmadd_ps(y, _mm512_set1_ps(s * core::f32::consts::LOG2_E), round);
        let n = _mm512_sub_ps(shifted, round);
        // `s·r`: `y - s·n·ln2`, with `ln2` in two parts.
        let t = _mm512_fmadd_ps(n, _mm512_set1_ps(-s * LN2_SPLIT[0]), y);
        let t = _mm512_fmadd_ps(n, _mm512_set1_ps(s * LN2_SPLIT[1]), t);
        let mut p = _mm512_set1_ps(POLY[0]);
        for (i, &k) in POLY.iter().enumerate().skip(1) {
            let odd = (POLY.len() - 1 - i) % 2 == 1;
            p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(if odd { s * k } else { k }));
        }
        let power = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(shifted)));
        (p, power)
    }

    /// `1 / (1 + e^-x)` on 16 lanes by llvm-cpu's formula: `x` limited to `[-88, 87]` (a NaN
    /// passes), `e^-x` by [`exp_parts16`], `1 + e^-x` as one fused multiply-add of its parts,
    /// and its reciprocal as an estimate refined by one Newton step (relative error about
    /// 2^-23, where `vdivps` takes 16 cycles a vector), as llvm-cpu's is on AVX-512. 0 below
    /// -88, so that `x · sigmoid(x)` at `-inf` is NaN (as llvm-cpu's and ONNX Runtime's);
    /// NaN for NaN.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(in crate::rows) unsafe fn sigmoid16(x: __m512) -> __m512 {
        let (one, low) = (_mm512_set1_ps(1.0), _mm512_set1_ps(-88.0));
        // `max` and `min` return their second operand where either is NaN.
        let y = _mm512_min_ps(_mm512_set1_ps(87.0), _mm512_max_ps(low, x));
        // SAFETY: AVX-512F is enabled here.
        let (p, power) = unsafe { exp_parts16::<true>(y) };
        let d = _mm512_fmadd_ps(p, power, one);
        let estimate = _mm512_rcp14_ps(d);
        let error = _mm512_fnmadd_ps(d, estimate, one);
        // Lanes at -88 or above, or NaN (an unordered comparison is true).
        let kept = _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(x, low);
        _mm512_maskz_fmadd_ps(kept, estimate, error, estimate)
    }

    /// `e^y` on 16 lanes for `y` at most 0 (a softmax's `v - max`), by [`exp_parts16`]: 0
    /// below -87 (and at `-inf`), NaN for NaN; within 2 ulp of [`super::exp`], in about half
    /// its instructions (no upper limit, no conversions, one select).
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(in crate::rows) unsafe fn exp16_nonpositive(y: __m512) -> __m512 {
        let low = _mm512_set1_ps(EXP_MIN);
        // SAFETY: AVX-512F is enabled here.
        let (p, power) = unsafe { exp_parts16::<false>(_mm512_max_ps(low, y)) };
        // Lanes at -87 or above, or NaN (an unordered comparison is true).
        let kept = _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(y, low);
        _mm512_maskz_mul_ps(kept, p, power)
    }

    /// The lanes of the 16-value block at `start` that lie inside a row of `len`.
    #[inline(always)]
    pub(in crate::rows) fn lanes(start: usize, len: usize) -> __mmask16 {
        let n = (len - start).min(16);
        (((1u32 << n) - 1) & 0xffff) as __mmask16
    }
}
