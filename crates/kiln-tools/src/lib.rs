//! What kiln's tools share: the driver registry, IREE-compatible input/output flags and the
//! device listings. Each binary in `src/bin` is an argument struct plus a call into this
//! library or the crates below it.

pub mod devices;
pub mod flags;
pub mod io;

use std::sync::Arc;

/// Drivers loaded from plugins (`--hal_driver_plugin`), which [`registry`] adds.
static PLUGINS: std::sync::Mutex<Vec<Arc<dyn kiln_runtime::hal::Driver>>> =
    std::sync::Mutex::new(Vec::new());

/// Loads each driver plugin (`--hal_driver_plugin=PATH`); later registries include them.
pub fn load_driver_plugins(paths: &[String]) -> anyhow::Result<()> {
    for path in paths {
        let driver = kiln_hal_plugin::load(std::path::Path::new(path))?;
        PLUGINS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(driver);
    }
    Ok(())
}

/// The registry of every driver this build contains (the local ones always; vulkan, webgpu,
/// cuda and hip, and metal on Apple systems, with the `vulkan`, `webgpu` and `gpu` features,
/// on by default) and the plugins loaded.
pub fn registry() -> kiln_runtime::DriverRegistry {
    let mut r = kiln_runtime::DriverRegistry::new();
    for driver in PLUGINS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        r.register(driver.clone());
    }
    kiln_hal_local::register(&mut r);
    #[cfg(feature = "vulkan")]
    kiln_hal_vulkan::register(&mut r);
    #[cfg(feature = "webgpu")]
    kiln_hal_webgpu::register(&mut r);
    #[cfg(feature = "gpu")]
    kiln_hal_gpu::register(&mut r);
    #[cfg(all(feature = "gpu", target_vendor = "apple"))]
    kiln_hal_metal::register(&mut r);
    r
}

/// Prints `error: …` (the whole cause chain on one line) and exits with status 1.
pub fn exit_with(tool: &str, err: anyhow::Error) -> ! {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    eprintln!("{tool}: error: {}", chain.join(": "));
    std::process::exit(1)
}

/// Turns a panic into one line on stderr instead of a backtrace (a panic is always a kiln bug).
pub fn install_panic_hook(tool: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!(
            "{tool}: internal error: {msg} (at {}); please report this",
            info.location().map(|l| l.to_string()).unwrap_or_default()
        );
        std::process::exit(70);
    }));
}

/// Creates a device from `--device` (a driver name or URI) and driver flags.
pub fn create_device(
    uri: &str,
    task_topology_max_group_count: Option<usize>,
) -> anyhow::Result<Arc<dyn kiln_runtime::hal::Device>> {
    let mut options = kiln_runtime::hal::DeviceOptions::default();
    if let Some(n) = task_topology_max_group_count {
        options
            .params
            .push(("task_topology_max_group_count".into(), n.to_string()));
    }
    Ok(registry().create_device(uri, &options)?)
}

/// A module ready to call: on a HAL device, or run by the inline runtime (a `vmvx-inline`
/// module given no device).
pub enum Loaded {
    Device(kiln_runtime::LoadedModule),
    Inline(kiln_inline::InlineModule<'static>),
}

impl Loaded {
    /// Loads `path` onto `device`, or when none is given, inline if the module has a
    /// `vmvx-inline` executable and otherwise onto `local-task`.
    pub fn open(
        path: &str,
        device: Option<&str>,
        task_topology_max_group_count: Option<usize>,
    ) -> anyhow::Result<Loaded> {
        if device.is_none() {
            let bytes =
                std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read '{path}': {e}"))?;
            let module =
                kiln_module::Module::read(&bytes).map_err(|e| anyhow::anyhow!("'{path}': {e}"))?;
            if module
                .executables
                .iter()
                .any(|e| e.format == kiln_vmvx::INLINE_FORMAT)
            {
                let inline = kiln_inline::InlineModule::load_copy(&bytes)
                    .map_err(|e| anyhow::anyhow!("'{path}': {e}"))?;
                return Ok(Loaded::Inline(inline));
            }
        }
        let device = create_device(
            device.unwrap_or("local-task"),
            task_topology_max_group_count,
        )?;
        Ok(Loaded::Device(load_module(path, device)?))
    }

    /// The module's tables.
    pub fn module(&self) -> &kiln_module::Module {
        match self {
            Loaded::Device(m) => m.module(),
            Loaded::Inline(m) => m.module(),
        }
    }

    /// Calls `function` with host tensors.
    pub fn invoke(
        &mut self,
        function: &str,
        inputs: Vec<kiln_types::HostTensor>,
    ) -> anyhow::Result<Vec<kiln_types::HostTensor>> {
        Ok(match self {
            Loaded::Device(m) => m.invoke_owned(function, inputs)?,
            Loaded::Inline(m) => m.call_tensors(function, &inputs)?,
        })
    }
}

/// Loads a module file (memory-mapped) onto `device`.
pub fn load_module(
    path: &str,
    device: Arc<dyn kiln_runtime::hal::Device>,
) -> anyhow::Result<kiln_runtime::LoadedModule> {
    let bytes = kiln_runtime::ModuleBytes::map(std::path::Path::new(path))?;
    Ok(kiln_runtime::LoadedModule::load(
        device,
        Arc::new(bytes),
        path,
    )?)
}
