//! `kiln._kiln`: the native half of the Python package.
//!
//! It converts types and errors and holds no logic: compiler errors become
//! `kiln.compiler.CompilerError`, every runtime failure `kiln.runtime.KilnRuntimeError` (a
//! `RuntimeError`). Tensors cross the boundary as `(dtype name, shape, bytes)`; the Python side
//! turns them into NumPy arrays. The GIL is released while compiling and running.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_runtime::hal::{Device, Driver};
use kiln_runtime::{HostInput, LoadedModule, ModuleBytes};
use kiln_types::{ElementType, HostTensor};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict};
use std::sync::Arc;

create_exception!(
    _kiln,
    CompilerError,
    PyException,
    "A model could not be compiled; the message says where and why."
);
create_exception!(
    _kiln,
    KilnRuntimeError,
    PyRuntimeError,
    "A module could not be loaded or run, or a driver failed to initialise."
);

fn runtime_err(e: impl std::fmt::Display) -> PyErr {
    KilnRuntimeError::new_err(e.to_string())
}

fn compiler_err(e: impl std::fmt::Display) -> PyErr {
    CompilerError::new_err(e.to_string())
}

/// Runs `f`, turning a panic (always a kiln bug) into an error message instead of letting it
/// cross into Python as a `PanicException`.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("internal error: {msg}; please report this")
    })
}

/// Drivers loaded from plugins (`load_driver_plugin`), which [`registry`] adds.
static PLUGINS: std::sync::Mutex<Vec<Arc<dyn Driver>>> = std::sync::Mutex::new(Vec::new());

fn registry() -> kiln_runtime::DriverRegistry {
    let mut r = kiln_runtime::DriverRegistry::new();
    for driver in PLUGINS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        r.register(driver.clone());
    }
    kiln_hal_local::register(&mut r);
    kiln_hal_vulkan::register(&mut r);
    kiln_hal_webgpu::register(&mut r);
    kiln_hal_gpu::register(&mut r);
    #[cfg(target_vendor = "apple")]
    kiln_hal_metal::register(&mut r);
    r
}

fn options(target_backends: Vec<String>, extra_args: Vec<String>) -> PyResult<CompileOptions> {
    let mut o = CompileOptions {
        targets: target_backends,
        ..Default::default()
    };
    kiln_compiler::flags::apply(&mut o, &extra_args).map_err(compiler_err)?;
    if o.targets.is_empty() {
        o.targets = kiln_compiler::flags::resolve_targets(&[], &[], &[]).map_err(compiler_err)?;
    }
    Ok(o)
}

fn output(py: Python<'_>, out: CompileOutput) -> Py<PyAny> {
    match out {
        CompileOutput::Module(b) => PyBytes::new(py, &b).into_any().unbind(),
        CompileOutput::Text(t) => t
            .into_pyobject(py)
            .expect("str conversion")
            .into_any()
            .unbind(),
    }
}

/// Target backends this build can compile for.
#[pyfunction]
fn query_available_targets() -> Vec<String> {
    let mut t: Vec<String> = kiln_compiler::available_targets()
        .iter()
        .map(|s| s.to_string())
        .collect();
    t.sort();
    t
}

/// Compiles a model file; returns module bytes (or IR text with `--compile-to`).
#[pyfunction]
#[pyo3(signature = (path, target_backends, extra_args, input_type=None))]
fn compile_file(
    py: Python<'_>,
    path: String,
    target_backends: Vec<String>,
    extra_args: Vec<String>,
    input_type: Option<String>,
) -> PyResult<Py<PyAny>> {
    let o = options(target_backends, extra_args)?;
    let kind = input_type.map(|t| parse_input_type(&t)).transpose()?;
    let path = std::path::PathBuf::from(path);
    let (out, notes) = py
        .detach(|| {
            guarded(|| {
                let import = |io: &kiln_import::ImportOptions| {
                    kiln_import::import_file_with(&path, kind, io)
                };
                kiln_compiler::import_and_compile(&import, &kiln_compiler::named(&o, &path))
            })
        })
        .map_err(compiler_err)?
        .map_err(compiler_err)?;
    warn_notes(py, &notes)?;
    Ok(output(py, out))
}

