//! Element types and dense host tensors: the vocabulary every kiln crate shares.
//!
//! - [`ElementType`] names the scalar types kiln supports, with IREE's spellings (`f32`, `i1`, …).
//! - [`HostTensor`] is a dense, row-major, little-endian tensor in host memory. The compiler uses
//!   it for constants, the runtime for inputs and outputs, the tools for `.npy` files.
//! - [`npy`] reads and writes NumPy's `.npy` format; [`text`] parses and prints IREE's tensor text
//!   syntax (`2x3xf32=[1 2 3][4 5 6]`).
//! - [`sym`] holds symbolic sizes (`(h+1)/2`) in a normal form: the compiler's shape inference
//!   computes with them, and module files carry them for the runtime to evaluate per call.
//!
//! This crate has no heavy dependencies and no `unsafe`; the compiler and the runtime both use it.
//! Without its `std` feature (on by default) it is `no_std`, with `alloc`.
#![no_std]
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod control;
pub mod math;
pub mod message;
pub mod minifloat;
pub mod npy;
pub mod recurrent;
pub mod sizes;
pub mod sort;
pub mod sym;
pub mod text;

use core::fmt;

/// A scalar element type. `I1` (boolean) is stored as one byte per element, 0 or 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElementType {
    F32,
    F16,
    BF16,
    I8,
    I32,
    I64,
    I1,
    U8,
    I16,
    U16,
    U32,
    /// Computes in the 64-bit integer registers like `i64`: exact for add, sub, mul and bitwise
    /// ops; comparisons, division and conversions treat values from 2^63 up as negative.
    U64,
    /// Stored as 64-bit floats; computes in the f32 registers, as IREE does by default
    /// (`--iree-input-demote-f64-to-f32`).
    F64,
    /// 4- and 2-bit integers, one per byte in its low bits (as `ml_dtypes` holds them).
    I4,
    U4,
    I2,
    U2,
    /// Narrow float formats ([`minifloat`]), one per byte and held as their bits: kernels see
    /// them as unsigned integers, and only bit casts and data movement apply to them directly
    /// (the importer converts them with integer arithmetic on the bits).
    F8E4M3FN,
    F8E4M3FNUZ,
    F8E5M2,
    F8E5M2FNUZ,
    F8E8M0FNU,
    F4E2M1FN,
}

impl ElementType {
    /// Every supported type, in a stable order (also their on-disk codes).
    pub const ALL: [ElementType; 23] = [
        ElementType::F32,
        ElementType::F16,
        ElementType::BF16,
        ElementType::I8,
        ElementType::I32,
        ElementType::I64,
        ElementType::I1,
        ElementType::U8,
        ElementType::I16,
        ElementType::U16,
        ElementType::U32,
        ElementType::U64,
        ElementType::F64,
        ElementType::I4,
        ElementType::U4,
        ElementType::I2,
        ElementType::U2,
        ElementType::F8E4M3FN,
        ElementType::F8E4M3FNUZ,
        ElementType::F8E5M2,
        ElementType::F8E5M2FNUZ,
        ElementType::F8E8M0FNU,
        ElementType::F4E2M1FN,
    ];

    /// Bytes one element occupies in memory.
    pub fn byte_size(self) -> usize {
        match self {
            ElementType::F32 | ElementType::I32 | ElementType::U32 => 4,
            ElementType::F16 | ElementType::BF16 | ElementType::I16 | ElementType::U16 => 2,
            ElementType::I64 | ElementType::U64 | ElementType::F64 => 8,
            _ => 1,
        }
    }

    /// Width in bits and signedness of an integer type other than `i1`, or of the bits a
    /// narrow float format is held as; `None` for floats and booleans. Integers compute in
    /// 64-bit registers and wrap to this width when stored.
    ///
    /// ```
    /// use kiln_types::ElementType;
    /// assert_eq!(ElementType::U8.int_width(), Some((8, false)));
    /// assert_eq!(ElementType::U8.wrap(-1), 255);
    /// assert_eq!(ElementType::I16.wrap(40000), -25536);
    /// ```
    pub fn int_width(self) -> Option<(u32, bool)> {
        match self {
            ElementType::I8 => Some((8, true)),
            ElementType::U8 => Some((8, false)),
            ElementType::I16 => Some((16, true)),
            ElementType::U16 => Some((16, false)),
            ElementType::I32 => Some((32, true)),
            ElementType::U32 => Some((32, false)),
            ElementType::I64 => Some((64, true)),
            ElementType::U64 => Some((64, false)),
            ElementType::I4 => Some((4, true)),
            ElementType::U4 | ElementType::F4E2M1FN => Some((4, false)),
            ElementType::I2 => Some((2, true)),
            ElementType::U2 => Some((2, false)),
            t if t.is_narrow_float() => Some((8, false)),
            _ => None,
        }
    }

