//! The `vulkan-spirv-fb` executable format: one SPIR-V compute shader per entry point, with what
//! a driver needs to build its pipeline.
//!
//! The compiler side (`kiln-codegen-spirv`) writes it; the Vulkan driver reads it with
//! [`Executable::decode`], which checks the container's fields; the driver checks them against
//! the device, and every dispatch's bindings against [`EntryPoint::binding_extents`]. The
//! SPIR-V words themselves are trusted to match this metadata once the magic number checks
//! out (the compiler's tests run `spirv-val` on every shader it writes), as a driver trusts
//! any shader it is handed: a `.kiln` file is code, to be loaded only from trusted sources.
//!
//! The calling convention every shader follows:
//!
//! - Descriptor set 0, binding `i` is the dispatch's binding `i`, a storage buffer accessed as
//!   an array of [`EntryPoint::bindings`]`[i]` elements.
//! - A push-constant block of one `u32` per binding: the element index at which that binding's
//!   data starts inside the bound range. Drivers bind each range at an offset rounded down to
//!   the device's alignment and pass the remainder here, so any element-aligned offset works.
//!   Then one `i32` per symbol of [`EntryPoint::symbols`]: the sizes a shader compiled for
//!   sizes known only at run time computes its extents from, as the dispatch passes them.
//!   The entry point's binding extents and workgroup count are expressions over the same
//!   symbols ([`EntryPoint::bind`]).
//! - Entry points with [`EntryPoint::reports_errors`] also read binding `bindings.len()`: a
//!   storage buffer of one `u32` the shader sets to a nonzero [`ErrorCode`] when its input is
//!   invalid (a gather index out of range); the driver zeroes it before and checks it after.
//! - Workgroups are numbered linearly as `x + y·count_x + z·count_x·count_y`; shaders ignore
//!   those past their own count, so drivers may fold a long grid into several dimensions.
//!
//! This crate belongs to the runtime side: it never depends on the compiler.

use kiln_module::{ByteReader, ByteWriter};
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;

/// The format string module files use for Vulkan SPIR-V executables (IREE's name).
pub const FORMAT: &str = "vulkan-spirv-fb";
const VERSION: u32 = 2;
/// The most bindings one entry point may have (push constants hold one word per binding, and
/// 128 bytes of push constants is all Vulkan guarantees).
pub const MAX_BINDINGS: usize = 31;
/// The most push-constant words (bindings and symbols together) an entry point may read.
pub const MAX_PUSH_WORDS: usize = 32;
const SPIRV_MAGIC: u32 = 0x0723_0203;

/// Optional device features an entry point needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// 64-bit integers (`shaderInt64`).
    pub int64: bool,
    /// 16-bit values in storage buffers (`storageBuffer16BitAccess`).
    pub storage16: bool,
    /// 8-bit values in storage buffers (`storageBuffer8BitAccess`).
    pub storage8: bool,
    /// 64-bit floats (`shaderFloat64`), for f64 tensors (which compute in f32).
    pub float64: bool,
}

impl Features {
    fn bits(self) -> u8 {
        self.int64 as u8
            | (self.storage16 as u8) << 1
            | (self.storage8 as u8) << 2
            | (self.float64 as u8) << 3
    }
    /// The features a byte holds, refused by `r` if it holds unknown bits.
    fn read(r: &mut ByteReader) -> Features {
        let b = r.u8();
        if b > 15 {
            r.invalid(format!("unknown feature bits {b:#x}"));
        }
        Features {
            int64: b & 1 != 0,
            storage16: b & 2 != 0,
            storage8: b & 4 != 0,
            float64: b & 8 != 0,
        }
    }
    /// Names of the features in `self` that `available` lacks, as Vulkan spells them.
    pub fn missing_from(self, available: Features) -> Vec<&'static str> {
        let mut out = vec![];
        if self.int64 && !available.int64 {
            out.push("shaderInt64");
        }
        if self.storage16 && !available.storage16 {
            out.push("storageBuffer16BitAccess");
        }
        if self.storage8 && !available.storage8 {
            out.push("storageBuffer8BitAccess");
        }
        if self.float64 && !available.float64 {
            out.push("shaderFloat64");
        }
        out
    }
}

/// Why a shader flagged its dispatch as failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ErrorCode {
    GatherIndexOutOfRange = 1,
}

impl ErrorCode {
    /// The message for a status word a shader wrote, if it is an error.
    pub fn describe(word: u32) -> Option<String> {
        match word {
            0 => None,
            1 => Some("a gather index is out of range".into()),
            other => Some(format!("the shader reported error code {other}")),
        }
    }
}

