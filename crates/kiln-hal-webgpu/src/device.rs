//! The driver, device, buffers and executables over wgpu.

use kiln_gpu_binary::{CodeKind, ErrorCode, WEBGPU_FORMAT};
use kiln_runtime::hal::{
    check_transfer, host_range, Buffer, BufferBinding, Command, CommandBuffer, Device, DeviceInfo,
    DeviceOptions, Driver, Executable, HostBytes, Semaphore,
};
use kiln_runtime::HalError;
use std::any::Any;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use wgpu::util::align_to;

const NAME: &str = "webgpu";

/// The `webgpu` driver: every WebGPU adapter wgpu finds.
pub struct WebGpuDriver;

fn unavailable(reason: String) -> HalError {
    HalError::Unavailable {
        driver: NAME.into(),
        reason,
    }
}

/// The adapters of a fresh instance, in wgpu's order; an error when there are none.
fn adapters() -> Result<Vec<wgpu::Adapter>, HalError> {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(descriptor.with_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    if adapters.is_empty() {
        return Err(unavailable(
            "wgpu finds no WebGPU adapter (no Vulkan, Metal or D3D12 device: on Linux, install a Vulkan driver such as mesa-vulkan-drivers and libvulkan1)".into(),
        ));
    }
    Ok(adapters)
}

fn info_of(index: usize, adapter: &wgpu::Adapter) -> DeviceInfo {
    let info = adapter.get_info();
    DeviceInfo {
        device_id: index as u64,
        path: index.to_string(),
        name: format!("{} ({:?})", info.name, info.backend),
    }
}

impl Driver for WebGpuDriver {
    fn name(&self) -> &str {
        NAME
    }
    fn description(&self) -> &str {
        "WebGPU through wgpu (webgpu-spirv executables)"
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        Ok(adapters()?
            .iter()
            .enumerate()
            .map(|(i, a)| info_of(i, a))
            .collect())
    }
    fn create_device(
        &self,
        path: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        if let Some((key, _)) = options.params.first() {
            return Err(HalError::BadOption(format!(
                "webgpu devices take no options (got '{key}')"
            )));
        }
        let adapters = adapters()?;
        let index = if path.is_empty() {
            Some(0)
        } else {
            path.parse::<usize>().ok().filter(|&i| i < adapters.len())
        };
        let Some(index) = index else {
            return Err(HalError::UnknownDevice {
                driver: NAME.into(),
                path: path.into(),
                available: (0..adapters.len())
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let device = WebGpuDevice::new(index, &adapters[index])?;
        Ok(Arc::new(WebGpuHandle(Arc::new(device))))
    }
}

/// Optional features kernels may use, requested where the adapter has them.
const WANTED: wgpu::Features = wgpu::Features::SHADER_INT64;

struct WebGpuDevice {
    info: DeviceInfo,
    adapter: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    limits: wgpu::Limits,
    /// The status word kernels that report errors write.
    status: wgpu::Buffer,
    /// Errors wgpu raised outside an error scope (none should: every call that can fail
    /// runs in one); kept so they surface instead of aborting.
    stray_errors: Arc<Mutex<Vec<String>>>,
    /// One submission or executable load at a time (error scopes are per thread, the
    /// status word is shared).
    serial: Mutex<()>,
}

impl WebGpuDevice {
    fn new(index: usize, adapter: &wgpu::Adapter) -> Result<Self, HalError> {
        let limits = adapter.limits();
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("kiln"),
            required_features: adapter.features() & WANTED,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&descriptor))
            .map_err(|e| unavailable(format!("the adapter refused a device: {e}")))?;
        let stray_errors = Arc::new(Mutex::new(Vec::new()));
        let sink = stray_errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e.to_string());
        }));
        let status = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln status word"),
            size: 4,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(WebGpuDevice {
            info: info_of(index, adapter),
            adapter: adapter.get_info(),
            device,
            queue,
            limits,
            status,
            stray_errors,
            serial: Mutex::new(()),
        })
    }

    /// Runs `work` in a validation error scope; wgpu's error, if any, is returned as `fail`
    /// makes it.
    fn scoped<T>(
        &self,
        work: impl FnOnce() -> Result<T, HalError>,
        fail: impl FnOnce(String) -> HalError,
    ) -> Result<T, HalError> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = work();
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(fail(e.to_string()));
        }
        let stray: Vec<String> =
            std::mem::take(&mut *self.stray_errors.lock().unwrap_or_else(|e| e.into_inner()));
        if !stray.is_empty() {
            return Err(fail(stray.join("; ")));
        }
        result
    }

    /// A storage buffer for `len` bytes (in whole words), or why there is none.
    fn storage_buffer(&self, len: usize) -> Result<wgpu::Buffer, HalError> {
        let size = word_size(len);
        if size > self.limits.max_buffer_size {
            return Err(HalError::OutOfMemory { bytes: len });
        }
        self.scoped(
            || {
                Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size,
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }))
            },
            |e| HalError::Device(format!("webgpu: cannot allocate {len} bytes: {e}")),
        )
    }

    fn pipeline(&self, kernel: &kiln_gpu_binary::Kernel) -> Result<Pipeline, HalError> {
        let cannot_run = |reason: String| HalError::CannotRun {
            format: WEBGPU_FORMAT.into(),
            reason: format!("kernel {}: {reason}", kernel.name),
        };
        let storage = kernel.bindings.len() + kernel.reports_errors as usize;
        let l = &self.limits;
        if storage > l.max_storage_buffers_per_shader_stage as usize {
            return Err(cannot_run(format!(
                "it binds {storage} storage buffers and this adapter allows {} per stage",
                l.max_storage_buffers_per_shader_stage
            )));
        }
        if kernel.workgroup_size > l.max_compute_invocations_per_workgroup
            || kernel.workgroup_size > l.max_compute_workgroup_size_x
        {
            return Err(cannot_run(format!(
                "it needs {} invocations per workgroup and this adapter allows {}",
                kernel.workgroup_size,
                l.max_compute_invocations_per_workgroup
                    .min(l.max_compute_workgroup_size_x)
            )));
        }
        if kernel.shared_memory > l.max_compute_workgroup_storage_size {
            return Err(cannot_run(format!(
                "it needs {} bytes of workgroup storage and this adapter has {}",
                kernel.shared_memory, l.max_compute_workgroup_storage_size
            )));
        }
        let source = std::str::from_utf8(&kernel.code).map_err(|_| HalError::BadExecutable {
            format: WEBGPU_FORMAT.into(),
            reason: format!("kernel {}: its source is not UTF-8", kernel.name),
        })?;
        let storage_entry = |binding: u32| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: false },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let mut entries: Vec<_> = (0..storage as u32).map(storage_entry).collect();
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: storage as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        });
        self.scoped(
            || {
                let module = self
                    .device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(&kernel.name),
                        source: wgpu::ShaderSource::Wgsl(source.into()),
                    });
                let layout =
                    self.device
                        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                            label: None,
                            entries: &entries,
                        });
                let pipeline_layout =
                    self.device
                        .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                            label: None,
                            bind_group_layouts: &[Some(&layout)],
                            immediate_size: 0,
                        });
                let pipeline =
                    self.device
                        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                            label: Some(&kernel.name),
                            layout: Some(&pipeline_layout),
                            module: &module,
                            entry_point: Some(&kernel.name),
                            compilation_options: Default::default(),
                            cache: None,
                        });
                Ok(Pipeline { pipeline, layout })
            },
            |e| cannot_run(format!("wgpu refuses it: {e}")),
        )
    }

    /// Copies `range` of `buffer` to a staging buffer and returns its bytes (the range is in
    /// whole words).
    fn download(&self, buffer: &wgpu::Buffer, start: u64, len: u64) -> Result<Vec<u8>, HalError> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: len,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, start, &staging, 0, len);
        self.queue.submit([encoder.finish()]);
        self.read_back(&staging)
    }

    /// Maps a `MAP_READ` buffer after the submissions that fill it and copies it out.
    fn read_back(&self, staging: &wgpu::Buffer) -> Result<Vec<u8>, HalError> {
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = sender.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| HalError::Device(format!("webgpu: waiting for the queue: {e}")))?;
        receiver
            .recv()
            .map_err(|_| HalError::Device("webgpu: the buffer was never mapped".into()))?
            .map_err(|e| HalError::Device(format!("webgpu: cannot map a buffer: {e}")))?;
        let bytes = staging
            .get_mapped_range(..)
            .map_err(|e| HalError::Device(format!("webgpu: cannot read a mapped buffer: {e}")))?
            .to_vec();
        staging.unmap();
        Ok(bytes)
    }
}

