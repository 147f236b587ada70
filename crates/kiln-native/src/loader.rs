//! An in-memory linker for the relocatable x86-64 ELF objects `llvm-cpu` writes.
//!
//! The compiler emits code with the large code model and no writable data, so linking needs
//! only: laying out the allocated sections in one anonymous mapping, resolving undefined
//! symbols against the import table, and applying `R_X86_64_64`, `PC64`, `PC32` and `PLT32`
//! relocations. Anything else (other architectures, writable sections, TLS, unknown relocation
//! types, offsets outside their section) is refused with an error naming it. When done, the
//! mapping becomes read+execute; it is never writable and executable at once.

use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionFlags,
    SectionKind, SymbolSection,
};
use std::collections::HashMap;

const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
/// Most bytes of code and constants one object may map.
const MAX_CODE_BYTES: usize = 1 << 30;
const PAGE: usize = 4096;
const SHF_TLS: u64 = 0x400;
const R_X86_64_64: u32 = 1;
const R_X86_64_PC32: u32 = 2;
const R_X86_64_PLT32: u32 = 4;
const R_X86_64_PC64: u32 = 24;

/// Linked code in executable memory; unmapped on drop.
pub struct LoadedCode {
    base: *mut u8,
    /// Bytes mapped at `base` (only Linux maps code; elsewhere loading fails first).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    size: usize,
    symbols: HashMap<String, usize>,
}

// SAFETY: the mapping is immutable (read+execute) once loaded.
unsafe impl Send for LoadedCode {}
// SAFETY: as above.
unsafe impl Sync for LoadedCode {}

impl Drop for LoadedCode {
    fn drop(&mut self) {
        // SAFETY: `base..base+size` is the mapping made in `load`, unmapped once.
        #[cfg(target_os = "linux")]
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.size)
        };
    }
}

impl LoadedCode {
    /// The address of a defined global symbol.
    pub fn symbol(&self, name: &str) -> Option<usize> {
        self.symbols.get(name).copied()
    }

    /// Links `object`, resolving undefined symbols with `import`.
    pub fn load(
        object: &[u8],
        import: &dyn Fn(&str) -> Option<usize>,
    ) -> Result<LoadedCode, crate::NativeError> {
        Self::link(object, import).map_err(crate::NativeError::Link)
    }

