//! Loading modules and running their functions: the runtime's VM.
//!
//! Loading verifies the whole module first ([`kiln_module::Module::read`]), loads each
//! executable the device can run, and wraps every constant as a read-only buffer over the
//! module bytes (used in place when the device reads host memory, as local devices do).
//!
//! A call checks its inputs against the function's signature, allocates the outputs and one
//! transient arena, records the host program's dispatches and barriers into a command buffer,
//! executes it and reads the outputs back.

use crate::hal::{Buffer, BufferBinding, CommandBuffer, Device, Executable, HostBytes};
use crate::{HalError, RuntimeError};
use kiln_module::{BufferSpace, FunctionDef, HostInst, Module};
use kiln_types::{ElementType, HostTensor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The bytes of a module file: memory-mapped from a path, or an aligned copy of given bytes.
pub enum ModuleBytes {
    Mapped(memmap2::Mmap),
    /// Stored as u64 words so constants are aligned for every element type.
    Owned(Vec<u64>, usize),
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
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        ModuleBytes::Owned(words, bytes.len())
    }
}

impl HostBytes for ModuleBytes {
    fn bytes(&self) -> &[u8] {
        match self {
            ModuleBytes::Mapped(m) => m,
            // SAFETY: any u64 slice is a valid u8 slice of 8x the length; alignment only decreases.
            ModuleBytes::Owned(words, len) => unsafe {
                &std::slice::from_raw_parts(words.as_ptr() as *const u8, words.len() * 8)[..*len]
            },
        }
    }
}

/// A call input in host memory the caller owns; see [`LoadedModule::invoke_host`].
pub struct HostInput {
    pub element_type: ElementType,
    pub shape: Vec<usize>,
    pub bytes: Arc<dyn HostBytes>,
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
    executables: Vec<Option<Arc<dyn Executable>>>,
    constants: Vec<Arc<dyn Buffer>>,
    /// Output and transient buffers of finished calls, per function, for the next calls.
    spare: Mutex<HashMap<String, Vec<CallBuffers>>>,
}

