//! What kiln's tools share: the driver registry, IREE-compatible input/output flags and the
//! device listings. Each binary in `src/bin` is an argument struct plus a call into this
//! library or the crates below it.

pub mod devices;
pub mod io;

use std::sync::Arc;

/// The registry of every driver this build contains.
pub fn registry() -> kiln_runtime::DriverRegistry {
    let mut r = kiln_runtime::DriverRegistry::new();
    kiln_hal_local::register(&mut r);
    kiln_hal_vulkan::register(&mut r);
    kiln_hal_gpu::register(&mut r);
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
