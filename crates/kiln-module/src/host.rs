//! The host program: what the runtime's VM executes for one exported function.
//!
//! A straight line of dispatches and barriers over four buffer spaces: the call's inputs, its
//! outputs (allocated by the runtime from the signature), the module's constants, and one
//! transient arena whose offsets the compiler planned. Every size in it (workgroup counts,
//! binding ranges, the arena's size) is a [`SymExpr`] over the function's symbols, the input
//! dims left open; a statically shaped program's sizes are constants. [`HostProgram::bind`]
//! evaluates them for one call's symbol values and checks the result, giving the
//! [`BoundProgram`] a device records.

use crate::{ByteReader, ByteWriter, FunctionDef, Module};
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use kiln_types::sym::SymExpr;

/// Which buffer a binding refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferSpace {
    Input(u32),
    Output(u32),
    Constant(u32),
    Transient,
}

/// `input 0`, `output 1`, `constant 2`, `the transient arena`: how messages name a buffer.
impl core::fmt::Display for BufferSpace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BufferSpace::Input(k) => write!(f, "input {k}"),
            BufferSpace::Output(k) => write!(f, "output {k}"),
            BufferSpace::Constant(k) => write!(f, "constant {k}"),
            BufferSpace::Transient => f.write_str("the transient arena"),
        }
    }
}

/// A byte range of a buffer bound to a dispatch: symbolic in a [`HostProgram`], bytes in a
/// [`BoundProgram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindingRef<S = SymExpr> {
    pub space: BufferSpace,
    pub offset: S,
    pub length: S,
}

/// One host instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostInst<S = SymExpr> {
    /// Runs kernel `kernel` of executable `executable` over `workgroups` with `bindings`,
    /// passing `params` (the values of the symbols a kernel with run-time sizes reads, in the
    /// order it lists them; none for static kernels). Without `workgroups`, the executable
    /// says how many its kernel needs for `params` (it picks tiles for those sizes), as an
    /// IREE export's workgroup count function does.
    Dispatch {
        executable: u32,
        kernel: u32,
        workgroups: Option<[S; 3]>,
        bindings: Vec<BindingRef<S>>,
        params: Vec<S>,
    },
    /// Orders every earlier dispatch before every later one.
    Barrier,
}

/// A function's host program: sizes as expressions over the function's symbols
/// (`S = SymExpr`), or evaluated for one call (`S = u64`, a [`BoundProgram`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HostProgram<S = SymExpr> {
    /// Bytes of transient storage the program needs per call.
    pub transient_size: S,
    pub insts: Vec<HostInst<S>>,
}

/// A host program with every size evaluated for one call, checked against that call's buffers.
pub type BoundProgram = HostProgram<u64>;

impl<S> HostProgram<S> {
    /// The same program with every size mapped by `f`.
    pub fn map_sizes<T, E>(&self, f: impl Fn(&S) -> Result<T, E>) -> Result<HostProgram<T>, E> {
        let insts = self
            .insts
            .iter()
            .map(|inst| {
                Ok(match inst {
                    HostInst::Barrier => HostInst::Barrier,
                    HostInst::Dispatch {
                        executable,
                        kernel,
                        workgroups,
                        bindings,
                        params,
                    } => HostInst::Dispatch {
                        executable: *executable,
                        kernel: *kernel,
                        workgroups: match workgroups {
                            Some([x, y, z]) => Some([f(x)?, f(y)?, f(z)?]),
                            None => None,
                        },
                        params: params.iter().map(&f).collect::<Result<_, E>>()?,
                        bindings: bindings
                            .iter()
                            .map(|b| {
                                Ok(BindingRef {
                                    space: b.space,
                                    offset: f(&b.offset)?,
                                    length: f(&b.length)?,
                                })
                            })
                            .collect::<Result<_, E>>()?,
                    },
                })
            })
            .collect::<Result<_, E>>()?;
        Ok(HostProgram {
            transient_size: f(&self.transient_size)?,
            insts,
        })
    }

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
}

impl HostProgram {
    /// A program whose sizes are all constants.
    ///
    /// ```
    /// use kiln_module::{HostProgram, HostInst};
    /// let p = HostProgram::from_bound(&HostProgram { transient_size: 64u64, insts: vec![HostInst::Barrier] });
    /// assert_eq!(p.transient_size.as_const(), Some(64));
    /// ```
    pub fn from_bound(p: &BoundProgram) -> HostProgram {
        p.map_sizes(|&v| Ok::<_, core::convert::Infallible>(SymExpr::from(v as i64)))
            .unwrap_or_else(|never| match never {})
    }

