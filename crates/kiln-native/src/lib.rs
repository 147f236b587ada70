//! Native CPU executables, as the `llvm-cpu` target writes them: one relocatable ELF object
//! holding a function per kernel, plus what the runtime needs to run it safely.
//!
//! - [`Executable`] is the container (`embedded-elf-<arch>` formats, IREE's names). Besides the
//!   object it carries the target triple, the CPU features the code was compiled for, and each
//!   kernel's description in the VMVX format: the runtime checks every dispatch's bindings
//!   against those views exactly as it does for VMVX, so native code only ever sees bindings
//!   that hold what it reads and writes.
//! - [`loader`] links the object into executable memory in-process (no file is written, no
//!   `dlopen`): sections are laid out, symbols resolved against the runtime's imports (the C
//!   and conversion helpers of [`imports`], plus what the HAL adds: the local HAL's
//!   `kiln_vmvx_workgroup`), relocations applied, then the pages are made read+execute.
//! - Kernel ABI: `i32 kernel(const DispatchContext* ctx, uint8_t* const* bindings, uint64_t
//!   workgroup, const int64_t* sizes)`, returning 0 or an error code; `ctx` is opaque to the
//!   code and only passed to imports. `sizes` matters only to kernels whose sizes are known at
//!   run time (their descriptions are symbolic): the values of the kernel's symbols, then a
//!   generic kernel's workgroup tile per parallel dim, as the runtime bound them for the
//!   dispatch. Kernels with static sizes never read it (objects written before it existed
//!   take three arguments, which the C calling conventions make compatible).
//! - An executable may bring its own GEMM register tile ([`NativeTile`], generated as LLVM IR
//!   for its CPU: `void tile(i64 kc, const float* a, const float* b, float* acc)`, as
//!   `kiln_ukernel::gemm::TileFn` specifies); the runtime's GEMM drivers then call it.
//!
//! A native executable is machine code: running a module built for `llvm-cpu` runs its code
//! with the process's privileges. The checks here catch corruption and mismatch (truncated or
//! malformed objects, another architecture, missing CPU features, bindings too small for the
//! kernel's views), not malice: load such modules only from sources you trust, as with any
//! shared library.
//!
//! This crate belongs to the runtime side: it never depends on the compiler.

pub mod imports;
pub mod loader;

use kiln_module::{ByteReader, ByteWriter, ModuleError};

/// Version 3 added [`Executable::library`] (version 2 containers still decode, without one).
const VERSION: u32 = 3;

/// The C ABI version of [`StaticLibrary`] this runtime reads.
pub const STATIC_LIBRARY_ABI_VERSION: u32 = 1;

/// The executable format for objects of `arch` (an LLVM triple's architecture).
pub fn format_for_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "embedded-elf-x86_64",
        "aarch64" => "embedded-elf-arm_64",
        "riscv64" => "embedded-elf-riscv_64",
        _ => return None,
    })
}

/// The executable format of static libraries for `arch`: the kernels are linked into the program
/// (IREE's `--iree-llvmcpu-link-embedded=false`), which registers them by name.
pub fn static_format_for_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "static-library-x86_64",
        "aarch64" => "static-library-arm_64",
        "riscv64" => "static-library-riscv_64",
        _ => return None,
    })
}

/// The static library format of this machine, if any.
pub fn host_static_format() -> Option<&'static str> {
    static_format_for_arch(std::env::consts::ARCH)
}

/// What a static library's `NAME_library_query()` returns (the C ABI the compiler's object
/// defines; `NAME.h` beside it declares the function).
#[repr(C)]
pub struct StaticLibrary {
    /// [`STATIC_LIBRARY_ABI_VERSION`] when the object was compiled.
    pub abi_version: u32,
    pub kernel_count: u32,
    /// [`kernels_checksum`] of the kernels compiled into it: a module's executable runs only
    /// on the library compiled with it.
    pub checksum: u64,
    /// The library's name, NUL-terminated.
    pub name: *const core::ffi::c_char,
    /// `kernel_count` entry points with the kernel ABI above, entry `i` being kernel `i`.
    pub kernels: *const Option<KernelFn>,
    /// The library's GEMM register tile ([`NativeTile`]), or null.
    pub tile: Option<unsafe extern "C" fn(usize, *const f32, *const f32, *mut f32)>,
}

