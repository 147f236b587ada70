//! NumPy `.npy` files: reading (format versions 1.0, 2.0 and 3.0) and writing (1.0, or 2.0 when a
//! header outgrows 64 KiB), byte-for-byte as `numpy.save` writes them.
//!
//! A `.npy` file is the magic `\x93NUMPY`, a major and a minor version byte, the header length
//! (`u16` little-endian in 1.0, `u32` in 2.0 and 3.0), a header that is a Python dict literal such
//! as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ended
//! by `\n` so that the data starts on a 64-byte boundary, then the raw array data.
//!
//! IREE's tools append arrays to one file (`--output=+out.npy`) and read them back one after the
//! other (`--input=@f.npy` then `--input=+f.npy`, or all at once with `--input=*f.npy`), so besides
//! [`read_npy`] (exactly one array) there are [`read_npy_next`] (one array and the bytes after it)
//! and [`read_npy_all`] (every array of a concatenated file).
//!
//! Supported dtypes: `<f4` (f32), `<f8` (f64), `<f2` (f16), `|i1` / `<i1` (i8), `|u1` (ui8), `<i2` (i16),
//! `<u2` (ui16), `<i4` (i32), `<u4` (ui32), `<i8` (i64) and `|b1` (bool, i1). bf16 has no NumPy dtype and cannot be written. Big-endian data, Fortran
//! order, structured dtypes and every other dtype are rejected with an error naming them. No
//! input, however hostile or truncated, makes these functions panic.

use crate::{element_count, ElementType, HostTensor};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;

/// The six magic bytes every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy aligns the start of the array data to this many bytes.
const ARRAY_ALIGN: usize = 64;
/// NumPy leaves room in the header for the first dimension to grow to this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// How deeply nested the header literal may be before we give up (hostile input guard).
const MAX_NESTING: usize = 32;

/// Errors reading or writing `.npy` data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The bytes do not start with `\x93NUMPY`.
    #[error("not a .npy file: bad magic (expected the bytes \\x93NUMPY)")]
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {major}.{minor} (expected 1.0, 2.0 or 3.0)")]
    UnsupportedVersion { major: u8, minor: u8 },
    /// The file ends inside the fixed prefix or inside the header.
    #[error("truncated .npy header: expected {expected} bytes, found {found}")]
    TruncatedHeader { expected: usize, found: usize },
    /// The header is not the Python dict literal NumPy writes.
    #[error("malformed .npy header: {0}")]
    BadHeader(String),
    /// A dtype this crate has no element type for (or a structured dtype).
    #[error("unsupported .npy dtype '{0}' (supported: <f4, <f8, <f2, |i1, |u1, <i2, <u2, <i4, <u4, <i8, |b1)")]
    UnsupportedDtype(String),
    /// Big-endian data.
    #[error("unsupported .npy dtype '{0}': big-endian data is not supported, only little-endian")]
    BigEndian(String),
    /// `'fortran_order': True`.
    #[error("unsupported .npy array: fortran order (column-major) is not supported")]
    FortranOrder,
    /// The shape's element or byte count does not fit in memory sizes.
    #[error("shape ({0}) is too large")]
    ShapeTooLarge(String),
    /// The array data is shorter than the shape and dtype require (when reading), or a tensor's
    /// data does not match its shape (when writing).
    #[error("data length mismatch: expected {expected} bytes, found {found}")]
    DataLength { expected: usize, found: usize },
    /// [`read_npy`] found bytes after the one array it reads.
    #[error("{0} unexpected bytes after the array data (several concatenated arrays? read them with read_npy_all)")]
    TrailingData(usize),
    /// Types NumPy lacks (bf16, narrow floats, sub-byte integers) cannot be written.
    #[error("{0} has no .npy dtype; convert the tensor to f32 before saving it")]
    NoDtype(ElementType),
    /// An error in one array of a concatenated file read by [`read_npy_all`].
    #[error("array {index}: {error}")]
    InArray { index: usize, error: Box<NpyError> },
}