/// What one call needs besides its inputs. Reused without clearing: compiled programs write
/// every output byte and every transient byte before reading it.
struct CallBuffers {
    outputs: Vec<Arc<dyn Buffer>>,
    transient: Arc<dyn Buffer>,
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
        let mut executables = vec![];
        for e in &module.executables {
            executables.push(if formats.contains(&e.format) {
                Some(device.load_executable(&e.format, &e.data).map_err(|err| {
                    RuntimeError::BadModule {
                        module: source.to_string(),
                        message: format!("executable for '{}': {err}", e.target),
                    }
                })?)
            } else {
                None
            });
        }
        if !module.executables.is_empty() && executables.iter().all(Option::is_none) {
            let targets: Vec<String> = module
                .executables
                .iter()
                .map(|e| format!("{} ({})", e.target, e.format))
                .collect();
            return Err(RuntimeError::Incompatible {
                module: source.to_string(),
                device: device.driver_name().to_string(),
                message: format!(
                    "the module was compiled for {} but the device runs {}",
                    targets.join(", "),
                    if formats.is_empty() {
                        "no kiln executables yet".to_string()
                    } else {
                        formats.join(", ")
                    }
                ),
            });
        }
        let mut constants = vec![];
        for c in &module.constants {
            let host: Arc<dyn HostBytes> = bytes.clone();
            constants.push(device.import_host(host, c.offset as usize, c.length as usize)?);
        }
        Ok(LoadedModule {
            module,
            device,
            executables,
            constants,
            spare: Mutex::new(HashMap::new()),
        })
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The module's constants as device buffers, in constant-table order.
    pub fn constants(&self) -> &[Arc<dyn Buffer>] {
        &self.constants
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
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Calls function `name` with host tensors and returns its results.
    ///
    /// Inputs must match the signature exactly (count, element type and shape). They are copied
    /// to the device; [`LoadedModule::invoke_owned`] avoids that copy where the device can read
    /// host memory.
    pub fn invoke(
        &self,
        name: &str,
        inputs: &[HostTensor],
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let inputs = inputs
            .iter()
            .map(|t| HostInput {
                element_type: t.element_type,
                shape: t.shape.clone(),
                bytes: Arc::new(ModuleBytes::from_bytes(&t.data)),
            })
            .collect();
        self.invoke_host(name, inputs)
    }

    /// Like [`LoadedModule::invoke`], but takes the inputs by value so the device can use their
    /// memory in place (local devices do) instead of copying it.
    pub fn invoke_owned(
        &self,
        name: &str,
        inputs: Vec<HostTensor>,
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let inputs = inputs
            .into_iter()
            .map(|t| HostInput {
                element_type: t.element_type,
                shape: t.shape.clone(),
                bytes: Arc::new(TensorBytes(t)),
            })
            .collect();
        self.invoke_host(name, inputs)
    }

    /// Calls function `name` with inputs held in caller-owned host memory, which the device uses
    /// in place where it can read host memory (the bytes must not change during the call).
    pub fn invoke_host(
        &self,
        name: &str,
        inputs: Vec<HostInput>,
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let f = self.check_inputs(
            name,
            inputs.iter().map(|i| (i.element_type, i.shape.as_slice())),
        )?;
        let mut in_bufs = vec![];
        for (i, input) in inputs.into_iter().enumerate() {
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
        self.run(f, in_bufs)
    }

    fn check_inputs<'a>(
        &self,
        name: &str,
        inputs: impl ExactSizeIterator<Item = (ElementType, &'a [usize])>,
    ) -> Result<&FunctionDef, RuntimeError> {
        let f = self.function(name)?;
        if inputs.len() != f.inputs.len() {
            return Err(RuntimeError::Input(format!(
                "function '{name}' takes {} inputs but {} were given",
                f.inputs.len(),
                inputs.len()
            )));
        }
        for (i, (sig, (element_type, shape))) in f.inputs.iter().zip(inputs).enumerate() {
            let shape_ok = sig.dims.len() == shape.len()
                && sig
                    .dims
                    .iter()
                    .zip(shape)
                    .all(|(&d, &n)| d < 0 || d as usize == n);
            if sig.element_type != element_type || !shape_ok {
                let got = HostTensor::zeros(element_type, &[]).type_string();
                let got = if shape.is_empty() {
                    got
                } else {
                    format!("{}x{got}", kiln_types::shape_string(shape))
                };
                return Err(RuntimeError::Input(format!(
                    "input {i} ('{}') of '{name}' expects {} but got {}",
                    sig.name,
                    sig.type_string(),
                    got
                )));
            }
        }
        Ok(f)
    }

    fn run(
        &self,
        f: &FunctionDef,
        in_bufs: Vec<Arc<dyn Buffer>>,
    ) -> Result<Vec<HostTensor>, RuntimeError> {
        let name = f.name.as_str();
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(name)
            .and_then(Vec::pop);
        let buffers = match spare {
            Some(b) => b,
            None => {
                let mut outputs = vec![];
                for sig in &f.outputs {
                    let size = sig.byte_size().ok_or_else(|| {
                        RuntimeError::Input(format!("output '{}' has a dynamic shape", sig.name))
                    })?;
                    outputs.push(self.device.allocate(size as usize)?);
                }
                CallBuffers {
                    outputs,
                    transient: self.device.allocate(f.program.transient_size as usize)?,
                }
            }
        };
        let (out_bufs, transient) = (&buffers.outputs, &buffers.transient);
        let mut cb = CommandBuffer::new();
        for inst in &f.program.insts {
            match inst {
                HostInst::Barrier => cb.barrier(),
                HostInst::Dispatch {
                    executable,
                    kernel,
                    workgroups,
                    bindings,
                } => {
                    let exe = self.executables[*executable as usize].clone().ok_or_else(|| RuntimeError::Incompatible {
                        module: self.module.name.clone(),
                        device: self.device.driver_name().to_string(),
                        message: format!("function '{name}' needs executable {executable}, which this device cannot load"),
                    })?;
                    let binds = bindings
                        .iter()
                        .map(|b| {
                            let buffer = match b.space {
                                BufferSpace::Input(i) => in_bufs[i as usize].clone(),
                                BufferSpace::Output(i) => out_bufs[i as usize].clone(),
                                BufferSpace::Constant(i) => self.constants[i as usize].clone(),
                                BufferSpace::Transient => transient.clone(),
                            };
                            BufferBinding {
                                buffer,
                                offset: b.offset as usize,
                                length: b.length as usize,
                            }
                        })
                        .collect();
                    cb.dispatch(exe, *kernel, *workgroups, binds)?;
                }
            }
        }
        self.device.queue_execute(&cb, None)?;
        let mut outputs = vec![];
        for (sig, buf) in f.outputs.iter().zip(out_bufs) {
            let mut data = vec![0u8; buf.len()];
            buf.read(0, &mut data)?;
            let shape = sig.dims.iter().map(|&d| d as usize).collect();
            outputs.push(
                HostTensor::new(sig.element_type, shape, data)
                    .map_err(|e| HalError::Device(e.to_string()))?,
            );
        }
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        let list = spare.entry(f.name.clone()).or_default();
        if list.len() < SPARE_CALLS {
            list.push(buffers);
        }
        Ok(outputs)
    }
}
