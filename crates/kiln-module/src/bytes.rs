//! Little-endian byte encoding with a bounds-checked reader, used for every table in a module
//! file and for executable formats that live inside it.

use crate::ModuleError;
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

/// Reads little-endian values, every read bounds-checked.
///
/// The reader keeps the first error it meets (a read past the end, a length longer than the
/// bytes left, a code the caller refuses with [`ByteReader::refuse`]); from then on every read
/// returns zero, an empty string or an empty list. A decoder therefore reads straight through
/// without a check per value and asks once for the outcome ([`ByteReader::finish`]), or
/// before it uses a value for more than building its result ([`ByteReader::check`]). This keeps
/// decoders short, which a firmware's size feels.
///
/// ```
/// use kiln_module::{ByteReader, ByteWriter};
/// let mut w = ByteWriter::default();
/// w.u32(7);
/// w.str("conv");
/// let mut r = ByteReader::new(&w.bytes, "example table");
/// let (n, name) = (r.u32(), r.str());
/// assert_eq!(r.finish((n, name)).unwrap(), (7, "conv".to_string()));
/// let mut r = ByteReader::new(&w.bytes[..6], "example table");
/// let (n, name) = (r.u32(), r.str());
/// assert_eq!((n, name.as_str()), (7, ""));
/// assert_eq!(
///     r.finish(()).unwrap_err().to_string(),
///     "module is truncated: example table ends early at byte 4"
/// );
/// ```
pub struct ByteReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
    error: Option<ModuleError>,
}

