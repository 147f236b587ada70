//! kiln's inline runtime: runs `vmvx-inline` modules on the calling thread, with no HAL
//! device, no threads and no allocation per call.
//!
//! IREE's `vmvx-inline` target lets an embedded program skip the HAL: the host program and
//! its kernels run in one place. Here [`InlineModule::load`] reads and checks a module once
//! (the file, every VMVX kernel, every dispatch's bindings against the buffers they will
//! see) and allocates everything a call needs: the transient arena the compiler planned (one,
//! sized for the largest function) and the binding list. [`InlineModule::call`] then runs a
//! function's dispatches in order, its workgroups one after another, over the caller's input
//! and output bytes, the module's constants (read in place from the file) and the arena.
//!
//! ```
//! use kiln_compiler::{compile_file, CompileOptions, CompileOutput};
//! use kiln_inline::InlineModule;
//!
//! let options = CompileOptions { targets: vec!["vmvx-inline".into()], ..Default::default() };
//! let model = std::path::Path::new("../../tests/models/mlp/model.onnx");
//! let CompileOutput::Module(file) = compile_file(model, None, &options)? else { unreachable!() };
//! let mut module = InlineModule::load(&file)?;
//! let main = module.function("main").unwrap();
//! let (input, output) = (main.inputs[0].byte_size().unwrap(), main.outputs[0].byte_size().unwrap());
//! // Buffers of f32 (4-byte aligned), as a firmware would place them.
//! let (x, mut y) = (vec![0f32; input as usize / 4], vec![0f32; output as usize / 4]);
//! let as_bytes = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
//! let mut out = as_bytes(&y);
//! module.call("main", &[&as_bytes(&x)], &mut [&mut out])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Only what needs no allocation per call runs inline: functions whose sizes are all known
//! at compile time and that do not branch or loop at run time (the `vmvx-inline` target
//! refuses the rest). This crate is `no_std` (with `alloc`) and belongs to the runtime side.

#![no_std]

extern crate alloc;

mod error;
mod memory;

pub use error::InlineError;
pub use memory::{AlignedBytes, ALIGNMENT};

use alloc::string::String;
use alloc::vec::Vec;
use kiln_module::{BoundProgram, BufferSpace, FunctionDef, HostInst, Module, Symbols};
use kiln_types::sym::SymExpr;
use kiln_types::{ElementType, HostTensor};
use kiln_vmvx::{Binding, Executable, INLINE_FORMAT};
use memory::FileBytes;

/// A `vmvx-inline` module, loaded and checked, with the memory its calls use.
pub struct InlineModule<'a> {
    file: FileBytes<'a>,
    module: Module,
    /// Decoded executables, by module index (`None` for other targets' executables).
    executables: Vec<Option<Executable>>,
    functions: Vec<Function>,
    arena: AlignedBytes,
    /// The bindings of the dispatch being run, reused by every dispatch.
    bindings: Vec<Binding>,
    /// The call's output buffers' addresses, taken once per call (with room for any
    /// function's outputs): every binding of an output derives from them.
    output_bases: Vec<*mut u8>,
    kernels: &'static kiln_ukernel::Kernels,
}

// SAFETY: the raw pointers a module keeps (`bindings`, `output_bases`) are scratch that each
// call fills from its own arguments before using them; nothing else refers to another thread's
// memory.
unsafe impl Send for InlineModule<'_> {}

/// An exported function, ready to run.
struct Function {
    /// Its index in the module's function table.
    def: usize,
    program: BoundProgram,
    /// The alignment each input and output needs: the widest element any kernel views it as.
    input_align: Vec<usize>,
    output_align: Vec<usize>,
}

impl<'a> InlineModule<'a> {
    /// Reads and checks `file`, a module compiled for `vmvx-inline`, and allocates what its
    /// calls need. Constants are read from `file` in place when it starts at an
    /// [`ALIGNMENT`]-aligned address (a memory map, data in flash); otherwise the file is
    /// copied once.
    pub fn load(file: &'a [u8]) -> Result<InlineModule<'a>, InlineError> {
        InlineModule::from_file(FileBytes::new(file))
    }

    /// As [`InlineModule::load`], keeping a copy of `file`, so the module borrows nothing.
    pub fn load_copy(file: &[u8]) -> Result<InlineModule<'static>, InlineError> {
        InlineModule::from_file(FileBytes::Owned(AlignedBytes::copy_of(file)))
    }

