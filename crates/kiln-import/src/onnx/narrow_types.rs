//! Casts to and from the narrow types: narrow floats (`f8E4M3FN`, `f8E5M2`, `f4E2M1FN`,
//! `f8E8M0FNU`, …), which kiln holds as their bits, and 4- and 2-bit integers.
//!
//! A narrow float is converted by integer arithmetic on its bits, following the rules of
//! [`kiln_types::minifloat`]: to one, the f32's exponent is rebiased and its mantissa rounded
//! to nearest-even (values below the format's smallest normal are scaled to a whole count of
//! its smallest step and rounded), then saturated or turned into infinity or NaN as ONNX's
//! `saturate` says; from one, the fields are placed in an f32's. Every step is an ordinary
//! elementwise op, so each conversion runs on every target. Floats outside a 4- or 2-bit
//! integer's range (which ONNX leaves undefined) give 0, as `ml_dtypes` gives.

use super::ops::{bin, cast_to};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, OpKind, UnaryOp, ValueId};
use kiln_types::minifloat::{E8M0Rounding, Format, Specials};
use kiln_types::{ElementType, HostTensor};

/// How a cast to a narrow float rounds where ONNX's Cast lets the model choose.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rounding {
    pub saturate: bool,
    pub e8m0: E8M0Rounding,
}

impl Default for Rounding {
    fn default() -> Self {
        Rounding {
            saturate: true,
            e8m0: E8M0Rounding::Up,
        }
    }
}

/// Whether a cast from `from` to `to` needs this module.
pub(super) fn involved(from: ElementType, to: ElementType) -> bool {
    let sub_byte = |t: ElementType| t.int_width().is_some_and(|(bits, _)| bits < 8);
    from.is_narrow_float() || to.is_narrow_float() || (from.is_float() && sub_byte(to))
}

/// `x` cast to `to` where [`involved`] says so.
pub(super) fn cast(
    im: &mut Importer,
    ctx: &NodeCtx,
    x: ValueId,
    to: ElementType,
    rounding: Rounding,
) -> Result<ValueId, ImportError> {
    let mut b = Bits { im, ctx };
    let from = b.im.ty(x).element_type;
    let x = if from.is_narrow_float() {
        b.decode(x, from)?
    } else {
        x
    };
    if to.is_narrow_float() {
        let x = cast_to(b.im, ctx, x, ElementType::F32)?;
        return b.encode(x, to, rounding);
    }
    if b.im.ty(x).element_type.is_float() && to.int_width().is_some_and(|(bits, _)| bits < 8) {
        return b.small_int_of(x, to);
    }
    cast_to(b.im, ctx, x, to)
}

/// Builds integer arithmetic on bits, with scalar constants broadcast as needed.
struct Bits<'a, 'c> {
    im: &'a mut Importer,
    ctx: &'a NodeCtx<'c>,
}

impl Bits<'_, '_> {
    fn int(&mut self, v: i64) -> ValueId {
        self.im
            .constant(HostTensor::from_i64(&[], &[v]), &self.ctx.name)
    }
    fn float(&mut self, v: f64) -> ValueId {
        self.im.constant(
            HostTensor::from_f64(ElementType::F32, &[], &[v]),
            &self.ctx.name,
        )
    }
    fn op(&mut self, op: BinaryOp, x: ValueId, y: ValueId) -> Result<ValueId, ImportError> {
        bin(self.im, self.ctx, op, x, y)
    }
    /// `x op k` for a constant `k`.
    fn opk(&mut self, op: BinaryOp, x: ValueId, k: i64) -> Result<ValueId, ImportError> {
        let k = self.int(k);
        self.op(op, x, k)
    }
    fn select(&mut self, c: ValueId, a: ValueId, b: ValueId) -> Result<ValueId, ImportError> {
        self.im.emit(self.ctx, OpKind::Select, &[c, a, b])
    }
    fn bitcast(&mut self, x: ValueId, to: ElementType) -> Result<ValueId, ImportError> {
        self.im.emit(self.ctx, OpKind::BitCast(to), &[x])
    }
    fn cast(&mut self, x: ValueId, to: ElementType) -> Result<ValueId, ImportError> {
        cast_to(self.im, self.ctx, x, to)
    }

    /// An f32 value's bits as non-negative i64 values.
    fn f32_bits(&mut self, x: ValueId) -> Result<ValueId, ImportError> {
        let u = self.bitcast(x, ElementType::U32)?;
        self.cast(u, ElementType::I64)
    }

    /// i64 bits (below 2^31) read as an f32.
    fn f32_of_bits(&mut self, bits: ValueId) -> Result<ValueId, ImportError> {
        let w = self.cast(bits, ElementType::I32)?;
        self.bitcast(w, ElementType::F32)
    }

    /// The narrow value's bits (i64) stored as type `to`.
    fn store_bits(&mut self, bits: ValueId, to: ElementType) -> Result<ValueId, ImportError> {
        let byte = self.cast(bits, ElementType::U8)?;
        self.bitcast(byte, to)
    }

