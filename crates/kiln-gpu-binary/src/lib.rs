//! The `cuda-nvptx-fb`, `rocm-hsaco-fb`, `metal-msl-fb` and `webgpu-wgsl-fb` executable
//! formats (IREE's names): the GPU code — one object holding every kernel (PTX text for CUDA,
//! an HSACO shared object for ROCm) or one Metal Shading Language or WGSL source per kernel —
//! with each kernel's launch record.
//!
//! The compiler side (`kiln-codegen-llvm`'s GPU path) writes it; a driver reads it with
//! [`Executable::decode`], which checks the container and every record, loads [`Executable::code`]
//! as one module (`cuModuleLoadData`, `hipModuleLoadData`) and looks each kernel up by name.
//!
//! The calling convention every kernel follows:
//!
//! - Parameters: one global pointer per binding, at the first element the dispatch binds
//!   (accessed as [`Kernel::bindings`]`[i]` elements); then, for a kernel that
//!   [reports errors](Kernel::reports_errors), a pointer to one `u32` it sets to a nonzero
//!   [`ErrorCode`] on invalid input (the driver zeroes it before and checks it after); then one
//!   `i32` per symbol of [`Kernel::symbols`], the sizes a kernel compiled for sizes known only
//!   at run time computes its extents from.
//! - A one-dimensional grid of [`Kernel::workgroups`] blocks of [`Kernel::workgroup_size`]
//!   threads; kernels index with 32-bit arithmetic, so a dispatch's threads stay below 2^31.
//! - [`Kernel::shared_memory`] bytes of static shared memory (declared in the code).
//!
//! Metal kernels (MSL naga wrote from SPIR-V shaders) keep the Vulkan convention instead:
//! `[[buffer(i)]]` is binding `i` (accessed from the element bias the parameter
//! block gives), `[[buffer(n)]]` for `n` bindings holds that block (one `u32` bias per
//! binding, then one `i32` per symbol), `[[buffer(n + 1)]]` the status word of a kernel
//! that reports errors, and `[[buffer(n + 2)]]` the bound byte length of each binding (one
//! `u32` each, in binding order, then the status word's for a kernel that reports errors).
//!
//! WebGPU kernels (`webgpu-wgsl-fb`, WGSL per kernel) keep it too, as bind group 0: binding
//! `i` for binding `i`, binding `n` for the status word of a kernel that reports errors,
//! and after those a uniform buffer holding the parameter block, its `u32` words four to a
//! `vec4<u32>`.
//!
//! Both read and write 8- and 16-bit elements a 32-bit word at a time (neither has narrow
//! storage to rely on): a driver binds each range from a word-aligned offset, the remainder
//! as the element bias, and covers whole words; buffers are allocated in whole words.
//!
//! This crate belongs to the runtime side: it never depends on the compiler.

use kiln_module::{ByteReader, ByteWriter};
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;

/// The format string of CUDA executables: PTX.
pub const CUDA_FORMAT: &str = "cuda-nvptx-fb";
/// The format string of ROCm executables: HSACO.
pub const ROCM_FORMAT: &str = "rocm-hsaco-fb";
/// The format string of Metal executables: MSL source per kernel.
pub const METAL_FORMAT: &str = "metal-msl-fb";
/// The format string of WebGPU executables: WGSL source per kernel.
pub const WEBGPU_FORMAT: &str = "webgpu-wgsl-fb";
const VERSION: u32 = 2;

/// Why a kernel flagged its dispatch as failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ErrorCode {
    GatherIndexOutOfRange = 1,
}

/// What [`Executable::code`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeKind {
    /// PTX assembly text, which the CUDA driver compiles for the GPU it runs on.
    Ptx,
    /// An AMDGPU code object (an ELF shared object) for one GPU architecture.
    Hsaco,
    /// Metal Shading Language source, one translation unit per kernel ([`Kernel::code`]).
    Msl,
    /// WGSL source, one shader module per kernel ([`Kernel::code`]).
    Wgsl,
}

