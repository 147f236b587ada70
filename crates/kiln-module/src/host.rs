//! The host program: what the runtime's VM executes for one exported function.
//!
//! For statically shaped programs it is a straight line of dispatches and barriers over four
//! buffer spaces: the call's inputs, its outputs (allocated by the runtime from the signature),
//! the module's constants, and one transient arena whose offsets the compiler planned.

use crate::{ByteReader, ByteWriter, FunctionDef, Module, ModuleError};

/// Which buffer a binding refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferSpace {
    Input(u32),
    Output(u32),
    Constant(u32),
    Transient,
}

/// A byte range of a buffer bound to a dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindingRef {
    pub space: BufferSpace,
    pub offset: u64,
    pub length: u64,
}

/// One host instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostInst {
    /// Runs kernel `kernel` of executable `executable` over `workgroups` with `bindings`.
    Dispatch {
        executable: u32,
        kernel: u32,
        workgroups: [u32; 3],
        bindings: Vec<BindingRef>,
    },
    /// Orders every earlier dispatch before every later one.
    Barrier,
}

/// A function's host program.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HostProgram {
    /// Bytes of transient storage the program needs per call.
    pub transient_size: u64,
    pub insts: Vec<HostInst>,
}

impl HostProgram {
    /// The executables the program dispatches into, each once, in order of first use.
    pub fn executables(&self) -> Vec<u32> {
        let mut out = vec![];
        for inst in &self.insts {
            if let HostInst::Dispatch { executable, .. } = inst {
                if !out.contains(executable) {
                    out.push(*executable);
                }
            }
        }
        out
    }

    pub(crate) fn encode(&self, w: &mut ByteWriter) {
        w.u64(self.transient_size);
        w.u32(self.insts.len() as u32);
        for inst in &self.insts {
            match inst {
                HostInst::Dispatch {
                    executable,
                    kernel,
                    workgroups,
                    bindings,
                } => {
                    w.u8(1);
                    w.u32(*executable);
                    w.u32(*kernel);
                    workgroups.iter().for_each(|&g| w.u32(g));
                    w.u32(bindings.len() as u32);
                    for b in bindings {
                        let (tag, index) = match b.space {
                            BufferSpace::Input(i) => (0, i),
                            BufferSpace::Output(i) => (1, i),
                            BufferSpace::Constant(i) => (2, i),
                            BufferSpace::Transient => (3, 0),
                        };
                        w.u8(tag);
                        w.u32(index);
                        w.u64(b.offset);
                        w.u64(b.length);
                    }
                }
                HostInst::Barrier => w.u8(2),
            }
        }
    }

    pub(crate) fn decode(r: &mut ByteReader) -> Result<HostProgram, ModuleError> {
        let transient_size = r.u64()?;
        let n = r.len(1)?;
        let mut insts = Vec::with_capacity(n);
        for _ in 0..n {
            insts.push(match r.u8()? {
                1 => {
                    let executable = r.u32()?;
                    let kernel = r.u32()?;
                    let workgroups = [r.u32()?, r.u32()?, r.u32()?];
                    let nb = r.len(21)?;
                    let mut bindings = Vec::with_capacity(nb);
                    for _ in 0..nb {
                        let tag = r.u8()?;
                        let index = r.u32()?;
                        let space = match tag {
                            0 => BufferSpace::Input(index),
                            1 => BufferSpace::Output(index),
                            2 => BufferSpace::Constant(index),
                            3 => BufferSpace::Transient,
                            t => {
                                return Err(ModuleError::Invalid(format!(
                                    "unknown buffer space {t}"
                                )))
                            }
                        };
                        bindings.push(BindingRef {
                            space,
                            offset: r.u64()?,
                            length: r.u64()?,
                        });
                    }
                    HostInst::Dispatch {
                        executable,
                        kernel,
                        workgroups,
                        bindings,
                    }
                }
                2 => HostInst::Barrier,
                op => {
                    return Err(ModuleError::Invalid(format!(
                        "unknown host instruction {op}"
                    )))
                }
            });
        }
        Ok(HostProgram {
            transient_size,
            insts,
        })
    }

    /// Checks every reference against the module: executables exist and every binding's byte
    /// range lies inside its buffer. Kernel indices are checked by the device's loader.
    pub fn verify(&self, module: &Module, f: &FunctionDef) -> Result<(), String> {
        for (i, inst) in self.insts.iter().enumerate() {
            let HostInst::Dispatch {
                executable,
                bindings,
                workgroups,
                ..
            } = inst
            else {
                continue;
            };
            if *executable as usize >= module.executables.len() {
                return Err(format!(
                    "instruction {i} dispatches missing executable {executable}"
                ));
            }
            if workgroups.contains(&0) {
                return Err(format!(
                    "instruction {i} dispatches an empty workgroup grid"
                ));
            }
            for b in bindings {
                let size = match b.space {
                    BufferSpace::Input(k) => f.inputs.get(k as usize).and_then(|s| s.byte_size()),
                    BufferSpace::Output(k) => f.outputs.get(k as usize).and_then(|s| s.byte_size()),
                    BufferSpace::Constant(k) => module.constants.get(k as usize).map(|c| c.length),
                    BufferSpace::Transient => Some(self.transient_size),
                };
                let size = size
                    .ok_or_else(|| format!("instruction {i} binds missing buffer {:?}", b.space))?;
                if b.offset.checked_add(b.length).is_none_or(|end| end > size) {
                    return Err(format!(
                        "instruction {i} binds bytes {}+{} of {:?}, which has {size}",
                        b.offset, b.length, b.space
                    ));
                }
            }
            // Bindings of one dispatch may share bytes only when both are read-only spaces.
            for (x, bx) in bindings.iter().enumerate() {
                for by in &bindings[x + 1..] {
                    let same_space = bx.space == by.space;
                    let overlap = same_space
                        && bx.offset < by.offset.saturating_add(by.length)
                        && by.offset < bx.offset.saturating_add(bx.length);
                    let read_only =
                        matches!(bx.space, BufferSpace::Input(_) | BufferSpace::Constant(_));
                    if overlap && !read_only {
                        return Err(format!(
                            "instruction {i} binds overlapping bytes of {:?} twice",
                            bx.space
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for BindingRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let space = match self.space {
            BufferSpace::Input(i) => format!("input{i}"),
            BufferSpace::Output(i) => format!("output{i}"),
            BufferSpace::Constant(i) => format!("constant{i}"),
            BufferSpace::Transient => "transient".to_string(),
        };
        write!(f, "{space}[{}..{}]", self.offset, self.offset + self.length)
    }
}

/// `dispatch exe0:3 workgroups [16, 1, 1] (input0[0..1024], transient[0..4096])` or `barrier`.
impl std::fmt::Display for HostInst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostInst::Barrier => f.write_str("barrier"),
            HostInst::Dispatch {
                executable,
                kernel,
                workgroups,
                bindings,
            } => {
                let b: Vec<String> = bindings.iter().map(|b| b.to_string()).collect();
                write!(
                    f,
                    "dispatch exe{executable}:{kernel} workgroups {workgroups:?} ({})",
                    b.join(", ")
                )
            }
        }
    }
}