    fn link(object: &[u8], import: &dyn Fn(&str) -> Option<usize>) -> Result<LoadedCode, String> {
        let file = object::File::parse(object).map_err(|e| format!("not an ELF object: {e}"))?;
        if file.architecture() != object::Architecture::X86_64 {
            return Err(format!(
                "the object is for {:?}; this loader links x86-64 code",
                file.architecture()
            ));
        }
        if file.kind() != object::ObjectKind::Relocatable {
            return Err("the object is not relocatable".into());
        }
        // Lay out allocated sections.
        let mut placed: HashMap<object::SectionIndex, usize> = HashMap::new();
        let mut size = 0usize;
        for s in file.sections() {
            let SectionFlags::Elf { sh_flags } = s.flags() else {
                return Err("not an ELF section".into());
            };
            if sh_flags & SHF_ALLOC == 0 {
                continue;
            }
            if sh_flags & (SHF_WRITE | SHF_TLS) != 0 {
                let name = s.name().unwrap_or("?");
                return Err(format!("section '{name}' is writable or thread-local"));
            }
            let align = (s.align() as usize).max(1);
            if !align.is_power_of_two() || align > PAGE {
                return Err(format!("a section alignment of {align} is not supported"));
            }
            size = size
                .checked_next_multiple_of(align)
                .and_then(|at| {
                    placed.insert(s.index(), at);
                    at.checked_add(usize::try_from(s.size()).ok()?)
                })
                .filter(|&end| end <= MAX_CODE_BYTES)
                .ok_or("the object's sections are too large")?;
        }
        let mapped = size.max(1).next_multiple_of(PAGE);
        let mut code = map(mapped)?;
        // SAFETY: a fresh RW mapping of `mapped` bytes owned by `code`.
        let mem = unsafe { std::slice::from_raw_parts_mut(code.base, mapped) };
        for s in file.sections() {
            let Some(&at) = placed.get(&s.index()) else {
                continue;
            };
            if s.kind() == SectionKind::UninitializedData {
                continue;
            }
            let data = s.data().map_err(|e| format!("section data: {e}"))?;
            mem[at..at + data.len()].copy_from_slice(data);
        }
        let base = code.base as usize;
        let symbol_address = |index: object::SymbolIndex| -> Result<usize, String> {
            let sym = file
                .symbol_by_index(index)
                .map_err(|e| format!("bad symbol: {e}"))?;
            match sym.section() {
                SymbolSection::Section(si) => {
                    let at = placed
                        .get(&si)
                        .ok_or("a symbol lives in an unloaded section")?;
                    Ok(base + at + sym.address() as usize)
                }
                SymbolSection::Undefined => {
                    let name = sym.name().unwrap_or("?");
                    import(name).ok_or_else(|| {
                        format!("the code needs '{name}', which the runtime does not provide")
                    })
                }
                SymbolSection::Absolute => Ok(sym.address() as usize),
                other => Err(format!("unsupported symbol section {other:?}")),
            }
        };
        for s in file.sections() {
            let Some(&at) = placed.get(&s.index()) else {
                continue;
            };
            for (offset, r) in s.relocations() {
                let RelocationFlags::Elf { r_type } = r.flags() else {
                    return Err("not an ELF relocation".into());
                };
                if r.has_implicit_addend() {
                    return Err("REL relocations (implicit addends) are not supported".into());
                }
                let target = match r.target() {
                    RelocationTarget::Symbol(i) => symbol_address(i)?,
                    RelocationTarget::Section(si) => {
                        base + *placed
                            .get(&si)
                            .ok_or("relocation against an unloaded section")?
                    }
                    other => return Err(format!("unsupported relocation target {other:?}")),
                };
                let width = if matches!(r_type, R_X86_64_64 | R_X86_64_PC64) {
                    8
                } else {
                    4
                };
                let offset = usize::try_from(offset)
                    .ok()
                    .filter(|o| o.checked_add(width).is_some_and(|e| e as u64 <= s.size()))
                    .ok_or("a relocation lies outside its section")?;
                let place = at + offset;
                let value = (target as i64).wrapping_add(r.addend());
                match r_type {
                    R_X86_64_64 => mem[place..place + 8].copy_from_slice(&value.to_le_bytes()),
                    R_X86_64_PC64 => {
                        let rel = value.wrapping_sub((base + place) as i64);
                        mem[place..place + 8].copy_from_slice(&rel.to_le_bytes());
                    }
                    R_X86_64_PC32 | R_X86_64_PLT32 => {
                        let rel = value.wrapping_sub((base + place) as i64);
                        let rel = i32::try_from(rel)
                            .map_err(|_| "a PC-relative relocation is out of range".to_string())?;
                        mem[place..place + 4].copy_from_slice(&rel.to_le_bytes());
                    }
                    other => return Err(format!("unsupported x86-64 relocation type {other}")),
                }
            }
        }
        // Entry points: global functions lying inside an executable section.
        let mut symbols = HashMap::new();
        for sym in file.symbols() {
            let SymbolSection::Section(si) = sym.section() else {
                continue;
            };
            if !sym.is_global() || sym.kind() != object::SymbolKind::Text {
                continue;
            }
            let (Some(&at), Ok(name), Ok(section)) =
                (placed.get(&si), sym.name(), file.section_by_index(si))
            else {
                continue;
            };
            let executable = matches!(
                section.flags(),
                SectionFlags::Elf { sh_flags } if sh_flags & SHF_EXECINSTR != 0
            );
            let inside = sym
                .address()
                .checked_add(sym.size().max(1))
                .is_some_and(|end| end <= section.size());
            if executable && inside {
                symbols.insert(name.to_string(), base + at + sym.address() as usize);
            }
        }
        code.protect_executable()?;
        code.symbols = symbols;
        Ok(code)
    }
}

#[cfg(target_os = "linux")]
fn map(size: usize) -> Result<LoadedCode, String> {
    // SAFETY: an anonymous private mapping; the result is checked.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(format!(
            "cannot map {size} bytes for code: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(LoadedCode {
        base: p as *mut u8,
        size,
        symbols: HashMap::new(),
    })
}

#[cfg(not(target_os = "linux"))]
fn map(_size: usize) -> Result<LoadedCode, String> {
    Err("native executables are loaded only on Linux in this build".into())
}

impl LoadedCode {
    #[cfg(target_os = "linux")]
    fn protect_executable(&self) -> Result<(), String> {
        // SAFETY: our own mapping; no references into it are held while it changes.
        let rc = unsafe {
            libc::mprotect(
                self.base as *mut libc::c_void,
                self.size,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if rc != 0 {
            return Err(format!(
                "cannot make code executable: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn protect_executable(&self) -> Result<(), String> {
        Err("native executables are loaded only on Linux in this build".into())
    }
}