/// `size` bytes of `buffer` from `offset`, as a binding.
fn range(buffer: &wgpu::Buffer, offset: u64, size: u64) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer,
        offset,
        size: NonZeroU64::new(size),
    })
}

/// Bytes a buffer of `len` bytes takes: whole 4-byte words, at least two (an empty binding
/// still binds one element, 8 bytes for 64-bit ones).
fn word_size(len: usize) -> u64 {
    align_to(len.max(EMPTY_BINDING as usize) as u64, 4)
}

/// Bytes an empty binding binds: one element of the widest type a kernel stores (i64).
const EMPTY_BINDING: u64 = 8;

/// A storage buffer the host reaches by copies.
struct WebGpuBuffer {
    buffer: wgpu::Buffer,
    len: usize,
    writable: bool,
    device: Arc<WebGpuDevice>,
}

impl Buffer for WebGpuBuffer {
    fn len(&self) -> usize {
        self.len
    }
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, out.len(), false)?;
        if out.is_empty() {
            return Ok(());
        }
        let start = offset as u64 & !3;
        let end = align_to((offset + out.len()) as u64, 4);
        let dev = &self.device;
        let _one = dev.serial.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = dev.scoped(
            || dev.download(&self.buffer, start, end - start),
            |e| HalError::Device(format!("webgpu: reading a buffer failed: {e}")),
        )?;
        let skip = offset - start as usize;
        out.copy_from_slice(&bytes[skip..skip + out.len()]);
        Ok(())
    }
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, data.len(), true)?;
        if data.is_empty() {
            return Ok(());
        }
        let dev = &self.device;
        // One transfer or submission at a time: a partial word is read, merged and written
        // back whole, and nothing may change its other bytes meanwhile.
        let _one = dev.serial.lock().unwrap_or_else(|e| e.into_inner());
        dev.scoped(
            || {
                if offset.is_multiple_of(4) && data.len().is_multiple_of(4) {
                    dev.queue.write_buffer(&self.buffer, offset as u64, data);
                    return Ok(());
                }
                // WebGPU writes whole words: merge the partial ones with what the buffer holds.
                let start = offset as u64 & !3;
                let end = align_to((offset + data.len()) as u64, 4);
                let mut words = dev.download(&self.buffer, start, end - start)?;
                let skip = offset - start as usize;
                words[skip..skip + data.len()].copy_from_slice(data);
                dev.queue.write_buffer(&self.buffer, start, &words);
                Ok(())
            },
            |e| HalError::Device(format!("webgpu: writing a buffer failed: {e}")),
        )
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A kernel's compute pipeline and the layout of its bind group.
struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// A loaded `webgpu-wgsl-fb` executable: one pipeline per kernel.
struct WebGpuExecutable {
    exe: kiln_gpu_binary::Executable,
    pipelines: Vec<Pipeline>,
    /// The device that loaded it (its pipelines run only there).
    device: Arc<WebGpuDevice>,
}

