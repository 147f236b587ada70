//! IREE's tensor text syntax, as `iree-run-module` reads `--input=` values and prints results:
//! `2x3xf32=1 2 3 4 5 6` in, `2x3xf32=[1 2 3][4 5 6]` out.
//!
//! The rules follow IREE's runtime (`runtime/src/iree/hal/buffer_view_util.c`,
//! `runtime/src/iree/hal/string_util.c` and `runtime/src/iree/base/string_view.c`):
//!
//! - Text is `SHAPExTYPE=VALUES`, or `TYPE=VALUES` for a scalar. Surrounding whitespace and one
//!   pair of surrounding `"` are ignored. The type follows the last `x` before the first `=`.
//! - Values are split on whitespace, `,`, `[` and `]`; brackets are only separators, so
//!   `2x2xi32=1 2 3 4`, `2x2xi32=[1 2][3 4]` and `2x2xi32=1,2,3,4` are the same tensor.
//! - No `=` or nothing after it (`2x2xf32`, `2x2xf32=`) fills with zeros; exactly one value fills
//!   every element (`1x3x224x224xf32=0`); otherwise the count must match exactly.
//! - Integers use C `strtol` base-0 syntax: decimal, `0x1F` hex, and (as in IREE) a leading `0`
//!   means octal. Floats accept decimal, exponents, `inf`, `infinity`, `nan` (any case) and hex
//!   floats such as `0x1.8p1`. `i1` elements are the bytes `0`/`1`, written `00`/`01` by IREE.
//! - Printing uses C's `%G` for floats (six significant digits, so `0.1`, `1E-07`, `1E+08`,
//!   `INF`, `NAN`), decimal for integers, and two uppercase hex digits for `i1` (IREE has no
//!   printer for booleans and shows them as raw bytes: `4xi1=01 00 01 00`). Rows of rank ≥ 2 are
//!   bracketed; past the element budget each row prints `...`.

use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::{element_count, shape_string, ElementType, HostTensor};

/// `iree-run-module`'s default `--print_max_element_count`.
pub const DEFAULT_MAX_ELEMENTS: usize = 1024;

/// IREE refuses shapes with more dimensions than this.
const MAX_RANK: usize = 128;

/// Guard against printing absurd numbers of rows (for example a `1000000000000x0` tensor): after
/// this many innermost rows the printer stops with `...`. IREE would print them all.
const MAX_PRINTED_ROWS: usize = 1 << 22;

/// Errors parsing tensor text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// Nothing but whitespace or quotes.
    #[error("empty tensor text: expected a type and values such as '2x3xf32=1 2 3 4 5 6'")]
    Empty,
    /// A dimension that is not a non-negative integer.
    #[error("invalid dimension '{dim}' in shape '{shape}'")]
    InvalidDimension { dim: String, shape: String },
    /// More than 128 dimensions.
    #[error("shape '{0}' has more than 128 dimensions")]
    RankTooLarge(String),
    /// An element type kiln does not support (or no type at all).
    #[error("unknown element type '{0}' (supported: f32, f64, f16, bf16, i8, i16, i32, i64, ui8, ui16, ui32, ui64, i1)")]
    UnknownElementType(String),
    /// A value that does not parse as the element type.
    #[error("invalid {element_type} value '{token}'")]
    InvalidValue {
        token: String,
        element_type: ElementType,
    },
    /// An integer outside the element type's range.
    #[error("value '{token}' is out of range for {element_type}")]
    OutOfRange {
        token: String,
        element_type: ElementType,
    },
    /// The number of values neither matches the shape nor is one value to fill it with.
    #[error(
        "wrong number of values for {type_string}: expected {expected}{}, found {found}",
        splat_hint(*.expected)
    )]
    ElementCount {
        type_string: String,
        expected: usize,
        found: usize,
    },
    /// The tensor is too large to represent or allocate.
    #[error("{0} is too large to allocate")]
    TooLarge(String),
}

fn splat_hint(expected: usize) -> &'static str {
    if expected > 1 {
        " (or 1 to fill every element)"
    } else {
        ""
    }
}

/// Parses IREE's tensor text (`2x3xf32=1 2 3 4 5 6`) into a tensor.
///
/// ```
/// use kiln_types::{text, ElementType};
/// let t = text::parse_tensor("2x3xf32=[1 2 3][4 5 6]").unwrap();
/// assert_eq!(t.shape, vec![2, 3]);
/// assert_eq!(t.to_f32(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(text::parse_tensor("2x2xi32=1,2,3,4").unwrap().to_i64(), vec![1, 2, 3, 4]);
/// assert_eq!(text::parse_tensor("f32=3.5").unwrap().to_f32(), vec![3.5]);
/// assert_eq!(text::parse_tensor("3xi8=7").unwrap().to_i64(), vec![7, 7, 7]); // splat
/// assert_eq!(text::parse_tensor("2xf32").unwrap().to_f32(), vec![0.0, 0.0]); // zeros
/// assert!(text::parse_tensor("2x2xf32=1 2 3").is_err());
/// ```
pub fn parse_tensor(s: &str) -> Result<HostTensor, TextError> {
    let text = strip_quotes(s.trim_matches(is_c_space));
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    let (meta, values) = text.split_once('=').unwrap_or((text, ""));
    let (shape, element_type) = parse_meta(meta)?;
    let type_string = type_string(&shape, element_type);
    let too_large = || TextError::TooLarge(crate::excerpt(&type_string));
    let count = element_count(&shape).ok_or_else(too_large)?;
    let byte_len = count
        .checked_mul(element_type.byte_size())
        .ok_or_else(too_large)?;

    let tokens: Vec<&str> = values
        .split(is_separator)
        .filter(|t| !t.is_empty())
        .collect();
    let splat = tokens.len() == 1 && count > 1;
    if !values.is_empty() && tokens.len() != count && !splat {
        return Err(TextError::ElementCount {
            type_string: crate::excerpt(&type_string),
            expected: count,
            found: tokens.len(),
        });
    }
    let mut data = Vec::new();
    data.try_reserve_exact(byte_len).map_err(|_| too_large())?;
    if values.is_empty() {
        data.resize(byte_len, 0);
    } else if splat {
        parse_element(tokens[0], element_type, &mut data)?;
        let size = element_type.byte_size();
        for _ in 1..count {
            data.extend_from_within(..size);
        }
    } else {
        for token in &tokens {
            parse_element(token, element_type, &mut data)?;
        }
    }
    Ok(HostTensor {
        element_type,
        shape,
        data,
    })
}