/// One compute shader.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryPoint {
    /// The SPIR-V entry point name (also the kernel's name).
    pub name: String,
    /// The SPIR-V module, in words.
    pub code: Vec<u32>,
    pub workgroup_size: [u32; 3],
    /// Element type through which each binding is accessed.
    pub bindings: Vec<ElementType>,
    /// The symbols the shader's sizes are expressions over, in push-constant order (empty
    /// for a shader compiled for static sizes).
    pub symbols: Vec<String>,
    /// Bytes the shader may touch from the start of each binding, over [`Self::symbols`]; a
    /// dispatch whose binding is shorter is refused.
    pub binding_extents: Vec<SymExpr>,
    /// Workgroups a dispatch needs (linear, see [`grid`]), over [`Self::symbols`].
    pub workgroups: SymExpr,
    pub features: Features,
    /// Bytes of workgroup shared memory the shader declares.
    pub shared_memory: u32,
    /// Whether the shader writes an error status word (see the crate docs).
    pub reports_errors: bool,
}

/// What one dispatch of an entry point needs, its symbols bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundEntry {
    /// Bytes the shader may touch from the start of each binding.
    pub binding_extents: Vec<u64>,
    /// The workgroup grid.
    pub grid: [u32; 3],
}

/// Largest element index a shader computes: index arithmetic is 32-bit.
pub const MAX_ELEMENTS: u64 = i32::MAX as u64;

/// Folds a linear workgroup count into a grid within Vulkan's guaranteed 65535 per dimension
/// (shaders linearise the grid and skip the excess). Counts stay below 2^31 - 2^16, so the
/// linear index of every workgroup, excess included, fits an i32; `None` past that.
pub fn grid(count: u64) -> Option<[u32; 3]> {
    const MAX: u64 = 65535;
    if count > (i32::MAX as u64) - (1 << 16) {
        return None;
    }
    Some(if count <= MAX {
        [count as u32, 1, 1]
    } else {
        [MAX as u32, count.div_ceil(MAX) as u32, 1]
    })
}

/// An executable: its entry points in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Executable {
    pub entry_points: Vec<EntryPoint>,
}

impl Executable {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter::default();
        w.u32(VERSION);
        w.u32(self.entry_points.len() as u32);
        for e in &self.entry_points {
            w.str(&e.name);
            e.workgroup_size.iter().for_each(|&v| w.u32(v));
            w.u32(e.bindings.len() as u32);
            for &t in &e.bindings {
                w.u8(t.code());
            }
            w.u32(e.symbols.len() as u32);
            e.symbols.iter().for_each(|n| w.str(n));
            e.binding_extents.iter().for_each(|x| w.size(x));
            w.size(&e.workgroups);
            w.u8(e.features.bits());
            w.u32(e.shared_memory);
            w.u8(e.reports_errors as u8);
            w.u32(e.code.len() as u32);
            e.code.iter().for_each(|&v| w.u32(v));
        }
        w.bytes
    }

    /// Decodes and checks an executable; errors say what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Executable, String> {
        let mut r = ByteReader::new(bytes, "vulkan-spirv executable");
        let exe = decode_inner(&mut r);
        let exe = r.finish(exe).map_err(|e| e.to_string())?;
        for e in &exe.entry_points {
            e.check()
                .map_err(|m| format!("entry point '{}': {m}", e.name))?;
        }
        Ok(exe)
    }
}

fn decode_inner(r: &mut ByteReader) -> Executable {
    let version = r.u32();
    if version != VERSION {
        r.invalid(format!(
            "vulkan-spirv executable version {version}, expected {VERSION}"
        ));
    }
    let entry_points = r.list(16, |r| {
        let name = r.str();
        let workgroup_size = [r.u32(), r.u32(), r.u32()];
        let nb = r.len(1);
        let bindings = r.items(nb, ByteReader::element_type);
        let symbols = r.list(4, ByteReader::str);
        let binding_extents = r.items(nb, ByteReader::size);
        let workgroups = r.size();
        let features = Features::read(r);
        let shared_memory = r.u32();
        let reports_errors = match r.u8() {
            0 => false,
            1 => true,
            b => {
                r.invalid(format!("bad flag byte {b}"));
                false
            }
        };
        EntryPoint {
            name,
            code: r.list(4, ByteReader::u32),
            workgroup_size,
            bindings,
            symbols,
            binding_extents,
            workgroups,
            features,
            shared_memory,
            reports_errors,
        }
    });
    if !r.is_empty() {
        r.invalid("trailing bytes after the last entry point".into());
    }
    Executable { entry_points }
}