    /// `sign << shift | magnitude` for a 0/1 `sign`.
    fn signed(
        &mut self,
        sign: ValueId,
        shift: u32,
        magnitude: i64,
    ) -> Result<ValueId, ImportError> {
        let s = self.opk(BinaryOp::Shl, sign, i64::from(shift))?;
        self.opk(BinaryOp::BitOr, s, magnitude)
    }

    /// An f32 `x` as narrow float `to`.
    fn encode(
        &mut self,
        x: ValueId,
        to: ElementType,
        rounding: Rounding,
    ) -> Result<ValueId, ImportError> {
        let u = self.f32_bits(x)?;
        let Some(format) = to.float_format() else {
            return self.encode_e8m0(u, rounding);
        };
        let (m, shift) = (format.mantissa_bits, format.sign_shift());
        let negative = self.opk(BinaryOp::Shr, u, 31)?;
        let a = self.opk(BinaryOp::BitAnd, u, 0x7fff_ffff)?;
        // Normal: the mantissa rounded to nearest-even (a carry moves into the exponent),
        // the exponent rebiased.
        let s = i64::from(23 - m);
        let lsb = self.opk(BinaryOp::Shr, a, s)?;
        let lsb = self.opk(BinaryOp::BitAnd, lsb, 1)?;
        let r = self.opk(BinaryOp::Add, a, (1 << (s - 1)) - 1)?;
        let r = self.op(BinaryOp::Add, r, lsb)?;
        let r = self.opk(BinaryOp::Shr, r, s)?;
        let normal = self.opk(BinaryOp::Sub, r, i64::from(127 - format.bias) << m)?;
        // Below the smallest normal: a whole count of the smallest step, rounded to even.
        let abs = self.im.emit(self.ctx, OpKind::Unary(UnaryOp::Abs), &[x])?;
        let scale = self.float(2f64.powi(format.bias - 1 + m as i32));
        let steps = self.op(BinaryOp::Mul, abs, scale)?;
        let steps = self
            .im
            .emit(self.ctx, OpKind::Unary(UnaryOp::Round), &[steps])?;
        let steps = self.cast(steps, ElementType::I64)?;
        let small = self.opk(BinaryOp::Less, a, i64::from(format.min_normal_f32_bits()))?;
        let magnitude = self.select(small, steps, normal)?;
        let max = i64::from(format.max_finite());
        let over = self.opk(BinaryOp::Greater, magnitude, max)?;
        let magnitude = self.opk(BinaryOp::Min, magnitude, max)?;
        let sign = self.opk(BinaryOp::Shl, negative, i64::from(shift))?;
        let mut bits = self.op(BinaryOp::BitOr, sign, magnitude)?;
        if format.specials == Specials::NanNegativeZero {
            let zero = self.opk(BinaryOp::Equal, magnitude, 0)?;
            let plain = self.int(0);
            bits = self.select(zero, plain, bits)?;
        }
        if !rounding.saturate {
            let overflow = self.special(format, negative, Format::overflow)?;
            bits = self.select(over, overflow, bits)?;
        }
        let nan = self.special(format, negative, Format::nan)?;
        let is_nan = self.opk(BinaryOp::Greater, a, 0x7f80_0000)?;
        let bits = self.select(is_nan, nan, bits)?;
        self.store_bits(bits, to)
    }

    /// A special pattern of `format`, signed where the format has signed ones.
    fn special(
        &mut self,
        format: Format,
        negative: ValueId,
        pattern: fn(Format, bool) -> u32,
    ) -> Result<ValueId, ImportError> {
        let (plus, minus) = (pattern(format, false), pattern(format, true));
        if plus == minus {
            return Ok(self.int(i64::from(plus)));
        }
        self.signed(negative, format.sign_shift(), i64::from(plus))
    }

    /// f32 bits `u` as `f8E8M0FNU`: the exponent, rounded by the mantissa as asked.
    fn encode_e8m0(&mut self, u: ValueId, rounding: Rounding) -> Result<ValueId, ImportError> {
        let e = self.opk(BinaryOp::Shr, u, 23)?;
        let e = self.opk(BinaryOp::BitAnd, e, 0xff)?;
        let any = |b: &mut Self, mask: i64| -> Result<ValueId, ImportError> {
            let bits = b.opk(BinaryOp::BitAnd, u, mask)?;
            b.opk(BinaryOp::Greater, bits, 0)
        };
        let up = match rounding.e8m0 {
            E8M0Rounding::Up => Some(any(self, 0x7f_ffff)?),
            E8M0Rounding::Down => None,
            E8M0Rounding::Nearest => {
                let (g, r, s) = (
                    any(self, 0x40_0000)?,
                    any(self, 0x20_0000)?,
                    any(self, 0x1f_ffff)?,
                );
                let lsb = self.opk(BinaryOp::Greater, e, 0)?;
                let tail = self.op(BinaryOp::Or, r, s)?;
                let tail = self.op(BinaryOp::Or, tail, lsb)?;
                Some(self.op(BinaryOp::And, g, tail)?)
            }
        };
        let mut bits = e;
        if let Some(mut up) = up {
            if rounding.saturate {
                let top = self.opk(BinaryOp::Equal, e, 0xfe)?;
                let below = self
                    .im
                    .emit(self.ctx, OpKind::Unary(UnaryOp::Not), &[top])?;
                up = self.op(BinaryOp::And, up, below)?;
            }
            let up = self.cast(up, ElementType::I64)?;
            bits = self.op(BinaryOp::Add, e, up)?;
        }
        let special = self.opk(BinaryOp::Equal, e, 0xff)?;
        let nan = self.int(0xff);
        let bits = self.select(special, nan, bits)?;
        self.store_bits(bits, ElementType::F8E8M0FNU)
    }

