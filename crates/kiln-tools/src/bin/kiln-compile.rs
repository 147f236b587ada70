//! `kiln-compile`: compiles an ONNX model (or kiln IR text) into a `.kiln` module.

use anyhow::{bail, Context, Result};
use clap::Parser;
use kiln_compiler::{CompileOptions, CompileOutput, Phase};
use kiln_import::InputType;
use std::path::PathBuf;

/// Compiles a model into a kiln module. Flags follow iree-compile's spelling.
#[derive(Parser)]
#[command(name = "kiln-compile", version, about)]
struct Args {
    /// The model: .onnx, or .kir (kiln tensor program text).
    input: Option<PathBuf>,
    /// Where to write the module (or the text of --compile-to).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Target backends, comma-separated (legacy IREE spelling).
    #[arg(long = "iree-hal-target-backends", value_delimiter = ',')]
    target_backends: Vec<String>,
    /// Target devices (IREE's current spelling): local, vulkan, cuda, hip, metal, webgpu.
    #[arg(long = "iree-hal-target-device")]
    target_device: Vec<String>,
    /// Backends for the `local` target device, comma-separated.
    #[arg(long = "iree-hal-local-target-device-backends", value_delimiter = ',')]
    local_backends: Vec<String>,
    /// Lists the target backends this build can compile for.
    #[arg(long = "iree-hal-list-target-backends")]
    list_target_backends: bool,
    /// Stops after a phase and prints its IR: input, global-optimization, dispatch-creation, hal.
    #[arg(long = "compile-to")]
    compile_to: Option<String>,
    /// The input format when the extension does not tell: onnx or kir.
    #[arg(long = "iree-input-type")]
    input_type: Option<String>,
    /// GPU architecture for vulkan-spirv: generic (default) or a name from
    /// --iree-vulkan-list-targets.
    #[arg(long = "iree-vulkan-target")]
    vulkan_target: Option<String>,
    /// LLVM target triple for llvm-cpu (default: this machine).
    #[arg(long = "iree-llvmcpu-target-triple")]
    llvmcpu_triple: Option<String>,
    /// CPU for llvm-cpu: host (default), generic; for x86-64 also x86-64-v2/-v3/-v4, for other
    /// architectures any LLVM CPU name (neoverse-v1, ...).
    #[arg(long = "iree-llvmcpu-target-cpu")]
    llvmcpu_cpu: Option<String>,
    /// Extra LLVM CPU features for llvm-cpu (+avx2,-avx512f), or `host`. On x86-64, enabled
    /// features must be ones the runtime checks when it loads the module.
    #[arg(long = "iree-llvmcpu-target-cpu-features")]
    llvmcpu_features: Option<String>,
    /// Microkernels llvm-cpu calls: default, all, none, or a list (mmt4d,...). Without mmt4d
    /// the GEMM register tile is generated as LLVM IR into the executable.
    #[arg(long = "iree-llvmcpu-enable-ukernels")]
    llvmcpu_ukernels: Option<String>,
    /// Lists the LLVM targets llvm-cpu can compile for.
    #[arg(long = "iree-llvmcpu-list-targets")]
    list_llvmcpu_targets: bool,
    /// Lists the architectures --iree-vulkan-target accepts.
    #[arg(long = "iree-vulkan-list-targets")]
    list_vulkan_targets: bool,
    /// Writes each executable's binaries into this directory: `.o` for llvm-cpu, one `.spv` per
    /// entry point for vulkan-spirv, `.vmvx` for vmvx.
    #[arg(long = "iree-hal-dump-executable-binaries-to")]
    dump_binaries_to: Option<PathBuf>,
    /// Size for a symbolic input dim, NAME=SIZE (repeatable); unbound ones compile as 1.
    #[arg(long = "kiln-bind-dim")]
    bind_dim: Vec<String>,
}

fn targets(args: &Args) -> Result<Vec<String>> {
    Ok(kiln_compiler::flags::resolve_targets(
        &args.target_backends,
        &args.target_device,
        &args.local_backends,
    )?)
}

