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
            return Err(CompileError::UnknownDevice(d.clone()));
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
    let bad = || CompileError::BadFlag {
        flag: "--kiln-bind-dim".into(),
        reason: format!("takes NAME=SIZE, got '{v}'"),
    };
    let (name, size) = v.rsplit_once('=').ok_or_else(bad)?;
    let size = size.parse::<usize>().map_err(|_| bad())?;
    if name.is_empty() {
        return Err(bad());
    }
    Ok((name.to_string(), size))
}

/// Parses `NAME=VALUE` for `--kiln-bind-input`.
pub fn parse_input_binding(v: &str) -> Result<(String, f64), CompileError> {
    let bad = || CompileError::BadFlag {
        flag: "--kiln-bind-input".into(),
        reason: format!("takes NAME=VALUE with a number, got '{v}'"),
    };
    let (name, value) = v.rsplit_once('=').ok_or_else(bad)?;
    let value = match value {
        "true" => 1.0,
        "false" => 0.0,
        number => number.parse::<f64>().map_err(|_| bad())?,
    };
    if name.is_empty() {
        return Err(bad());
    }
    Ok((name.to_string(), value))
}

/// A compiler flag: its spelling, its value and what it does, and how it sets the options.
/// [`FLAGS`] is the one table every front end reads.
pub struct Flag {
    pub name: &'static str,
    pub value: &'static str,
    pub help: &'static str,
    set: fn(&mut Settings, &str) -> Result<(), CompileError>,
}