/// Reports import notes (e.g. symbolic dims compiled as 1) as Python `UserWarning`s.
fn warn_notes(py: Python<'_>, notes: &[String]) -> PyResult<()> {
    for n in notes {
        let msg = std::ffi::CString::new(n.as_str()).unwrap_or_default();
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyUserWarning>(),
            &msg,
            1,
        )?;
    }
    Ok(())
}

fn parse_input_type(t: &str) -> PyResult<kiln_import::InputType> {
    t.parse()
        .map_err(|e: kiln_import::ImportError| CompilerError::new_err(e.to_string()))
}

/// Compiles a model held in memory: ONNX bytes, or kiln IR text.
#[pyfunction]
#[pyo3(signature = (source, input_type, target_backends, extra_args))]
fn compile_bytes(
    py: Python<'_>,
    source: Vec<u8>,
    input_type: String,
    target_backends: Vec<String>,
    extra_args: Vec<String>,
) -> PyResult<Py<PyAny>> {
    let o = options(target_backends, extra_args)?;
    let kind = parse_input_type(&input_type)?;
    let (out, notes) = py
        .detach(|| {
            guarded(|| match kind {
                kiln_import::InputType::Onnx => {
                    let import = |io: &kiln_import::ImportOptions| {
                        kiln_import::onnx::import_bytes_with(&source, None, io)
                    };
                    kiln_compiler::import_and_compile(&import, &o)
                }
                kiln_import::InputType::KilnIr => {
                    let text = std::str::from_utf8(&source).map_err(|_| {
                        kiln_import::ImportError::Malformed("kiln IR text is not UTF-8".into())
                    })?;
                    let program = kiln_ir::text::parse_program(text)
                        .map_err(|e| kiln_import::ImportError::Malformed(e.to_string()))?;
                    Ok((kiln_compiler::compile_program(program, &o)?, vec![]))
                }
            })
        })
        .map_err(compiler_err)?
        .map_err(compiler_err)?;
    warn_notes(py, &notes)?;
    Ok(output(py, out))
}

/// Names of the HAL drivers in this build.
#[pyfunction]
fn query_available_drivers() -> Vec<String> {
    registry().names()
}

/// Loads a HAL driver plugin (a shared library implementing kiln's driver plugin ABI); its
/// driver is then available like the built-in ones.
#[pyfunction]
fn load_driver_plugin(path: std::path::PathBuf) -> PyResult<HalDriver> {
    let inner = kiln_hal_plugin::load(&path).map_err(runtime_err)?;
    PLUGINS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(inner.clone());
    Ok(HalDriver { inner })
}

/// A HAL driver.
#[pyclass(module = "kiln.runtime", frozen)]
struct HalDriver {
    inner: Arc<dyn Driver>,
}

#[pymethods]
impl HalDriver {
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Devices as dicts with `device_id`, `path` and `name`.
    fn query_available_devices<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let devices = self.inner.enumerate_devices().map_err(runtime_err)?;
        devices
            .into_iter()
            .map(|d| {
                let dict = PyDict::new(py);
                dict.set_item("device_id", d.device_id)?;
                dict.set_item("path", d.path)?;
                dict.set_item("name", d.name)?;
                Ok(dict)
            })
            .collect()
    }

    /// Creates the device at `path` (empty: the default device).
    #[pyo3(signature = (path=String::new()))]
    fn create_device(&self, path: String) -> PyResult<HalDevice> {
        let inner = self
            .inner
            .create_device(&path, &Default::default())
            .map_err(runtime_err)?;
        Ok(HalDevice {
            inner,
            uri: format!("{}://{path}", self.inner.name()),
        })
    }

    fn create_default_device(&self) -> PyResult<HalDevice> {
        self.create_device(String::new())
    }

    fn __repr__(&self) -> String {
        format!("<HalDriver '{}'>", self.inner.name())
    }
}

/// A HAL device.
#[pyclass(module = "kiln.runtime", frozen)]
struct HalDevice {
    inner: Arc<dyn Device>,
    uri: String,
}

#[pymethods]
impl HalDevice {
    #[getter]
    fn uri(&self) -> String {
        self.uri.clone()
    }
    fn __repr__(&self) -> String {
        format!("<HalDevice '{}'>", self.uri)
    }
}

/// Looks up a driver by name.
#[pyfunction]
fn get_driver(name: &str) -> PyResult<HalDriver> {
    let r = registry();
    let d = r.get(name).ok_or_else(|| {
        runtime_err(format!(
            "unknown driver '{name}' (available: {})",
            r.names().join(", ")
        ))
    })?;
    Ok(HalDriver { inner: d.clone() })
}