impl Executable for WebGpuExecutable {
    fn entry_point_count(&self) -> usize {
        self.exe.kernels.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn workgroup_count(&self, entry_point: u32, params: &[i64]) -> Result<[u32; 3], HalError> {
        let count = kiln_gpu_binary::workgroups(&self.exe.kernels, entry_point, params);
        Ok([count.map_err(HalError::Invalid)?, 1, 1])
    }
}

/// One dispatch, checked and ready to record.
struct Recorded<'a> {
    pipeline: &'a Pipeline,
    bindings: Vec<(&'a wgpu::Buffer, u64, u64)>,
    reports_errors: bool,
    /// The parameter block's words (biases, then symbol values).
    params: Vec<u32>,
    workgroups: [u32; 3],
}

/// An `Arc<WebGpuDevice>` as the HAL's device (buffers keep the device they came from).
struct WebGpuHandle(Arc<WebGpuDevice>);

impl WebGpuHandle {
    /// Checks dispatch `index` and resolves its buffers and parameter block.
    fn record<'a>(&self, index: usize, c: &'a Command) -> Result<Option<Recorded<'a>>, HalError> {
        let Command::Dispatch {
            executable,
            entry_point,
            workgroups,
            bindings,
            params,
        } = c
        else {
            return Ok(None);
        };
        let exe = executable
            .as_any()
            .downcast_ref::<WebGpuExecutable>()
            .filter(|e| Arc::ptr_eq(&e.device, &self.0))
            .ok_or_else(|| HalError::Invalid("executable belongs to another device".into()))?;
        let entry = *entry_point as usize;
        let kernel = &exe.exe.kernels[entry];
        let fail = |reason: String| HalError::Dispatch {
            index,
            kernel: kernel.name.clone(),
            reason,
        };
        let bound = kernel.bind(params).map_err(fail)?;
        // Kernels number workgroups linearly and skip those past their count: any grid of
        // enough workgroups runs them, folded here for this adapter's limits.
        let given: u64 = workgroups.iter().map(|&n| u64::from(n)).product();
        if given < u64::from(bound.workgroups) {
            return Err(fail(format!(
                "a grid of {workgroups:?} workgroups, where the kernel needs {}",
                bound.workgroups
            )));
        }
        let grid = fold_grid(bound.workgroups, &self.0.limits).map_err(fail)?;
        if bindings.len() != kernel.bindings.len() {
            return Err(fail(format!(
                "{} bindings for a kernel of {}",
                bindings.len(),
                kernel.bindings.len()
            )));
        }
        let alignment = u64::from(self.0.limits.min_storage_buffer_offset_alignment.max(4));
        let mut resolved = Vec::with_capacity(bindings.len());
        let mut words = Vec::with_capacity(bindings.len() + params.len());
        for (i, ((b, &t), &extent)) in bindings
            .iter()
            .zip(&kernel.bindings)
            .zip(&bound.binding_extents)
            .enumerate()
        {
            let (range, bias) = self
                .bind(b, t.byte_size() as u64, extent, alignment)
                .map_err(|reason| fail(format!("binding {i}: {reason}")))?;
            resolved.push(range);
            words.push(bias);
        }
        // Sizes follow the biases; `bind` checked that each fits an i32.
        words.extend(params.iter().map(|&p| p as i32 as u32));
        Ok(Some(Recorded {
            pipeline: &exe.pipelines[entry],
            bindings: resolved,
            reports_errors: kernel.reports_errors,
            params: words,
            workgroups: grid,
        }))
    }

    /// Where binding `b` (of `size`-byte elements, reaching `extent` bytes) is bound: its
    /// buffer, the offset rounded down to `alignment` and the range from there, and the
    /// element bias of its data.
    fn bind<'a>(
        &self,
        b: &'a BufferBinding,
        size: u64,
        extent: u64,
        alignment: u64,
    ) -> Result<((&'a wgpu::Buffer, u64, u64), u32), String> {
        if (b.length as u64) < extent {
            return Err(format!(
                "{} bytes, and the kernel reaches byte {extent}",
                b.length
            ));
        }
        let buffer = b
            .buffer
            .as_any()
            .downcast_ref::<WebGpuBuffer>()
            .filter(|buf| Arc::ptr_eq(&buf.device, &self.0))
            .ok_or("the buffer belongs to another device")?;
        let allocated = buffer.buffer.size();
        if b.length == 0 {
            // Nothing is read or written: bind the buffer's first element (WebGPU checks
            // that a binding holds at least one).
            return Ok(((&buffer.buffer, 0, EMPTY_BINDING), 0));
        }
        let offset = b.offset as u64;
        let aligned = offset - offset % alignment;
        let rem = offset - aligned;
        if !rem.is_multiple_of(size) {
            return Err(format!(
                "it starts at byte {offset}, not a multiple of its {size}-byte elements"
            ));
        }
        let range = align_to(rem + b.length as u64, 4).min(allocated - aligned);
        let most = self.0.limits.max_storage_buffer_binding_size;
        if range > most {
            return Err(format!(
                "it spans {range} bytes; this adapter binds at most {most}"
            ));
        }
        Ok(((&buffer.buffer, aligned, range), (rem / size) as u32))
    }
}