fn run(args: Args) -> Result<()> {
    if args.list_target_backends {
        println!("Registered target backends:");
        for t in kiln_compiler::available_targets() {
            println!("    {t}");
        }
        return Ok(());
    }
    if args.list_llvmcpu_targets {
        println!("Registered LLVM targets (--iree-llvmcpu-target-triple):");
        for (name, description) in kiln_codegen_llvm::list_targets() {
            println!("    {name:<10} {description}");
        }
        return Ok(());
    }
    if args.list_vulkan_targets {
        println!("Vulkan targets (--iree-vulkan-target):");
        for t in kiln_codegen_spirv::TARGETS {
            println!(
                "    {:<8} subgroup {:>2}, {:>4} invocations, {:>2} KiB shared: {}",
                t.name,
                t.subgroup_size,
                t.max_workgroup_invocations,
                t.max_shared_memory / 1024,
                t.description
            );
        }
        return Ok(());
    }
    let input = args
        .input
        .clone()
        .context("no input file given (usage: kiln-compile MODEL -o OUT.kiln)")?;
    let input_type = match args.input_type.as_deref() {
        None => None,
        Some("onnx") => Some(InputType::Onnx),
        Some("kir") | Some("kiln") => Some(InputType::KilnIr),
        Some(other) => bail!("unknown --iree-input-type '{other}' (types: onnx, kir)"),
    };
    let compile_to = args
        .compile_to
        .as_deref()
        .map(str::parse::<Phase>)
        .transpose()?;
    let dims = args
        .bind_dim
        .iter()
        .map(|d| kiln_compiler::flags::parse_dim_binding(d))
        .collect::<Result<Vec<_>, _>>()?;
    let options = CompileOptions {
        targets: targets(&args)?,
        compile_to,
        module_name: String::new(),
        dims,
        vulkan_target: args.vulkan_target.clone(),
        llvm_cpu: kiln_codegen_llvm::CpuTarget {
            triple: args.llvmcpu_triple.clone().unwrap_or_default(),
            cpu: args.llvmcpu_cpu.clone().unwrap_or_default(),
            features: args.llvmcpu_features.clone().unwrap_or_default(),
            ukernels: args.llvmcpu_ukernels.clone().unwrap_or_default(),
        },
        dump_binaries_to: args.dump_binaries_to.clone(),
    };
    if args.output.is_none() && compile_to.is_none_or(|p| p == Phase::End) {
        bail!("no output file given: pass -o OUT.kiln");
    }
    if let Some(out) = &args.output {
        let same = std::fs::canonicalize(out)
            .ok()
            .zip(std::fs::canonicalize(&input).ok())
            .is_some_and(|(a, b)| a == b);
        if same {
            bail!("the output '{}' would overwrite the input", out.display());
        }
    }
    let context = || format!("cannot compile '{}'", input.display());
    let imported =
        kiln_import::import_file_with(&input, input_type, &kiln_compiler::import_options(&options))
            .map_err(kiln_compiler::CompileError::from)
            .with_context(context)?;
    for note in &imported.notes {
        eprintln!("kiln-compile: note: {note}");
    }
    let result =
        kiln_compiler::compile_program(imported.program, &kiln_compiler::named(&options, &input))
            .with_context(context)?;
    let bytes = match result {
        CompileOutput::Module(b) => b,
        CompileOutput::Text(t) if args.output.is_none() => {
            print!("{t}");
            return Ok(());
        }
        CompileOutput::Text(t) => t.into_bytes(),
    };
    let out = args.output.expect("checked above");
    // Write beside the target and rename, so a failed write never leaves a half-written module.
    let tmp = out.with_extension("kiln.partial");
    std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write '{}'", tmp.display()))?;
    std::fs::rename(&tmp, &out).with_context(|| format!("cannot write '{}'", out.display()))?;
    Ok(())
}

fn main() {
    kiln_tools::install_panic_hook("kiln-compile");
    if let Err(e) = run(Args::parse()) {
        kiln_tools::exit_with("kiln-compile", e);
    }
}