/// Parses just the shape and element type of tensor text (`2x3xf32`, or `f32` for a scalar);
/// anything from the first `=` on is ignored, as IREE does for `2x3xf32=@file.bin`.
///
/// ```
/// use kiln_types::{text, ElementType};
/// assert_eq!(text::parse_shape_and_type("2x3xf32").unwrap(), (vec![2, 3], ElementType::F32));
/// assert_eq!(text::parse_shape_and_type("i1=@x.bin").unwrap(), (vec![], ElementType::I1));
/// assert!(text::parse_shape_and_type("2x3").is_err());
/// ```
pub fn parse_shape_and_type(s: &str) -> Result<(Vec<usize>, ElementType), TextError> {
    let text = strip_quotes(s.trim_matches(is_c_space));
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    let meta = text.split_once('=').map_or(text, |(meta, _)| meta);
    parse_meta(meta)
}

/// Prints a tensor exactly as `iree-run-module` prints a result buffer view: the type, `=`, and
/// the elements, with `[...]` around every row of rank ≥ 2. At most `max_elements` elements are
/// printed in total (`None`: no limit; `iree-run-module` uses [`DEFAULT_MAX_ELEMENTS`]); a row cut
/// short ends in `...` and rows after the budget print as `...` alone.
///
/// ```
/// use kiln_types::{text, ElementType, HostTensor};
/// let t = HostTensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 0.1]);
/// assert_eq!(text::format_tensor(&t, None), "2x3xf32=[1 2 3][4 5 0.1]");
/// assert_eq!(text::format_tensor(&t, Some(4)), "2x3xf32=[1 2 3][4...]");
/// assert_eq!(text::format_tensor(&HostTensor::from_f32(&[], &[3.5]), None), "f32=3.5");
/// let b = HostTensor::from_f64(ElementType::I1, &[4], &[1.0, 0.0, 1.0, 0.0]);
/// assert_eq!(text::format_tensor(&b, None), "4xi1=01 00 01 00");
/// ```
pub fn format_tensor(t: &HostTensor, max_elements: Option<usize>) -> String {
    let mut out = t.type_string();
    out.push('=');
    let expected = element_count(&t.shape).and_then(|n| n.checked_mul(t.element_type.byte_size()));
    if expected != Some(t.data.len()) {
        let expected =
            expected.map_or_else(|| "more than fit in memory".to_string(), |n| n.to_string());
        let _ = write!(
            out,
            "<invalid: {} bytes of data, expected {expected}>",
            t.data.len()
        );
        return out;
    }
    let mut printer = Printer {
        out,
        element_type: t.element_type,
        budget: max_elements.unwrap_or(usize::MAX),
        rows_left: MAX_PRINTED_ROWS,
    };
    if t.shape.is_empty() {
        printer.row(1, &t.data);
    } else {
        printer.dims(&t.shape, &t.data);
    }
    printer.out
}

/// Formats a number as C's `printf("%g")` (or `"%G"` when `uppercase`) does: six significant
/// digits, trailing zeros removed, exponent form (at least two exponent digits) when the
/// exponent is below -4 or at least 6. IREE prints tensor elements with `%G` and scalar
/// function results with `%g`.
///
/// ```
/// use kiln_types::text::format_float_g;
/// assert_eq!(format_float_g(0.1, false), "0.1");
/// assert_eq!(format_float_g(1e-7, false), "1e-07");
/// assert_eq!(format_float_g(1e8, true), "1E+08");
/// assert_eq!(format_float_g(123456789.0, false), "1.23457e+08");
/// assert_eq!(format_float_g(f64::NEG_INFINITY, true), "-INF");
/// ```
pub fn format_float_g(value: f64, uppercase: bool) -> String {
    let lower = format_g_lower(value);
    if uppercase {
        lower.to_ascii_uppercase()
    } else {
        lower
    }
}

fn format_g_lower(value: f64) -> String {
    const PRECISION: i32 = 6;
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value.is_nan() {
        return format!("{sign}nan");
    }
    if value.is_infinite() {
        return format!("{sign}inf");
    }
    if value == 0.0 {
        return format!("{sign}0");
    }
    // The decimal exponent after rounding to PRECISION significant digits decides the style.
    let scientific = format!("{:.*e}", (PRECISION - 1) as usize, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..PRECISION).contains(&exponent) {
        let mantissa = strip_fraction_zeros(mantissa);
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exponent.unsigned_abs())
    } else {
        let decimals = (PRECISION - 1 - exponent) as usize;
        strip_fraction_zeros(&format!("{value:.decimals$}")).to_string()
    }
}