/// The grid a linear count of workgroups folds into (WebGPU, like Vulkan, guarantees 65535
/// per dimension; shaders skip the excess).
fn fold_grid(count: u32, limits: &wgpu::Limits) -> Result<[u32; 3], String> {
    let most = limits.max_compute_workgroups_per_dimension.max(1);
    if count <= most {
        return Ok([count, 1, 1]);
    }
    let y = count.div_ceil(most);
    if y > most {
        return Err(format!(
            "{count} workgroups exceed this adapter's grid of {most} per dimension"
        ));
    }
    Ok([most, y, 1])
}

impl Device for WebGpuHandle {
    fn info(&self) -> DeviceInfo {
        self.0.info.clone()
    }
    fn driver_name(&self) -> &str {
        NAME
    }
    fn properties(&self) -> Vec<(String, String)> {
        let a = &self.0.adapter;
        let l = &self.0.limits;
        vec![
            ("name".into(), a.name.clone()),
            ("backend".into(), format!("{:?}", a.backend)),
            ("device-type".into(), format!("{:?}", a.device_type)),
            ("driver".into(), format!("{} {}", a.driver, a.driver_info)),
            ("executable-formats".into(), WEBGPU_FORMAT.into()),
            ("features".into(), format!("{:?}", self.0.device.features())),
            (
                "max-storage-buffers-per-stage".into(),
                l.max_storage_buffers_per_shader_stage.to_string(),
            ),
            (
                "max-storage-buffer-binding-size".into(),
                l.max_storage_buffer_binding_size.to_string(),
            ),
            (
                "max-invocations-per-workgroup".into(),
                l.max_compute_invocations_per_workgroup.to_string(),
            ),
            (
                "max-workgroup-storage".into(),
                l.max_compute_workgroup_storage_size.to_string(),
            ),
            (
                "max-workgroups-per-dimension".into(),
                l.max_compute_workgroups_per_dimension.to_string(),
            ),
        ]
    }
    fn executable_formats(&self) -> Vec<String> {
        vec![WEBGPU_FORMAT.into()]
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(WebGpuBuffer {
            buffer: self.0.storage_buffer(bytes)?,
            len: bytes,
            writable: true,
            device: self.0.clone(),
        }))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        let data = host_range(bytes.bytes(), offset, length)?;
        let buffer = self.0.storage_buffer(length)?;
        let whole = data.len() & !3;
        let dev = &self.0;
        dev.scoped(
            || {
                dev.queue.write_buffer(&buffer, 0, &data[..whole]);
                if whole < data.len() {
                    let mut tail = [0u8; 4];
                    tail[..data.len() - whole].copy_from_slice(&data[whole..]);
                    dev.queue.write_buffer(&buffer, whole as u64, &tail);
                }
                Ok(())
            },
            |e| HalError::Device(format!("webgpu: uploading constants failed: {e}")),
        )?;
        Ok(Arc::new(WebGpuBuffer {
            buffer,
            len: length,
            writable: false,
            device: self.0.clone(),
        }))
    }
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        if format != WEBGPU_FORMAT {
            return Err(HalError::UnsupportedFormat {
                format: format.into(),
                supported: WEBGPU_FORMAT.into(),
            });
        }
        let refused = |reason: String| HalError::BadExecutable {
            format: format.into(),
            reason,
        };
        let exe = kiln_gpu_binary::Executable::decode(data).map_err(refused)?;
        if exe.kind != CodeKind::Wgsl {
            return Err(refused("the executable holds no WGSL".into()));
        }
        let _one = self.0.serial.lock().unwrap_or_else(|e| e.into_inner());
        let pipelines = exe
            .kernels
            .iter()
            .map(|k| self.0.pipeline(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(WebGpuExecutable {
            exe,
            pipelines,
            device: self.0.clone(),
        }))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        let dev = &self.0;
        let _one = dev.serial.lock().unwrap_or_else(|e| e.into_inner());
        let mut recorded = vec![];
        for (index, c) in commands.commands().iter().enumerate() {
            recorded.extend(self.record(index, c)?);
        }
        // Every dispatch's parameter block, at offsets the uniform alignment allows.
        let slot_align = u64::from(dev.limits.min_uniform_buffer_offset_alignment.max(16));
        let slot = |r: &Recorded| align_to(r.params.len().max(1) as u64 * 4, 16);
        let mut offsets = Vec::with_capacity(recorded.len());
        let mut blocks = Vec::new();
        for r in &recorded {
            let at = align_to(blocks.len() as u64, slot_align);
            blocks.resize(at as usize, 0u8);
            offsets.push(at);
            blocks.extend(r.params.iter().flat_map(|w| w.to_le_bytes()));
            blocks.resize((at + slot(r)) as usize, 0);
        }
        let reports_errors = recorded.iter().any(|r| r.reports_errors);
        let status = dev.scoped(
            || {
                let uniforms = dev.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("kiln parameter blocks"),
                    size: (blocks.len() as u64).max(16),
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                if !blocks.is_empty() {
                    dev.queue.write_buffer(&uniforms, 0, &blocks);
                }
                dev.queue.write_buffer(&dev.status, 0, &[0; 4]);
                let groups: Vec<wgpu::BindGroup> = recorded
                    .iter()
                    .zip(&offsets)
                    .map(|(r, &at)| {
                        let mut resources: Vec<_> = r
                            .bindings
                            .iter()
                            .map(|&(b, at, n)| range(b, at, n))
                            .collect();
                        if r.reports_errors {
                            resources.push(range(&dev.status, 0, 4));
                        }
                        resources.push(range(&uniforms, at, slot(r)));
                        let entries: Vec<_> = resources
                            .into_iter()
                            .enumerate()
                            .map(|(i, resource)| wgpu::BindGroupEntry {
                                binding: i as u32,
                                resource,
                            })
                            .collect();
                        dev.device.create_bind_group(&wgpu::BindGroupDescriptor {
                            label: None,
                            layout: &r.pipeline.layout,
                            entries: &entries,
                        })
                    })
                    .collect();
                let mut encoder = dev.device.create_command_encoder(&Default::default());
                {
                    let mut pass = encoder.begin_compute_pass(&Default::default());
                    for (r, group) in recorded.iter().zip(&groups) {
                        pass.set_pipeline(&r.pipeline.pipeline);
                        pass.set_bind_group(0, group, &[]);
                        let [x, y, z] = r.workgroups;
                        pass.dispatch_workgroups(x, y, z);
                    }
                }
                let staging = reports_errors.then(|| {
                    let staging = dev.device.create_buffer(&wgpu::BufferDescriptor {
                        label: None,
                        size: 4,
                        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    });
                    encoder.copy_buffer_to_buffer(&dev.status, 0, &staging, 0, 4);
                    staging
                });
                dev.queue.submit([encoder.finish()]);
                match staging {
                    Some(staging) => {
                        let word = dev.read_back(&staging)?;
                        Ok(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
                    }
                    None => {
                        dev.device
                            .poll(wgpu::PollType::wait_indefinitely())
                            .map_err(|e| HalError::Device(format!("webgpu: waiting: {e}")))?;
                        Ok(0)
                    }
                }
            },
            |e| HalError::Device(format!("webgpu: the submission failed: {e}")),
        )?;
        if let Some(reason) = ErrorCode::describe(status) {
            return Err(HalError::Device(format!(
                "a kernel of the submission failed: {reason}"
            )));
        }
        if let Some((semaphore, value)) = signal {
            semaphore.signal(value);
        }
        Ok(())
    }
}
