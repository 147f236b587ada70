//! The HAL over any vendor [`Api`], written once for `cuda` and `hip`: devices by UUID,
//! device-local buffers reached by copies, executables as loaded modules, and a queue that
//! launches each dispatch on one in-order stream (so a barrier needs no command) and waits
//! for it before signalling.

use crate::api::{uuid_path, Api, Description, Handle};
use kiln_gpu_binary::{ErrorCode, Executable as Binary, Kernel};
use kiln_runtime::hal::{
    check_transfer, host_range, Buffer, Command, CommandBuffer, Device, DeviceInfo, DeviceOptions,
    Driver, Executable, HostBytes, Semaphore,
};
use kiln_runtime::HalError;
use std::any::Any;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, OnceLock};

/// A HAL driver over the vendor library `A`, opened on first use.
pub struct GpuDriver<A: Api> {
    api: OnceLock<Result<Arc<A>, String>>,
}

impl<A: Api> Default for GpuDriver<A> {
    fn default() -> Self {
        GpuDriver {
            api: OnceLock::new(),
        }
    }
}

impl<A: Api> GpuDriver<A> {
    /// The opened library, or why it cannot be used.
    fn api(&self) -> Result<Arc<A>, HalError> {
        self.api
            .get_or_init(|| A::open().map(Arc::new))
            .clone()
            .map_err(|reason| HalError::Unavailable {
                driver: A::DRIVER.into(),
                reason,
            })
    }

    fn devices(&self, api: &A) -> Result<Vec<(i32, Description)>, HalError> {
        let failed = |reason: String| HalError::Unavailable {
            driver: A::DRIVER.into(),
            reason,
        };
        let n = api.device_count().map_err(failed)?;
        (0..n)
            .map(|i| Ok((i, api.describe(i).map_err(failed)?)))
            .collect()
    }
}

impl<A: Api> Driver for GpuDriver<A> {
    fn name(&self) -> &str {
        A::DRIVER
    }
    fn description(&self) -> &str {
        A::DESCRIPTION
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        let api = self.api()?;
        Ok(self
            .devices(&api)?
            .into_iter()
            .map(|(i, d)| DeviceInfo {
                device_id: i as u64,
                path: uuid_path(&d.uuid),
                name: d.name,
            })
            .collect())
    }
    fn create_device(
        &self,
        path: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        if let Some((key, _)) = options.params.first() {
            return Err(HalError::BadOption(format!(
                "{} devices take no options (got '{key}')",
                A::DRIVER
            )));
        }
        let api = self.api()?;
        let devices = self.devices(&api)?;
        let chosen = devices.into_iter().enumerate().find(|(i, (_, d))| {
            path.is_empty() && *i == 0 || uuid_path(&d.uuid) == path || i.to_string() == path
        });
        let Some((_, (ordinal, description))) = chosen else {
            let available = self
                .enumerate_devices()?
                .iter()
                .map(|d| d.path.clone())
                .collect::<Vec<_>>();
            return Err(HalError::UnknownDevice {
                driver: A::DRIVER.into(),
                path: path.into(),
                available: if available.is_empty() {
                    "none".into()
                } else {
                    available.join(", ")
                },
            });
        };
        Ok(Arc::new(GpuDevice::new(api, ordinal, description)?))
    }
}

/// What a device's buffers, executables and queue share: the library, the context, the
/// stream and the status word kernels report errors in.
struct Shared<A: Api> {
    api: Arc<A>,
    ordinal: i32,
    context: Handle,
    stream: Handle,
    status: u64,
}

fn device_error<A: Api>(message: String) -> HalError {
    HalError::Device(format!("{}: {message}", A::DRIVER))
}

impl<A: Api> Shared<A> {
    /// Makes the device's context current on this thread.
    fn enter(&self) -> Result<&A, HalError> {
        self.api
            .make_current(self.context)
            .map_err(device_error::<A>)?;
        Ok(&self.api)
    }
}

