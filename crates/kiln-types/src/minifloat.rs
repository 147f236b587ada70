//! The narrow float formats of ONNX and MLIR (`f8E4M3FN`, `f8E5M2`, `f4E2M1FN`, …): their
//! layouts and special values, and conversions from and to `f32`.
//!
//! kiln holds these types as their bits, one element per byte as `ml_dtypes` does: kernels see
//! them as unsigned integers, and the ONNX importer builds each conversion from integer
//! arithmetic on those bits, following the [`Format`] described here. The conversions in this
//! module serve the host side (tensor text) and state the rules that arithmetic implements.
//!
//! ```
//! use kiln_types::minifloat::Format;
//! let e4m3 = Format::F8E4M3FN;
//! assert_eq!(e4m3.encode(448.0, true), 0x7e);
//! assert_eq!(e4m3.encode(1000.0, true), 0x7e); // saturates
//! assert!(e4m3.decode(e4m3.encode(1000.0, false)).is_nan()); // no infinity in this format
//! assert_eq!(e4m3.decode(0x38), 1.0);
//! ```

#[cfg(not(feature = "std"))]
use crate::math::Float;

/// How a format spells its special values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Specials {
    /// IEEE-like: the all-ones exponent holds infinity (mantissa 0) and NaN (`f8E5M2`).
    Ieee,
    /// Finite, with NaN as all ones (`f8E4M3FN`: `S.1111.111`).
    NanAllOnes,
    /// Finite, no negative zero: its pattern `0x80` is the one NaN (`…FNUZ`).
    NanNegativeZero,
    /// Finite without NaN (`f4E2M1FN`): NaN becomes negative zero, as `ml_dtypes` makes it.
    None,
}

/// A sign-exponent-mantissa float format narrower than f16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub exponent_bits: u32,
    pub mantissa_bits: u32,
    pub bias: i32,
    pub specials: Specials,
}

impl Format {
    pub const F8E4M3FN: Format = Format::new(4, 3, 7, Specials::NanAllOnes);
    pub const F8E4M3FNUZ: Format = Format::new(4, 3, 8, Specials::NanNegativeZero);
    pub const F8E5M2: Format = Format::new(5, 2, 15, Specials::Ieee);
    pub const F8E5M2FNUZ: Format = Format::new(5, 2, 16, Specials::NanNegativeZero);
    pub const F4E2M1FN: Format = Format::new(2, 1, 1, Specials::None);

    const fn new(exponent_bits: u32, mantissa_bits: u32, bias: i32, specials: Specials) -> Self {
        Format {
            exponent_bits,
            mantissa_bits,
            bias,
            specials,
        }
    }

    /// The sign bit's position.
    pub fn sign_shift(self) -> u32 {
        self.exponent_bits + self.mantissa_bits
    }

    /// The pattern of the largest finite magnitude.
    pub fn max_finite(self) -> u32 {
        let all = (1 << self.sign_shift()) - 1;
        match self.specials {
            Specials::Ieee => all - (1 << self.mantissa_bits),
            Specials::NanAllOnes => all - 1,
            Specials::NanNegativeZero | Specials::None => all,
        }
    }

    /// The pattern a NaN of sign `negative` becomes.
    pub fn nan(self, negative: bool) -> u32 {
        let sign = u32::from(negative) << self.sign_shift();
        match self.specials {
            Specials::Ieee | Specials::NanAllOnes => sign | ((1 << self.sign_shift()) - 1),
            Specials::NanNegativeZero | Specials::None => 1 << self.sign_shift(),
        }
    }

    /// The pattern a finite value too large becomes without saturation: infinity where the
    /// format has one, else NaN.
    pub fn overflow(self, negative: bool) -> u32 {
        match self.specials {
            Specials::Ieee => {
                let inf = ((1 << self.exponent_bits) - 1) << self.mantissa_bits;
                (u32::from(negative) << self.sign_shift()) | inf
            }
            _ => self.nan(negative),
        }
    }

    /// The f32 bit pattern of the smallest normal magnitude.
    pub fn min_normal_f32_bits(self) -> u32 {
        ((127 + 1 - self.bias) as u32) << 23
    }

    /// `x` rounded to nearest-even in this format; magnitudes beyond the largest finite one
    /// saturate to it, or become [`Format::overflow`] when `saturate` is false (infinities
    /// included, as ONNX's Cast defines).
    pub fn encode(self, x: f32, saturate: bool) -> u8 {
        let u = x.to_bits();
        let negative = u >> 31 == 1;
        let a = u & 0x7fff_ffff;
        if a > 0x7f80_0000 {
            return self.nan(negative) as u8;
        }
        let m = self.mantissa_bits;
        let magnitude = if a < self.min_normal_f32_bits() {
            let scale = 2f32.powi(self.bias - 1 + m as i32);
            crate::math::round_ties_even(f32::from_bits(a) * scale) as i64
        } else {
            let s = 23 - m;
            let a = i64::from(a);
            let r = (a + (1 << (s - 1)) - 1 + ((a >> s) & 1)) >> s;
            r - (i64::from(127 - self.bias) << m)
        };
        let max = i64::from(self.max_finite());
        if magnitude > max && !saturate {
            return self.overflow(negative) as u8;
        }
        let magnitude = magnitude.min(max) as u32;
        if self.specials == Specials::NanNegativeZero && magnitude == 0 {
            return 0;
        }
        ((u32::from(negative) << self.sign_shift()) | magnitude) as u8
    }