    fn from_file(file: FileBytes<'a>) -> Result<InlineModule<'a>, InlineError> {
        let module = Module::read(file.as_slice())?;
        let executables = module
            .executables
            .iter()
            .enumerate()
            .map(|(index, e)| {
                (e.format == INLINE_FORMAT)
                    .then(|| {
                        Executable::decode(&e.data)
                            .map_err(|source| InlineError::Executable { index, source })
                    })
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        if executables.iter().all(Option::is_none) {
            // Listed only inside `message!`, so a build without messages links no list.
            let formats = || -> Vec<&str> {
                module
                    .executables
                    .iter()
                    .map(|e| e.format.as_str())
                    .collect()
            };
            return Err(InlineError::NoInlineExecutable {
                formats: match module.executables.is_empty() {
                    true => "no executables".into(),
                    false => kiln_types::message!("{}", formats().join(", ")),
                },
            });
        }
        let functions = module
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.internal)
            .map(|(def, f)| prepare(&module, &executables, def, f))
            .collect::<Result<Vec<_>, _>>()?;
        let arena_size = functions
            .iter()
            .map(|f| f.program.transient_size as usize)
            .max()
            .unwrap_or(0);
        let most_outputs = functions
            .iter()
            .map(|f| f.output_align.len())
            .max()
            .unwrap_or(0);
        let mut loaded = InlineModule {
            output_bases: Vec::with_capacity(most_outputs),
            file,
            module,
            executables,
            functions,
            arena: AlignedBytes::zeroed(arena_size),
            bindings: Vec::new(),
            kernels: kiln_ukernel::Kernels::best(),
        };
        loaded.check_dispatches()?;
        Ok(loaded)
    }

    /// The module's tables (signatures, executables, constants).
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The exported function `name` (its signature: inputs and outputs with their sizes).
    pub fn function(&self, name: &str) -> Option<&FunctionDef> {
        self.module.function(name)
    }

    /// Runs `name` over `inputs` (each the little-endian bytes of the signature's tensor),
    /// writing its results into `outputs`. Each buffer must have exactly its tensor's byte
    /// size and start at a multiple of its element size. Allocates nothing.
    pub fn call(
        &mut self,
        name: &str,
        inputs: &[&[u8]],
        outputs: &mut [&mut [u8]],
    ) -> Result<(), InlineError> {
        let index = self
            .functions
            .iter()
            .position(|f| self.module.functions[f.def].name == name)
            .ok_or_else(|| self.no_function(name))?;
        let f = &self.functions[index];
        let def = &self.module.functions[f.def];
        check_arguments(def, "input", inputs.iter().map(|b| &b[..]), &f.input_align)?;
        check_arguments(
            def,
            "output",
            outputs.iter().map(|b| &b[..]),
            &f.output_align,
        )?;
        let input_ptrs = |i: u32| inputs[i as usize].as_ptr().cast_mut();
        self.output_bases.clear();
        self.output_bases
            .extend(outputs.iter_mut().map(|o| o.as_mut_ptr()));
        let arena = self.arena.as_mut_ptr();
        let file = self.file.as_slice();
        let dispatches = f
            .program
            .insts
            .iter()
            .filter(|i| matches!(i, HostInst::Dispatch { .. }));
        for (index, inst) in dispatches.enumerate() {
            let HostInst::Dispatch {
                executable,
                kernel,
                workgroups: Some(grid),
                bindings,
                ..
            } = inst
            else {
                unreachable!("checked at load: every dispatch has its grid");
            };
            self.bindings.clear();
            self.bindings.extend(bindings.iter().map(|b| {
                let (base, writable) = match b.space {
                    BufferSpace::Input(k) => (input_ptrs(k), false),
                    BufferSpace::Output(k) => (self.output_bases[k as usize], true),
                    BufferSpace::Constant(c) => (
                        file[self.module.constants[c as usize].offset as usize..]
                            .as_ptr()
                            .cast_mut(),
                        false,
                    ),
                    BufferSpace::Transient => (arena, true),
                };
                Binding {
                    ptr: base.wrapping_add(b.offset as usize),
                    len: b.length as usize,
                    writable,
                }
            }));
            let exe = self.executables[*executable as usize]
                .as_ref()
                .expect("checked at load: inline variants dispatch inline executables");
            let count = (grid[0] * grid[1] * grid[2]) as u32;
            for wg in 0..count {
                // SAFETY: `check_dispatches` proved at load that every view of this dispatch
                // lies inside its binding, is aligned (given the alignment `check_arguments`
                // just checked) and writes only writable memory; the buffers are the caller's
                // borrows, the file and the arena, all alive and otherwise unborrowed for the
                // call; workgroups run one at a time.
                unsafe { exe.run_workgroup(*kernel as usize, wg, &self.bindings, self.kernels) }
                    .map_err(|source| InlineError::Dispatch {
                        function: def.name.clone(),
                        index,
                        source,
                    })?;
            }
        }
        Ok(())
    }

    /// Runs `name` on host tensors, checking each input's element type and shape against the
    /// signature, and returns its results. Unlike [`InlineModule::call`] this allocates: the
    /// results, and aligned copies of inputs whose bytes are not aligned for their type.
    pub fn call_tensors(
        &mut self,
        name: &str,
        inputs: &[HostTensor],
    ) -> Result<Vec<HostTensor>, InlineError> {
        let f = self.function(name).ok_or_else(|| self.no_function(name))?;
        f.check_inputs(inputs.iter().map(|t| (t.element_type, &t.shape[..])))
            .map_err(InlineError::Input)?;
        let aligned: Vec<Option<AlignedBytes>> = inputs
            .iter()
            .map(|t| {
                let misaligned = !(t.data.as_ptr() as usize).is_multiple_of(ALIGNMENT);
                misaligned.then(|| AlignedBytes::copy_of(&t.data))
            })
            .collect();
        let dim = |d: &SymExpr| d.as_const().unwrap_or(0) as usize;
        let results: Vec<(ElementType, Vec<usize>)> = f
            .outputs
            .iter()
            .map(|o| (o.element_type, o.dims.iter().map(dim).collect()))
            .collect();
        let mut outputs: Vec<AlignedBytes> = f
            .outputs
            .iter()
            .map(|o| AlignedBytes::zeroed(o.byte_size().unwrap_or(0) as usize))
            .collect();
        let in_bytes: Vec<&[u8]> = inputs
            .iter()
            .zip(&aligned)
            .map(|(t, a)| a.as_ref().map_or(&t.data[..], AlignedBytes::as_slice))
            .collect();
        let mut out_bytes: Vec<&mut [u8]> =
            outputs.iter_mut().map(AlignedBytes::as_mut_slice).collect();
        self.call(name, &in_bytes, &mut out_bytes)?;
        Ok(out_bytes
            .into_iter()
            .zip(results)
            .map(|(bytes, (element_type, shape))| HostTensor {
                element_type,
                shape,
                data: bytes.to_vec(),
            })
            .collect())
    }

    fn no_function(&self, name: &str) -> InlineError {
        // Listed only inside `message!`, so a build without messages links no list.
        let exported = || -> Vec<&str> {
            self.functions
                .iter()
                .map(|f| self.module.functions[f.def].name.as_str())
                .collect()
        };
        InlineError::NoFunction {
            name: name.into(),
            exported: kiln_types::message!("{}", exported().join(", ")),
        }
    }

    /// Checks every dispatch's bindings once, as they will be at each call: inputs and outputs
    /// at an [`ALIGNMENT`]-aligned stand-in address (a call checks only that its buffers are
    /// aligned as their views need), constants and the arena where they are. Records the
    /// alignment each argument needs.
    fn check_dispatches(&mut self) -> Result<(), InlineError> {
        let stand_in = memory::aligned_stand_in();
        let (file, arena) = (self.file.as_slice(), self.arena.as_mut_ptr());
        for f in &mut self.functions {
            let def = &self.module.functions[f.def];
            let unrunnable = |reason: String| InlineError::Unrunnable {
                function: def.name.clone(),
                reason,
            };
            let dispatches = f
                .program
                .insts
                .iter()
                .filter(|i| matches!(i, HostInst::Dispatch { .. }));
            for (i, inst) in dispatches.enumerate() {
                let HostInst::Dispatch {
                    executable,
                    kernel,
                    workgroups,
                    bindings,
                    ..
                } = inst
                else {
                    continue;
                };
                let exe = self.executables[*executable as usize]
                    .as_ref()
                    .ok_or_else(|| {
                        unrunnable(kiln_types::message!(
                            "dispatch {i} runs a non-inline executable"
                        ))
                    })?;
                let Some(grid) = workgroups else {
                    return Err(unrunnable(kiln_types::message!(
                        "dispatch {i} has no workgroup count (its sizes are known only at run time)"
                    )));
                };
                let count = grid[0]
                    .checked_mul(grid[1])
                    .and_then(|n| n.checked_mul(grid[2]))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        unrunnable(kiln_types::message!(
                            "dispatch {i} has over 2^32 workgroups"
                        ))
                    })?;
                let resolved: Vec<Binding> = bindings
                    .iter()
                    .map(|b| {
                        let base = match b.space {
                            BufferSpace::Input(_) | BufferSpace::Output(_) => stand_in,
                            BufferSpace::Constant(c) => file
                                [self.module.constants[c as usize].offset as usize..]
                                .as_ptr()
                                .cast_mut(),
                            BufferSpace::Transient => arena,
                        };
                        Binding {
                            ptr: base.wrapping_add(b.offset as usize),
                            len: b.length as usize,
                            writable: matches!(
                                b.space,
                                BufferSpace::Output(_) | BufferSpace::Transient
                            ),
                        }
                    })
                    .collect();
                exe.check_bindings(*kernel as usize, count, &resolved)
                    .map_err(|e| unrunnable(kiln_types::message!("dispatch {i}: {e}")))?;
                for view in exe.kernels[*kernel as usize].views() {
                    let align = view.element_type.byte_size();
                    match bindings[view.binding as usize].space {
                        BufferSpace::Input(k) => {
                            let a = &mut f.input_align[k as usize];
                            *a = (*a).max(align);
                        }
                        BufferSpace::Output(k) => {
                            let a = &mut f.output_align[k as usize];
                            *a = (*a).max(align);
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}

/// Function `def` of `module`, bound to its (static) sizes and checked against the module.
fn prepare(
    module: &Module,
    executables: &[Option<Executable>],
    def: usize,
    f: &FunctionDef,
) -> Result<Function, InlineError> {
    let unrunnable = |reason: String| InlineError::Unrunnable {
        function: f.name.clone(),
        reason,
    };
    if f.control.is_some() {
        return Err(unrunnable(
            "it branches or loops at run time; the inline runtime runs straight-line programs"
                .into(),
        ));
    }
    let symbols = f.symbols();
    if !symbols.is_empty() {
        return Err(unrunnable(kiln_types::message!(
            "its sizes depend on {} at run time, and the inline runtime allocates every \
             buffer when it loads",
            symbols.join(", ")
        )));
    }
    let variant = f
        .variants_for(|e| executables.get(e as usize)?.as_ref().map(|_| 0))
        .first()
        .copied()
        .ok_or_else(|| unrunnable("it has no vmvx-inline variant".into()))?;
    let program = f.programs[variant]
        .bind(module, f, &Symbols::default())
        .map_err(unrunnable)?;
    let ones = |n: usize| alloc::vec![1; n];
    Ok(Function {
        def,
        program,
        input_align: ones(f.inputs.len()),
        output_align: ones(f.outputs.len()),
    })
}

/// Checks a call's inputs or outputs against `def`'s signature: their count, byte sizes and
/// alignment.
fn check_arguments<'b>(
    def: &FunctionDef,
    what: &'static str,
    given: impl ExactSizeIterator<Item = &'b [u8]>,
    align: &[usize],
) -> Result<(), InlineError> {
    let sigs = if what == "input" {
        &def.inputs
    } else {
        &def.outputs
    };
    if given.len() != sigs.len() {
        return Err(InlineError::ArgumentCount {
            function: def.name.clone(),
            what,
            expected: sigs.len(),
            got: given.len(),
        });
    }
    for (index, ((bytes, sig), &align)) in given.zip(sigs).zip(align).enumerate() {
        // Bound at load, so every size is static.
        let expected = sig.byte_size().unwrap_or(0) as usize;
        if bytes.len() != expected {
            return Err(InlineError::ArgumentSize {
                function: def.name.clone(),
                what,
                index,
                name: sig.name.clone(),
                type_string: kiln_types::message!("{}", sig.type_string()),
                expected,
                got: bytes.len(),
            });
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(align) {
            return Err(InlineError::Misaligned {
                function: def.name.clone(),
                what,
                index,
                name: sig.name.clone(),
                align,
            });
        }
    }
    Ok(())
}

impl core::fmt::Debug for InlineModule<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InlineModule")
            .field("name", &self.module.name)
            .field("functions", &self.functions.len())
            .field("arena_bytes", &self.arena.as_slice().len())
            .finish()
    }
}