impl<A: Api> Drop for Shared<A> {
    fn drop(&mut self) {
        if self.api.make_current(self.context).is_ok() {
            self.api.free(self.status);
            self.api.destroy_stream(self.stream);
        }
        self.api.detach(self.ordinal, self.context);
    }
}

/// A `cuda` or `hip` device.
pub struct GpuDevice<A: Api> {
    shared: Arc<Shared<A>>,
    info: DeviceInfo,
    description: Description,
    /// One submission at a time: the stream and the status word are the queue's.
    queue: Mutex<()>,
}

impl<A: Api> GpuDevice<A> {
    fn new(api: Arc<A>, ordinal: i32, description: Description) -> Result<Self, HalError> {
        let context = api.attach(ordinal).map_err(device_error::<A>)?;
        let setup = || -> Result<(Handle, u64), String> {
            api.make_current(context)?;
            let stream = api.create_stream()?;
            match api.allocate(4) {
                Ok(status) => Ok((stream, status)),
                Err(e) => {
                    api.destroy_stream(stream);
                    Err(e)
                }
            }
        };
        let (stream, status) = setup().map_err(|e| {
            api.detach(ordinal, context);
            device_error::<A>(e)
        })?;
        Ok(GpuDevice {
            info: DeviceInfo {
                device_id: ordinal as u64,
                path: uuid_path(&description.uuid),
                name: description.name.clone(),
            },
            shared: Arc::new(Shared {
                api,
                ordinal,
                context,
                stream,
                status,
            }),
            description,
            queue: Mutex::new(()),
        })
    }

    fn buffer(&self, bytes: usize, writable: bool) -> Result<GpuBuffer<A>, HalError> {
        let api = self.shared.enter()?;
        let ptr = if bytes == 0 {
            0
        } else {
            let ptr = api
                .allocate(bytes)
                .map_err(|e| device_error::<A>(format!("allocating {bytes} bytes: {e}")))?;
            let buffer = GpuBuffer {
                shared: self.shared.clone(),
                ptr,
                len: bytes,
                writable,
            };
            api.zero(ptr, bytes).map_err(device_error::<A>)?;
            return Ok(buffer);
        };
        Ok(GpuBuffer {
            shared: self.shared.clone(),
            ptr,
            len: 0,
            writable,
        })
    }

    /// Checks that the code of `binary` can run on this device.
    fn check_runs(&self, binary: &Binary) -> Result<(), String> {
        let device = &self.description;
        let target = binary.target.as_str();
        let runs = match binary.kind {
            // PTX runs on its architecture and later ones (the driver compiles it).
            kiln_gpu_binary::CodeKind::Ptx => sm_number(target) <= sm_number(&device.arch),
            // A code object runs on the architecture it was compiled for.
            kiln_gpu_binary::CodeKind::Hsaco => target == device.arch,
            // Metal and WGSL sources are for the metal and webgpu drivers (`load_executable`
            // refused their formats).
            kiln_gpu_binary::CodeKind::Msl | kiln_gpu_binary::CodeKind::Wgsl => false,
        };
        if !runs {
            return Err(format!(
                "compiled for {target}; this device is {} (recompile with the target for it)",
                device.arch
            ));
        }
        for k in &binary.kernels {
            if k.workgroup_size > device.max_threads_per_block {
                return Err(format!(
                    "kernel '{}' uses {} threads per block; the device allows {}",
                    k.name, k.workgroup_size, device.max_threads_per_block
                ));
            }
            if k.shared_memory > device.max_shared_memory_per_block {
                return Err(format!(
                    "kernel '{}' uses {} bytes of shared memory; the device allows {}",
                    k.name, k.shared_memory, device.max_shared_memory_per_block
                ));
            }
        }
        Ok(())
    }
}

/// The number of an `sm_NN` architecture (0 for anything else).
fn sm_number(arch: &str) -> u32 {
    arch.strip_prefix("sm_")
        .and_then(|n| n.trim_end_matches(char::is_alphabetic).parse().ok())
        .unwrap_or(0)
}

