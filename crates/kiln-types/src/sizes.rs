//! How kernel descriptions hold sizes: static numbers, or expressions over a function's
//! symbols.
//!
//! The compiler's kernel IR and the executable formats that carry sizes known only at run time
//! are generic over a [`Sizes`] family: [`Static`] (`u64` extents, `i64` strides) or
//! [`Symbolic`] ([`SymExpr`]s, evaluated once the symbols have values).

use crate::sym::SymExpr;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;

/// A family of size types: extents (dims, offsets, element counts) and strides.
pub trait Sizes: Clone + Debug + PartialEq {
    type Extent: Clone + Debug + PartialEq;
    type Stride: Clone + Debug + PartialEq;
    /// Row-major strides of a contiguous `shape`.
    fn contiguous_strides(shape: &[Self::Extent]) -> Vec<Self::Stride>;
    /// True when `n` is the constant `c`.
    fn extent_is(n: &Self::Extent, c: u64) -> bool;
    /// The text of a dim, offset or stride (symbolic ones in braces: `{h+1}`).
    fn extent_text(n: &Self::Extent) -> String;
    fn stride_text(s: &Self::Stride) -> String;
    /// The extent of a size known when compiling.
    fn extent_of(n: u64) -> Self::Extent;
    fn stride_of(s: i64) -> Self::Stride;
    /// The number an extent is, when it is known when compiling (a constant expression).
    fn known_extent(n: &Self::Extent) -> Option<u64>;
    fn known_stride(s: &Self::Stride) -> Option<i64>;
    /// The extent with every symbol at `at`, for choices made when compiling that only
    /// affect speed (never a size a kernel computes with); 0 where that is negative.
    fn typical_extent(n: &Self::Extent, at: u64) -> u64;
    /// The product of extents; `None` when a static one overflows `u64`.
    fn product(dims: &[Self::Extent]) -> Option<Self::Extent>;
    /// `ceil(n / k)` for a constant `k > 0`.
    fn ceil_div(n: &Self::Extent, k: u64) -> Self::Extent;
    /// `floor(n / k)` for a constant `k > 0`.
    fn floor_div(n: &Self::Extent, k: u64) -> Self::Extent;
}

/// Sizes known when compiling: `u64` extents, `i64` strides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Static;

/// Sizes as [`SymExpr`]s over the function's symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbolic;

impl Sizes for Static {
    type Extent = u64;
    type Stride = i64;
    fn contiguous_strides(shape: &[u64]) -> Vec<i64> {
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        strides
    }
    fn extent_is(n: &u64, c: u64) -> bool {
        *n == c
    }
    fn extent_text(n: &u64) -> String {
        n.to_string()
    }
    fn stride_text(s: &i64) -> String {
        s.to_string()
    }
    fn extent_of(n: u64) -> u64 {
        n
    }
    fn stride_of(s: i64) -> i64 {
        s
    }
    fn known_extent(n: &u64) -> Option<u64> {
        Some(*n)
    }
    fn known_stride(s: &i64) -> Option<i64> {
        Some(*s)
    }
    fn typical_extent(n: &u64, _: u64) -> u64 {
        *n
    }
    fn product(dims: &[u64]) -> Option<u64> {
        dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }
    fn ceil_div(n: &u64, k: u64) -> u64 {
        n.div_ceil(k)
    }
    fn floor_div(n: &u64, k: u64) -> u64 {
        n / k
    }
}

impl Sizes for Symbolic {
    type Extent = SymExpr;
    type Stride = SymExpr;
    fn contiguous_strides(shape: &[SymExpr]) -> Vec<SymExpr> {
        let mut strides = vec![SymExpr::from(1); shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1].clone() * shape[d + 1].clone();
        }
        strides
    }
    fn extent_is(n: &SymExpr, c: u64) -> bool {
        n.as_const() == Some(c as i64)
    }
    fn extent_text(n: &SymExpr) -> String {
        match n.as_const() {
            Some(c) => c.to_string(),
            None => format!("{{{n}}}"),
        }
    }
    fn stride_text(s: &SymExpr) -> String {
        Self::extent_text(s)
    }
    fn extent_of(n: u64) -> SymExpr {
        SymExpr::from(n as i64)
    }
    fn stride_of(s: i64) -> SymExpr {
        SymExpr::from(s)
    }
    fn known_extent(n: &SymExpr) -> Option<u64> {
        n.as_const().and_then(|c| u64::try_from(c).ok())
    }
    fn known_stride(s: &SymExpr) -> Option<i64> {
        s.as_const()
    }
    fn product(dims: &[SymExpr]) -> Option<SymExpr> {
        Some(dims.iter().fold(SymExpr::from(1), |a, d| a * d.clone()))
    }
    fn ceil_div(n: &SymExpr, k: u64) -> SymExpr {
        n.ceil_div(k as i64)
    }
    fn floor_div(n: &SymExpr, k: u64) -> SymExpr {
        n.floor_div(k as i64)
    }
    fn typical_extent(n: &SymExpr, at: u64) -> u64 {
        n.eval(&|_| Some(at as i64))
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0)
    }
}

impl Symbolic {
    /// `e` evaluated for the symbols `lookup` binds, as an extent: an error names a size that
    /// is unbound, overflows or is negative.
    pub fn bind_extent(e: &SymExpr, lookup: &dyn Fn(&str) -> Option<i64>) -> Result<u64, String> {
        e.eval(lookup)
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| format!("size {e} has no non-negative value"))
    }

    /// `s` evaluated as a stride (which may be negative).
    pub fn bind_stride(s: &SymExpr, lookup: &dyn Fn(&str) -> Option<i64>) -> Result<i64, String> {
        s.eval(lookup)
            .ok_or_else(|| format!("stride {s} has no value"))
    }
}