    /// Every size expression of the program.
    fn sizes(&self) -> impl Iterator<Item = &SymExpr> {
        core::iter::once(&self.transient_size).chain(self.insts.iter().flat_map(|inst| {
            let (w, b, p): (&[SymExpr], &[BindingRef], &[SymExpr]) = match inst {
                HostInst::Dispatch {
                    workgroups,
                    bindings,
                    params,
                    ..
                } => (
                    workgroups.as_ref().map_or(&[][..], |w| &w[..]),
                    bindings,
                    params,
                ),
                HostInst::Barrier => (&[], &[], &[]),
            };
            w.iter()
                .chain(b.iter().flat_map(|b| [&b.offset, &b.length]))
                .chain(p)
        }))
    }

    /// Evaluates every size for one call (`symbols` gives each symbol's value) and checks the
    /// result against the module and the call's buffers (see [`BoundProgram::verify`]).
    pub fn bind(
        &self,
        module: &Module,
        f: &FunctionDef,
        symbols: &crate::Symbols,
    ) -> Result<BoundProgram, String> {
        let mut program = self.map_sizes(|s| symbols.size(s))?;
        // A grid that is empty for these sizes computes an empty output: nothing to run. (A
        // static program has none: an empty grid there is a corrupt file, which verify says.)
        program.insts.retain(|inst| {
            symbols.values().is_empty()
                || !matches!(inst, HostInst::Dispatch { workgroups: Some(w), .. } if w.contains(&0))
        });
        let outputs = f
            .outputs
            .iter()
            .map(|o| symbols.byte_size(o))
            .collect::<Result<Vec<_>, _>>()?;
        let inputs = f
            .inputs
            .iter()
            .map(|i| symbols.byte_size(i))
            .collect::<Result<Vec<_>, _>>()?;
        program.verify(module, &inputs, &outputs)?;
        Ok(program)
    }

    pub(crate) fn encode(&self, w: &mut ByteWriter) {
        w.size(&self.transient_size);
        w.u32(self.insts.len() as u32);
        for inst in &self.insts {
            match inst {
                HostInst::Dispatch {
                    executable,
                    kernel,
                    workgroups,
                    bindings,
                    params,
                } => {
                    w.u8(1);
                    w.u32(*executable);
                    w.u32(*kernel);
                    match workgroups {
                        Some(g) => {
                            w.u8(1);
                            g.iter().for_each(|g| w.size(g));
                        }
                        None => w.u8(0),
                    }
                    w.u32(params.len() as u32);
                    params.iter().for_each(|p| w.size(p));
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
                        w.size(&b.offset);
                        w.size(&b.length);
                    }
                }
                HostInst::Barrier => w.u8(2),
            }
        }
    }

    pub(crate) fn decode(r: &mut ByteReader) -> HostProgram {
        HostProgram {
            transient_size: r.size(),
            insts: r.list_until_refused(1, decode_inst),
        }
    }

    /// Checks the program against its module when the module is read: every size names only
    /// symbols the function's inputs define, and a program without symbols is bound (and so
    /// fully checked) at once.
    pub fn verify(&self, module: &Module, f: &FunctionDef) -> Result<(), String> {
        let defined = f.symbols();
        let checks = f.checks.iter().flat_map(|c| [&c.a, &c.b]);
        for s in self.sizes().chain(checks) {
            if let Some(missing) = s.symbols().into_iter().find(|x| !defined.contains(x)) {
                return Err(kiln_types::message!(
                    "a size reads symbol '{missing}', which no input dim defines"
                ));
            }
        }
        if defined.is_empty() {
            self.bind(module, f, &crate::Symbols::default())?;
        }
        Ok(())
    }
}