/// Removes trailing zeros after a decimal point, and the point itself if nothing follows it.
fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

struct Printer {
    out: String,
    element_type: ElementType,
    budget: usize,
    rows_left: usize,
}

impl Printer {
    /// Prints `data` shaped as `shape` (rank ≥ 1). Returns false once the row guard stopped it.
    fn dims(&mut self, shape: &[usize], data: &[u8]) -> bool {
        let [outer, inner_shape @ ..] = shape else {
            return true;
        };
        if inner_shape.is_empty() {
            return self.row(*outer, data);
        }
        // If the inner element count overflows, the whole tensor is empty and `outer` is 0.
        let inner = element_count(inner_shape).unwrap_or(0);
        let stride = inner.saturating_mul(self.element_type.byte_size());
        for i in 0..*outer {
            if self.rows_left == 0 {
                self.out.push_str("...");
                return false;
            }
            let start = i.saturating_mul(stride).min(data.len());
            self.out.push('[');
            let complete = self.dims(inner_shape, &data[start..]);
            self.out.push(']');
            if !complete {
                return false;
            }
        }
        true
    }

    /// Prints one innermost row of `len` elements, spending the element budget.
    fn row(&mut self, len: usize, data: &[u8]) -> bool {
        self.rows_left = self.rows_left.saturating_sub(1);
        let size = self.element_type.byte_size();
        let shown = len.min(self.budget);
        for (i, bytes) in data.chunks_exact(size).take(shown).enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            format_element(&mut self.out, self.element_type, bytes);
        }
        self.budget -= shown;
        if shown < len {
            self.out.push_str("...");
        }
        true
    }
}

