//! The kiln module file: one versioned, self-describing, mmap-able file per compiled program.
//!
//! # Layout
//!
//! All integers are little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `KILNMOD\0` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | header size (64) |
//! | 16 | 8 | metadata offset |
//! | 24 | 8 | metadata length |
//! | 32 | 8 | metadata checksum (FNV-1a 64) |
//! | 40 | 8 | total file size |
//! | 48 | 8 | reserved, zero |
//! | 56 | 8 | header checksum of bytes 0..56 |
//!
//! The metadata block holds, in order: the compiler version, the module name, the function
//! table (names, signatures with each dim as the text of its size expression, and one host
//! program per target variant, its sizes likewise), the executable table (target, format, offset,
//! length, checksum per executable) and the constant table (element type, shape, offset,
//! length). Executables and constants live in the data region after the header; every constant
//! starts at a 64-byte-aligned file offset so a runtime can use it in place from an mmap.
//!
//! # Validation
//!
//! [`Module::read`] checks, in order: the magic, the format version (a mismatch names both
//! versions), both checksums, that every table decodes within bounds, that every executable and
//! constant range lies inside the file, and that every host program refers only to symbols its
//! function's inputs define ([`HostProgram::verify`]). A program without symbols is bound at
//! once, which checks that it refers only to buffers, executables and byte ranges that exist;
//! one with symbols gets the same checks for each call's sizes ([`FunctionDef::bind_inputs`],
//! [`HostProgram::bind`]) before the call runs. Constant payloads are not
//! checksummed: they are used in place and never read at load time.
#![no_std]

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

mod aligned;
mod bytes;
mod control;
mod host;
mod symbols;

pub use aligned::AlignedBytes;
pub use bytes::{checksum, ByteReader, ByteWriter};
pub use host::{BindingRef, BoundProgram, BufferSpace, HostInst, HostProgram};
pub use kiln_types::control::ControlProgram;
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;
pub use symbols::Symbols;

/// The first 8 bytes of every module file.
pub const MAGIC: &[u8; 8] = b"KILNMOD\0";
/// The only format version this build reads and writes (5: a loop's scans record their
/// element dims; 4: functions may have a control
/// program and be internal, signatures may be unranked; 3: signature dims and host program
/// sizes are expressions over the functions' symbols; 2 added a host program per target
/// variant of each function).
pub const FORMAT_VERSION: u32 = 5;
/// Size of the fixed header.
pub const HEADER_SIZE: usize = 64;
/// Alignment of every constant and executable in the file.
pub const DATA_ALIGNMENT: usize = 64;

/// Errors reading or verifying a module file.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleError {
    #[error("not a kiln module (bad magic bytes)")]
    BadMagic,
    #[error(
        "module format version {found} is not supported: this runtime reads version {expected}"
    )]
    Version { found: u32, expected: u32 },
    #[error("module is truncated: {what} ends early at byte {offset}")]
    Truncated { what: &'static str, offset: usize },
    #[error("module is corrupt: the checksum of the {0} does not match")]
    Checksum(&'static str),
    #[error("module is invalid: {0}")]
    Invalid(String),
    /// The module needs a part of the reader this build of the runtime leaves out (a
    /// kiln-module cargo feature off, as in a firmware that runs fixed-size models only).
    #[error(
        "module needs {what}, which this build of the runtime leaves out (kiln-module feature \
         `{feature}`)"
    )]
    NotBuilt { what: String, feature: &'static str },
}

/// Shape and type of a function argument or result. A dim is a constant, or an expression
/// over the function's symbols (`batch`, `(h+1)/2`) where it is known only per call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSig {
    pub name: String,
    pub element_type: ElementType,
    pub dims: Vec<SymExpr>,
    /// The rank is known only per call (a result chosen by a run-time branch whose branches
    /// differ in rank); `dims` is then empty.
    pub any_rank: bool,
}

impl TensorSig {
    /// A signature with static dims.
    pub fn fixed(name: &str, element_type: ElementType, dims: &[u64]) -> TensorSig {
        TensorSig {
            name: name.into(),
            element_type,
            dims: dims.iter().map(|&d| SymExpr::from(d as i64)).collect(),
            any_rank: false,
        }
    }

    /// Byte size for a fully static signature.
    pub fn byte_size(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(self.element_type.byte_size() as u64, |acc, d| {
                u64::try_from(d.as_const()?)
                    .ok()
                    .and_then(|d| acc.checked_mul(d))
            })
    }

    /// IREE's type string: `8x784xf32`, `?` for dims known only per call, `*xf32` for a
    /// rank known only per call.
    pub fn type_string(&self) -> String {
        if self.any_rank {
            return format!("*x{}", self.element_type.name());
        }
        let mut parts: Vec<String> = self
            .dims
            .iter()
            .map(|d| d.as_const().map_or("?".into(), |c| c.to_string()))
            .collect();
        parts.push(self.element_type.name().into());
        parts.join("x")
    }

