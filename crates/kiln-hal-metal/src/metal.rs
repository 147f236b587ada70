//! The driver, device, buffers and executables over Metal (Apple systems only).

use kiln_gpu_binary::{CodeKind, ErrorCode, METAL_FORMAT};
use kiln_runtime::hal::{
    check_transfer, host_range, Buffer, Command, CommandBuffer, Device, DeviceInfo, DeviceOptions,
    Driver, Executable, HostBytes, Semaphore,
};
use kiln_runtime::{DriverRegistry, HalError};
use objc2::rc::Retained;
use objc2::runtime::ProtocolObject;
use objc2_foundation::{NSError, NSString};
use objc2_metal::{
    MTLBuffer, MTLCommandBuffer, MTLCommandBufferStatus, MTLCommandEncoder, MTLCommandQueue,
    MTLComputeCommandEncoder, MTLComputePipelineState, MTLCreateSystemDefaultDevice, MTLDevice,
    MTLLibrary, MTLResourceOptions, MTLSize,
};
use std::any::Any;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

const NAME: &str = "metal";

/// Adds the `metal` driver to `registry`.
pub fn register(registry: &mut DriverRegistry) {
    registry.register(Arc::new(MetalDriver));
}

/// The `metal` driver: the system's default Metal device.
pub struct MetalDriver;

fn default_device() -> Result<Retained<ProtocolObject<dyn MTLDevice>>, HalError> {
    MTLCreateSystemDefaultDevice().ok_or_else(|| HalError::Unavailable {
        driver: NAME.into(),
        reason: "the system has no Metal device".into(),
    })
}

fn described(e: &NSError) -> String {
    e.localizedDescription().to_string()
}

impl Driver for MetalDriver {
    fn name(&self) -> &str {
        NAME
    }
    fn description(&self) -> &str {
        "Apple Metal (metal-spirv executables)"
    }
    fn enumerate_devices(&self) -> Result<Vec<DeviceInfo>, HalError> {
        let device = default_device()?;
        Ok(vec![DeviceInfo {
            device_id: 0,
            path: String::new(),
            name: device.name().to_string(),
        }])
    }
    fn create_device(
        &self,
        path: &str,
        _options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        if !path.is_empty() {
            return Err(HalError::UnknownDevice {
                driver: NAME.into(),
                path: path.into(),
                available: "the default device".into(),
            });
        }
        let device = default_device()?;
        let queue = device
            .newCommandQueue()
            .ok_or_else(|| HalError::Unavailable {
                driver: NAME.into(),
                reason: "cannot create a command queue".into(),
            })?;
        let status = shared_buffer(&device, 4)?;
        Ok(Arc::new(MetalDevice {
            device,
            queue,
            status,
            submit: Mutex::new(()),
        }))
    }
}

/// A shared-storage buffer of `len` bytes in whole 4-byte words (at least one: Metal has no
/// empty buffers, and kernels read 8- and 16-bit elements a word at a time), zeroed.
fn shared_buffer(
    device: &ProtocolObject<dyn MTLDevice>,
    len: usize,
) -> Result<Retained<ProtocolObject<dyn MTLBuffer>>, HalError> {
    let words = len.max(1).next_multiple_of(4);
    let buffer = device
        .newBufferWithLength_options(words, MTLResourceOptions::StorageModeShared)
        .ok_or(HalError::OutOfMemory { bytes: len })?;
    // SAFETY: a fresh shared buffer of `words` bytes that nothing else uses.
    unsafe { std::ptr::write_bytes(buffer.contents().as_ptr().cast::<u8>(), 0, words) };
    Ok(buffer)
}

struct MetalDevice {
    device: Retained<ProtocolObject<dyn MTLDevice>>,
    queue: Retained<ProtocolObject<dyn MTLCommandQueue>>,
    /// The status word kernels that report errors write.
    status: Retained<ProtocolObject<dyn MTLBuffer>>,
    /// One submission at a time (the status word is shared).
    submit: Mutex<()>,
}