impl<A: Api> Device for GpuDevice<A> {
    fn info(&self) -> DeviceInfo {
        self.info.clone()
    }
    fn driver_name(&self) -> &str {
        A::DRIVER
    }
    fn properties(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("uuid".to_string(), self.info.path.clone()),
            ("architecture".to_string(), self.description.arch.clone()),
        ];
        out.extend(self.description.properties.iter().cloned());
        out
    }
    fn executable_formats(&self) -> Vec<String> {
        vec![A::FORMAT.to_string()]
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(self.buffer(bytes, true)?))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        let data = host_range(bytes.bytes(), offset, length)?;
        let mut buffer = self.buffer(length, true)?;
        buffer.write(0, data)?;
        buffer.writable = false;
        Ok(Arc::new(buffer))
    }
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        if format != A::FORMAT {
            return Err(HalError::UnsupportedFormat {
                format: format.into(),
                supported: A::FORMAT.into(),
            });
        }
        let refused = |reason: String| HalError::BadExecutable {
            format: format.into(),
            reason,
        };
        let binary = Binary::decode(data).map_err(refused)?;
        if binary.kind.format() != A::FORMAT {
            return Err(refused(format!("it holds {} code", binary.kind.format())));
        }
        self.check_runs(&binary)
            .map_err(|reason| HalError::CannotRun {
                format: format.into(),
                reason,
            })?;
        let api = self.shared.enter()?;
        let module = api.load_module(&binary.code).map_err(refused)?;
        // Owned from here, so the module is unloaded on any error below.
        let mut loaded = GpuExecutable {
            shared: self.shared.clone(),
            module,
            functions: vec![],
            kernels: vec![],
        };
        loaded.functions = binary
            .kernels
            .iter()
            .map(|k| api.function(module, &k.name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(refused)?;
        loaded.kernels = binary.kernels;
        Ok(Arc::new(loaded))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        let _queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let api = self.shared.enter()?;
        api.zero(self.shared.status, 4).map_err(device_error::<A>)?;
        for (index, command) in commands.commands().iter().enumerate() {
            if let Command::Dispatch {
                executable,
                entry_point,
                workgroups,
                bindings,
                params,
            } = command
            {
                let exe = executable
                    .as_any()
                    .downcast_ref::<GpuExecutable<A>>()
                    .filter(|exe| Arc::ptr_eq(&exe.shared, &self.shared))
                    .ok_or_else(|| {
                        HalError::Invalid(format!(
                            "{}: dispatch {index} is not of an executable this device loaded",
                            A::DRIVER
                        ))
                    })?;
                let e = *entry_point as usize;
                let kernel = &exe.kernels[e];
                let failed = |reason: String| HalError::Dispatch {
                    index,
                    kernel: kernel.name.clone(),
                    reason,
                };
                let mut args = Arguments::default();
                self.arguments(kernel, bindings, params, &mut args)
                    .map_err(failed)?;
                if workgroups.contains(&0) {
                    continue;
                }
                let mut pointers = args.pointers();
                // SAFETY: `arguments` gave one value per kernel parameter in the calling
                // convention's order (kiln_gpu_binary), each device pointer inside a buffer
                // range the kernel's binding extents were checked against.
                unsafe {
                    api.launch(
                        exe.functions[e],
                        *workgroups,
                        kernel.workgroup_size,
                        self.shared.stream,
                        &mut pointers,
                    )
                }
                .map_err(failed)?;
            }
        }
        api.synchronize(self.shared.stream)
            .map_err(device_error::<A>)?;
        let mut word = [0u8; 4];
        api.download(self.shared.status, &mut word)
            .map_err(device_error::<A>)?;
        if let Some(message) = ErrorCode::describe(u32::from_le_bytes(word)) {
            return Err(device_error::<A>(message));
        }
        if let Some((s, v)) = signal {
            s.signal(v);
        }
        Ok(())
    }
}

/// A launch's parameter values, kept alive while the launch reads them.
#[derive(Default)]
struct Arguments {
    pointers: Vec<u64>,
    sizes: Vec<i32>,
}

