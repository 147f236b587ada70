//! Gate activations of a contiguous row, in place: the sigmoid and tanh a recurrent cell
//! applies at every step. The portable loops of [`super::exp`] and [`super::tanh`] vectorise;
//! on x86 the same loops are compiled again for AVX-512 and chosen where the CPU has it (the
//! crate's baseline is SSE2, four lanes).

use super::math::{exp, tanh};

/// `1 / (1 + e^-x)` over `row`, in place.
///
/// ```
/// let mut row = [0.0f32, 2.0, -30.0];
/// kiln_ukernel::rows::sigmoid_in_place(&mut row);
/// assert_eq!(row[0], 0.5);
/// assert!((row[1] - 0.880_797).abs() < 1e-6 && row[2] < 1e-12);
/// ```
pub fn sigmoid_in_place(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected.
        unsafe { x86::sigmoid(row) };
        return;
    }
    sigmoid_portable(row);
}

/// `tanh x` over `row`, in place ([`super::tanh`]'s formula).
///
/// ```
/// let mut row = [0.0f32, 0.3, -4.0];
/// kiln_ukernel::rows::tanh_in_place(&mut row);
/// assert!((row[1] - 0.3f32.tanh()).abs() < 1e-7 && (row[2] + 4.0f32.tanh()).abs() < 1e-7);
/// ```
pub fn tanh_in_place(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::x86_feature!("avx512f") {
        // SAFETY: AVX-512F was detected.
        unsafe { x86::tanh(row) };
        return;
    }
    tanh_portable(row);
}

#[inline(always)]
fn sigmoid_portable(row: &mut [f32]) {
    row.iter_mut().for_each(|x| *x = 1.0 / (1.0 + exp(-*x)));
}

#[inline(always)]
fn tanh_portable(row: &mut [f32]) {
    row.iter_mut().for_each(|x| *x = tanh(*x));
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The portable loops compiled for AVX-512.

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn sigmoid(row: &mut [f32]) {
        super::sigmoid_portable(row)
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn tanh(row: &mut [f32]) {
        super::tanh_portable(row)
    }
}