/// Reads a `.npy` file holding exactly one array.
///
/// ```
/// use kiln_types::{npy, HostTensor};
/// let t = HostTensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let bytes = npy::write_npy(&t).unwrap();
/// assert_eq!(npy::read_npy(&bytes).unwrap(), t);
/// ```
pub fn read_npy(bytes: &[u8]) -> Result<HostTensor, NpyError> {
    let (tensor, rest) = read_npy_next(bytes)?;
    if !rest.is_empty() {
        return Err(NpyError::TrailingData(rest.len()));
    }
    Ok(tensor)
}

/// Reads the array at the start of `bytes` and returns it with the bytes that follow it (the next
/// array of a concatenated file, or nothing).
///
/// ```
/// use kiln_types::{npy, HostTensor};
/// let a = HostTensor::from_i64(&[2], &[11, 12]);
/// let b = HostTensor::from_f32(&[], &[3.5]);
/// let file = npy::write_npy_all(&[a.clone(), b.clone()]).unwrap();
/// let (first, rest) = npy::read_npy_next(&file).unwrap();
/// assert_eq!(first, a);
/// assert_eq!(npy::read_npy(rest).unwrap(), b);
/// ```
pub fn read_npy_next(bytes: &[u8]) -> Result<(HostTensor, &[u8]), NpyError> {
    let (header, data) = split_header(bytes)?;
    let info = parse_header(&header)?;
    let count = element_count(&info.shape).ok_or_else(|| too_large(&info.shape))?;
    let byte_len = count
        .checked_mul(info.element_type.byte_size())
        .ok_or_else(|| too_large(&info.shape))?;
    if data.len() < byte_len {
        return Err(NpyError::DataLength {
            expected: byte_len,
            found: data.len(),
        });
    }
    let (payload, rest) = data.split_at(byte_len);
    let mut payload = payload.to_vec();
    if info.element_type == ElementType::I1 {
        // Keep the crate's invariant that booleans are stored as exactly 0 or 1.
        for b in &mut payload {
            *b = u8::from(*b != 0);
        }
    }
    let tensor = HostTensor {
        element_type: info.element_type,
        shape: info.shape,
        data: payload,
    };
    Ok((tensor, rest))
}

/// Reads every array of a file holding zero or more concatenated `.npy` arrays, as IREE's
/// `--output=+file.npy` writes them. An empty input yields no arrays.
///
/// ```
/// use kiln_types::{npy, HostTensor};
/// let arrays = vec![HostTensor::from_i64(&[2], &[11, 12]), HostTensor::from_i64(&[3], &[1, 2, 3])];
/// let file = npy::write_npy_all(&arrays).unwrap();
/// assert_eq!(npy::read_npy_all(&file).unwrap(), arrays);
/// ```
pub fn read_npy_all(bytes: &[u8]) -> Result<Vec<HostTensor>, NpyError> {
    let mut tensors = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let index = tensors.len();
        let (tensor, next) = read_npy_next(rest).map_err(|error| NpyError::InArray {
            index,
            error: Box::new(error),
        })?;
        tensors.push(tensor);
        rest = next;
    }
    Ok(tensors)
}

/// Writes one array as NumPy's `numpy.save` does: format 1.0 (2.0 only for a header over
/// 64 KiB), `'fortran_order': False`, header padded so the data starts at a multiple of 64 bytes.
/// Fails for bf16 (NumPy has no such dtype) and for a tensor whose data does not match its shape.
///
/// ```
/// use kiln_types::{npy, HostTensor};
/// let bytes = npy::write_npy(&HostTensor::from_f32(&[2, 3], &[0.0; 6])).unwrap();
/// assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
/// assert!(bytes.windows(15).any(|w| w == b"'descr': '<f4',"));
/// assert_eq!((bytes.len() - 24) % 64, 0);
/// ```
pub fn write_npy(t: &HostTensor) -> Result<Vec<u8>, NpyError> {
    let mut out = Vec::new();
    append_npy(&mut out, t)?;
    Ok(out)
}