// SAFETY: Metal devices, command queues and buffers are thread-safe objects; the status word
// is used under `submit`.
unsafe impl Send for MetalDevice {}
// SAFETY: as above.
unsafe impl Sync for MetalDevice {}

/// A shared-storage buffer: one memory the CPU and the GPU both address.
struct MetalBuffer {
    buffer: Retained<ProtocolObject<dyn MTLBuffer>>,
    len: usize,
    writable: bool,
}

// SAFETY: `MTLBuffer` is thread-safe; access to its bytes is ordered by the HAL's command
// semantics (host transfers between submissions).
unsafe impl Send for MetalBuffer {}
// SAFETY: as above.
unsafe impl Sync for MetalBuffer {}

impl MetalBuffer {
    fn bytes(&self) -> *mut u8 {
        self.buffer.contents().as_ptr().cast()
    }
}

impl Buffer for MetalBuffer {
    fn len(&self) -> usize {
        self.len
    }
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, out.len(), false)?;
        // SAFETY: in bounds; no submission runs during host transfers.
        unsafe {
            std::ptr::copy_nonoverlapping(self.bytes().add(offset), out.as_mut_ptr(), out.len())
        };
        Ok(())
    }
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, data.len(), true)?;
        // SAFETY: in bounds, writable, and no submission runs during host transfers.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.bytes().add(offset), data.len())
        };
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn host_address(&self) -> Option<usize> {
        Some(self.bytes() as usize)
    }
}

/// A loaded `metal-msl-fb` executable: one pipeline per kernel.
struct MetalExecutable {
    exe: kiln_gpu_binary::Executable,
    pipelines: Vec<Retained<ProtocolObject<dyn MTLComputePipelineState>>>,
}

// SAFETY: compute pipeline states are immutable, thread-safe Metal objects.
unsafe impl Send for MetalExecutable {}
// SAFETY: as above.
unsafe impl Sync for MetalExecutable {}

