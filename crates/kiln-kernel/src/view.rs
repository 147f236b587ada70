//! Strided views of a dispatch's operands.

use crate::{Sizes, Static};
use kiln_types::ElementType;

/// A strided view of operand `operand`: element `idx` is at element offset
/// `offset + Σ idx[d]·strides[d]` of that operand's storage. Sizes are numbers ([`Static`])
/// or expressions over the function's symbols ([`crate::Symbolic`]).
#[derive(Clone, Debug, PartialEq)]
pub struct View<Z: Sizes = Static> {
    pub operand: u32,
    pub offset: Z::Extent,
    pub element_type: ElementType,
    pub shape: Vec<Z::Extent>,
    pub strides: Vec<Z::Stride>,
}

impl<Z: Sizes> View<Z> {
    /// A contiguous row-major view with sizes of family `Z`.
    pub fn contiguous_of(
        operand: u32,
        offset: Z::Extent,
        element_type: ElementType,
        shape: &[Z::Extent],
    ) -> View<Z> {
        View {
            operand,
            offset,
            element_type,
            shape: shape.to_vec(),
            strides: Z::contiguous_strides(shape),
        }
    }

    /// Row-major without gaps (strides of size-1 dims do not matter).
    pub fn is_contiguous(&self) -> bool {
        let c = Z::contiguous_strides(&self.shape);
        self.shape.len() == self.strides.len()
            && (0..self.shape.len())
                .all(|d| Z::extent_is(&self.shape[d], 1) || self.strides[d] == c[d])
    }
}

impl View {
    /// A contiguous row-major view.
    ///
    /// ```
    /// use kiln_kernel::View;
    /// let v = View::contiguous(1, 0, kiln_types::ElementType::F32, &[2, 3]);
    /// assert_eq!(v.strides, vec![3, 1]);
    /// assert_eq!(v.to_string(), "#1[2x3xf32]");
    /// ```
    pub fn contiguous(operand: u32, offset: u64, element_type: ElementType, shape: &[u64]) -> View {
        View::contiguous_of(operand, offset, element_type, shape)
    }
}

/// A view whose extent does not fit 64-bit offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtentOverflow;

impl std::fmt::Display for ExtentOverflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a view's extent overflows")
    }
}

impl std::error::Error for ExtentOverflow {}

impl View {
    /// Lowest and one-past-highest element offsets the view touches; `Ok(None)` when empty.
    pub fn span(&self) -> Result<Option<(i64, i64)>, ExtentOverflow> {
        if self.shape.contains(&0) {
            return Ok(None);
        }
        let base = i64::try_from(self.offset).map_err(|_| ExtentOverflow)?;
        let (mut lo, mut hi) = (base, base);
        for (&n, &s) in self.shape.iter().zip(&self.strides) {
            let reach = i64::try_from(n - 1)
                .ok()
                .and_then(|n| n.checked_mul(s))
                .ok_or(ExtentOverflow)?;
            if reach < 0 {
                lo = lo.checked_add(reach).ok_or(ExtentOverflow)?;
            } else {
                hi = hi.checked_add(reach).ok_or(ExtentOverflow)?;
            }
        }
        Ok(Some((lo, hi.checked_add(1).ok_or(ExtentOverflow)?)))
    }
}