/// Options being set, with the three target spellings gathered until all flags are read.
struct Settings<'a> {
    options: &'a mut CompileOptions,
    backends: Vec<String>,
    devices: Vec<String>,
    local: Vec<String>,
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every compiler flag kiln takes, iree-compile's spelling where it has one.
pub const FLAGS: &[Flag] = &[
    Flag {
        name: "--iree-hal-target-backends",
        value: "NAME,...",
        help: "target backends (IREE's legacy spelling); several make one module with an executable per target",
        set: |s, v| {
            s.backends.extend(list(v));
            Ok(())
        },
    },
    Flag {
        name: "--iree-hal-target-device",
        value: "DEVICE",
        help: "target devices (IREE's current spelling): local, vulkan, cuda, hip, metal, webgpu; repeatable",
        set: |s, v| {
            s.devices.extend(list(v));
            Ok(())
        },
    },
    Flag {
        name: "--iree-hal-local-target-device-backends",
        value: "NAME,...",
        help: "backends for the `local` target device (llvm-cpu, vmvx)",
        set: |s, v| {
            s.local.extend(list(v));
            Ok(())
        },
    },
    Flag {
        name: "--compile-to",
        value: "PHASE",
        help: "stop after a phase and print it: input, global-optimization, dispatch-creation, hal",
        set: |s, v| {
            s.options.compile_to = Some(v.parse::<Phase>()?);
            Ok(())
        },
    },
    Flag {
        name: "--kiln-bind-dim",
        value: "NAME=SIZE",
        help: "compile for one size of a symbolic input dim (repeatable); dims left unbound stay open (see --kiln-dynamic-dims)",
        set: |s, v| {
            s.options.dims.push(parse_dim_binding(v)?);
            Ok(())
        },
    },
    Flag {
        name: "--kiln-dynamic-dims",
        value: "",
        help: "keep unbound input dims open, one module for every size (=false binds them to 1); by default they stay open where the model compiles that way and are bound to 1 otherwise, with a note",
        set: |s, v| {
            s.options.dynamic_dims = Some(parse_bool("--kiln-dynamic-dims", v)?);
            Ok(())
        },
    },
    Flag {
        name: "--kiln-bind-input",
        value: "NAME=VALUE",
        help: "compile for one value of a one-element input (repeatable): it becomes a constant, leaves the function's inputs, and what depends on it folds (an If keeps one branch)",
        set: |s, v| {
            s.options.inputs.push(parse_input_binding(v)?);
            Ok(())
        },
    },
    Flag {
        name: "--kiln-onnx-expand-functions",
        value: "",
        help: "import ONNX's function-defined ops (Celu, HardSwish, ReduceL2, Range, ...) through the function bodies ONNX gives them, even where kiln lowers them directly: a check of kiln's lowerings against ONNX's definitions (ops kiln does not lower are expanded anyway)",
        set: |s, v| {
            s.options.expand_functions = parse_bool("--kiln-onnx-expand-functions", v)?;
            Ok(())
        },
    },
    Flag {
        name: "--iree-vulkan-target",
        value: "ARCH",
        help: "GPU architecture for vulkan-spirv: generic (default) or one of --iree-vulkan-list-targets",
        set: |s, v| {
            s.options.vulkan_target = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "--iree-cuda-target",
        value: "ARCH",
        help: "GPU architecture for cuda: sm_70 ... sm_120 (default sm_80) or a name (volta, ampere, ada, hopper, blackwell, a100, h100, ...)",
        set: |s, v| {
            s.options.cuda_target = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "--iree-rocm-target",
        value: "ARCH",
        help: "GPU architecture for rocm: gfx908, gfx90a, gfx942 (default), gfx950, gfx1030, gfx1100, ... or a name (mi300x, rdna3, ...)",
        set: |s, v| {
            s.options.rocm_target = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "--iree-hip-target",
        value: "ARCH",
        help: "IREE's newer spelling of --iree-rocm-target",
        set: |s, v| {
            s.options.rocm_target = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "--kiln-llvmcpu-inline-math",
        value: "",
        help: "llvm-cpu kernels write math inline (log, sin, cos, pow, f16 conversion) rather than calling the C library, as GPU kernels do (exp, tanh and erf are always inline); always so for bare-metal triples (*-none-*)",
        set: |s, v| {
            s.options.llvm_cpu.inline_math = parse_bool("--kiln-llvmcpu-inline-math", v)?;
            Ok(())
        },
    },
    Flag {
        name: "--iree-llvmcpu-target-triple",
        value: "TRIPLE",
        help: "LLVM target triple for llvm-cpu (default: this machine)",
        set: |s, v| {
            s.options.llvm_cpu.triple = v.to_string();
            Ok(())
        },
    },
    Flag {
        name: "--iree-llvmcpu-target-cpu",
        value: "CPU",
        help: "CPU for llvm-cpu: host (default), generic; x86-64-v2/-v3/-v4 on x86-64, any LLVM CPU name elsewhere",
        set: |s, v| {
            s.options.llvm_cpu.cpu = v.to_string();
            Ok(())
        },
    },
    Flag {
        name: "--iree-llvmcpu-target-cpu-features",
        value: "+F,-F,...",
        help: "extra LLVM CPU features for llvm-cpu, or `host`; on x86-64, enabled features must be ones the runtime checks at load",
        set: |s, v| {
            s.options.llvm_cpu.features = v.to_string();
            Ok(())
        },
    },
    Flag {
        name: "--iree-llvmcpu-enable-ukernels",
        value: "LIST",
        help: "microkernels llvm-cpu calls: default, all, none, or a list (mmt4d,...); without mmt4d the GEMM tile is generated as LLVM IR",
        set: |s, v| {
            s.options.llvm_cpu.ukernels = v.to_string();
            Ok(())
        },
    },
    Flag {
        name: "--iree-llvmcpu-link-embedded",
        value: "BOOL",
        help: "false: llvm-cpu writes a static library the program links (with --iree-llvmcpu-static-library-output-path) rather than code the runtime links (default true)",
        set: |s, v| {
            s.options.llvm_cpu_link_embedded = Some(parse_bool("--iree-llvmcpu-link-embedded", v)?);
            Ok(())
        },
    },
    Flag {
        name: "--iree-llvmcpu-static-library-output-path",
        value: "DIR/NAME.o",
        help: "where llvm-cpu writes its static library's object; NAME.h, declaring NAME_library_query, goes beside it",
        set: |s, v| {
            s.options.static_library_output = Some(v.into());
            Ok(())
        },
    },
    Flag {
        name: "--iree-hal-dump-executable-binaries-to",
        value: "DIR",
        help: "write each executable's binaries into DIR: .o for llvm-cpu, one .spv per entry point for vulkan-spirv, .vmvx for vmvx",
        set: |s, v| {
            s.options.dump_binaries_to = Some(v.into());
            Ok(())
        },
    },
];

/// The flag table as `--help` lines.
pub fn help() -> String {
    let mut out = String::from("Compiler flags (--name=VALUE):\n");
    for f in FLAGS {
        let value = match f.value {
            "" => "[=true|false]".to_string(),
            v => format!("={v}"),
        };
        out.push_str(&format!("  {}{value}\n          {}\n", f.name, f.help));
    }
    out
}

/// Reads a switch's value: `true`, `false`, or empty for true.
fn parse_bool(flag: &str, v: &str) -> Result<bool, CompileError> {
    match v {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(CompileError::BadFlag {
            flag: flag.into(),
            reason: format!("'{v}' is not true or false"),
        }),
    }
}

/// Splits command-line arguments into compiler flags of [`FLAGS`] (as `--name=value`, also
/// when given as `--name value`, and switches given alone as `--name=true`) and the rest, in
/// order.
pub fn split_args(args: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<String>) {
    let (mut flags, mut rest) = (vec![], vec![]);
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        let Some(flag) = FLAGS.iter().find(|f| f.name == name) else {
            rest.push(a);
            continue;
        };
        if a.contains('=') {
            flags.push(a);
        } else if flag.value.is_empty() {
            // A switch (`value` empty) alone means `=true`, as IREE's boolean flags do.
            flags.push(format!("{a}=true"));
        } else {
            flags.push(format!("{a}={}", args.next().unwrap_or_default()));
        }
    }
    (flags, rest)
}

/// Applies `--flag=value` arguments of [`FLAGS`] on top of `options`.
///
/// ```
/// use kiln_compiler::{flags, CompileOptions, Phase};
/// let mut o = CompileOptions::default();
/// flags::apply(&mut o, &["--iree-hal-target-backends=vmvx".into(), "--compile-to=hal".into()]).unwrap();
/// assert_eq!(o.targets, ["vmvx"]);
/// assert_eq!(o.compile_to, Some(Phase::Hal));
/// ```
pub fn apply(options: &mut CompileOptions, args: &[String]) -> Result<(), CompileError> {
    let mut s = Settings {
        options,
        backends: vec![],
        devices: vec![],
        local: vec![],
    };
    for a in args {
        let (k, v) = a.split_once('=').unwrap_or((a.as_str(), ""));
        let flag = FLAGS
            .iter()
            .find(|f| f.name == k)
            .ok_or_else(|| CompileError::UnknownFlag(k.into()))?;
        // Only a switch may stand alone (it means `=true`).
        if !a.contains('=') && !flag.value.is_empty() {
            return Err(CompileError::BadFlag {
                flag: a.clone(),
                reason: "must be written --name=value".into(),
            });
        }
        (flag.set)(&mut s, v)?;
    }
    if !(s.backends.is_empty() && s.devices.is_empty() && s.local.is_empty()) {
        let mut all = s.options.targets.clone();
        all.extend(s.backends);
        s.options.targets = resolve_targets(&all, &s.devices, &s.local)?;
    }
    Ok(())
}