/// What identifies a static library's kernels: a checksum of their encoded descriptions and
/// of the GEMM tile they were packed for.
pub fn kernels_checksum(kernels: &[u8], tile: Option<&NativeTile>) -> u64 {
    let mut bytes = kernels.to_vec();
    if let Some(t) = tile {
        bytes.extend(t.mr.to_le_bytes());
        bytes.extend(t.nr.to_le_bytes());
    }
    kiln_module::checksum(&bytes)
}

/// The kernel ABI (see the crate docs): context, bindings, workgroup, sizes; 0 or an error code.
pub type KernelFn =
    unsafe extern "C" fn(*const core::ffi::c_void, *const *mut u8, u64, *const i64) -> i32;

/// The query function a static library exports.
pub type StaticLibraryQuery = unsafe extern "C" fn() -> *const StaticLibrary;

/// The format this machine runs natively, if any.
pub fn host_format() -> Option<&'static str> {
    format_for_arch(std::env::consts::ARCH)
}

/// Why a native executable was refused or could not be linked.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NativeError {
    /// The container does not decode (truncated, foreign version, bad markers).
    #[error(transparent)]
    Container(#[from] ModuleError),
    /// The ELF object cannot be linked in memory (the reason names the section, symbol or
    /// relocation).
    #[error("cannot link the object: {0}")]
    Link(String),
}

/// A native executable.
#[derive(Clone, Debug, PartialEq)]
pub struct Executable {
    /// The LLVM target triple the object was compiled for.
    pub triple: String,
    /// The CPU name given to LLVM (`znver4`, `generic`, …).
    pub cpu: String,
    /// CPU features the code may use (LLVM spelling without `+`); a CPU lacking one is refused.
    pub features: Vec<String>,
    /// The kernels' descriptions, entry point `i` being kernel `i`: an encoded VMVX executable,
    /// which the local HAL decodes and checks when it loads this one (symbolic when the
    /// kernels' sizes are known only at run time; the HAL then binds each dispatch's).
    pub kernels: Vec<u8>,
    /// The object's symbol for each kernel.
    pub symbols: Vec<String>,
    /// The GEMM register tile the object defines, if it brings one.
    pub tile: Option<NativeTile>,
    /// The relocatable ELF object; empty for a static library, whose code the program links.
    pub object: Vec<u8>,
    /// A static library's name (its `NAME_library_query`), empty for an embedded object.
    pub library: String,
}

/// A GEMM register tile in an executable's object: `mr`×`nr`, at `symbol`, with the C ABI of
/// `kiln_ukernel::gemm::TileFn`. Packed operands of the executable use its layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeTile {
    pub mr: u32,
    pub nr: u32,
    pub symbol: String,
}

impl Executable {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter::default();
        w.u32(VERSION);
        w.str(&self.triple);
        w.str(&self.cpu);
        w.u32(self.features.len() as u32);
        self.features.iter().for_each(|f| w.str(f));
        w.blob(&self.kernels);
        w.u32(self.symbols.len() as u32);
        self.symbols.iter().for_each(|s| w.str(s));
        match &self.tile {
            None => w.u8(0),
            Some(t) => {
                w.u8(1);
                w.u32(t.mr);
                w.u32(t.nr);
                w.str(&t.symbol);
            }
        }
        w.blob(&self.object);
        w.str(&self.library);
        w.bytes
    }

    /// Decodes the container; errors say what is wrong. The kernel descriptions stay encoded
    /// (the HAL that runs them decodes and checks them).
    pub fn decode(bytes: &[u8]) -> Result<Executable, NativeError> {
        let mut r = ByteReader::new(bytes, "native executable");
        let version = r.u32();
        if version != VERSION && version != 2 {
            r.invalid(format!(
                "native executable version {version}, expected 2 or {VERSION}"
            ));
        }
        let triple = r.str();
        let cpu = r.str();
        let features = r.list(4, ByteReader::str);
        let kernels = r.blob();
        let symbols = r.list(4, ByteReader::str);
        let tile = match r.u8() {
            0 => None,
            1 => Some(NativeTile {
                mr: r.u32(),
                nr: r.u32(),
                symbol: r.str(),
            }),
            other => {
                r.invalid(format!("tile marker {other}, expected 0 or 1"));
                None
            }
        };
        let object = r.blob();
        let library = if version >= 3 { r.str() } else { String::new() };
        if !r.is_empty() {
            r.invalid("trailing bytes after the object".into());
        }
        let exe = Executable {
            triple,
            cpu,
            features,
            kernels,
            symbols,
            tile,
            object,
            library,
        };
        Ok(r.finish(exe)?)
    }

    /// The features in [`Executable::features`] this CPU lacks.
    pub fn missing_features(&self) -> Vec<String> {
        self.features
            .iter()
            .filter(|f| !cpu_has(f))
            .cloned()
            .collect()
    }
}