/// Creates a device from a driver name or URI (`local-task`, `local-task://`).
#[pyfunction]
fn create_device(uri: &str) -> PyResult<HalDevice> {
    let inner = registry()
        .create_device(uri, &Default::default())
        .map_err(runtime_err)?;
    Ok(HalDevice {
        inner,
        uri: uri.to_string(),
    })
}

/// A call input used in place: a `bytes` object's contents, or a C-contiguous NumPy array's
/// memory (found through `__array_interface__`). `_owner` keeps the object alive for the call.
/// `bytes` are immutable; an array must not be written by other threads while a call that reads
/// it runs (the same contract as NumPy's own functions that release the GIL).
struct PyBytesHost {
    ptr: *const u8,
    len: usize,
    _owner: Py<PyAny>,
}

impl PyBytesHost {
    fn new(data: &Bound<'_, PyAny>) -> PyResult<PyBytesHost> {
        if let Ok(b) = data.cast::<PyBytes>() {
            let bytes = b.as_bytes();
            return Ok(PyBytesHost {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
                _owner: data.clone().unbind(),
            });
        }
        // A NumPy array: the Python side passes only C-contiguous arrays.
        let contiguous: bool = data.getattr("flags")?.get_item("C_CONTIGUOUS")?.extract()?;
        if !contiguous {
            return Err(runtime_err("an input array is not C-contiguous"));
        }
        let (address, _readonly): (usize, bool) = data
            .getattr("__array_interface__")?
            .get_item("data")?
            .extract()?;
        let len: usize = data.getattr("nbytes")?.extract()?;
        Ok(PyBytesHost {
            ptr: if len == 0 {
                std::ptr::NonNull::<u64>::dangling().as_ptr() as *const u8
            } else {
                address as *const u8
            },
            len,
            _owner: data.clone().unbind(),
        })
    }
}

/// A call's result, shown to NumPy through `__array_interface__` so `numpy.asarray` wraps it
/// without a copy (and keeps this object alive as the array's base): the output buffer itself
/// when it is host memory (local devices), else bytes read back from the device.
#[pyclass(module = "kiln.runtime", frozen)]
struct HostArray {
    data: ResultBytes,
    shape: Vec<usize>,
    typestr: &'static str,
}

enum ResultBytes {
    /// A host-memory output buffer the call handed over (it goes back to the module's pool
    /// when NumPy releases the array).
    Buffer(kiln_runtime::OutputBuffer, usize),
    Copied(Vec<u8>),
}

impl ResultBytes {
    fn address_and_len(&self) -> (usize, usize) {
        match self {
            ResultBytes::Buffer(b, address) => (*address, b.buffer.len()),
            ResultBytes::Copied(v) => (v.as_ptr() as usize, v.len()),
        }
    }
}

#[pymethods]
impl HostArray {
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("shape", pyo3::types::PyTuple::new(py, &self.shape)?)?;
        d.set_item("typestr", self.typestr)?;
        // Writable: the caller owns the result.
        let (address, len) = self.data.address_and_len();
        let address = if len == 0 {
            std::ptr::NonNull::<u64>::dangling().as_ptr() as usize
        } else {
            address
        };
        d.set_item("data", (address, false))?;
        Ok(d)
    }
}

// SAFETY: the pointed-to bytes are immutable and owned by `_owner` (itself Send + Sync).
unsafe impl Send for PyBytesHost {}
// SAFETY: as above.
unsafe impl Sync for PyBytesHost {}