    /// The dims with their symbols: `[batch, 3, h, w]` (`[*]` for any rank).
    pub fn dims_string(&self) -> String {
        if self.any_rank {
            return "[*]".into();
        }
        let parts: Vec<String> = self.dims.iter().map(|d| d.to_string()).collect();
        format!("[{}]", parts.join(", "))
    }
}

/// A function: its signature and the host programs that run it, one per target variant (a
/// module compiled for several targets has one per target, each dispatching into that
/// target's executable). A runtime runs the variant whose executables its device loads best
/// ([`FunctionDef::variants_for`]). A function with run-time control flow has a
/// [`ControlProgram`] instead, which calls straight-line functions of the module; those are
/// `internal` (not exported to callers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDef {
    pub name: String,
    pub inputs: Vec<TensorSig>,
    pub outputs: Vec<TensorSig>,
    pub programs: Vec<HostProgram>,
    /// Sizes the compiled program takes to be equal, checked when a call binds its symbols.
    pub checks: Vec<SizeCheck>,
    /// Sequences other functions of the module at run time; `programs` is then empty.
    pub control: Option<ControlProgram>,
    /// Called only by control programs, never exported.
    pub internal: bool,
}

/// Two sizes a function was compiled to take as equal (say, the height of a skip connection
/// and of the upsampled branch it is concatenated with), or the first at most the second (a
/// slice's run-time length within its dim), and the op that needs them so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeCheck {
    pub a: SymExpr,
    pub b: SymExpr,
    /// `a ≤ b` rather than `a = b`.
    pub at_most: bool,
    pub op: String,
}

impl FunctionDef {
    /// The variants a device can run, best first, when executable `e` has rank `rank(e)` on
    /// it (lower is better, `None` when it cannot load it): those whose every executable
    /// loads, by their worst rank, then by order in the module.
    ///
    /// ```
    /// use kiln_module::{FunctionDef, HostProgram};
    /// let empty = HostProgram { transient_size: 0.into(), insts: vec![] };
    /// let f = FunctionDef { name: "main".into(), inputs: vec![], outputs: vec![],
    ///                       programs: vec![empty.clone(), empty], checks: vec![],
    ///                       control: None, internal: false };
    /// assert_eq!(f.variants_for(|_| Some(0)), [0, 1]);
    /// ```
    pub fn variants_for(&self, rank: impl Fn(u32) -> Option<usize>) -> Vec<usize> {
        let mut ranked: Vec<(usize, usize)> = self
            .programs
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.executables()
                    .into_iter()
                    .map(&rank)
                    .try_fold(0usize, |worst, r| Some(worst.max(r?)))
                    .map(|worst| (worst, i))
            })
            .collect();
        kiln_types::sort::sort_short(&mut ranked);
        ranked.into_iter().map(|(_, i)| i).collect()
    }
}

/// One executable: code for one target, in a format a HAL device may load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutableDef {
    /// Target backend that produced it (`vmvx`, `llvm-cpu`, …).
    pub target: String,
    /// Executable format a device loader matches on (`vmvx-bytecode`, …).
    pub format: String,
    pub data: Vec<u8>,
}

/// A constant stored in the data region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstantDef {
    pub element_type: ElementType,
    pub shape: Vec<u64>,
    /// File offset (64-byte aligned) and length in bytes.
    pub offset: u64,
    pub length: u64,
}

/// A module's tables. Constant payloads stay in the file; [`ConstantDef`] points at them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub compiler_version: String,
    pub name: String,
    pub functions: Vec<FunctionDef>,
    pub executables: Vec<ExecutableDef>,
    pub constants: Vec<ConstantDef>,
}

impl Module {
    /// The exported function `name` (internal ones are not found).
    pub fn function(&self, name: &str) -> Option<&FunctionDef> {
        self.functions
            .iter()
            .find(|f| f.name == name && !f.internal)
    }