impl CodeKind {
    /// The module format string of executables holding this code.
    pub fn format(self) -> &'static str {
        match self {
            CodeKind::Ptx => CUDA_FORMAT,
            CodeKind::Hsaco => ROCM_FORMAT,
            CodeKind::Msl => METAL_FORMAT,
            CodeKind::Wgsl => WEBGPU_FORMAT,
        }
    }
    /// The file suffix a user inspects the code under.
    pub fn suffix(self) -> &'static str {
        match self {
            CodeKind::Ptx => ".ptx",
            CodeKind::Hsaco => ".hsaco",
            CodeKind::Msl => ".metal",
            CodeKind::Wgsl => ".wgsl",
        }
    }
}

/// One kernel's launch record.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// The kernel's symbol in the code.
    pub name: String,
    /// Threads per block (one-dimensional).
    pub workgroup_size: u32,
    /// Element type through which each binding is accessed.
    pub bindings: Vec<ElementType>,
    /// The symbols the kernel's sizes are expressions over, in parameter order (empty for a
    /// kernel compiled for static sizes).
    pub symbols: Vec<String>,
    /// Bytes the kernel may touch from the start of each binding, over [`Self::symbols`]; a
    /// dispatch whose binding is shorter is refused.
    pub binding_extents: Vec<SymExpr>,
    /// Blocks a dispatch needs, over [`Self::symbols`].
    pub workgroups: SymExpr,
    /// Bytes of static shared memory the kernel declares.
    pub shared_memory: u32,
    /// Whether the kernel takes an error status word (see the crate docs).
    pub reports_errors: bool,
    /// The kernel's own code, for kinds that hold one per kernel ([`CodeKind::Msl`],
    /// [`CodeKind::Wgsl`]); empty
    /// otherwise.
    pub code: Vec<u8>,
}

/// An executable: the code object and its kernels in entry-point order.
#[derive(Clone, Debug, PartialEq)]
pub struct Executable {
    pub kind: CodeKind,
    /// The GPU architecture the code was compiled for (`sm_80`, `gfx942`, `apple`).
    pub target: String,
    /// The code object of every kernel (empty for [`CodeKind::Msl`] and [`CodeKind::Wgsl`]).
    pub code: Vec<u8>,
    pub kernels: Vec<Kernel>,
}

impl Executable {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter::default();
        w.u32(VERSION);
        w.u8(match self.kind {
            CodeKind::Ptx => 0,
            CodeKind::Hsaco => 1,
            CodeKind::Msl => 2,
            CodeKind::Wgsl => 3,
        });
        w.str(&self.target);
        w.u32(self.kernels.len() as u32);
        for k in &self.kernels {
            w.str(&k.name);
            w.u32(k.workgroup_size);
            w.u32(k.bindings.len() as u32);
            k.bindings.iter().for_each(|t| w.u8(t.code()));
            w.u32(k.symbols.len() as u32);
            k.symbols.iter().for_each(|n| w.str(n));
            k.binding_extents.iter().for_each(|x| w.size(x));
            w.size(&k.workgroups);
            w.u32(k.shared_memory);
            w.u8(k.reports_errors as u8);
            w.blob(&k.code);
        }
        w.blob(&self.code);
        w.bytes
    }

    /// Decodes and checks an executable; errors say what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Executable, String> {
        let mut r = ByteReader::new(bytes, "GPU executable");
        let exe = decode_inner(&mut r);
        let exe = r.finish(exe).map_err(|e| e.to_string())?;
        exe.check()?;
        Ok(exe)
    }

    /// Structural checks of the code and every kernel record; the driver checks device limits.
    pub fn check(&self) -> Result<(), String> {
        match self.kind {
            CodeKind::Ptx => {
                let text = std::str::from_utf8(&self.code)
                    .map_err(|_| "the PTX code is not UTF-8 text".to_string())?;
                if !text.contains(".version") {
                    return Err("the code is not PTX (no .version directive)".into());
                }
            }
            CodeKind::Hsaco => {
                if !self.code.starts_with(b"\x7fELF") {
                    return Err("the code is not an HSACO ELF object (bad magic number)".into());
                }
            }
            CodeKind::Msl => {
                for k in &self.kernels {
                    let source = std::str::from_utf8(&k.code).unwrap_or("");
                    if !source.contains(&format!("kernel void {}(", k.name)) {
                        return Err(format!(
                            "kernel '{}': its code is not MSL defining that kernel",
                            k.name
                        ));
                    }
                }
            }
            CodeKind::Wgsl => {
                for k in &self.kernels {
                    let source = std::str::from_utf8(&k.code).unwrap_or("");
                    if !source.contains(&format!("fn {}(", k.name)) {
                        return Err(format!(
                            "kernel '{}': its code is not WGSL defining that entry point",
                            k.name
                        ));
                    }
                }
            }
        }
        for (i, k) in self.kernels.iter().enumerate() {
            k.check().map_err(|m| format!("kernel '{}': {m}", k.name))?;
            // PTX and HSACO hold every kernel in one namespace (MSL, WGSL: one source each).
            let shared = matches!(self.kind, CodeKind::Ptx | CodeKind::Hsaco);
            if shared && self.kernels[..i].iter().any(|other| other.name == k.name) {
                return Err(format!("two kernels are named '{}'", k.name));
            }
        }
        Ok(())
    }
}