impl BoundProgram {
    /// Checks every reference against the module and the call's input and output byte sizes:
    /// executables exist, every binding's byte range lies inside its buffer, and bindings of one
    /// dispatch share bytes only in read-only spaces. Kernel indices are checked by the
    /// device's loader.
    pub fn verify(&self, module: &Module, inputs: &[u64], outputs: &[u64]) -> Result<(), String> {
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
                return Err(kiln_types::message!(
                    "instruction {i} dispatches missing executable {executable}"
                ));
            }
            if let Some(w) = workgroups {
                if w.contains(&0) || w.iter().any(|&g| g > u32::MAX as u64) {
                    return Err(kiln_types::message!(
                        "instruction {i} dispatches a workgroup grid of {}x{}x{}",
                        w[0],
                        w[1],
                        w[2]
                    ));
                }
            }
            for b in bindings {
                let size = match b.space {
                    BufferSpace::Input(k) => inputs.get(k as usize).copied(),
                    BufferSpace::Output(k) => outputs.get(k as usize).copied(),
                    BufferSpace::Constant(k) => module.constants.get(k as usize).map(|c| c.length),
                    BufferSpace::Transient => Some(self.transient_size),
                };
                let size = size.ok_or_else(|| {
                    kiln_types::message!("instruction {i} binds missing buffer {}", b.space)
                })?;
                if b.offset.checked_add(b.length).is_none_or(|end| end > size) {
                    return Err(kiln_types::message!(
                        "instruction {i} binds bytes {}+{} of {}, which has {size}",
                        b.offset,
                        b.length,
                        b.space
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
                        return Err(kiln_types::message!(
                            "instruction {i} binds overlapping bytes of {} twice",
                            bx.space
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl<S> core::fmt::Display for BindingRef<S>
where
    S: core::fmt::Display + Clone + core::ops::Add<Output = S>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let space = match self.space {
            BufferSpace::Input(i) => format!("input{i}"),
            BufferSpace::Output(i) => format!("output{i}"),
            BufferSpace::Constant(i) => format!("constant{i}"),
            BufferSpace::Transient => "transient".to_string(),
        };
        let end = self.offset.clone() + self.length.clone();
        write!(f, "{space}[{}..{end}]", self.offset)
    }
}

/// `dispatch exe0:3 workgroups [16, 1, 1] (input0[0..1024], transient[64..4*n+64])` or `barrier`.
impl<S> core::fmt::Display for HostInst<S>
where
    S: core::fmt::Display + Clone + core::ops::Add<Output = S>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HostInst::Barrier => f.write_str("barrier"),
            HostInst::Dispatch {
                executable,
                kernel,
                workgroups,
                bindings,
                params,
            } => {
                let b: Vec<String> = bindings.iter().map(|b| b.to_string()).collect();
                let grid = match workgroups {
                    Some([x, y, z]) => format!("[{x}, {y}, {z}]"),
                    None => "(the kernel's)".to_string(),
                };
                write!(
                    f,
                    "dispatch exe{executable}:{kernel} workgroups {grid} ({})",
                    b.join(", ")
                )?;
                if !params.is_empty() {
                    let p: Vec<String> = params.iter().map(|p| p.to_string()).collect();
                    write!(f, " params [{}]", p.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

/// One host instruction; `None` (with the reader refusing it) for an unknown one.
fn decode_inst(r: &mut ByteReader) -> Option<HostInst> {
    match r.u8() {
        1 => {
            let executable = r.u32();
            let kernel = r.u32();
            let workgroups = match r.u8() {
                0 => None,
                1 => Some([r.size(), r.size(), r.size()]),
                t => {
                    r.invalid(kiln_types::message!("unknown workgroup count tag {t}"));
                    return None;
                }
            };
            let params = r.list(9, ByteReader::size);
            let mut bindings = Vec::new();
            for _ in 0..r.len(23) {
                let tag = r.u8();
                let index = r.u32();
                let space = match tag {
                    0 => BufferSpace::Input(index),
                    1 => BufferSpace::Output(index),
                    2 => BufferSpace::Constant(index),
                    3 => BufferSpace::Transient,
                    t => {
                        r.invalid(kiln_types::message!("unknown buffer space {t}"));
                        return None;
                    }
                };
                bindings.push(BindingRef {
                    space,
                    offset: r.size(),
                    length: r.size(),
                });
            }
            Some(HostInst::Dispatch {
                executable,
                kernel,
                workgroups,
                bindings,
                params,
            })
        }
        2 => Some(HostInst::Barrier),
        op => {
            r.invalid(kiln_types::message!("unknown host instruction {op}"));
            None
        }
    }
}