    /// Function `name`, exported or internal.
    pub fn any_function(&self, name: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Serialises the module. `constants[i]` is the payload of `self.constants[i]`; the
    /// offsets and lengths stored in `self.constants` are recomputed.
    ///
    /// ```
    /// use kiln_module::Module;
    /// let m = Module { compiler_version: "0.1".into(), name: "m".into(), functions: vec![],
    ///                  executables: vec![], constants: vec![] };
    /// let bytes = m.write(&[]);
    /// assert_eq!(Module::read(&bytes).unwrap(), m);
    /// ```
    pub fn write(&self, constants: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_SIZE];
        let align =
            |out: &mut Vec<u8>| out.resize(out.len().div_ceil(DATA_ALIGNMENT) * DATA_ALIGNMENT, 0);
        let mut exe_ranges = vec![];
        for e in &self.executables {
            align(&mut out);
            exe_ranges.push((out.len() as u64, e.data.len() as u64, checksum(&e.data)));
            out.extend_from_slice(&e.data);
        }
        let mut consts = self.constants.clone();
        for (c, data) in consts.iter_mut().zip(constants) {
            align(&mut out);
            c.offset = out.len() as u64;
            c.length = data.len() as u64;
            out.extend_from_slice(data);
        }
        align(&mut out);
        let mut w = ByteWriter::default();
        w.str(&self.compiler_version);
        w.str(&self.name);
        w.u32(self.functions.len() as u32);
        for f in &self.functions {
            w.str(&f.name);
            for sigs in [&f.inputs, &f.outputs] {
                w.u32(sigs.len() as u32);
                for s in sigs {
                    w.str(&s.name);
                    w.u8(s.element_type.code());
                    w.u32(if s.any_rank {
                        u32::MAX
                    } else {
                        s.dims.len() as u32
                    });
                    for d in &s.dims {
                        w.str(&d.to_string());
                    }
                }
            }
            w.u32(f.programs.len() as u32);
            for p in &f.programs {
                p.encode(&mut w);
            }
            w.u32(f.checks.len() as u32);
            for c in &f.checks {
                w.str(&c.a.to_string());
                w.str(&c.b.to_string());
                w.u8(c.at_most as u8);
                w.str(&c.op);
            }
            w.u8(f.internal as u8);
            match &f.control {
                None => w.u8(0),
                Some(c) => {
                    w.u8(1);
                    control::encode(c, &mut w);
                }
            }
        }
        w.u32(self.executables.len() as u32);
        for (e, (off, len, sum)) in self.executables.iter().zip(&exe_ranges) {
            w.str(&e.target);
            w.str(&e.format);
            w.u64(*off);
            w.u64(*len);
            w.u64(*sum);
        }
        w.u32(consts.len() as u32);
        for c in &consts {
            w.u8(c.element_type.code());
            w.u64s(&c.shape);
            w.u64(c.offset);
            w.u64(c.length);
        }
        let meta_offset = out.len() as u64;
        out.extend_from_slice(&w.bytes);
        let total = out.len() as u64;
        let mut h = ByteWriter::default();
        h.bytes.extend_from_slice(MAGIC);
        h.u32(FORMAT_VERSION);
        h.u32(HEADER_SIZE as u32);
        h.u64(meta_offset);
        h.u64(w.bytes.len() as u64);
        h.u64(checksum(&w.bytes));
        h.u64(total);
        h.u64(0);
        let hsum = checksum(&h.bytes);
        h.u64(hsum);
        out[..HEADER_SIZE].copy_from_slice(&h.bytes);
        out
    }

