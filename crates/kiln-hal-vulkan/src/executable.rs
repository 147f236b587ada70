//! Vulkan executables: one compute pipeline per `vulkan-spirv-fb` entry point.
//!
//! Loading checks each entry point against the device first (optional features, workgroup
//! invocations, shared memory, push-constant space), so an executable built for a bigger GPU is
//! refused with a message naming the limit instead of failing inside the driver.

use crate::device::{device_error, Limits, Shared};
use ash::vk;
use kiln_runtime::hal::Executable;
use kiln_runtime::HalError;
use kiln_types::ElementType;
use std::any::Any;
use std::sync::Arc;

/// One entry point's Vulkan objects.
pub(crate) struct Pipeline {
    pub name: String,
    pub bindings: Vec<ElementType>,
    /// The entry point's description: binding extents and grid over its symbols.
    pub entry: kiln_spirv::EntryPoint,
    pub reports_errors: bool,
    pub set_layout: vk::DescriptorSetLayout,
    pub pipeline_layout: vk::PipelineLayout,
    pub pipeline: vk::Pipeline,
}

/// A loaded `vulkan-spirv-fb` executable.
pub struct VulkanExecutable {
    shared: Arc<Shared>,
    entries: Vec<Pipeline>,
}

impl Drop for VulkanExecutable {
    fn drop(&mut self) {
        for e in &self.entries {
            // SAFETY: objects of this device; no submission using them is in flight (every
            // submission is waited for before it returns).
            unsafe { destroy(&self.shared.raw, e) };
        }
    }
}

/// # Safety
/// The objects must belong to `dev` and be unused.
unsafe fn destroy(dev: &ash::Device, e: &Pipeline) {
    unsafe {
        dev.destroy_pipeline(e.pipeline, None);
        dev.destroy_pipeline_layout(e.pipeline_layout, None);
        dev.destroy_descriptor_set_layout(e.set_layout, None);
    }
}

impl VulkanExecutable {
    pub(crate) fn new(
        shared: Arc<Shared>,
        exe: &kiln_spirv::Executable,
        features: kiln_spirv::Features,
        limits: &Limits,
    ) -> Result<VulkanExecutable, HalError> {
        let mut loaded = VulkanExecutable {
            shared: shared.clone(),
            entries: vec![],
        };
        for e in &exe.entry_points {
            let refuse =
                |why: String| HalError::Invalid(format!("vulkan: entry point '{}' {why}", e.name));
            let missing = e.features.missing_from(features);
            if !missing.is_empty() {
                return Err(refuse(format!(
                    "needs device features this device lacks: {}",
                    missing.join(", ")
                )));
            }
            if e.invocations() > limits.max_invocations as u64 {
                return Err(refuse(format!(
                    "uses {} invocations per workgroup; the device allows {} (compile with a matching --iree-vulkan-target)",
                    e.invocations(),
                    limits.max_invocations
                )));
            }
            if e.workgroup_size[0] > limits.max_workgroup_size_x {
                return Err(refuse(format!(
                    "uses workgroups of {} invocations along x; the device allows {}",
                    e.workgroup_size[0], limits.max_workgroup_size_x
                )));
            }
            let buffers = e.bindings.len() as u32 + e.reports_errors as u32;
            if buffers > limits.max_storage_buffers {
                return Err(refuse(format!(
                    "binds {buffers} storage buffers; the device allows {}",
                    limits.max_storage_buffers
                )));
            }
            if e.binding_extents.len() != e.bindings.len() {
                return Err(refuse(
                    "has binding extents that do not match its bindings".into(),
                ));
            }
            if e.shared_memory > limits.max_shared_memory {
                return Err(refuse(format!(
                    "uses {} bytes of shared memory; the device has {}",
                    e.shared_memory, limits.max_shared_memory
                )));
            }
            let push_bytes = e.push_constant_bytes().max(4);
            if push_bytes > limits.max_push_constants {
                return Err(refuse(format!(
                    "needs {push_bytes} bytes of push constants; the device has {}",
                    limits.max_push_constants
                )));
            }
            loaded.entries.push(pipeline(&shared, e, push_bytes)?);
        }
        Ok(loaded)
    }

