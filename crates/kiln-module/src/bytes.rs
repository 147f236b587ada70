//! Little-endian byte encoding with a bounds-checked reader, used for every table in a module
//! file and for executable formats that live inside it.

use crate::ModuleError;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use kiln_types::sym::SymExpr;

/// Appends little-endian values to a byte vector.
#[derive(Default)]
pub struct ByteWriter {
    pub bytes: Vec<u8>,
}

impl ByteWriter {
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f32(&mut self, v: f32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.bytes.extend_from_slice(s.as_bytes());
    }
    pub fn u64s(&mut self, v: &[u64]) {
        self.u32(v.len() as u32);
        v.iter().for_each(|&x| self.u64(x));
    }
    pub fn i64s(&mut self, v: &[i64]) {
        self.u32(v.len() as u32);
        v.iter().for_each(|&x| self.i64(x));
    }
    /// A byte string: its length as a u64, then the bytes.
    pub fn blob(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.bytes.extend_from_slice(b);
    }
    /// A size: a constant as tag 0 and its value, an expression over symbols as tag 1 and
    /// its text.
    pub fn size(&mut self, s: &SymExpr) {
        match s.as_const().and_then(|c| u64::try_from(c).ok()) {
            Some(c) => {
                self.u8(0);
                self.u64(c);
            }
            None => {
                self.u8(1);
                self.str(&s.to_string());
            }
        }
    }
}

/// Reads little-endian values; every read is bounds-checked and names what it was reading.
pub struct ByteReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> ByteReader<'a> {
    /// `what` names the table being read, for error messages.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        ByteReader {
            bytes,
            pos: 0,
            what,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModuleError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ModuleError::Truncated {
                what: self.what,
                offset: self.pos,
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, ModuleError> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, ModuleError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    pub fn u64(&mut self) -> Result<u64, ModuleError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn i64(&mut self) -> Result<i64, ModuleError> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn f32(&mut self) -> Result<f32, ModuleError> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    pub fn f64(&mut self) -> Result<f64, ModuleError> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// A length prefix, checked against the bytes left (each item needs at least `min_item` bytes),
    /// so a corrupt count cannot make the reader allocate without bound.
    /// The next u32 without consuming it; `None` at the end.
    pub fn peek_u32(&self) -> Result<Option<u32>, ModuleError> {
        Ok(self
            .bytes
            .get(self.pos..self.pos + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))))
    }
    pub fn len(&mut self, min_item: usize) -> Result<usize, ModuleError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item.max(1)) > self.bytes.len() - self.pos {
            return Err(ModuleError::Invalid(format!(
                "{} table claims {n} entries, more than the file holds",
                self.what
            )));
        }
        Ok(n)
    }
    /// A byte string [`ByteWriter::blob`] wrote.
    pub fn blob(&mut self) -> Result<Vec<u8>, ModuleError> {
        let n = usize::try_from(self.u64()?).unwrap_or(usize::MAX);
        Ok(self.take(n)?.to_vec())
    }
    pub fn str(&mut self) -> Result<String, ModuleError> {
        let n = self.len(1)?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| {
            ModuleError::Invalid(format!("{} holds a string that is not UTF-8", self.what))
        })
    }
    pub fn u64s(&mut self) -> Result<Vec<u64>, ModuleError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.u64()).collect()
    }
    pub fn i64s(&mut self) -> Result<Vec<i64>, ModuleError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.i64()).collect()
    }
    /// A size written by [`ByteWriter::size`] (expressions parse with bounded depth).
    pub fn size(&mut self) -> Result<SymExpr, ModuleError> {
        match self.u8()? {
            0 => {
                let c = self.u64()?;
                i64::try_from(c)
                    .map(SymExpr::from)
                    .map_err(|_| ModuleError::Invalid(format!("size {c} is out of range")))
            }
            1 => self.expr(),
            t => Err(ModuleError::Invalid(format!(
                "{} holds unknown size tag {t}",
                self.what
            ))),
        }
    }
    /// A size written as its text (`SymExpr`'s `Display` form): a constant, or, in builds
    /// with the `symbolic` feature, an expression over run-time symbols (parsed with bounded
    /// depth).
    pub fn expr(&mut self) -> Result<SymExpr, ModuleError> {
        let text = self.str()?;
        let digits = text.strip_prefix('-').unwrap_or(&text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse::<i64>().map(SymExpr::from).map_err(|_| {
                ModuleError::Invalid(format!("{} holds size {text}, out of range", self.what))
            });
        }
        #[cfg(feature = "symbolic")]
        return SymExpr::parse(&text).map_err(ModuleError::Invalid);
        #[cfg(not(feature = "symbolic"))]
        Err(ModuleError::NotBuilt {
            what: format!(
                "the size `{text}` in its {}, known only at run time",
                self.what
            ),
            feature: "symbolic",
        })
    }
    pub fn element_type(&mut self) -> Result<kiln_types::ElementType, ModuleError> {
        let c = self.u8()?;
        kiln_types::ElementType::from_code(c).ok_or_else(|| {
            ModuleError::Invalid(format!("{} names unknown element type code {c}", self.what))
        })
    }
}

/// FNV-1a, 64-bit: a small, dependency-free checksum for detecting corrupted tables.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