    /// `v` wrapped to this integer type's range, as a C cast does (`v` itself for other types).
    pub fn wrap(self, v: i64) -> i64 {
        match self.int_width() {
            Some((64, _)) | None => v,
            Some((bits, true)) => (v << (64 - bits)) >> (64 - bits),
            Some((bits, false)) => v & ((1i64 << bits) - 1),
        }
    }

    /// IREE's / MLIR's spelling: `f32`, `bf16`, `i1`, …
    pub fn name(self) -> &'static str {
        match self {
            ElementType::F32 => "f32",
            ElementType::F16 => "f16",
            ElementType::BF16 => "bf16",
            ElementType::I8 => "i8",
            ElementType::I32 => "i32",
            ElementType::I64 => "i64",
            ElementType::I1 => "i1",
            ElementType::U8 => "ui8",
            ElementType::I16 => "i16",
            ElementType::U16 => "ui16",
            ElementType::U32 => "ui32",
            ElementType::U64 => "ui64",
            ElementType::F64 => "f64",
            ElementType::I4 => "i4",
            ElementType::U4 => "ui4",
            ElementType::I2 => "i2",
            ElementType::U2 => "ui2",
            ElementType::F8E4M3FN => "f8E4M3FN",
            ElementType::F8E4M3FNUZ => "f8E4M3FNUZ",
            ElementType::F8E5M2 => "f8E5M2",
            ElementType::F8E5M2FNUZ => "f8E5M2FNUZ",
            ElementType::F8E8M0FNU => "f8E8M0FNU",
            ElementType::F4E2M1FN => "f4E2M1FN",
        }
    }

    /// True for the narrow float formats, held as their bits and converted by the importer.
    pub fn is_narrow_float(self) -> bool {
        matches!(self, ElementType::F8E8M0FNU) || self.float_format().is_some()
    }

    /// The layout of a narrow float format (`f8E8M0FNU`, a bare exponent, has none: see
    /// [`minifloat::e8m0_encode`]).
    pub fn float_format(self) -> Option<minifloat::Format> {
        use minifloat::Format;
        Some(match self {
            ElementType::F8E4M3FN => Format::F8E4M3FN,
            ElementType::F8E4M3FNUZ => Format::F8E4M3FNUZ,
            ElementType::F8E5M2 => Format::F8E5M2,
            ElementType::F8E5M2FNUZ => Format::F8E5M2FNUZ,
            ElementType::F4E2M1FN => Format::F4E2M1FN,
            _ => return None,
        })
    }

    /// NumPy's array-protocol type string (`<f4`, `|u1`, …); `None` for the types NumPy lacks
    /// (bf16, the narrow floats and sub-byte integers, which `ml_dtypes` adds).
    pub fn numpy_typestr(self) -> Option<&'static str> {
        Some(match self {
            ElementType::F32 => "<f4",
            ElementType::F16 => "<f2",
            ElementType::I8 => "|i1",
            ElementType::U8 => "|u1",
            ElementType::I16 => "<i2",
            ElementType::U16 => "<u2",
            ElementType::I32 => "<i4",
            ElementType::U32 => "<u4",
            ElementType::I64 => "<i8",
            ElementType::U64 => "<u8",
            ElementType::F64 => "<f8",
            ElementType::I1 => "|b1",
            _ => return None,
        })
    }

    /// Parses IREE's spelling; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The stable numeric code used in module files.
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0) as u8
    }

    /// Inverse of [`ElementType::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    pub fn is_float(self) -> bool {
        matches!(
            self,
            ElementType::F32 | ElementType::F16 | ElementType::BF16 | ElementType::F64
        )
    }

    /// Rounds an f64 to the nearest value representable in this type (integers truncate toward
    /// zero and wrap like a C cast; booleans are "non-zero").
    pub fn round(self, v: f64) -> f64 {
        match self {
            ElementType::F32 => v as f32 as f64,
            ElementType::F64 => v,
            ElementType::F16 => half::f16::from_f64(v).to_f64(),
            ElementType::BF16 => half::bf16::from_f64(v).to_f64(),
            ElementType::I1 => (v != 0.0) as u8 as f64,
            ElementType::U64 => v as u64 as f64,
            int => int.wrap(v as i64) as f64,
        }
    }

    /// Decodes one little-endian element at the start of `bytes` as f64.
    /// `bytes` must hold at least [`ElementType::byte_size`] bytes.
    pub fn read_f64(self, bytes: &[u8]) -> f64 {
        match self {
            ElementType::F32 => f32::from_le_bytes(bytes[..4].try_into().unwrap()) as f64,
            ElementType::F64 => f64::from_le_bytes(bytes[..8].try_into().unwrap()),
            ElementType::F16 => half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f64(),
            ElementType::BF16 => half::bf16::from_le_bytes([bytes[0], bytes[1]]).to_f64(),
            ElementType::I1 => (bytes[0] != 0) as u8 as f64,
            ElementType::U64 => u64::from_le_bytes(bytes[..8].try_into().unwrap()) as f64,
            int => int.read_i64(bytes) as f64,
        }
    }

    /// Decodes one little-endian integer element (exact for i64, unlike [`Self::read_f64`]).
    pub fn read_i64(self, bytes: &[u8]) -> i64 {
        match self.int_width() {
            Some(_) => {
                let mut b = [0u8; 8];
                let n = self.byte_size();
                b[..n].copy_from_slice(&bytes[..n]);
                self.wrap(i64::from_le_bytes(b))
            }
            None => self.read_f64(bytes) as i64,
        }
    }

    /// Encodes `v` (rounded to this type) as little-endian bytes appended to `out`.
    pub fn write_f64(self, v: f64, out: &mut Vec<u8>) {
        match self {
            ElementType::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
            ElementType::F64 => out.extend_from_slice(&v.to_le_bytes()),
            ElementType::F16 => out.extend_from_slice(&half::f16::from_f64(v).to_le_bytes()),
            ElementType::BF16 => out.extend_from_slice(&half::bf16::from_f64(v).to_le_bytes()),
            ElementType::I1 => out.push((v != 0.0) as u8),
            ElementType::U64 => out.extend_from_slice(&(v as u64).to_le_bytes()),
            // Sub-byte integers keep only their own bits (`-1` as `i4` is `0x0f`).
            int => match int.int_width() {
                Some((bits, _)) if bits < 8 => out.push((v as i64 & ((1 << bits) - 1)) as u8),
                _ => out.extend_from_slice(&(v as i64).to_le_bytes()[..int.byte_size()]),
            },
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors building or converting host tensors.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TensorError {
    #[error("{shape} of {element_type} needs {expected} bytes but {found} were given")]
    ByteCount {
        shape: String,
        element_type: ElementType,
        expected: usize,
        found: usize,
    },
    #[error("shape {0} has too many elements")]
    Overflow(String),
}

/// User text shortened for a one-line error message: at most 48 characters, control characters
/// escaped.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX_CHARS: usize = 48;
    let mut out = String::new();
    for c in s.chars().take(MAX_CHARS) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if s.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Formats a shape as IREE does: `2x3` (empty for a scalar).
pub fn shape_string(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// IREE's type string of a tensor: `2x3xf32`, or `f32` for a scalar.
///
/// ```
/// assert_eq!(kiln_types::type_string(kiln_types::ElementType::F32, &[2, 3]), "2x3xf32");
/// ```
pub fn type_string(element_type: ElementType, shape: &[usize]) -> String {
    if shape.is_empty() {
        element_type.name().to_string()
    } else {
        format!("{}x{}", shape_string(shape), element_type.name())
    }
}

/// Number of elements of `shape`, or `None` on overflow.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// A dense row-major tensor in host memory, little-endian.
///
/// ```
/// use kiln_types::{ElementType, HostTensor};
/// let t = HostTensor::from_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(t.element_type, ElementType::F32);
/// assert_eq!(t.to_f64(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub element_type: ElementType,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

impl HostTensor {
    /// Wraps raw little-endian bytes, checking that their count matches the shape.
    pub fn new(
        element_type: ElementType,
        shape: Vec<usize>,
        data: Vec<u8>,
    ) -> Result<Self, TensorError> {
        let count =
            element_count(&shape).ok_or_else(|| TensorError::Overflow(shape_string(&shape)))?;
        let expected = count
            .checked_mul(element_type.byte_size())
            .ok_or_else(|| TensorError::Overflow(shape_string(&shape)))?;
        if data.len() != expected {
            return Err(TensorError::ByteCount {
                shape: shape_string(&shape),
                element_type,
                expected,
                found: data.len(),
            });
        }
        Ok(HostTensor {
            element_type,
            shape,
            data,
        })
    }

    /// A tensor of zeros.
    pub fn zeros(element_type: ElementType, shape: &[usize]) -> Self {
        let count = element_count(shape).unwrap_or(0);
        HostTensor {
            element_type,
            shape: shape.to_vec(),
            data: vec![0; count * element_type.byte_size()],
        }
    }

    pub fn from_f32(shape: &[usize], values: &[f32]) -> Self {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        HostTensor {
            element_type: ElementType::F32,
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn from_i64(shape: &[usize], values: &[i64]) -> Self {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        HostTensor {
            element_type: ElementType::I64,
            shape: shape.to_vec(),
            data,
        }
    }

    /// Builds a tensor of `element_type` from f64 values, rounding each to that type.
    pub fn from_f64(element_type: ElementType, shape: &[usize], values: &[f64]) -> Self {
        let mut data = Vec::with_capacity(values.len() * element_type.byte_size());
        for &v in values {
            element_type.write_f64(v, &mut data);
        }
        HostTensor {
            element_type,
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn element_count(&self) -> usize {
        self.data.len() / self.element_type.byte_size()
    }

    /// Every element widened to f64.
    pub fn to_f64(&self) -> Vec<f64> {
        self.data
            .chunks_exact(self.element_type.byte_size())
            .map(|c| self.element_type.read_f64(c))
            .collect()
    }

    /// Every element as i64 (exact for integer types, truncating for floats).
    pub fn to_i64(&self) -> Vec<i64> {
        self.data
            .chunks_exact(self.element_type.byte_size())
            .map(|c| self.element_type.read_i64(c))
            .collect()
    }

    /// Every element as f32 (exact for f32, f16, bf16).
    pub fn to_f32(&self) -> Vec<f32> {
        match self.element_type {
            ElementType::F32 => self
                .data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            _ => self.to_f64().into_iter().map(|v| v as f32).collect(),
        }
    }

    /// IREE's type string for this tensor: `2x3xf32`, or `f32` for a scalar.
    pub fn type_string(&self) -> String {
        type_string(self.element_type, &self.shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn element_types_round_trip_names_and_codes() {
        for t in ElementType::ALL {
            assert_eq!(ElementType::from_name(t.name()), Some(t));
            assert_eq!(ElementType::from_code(t.code()), Some(t));
        }
        assert_eq!(ElementType::from_name("f128"), None);
    }

    #[test]
    fn byte_count_is_checked() {
        let err = HostTensor::new(ElementType::F32, vec![2, 2], vec![0; 15]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2x2 of f32 needs 16 bytes but 15 were given"
        );
    }

    #[test]
    fn conversions_round_to_the_type() {
        let t = HostTensor::from_f64(ElementType::I8, &[3], &[1.9, -129.0, 127.0]);
        assert_eq!(t.to_i64(), vec![1, 127, 127]);
        let h = HostTensor::from_f64(ElementType::F16, &[1], &[1.0 / 3.0]);
        assert!((h.to_f64()[0] - 1.0 / 3.0).abs() < 1e-3);
        assert_eq!(ElementType::BF16.round(1.0), 1.0);
        assert_eq!(HostTensor::from_f32(&[], &[2.5]).type_string(), "f32");
    }
}
