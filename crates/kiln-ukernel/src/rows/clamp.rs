//! A bias and a clamp over a contiguous row, in place: what a convolution's bias and ReLU or
//! ReLU6 do to its sums. The portable loop vectorises (its comparisons select as x86's
//! `max`/`min` do, a NaN passing through); on x86 it is compiled again for AVX-512 and chosen
//! where the CPU has it (the crate's baseline is SSE2, four lanes).

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
    //! The portable loop compiled for AVX-512.

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn bias_clamp(row: &mut [f32], bias: f32, lo: f32, hi: f32) {
        super::bias_clamp_portable(row, bias, lo, hi)
    }
}