/// x86 features the compiler records and the runtime can check, in LLVM's spelling.
pub const X86_CHECKED_FEATURES: &[&str] = &[
    "sse3",
    "ssse3",
    "sse4.1",
    "sse4.2",
    "popcnt",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi",
    "bmi2",
    "lzcnt",
    "movbe",
    "avx512f",
    "avx512bw",
    "avx512dq",
    "avx512vl",
    "avx512cd",
    "avx512vnni",
    "avx512bf16",
    "avx512vbmi",
    "avx512ifma",
    "avx512vpopcntdq",
    "avx512vbmi2",
    "avx512bitalg",
    "avx512fp16",
    "avx512vp2intersect",
    "avxvnni",
    "gfni",
    "vaes",
    "vpclmulqdq",
    "aes",
    "pclmulqdq",
    "sha",
    "adx",
    "cx16",
    "xsave",
];

/// Whether this CPU has feature `f` (LLVM spelling). Unknown names are reported missing.
pub fn cpu_has(f: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        match f {
            "sse3" => has!("sse3"),
            "ssse3" => has!("ssse3"),
            "sse4.1" => has!("sse4.1"),
            "sse4.2" => has!("sse4.2"),
            "popcnt" => has!("popcnt"),
            "avx" => has!("avx"),
            "avx2" => has!("avx2"),
            "fma" => has!("fma"),
            "f16c" => has!("f16c"),
            "bmi" => has!("bmi1"),
            "bmi2" => has!("bmi2"),
            "lzcnt" => has!("lzcnt"),
            "movbe" => has!("movbe"),
            "avx512f" => has!("avx512f"),
            "avx512bw" => has!("avx512bw"),
            "avx512dq" => has!("avx512dq"),
            "avx512vl" => has!("avx512vl"),
            "avx512cd" => has!("avx512cd"),
            "avx512vnni" => has!("avx512vnni"),
            "avx512bf16" => has!("avx512bf16"),
            "avx512vbmi" => has!("avx512vbmi"),
            "avx512ifma" => has!("avx512ifma"),
            "avx512vpopcntdq" => has!("avx512vpopcntdq"),
            "avx512vbmi2" => has!("avx512vbmi2"),
            "avx512bitalg" => has!("avx512bitalg"),
            "avx512fp16" => has!("avx512fp16"),
            "avx512vp2intersect" => has!("avx512vp2intersect"),
            "avxvnni" => has!("avxvnni"),
            "gfni" => has!("gfni"),
            "vaes" => has!("vaes"),
            "vpclmulqdq" => has!("vpclmulqdq"),
            "aes" => has!("aes"),
            "pclmulqdq" => has!("pclmulqdq"),
            "sha" => has!("sha"),
            "adx" => has!("adx"),
            "cx16" => has!("cmpxchg16b"),
            "xsave" => has!("xsave"),
            _ => false,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = f;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_truncation() {
        let e = Executable {
            triple: "x86_64-unknown-linux-gnu".into(),
            cpu: "generic".into(),
            features: vec!["avx2".into()],
            kernels: vec![4, 5],
            symbols: vec![],
            tile: Some(NativeTile {
                mr: 8,
                nr: 8,
                symbol: "tile".into(),
            }),
            object: vec![1, 2, 3],
            library: "mlp".into(),
        };
        let bytes = e.encode();
        assert_eq!(Executable::decode(&bytes).unwrap(), e);
        for cut in 0..bytes.len() {
            assert!(Executable::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn unknown_features_are_missing() {
        assert!(!cpu_has("no-such-feature"));
    }
}