impl Arguments {
    /// One pointer per parameter value, in order: device pointers, then sizes.
    fn pointers(&mut self) -> Vec<*mut c_void> {
        let p = self.pointers.iter_mut().map(|v| (v as *mut u64).cast());
        let s = self.sizes.iter_mut().map(|v| (v as *mut i32).cast());
        p.chain(s).collect()
    }
}

impl<A: Api> GpuDevice<A> {
    /// The parameter values of a dispatch of `kernel`, after checking its bindings.
    fn arguments(
        &self,
        kernel: &Kernel,
        bindings: &[kiln_runtime::hal::BufferBinding],
        params: &[i64],
        args: &mut Arguments,
    ) -> Result<(), String> {
        let bound = kernel.bind(params)?;
        if bindings.len() != kernel.bindings.len() {
            return Err(format!(
                "the kernel takes {} bindings, got {}",
                kernel.bindings.len(),
                bindings.len()
            ));
        }
        for (i, ((b, t), &extent)) in bindings
            .iter()
            .zip(&kernel.bindings)
            .zip(&bound.binding_extents)
            .enumerate()
        {
            if (b.length as u64) < extent {
                return Err(format!(
                    "binding {i} has {} bytes; the kernel reads up to byte {extent}",
                    b.length
                ));
            }
            if b.offset % t.byte_size() != 0 {
                return Err(format!(
                    "binding {i} starts at byte {}, not a multiple of its {}-byte elements",
                    b.offset,
                    t.byte_size()
                ));
            }
            let buffer = b
                .buffer
                .as_any()
                .downcast_ref::<GpuBuffer<A>>()
                .filter(|buffer| Arc::ptr_eq(&buffer.shared, &self.shared))
                .ok_or_else(|| format!("binding {i} is not a buffer of this device"))?;
            args.pointers.push(buffer.ptr + b.offset as u64);
        }
        if kernel.reports_errors {
            args.pointers.push(self.shared.status);
        }
        // `bind` checked that each size fits an i32.
        args.sizes.extend(params.iter().map(|&p| p as i32));
        Ok(())
    }
}

/// Device memory of a `cuda` or `hip` device, reached from the host by copies.
pub struct GpuBuffer<A: Api> {
    shared: Arc<Shared<A>>,
    ptr: u64,
    len: usize,
    writable: bool,
}

impl<A: Api> Buffer for GpuBuffer<A> {
    fn len(&self) -> usize {
        self.len
    }
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, out.len(), false)?;
        if out.is_empty() {
            return Ok(());
        }
        let api = self.shared.enter()?;
        api.download(self.ptr + offset as u64, out)
            .map_err(device_error::<A>)
    }
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, data.len(), true)?;
        if data.is_empty() {
            return Ok(());
        }
        let api = self.shared.enter()?;
        api.upload(self.ptr + offset as u64, data)
            .map_err(device_error::<A>)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<A: Api> Drop for GpuBuffer<A> {
    fn drop(&mut self) {
        if self.len > 0 && self.shared.enter().is_ok() {
            self.shared.api.free(self.ptr);
        }
    }
}

/// A loaded module and its kernels' functions.
pub struct GpuExecutable<A: Api> {
    shared: Arc<Shared<A>>,
    module: Handle,
    functions: Vec<Handle>,
    kernels: Vec<Kernel>,
}

impl<A: Api> Executable for GpuExecutable<A> {
    fn entry_point_count(&self) -> usize {
        self.kernels.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn workgroup_count(&self, entry_point: u32, params: &[i64]) -> Result<[u32; 3], HalError> {
        let count = kiln_gpu_binary::workgroups(&self.kernels, entry_point, params);
        Ok([count.map_err(HalError::Invalid)?, 1, 1])
    }
}

impl<A: Api> Drop for GpuExecutable<A> {
    fn drop(&mut self) {
        if self.shared.enter().is_ok() {
            self.shared.api.unload_module(self.module);
        }
    }
}