    /// Narrow float `x` (of type `from`) as f32.
    fn decode(&mut self, x: ValueId, from: ElementType) -> Result<ValueId, ImportError> {
        let byte = self.bitcast(x, ElementType::U8)?;
        let b = self.cast(byte, ElementType::I64)?;
        let nan = self.float(f64::NAN);
        let Some(format) = from.float_format() else {
            // f8E8M0FNU: 2^(b-127), with 2^-127 an f32 subnormal.
            let zero = self.opk(BinaryOp::Equal, b, 0)?;
            let shifted = self.opk(BinaryOp::Shl, b, 23)?;
            let tiny = self.int(0x40_0000);
            let bits = self.select(zero, tiny, shifted)?;
            let v = self.f32_of_bits(bits)?;
            let is_nan = self.opk(BinaryOp::Equal, b, 0xff)?;
            return self.select(is_nan, nan, v);
        };
        let (m, shift) = (format.mantissa_bits, format.sign_shift());
        let negative = self.opk(BinaryOp::Shr, b, i64::from(shift))?;
        let negative = self.opk(BinaryOp::Equal, negative, 1)?;
        let all = (1i64 << shift) - 1;
        let magnitude = self.opk(BinaryOp::BitAnd, b, all)?;
        let e = self.opk(BinaryOp::Shr, magnitude, i64::from(m))?;
        let mantissa = self.opk(BinaryOp::BitAnd, magnitude, (1 << m) - 1)?;
        let biased = self.opk(BinaryOp::Add, e, i64::from(127 - format.bias))?;
        let biased = self.opk(BinaryOp::Shl, biased, 23)?;
        let fraction = self.opk(BinaryOp::Shl, mantissa, i64::from(23 - m))?;
        let bits = self.op(BinaryOp::BitOr, biased, fraction)?;
        let normal = self.f32_of_bits(bits)?;
        let steps = self.cast(mantissa, ElementType::F32)?;
        let step = self.float(2f64.powi(1 - format.bias - m as i32));
        let subnormal = self.op(BinaryOp::Mul, steps, step)?;
        let is_subnormal = self.opk(BinaryOp::Equal, e, 0)?;
        let mut v = self.select(is_subnormal, subnormal, normal)?;
        match format.specials {
            Specials::Ieee => {
                let top = self.opk(BinaryOp::Equal, e, (1 << format.exponent_bits) - 1)?;
                let exact = self.opk(BinaryOp::Equal, mantissa, 0)?;
                let inf = self.float(f64::INFINITY);
                let special = self.select(exact, inf, nan)?;
                v = self.select(top, special, v)?;
            }
            Specials::NanAllOnes => {
                let is_nan = self.opk(BinaryOp::Equal, magnitude, all)?;
                v = self.select(is_nan, nan, v)?;
            }
            Specials::NanNegativeZero => {
                let is_nan = self.opk(BinaryOp::Equal, b, 1 << shift)?;
                v = self.select(is_nan, nan, v)?;
            }
            Specials::None => {}
        }
        let minus = self.im.emit(self.ctx, OpKind::Unary(UnaryOp::Neg), &[v])?;
        self.select(negative, minus, v)
    }

    /// A float `x` as a 4- or 2-bit integer: truncated, and 0 outside the type's range.
    fn small_int_of(&mut self, x: ValueId, to: ElementType) -> Result<ValueId, ImportError> {
        let (bits, signed) = to.int_width().expect("a sub-byte integer");
        let (min, max) = if signed {
            (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
        } else {
            (0, (1i64 << bits) - 1)
        };
        let v = self.cast(x, ElementType::I64)?;
        let low = self.opk(BinaryOp::Less, v, min)?;
        let high = self.opk(BinaryOp::Greater, v, max)?;
        let out = self.op(BinaryOp::Or, low, high)?;
        let zero = self.int(0);
        let v = self.select(out, zero, v)?;
        self.cast(v, to)
    }
}