/// The workgroups a dispatch of `kernels[entry_point]` needs for the symbol values `params`
/// (what a driver's `Executable::workgroup_count` answers).
pub fn workgroups(kernels: &[Kernel], entry_point: u32, params: &[i64]) -> Result<u32, String> {
    let kernel = kernels
        .get(entry_point as usize)
        .ok_or_else(|| format!("no entry point {entry_point}"))?;
    Ok(kernel.bind(params)?.workgroups)
}

fn decode_inner(r: &mut ByteReader) -> Executable {
    let version = r.u32();
    if version != VERSION {
        r.invalid(format!(
            "GPU executable version {version}, expected {VERSION}"
        ));
    }
    let kind = match r.u8() {
        0 => CodeKind::Ptx,
        1 => CodeKind::Hsaco,
        2 => CodeKind::Msl,
        3 => CodeKind::Wgsl,
        other => {
            r.invalid(format!("unknown GPU code kind {other}"));
            CodeKind::Ptx
        }
    };
    let target = r.str();
    let kernels = r.list(16, |r| {
        let name = r.str();
        let workgroup_size = r.u32();
        let nb = r.len(1);
        let bindings = r.items(nb, ByteReader::element_type);
        let symbols = r.list(4, ByteReader::str);
        let binding_extents = r.items(nb, ByteReader::size);
        let workgroups = r.size();
        let shared_memory = r.u32();
        let reports_errors = match r.u8() {
            0 => false,
            1 => true,
            b => {
                r.invalid(format!("bad flag byte {b}"));
                false
            }
        };
        Kernel {
            name,
            workgroup_size,
            bindings,
            symbols,
            binding_extents,
            workgroups,
            shared_memory,
            reports_errors,
            code: r.blob(),
        }
    });
    let code = r.blob();
    if !r.is_empty() {
        r.invalid("trailing bytes after the code".into());
    }
    Executable {
        kind,
        target,
        code,
        kernels,
    }
}

/// What one dispatch of a kernel needs, its symbols bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundKernel {
    /// Bytes the kernel may touch from the start of each binding.
    pub binding_extents: Vec<u64>,
    /// Blocks along x.
    pub workgroups: u32,
}

impl ErrorCode {
    /// The message for a status word a kernel wrote, if it is an error.
    pub fn describe(word: u32) -> Option<String> {
        match word {
            0 => None,
            1 => Some("a gather index is out of range".into()),
            other => Some(format!("the kernel reported error code {other}")),
        }
    }
}