    /// Reads and verifies a module from the whole file's bytes (see the crate docs for checks).
    pub fn read(file: &[u8]) -> Result<Module, ModuleError> {
        if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
            return Err(if file.len() < MAGIC.len() {
                ModuleError::Truncated {
                    what: "header",
                    offset: file.len(),
                }
            } else {
                ModuleError::BadMagic
            });
        }
        let mut h = ByteReader::new(&file[..file.len().min(HEADER_SIZE)], "header");
        h.u64(); // magic, checked above
        let version = h.u32();
        h.check()?;
        if version != FORMAT_VERSION {
            return Err(ModuleError::Version {
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let header_size = h.u32() as usize;
        let meta_offset = h.u64();
        let meta_len = h.u64();
        let meta_sum = h.u64();
        let total = h.u64();
        h.u64();
        let hsum = h.u64();
        h.check()?;
        if checksum(&file[..56]) != hsum {
            return Err(ModuleError::Checksum("header"));
        }
        if header_size != HEADER_SIZE {
            return Err(ModuleError::Invalid(kiln_types::message!(
                "header size {header_size} (expected {HEADER_SIZE})"
            )));
        }
        if total != file.len() as u64 {
            return Err(if (file.len() as u64) < total {
                ModuleError::Truncated {
                    what: "file",
                    offset: file.len(),
                }
            } else {
                ModuleError::Invalid(kiln_types::message!(
                    "file has {} bytes but its header says {total}",
                    file.len()
                ))
            });
        }
        let meta = range(file, meta_offset, meta_len, "metadata")?;
        if checksum(meta) != meta_sum {
            return Err(ModuleError::Checksum("function and executable tables"));
        }
        let mut r = ByteReader::new(meta, "metadata");
        let compiler_version = r.str();
        let name = r.str();
        let functions = r.list(16, read_function);
        let executables = r.list(32, |r| {
            let target = r.str();
            let format = r.str();
            let (off, len, sum) = (r.u64(), r.u64(), r.u64());
            let data = match read_range(r, file, off, len, "executable") {
                Some(data) if checksum(data) != sum => {
                    r.refuse(ModuleError::Checksum("executable"));
                    &[]
                }
                data => data.unwrap_or_default(),
            };
            ExecutableDef {
                target,
                format,
                data: data.to_vec(),
            }
        });
        let mut constants = Vec::new();
        for c in 0..r.len(21) {
            let element_type = r.element_type();
            let shape = r.u64s();
            let (offset, length) = (r.u64(), r.u64());
            if read_range(&mut r, file, offset, length, "constant").is_none() {
                break;
            }
            let count = shape
                .iter()
                .try_fold(element_type.byte_size() as u64, |a, &d| a.checked_mul(d));
            if count != Some(length) || offset % DATA_ALIGNMENT as u64 != 0 {
                r.invalid(kiln_types::message!(
                    "constant {c} has a bad size or alignment"
                ));
                break;
            }
            constants.push(ConstantDef {
                element_type,
                shape,
                offset,
                length,
            });
        }
        if !r.is_empty() {
            r.invalid("trailing bytes after the constant table".into());
        }
        r.check()?;
        let module = Module {
            compiler_version,
            name,
            functions,
            executables,
            constants,
        };
        // Names sorted, so that a twice-defined one sits next to itself (a set would link a
        // tree map's code into every firmware).
        let mut names: Vec<&str> = module.functions.iter().map(|f| f.name.as_str()).collect();
        kiln_types::sort::sort_heap(&mut names);
        if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ModuleError::Invalid(kiln_types::message!(
                "function '{}' is defined twice",
                twice[0]
            )));
        }
        for f in &module.functions {
            #[cfg(feature = "control")]
            if let Some(c) = &f.control {
                control::verify(&module, f, c).map_err(|m| {
                    ModuleError::Invalid(kiln_types::message!("function '{}': {m}", f.name))
                })?;
                continue;
            }
            if f.programs.is_empty() {
                return Err(ModuleError::Invalid(kiln_types::message!(
                    "function '{}' has no host program",
                    f.name
                )));
            }
            for p in &f.programs {
                p.verify(&module, f).map_err(|m| {
                    ModuleError::Invalid(kiln_types::message!("function '{}': {m}", f.name))
                })?;
            }
        }
        Ok(module)
    }
}

/// One entry of the function table.
fn read_function(r: &mut ByteReader) -> FunctionDef {
    let name = r.str();
    let [inputs, outputs] = [(); 2].map(|()| r.list(9, read_signature));
    let programs = r.list(12, HostProgram::decode);
    let checks = r.list(12, |r| SizeCheck {
        a: r.expr(),
        b: r.expr(),
        at_most: r.u8() != 0,
        op: r.str(),
    });
    let internal = r.u8() != 0;
    let control = match r.u8() {
        0 => None,
        #[cfg(feature = "control")]
        _ => Some(control::decode(r)),
        #[cfg(not(feature = "control"))]
        _ => {
            r.refuse(ModuleError::NotBuilt {
                what: kiln_types::message!("run-time control flow (function '{name}')"),
                feature: "control",
            });
            None
        }
    };
    FunctionDef {
        name,
        inputs,
        outputs,
        programs,
        checks,
        control,
        internal,
    }
}

/// One input's or result's signature.
fn read_signature(r: &mut ByteReader) -> TensorSig {
    let name = r.str();
    let element_type = r.element_type();
    let any_rank = r.peek_u32() == Some(u32::MAX);
    let rank = if any_rank {
        r.u32();
        0
    } else {
        r.len(4)
    };
    TensorSig {
        name,
        element_type,
        dims: r.items(rank, ByteReader::expr),
        any_rank,
    }
}

/// [`range`] of a table entry just read by `r`, once every read so far has held; `None`,
/// with `r` refusing, otherwise.
fn read_range<'a>(
    r: &mut ByteReader,
    file: &'a [u8],
    offset: u64,
    len: u64,
    what: &'static str,
) -> Option<&'a [u8]> {
    match r.check().and_then(|()| range(file, offset, len, what)) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            r.refuse(e);
            None
        }
    }
}

fn range<'a>(
    file: &'a [u8],
    offset: u64,
    len: u64,
    what: &'static str,
) -> Result<&'a [u8], ModuleError> {
    let start = usize::try_from(offset)
        .ok()
        .filter(|&o| o >= HEADER_SIZE.min(file.len()));
    let end = start
        .and_then(|s| s.checked_add(usize::try_from(len).ok()?))
        .filter(|&e| e <= file.len());
    match (start, end) {
        (Some(s), Some(e)) => Ok(&file[s..e]),
        _ => Err(ModuleError::Invalid(kiln_types::message!(
            "{what} range {offset}+{len} lies outside the file ({} bytes)",
            file.len()
        ))),
    }
}