    /// The value of pattern `bits`.
    pub fn decode(self, bits: u8) -> f32 {
        let bits = u32::from(bits);
        let (m, shift) = (self.mantissa_bits, self.sign_shift());
        let negative = (bits >> shift) & 1 == 1;
        let magnitude = bits & ((1 << shift) - 1);
        let e = magnitude >> m;
        let mantissa = magnitude & ((1 << m) - 1);
        let top = (1 << self.exponent_bits) - 1;
        let special = match self.specials {
            Specials::Ieee if e == top && mantissa == 0 => Some(f32::INFINITY),
            Specials::Ieee if e == top => Some(f32::NAN),
            Specials::NanAllOnes if magnitude == (1 << shift) - 1 => Some(f32::NAN),
            Specials::NanNegativeZero if bits == 1 << shift => Some(f32::NAN),
            _ => None,
        };
        let v = special.unwrap_or_else(|| {
            if e == 0 {
                mantissa as f32 * 2f32.powi(1 - self.bias - m as i32)
            } else {
                f32::from_bits(((e as i32 + 127 - self.bias) as u32) << 23 | mantissa << (23 - m))
            }
        });
        if negative {
            -v
        } else {
            v
        }
    }
}

/// How a conversion to `f8E8M0FNU` rounds (ONNX Cast's `round_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E8M0Rounding {
    Up,
    Down,
    Nearest,
}

/// `x` as an `f8E8M0FNU` pattern (a power of two `2^(e-127)`; `0xff` is NaN), rounded as
/// ONNX's reference does: by `x`'s f32 exponent and mantissa, the sign ignored, infinities
/// and NaN to `0xff`, saturating below `0xff` when `saturate`.
pub fn e8m0_encode(x: f32, saturate: bool, rounding: E8M0Rounding) -> u8 {
    let u = x.to_bits();
    let e = (u >> 23) & 0xff;
    if e == 0xff {
        return 0xff;
    }
    let up = match rounding {
        E8M0Rounding::Up => u & 0x7f_ffff != 0,
        E8M0Rounding::Down => false,
        E8M0Rounding::Nearest => {
            let (g, r, s) = (u & 0x40_0000 != 0, u & 0x20_0000 != 0, u & 0x1f_ffff != 0);
            g && (r || s || e > 0)
        }
    };
    let up = up && !(saturate && e == 0xfe);
    (e + u32::from(up)) as u8
}

/// The value of `f8E8M0FNU` pattern `bits`.
pub fn e8m0_decode(bits: u8) -> f32 {
    match bits {
        0xff => f32::NAN,
        0 => f32::from_bits(0x40_0000),
        e => f32::from_bits(u32::from(e) << 23),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn every_pattern_decodes_and_encodes_back() {
        for f in [
            Format::F8E4M3FN,
            Format::F8E4M3FNUZ,
            Format::F8E5M2,
            Format::F8E5M2FNUZ,
            Format::F4E2M1FN,
        ] {
            for bits in 0..(1u32 << (f.sign_shift() + 1)) {
                let v = f.decode(bits as u8);
                if v.is_nan() || v.is_infinite() {
                    continue;
                }
                let back = f.encode(v, true);
                assert!(
                    u32::from(back) == bits || v == 0.0,
                    "{f:?}: {bits:#x} -> {v} -> {back:#x}"
                );
            }
        }
    }

    #[test]
    fn rounding_and_specials_follow_onnx() {
        let f = Format::F8E4M3FN;
        assert_eq!(f.decode(f.encode(0.47892547, true)), 0.46875);
        assert_eq!(f.encode(f32::INFINITY, true), 0x7e);
        assert_eq!(f.encode(-1e6, true), 0xfe);
        assert_eq!(f.encode(-0.0, true), 0x80);
        assert_eq!(Format::F8E4M3FNUZ.encode(-0.0, true), 0);
        assert_eq!(Format::F8E4M3FNUZ.encode(1e6, false), 0x80);
        assert_eq!(Format::F8E5M2.encode(-1e6, false), 0xfc);
        assert_eq!(Format::F8E5M2.decode(0xfc), f32::NEG_INFINITY);
        assert_eq!(Format::F4E2M1FN.encode(0.25, true), 0); // a tie to even
        assert_eq!(Format::F4E2M1FN.encode(9.0, true), 0x7);
        assert_eq!(Format::F8E4M3FN.decode(0x01), 2f32.powi(-9));
        assert_eq!(e8m0_encode(1.1, true, E8M0Rounding::Up), 128);
        assert_eq!(e8m0_encode(0.0, true, E8M0Rounding::Up), 0);
        assert_eq!(e8m0_decode(127), 1.0);
    }
}