impl Kernel {
    /// The binding extents and block count of a dispatch passing `params` (one value per
    /// symbol): an error names a symbol whose value does not fit the kernel's 32-bit index
    /// arithmetic, or a size that does not.
    pub fn bind(&self, params: &[i64]) -> Result<BoundKernel, String> {
        if params.len() != self.symbols.len() {
            return Err(format!(
                "the kernel reads {} sizes ({}) but the dispatch passes {}",
                self.symbols.len(),
                self.symbols.join(", "),
                params.len()
            ));
        }
        let limit = i64::from(i32::MAX);
        for (name, &v) in self.symbols.iter().zip(params) {
            if !(0..=limit).contains(&v) {
                return Err(format!(
                    "size {name} = {v} does not fit the kernel's 32-bit index arithmetic"
                ));
            }
        }
        let lookup = |s: &str| self.symbols.iter().position(|n| n == s).map(|i| params[i]);
        let eval = |e: &SymExpr| e.eval(&lookup).ok_or_else(|| format!("size {e} overflows"));
        let binding_extents = self
            .binding_extents
            .iter()
            // A view of no elements may end below its start: it needs no bytes.
            .map(|e| eval(e).map(|bytes| bytes.max(0) as u64))
            .collect::<Result<Vec<_>, _>>()?;
        let count = eval(&self.workgroups)?;
        let threads = count.saturating_mul(i64::from(self.workgroup_size));
        if !(0..=limit).contains(&threads) {
            return Err(format!(
                "{count} blocks of {} threads exceed the 2^31 that 32-bit index arithmetic reaches",
                self.workgroup_size
            ));
        }
        Ok(BoundKernel {
            binding_extents,
            workgroups: count as u32,
        })
    }

    fn check(&self) -> Result<(), String> {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if self.name.is_empty() || !self.name.chars().all(valid) {
            return Err("the kernel name must be a non-empty identifier".into());
        }
        if self.workgroup_size == 0 || self.workgroup_size > 1024 {
            return Err(format!(
                "{} threads per block (1 to 1024)",
                self.workgroup_size
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Executable {
        Executable {
            kind: CodeKind::Ptx,
            target: "sm_80".into(),
            code: b"//\n.version 7.0\n.target sm_80\n".to_vec(),
            kernels: vec![Kernel {
                name: "dispatch_0".into(),
                workgroup_size: 128,
                bindings: vec![ElementType::F32, ElementType::I64],
                symbols: vec!["n".into()],
                binding_extents: vec![SymExpr::parse("4*n").unwrap(), SymExpr::from(8)],
                workgroups: SymExpr::parse("(n+127)/128").unwrap(),
                shared_memory: 512,
                reports_errors: true,
                code: vec![],
            }],
        }
    }

    #[test]
    fn round_trips() {
        let e = sample();
        assert_eq!(Executable::decode(&e.encode()).unwrap(), e);
    }

    #[test]
    fn sizes_bind_per_dispatch() {
        let k = &sample().kernels[0];
        let b = k.bind(&[1000]).unwrap();
        assert_eq!((b.binding_extents, b.workgroups), (vec![4000, 8], 8));
        assert!(k.bind(&[]).unwrap_err().contains("reads 1 sizes (n)"));
        assert!(k.bind(&[1 << 40]).unwrap_err().contains("32-bit"));
    }

    #[test]
    fn corrupt_bytes_are_errors() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Executable::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(Executable::decode(&long).unwrap_err().contains("trailing"));
        let mut elf = sample();
        elf.kind = CodeKind::Hsaco;
        let err = Executable::decode(&elf.encode()).unwrap_err();
        assert!(err.contains("magic"), "{err}");
        let mut twice = sample();
        twice.kernels.push(twice.kernels[0].clone());
        let err = Executable::decode(&twice.encode()).unwrap_err();
        assert!(err.contains("two kernels are named 'dispatch_0'"), "{err}");
        let mut bad = sample();
        bad.kernels[0].workgroups = SymExpr::parse("m").unwrap();
        let err = Executable::decode(&bad.encode()).unwrap_err();
        assert!(err.contains("'m'"), "{err}");
    }
}
