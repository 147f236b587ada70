//! Float functions that `core` lacks, for code that builds with and without `std`.
//!
//! With `std`, floats have their inherent methods (`exp`, `sqrt`, `powi`, …); without it, a
//! crate imports [`Float`] (num-traits' trait, computing with `libm`) in the files that call
//! them: `#[cfg(not(feature = "std"))] use kiln_types::math::Float;`. The functions here are
//! the ones neither provides under one name.

pub use num_traits::Float;

/// `x` rounded to the nearest integer, ties to even (IEEE 754's default rounding).
pub fn round_ties_even(x: f32) -> f32 {
    #[cfg(feature = "std")]
    return x.round_ties_even();
    #[cfg(not(feature = "std"))]
    return libm::rintf(x);
}

/// [`round_ties_even`] for `f64`.
pub fn round_ties_even_f64(x: f64) -> f64 {
    #[cfg(feature = "std")]
    return x.round_ties_even();
    #[cfg(not(feature = "std"))]
    return libm::rint(x);
}