    pub(crate) fn entry(&self, i: usize) -> Result<&Pipeline, HalError> {
        self.entries.get(i).ok_or_else(|| {
            HalError::Invalid(format!(
                "entry point {i} does not exist (executable has {})",
                self.entries.len()
            ))
        })
    }
}

fn pipeline(
    shared: &Shared,
    e: &kiln_spirv::EntryPoint,
    push_bytes: u32,
) -> Result<Pipeline, HalError> {
    let dev = &shared.raw;
    let count = e.bindings.len() + e.reports_errors as usize;
    let layout_bindings: Vec<vk::DescriptorSetLayoutBinding> = (0..count as u32)
        .map(|i| {
            vk::DescriptorSetLayoutBinding::default()
                .binding(i)
                .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                .descriptor_count(1)
                .stage_flags(vk::ShaderStageFlags::COMPUTE)
        })
        .collect();
    let module_info = vk::ShaderModuleCreateInfo::default().code(&e.code);
    // SAFETY: valid create-infos for this device; every object made here is destroyed on the
    // error paths below or by `VulkanExecutable::drop`.
    unsafe {
        let set_layout = dev
            .create_descriptor_set_layout(
                &vk::DescriptorSetLayoutCreateInfo::default().bindings(&layout_bindings),
                None,
            )
            .map_err(|err| device_error("vkCreateDescriptorSetLayout", err))?;
        let ranges = [vk::PushConstantRange {
            stage_flags: vk::ShaderStageFlags::COMPUTE,
            offset: 0,
            size: push_bytes,
        }];
        let set_layouts = [set_layout];
        let pipeline_layout = match dev.create_pipeline_layout(
            &vk::PipelineLayoutCreateInfo::default()
                .set_layouts(&set_layouts)
                .push_constant_ranges(&ranges),
            None,
        ) {
            Ok(l) => l,
            Err(err) => {
                dev.destroy_descriptor_set_layout(set_layout, None);
                return Err(device_error("vkCreatePipelineLayout", err));
            }
        };
        let module = match dev.create_shader_module(&module_info, None) {
            Ok(m) => m,
            Err(err) => {
                dev.destroy_pipeline_layout(pipeline_layout, None);
                dev.destroy_descriptor_set_layout(set_layout, None);
                return Err(device_error("vkCreateShaderModule", err));
            }
        };
        let stage = vk::PipelineShaderStageCreateInfo::default()
            .stage(vk::ShaderStageFlags::COMPUTE)
            .module(module)
            .name(c"main");
        let info = vk::ComputePipelineCreateInfo::default()
            .stage(stage)
            .layout(pipeline_layout);
        let made = dev.create_compute_pipelines(shared.pipeline_cache, &[info], None);
        dev.destroy_shader_module(module, None);
        match made {
            Ok(p) => Ok(Pipeline {
                name: e.name.clone(),
                bindings: e.bindings.clone(),
                entry: kiln_spirv::EntryPoint {
                    code: vec![],
                    ..e.clone()
                },
                reports_errors: e.reports_errors,
                set_layout,
                pipeline_layout,
                pipeline: p[0],
            }),
            Err((_, err)) => {
                dev.destroy_pipeline_layout(pipeline_layout, None);
                dev.destroy_descriptor_set_layout(set_layout, None);
                Err(device_error(
                    &format!("creating the pipeline of '{}'", e.name),
                    err,
                ))
            }
        }
    }
}

impl Executable for VulkanExecutable {
    fn workgroup_count(&self, entry_point: u32, params: &[i64]) -> Result<[u32; 3], HalError> {
        let e = self.entry(entry_point as usize)?;
        e.entry
            .bind(params)
            .map(|b| b.grid)
            .map_err(|why| HalError::Invalid(format!("vulkan: entry point '{}': {why}", e.name)))
    }
    fn entry_point_count(&self) -> usize {
        self.entries.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