/// Writes several arrays one after the other into one buffer, as IREE's `--output=+file.npy`
/// does; [`read_npy_all`] reads them back.
///
/// ```
/// use kiln_types::{npy, HostTensor};
/// let file = npy::write_npy_all(&[HostTensor::from_f32(&[1], &[1.0])]).unwrap();
/// assert_eq!(npy::read_npy_all(&file).unwrap().len(), 1);
/// ```
pub fn write_npy_all(tensors: &[HostTensor]) -> Result<Vec<u8>, NpyError> {
    let mut out = Vec::new();
    for t in tensors {
        append_npy(&mut out, t)?;
    }
    Ok(out)
}

/// Appends one `.npy` array to `out`.
fn append_npy(out: &mut Vec<u8>, t: &HostTensor) -> Result<(), NpyError> {
    let descr = t
        .element_type
        .numpy_typestr()
        .ok_or(NpyError::NoDtype(t.element_type))?;
    let count = element_count(&t.shape).ok_or_else(|| too_large(&t.shape))?;
    let expected = count
        .checked_mul(t.element_type.byte_size())
        .ok_or_else(|| too_large(&t.shape))?;
    if t.data.len() != expected {
        return Err(NpyError::DataLength {
            expected,
            found: t.data.len(),
        });
    }

    // The dict exactly as numpy writes it: sorted keys, Python reprs, trailing ", ".
    let shape = match t.shape.as_slice() {
        [] => String::new(),
        [d] => format!("{d},"),
        dims => dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}");
    // numpy leaves room for the first dimension to grow in place.
    if let Some(first) = t.shape.first() {
        let digits = first.to_string().len();
        header.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }

    // Pad with spaces (numpy always adds at least one, up to a full 64) and end with '\n'.
    let unpadded = header.len() + 1;
    let (version, length_bytes) = {
        let padded_v1 = unpadded + ARRAY_ALIGN - (MAGIC.len() + 4 + unpadded) % ARRAY_ALIGN;
        if padded_v1 <= usize::from(u16::MAX) {
            (1u8, 2usize)
        } else {
            (2u8, 4usize)
        }
    };
    let padding = ARRAY_ALIGN - (MAGIC.len() + 2 + length_bytes + unpadded) % ARRAY_ALIGN;
    let header_len = unpadded + padding;

    out.reserve(MAGIC.len() + 2 + length_bytes + header_len + t.data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        // Checked above: header_len fits in a u16 for version 1.
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        let len = u32::try_from(header_len).map_err(|_| too_large(&t.shape))?;
        out.extend_from_slice(&len.to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + padding, b' ');
    out.push(b'\n');
    out.extend_from_slice(&t.data);
    Ok(())
}

fn too_large(shape: &[usize]) -> NpyError {
    NpyError::ShapeTooLarge(
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Splits `bytes` into the decoded header text and everything after the header.
fn split_header(bytes: &[u8]) -> Result<(String, &[u8]), NpyError> {
    let magic_len = MAGIC.len();
    let seen = bytes.len().min(magic_len);
    if bytes[..seen] != MAGIC[..seen] {
        return Err(NpyError::BadMagic);
    }
    if bytes.len() < magic_len + 2 {
        return Err(NpyError::TruncatedHeader {
            expected: magic_len + 4,
            found: bytes.len(),
        });
    }
    let (major, minor) = (bytes[magic_len], bytes[magic_len + 1]);
    let length_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::UnsupportedVersion { major, minor }),
    };
    let prefix_len = magic_len + 2 + length_bytes;
    let Some(length_field) = bytes.get(magic_len + 2..prefix_len) else {
        return Err(NpyError::TruncatedHeader {
            expected: prefix_len,
            found: bytes.len(),
        });
    };
    let header_len = length_field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let end = prefix_len.saturating_add(header_len);
    let Some(raw) = bytes.get(prefix_len..end) else {
        return Err(NpyError::TruncatedHeader {
            expected: end,
            found: bytes.len(),
        });
    };
    let text = if major == 3 {
        core::str::from_utf8(raw)
            .map_err(|_| NpyError::BadHeader("header is not valid utf-8".to_string()))?
            .to_string()
    } else {
        // Versions 1 and 2 use latin-1, which maps every byte to the code point of that value.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    Ok((text, &bytes[end..]))
}

/// What the header tells us.
struct HeaderInfo {
    element_type: ElementType,
    shape: Vec<usize>,
}

fn parse_header(text: &str) -> Result<HeaderInfo, NpyError> {
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    let dict = parser.value().map_err(NpyError::BadHeader)?;
    parser.skip_space();
    if parser.pos != text.len() {
        return Err(NpyError::BadHeader(format!(
            "unexpected text after the header dict: {}",
            quoted(&text[parser.pos..])
        )));
    }
    let Literal::Dict(entries) = dict.kind else {
        return Err(NpyError::BadHeader(format!(
            "expected a dict, found {}",
            quoted(dict.raw)
        )));
    };

    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    for (key, value) in entries {
        let Literal::Str(key) = key.kind else {
            return Err(NpyError::BadHeader(format!(
                "dict key {} is not a string",
                quoted(key.raw)
            )));
        };
        match key.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran_order = Some(value),
            "shape" => shape = Some(value),
            // numpy itself rejects other keys; they describe no array data, so ignore them.
            _ => {}
        }
    }

    let descr = descr.ok_or_else(|| NpyError::BadHeader("missing key 'descr'".to_string()))?;
    let element_type = match &descr.kind {
        Literal::Str(s) => dtype_to_element_type(s)?,
        // A list is a structured dtype such as [('x', '<f4'), ('y', '<i4')].
        _ => return Err(NpyError::UnsupportedDtype(crate::excerpt(descr.raw))),
    };

    if let Some(order) = fortran_order {
        match order.kind {
            Literal::Bool(false) => {}
            Literal::Bool(true) => return Err(NpyError::FortranOrder),
            _ => {
                return Err(NpyError::BadHeader(format!(
                    "'fortran_order' must be True or False, found {}",
                    quoted(order.raw)
                )))
            }
        }
    }

    let shape = shape.ok_or_else(|| NpyError::BadHeader("missing key 'shape'".to_string()))?;
    let Literal::Tuple(dims) = shape.kind else {
        return Err(NpyError::BadHeader(format!(
            "'shape' must be a tuple, found {}",
            quoted(shape.raw)
        )));
    };
    let shape = dims
        .iter()
        .map(|d| match d.kind {
            Literal::Int(v) => usize::try_from(v).map_err(|_| {
                if v < 0 {
                    NpyError::BadHeader(format!("negative dimension {v} in 'shape'"))
                } else {
                    NpyError::ShapeTooLarge(crate::excerpt(shape.raw))
                }
            }),
            _ => Err(NpyError::BadHeader(format!(
                "dimension {} in 'shape' is not an integer",
                quoted(d.raw)
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HeaderInfo {
        element_type,
        shape,
    })
}

/// Maps a NumPy array-protocol type string (`<f4`, `|b1`, …) to an element type.
fn dtype_to_element_type(descr: &str) -> Result<ElementType, NpyError> {
    let (big_endian, code) = match descr.as_bytes().first() {
        Some(b'<' | b'|' | b'=') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        _ => (false, descr),
    };
    let element_type = match code {
        "f4" => ElementType::F32,
        "f2" => ElementType::F16,
        "f8" => ElementType::F64,
        "i1" => ElementType::I8,
        "i4" => ElementType::I32,
        "i8" => ElementType::I64,
        "b1" => ElementType::I1,
        "u1" => ElementType::U8,
        "i2" => ElementType::I16,
        "u2" => ElementType::U16,
        "u4" => ElementType::U32,
        "u8" => ElementType::U64,
        _ => return Err(NpyError::UnsupportedDtype(crate::excerpt(descr))),
    };
    // Byte order is meaningless for one-byte types, so `>i1` is the same data as `|i1`.
    if big_endian && element_type.byte_size() > 1 {
        return Err(NpyError::BigEndian(crate::excerpt(descr)));
    }
    Ok(element_type)
}

/// A short, quoted, single-line rendering of header text for error messages.
fn quoted(s: &str) -> String {
    format!("'{}'", crate::excerpt(s))
}

/// One Python literal of the header, with the text it was parsed from.
struct Value<'a> {
    kind: Literal<'a>,
    raw: &'a str,
}

enum Literal<'a> {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Value<'a>>),
    /// A list; only structured dtypes use one, and its items do not matter here.
    List,
    Dict(Vec<(Value<'a>, Value<'a>)>),
}

/// A recursive-descent parser for the small subset of Python literals `.npy` headers use:
/// strings, integers (with Python 2's `L` suffix), `True`/`False`/`None`, tuples, lists, dicts.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn error_here(&self, what: &str) -> String {
        match self.peek() {
            None => format!("expected {what}, found the end of the header"),
            Some(_) => format!("expected {what}, found {}", quoted(&self.text[self.pos..])),
        }
    }

    fn value(&mut self) -> Result<Value<'a>, String> {
        self.skip_space();
        let start = self.pos;
        let kind = match self.peek() {
            Some('\'' | '"') => Literal::Str(self.string()?),
            Some('(') => Literal::Tuple(self.sequence(')')?),
            Some('[') => {
                self.sequence(']')?;
                Literal::List
            }
            Some('{') => Literal::Dict(self.dict()?),
            Some(c) if c == '-' || c == '+' || c.is_ascii_digit() => Literal::Int(self.int()?),
            Some(c) if c.is_ascii_alphabetic() => self.word()?,
            _ => return Err(self.error_here("a value")),
        };
        Ok(Value {
            kind,
            raw: &self.text[start..self.pos],
        })
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!("nested more than {MAX_NESTING} levels deep"));
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, String> {
        let Some(quote) = self.peek() else {
            return Err(self.error_here("a string"));
        };
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err("unterminated string".to_string())
    }

    fn int(&mut self) -> Result<i128, String> {
        let start = self.pos;
        let rest = &self.text[self.pos..];
        let sign_len = usize::from(rest.starts_with(['-', '+']));
        let digits = rest[sign_len..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 {
            return Err(self.error_here("a number"));
        }
        let end = sign_len + digits;
        let value = rest[..end]
            .parse::<i128>()
            .map_err(|_| format!("number {} is too large", quoted(&rest[..end])))?;
        self.pos = start + end;
        // Python 2 wrote long integers with an `L` suffix: `(3L, 4L)`.
        if matches!(self.peek(), Some('L' | 'l')) {
            self.pos += 1;
        }
        Ok(value)
    }

    fn word(&mut self) -> Result<Literal<'a>, String> {
        let rest = &self.text[self.pos..];
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let literal = match &rest[..len] {
            "True" => Literal::Bool(true),
            "False" => Literal::Bool(false),
            "None" => Literal::None,
            _ => return Err(self.error_here("a value")),
        };
        self.pos += len;
        Ok(literal)
    }

    /// Parses `(a, b, )` or `[a, b]` after checking the opening bracket.
    fn sequence(&mut self, close: char) -> Result<Vec<Value<'a>>, String> {
        self.enter()?;
        self.pos += 1; // the opening bracket
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            items.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.error_here(&format!("',' or '{close}'"))),
            }
        }
        self.depth -= 1;
        Ok(items)
    }

    fn dict(&mut self) -> Result<Vec<(Value<'a>, Value<'a>)>, String> {
        self.enter()?;
        self.pos += 1; // '{'
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some('}') {
                self.pos += 1;
                break;
            }
            let key = self.value()?;
            self.skip_space();
            if self.peek() != Some(':') {
                return Err(self.error_here("':'"));
            }
            self.pos += 1;
            let value = self.value()?;
            entries.push((key, value));
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => return Err(self.error_here("',' or '}'")),
            }
        }
        self.depth -= 1;
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    /// Builds a version-1 file around a header dict, padded like numpy.
    fn file_with_header(dict: &str, data: &[u8]) -> Vec<u8> {
        let padding = 63 - (10 + dict.len()) % 64;
        let header = format!("{dict}{}\n", " ".repeat(padding));
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn writes_exactly_what_numpy_save_writes() {
        // Header bytes produced by numpy 2.4 `np.save` for the same arrays.
        let t = HostTensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let bytes = write_npy(&t).unwrap();
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
        assert_eq!(&bytes[10..10 + dict.len()], dict.as_bytes());
        assert_eq!(bytes[127], b'\n');
        assert!(bytes[10 + dict.len()..127].iter().all(|&b| b == b' '));
        assert_eq!(bytes.len(), 128 + 24);
        assert_eq!(&bytes[128..132], &1.0f32.to_le_bytes());

        let scalar = write_npy(&HostTensor::from_f32(&[], &[3.5])).unwrap();
        assert_eq!(&scalar[8..10], &118u16.to_le_bytes());
        assert!(scalar.starts_with(
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (), }"
        ));
        let bools = write_npy(&HostTensor::from_f64(ElementType::I1, &[5], &[1.0; 5])).unwrap();
        assert!(
            bools[10..].starts_with(b"{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }")
        );
        assert_eq!(bools.len(), 128 + 5);
    }

    #[test]
    fn round_trips_every_writable_type() {
        for et in ElementType::ALL {
            if et.numpy_typestr().is_none() {
                continue;
            }
            for shape in [
                vec![],
                vec![0],
                vec![5],
                vec![2, 3],
                vec![2, 0, 4],
                vec![1, 2, 1, 2],
            ] {
                let n = element_count(&shape).unwrap();
                let values: Vec<f64> = (0..n).map(|i| i as f64 - 2.0).collect();
                let t = HostTensor::from_f64(et, &shape, &values);
                let bytes = write_npy(&t).unwrap();
                assert_eq!((bytes.len() - t.data.len()) % 64, 0, "{et} {shape:?}");
                assert_eq!(read_npy(&bytes).unwrap(), t, "{et} {shape:?}");
            }
        }
    }

    #[test]
    fn reads_every_supported_dtype_spelling() {
        let cases = [
            ("<f4", ElementType::F32),
            ("<f2", ElementType::F16),
            ("|i1", ElementType::I8),
            ("<i1", ElementType::I8),
            (">i1", ElementType::I8),
            ("<i4", ElementType::I32),
            ("<i8", ElementType::I64),
            ("|b1", ElementType::I1),
            ("|u1", ElementType::U8),
            ("<i2", ElementType::I16),
            ("<u2", ElementType::U16),
            ("<u4", ElementType::U32),
            ("<u8", ElementType::U64),
            ("=f4", ElementType::F32),
            ("f4", ElementType::F32),
        ];
        for (descr, et) in cases {
            let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}");
            let bytes = file_with_header(&dict, &vec![0u8; 3 * et.byte_size()]);
            let t = read_npy(&bytes).unwrap();
            assert_eq!(
                (t.element_type, t.shape.as_slice()),
                (et, &[3][..]),
                "{descr}"
            );
        }
    }

    #[test]
    fn reads_versions_two_and_three_and_odd_headers() {
        for major in [2u8, 3] {
            let header = "{\"descr\":\"<i4\",\"shape\":(2L,),\"fortran_order\":False}\n";
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&[major, 0]);
            bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(&7i32.to_le_bytes());
            bytes.extend_from_slice(&(-8i32).to_le_bytes());
            let t = read_npy(&bytes).unwrap();
            assert_eq!(t.to_i64(), vec![7, -8]);
        }
        // Keys in any order, extra keys ignored, no trailing comma, scalar shape.
        let bytes = file_with_header(
            "{'shape': (), 'extra': [1, (2, 'x')], 'descr': '<f4', 'fortran_order': False}",
            &2.5f32.to_le_bytes(),
        );
        assert_eq!(read_npy(&bytes).unwrap(), HostTensor::from_f32(&[], &[2.5]));
    }

    #[test]
    fn booleans_are_normalized_to_zero_or_one() {
        let dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }";
        let t = read_npy(&file_with_header(dict, &[0, 1, 7])).unwrap();
        assert_eq!(t.data, vec![0, 1, 1]);
    }

    #[test]
    fn reads_concatenated_files() {
        let a = HostTensor::from_i64(&[2], &[11, 12]);
        let b = HostTensor::from_f64(ElementType::I32, &[3], &[1.0, 2.0, 3.0]);
        let c = HostTensor::from_f64(ElementType::I1, &[], &[1.0]);
        let file = write_npy_all(&[a.clone(), b.clone(), c.clone()]).unwrap();
        assert_eq!(read_npy_all(&file).unwrap(), vec![a.clone(), b.clone(), c]);
        assert_eq!(read_npy_all(&[]).unwrap(), vec![]);

        let (first, rest) = read_npy_next(&file).unwrap();
        assert_eq!(first, a);
        let (second, _) = read_npy_next(rest).unwrap();
        assert_eq!(second, b);

        let err = read_npy(&file).unwrap_err();
        assert!(matches!(err, NpyError::TrailingData(_)), "{err}");
        assert!(err.to_string().contains("read_npy_all"), "{err}");

        let mut broken = file.clone();
        broken.extend_from_slice(b"\x93NUMPY\x01");
        let err = read_npy_all(&broken).unwrap_err();
        assert_eq!(
            err.to_string(),
            "array 3: truncated .npy header: expected 10 bytes, found 7"
        );
    }

    #[test]
    fn rejects_unsupported_arrays_by_name() {
        let cases = [
            ("'<f16'", "unsupported .npy dtype '<f16'"),
            ("'<c8'", "unsupported .npy dtype '<c8'"),
            ("'|O'", "unsupported .npy dtype '|O'"),
            ("'<U3'", "unsupported .npy dtype '<U3'"),
            (
                "'>f4'",
                "unsupported .npy dtype '>f4': big-endian data is not supported",
            ),
            (
                "[('x', '<f4'), ('y', '<i4')]",
                "unsupported .npy dtype '[('x', '<f4'), ('y', '<i4')]'",
            ),
        ];
        for (descr, message) in cases {
            let dict = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}");
            let err = read_npy(&file_with_header(&dict, &[0; 8])).unwrap_err();
            assert!(err.to_string().starts_with(message), "{descr}: {err}");
        }
        let dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }";
        let err = read_npy(&file_with_header(dict, &[0; 16])).unwrap_err();
        assert_eq!(err, NpyError::FortranOrder);
        assert!(err.to_string().contains("fortran order"));
    }

    #[test]
    fn rejects_bad_magic_versions_and_lengths() {
        assert_eq!(
            read_npy(b"PK\x03\x04 a zip file").unwrap_err(),
            NpyError::BadMagic
        );
        assert_eq!(
            read_npy(b"\x93NUMPZ\x01\x00").unwrap_err(),
            NpyError::BadMagic
        );
        assert_eq!(
            read_npy(b"").unwrap_err(),
            NpyError::TruncatedHeader {
                expected: 10,
                found: 0
            }
        );
        let mut v4 = MAGIC.to_vec();
        v4.extend_from_slice(&[4, 0, 0, 0, 0, 0]);
        assert_eq!(
            read_npy(&v4).unwrap_err().to_string(),
            "unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)"
        );

        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let err = read_npy(&file_with_header(dict, &[0; 20])).unwrap_err();
        assert_eq!(
            err,
            NpyError::DataLength {
                expected: 24,
                found: 20
            }
        );
        assert_eq!(
            err.to_string(),
            "data length mismatch: expected 24 bytes, found 20"
        );

        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }";
        let err = read_npy(&file_with_header(dict, &[])).unwrap_err();
        assert!(matches!(err, NpyError::ShapeTooLarge(_)), "{err}");
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }";
        assert!(read_npy(&file_with_header(dict, &[]))
            .unwrap_err()
            .to_string()
            .contains("negative"));
    }

    #[test]
    fn never_panics_on_truncated_or_garbage_input() {
        let good = write_npy_all(&[
            HostTensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            HostTensor::from_i64(&[1], &[9]),
        ])
        .unwrap();
        for len in 0..good.len() {
            let _ = read_npy(&good[..len]);
            let _ = read_npy_all(&good[..len]);
        }
        // Flip every byte of the header to a few values.
        for i in 0..160 {
            for v in [0u8, b'(', b')', b'\'', b'{', b',', b'-', 0xFF, b'9'] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = read_npy_all(&bad);
            }
        }
        // Deterministic pseudo-random header text behind a valid prefix, and random data.
        let alphabet = b"{}()[]',: 0123456789-LTrueFalse<f4i8b1descrshapefortran_order\n\x80";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let len = (next() % 120) as usize;
            let header: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&[1, 0]);
            bytes.extend_from_slice(&(len as u16).to_le_bytes());
            bytes.extend_from_slice(&header);
            let data_len = (next() % 40) as usize;
            bytes.extend((0..data_len).map(|_| next() as u8));
            let _ = read_npy_all(&bytes);
        }
        // The same with a plausible header whose fields are shuffled from good ones.
        let parts = [
            "'descr': '<f4'",
            "'descr': '|b1'",
            "'shape': (2, 3)",
            "'shape': ()",
            "'shape': (0,)",
            "'fortran_order': False",
            "'fortran_order': True",
            "'shape': (3,",
        ];
        for _ in 0..3000 {
            let n = (next() % 4) as usize;
            let picked: Vec<&str> = (0..n)
                .map(|_| parts[(next() % parts.len() as u64) as usize])
                .collect();
            let header = format!("{{{}}}", picked.join(", "));
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&[1, 0]);
            bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend((0..(next() % 40)).map(|_| next() as u8));
            let _ = read_npy_all(&bytes);
        }
        // Deep nesting is refused, not a stack overflow.
        let deep = format!(
            "{{'descr': '<f4', 'shape': {}1{}}}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[2, 0]);
        bytes.extend_from_slice(&(deep.len() as u32).to_le_bytes());
        bytes.extend_from_slice(deep.as_bytes());
        assert!(read_npy(&bytes).unwrap_err().to_string().contains("nested"));
        // A header claiming 4 GiB does not allocate 4 GiB.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&[2, 0, 0xFF, 0xFF, 0xFF, 0xFF, b'{']);
        assert!(matches!(
            read_npy(&huge).unwrap_err(),
            NpyError::TruncatedHeader { .. }
        ));
    }

    #[test]
    fn rejects_malformed_headers_with_one_line_messages() {
        for dict in [
            "not a dict",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'shape': [1]}",
            "{'descr': '<f4', 'shape': (1.5,)}",
            "{'descr': '<f4', 'shape': (1,), 'fortran_order': 'no'}",
            "{'descr': '<f4', 'shape': (1,)} trailing",
            "{'descr': '<f4 , 'shape': (1,)}",
            "{1: 2}",
        ] {
            let err = read_npy(&file_with_header(dict, &[0; 4])).unwrap_err();
            let message = err.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(
                message.starts_with("malformed .npy header"),
                "{dict}: {message}"
            );
        }
    }

    #[test]
    fn write_rejects_bf16_and_inconsistent_tensors() {
        let bf16 = HostTensor::from_f64(ElementType::BF16, &[2], &[1.0, 2.0]);
        let err = write_npy(&bf16).unwrap_err();
        assert_eq!(err, NpyError::NoDtype(ElementType::BF16));
        assert!(err.to_string().starts_with("bf16 has no .npy dtype"));
        let bad = HostTensor {
            element_type: ElementType::F32,
            shape: vec![2],
            data: vec![0; 7],
        };
        assert_eq!(
            write_npy(&bad).unwrap_err(),
            NpyError::DataLength {
                expected: 8,
                found: 7
            }
        );
    }

    #[test]
    fn large_headers_switch_to_version_two() {
        let mut shape = vec![1usize; 30_000];
        shape[0] = 3;
        let t = HostTensor::zeros(ElementType::I8, &shape);
        let bytes = write_npy(&t).unwrap();
        assert_eq!(bytes[6], 2);
        assert_eq!((bytes.len() - 3) % 64, 0);
        assert_eq!(read_npy(&bytes).unwrap(), t);
    }
}