/// Appends one element as IREE prints it. `bytes` holds exactly one element.
fn format_element(out: &mut String, element_type: ElementType, bytes: &[u8]) {
    let float = |v: f32| format_float_g(f64::from(v), true);
    let text = match (element_type, bytes) {
        (ElementType::F32, &[a, b, c, d]) => float(f32::from_le_bytes([a, b, c, d])),
        (ElementType::F64, _) => format_float_g(element_type.read_f64(bytes), true),
        (ElementType::F16, &[a, b]) => float(half::f16::from_le_bytes([a, b]).to_f32()),
        (ElementType::BF16, &[a, b]) => float(half::bf16::from_le_bytes([a, b]).to_f32()),
        (ElementType::I8, &[a]) => (a as i8).to_string(),
        (ElementType::I32, &[a, b, c, d]) => i32::from_le_bytes([a, b, c, d]).to_string(),
        (ElementType::I64, &[a, b, c, d, e, f, g, h]) => {
            i64::from_le_bytes([a, b, c, d, e, f, g, h]).to_string()
        }
        (ElementType::U64, &[a, b, c, d, e, f, g, h]) => {
            u64::from_le_bytes([a, b, c, d, e, f, g, h]).to_string()
        }
        (narrow, &[bits]) if narrow.is_narrow_float() => float(match narrow.float_format() {
            Some(format) => format.decode(bits),
            None => crate::minifloat::e8m0_decode(bits),
        }),
        (int, _) if int.int_width().is_some() => int.read_i64(bytes).to_string(),
        // IREE's string_util has no case for its BOOL_8 type, so booleans take the opaque-data
        // path: each byte as two uppercase hex digits.
        (ElementType::I1, &[a]) => format!("{a:02X}"),
        _ => "?".to_string(),
    };
    out.push_str(&text);
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

fn is_separator(c: char) -> bool {
    is_c_space(c) || matches!(c, ',' | '[' | ']')
}

/// Removes one leading and one trailing `"`, as IREE does.
fn strip_quotes(s: &str) -> &str {
    let s = s.strip_prefix('"').unwrap_or(s);
    s.strip_suffix('"').unwrap_or(s)
}

/// `2x3xf32`, or `f32` for a scalar.
fn type_string(shape: &[usize], element_type: ElementType) -> String {
    if shape.is_empty() {
        element_type.name().to_string()
    } else {
        format!("{}x{element_type}", shape_string(shape))
    }
}

/// Parses `2x3xf32` / `f32` (the part before `=`).
fn parse_meta(meta: &str) -> Result<(Vec<usize>, ElementType), TextError> {
    let meta = meta.trim_matches(is_c_space);
    let (shape_text, type_text) = match meta.rfind('x') {
        Some(i) => (Some(&meta[..i]), &meta[i + 1..]),
        None => (None, meta),
    };
    let mut shape = Vec::new();
    if let Some(shape_text) = shape_text {
        if shape_text.split('x').count() > MAX_RANK {
            return Err(TextError::RankTooLarge(crate::excerpt(shape_text)));
        }
        for dim in shape_text.split('x') {
            let trimmed = dim.trim_matches(is_c_space);
            let value = parse_c_integer(trimmed)
                .ok()
                .and_then(|v| usize::try_from(v).ok());
            let Some(value) = value else {
                return Err(TextError::InvalidDimension {
                    dim: crate::excerpt(trimmed),
                    shape: crate::excerpt(shape_text),
                });
            };
            shape.push(value);
        }
    }
    let type_text = type_text.trim_matches(is_c_space);
    let element_type = match type_text {
        // IREE prints signed integers loaded from .npy files as si8/si32/si64.
        "si8" => ElementType::I8,
        "si32" => ElementType::I32,
        "si64" => ElementType::I64,
        name => ElementType::from_name(name)
            .ok_or_else(|| TextError::UnknownElementType(crate::excerpt(type_text)))?,
    };
    Ok((shape, element_type))
}

/// Parses one value token and appends its little-endian bytes to `out`.
fn parse_element(
    token: &str,
    element_type: ElementType,
    out: &mut Vec<u8>,
) -> Result<(), TextError> {
    let invalid = || TextError::InvalidValue {
        token: crate::excerpt(token),
        element_type,
    };
    let out_of_range = || TextError::OutOfRange {
        token: crate::excerpt(token),
        element_type,
    };
    let integer = |min: i128, max: i128| match parse_c_integer(token) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        Ok(_) | Err(IntError::Overflow) => Err(out_of_range()),
        Err(IntError::Invalid) => Err(invalid()),
    };
    match element_type {
        ElementType::F32 => {
            let v = parse_c_float(token).ok_or_else(invalid)?;
            out.extend_from_slice(&v.to_le_bytes());
        }
        ElementType::F64 => {
            let v = parse_c_real::<f64>(token).ok_or_else(invalid)?;
            out.extend_from_slice(&v.to_le_bytes());
        }
        ElementType::F16 => {
            let v = parse_c_float(token).ok_or_else(invalid)?;
            out.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
        }
        ElementType::BF16 => {
            let v = parse_c_float(token).ok_or_else(invalid)?;
            out.extend_from_slice(&half::bf16::from_f32(v).to_le_bytes());
        }
        // Like IREE, 8- and 32-bit integers also accept their unsigned spelling (255 is -1).
        ElementType::I8 => {
            let v = integer(i128::from(i8::MIN), i128::from(u8::MAX))?;
            out.push(v as u8);
        }
        ElementType::I32 => {
            let v = integer(i128::from(i32::MIN), i128::from(u32::MAX))?;
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        ElementType::I64 => {
            let v = integer(i128::from(i64::MIN), i128::from(i64::MAX))?;
            out.extend_from_slice(&(v as i64).to_le_bytes());
        }
        ElementType::U64 => {
            let v = integer(0, i128::from(u64::MAX))?;
            out.extend_from_slice(&(v as u64).to_le_bytes());
        }
        // Narrow floats: the value rounded to nearest-even and saturated, as ONNX's Cast does.
        narrow @ (ElementType::F8E4M3FN
        | ElementType::F8E4M3FNUZ
        | ElementType::F8E5M2
        | ElementType::F8E5M2FNUZ
        | ElementType::F8E8M0FNU
        | ElementType::F4E2M1FN) => {
            let v = parse_c_float(token).ok_or_else(invalid)?;
            out.push(match narrow.float_format() {
                Some(format) => format.encode(v, true),
                None => crate::minifloat::e8m0_encode(v, true, crate::minifloat::E8M0Rounding::Up),
            });
        }
        ElementType::U8
        | ElementType::I16
        | ElementType::U16
        | ElementType::U32
        | ElementType::I4
        | ElementType::U4
        | ElementType::I2
        | ElementType::U2 => {
            let (bits, signed) = element_type.int_width().expect("an integer type");
            let (min, max) = if signed {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            } else {
                (0, (1i128 << bits) - 1)
            };
            let v = integer(min, max)?;
            element_type.write_f64(v as f64, out);
        }
        // IREE reads booleans as one raw byte in two hex digits (`00`, `01`); kiln also takes
        // `0` and `1`, and nothing else.
        ElementType::I1 => match token {
            "0" | "00" => out.push(0),
            "1" | "01" => out.push(1),
            _ => return Err(invalid()),
        },
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum IntError {
    Invalid,
    Overflow,
}

/// Parses an integer as C's `strtol(s, &end, 0)` does, but requiring the whole token: optional
/// sign, then `0x`/`0X` hex digits, `0` followed by octal digits, or decimal digits.
fn parse_c_integer(s: &str) -> Result<i128, IntError> {
    let (negative, body) = split_sign(s);
    let (radix, digits) =
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, hex)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() {
        return Err(IntError::Invalid);
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        let digit = c.to_digit(radix).ok_or(IntError::Invalid)?;
        value = value
            .checked_mul(i128::from(radix))
            .and_then(|v| v.checked_add(i128::from(digit)))
            .ok_or(IntError::Overflow)?;
    }
    Ok(if negative { -value } else { value })
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Parses a float as IREE does: C `strtof` syntax for decimal numbers, `inf`, `infinity` and
/// `nan` (any case, `nan(...)` too), and IREE's own hex-float parser (`0x1.8p1`, exponent
/// required). Correctly rounded to f32.
fn parse_c_float(s: &str) -> Option<f32> {
    parse_c_real(s)
}

/// [`parse_c_float`] at any float width: decimal text rounds once to `T` (hex floats, which
/// name f32 bit patterns, are read as f32 and widened).
fn parse_c_real<T>(s: &str) -> Option<T>
where
    T: core::str::FromStr + core::ops::Neg<Output = T> + From<f32>,
{
    let (negative, body) = split_sign(s);
    let lower = body.to_ascii_lowercase();
    let magnitude = if lower == "inf" || lower == "infinity" {
        T::from(f32::INFINITY)
    } else if lower == "nan" || is_nan_with_payload(&lower) {
        T::from(f32::NAN)
    } else if lower.starts_with("0x") {
        T::from(parse_hex_float(&body[2..])?)
    } else {
        let starts_well = body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
        let only_number_chars = body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        if !starts_well || !only_number_chars {
            return None;
        }
        body.parse::<T>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `nan(chars)` as `strtof` accepts it.
fn is_nan_with_payload(lower: &str) -> bool {
    lower
        .strip_prefix("nan(")
        .and_then(|rest| rest.strip_suffix(')'))
        .is_some_and(|payload| {
            payload
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// Parses the part of a hex float after `0x`: hex digits with at most one `.`, then a mandatory
/// `p` exponent. Rounds to the nearest f32, ties to even, including subnormals and overflow.
fn parse_hex_float(s: &str) -> Option<f32> {
    let (mantissa, exponent) = s.split_once(['p', 'P'])?;
    let (negative_exp, exp_digits) = split_sign(exponent);
    if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Clamp: anything this large already over- or underflows every float format.
    let exp_value = exp_digits
        .bytes()
        .try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .unwrap_or(i64::MAX)
        .min(1 << 20);
    let mut exp2: i64 = if negative_exp { -exp_value } else { exp_value };

    // value = bits * 2^exp2, plus a nonzero remainder below `bits` when `sticky`.
    let (mut bits, mut sticky, mut seen_digit, mut in_fraction) = (0u64, false, false, false);
    for c in mantissa.chars() {
        if c == '.' && !in_fraction {
            in_fraction = true;
            continue;
        }
        let digit = u64::from(c.to_digit(16)?);
        seen_digit = true;
        if bits == 0 && digit == 0 {
            exp2 -= i64::from(in_fraction) * 4;
        } else if bits < 1 << 60 {
            bits = (bits << 4) | digit;
            exp2 -= i64::from(in_fraction) * 4;
        } else {
            sticky |= digit != 0;
            exp2 += i64::from(!in_fraction) * 4;
        }
    }
    if !seen_digit {
        return None;
    }
    if bits == 0 {
        return Some(0.0);
    }
    let leading = bits.leading_zeros();
    bits <<= leading;
    exp2 -= i64::from(leading);
    // Now bits is in [2^63, 2^64) and the value's binary exponent is exp2 + 63.
    let exponent = exp2 + 63;
    if exponent > 127 {
        return Some(f32::INFINITY);
    }
    let float_bits = if exponent >= -126 {
        let significand = round_right(bits, 40, sticky); // keep 24 bits, may carry to 2^24
        let biased = ((exponent + 126) as u64) << 23;
        (biased + significand).min(0x7F80_0000)
    } else {
        // Subnormal: the significand field holds the value in units of 2^-149; a carry into
        // 2^23 becomes the smallest normal number on its own.
        let shift = 40 + (-126 - exponent);
        round_right(bits, u32::try_from(shift).unwrap_or(u32::MAX), sticky)
    };
    Some(f32::from_bits(float_bits as u32))
}

/// `bits >> shift`, rounded to nearest with ties to even (`sticky`: more nonzero bits below).
fn round_right(bits: u64, shift: u32, sticky: bool) -> u64 {
    if shift == 0 {
        return bits;
    }
    if shift > 64 {
        return 0; // below half of the smallest unit
    }
    let wide = u128::from(bits);
    let quotient = (wide >> shift) as u64;
    let remainder = wide & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let round_up = remainder > half || (remainder == half && (sticky || quotient & 1 == 1));
    quotient + u64::from(round_up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    fn f32s(s: &str) -> Vec<f32> {
        let t = parse_tensor(s).unwrap();
        assert_eq!(t.element_type, ElementType::F32);
        t.to_f32()
    }

    #[test]
    fn printf_g_matches_c() {
        // Expected strings are glibc printf("%g") output.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (f64::from(0.1f32), "0.1"),
            (f64::from(1.1f32), "1.1"),
            (1.0 / 3.0, "0.333333"),
            (2.0 / 3.0, "0.666667"),
            (100000.0, "100000"),
            (999999.0, "999999"),
            (999999.5, "1e+06"),
            (1000000.0, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (100000000.0, "1e+08"),
            (0.0001, "0.0001"),
            (0.00012345678, "0.000123457"),
            (0.00001, "1e-05"),
            (1e-7, "1e-07"),
            (f64::from(1e-7f32), "1e-07"),
            (1.5e-10, "1.5e-10"),
            (1e100, "1e+100"),
            (1e-300, "1e-300"),
            (5e-324, "4.94066e-324"),
            (f64::MAX, "1.79769e+308"),
            (f64::from(f32::MAX), "3.40282e+38"),
            (f64::from(f32::MIN_POSITIVE), "1.17549e-38"),
            (1.23456789, "1.23457"),
            (-3.25, "-3.25"),
            (1123.56789456789, "1123.57"),
            (9.9999949, "9.99999"),
            (9.9999951, "10"),
            (0.000099999951, "0.0001"),
            (1234565.0, "1.23456e+06"), // exact tie rounds to even
            (1234575.0, "1.23458e+06"),
            (2.5, "2.5"),
            (16777216.0, "1.67772e+07"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
        ];
        for &(value, expected) in cases {
            assert_eq!(format_float_g(value, false), expected, "{value:e}");
            assert_eq!(
                format_float_g(value, true),
                expected.to_uppercase(),
                "{value:e}"
            );
        }
    }

    #[test]
    fn formats_like_iree_run_module() {
        let t = HostTensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(format_tensor(&t, None), "2x3xf32=[1 2 3][4 5 6]");
        let t = HostTensor::from_f32(&[4], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(format_tensor(&t, None), "4xf32=1 2 3 4");
        let t = HostTensor::from_f32(&[], &[3.5]);
        assert_eq!(format_tensor(&t, None), "f32=3.5");
        let t = HostTensor::from_f32(&[3], &[1e-7, 1e8, -0.0]);
        assert_eq!(format_tensor(&t, None), "3xf32=1E-07 1E+08 -0");
        let t = HostTensor::from_f32(&[3], &[f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
        assert_eq!(format_tensor(&t, None), "3xf32=INF -INF NAN");
        let t = HostTensor::from_f64(
            ElementType::I8,
            &[1, 2, 3],
            &[0.0, 1.0, 2.0, 3.0, 4.0, -5.0],
        );
        assert_eq!(format_tensor(&t, None), "1x2x3xi8=[[0 1 2][3 4 -5]]");
        let t = HostTensor::from_f64(ElementType::I32, &[4, 1], &[1.0, 2.0, 3.0, -4.0]);
        assert_eq!(format_tensor(&t, None), "4x1xi32=[1][2][3][-4]");
        let t = HostTensor::from_i64(&[2], &[i64::MIN, i64::MAX]);
        assert_eq!(
            format_tensor(&t, None),
            "2xi64=-9223372036854775808 9223372036854775807"
        );
        let t = HostTensor::from_f64(ElementType::F16, &[2], &[0.1, 65504.0]);
        assert_eq!(format_tensor(&t, None), "2xf16=0.0999756 65504");
        let t = HostTensor::from_f64(ElementType::BF16, &[2], &[1.5, 0.1]);
        assert_eq!(format_tensor(&t, None), "2xbf16=1.5 0.100098");
        let t = HostTensor::from_f64(ElementType::I1, &[2, 2], &[1.0, 0.0, 0.0, 1.0]);
        assert_eq!(format_tensor(&t, None), "2x2xi1=[01 00][00 01]");
        // Empty dimensions.
        assert_eq!(
            format_tensor(&HostTensor::zeros(ElementType::F32, &[0]), None),
            "0xf32="
        );
        assert_eq!(
            format_tensor(&HostTensor::zeros(ElementType::F32, &[2, 0]), None),
            "2x0xf32=[][]"
        );
        assert_eq!(
            format_tensor(&HostTensor::zeros(ElementType::F32, &[0, 3]), None),
            "0x3xf32="
        );
    }

    #[test]
    fn elides_like_iree() {
        // Cases from IREE's string_util_test.cc (FormatBufferElementsElided).
        let scalar = HostTensor::from_f64(ElementType::I8, &[], &[1.0]);
        assert_eq!(format_tensor(&scalar, Some(0)), "i8=...");
        assert_eq!(format_tensor(&scalar, Some(1)), "i8=1");
        let v = HostTensor::from_f64(ElementType::I8, &[4], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(format_tensor(&v, Some(0)), "4xi8=...");
        assert_eq!(format_tensor(&v, Some(1)), "4xi8=1...");
        assert_eq!(format_tensor(&v, Some(3)), "4xi8=1 2 3...");
        assert_eq!(format_tensor(&v, Some(99123)), "4xi8=1 2 3 4");
        let m = HostTensor::from_f64(ElementType::I8, &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(format_tensor(&m, Some(0)), "2x2xi8=[...][...]");
        assert_eq!(format_tensor(&m, Some(1)), "2x2xi8=[1...][...]");
        assert_eq!(format_tensor(&m, Some(3)), "2x2xi8=[1 2][3...]");
        assert_eq!(format_tensor(&m, Some(4)), "2x2xi8=[1 2][3 4]");
        // The default budget of iree-run-module.
        let big = HostTensor::zeros(ElementType::F32, &[2000]);
        let text = format_tensor(&big, Some(DEFAULT_MAX_ELEMENTS));
        let values = text.strip_prefix("2000xf32=").unwrap();
        assert!(values.ends_with(" 0..."));
        assert_eq!(values.split(' ').count(), 1024);
    }

    #[test]
    fn absurd_row_counts_stop_early_and_bad_tensors_do_not_panic() {
        let empty_rows = HostTensor::zeros(ElementType::F32, &[usize::MAX, 0]);
        let text = format_tensor(&empty_rows, Some(10));
        assert!(text.ends_with("[]..."), "{}", &text[text.len() - 20..]);
        let bad = HostTensor {
            element_type: ElementType::F32,
            shape: vec![2],
            data: vec![0; 3],
        };
        assert_eq!(
            format_tensor(&bad, None),
            "2xf32=<invalid: 3 bytes of data, expected 8>"
        );
    }

    #[test]
    fn parses_every_spelling() {
        let expected = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(f32s("2x3xf32=1 2 3 4 5 6"), expected);
        assert_eq!(f32s("2x3xf32=[1 2 3][4 5 6]"), expected);
        assert_eq!(f32s("2x3xf32=1,2,3,4,5,6"), expected);
        assert_eq!(f32s("2x3xf32=[[1, 2], [3]] [4\t5\n6]"), expected);
        assert_eq!(f32s("  \"2x3xf32 =  1,\n2 3\t,4 5 6\"  "), expected);
        assert_eq!(f32s("f32=3.5"), vec![3.5]);
        assert_eq!(f32s("f32"), vec![0.0]);
        assert_eq!(f32s("2x2xf32="), vec![0.0; 4]);
        assert_eq!(f32s("2x2xf32"), vec![0.0; 4]);
        assert_eq!(f32s("1x3x2x2xf32=0.5").len(), 12);
        assert_eq!(f32s("0xf32="), Vec::<f32>::new());
        assert_eq!(f32s("0x3xf32=[]"), Vec::<f32>::new());
        let t = parse_tensor("4xi1=1 0 01 00").unwrap();
        assert_eq!(
            (t.element_type, t.data),
            (ElementType::I1, vec![1, 0, 1, 0])
        );
        assert_eq!(parse_tensor("2xsi32=-1 2").unwrap().to_i64(), vec![-1, 2]);
        assert_eq!(
            parse_tensor("bf16=1.5").unwrap().data,
            0x3FC0u16.to_le_bytes()
        );
        assert_eq!(
            parse_tensor("f16=0.1").unwrap().data,
            half::f16::from_f32(0.1).to_le_bytes()
        );
    }

    #[test]
    fn parses_floats_like_strtof() {
        let t = f32s("9xf32=-1.5e-3 +2E+2 .5 5. inf -Infinity 0x1.8p1 -0x10p-4 0X.8P0");
        assert_eq!(
            t,
            vec![
                -1.5e-3,
                200.0,
                0.5,
                5.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                3.0,
                -1.0,
                0.5
            ]
        );
        let nans = f32s("3xf32=nan NaN -nan(0x1f)");
        assert!(nans.iter().all(|v| v.is_nan()));
        assert!(nans[2].is_sign_negative());
        assert_eq!(f32s("f32=1e40"), vec![f32::INFINITY]);
        assert_eq!(f32s("f32=1e-50"), vec![0.0]);
        assert_eq!(f32s("f32=0.1"), vec![0.1]);
        assert_eq!(f32s("f32=16777217"), vec![16777216.0]); // ties to even
        for bad in [
            "1e", "e5", "--1", "1.2.3", "0x1.8", "0xp1", "0x1p", "1,5f", "abc", "1f", "0x1g0p0",
        ] {
            let err = parse_tensor(&format!("f32={bad}")).unwrap_err();
            assert!(
                matches!(
                    err,
                    TextError::InvalidValue { .. } | TextError::ElementCount { .. }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn hex_floats_round_correctly() {
        let cases: &[(&str, f32)] = &[
            ("1p0", 1.0),
            ("1.8p1", 3.0),
            ("0.0000001p0", f32::from_bits(99 << 23)), // 2^-28
            ("1p-149", f32::from_bits(1)),
            ("1p-150", 0.0), // exact half of the smallest subnormal: ties to even
            ("1.0000000000001p-150", f32::from_bits(1)),
            ("3p-150", f32::from_bits(2)), // 1.5 units: ties to even
            ("1.fffffep127", f32::MAX),
            ("1.ffffffp127", f32::INFINITY),
            ("1p128", f32::INFINITY),
            ("1.0000008p0", f32::from_bits(0x3F80_0000)), // a quarter ulp: down
            ("1.0000018p0", f32::from_bits(0x3F80_0001)), // three quarters: up
            ("1.000001p0", f32::from_bits(0x3F80_0000)),  // half an ulp, even: stays
            ("1.000003p0", f32::from_bits(0x3F80_0002)),  // 1.5 ulps, odd: up
            ("1.000005p0", f32::from_bits(0x3F80_0002)),  // 2.5 ulps, even: down
            ("1.000001000000001p0", f32::from_bits(0x3F80_0001)),
            (
                "1.0000010000000000000000000001p0",
                f32::from_bits(0x3F80_0001),
            ), // sticky bit
            ("fffffffffffffffffffffp0", f32::from_bits((127 + 84) << 23)), // 2^84 - 1
            (
                "0.0000000000000000000000000000000000001p0",
                f32::from_bits(2),
            ), // 16^-37 = 2^-148
            ("1p-126", f32::MIN_POSITIVE),
            ("0.fffffffp-126", f32::MIN_POSITIVE),
            ("1p99999999999999999999", f32::INFINITY),
            ("1p-99999999999999999999", 0.0),
            ("0p5", 0.0),
        ];
        for &(text, expected) in cases {
            let parsed = parse_hex_float(text).unwrap();
            assert_eq!(
                parsed.to_bits(),
                expected.to_bits(),
                "0x{text}: {parsed:e} vs {expected:e}"
            );
        }
    }

    #[test]
    fn parses_integers_like_strtol() {
        let t = parse_tensor("7xi32=0 -1 +2 0x1F 0X10 010 4294967295").unwrap();
        assert_eq!(t.to_i64(), vec![0, -1, 2, 31, 16, 8, -1]);
        let t = parse_tensor("4xi8=-128 127 255 0x80").unwrap();
        assert_eq!(t.to_i64(), vec![-128, 127, -1, -128]);
        let t = parse_tensor("2xi64=-9223372036854775808 9223372036854775807").unwrap();
        assert_eq!(t.to_i64(), vec![i64::MIN, i64::MAX]);
        let out_of_range = [
            "i8=256",
            "i8=-129",
            "i32=4294967296",
            "i32=-2147483649",
            "i64=9223372036854775808",
            "i64=99999999999999999999999999999999999999999999",
        ];
        for text in out_of_range {
            let err = parse_tensor(text).unwrap_err();
            assert!(matches!(err, TextError::OutOfRange { .. }), "{text}: {err}");
        }
        for text in [
            "i32=1.5",
            "i32=12abc",
            "i32=0x",
            "i32=08",
            "i32=--1",
            "i1=2",
            "i1=true",
            "i8=🌮",
        ] {
            let err = parse_tensor(text).unwrap_err();
            assert!(
                matches!(err, TextError::InvalidValue { .. }),
                "{text}: {err}"
            );
        }
        assert_eq!(
            parse_tensor("2xi32=1 x").unwrap_err().to_string(),
            "invalid i32 value 'x'"
        );
    }

    #[test]
    fn narrow_types_hold_one_element_per_byte() {
        let t = parse_tensor("3xf8E4M3FN=1 448 1000").unwrap();
        assert_eq!(t.data, vec![0x38, 0x7e, 0x7e]);
        assert_eq!(format_tensor(&t, None), "3xf8E4M3FN=1 448 448");
        let t = parse_tensor("2xi4=-8 7").unwrap();
        assert_eq!(t.data, vec![0x08, 0x07]);
        assert_eq!(format_tensor(&t, None), "2xi4=-8 7");
        assert!(parse_tensor("1xui2=4").is_err());
    }

    #[test]
    fn reports_errors_clearly() {
        let cases = [
            ("", "empty tensor text"),
            ("\"\"", "empty tensor text"),
            ("2x2xf32=1 2 3", "wrong number of values for 2x2xf32: expected 4 (or 1 to fill every element), found 3"),
            ("2x2xf32=1 2 3 4 5", "wrong number of values for 2x2xf32: expected 4 (or 1 to fill every element), found 5"),
            ("0xf32=1", "wrong number of values for 0xf32: expected 0, found 1"),
            ("2x2xf32=[]", "found 0"),
            ("2x3xf128=1", "unknown element type 'f128'"),
            ("2x3xc64=1", "unknown element type 'c64'"),
            ("2xui64=1 -1", "value '-1' is out of range for ui64"),
            ("2xui8=255 256", "value '256' is out of range for ui8"),
            ("2x3=1", "unknown element type '3'"),
            ("asdf", "unknown element type 'asdf'"),
            ("=4", "unknown element type ''"),
            ("9x8=", "unknown element type '8'"),
            ("2x-1xf32", "invalid dimension '-1' in shape '2x-1'"),
            ("2xxf32", "invalid dimension '' in shape '2x'"),
            ("xf32", "invalid dimension '' in shape ''"),
            ("ax2xf32", "invalid dimension 'a' in shape 'ax2'"),
            ("f32=abc", "invalid f32 value 'abc'"),
            ("99999999999x99999999999x99999999999xf32", "is too large to allocate"),
        ];
        for (text, message) in cases {
            let err = parse_tensor(text).unwrap_err().to_string();
            assert!(err.contains(message), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let deep = format!("{}f32", "1x".repeat(200));
        assert!(matches!(
            parse_tensor(&deep).unwrap_err(),
            TextError::RankTooLarge(_)
        ));
        let long = format!("f32={}", "9".repeat(500) + "z");
        let err = parse_tensor(&long).unwrap_err().to_string();
        assert!(err.len() < 120, "{err}");
    }

    #[test]
    fn round_trips_through_text() {
        for text in [
            "i8=-8",
            "4xi8=0 -1 2 3",
            "2x2xi32=[0 1][2 3]",
            "4xf16=0 0.5 2 3",
            "4xf32=0 1.1 2 3",
            "1x2x3xi8=[[0 1 2][3 4 5]]",
            "3xi1=01 00 01",
            "2xbf16=1.5 -2",
            "2xi64=-5 7",
        ] {
            assert_eq!(format_tensor(&parse_tensor(text).unwrap(), None), text);
        }
    }

    #[test]
    fn shape_and_type_alone() {
        assert_eq!(
            parse_shape_and_type(" 1 x 2 xi8").unwrap(),
            (vec![1, 2], ElementType::I8)
        );
        assert_eq!(
            parse_shape_and_type("bf16").unwrap(),
            (vec![], ElementType::BF16)
        );
        assert!(matches!(
            parse_shape_and_type("1x").unwrap_err(),
            TextError::UnknownElementType(_)
        ));
    }

    #[test]
    fn never_panics_on_garbage() {
        let alphabet: Vec<char> = "0123456789x=[], \n\"-+.eEpPinfaxf32i1bf16\u{e9}\u{1f32e}"
            .chars()
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            let mut s = String::new();
            let len = (state % 24) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            // Skip texts that legitimately ask for gigabytes of zeros.
            let huge = parse_shape_and_type(&s)
                .is_ok_and(|(shape, _)| !matches!(element_count(&shape), Some(n) if n <= 1 << 20));
            if huge {
                continue;
            }
            if let Ok(t) = parse_tensor(&s) {
                let _ = format_tensor(&t, Some(16));
            }
        }
    }
}
