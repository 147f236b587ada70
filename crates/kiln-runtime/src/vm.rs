//! Loading modules and running their functions: the runtime's VM.
//!
//! Loading verifies the whole module first ([`kiln_module::Module::read`]), picks for each
//! function the target variant the device runs best (the earliest of its
//! [`Device::executable_formats`]), loads the executables those variants dispatch into, and
//! wraps the constants they read as read-only buffers over the module bytes (used in place when
//! the device reads host memory, as local devices do). Other variants' executables and
//! constants are never touched.
//!
//! A call checks its inputs against the function's signature, which gives the function's
//! symbols (its open input dims) their values; binds the host program's sizes to them (once per
//! distinct set of values in a row: the last binding is kept), which checks every dispatch's
//! binding ranges against this call's buffers and asks the executables for the grids they
//! compute from those sizes; allocates the outputs and one transient arena;
//! records the host program's dispatches and barriers into a command buffer, executes it and
//! reads the outputs back.

mod control;

use crate::hal::{Buffer, BufferBinding, CommandBuffer, Device, Executable, HostBytes};
use crate::{HalError, RuntimeError};
use kiln_module::{
    AlignedBytes, BoundProgram, BufferSpace, FunctionDef, HostInst, Module, Symbols,
};
use kiln_types::{ElementType, HostTensor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

/// The bytes of a module file: memory-mapped from a path, or an aligned copy of given bytes.
pub enum ModuleBytes {
    Mapped(memmap2::Mmap),
    /// A copy whose start is aligned as the file's constants are within it.
    Owned(AlignedBytes),
}

impl ModuleBytes {
    /// Maps a module file read-only.
    pub fn map(path: &Path) -> Result<ModuleBytes, RuntimeError> {
        let io = |e: std::io::Error| RuntimeError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the mapping is read-only and private to this process. If another process
        // truncates the file while it is mapped, reads may fault: the same contract as every
        // mmap-based loader (IREE, wasmtime). The module is verified before use.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Ok(ModuleBytes::Mapped(map))
    }

    pub fn from_bytes(bytes: &[u8]) -> ModuleBytes {
        ModuleBytes::Owned(AlignedBytes::copy_of(bytes))
    }
}

impl HostBytes for ModuleBytes {
    fn bytes(&self) -> &[u8] {
        match self {
            ModuleBytes::Mapped(m) => m,
            ModuleBytes::Owned(bytes) => bytes.as_slice(),
        }
    }
}

/// A call input in host memory the caller owns; see [`LoadedModule::invoke_host`]. Clones
/// share the bytes.
#[derive(Clone)]
pub struct HostInput {
    pub element_type: ElementType,
    pub shape: Vec<usize>,
    pub bytes: Arc<dyn HostBytes>,
}

/// A host tensor as a call input, its memory moved in (not copied).
impl From<HostTensor> for HostInput {
    fn from(t: HostTensor) -> HostInput {
        HostInput {
            element_type: t.element_type,
            shape: t.shape.clone(),
            bytes: Arc::new(TensorBytes(t)),
        }
    }
}

/// An input a caller placed on the module's device once ([`LoadedModule::place`]) to call
/// with it again and again ([`LoadedModule::invoke_placed`]).
#[derive(Clone)]
pub struct DeviceTensor(Value);

/// A tensor on the device: a call's argument or result, or a control program's register.
#[derive(Clone)]
struct Value {
    element_type: ElementType,
    shape: Vec<usize>,
    buffer: Arc<dyn Buffer>,
}

impl Value {
    /// Reads the tensor back to the host.
    fn to_host(&self) -> Result<HostTensor, RuntimeError> {
        let mut data = vec![0u8; self.buffer.len()];
        self.buffer.read(0, &mut data)?;
        Ok(HostTensor::new(self.element_type, self.shape.clone(), data)
            .map_err(|e| HalError::Device(e.to_string()))?)
    }
}

/// A host tensor's bytes as a buffer source.
struct TensorBytes(HostTensor);

impl HostBytes for TensorBytes {
    fn bytes(&self) -> &[u8] {
        &self.0.data
    }
}

/// A module loaded on a device, ready to call.
pub struct LoadedModule {
    module: Module,
    device: Arc<dyn Device>,
    /// The host program each function runs (an index into its `programs`); `None` where no
    /// variant's executables run on this device.
    variants: Vec<Option<usize>>,
    /// Why a function without a variant cannot run here.
    reasons: Vec<Option<String>>,
    /// The executables and constants the chosen variants use; `None` for the others.
    executables: Vec<Option<Arc<dyn Executable>>>,
    constants: Vec<Option<Arc<dyn Buffer>>>,
    /// Output and transient buffers of finished calls, per function, for the next calls.
    spare: Arc<Mutex<SparePools>>,
    /// Each function's host program bound for the symbol values of its latest call.
    bound: Mutex<HashMap<String, Arc<Bound>>>,
}

/// A function's host program bound for one set of symbol values.
struct Bound {
    symbols: Symbols,
    program: BoundProgram,
    output_shapes: Vec<Vec<usize>>,
}

type SparePools = HashMap<String, Spare>;
type Buffers = Vec<Arc<dyn Buffer>>;

/// Buffers of finished calls of one function. Reused without clearing: compiled programs
/// write every output byte and every transient byte before reading it.
#[derive(Default)]
struct Spare {
    /// Free buffers for each result, by result index.
    outputs: Vec<Vec<Arc<dyn Buffer>>>,
    transients: Vec<Arc<dyn Buffer>>,
}

impl Spare {
    fn put_output(&mut self, index: usize, buffer: Arc<dyn Buffer>) {
        if self.outputs.len() <= index {
            self.outputs.resize_with(index + 1, Vec::new);
        }
        if self.outputs[index].len() < SPARE_CALLS {
            self.outputs[index].push(buffer);
        }
    }
}

/// A result handed over as the device buffer that holds it (see
/// [`LoadedModule::invoke_host_buffers`]). Dropping it gives the buffer back to the module for
/// later calls, so large results do not cost a fresh allocation every call.
pub struct OutputBuffer {
    pub element_type: ElementType,
    pub shape: Vec<usize>,
    pub buffer: Arc<dyn Buffer>,
    /// Where the buffer goes back to: the module's pools, the function and the result index.
    home: Option<(Weak<Mutex<SparePools>>, String, usize)>,
}

impl Drop for OutputBuffer {
    fn drop(&mut self) {
        let Some((pools, function, index)) = self.home.take() else {
            return;
        };
        // Only a buffer nobody else holds (strongly or weakly) may be written by a later call.
        if Arc::get_mut(&mut self.buffer).is_none() {
            return;
        }
        if let Some(pools) = pools.upgrade() {
            let mut pools = pools.lock().unwrap_or_else(|e| e.into_inner());
            pools
                .entry(function)
                .or_default()
                .put_output(index, self.buffer.clone());
        }
    }
}

/// Spare buffer sets kept per function (one per concurrent caller, up to this many).
const SPARE_CALLS: usize = 4;

impl LoadedModule {
    /// Verifies and loads a module on `device`. `source` names the file in errors.
    pub fn load(
        device: Arc<dyn Device>,
        bytes: Arc<ModuleBytes>,
        source: &str,
    ) -> Result<LoadedModule, RuntimeError> {
        let bad = |e: kiln_module::ModuleError| RuntimeError::BadModule {
            module: source.to_string(),
            message: e.to_string(),
        };
        let module = Module::read(bytes.bytes()).map_err(bad)?;
        let formats = device.executable_formats();
        let rank = |e: u32| {
            let format = &module.executables[e as usize].format;
            formats.iter().position(|f| f == format)
        };
        let incompatible = || {
            let targets: Vec<String> = module
                .executables
                .iter()
                .map(|e| format!("{} ({})", e.target, e.format))
                .collect();
            RuntimeError::Incompatible {
                module: source.to_string(),
                device: device.driver_name().to_string(),
                message: format!(
                    "the module was compiled for {} but the device runs {}{}",
                    targets.join(", "),
                    if formats.is_empty() {
                        "no kiln executables yet".to_string()
                    } else {
                        formats.join(", ")
                    },
                    // The inline runtime's format, which no device loads.
                    match module.executables.iter().any(|e| e.format == "vmvx-inline") {
                        true =>
                            " (vmvx-inline modules run without a device, on the inline runtime)",
                        false => "",
                    }
                ),
            }
        };
        if !module.executables.is_empty()
            && !module
                .executables
                .iter()
                .any(|e| formats.contains(&e.format))
        {
            return Err(incompatible());
        }
        // Each function runs its best variant whose executables all load. An executable this
        // device cannot run (native code needing a CPU feature it lacks) moves the function to
        // its next variant (VMVX's); any other load failure (a corrupt executable) fails the
        // load, as a bad module should.
        let mut tried: Vec<Option<Result<Arc<dyn Executable>, HalError>>> =
            (0..module.executables.len()).map(|_| None).collect();
        let bad = |e: &kiln_module::ExecutableDef, err: &HalError| RuntimeError::BadModule {
            module: source.to_string(),
            message: format!("executable for '{}': {err}", e.target),
        };
        let (mut variants, mut reasons) = (vec![], vec![]);
        for f in &module.functions {
            let (mut chosen, mut reason) = (None, None);
            for v in f.variants_for(rank) {
                let mut runs = true;
                for e in f.programs[v].executables() {
                    let exe = &module.executables[e as usize];
                    let loaded = tried[e as usize]
                        .get_or_insert_with(|| device.load_executable(&exe.format, &exe.data));
                    match loaded {
                        Ok(_) => {}
                        Err(err @ HalError::CannotRun { .. }) => {
                            reason.get_or_insert_with(|| {
                                format!("executable for '{}': {err}", exe.target)
                            });
                            runs = false;
                            break;
                        }
                        Err(err) => return Err(bad(exe, err)),
                    }
                }
                if runs {
                    chosen = Some(v);
                    break;
                }
            }
            variants.push(chosen);
            reasons.push(reason);
        }
        let straight = |(f, v): (&FunctionDef, &Option<usize>)| f.control.is_none().then_some(*v);
        let runnable: Vec<Option<usize>> = module
            .functions
            .iter()
            .zip(&variants)
            .filter_map(straight)
            .collect();
        if !runnable.is_empty() && runnable.iter().all(Option::is_none) {
            // Nothing runs here: say why the first function's best variant does not.
            return Err(match reasons.into_iter().flatten().next() {
                Some(message) => RuntimeError::BadModule {
                    module: source.to_string(),
                    message,
                },
                None => incompatible(),
            });
        }
        let (mut used_executables, mut used_constants) = (
            vec![false; module.executables.len()],
            vec![false; module.constants.len()],
        );
        for (f, v) in module.functions.iter().zip(&variants) {
            let Some(v) = v else { continue };
            for inst in &f.programs[*v].insts {
                if let HostInst::Dispatch {
                    executable,
                    bindings,
                    ..
                } = inst
                {
                    used_executables[*executable as usize] = true;
                    for b in bindings {
                        if let BufferSpace::Constant(c) = b.space {
                            used_constants[c as usize] = true;
                        }
                    }
                }
            }
        }
        let executables = tried
            .into_iter()
            .zip(used_executables)
            .map(|(t, used)| t.filter(|_| used).and_then(Result::ok))
            .collect();
        let mut constants = vec![];
        for (c, used) in module.constants.iter().zip(used_constants) {
            constants.push(if used {
                let host: Arc<dyn HostBytes> = bytes.clone();
                Some(device.import_host(host, c.offset as usize, c.length as usize)?)
            } else {
                None
            });
        }
        Ok(LoadedModule {
            module,
            variants,
            reasons,
            device,
            executables,
            constants,
            spare: Arc::new(Mutex::new(HashMap::new())),
            bound: Mutex::new(HashMap::new()),
        })
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Constant `index` of the module as a device buffer; `None` when no function this device
    /// runs reads it (it belongs to another target's variant).
    pub fn constant(&self, index: usize) -> Option<&Arc<dyn Buffer>> {
        self.constants.get(index)?.as_ref()
    }

    /// The host program function `f` of this module runs on this device; an error when none
    /// of its variants loads here.
    pub fn program<'a>(
        &self,
        f: &'a FunctionDef,
    ) -> Result<&'a kiln_module::HostProgram, RuntimeError> {
        let index = self
            .module
            .functions
            .iter()
            .position(|g| std::ptr::eq(g, f))
            .or_else(|| self.module.functions.iter().position(|g| g.name == f.name));
        let reason = index
            .and_then(|i| self.reasons[i].clone())
            .unwrap_or_else(|| "no variant's executables load on this device".into());
        index
            .and_then(|i| self.variants[i])
            .and_then(|v| f.programs.get(v))
            .ok_or_else(|| RuntimeError::Incompatible {
                module: self.module.name.clone(),
                device: self.device.driver_name().to_string(),
                message: format!("function '{}' cannot run here: {reason}", f.name),
            })
    }

    pub fn device(&self) -> &Arc<dyn Device> {
        &self.device
    }

    /// The exported function `name`, or an error listing the exported names.
    pub fn function(&self, name: &str) -> Result<&FunctionDef, RuntimeError> {
        self.module
            .function(name)
            .ok_or_else(|| RuntimeError::UnknownFunction {
                name: name.to_string(),
                available: self
                    .module
                    .functions
                    .iter()
                    .filter(|f| !f.internal)
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Calls function `name` with host tensors and returns its results.
    ///
    /// Inputs must match the signature (count, element type, rank and fixed dims; dims that are
    /// symbols take any size, the same wherever a symbol appears), and the results have the
    /// sizes that follow. They are copied to the device; [`LoadedModule::invoke_owned`] avoids
    /// that copy where the device can read host memory.
    pub fn invoke(
        &self,
        name: &str,
        inputs: &[HostTensor],
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let inputs = inputs.iter().map(|t| HostInput::from(t.clone())).collect();
        self.invoke_host(name, inputs)
    }

    /// Like [`LoadedModule::invoke`], but takes the inputs by value so the device can use their
    /// memory in place (local devices do) instead of copying it.
    pub fn invoke_owned(
        &self,
        name: &str,
        inputs: Vec<HostTensor>,
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let inputs = inputs.into_iter().map(HostInput::from).collect();
        self.invoke_host(name, inputs)
    }

    /// Calls function `name` with inputs held in caller-owned host memory, which the device uses
    /// in place where it can read host memory (the bytes must not change during the call).
    pub fn invoke_host(
        &self,
        name: &str,
        inputs: Vec<HostInput>,
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let (f, outputs) = self.run(name, inputs)?;
        let mut tensors = vec![];
        for out in &outputs {
            tensors.push(out.to_host()?);
        }
        self.keep(f, |s| {
            for (i, out) in outputs.into_iter().enumerate() {
                s.put_output(i, out.buffer);
            }
        });
        Ok(tensors)
    }

    /// Like [`LoadedModule::invoke_host`], but hands over the buffers holding the results
    /// instead of copying them out: the caller owns them (on local devices they are host
    /// memory, see [`Buffer::host_address`]) until it drops them.
    pub fn invoke_host_buffers(
        &self,
        name: &str,
        inputs: Vec<HostInput>,
    ) -> Result<Vec<OutputBuffer>, RuntimeError> {
        let (f, outputs) = self.run(name, inputs)?;
        Ok(self.output_buffers(f, outputs))
    }

    /// `f`'s results as buffers the caller owns, which go back to `f`'s spare outputs when
    /// dropped.
    fn output_buffers(&self, f: &FunctionDef, outputs: Vec<Value>) -> Vec<OutputBuffer> {
        outputs
            .into_iter()
            .enumerate()
            .map(|(i, out)| OutputBuffer {
                element_type: out.element_type,
                shape: out.shape,
                buffer: out.buffer,
                home: Some((Arc::downgrade(&self.spare), f.name.clone(), i)),
            })
            .collect()
    }

    /// Checks `inputs` against the exported function `name` and places them on the device
    /// once, for calls that repeat with the same inputs ([`LoadedModule::invoke_placed`]): a
    /// benchmark then times the call alone, as `iree-benchmark-module` does.
    pub fn place(
        &self,
        name: &str,
        inputs: Vec<HostInput>,
    ) -> Result<Vec<DeviceTensor>, RuntimeError> {
        let f = self.function(name)?;
        self.check_inputs(
            f,
            inputs.iter().map(|i| (i.element_type, i.shape.as_slice())),
        )?;
        let bufs = self.place_inputs(name, &inputs)?;
        Ok(inputs
            .into_iter()
            .zip(bufs)
            .map(|(i, buffer)| {
                DeviceTensor(Value {
                    element_type: i.element_type,
                    shape: i.shape,
                    buffer,
                })
            })
            .collect())
    }

    /// Calls function `name` with inputs [`LoadedModule::place`] put on the device, handing
    /// over the result buffers as [`LoadedModule::invoke_host_buffers`] does (dropping them
    /// returns their memory for the next call).
    pub fn invoke_placed(
        &self,
        name: &str,
        inputs: &[DeviceTensor],
    ) -> Result<Vec<OutputBuffer>, RuntimeError> {
        let f = self.function(name)?;
        let symbols = self.check_inputs(
            f,
            inputs
                .iter()
                .map(|i| (i.0.element_type, i.0.shape.as_slice())),
        )?;
        let args = inputs.iter().map(|i| i.0.clone()).collect();
        let outputs = self.run_args(f, symbols, args)?;
        Ok(self.output_buffers(f, outputs))
    }

    /// Checks `inputs` against the exported function `name`, places them on the device and
    /// runs it.
    fn run(
        &self,
        name: &str,
        inputs: Vec<HostInput>,
    ) -> Result<(&FunctionDef, Vec<Value>), RuntimeError> {
        let f = self.function(name)?;
        let symbols = self.check_inputs(
            f,
            inputs.iter().map(|i| (i.element_type, i.shape.as_slice())),
        )?;
        let bufs = self.place_inputs(name, &inputs)?;
        let args: Vec<Value> = inputs
            .into_iter()
            .zip(bufs)
            .map(|(i, buffer)| Value {
                element_type: i.element_type,
                shape: i.shape,
                buffer,
            })
            .collect();
        Ok((f, self.run_args(f, symbols, args)?))
    }

    /// Runs `f` on its checked arguments on the device, whose sizes gave `symbols`.
    fn run_args(
        &self,
        f: &FunctionDef,
        symbols: Symbols,
        args: Vec<Value>,
    ) -> Result<Vec<Value>, RuntimeError> {
        let outputs = match &f.control {
            Some(program) => {
                let inputs: Buffers = args.iter().map(|a| a.buffer.clone()).collect();
                let mut outputs = self.run_control(f, program, args)?;
                // A control program may return an input as it is (a branch that passes it
                // through); the caller gets a copy, never its own memory back.
                for out in &mut outputs {
                    if inputs.iter().any(|i| Arc::ptr_eq(i, &out.buffer)) {
                        let mut bytes = vec![0u8; out.buffer.len()];
                        out.buffer.read(0, &mut bytes)?;
                        let copy = self.device.allocate(bytes.len())?;
                        copy.write(0, &bytes)?;
                        out.buffer = copy;
                    }
                }
                outputs
            }
            None => self.call_bound(f, symbols, args.into_iter().map(|a| a.buffer).collect())?,
        };
        Ok(outputs)
    }

    /// Runs the straight-line function `f` on device tensors whose sizes gave `symbols`.
    fn call_bound(
        &self,
        f: &FunctionDef,
        symbols: Symbols,
        args: Buffers,
    ) -> Result<Vec<Value>, RuntimeError> {
        let bound = self.bound_program(f, symbols)?;
        let outputs = self.execute(f, &bound, args)?;
        Ok(f.outputs
            .iter()
            .zip(outputs)
            .zip(&bound.output_shapes)
            .map(|((sig, buffer), shape)| Value {
                element_type: sig.element_type,
                shape: shape.clone(),
                buffer,
            })
            .collect())
    }

    /// Places a call's host inputs on the device as read-only buffers.
    fn place_inputs(&self, name: &str, inputs: &[HostInput]) -> Result<Buffers, RuntimeError> {
        let mut in_bufs = vec![];
        for (i, input) in inputs.iter().enumerate() {
            let bytes = input.bytes.bytes();
            let expected = kiln_types::element_count(&input.shape)
                .and_then(|n| n.checked_mul(input.element_type.byte_size()));
            if expected != Some(bytes.len()) {
                return Err(RuntimeError::Input(format!(
                    "input {i} of '{name}' holds {} bytes, not the {} its shape needs",
                    bytes.len(),
                    expected.map_or("?".into(), |e| e.to_string())
                )));
            }
            let len = bytes.len();
            // Inputs are bound read-only (a kernel that writes one is refused); misaligned
            // bytes get an aligned copy first.
            let source: Arc<dyn HostBytes> = if (bytes.as_ptr() as usize).is_multiple_of(8) {
                input.bytes.clone()
            } else {
                Arc::new(ModuleBytes::from_bytes(bytes))
            };
            in_bufs.push(self.device.import_host(source, 0, len)?);
        }
        Ok(in_bufs)
    }

    /// `f`'s host program bound for `symbols`: the one its latest call used when the values are
    /// the same, else a new binding (which checks every dispatch against this call's buffers).
    fn bound_program(&self, f: &FunctionDef, symbols: Symbols) -> Result<Arc<Bound>, RuntimeError> {
        let mut cache = self.bound.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = cache.get(&f.name).filter(|b| b.symbols == symbols) {
            return Ok(b.clone());
        }
        let program = self.program(f)?;
        let invalid = |message: String| {
            RuntimeError::Input(format!("'{}' with {symbols}: {message}", f.name))
        };
        let output_shapes = f
            .outputs
            .iter()
            .map(|o| symbols.shape(o))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let mut program = program.bind(&self.module, f, &symbols).map_err(invalid)?;
        // Grids the executable computes for these sizes (its kernels' tiles depend on them)
        // are asked for once per binding, not per call; an empty one computes an empty
        // output, so its dispatch is dropped.
        for inst in &mut program.insts {
            if let HostInst::Dispatch {
                executable,
                kernel,
                workgroups: grid @ None,
                params,
                ..
            } = inst
            {
                let params: Vec<i64> = params.iter().map(|&p| p as i64).collect();
                let count = self
                    .executable(f, *executable)?
                    .workgroup_count(*kernel, &params)?;
                *grid = Some(count.map(u64::from));
            }
        }
        program.insts.retain(|inst| {
            !matches!(inst, HostInst::Dispatch { workgroups: Some(w), .. } if w.contains(&0))
        });
        let bound = Arc::new(Bound {
            symbols,
            program,
            output_shapes,
        });
        cache.insert(f.name.clone(), bound.clone());
        Ok(bound)
    }

    /// Executable `index`, which function `f` dispatches into; an error when this device
    /// could not load it.
    fn executable(&self, f: &FunctionDef, index: u32) -> Result<Arc<dyn Executable>, RuntimeError> {
        self.executables[index as usize]
            .clone()
            .ok_or_else(|| RuntimeError::Incompatible {
                module: self.module.name.clone(),
                device: self.device.driver_name().to_string(),
                message: format!(
                    "function '{}' needs executable {index}, which this device cannot load",
                    f.name
                ),
            })
    }

    /// Puts buffers back for later calls of `f` (up to [`SPARE_CALLS`] of each kind).
    fn keep(&self, f: &FunctionDef, put: impl FnOnce(&mut Spare)) {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        // The function's name is copied only the first time it keeps anything.
        let s = match spare.get_mut(&f.name) {
            Some(s) => s,
            None => spare.entry(f.name.clone()).or_default(),
        };
        put(s);
        s.transients.truncate(SPARE_CALLS);
    }

    /// [`FunctionDef::check_inputs`], its error a [`RuntimeError::Input`].
    fn check_inputs<'a>(
        &self,
        f: &FunctionDef,
        inputs: impl ExactSizeIterator<Item = (ElementType, &'a [usize])>,
    ) -> Result<Symbols, RuntimeError> {
        f.check_inputs(inputs).map_err(RuntimeError::Input)
    }

    /// Runs `f`'s host program on bound inputs; returns the output buffers (the transient one
    /// goes back to the spare pool).
    fn execute(
        &self,
        f: &FunctionDef,
        bound: &Bound,
        in_bufs: Vec<Arc<dyn Buffer>>,
    ) -> Result<Vec<Arc<dyn Buffer>>, RuntimeError> {
        let name = f.name.as_str();
        let program = &bound.program;
        let (mut spare_outputs, spare_transient) = {
            let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
            match spare.get_mut(name) {
                Some(s) => (
                    s.outputs.iter_mut().map(Vec::pop).collect::<Vec<_>>(),
                    s.transients.pop(),
                ),
                None => (vec![], None),
            }
        };
        let mut out_bufs = vec![];
        for (i, (sig, shape)) in f.outputs.iter().zip(&bound.output_shapes).enumerate() {
            let size = shape.iter().product::<usize>() * sig.element_type.byte_size();
            match spare_outputs.get_mut(i).and_then(Option::take) {
                Some(b) if b.len() == size => out_bufs.push(b),
                _ => out_bufs.push(self.device.allocate(size)?),
            }
        }
        let transient_size = program.transient_size as usize;
        let transient = match spare_transient {
            Some(t) if t.len() >= transient_size => t,
            _ => self.device.allocate(transient_size)?,
        };
        let mut cb = CommandBuffer::with_capacity(program.insts.len());
        for inst in &program.insts {
            match inst {
                HostInst::Barrier => cb.barrier(),
                HostInst::Dispatch {
                    executable,
                    kernel,
                    workgroups,
                    bindings,
                    params,
                } => {
                    let exe = self.executable(f, *executable)?;
                    let binds = bindings
                        .iter()
                        .map(|b| {
                            let buffer = match b.space {
                                BufferSpace::Input(i) => in_bufs[i as usize].clone(),
                                BufferSpace::Output(i) => out_bufs[i as usize].clone(),
                                BufferSpace::Constant(i) => self.constants[i as usize].clone().ok_or_else(|| RuntimeError::BadModule {
                                    module: self.module.name.clone(),
                                    message: format!("function '{name}' reads constant {i}, which was not loaded"),
                                })?,
                                BufferSpace::Transient => transient.clone(),
                            };
                            Ok(BufferBinding {
                                buffer,
                                offset: b.offset as usize,
                                length: b.length as usize,
                            })
                        })
                        .collect::<Result<Vec<_>, RuntimeError>>()?;
                    let params = params.iter().map(|&p| p as i64).collect();
                    let Some(workgroups) = workgroups else {
                        return Err(RuntimeError::BadModule {
                            module: self.module.name.clone(),
                            message: format!("function '{name}' has a dispatch without a grid"),
                        });
                    };
                    let workgroups = workgroups.map(|g| g as u32);
                    cb.dispatch_with_params(exe, *kernel, workgroups, binds, params)?;
                }
            }
        }
        self.device.queue_execute(&cb, None)?;
        self.keep(f, |s| s.transients.push(transient));
        Ok(out_bufs)
    }
}