impl<'a> ByteReader<'a> {
    /// `what` names the table being read, for error messages.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        ByteReader {
            bytes,
            pos: 0,
            what,
            error: None,
        }
    }
    /// True when every byte has been read (or reading has failed).
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }
    /// Keeps `error` unless an earlier one is kept, and stops reading.
    pub fn refuse(&mut self, error: ModuleError) {
        self.error.get_or_insert(error);
        self.pos = self.bytes.len();
    }
    /// [`ByteReader::refuse`] with [`ModuleError::Invalid`]: `message` says what is wrong.
    pub fn invalid(&mut self, message: String) {
        self.refuse(ModuleError::Invalid(message));
    }
    /// The first error so far (kept: [`ByteReader::finish`] gives it again).
    pub fn check(&self) -> Result<(), ModuleError> {
        self.error.clone().map_or(Ok(()), Err)
    }
    /// `value` if every read succeeded, else the first error.
    pub fn finish<T>(self, value: T) -> Result<T, ModuleError> {
        self.error.map_or(Ok(value), Err)
    }
    /// The next `n` bytes (none once reading has failed).
    fn take(&mut self, n: usize) -> &'a [u8] {
        match self.bytes.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(bytes) => {
                self.pos += n;
                bytes
            }
            None => {
                let offset = self.pos;
                self.refuse(ModuleError::Truncated {
                    what: self.what,
                    offset,
                });
                &[]
            }
        }
    }
    /// The next `N` bytes, zeros once reading has failed.
    fn array<const N: usize>(&mut self) -> [u8; N] {
        self.take(N).try_into().unwrap_or([0; N])
    }
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }
    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.array())
    }
    pub fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.array())
    }
    pub fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.array())
    }
    /// The next u32 without consuming it; `None` at the end.
    pub fn peek_u32(&self) -> Option<u32> {
        let b = self.bytes.get(self.pos..)?.get(..4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }
    /// A length prefix, checked against the bytes left (each item needs at least `min_item`
    /// bytes), so a corrupt count cannot make the reader allocate without bound.
    pub fn len(&mut self, min_item: usize) -> usize {
        let n = self.u32() as usize;
        if n.saturating_mul(min_item.max(1)) > self.bytes.len() - self.pos {
            let what = self.what;
            self.invalid(kiln_types::message!(
                "{what} table claims {n} entries, more than the file holds"
            ));
            return 0;
        }
        n
    }
    /// A list written as its length and then each item, each at least `min_item` bytes long.
    pub fn list<T>(&mut self, min_item: usize, item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = self.len(min_item);
        self.items(n, item)
    }
    /// `n` items read one after another (`n` from [`ByteReader::len`]). The list starts with
    /// room for no more items than the bytes left would make were each item as large in
    /// memory as it is: a corrupt count is refused before it costs more than the file.
    pub fn items<T>(&mut self, n: usize, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let mut items = self.room_for(n);
        for _ in 0..n {
            items.push(item(self));
        }
        items
    }
    /// [`ByteReader::list`] of tagged items (instructions, statements, kernels) whose decoder
    /// gives `None` for one it refuses (an unknown tag): the list stops there.
    pub fn list_until_refused<T>(
        &mut self,
        min_item: usize,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Vec<T> {
        let n = self.len(min_item);
        let mut items = self.room_for(n);
        for _ in 0..n {
            match item(self) {
                Some(x) => items.push(x),
                None => break,
            }
        }
        items
    }
    /// An empty list with room for `n` items, but for no more than the bytes left would make
    /// were each item as large in memory as it is.
    fn room_for<T>(&self, n: usize) -> Vec<T> {
        let left = self.bytes.len() - self.pos;
        Vec::with_capacity(n.min(left / core::mem::size_of::<T>().max(1)))
    }
    /// A byte string [`ByteWriter::blob`] wrote.
    pub fn blob(&mut self) -> Vec<u8> {
        let n = usize::try_from(self.u64()).unwrap_or(usize::MAX);
        self.take(n).to_vec()
    }
    pub fn str(&mut self) -> String {
        let n = self.len(1);
        let bytes = self.take(n);
        match core::str::from_utf8(bytes) {
            Ok(text) => text.into(),
            Err(_) => {
                let what = self.what;
                self.invalid(kiln_types::message!(
                    "{what} holds a string that is not UTF-8"
                ));
                String::new()
            }
        }
    }
    pub fn u64s(&mut self) -> Vec<u64> {
        self.list(8, Self::u64)
    }
    pub fn i64s(&mut self) -> Vec<i64> {
        self.list(8, Self::i64)
    }
    /// A size written by [`ByteWriter::size`] (expressions parse with bounded depth).
    pub fn size(&mut self) -> SymExpr {
        match self.u8() {
            0 => {
                let c = self.u64();
                i64::try_from(c).map(SymExpr::from).unwrap_or_else(|_| {
                    self.invalid(kiln_types::message!("size {c} is out of range"));
                    SymExpr::default()
                })
            }
            1 => self.expr(),
            t => {
                let what = self.what;
                self.invalid(kiln_types::message!("{what} holds unknown size tag {t}"));
                SymExpr::default()
            }
        }
    }
    /// A size written as its text (`SymExpr`'s `Display` form): a constant, or, in builds
    /// with the `symbolic` feature, an expression over run-time symbols (parsed with bounded
    /// depth).
    pub fn expr(&mut self) -> SymExpr {
        let text = self.str();
        let what = self.what;
        let digits = text.strip_prefix('-').unwrap_or(&text);
        let refusal = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            match text.parse::<i64>() {
                Ok(c) => return SymExpr::from(c),
                Err(_) => ModuleError::Invalid(kiln_types::message!(
                    "{what} holds size {text}, out of range"
                )),
            }
        } else if self.error.is_some() {
            return SymExpr::default();
        } else {
            #[cfg(feature = "symbolic")]
            match SymExpr::parse(&text) {
                Ok(e) => return e,
                Err(message) => ModuleError::Invalid(message),
            }
            #[cfg(not(feature = "symbolic"))]
            ModuleError::NotBuilt {
                what: kiln_types::message!(
                    "the size `{text}` in its {what}, known only at run time"
                ),
                feature: "symbolic",
            }
        };
        self.refuse(refusal);
        SymExpr::default()
    }
    pub fn element_type(&mut self) -> kiln_types::ElementType {
        let c = self.u8();
        kiln_types::ElementType::from_code(c).unwrap_or_else(|| {
            let what = self.what;
            self.invalid(kiln_types::message!(
                "{what} names unknown element type code {c}"
            ));
            kiln_types::ElementType::F32
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