impl kiln_runtime::hal::HostBytes for PyBytesHost {
    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` is the live, immutable buffer of `_owner`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A module loaded on a device.
#[pyclass(module = "kiln.runtime", frozen)]
struct LoadedModuleHandle {
    inner: Arc<LoadedModule>,
}

/// `(name, element type, dims)`, each dim the text of its size: a number, or an expression
/// over the function's symbols (`batch`, `(h+1)/2`); `["*"]` for a rank known only per call.
type Sig = (String, String, Vec<String>);
/// A tensor crossing the boundary: element type name, shape, bytes.
type Wire<B> = (String, Vec<usize>, B);

fn element_type(name: &str) -> PyResult<ElementType> {
    ElementType::from_name(name)
        .ok_or_else(|| runtime_err(format!("unsupported element type '{name}'")))
}

#[pymethods]
impl LoadedModuleHandle {
    /// Exported function names.
    fn function_names(&self) -> Vec<String> {
        self.inner
            .module()
            .functions
            .iter()
            .filter(|f| !f.internal)
            .map(|f| f.name.clone())
            .collect()
    }

    /// `(inputs, outputs)` of a function, each a list of `(name, element type, dims)`.
    fn signature(&self, name: &str) -> PyResult<(Vec<Sig>, Vec<Sig>)> {
        Ok(signature(self.inner.function(name).map_err(runtime_err)?))
    }

    /// Calls a function with `(element type, shape, data)` triples, `data` being `bytes` or a
    /// C-contiguous NumPy array (read in place); returns `(element type, shape, data)` per
    /// result, `data` a fresh object NumPy wraps without copying (`numpy.asarray`).
    fn invoke<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        inputs: Vec<Wire<Bound<'py, PyAny>>>,
    ) -> PyResult<Vec<Wire<Py<PyAny>>>> {
        let inputs = inputs
            .into_iter()
            .map(|(t, shape, data)| {
                let host = PyBytesHost::new(&data)?;
                Ok(HostInput {
                    element_type: element_type(&t)?,
                    shape,
                    bytes: Arc::new(host),
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let module = self.inner.clone();
        let name = name.to_string();
        let outputs = py
            .detach(move || guarded(|| module.invoke_host_buffers(&name, inputs)))
            .map_err(runtime_err)?
            .map_err(runtime_err)?;
        outputs
            .into_iter()
            .map(|o| {
                let name = o.element_type.name().to_string();
                let (element_type, shape) = (o.element_type, o.shape.clone());
                let data = match o.buffer.host_address() {
                    Some(address) => ResultBytes::Buffer(o, address),
                    None => {
                        let mut bytes = vec![0u8; o.buffer.len()];
                        o.buffer.read(0, &mut bytes).map_err(runtime_err)?;
                        ResultBytes::Copied(bytes)
                    }
                };
                Ok((
                    name,
                    shape.clone(),
                    host_result(py, element_type, &shape, data)?,
                ))
            })
            .collect()
    }
}

/// `(inputs, outputs)` of `f`, each a list of `(name, element type, dims)`.
fn signature(f: &kiln_module::FunctionDef) -> (Vec<Sig>, Vec<Sig>) {
    let sig = |s: &kiln_module::TensorSig| {
        (
            s.name.clone(),
            s.element_type.name().to_string(),
            match s.any_rank {
                // A rank known only per call (a run-time branch chose it).
                true => vec!["*".to_string()],
                false => s.dims.iter().map(|d| d.to_string()).collect(),
            },
        )
    };
    (
        f.inputs.iter().map(sig).collect(),
        f.outputs.iter().map(sig).collect(),
    )
}

/// A `vmvx-inline` module run by the inline runtime (no device).
#[pyclass(module = "kiln.runtime", frozen)]
struct InlineModuleHandle {
    inner: std::sync::Mutex<kiln_inline::InlineModule<'static>>,
}

impl InlineModuleHandle {
    fn module(&self) -> std::sync::MutexGuard<'_, kiln_inline::InlineModule<'static>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl InlineModuleHandle {
    /// Exported function names.
    fn function_names(&self) -> Vec<String> {
        let m = self.module();
        let exported = m.module().functions.iter().filter(|f| !f.internal);
        exported.map(|f| f.name.clone()).collect()
    }

    /// As `LoadedModuleHandle.signature`.
    fn signature(&self, name: &str) -> PyResult<(Vec<Sig>, Vec<Sig>)> {
        let m = self.module();
        let f = m
            .function(name)
            .ok_or_else(|| runtime_err(format!("no function named '{name}'")))?;
        Ok(signature(f))
    }

    /// As `LoadedModuleHandle.invoke`; the inputs are copied, the results fresh bytes.
    fn invoke<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        inputs: Vec<Wire<Bound<'py, PyAny>>>,
    ) -> PyResult<Vec<Wire<Py<PyAny>>>> {
        let inputs = inputs
            .into_iter()
            .map(|(t, shape, data)| {
                let host = PyBytesHost::new(&data)?;
                let bytes = kiln_runtime::hal::HostBytes::bytes(&host).to_vec();
                HostTensor::new(element_type(&t)?, shape, bytes).map_err(runtime_err)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let name = name.to_string();
        let outputs = py
            .detach(|| guarded(|| self.module().call_tensors(&name, &inputs)))
            .map_err(runtime_err)?
            .map_err(runtime_err)?;
        outputs
            .into_iter()
            .map(|o| {
                let name = o.element_type.name().to_string();
                let data = host_result(py, o.element_type, &o.shape, ResultBytes::Copied(o.data))?;
                Ok((name, o.shape, data))
            })
            .collect()
    }
}

/// A result as Python sees it: a `HostArray` NumPy wraps, or `bytearray` for element types
/// NumPy lacks.
fn host_result(
    py: Python<'_>,
    element_type: ElementType,
    shape: &[usize],
    data: ResultBytes,
) -> PyResult<Py<PyAny>> {
    Ok(match ElementType::numpy_typestr(element_type) {
        Some(typestr) => Py::new(
            py,
            HostArray {
                data,
                shape: shape.to_vec(),
                typestr,
            },
        )?
        .into_any(),
        None => {
            let (address, len) = data.address_and_len();
            // SAFETY: `data` owns `len` bytes at `address` for this statement.
            let bytes = unsafe { std::slice::from_raw_parts(address as *const u8, len) };
            PyByteArray::new(py, bytes).into_any().unbind()
        }
    })
}

/// Loads a module from a file path (memory-mapped) or from bytes onto `device`; with no
/// device, a module with a `vmvx-inline` executable runs on the inline runtime and any other
/// on a `local-task` device.
#[pyfunction]
#[pyo3(signature = (source, device))]
fn load_module(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    device: Option<&HalDevice>,
) -> PyResult<Py<PyAny>> {
    let (bytes, label) = if let Ok(b) = source.cast::<PyBytes>() {
        (ModuleBytes::from_bytes(b.as_bytes()), "<bytes>".to_string())
    } else {
        let path: std::path::PathBuf = source
            .extract()
            .map_err(|_| runtime_err("load_module takes a path or bytes"))?;
        (
            ModuleBytes::map(&path).map_err(runtime_err)?,
            path.display().to_string(),
        )
    };
    let dev = match device {
        Some(d) => d.inner.clone(),
        None => {
            let file = kiln_runtime::hal::HostBytes::bytes(&bytes);
            let inline = kiln_module::Module::read(file).is_ok_and(|m| {
                let formats = m.executables.iter().map(|e| e.format.as_str());
                formats.clone().any(|f| f == kiln_vmvx::INLINE_FORMAT)
            });
            if inline {
                let loaded = kiln_inline::InlineModule::load_copy(file)
                    .map_err(|e| runtime_err(format!("'{label}': {e}")))?;
                let handle = InlineModuleHandle {
                    inner: std::sync::Mutex::new(loaded),
                };
                return Ok(Py::new(py, handle)?.into_any());
            }
            registry()
                .create_device("local-task", &Default::default())
                .map_err(runtime_err)?
        }
    };
    let loaded = py
        .detach(move || guarded(|| LoadedModule::load(dev, Arc::new(bytes), &label)))
        .map_err(runtime_err)?
        .map_err(runtime_err)?;
    let handle = LoadedModuleHandle {
        inner: Arc::new(loaded),
    };
    Ok(Py::new(py, handle)?.into_any())
}

#[pymodule]
fn _kiln(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CompilerError", m.py().get_type::<CompilerError>())?;
    m.add("KilnRuntimeError", m.py().get_type::<KilnRuntimeError>())?;
    m.add_function(wrap_pyfunction!(query_available_targets, m)?)?;
    m.add_function(wrap_pyfunction!(compile_file, m)?)?;
    m.add_function(wrap_pyfunction!(compile_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(query_available_drivers, m)?)?;
    m.add_function(wrap_pyfunction!(get_driver, m)?)?;
    m.add_function(wrap_pyfunction!(load_driver_plugin, m)?)?;
    m.add_function(wrap_pyfunction!(create_device, m)?)?;
    m.add_function(wrap_pyfunction!(load_module, m)?)?;
    m.add_class::<HalDriver>()?;
    m.add_class::<HalDevice>()?;
    m.add_class::<LoadedModuleHandle>()?;
    m.add_class::<InlineModuleHandle>()?;
    m.add_class::<HostArray>()?;
    Ok(())
}
