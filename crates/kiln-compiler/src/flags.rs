//! iree-compile's flag spellings, parsed once for every front end (the `kiln-compile` tool and
//! Python's `extra_args`): target selection and `--compile-to`.

use crate::{CompileError, CompileOptions, Phase};

/// Target devices IREE names with `--iree-hal-target-device`, and the backend each implies.
const DEVICE_BACKENDS: &[(&str, &str)] = &[
    ("vulkan", "vulkan-spirv"),
    ("cuda", "cuda"),
    ("hip", "rocm"),
    ("metal", "metal-spirv"),
    ("webgpu", "webgpu-spirv"),
];

/// The backend used when no target is named: the CPU.
pub const DEFAULT_TARGET: &str = "vmvx";

/// Target backends from IREE's legacy (`--iree-hal-target-backends`) and current
/// (`--iree-hal-target-device` + `--iree-hal-local-target-device-backends`) spellings.
pub fn resolve_targets(
    backends: &[String],
    devices: &[String],
    local_backends: &[String],
) -> Result<Vec<String>, CompileError> {
    let mut t: Vec<String> = backends.to_vec();
    for d in devices {
        if d == "local" {
            if local_backends.is_empty() {
                t.push(DEFAULT_TARGET.into());
            } else {
                t.extend(local_backends.iter().cloned());
            }
        } else if let Some((_, b)) = DEVICE_BACKENDS.iter().find(|(dev, _)| dev == d) {
            t.push((*b).into());
        } else {
            return Err(CompileError::Invalid(format!(
                "unknown target device '{d}' (devices: local, vulkan, cuda, hip, metal, webgpu)"
            )));
        }
    }
    if t.is_empty() {
        t.push(DEFAULT_TARGET.into());
    }
    let mut unique: Vec<String> = vec![];
    for name in t {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    Ok(unique)
}

/// Parses `NAME=SIZE` for `--kiln-bind-dim`.
pub fn parse_dim_binding(v: &str) -> Result<(String, usize), CompileError> {
    let bad = || CompileError::Invalid(format!("--kiln-bind-dim takes NAME=SIZE, got '{v}'"));
    let (name, size) = v.rsplit_once('=').ok_or_else(bad)?;
    let size = size.parse::<usize>().map_err(|_| bad())?;
    if name.is_empty() {
        return Err(bad());
    }
    Ok((name.to_string(), size))
}

/// Applies `--flag=value` arguments on top of `options`.
///
/// ```
/// use kiln_compiler::{flags, CompileOptions, Phase};
/// let mut o = CompileOptions::default();
/// flags::apply(&mut o, &["--iree-hal-target-backends=vmvx".into(), "--compile-to=hal".into()]).unwrap();
/// assert_eq!(o.targets, ["vmvx"]);
/// assert_eq!(o.compile_to, Some(Phase::Hal));
/// ```
pub fn apply(options: &mut CompileOptions, args: &[String]) -> Result<(), CompileError> {
    let (mut backends, mut devices, mut local) = (vec![], vec![], vec![]);
    let list = |v: &str| {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for a in args {
        let (k, v) = a.split_once('=').ok_or_else(|| {
            CompileError::Invalid(format!("flag '{a}' must be written --name=value"))
        })?;
        match k {
            "--iree-hal-target-backends" => backends.extend(list(v)),
            "--iree-hal-target-device" => devices.extend(list(v)),
            "--iree-hal-local-target-device-backends" => local.extend(list(v)),
            "--compile-to" => options.compile_to = Some(v.parse::<Phase>()?),
            "--kiln-bind-dim" => options.dims.push(parse_dim_binding(v)?),
            "--iree-vulkan-target" => options.vulkan_target = Some(v.to_string()),
            "--iree-llvmcpu-target-triple" => options.llvm_cpu.triple = v.to_string(),
            "--iree-llvmcpu-target-cpu" => options.llvm_cpu.cpu = v.to_string(),
            "--iree-llvmcpu-target-cpu-features" => options.llvm_cpu.features = v.to_string(),
            "--iree-llvmcpu-enable-ukernels" => options.llvm_cpu.ukernels = v.to_string(),
            "--iree-hal-dump-executable-binaries-to" => options.dump_binaries_to = Some(v.into()),
            _ => {
                return Err(CompileError::Invalid(format!(
                    "unknown compiler flag '{k}'"
                )))
            }
        }
    }
    if !(backends.is_empty() && devices.is_empty() && local.is_empty()) {
        let mut all = options.targets.clone();
        all.extend(backends);
        options.targets = resolve_targets(&all, &devices, &local)?;
    }
    Ok(())
}