impl EntryPoint {
    /// Structural checks; the driver checks device limits.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.contains('\0') {
            return Err("the entry point name is empty or contains NUL".into());
        }
        if self.code.len() < 5 || self.code[0] != SPIRV_MAGIC {
            return Err("the code is not a SPIR-V module (bad magic number)".into());
        }
        if self.workgroup_size.contains(&0) {
            return Err("a workgroup size is zero".into());
        }
        if self.bindings.len() > MAX_BINDINGS {
            return Err(format!(
                "{} bindings (at most {MAX_BINDINGS})",
                self.bindings.len()
            ));
        }
        if self.bindings.len() + self.symbols.len() > MAX_PUSH_WORDS {
            return Err(format!(
                "{} bindings and {} symbols (at most {MAX_PUSH_WORDS} together)",
                self.bindings.len(),
                self.symbols.len()
            ));
        }
        let sizes = self.binding_extents.iter().chain([&self.workgroups]);
        if let Some(s) = sizes
            .flat_map(SymExpr::symbols)
            .find(|s| !self.symbols.contains(s))
        {
            return Err(format!(
                "a size reads '{s}', which is not among its symbols"
            ));
        }
        Ok(())
    }

    /// Bytes of push constants the shader reads.
    pub fn push_constant_bytes(&self) -> u32 {
        4 * (self.bindings.len() + self.symbols.len()) as u32
    }

    /// The binding extents and grid of a dispatch passing `params` (one value per symbol):
    /// an error names a symbol whose value does not fit the shader's 32-bit index arithmetic,
    /// or a size that does.
    pub fn bind(&self, params: &[i64]) -> Result<BoundEntry, String> {
        if params.len() != self.symbols.len() {
            return Err(format!(
                "the shader reads {} sizes ({}) but the dispatch passes {}",
                self.symbols.len(),
                self.symbols.join(", "),
                params.len()
            ));
        }
        for (name, &v) in self.symbols.iter().zip(params) {
            if !(0..=MAX_ELEMENTS as i64).contains(&v) {
                return Err(format!(
                    "size {name} = {v} does not fit the shader's 32-bit index arithmetic"
                ));
            }
        }
        let lookup = |s: &str| self.symbols.iter().position(|n| n == s).map(|i| params[i]);
        let eval = |e: &SymExpr| e.eval(&lookup).ok_or_else(|| format!("size {e} overflows"));
        let mut binding_extents = Vec::with_capacity(self.bindings.len());
        for (e, t) in self.binding_extents.iter().zip(&self.bindings) {
            // A view of no elements may end below its start: it needs no bytes.
            let bytes = eval(e)?.max(0) as u64;
            if bytes / t.byte_size() as u64 > MAX_ELEMENTS {
                return Err(format!(
                    "a binding of {bytes} bytes exceeds the 2^31 elements 32-bit index arithmetic reaches"
                ));
            }
            binding_extents.push(bytes);
        }
        let count = u64::try_from(eval(&self.workgroups)?)
            .map_err(|_| format!("workgroup count {} is negative", self.workgroups))?;
        if count.saturating_mul(self.invocations()) > MAX_ELEMENTS {
            return Err(format!(
                "{count} workgroups of {} invocations exceed the 2^31 that 32-bit index arithmetic reaches",
                self.invocations()
            ));
        }
        let grid =
            grid(count).ok_or_else(|| format!("{count} workgroups do not fit a dispatch"))?;
        Ok(BoundEntry {
            binding_extents,
            grid,
        })
    }

    /// Invocations per workgroup.
    pub fn invocations(&self) -> u64 {
        self.workgroup_size.iter().map(|&v| v as u64).product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Executable {
        Executable {
            entry_points: vec![EntryPoint {
                name: "dispatch_0".into(),
                code: vec![SPIRV_MAGIC, 0x0001_0300, 0, 8, 0],
                workgroup_size: [64, 1, 1],
                bindings: vec![ElementType::F32, ElementType::I64],
                symbols: vec!["n".into()],
                binding_extents: vec![SymExpr::parse("4*n").unwrap(), SymExpr::from(8)],
                workgroups: SymExpr::parse("(n+63)/64").unwrap(),
                features: Features {
                    int64: true,
                    ..Default::default()
                },
                shared_memory: 256,
                reports_errors: true,
            }],
        }
    }

    #[test]
    fn round_trips() {
        let e = sample();
        assert_eq!(Executable::decode(&e.encode()).unwrap(), e);
    }

    #[test]
    fn corrupt_bytes_are_errors() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Executable::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = sample();
        bad.entry_points[0].code[0] = 0;
        let err = Executable::decode(&bad.encode()).unwrap_err();
        assert!(err.contains("magic"), "{err}");
        let mut long = bytes.clone();
        long.push(0);
        assert!(Executable::decode(&long).unwrap_err().contains("trailing"));
    }

    #[test]
    fn sizes_bind_per_dispatch() {
        let e = &sample().entry_points[0];
        let b = e.bind(&[100]).unwrap();
        assert_eq!(b.binding_extents, vec![400, 8]);
        assert_eq!(b.grid, [2, 1, 1]);
        assert!(e.bind(&[]).unwrap_err().contains("reads 1 sizes (n)"));
        assert!(e.bind(&[1 << 40]).unwrap_err().contains("32-bit"));
        assert_eq!(grid(70000), Some([65535, 2, 1]));
        assert_eq!(grid(1 << 31), None);
    }

    #[test]
    fn missing_features_are_named() {
        let need = Features {
            int64: true,
            storage8: true,
            storage16: false,
            float64: false,
        };
        assert_eq!(
            need.missing_from(Features::default()),
            vec!["shaderInt64", "storageBuffer8BitAccess"]
        );
    }
}