impl Executable for MetalExecutable {
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

impl MetalDevice {
    fn pipeline(
        &self,
        kernel: &kiln_gpu_binary::Kernel,
    ) -> Result<Retained<ProtocolObject<dyn MTLComputePipelineState>>, HalError> {
        let refused = |reason: String| HalError::BadExecutable {
            format: METAL_FORMAT.into(),
            reason: format!("kernel {}: {reason}", kernel.name),
        };
        let source = std::str::from_utf8(&kernel.code)
            .map_err(|_| refused("its source is not UTF-8".into()))?;
        let library = self
            .device
            .newLibraryWithSource_options_error(&NSString::from_str(source), None)
            .map_err(|e| refused(format!("Metal did not compile it: {}", described(&e))))?;
        let function = library
            .newFunctionWithName(&NSString::from_str(&kernel.name))
            .ok_or_else(|| refused("the source does not define it".into()))?;
        let pipeline = self
            .device
            .newComputePipelineStateWithFunction_error(&function)
            .map_err(|e| refused(format!("no pipeline: {}", described(&e))))?;
        let cannot_run = |reason: String| HalError::CannotRun {
            format: METAL_FORMAT.into(),
            reason: format!("kernel {}: {reason}", kernel.name),
        };
        if pipeline.maxTotalThreadsPerThreadgroup() < kernel.workgroup_size as usize {
            return Err(cannot_run(format!(
                "it needs {} threads per threadgroup and this device's pipeline allows {}",
                kernel.workgroup_size,
                pipeline.maxTotalThreadsPerThreadgroup()
            )));
        }
        if self.device.maxThreadgroupMemoryLength() < kernel.shared_memory as usize {
            return Err(cannot_run(format!(
                "it needs {} bytes of threadgroup memory and this device has {}",
                kernel.shared_memory,
                self.device.maxThreadgroupMemoryLength()
            )));
        }
        Ok(pipeline)
    }
}

/// Binds `values` at `[[buffer(index)]]` by copy (`setBytes`; at least one value).
///
/// # Safety
/// `encoder` is recording a compute pass.
unsafe fn set_words(
    encoder: &ProtocolObject<dyn MTLComputeCommandEncoder>,
    values: &[u32],
    index: usize,
) {
    let padded = if values.is_empty() {
        &[0u32][..]
    } else {
        values
    };
    // SAFETY: `padded` is readable for its length in bytes; Metal copies it now.
    unsafe {
        encoder.setBytes_length_atIndex(
            NonNull::new(padded.as_ptr().cast_mut().cast::<c_void>()).expect("a slice"),
            std::mem::size_of_val(padded),
            index,
        )
    };
}

impl Device for MetalDevice {
    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            device_id: 0,
            path: String::new(),
            name: self.device.name().to_string(),
        }
    }
    fn driver_name(&self) -> &str {
        NAME
    }
    fn properties(&self) -> Vec<(String, String)> {
        vec![
            ("name".into(), self.device.name().to_string()),
            ("executable-formats".into(), METAL_FORMAT.into()),
            (
                "max-threadgroup-memory".into(),
                self.device.maxThreadgroupMemoryLength().to_string(),
            ),
        ]
    }
    fn executable_formats(&self) -> Vec<String> {
        vec![METAL_FORMAT.into()]
    }
    fn allocate(&self, bytes: usize) -> Result<Arc<dyn Buffer>, HalError> {
        Ok(Arc::new(MetalBuffer {
            buffer: shared_buffer(&self.device, bytes)?,
            len: bytes,
            writable: true,
        }))
    }
    fn import_host(
        &self,
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        length: usize,
    ) -> Result<Arc<dyn Buffer>, HalError> {
        let data = host_range(bytes.bytes(), offset, length)?;
        let buffer = shared_buffer(&self.device, length)?;
        // SAFETY: the fresh buffer holds at least `length` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                buffer.contents().as_ptr().cast::<u8>(),
                length,
            )
        };
        Ok(Arc::new(MetalBuffer {
            buffer,
            len: length,
            writable: false,
        }))
    }
    fn load_executable(&self, format: &str, data: &[u8]) -> Result<Arc<dyn Executable>, HalError> {
        if format != METAL_FORMAT {
            return Err(HalError::UnsupportedFormat {
                format: format.into(),
                supported: METAL_FORMAT.into(),
            });
        }
        let refused = |reason: String| HalError::BadExecutable {
            format: format.into(),
            reason,
        };
        let exe = kiln_gpu_binary::Executable::decode(data).map_err(refused)?;
        if exe.kind != CodeKind::Msl {
            return Err(refused("the executable holds no Metal source".into()));
        }
        let pipelines = exe
            .kernels
            .iter()
            .map(|k| self.pipeline(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(MetalExecutable { exe, pipelines }))
    }
    fn queue_execute(
        &self,
        commands: &CommandBuffer,
        signal: Option<(&Semaphore, u64)>,
    ) -> Result<(), HalError> {
        let _one = self.submit.lock().unwrap_or_else(|e| e.into_inner());
        let failed = |what: &str| HalError::Device(format!("Metal cannot {what}"));
        // SAFETY: the status buffer holds 4 bytes and no submission runs.
        unsafe { self.status.contents().as_ptr().cast::<u32>().write(0) };
        let command_buffer = self
            .queue
            .commandBuffer()
            .ok_or_else(|| failed("create a command buffer"))?;
        let encoder = command_buffer
            .computeCommandEncoder()
            .ok_or_else(|| failed("create a compute encoder"))?;
        for (index, c) in commands.commands().iter().enumerate() {
            // A serial compute encoder runs dispatches in order, each seeing the writes of
            // those before it: barriers need nothing more.
            let Command::Dispatch {
                executable,
                entry_point,
                workgroups,
                bindings,
                params,
            } = c
            else {
                continue;
            };
            let exe = executable
                .as_any()
                .downcast_ref::<MetalExecutable>()
                .ok_or_else(|| HalError::Invalid("executable belongs to another device".into()))?;
            let entry = *entry_point as usize;
            let kernel = &exe.exe.kernels[entry];
            let fail = |reason: String| HalError::Dispatch {
                index,
                kernel: kernel.name.clone(),
                reason,
            };
            let bound = kernel.bind(params).map_err(fail)?;
            if *workgroups != [bound.workgroups, 1, 1] {
                return Err(fail(format!(
                    "a grid of {workgroups:?} workgroups, where the kernel needs [{}, 1, 1]",
                    bound.workgroups
                )));
            }
            if bindings.len() != kernel.bindings.len() {
                return Err(fail(format!(
                    "{} bindings for a kernel of {}",
                    bindings.len(),
                    kernel.bindings.len()
                )));
            }
            // Each binding from its offset rounded down to a word (kernels read 8- and 16-bit
            // elements a word at a time), the remainder as its element bias, its length
            // rounded up to whole words.
            let mut lengths = Vec::with_capacity(bindings.len() + 1);
            let mut offsets = Vec::with_capacity(bindings.len());
            let mut block = Vec::with_capacity(bindings.len() + params.len());
            for (i, ((b, &extent), &t)) in bindings
                .iter()
                .zip(&bound.binding_extents)
                .zip(&kernel.bindings)
                .enumerate()
            {
                if (b.length as u64) < extent {
                    return Err(fail(format!(
                        "binding {i} is {} bytes, and the kernel reaches {extent}",
                        b.length
                    )));
                }
                let (aligned, rem) = (b.offset & !3, b.offset % 4);
                if rem % t.byte_size() != 0 {
                    return Err(fail(format!(
                        "binding {i} starts at byte {}, not a multiple of its {}-byte elements",
                        b.offset,
                        t.byte_size()
                    )));
                }
                offsets.push(aligned);
                block.push((rem / t.byte_size()) as u32);
                lengths.push(u32::try_from((rem + b.length).next_multiple_of(4)).map_err(
                    |_| fail(format!("binding {i} is over 4 GiB, beyond 32-bit indexing")),
                )?);
            }
            encoder.setComputePipelineState(&exe.pipelines[entry]);
            let n = bindings.len();
            for (i, (b, &offset)) in bindings.iter().zip(&offsets).enumerate() {
                let buffer = b
                    .buffer
                    .as_any()
                    .downcast_ref::<MetalBuffer>()
                    .ok_or_else(|| HalError::Invalid("buffer belongs to another device".into()))?;
                // SAFETY: the range lies inside the buffer (checked when recording; buffers
                // hold whole words), which the command buffer keeps alive until this
                // submission is done.
                unsafe { encoder.setBuffer_offset_atIndex(Some(&buffer.buffer), offset, i) };
            }
            // The parameter block: each binding's element bias, then the symbols' values as
            // i32 (`bind` checked they fit).
            block.extend(params.iter().map(|&p| p as i32 as u32));
            if kernel.reports_errors {
                lengths.push(4);
            }
            // SAFETY: `encoder` is recording; the buffers stay alive until the wait below.
            unsafe {
                set_words(&encoder, &block, n);
                if kernel.reports_errors {
                    encoder.setBuffer_offset_atIndex(Some(&self.status), 0, n + 1);
                }
                set_words(&encoder, &lengths, n + 2);
            }
            let size = |width: u32| MTLSize {
                width: width as usize,
                height: 1,
                depth: 1,
            };
            encoder.dispatchThreadgroups_threadsPerThreadgroup(
                size(bound.workgroups),
                size(kernel.workgroup_size),
            );
        }
        encoder.endEncoding();
        command_buffer.commit();
        command_buffer.waitUntilCompleted();
        if command_buffer.status() == MTLCommandBufferStatus::Error {
            let reason = command_buffer
                .error()
                .map(|e| described(&e))
                .unwrap_or_else(|| "unknown".into());
            return Err(HalError::Device(format!("the submission failed: {reason}")));
        }
        // SAFETY: the submission is done; the status buffer holds 4 bytes.
        let word = unsafe { self.status.contents().as_ptr().cast::<u32>().read() };
        if let Some(reason) = ErrorCode::describe(word) {
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
