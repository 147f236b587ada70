//! `kiln-compile`: compiles an ONNX model (or kiln IR text) into a `.kiln` module.

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser};
use kiln_compiler::{CompileOptions, CompileOutput, Phase};
use kiln_import::InputType;
use std::path::PathBuf;

/// Compiles a model into a kiln module. Flags follow iree-compile's spelling; the compiler
/// flags (listed below) are `kiln_compiler::flags::FLAGS`, the table Python's `extra_args`
/// read too.
#[derive(Parser)]
#[command(name = "kiln-compile", version, about)]
struct Args {
    /// The model: .onnx, or .kir (kiln tensor program text).
    input: Option<PathBuf>,
    /// Where to write the module (or the text of --compile-to).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Lists the target backends this build can compile for.
    #[arg(long = "iree-hal-list-target-backends")]
    list_target_backends: bool,
    /// The input format when the extension does not tell: onnx or kir.
    #[arg(long = "iree-input-type")]
    input_type: Option<String>,
    /// Lists the LLVM targets llvm-cpu can compile for.
    #[arg(long = "iree-llvmcpu-list-targets")]
    list_llvmcpu_targets: bool,
    /// Lists the architectures --iree-vulkan-target accepts.
    #[arg(long = "iree-vulkan-list-targets")]
    list_vulkan_targets: bool,
}

fn run(args: Args, flags: &[String]) -> Result<()> {
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
    let input_type = args
        .input_type
        .as_deref()
        .map(str::parse::<InputType>)
        .transpose()?;
    let mut options = CompileOptions::default();
    kiln_compiler::flags::apply(&mut options, flags)?;
    if options.targets.is_empty() {
        options.targets = kiln_compiler::flags::resolve_targets(&[], &[], &[])?;
    }
    let compile_to = options.compile_to;
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
    let import =
        |o: &kiln_import::ImportOptions| kiln_import::import_file_with(&input, input_type, o);
    let (result, notes) =
        kiln_compiler::import_and_compile(&import, &kiln_compiler::named(&options, &input))
            .with_context(context)?;
    for note in &notes {
        eprintln!("kiln-compile: note: {note}");
    }
    let bytes = match result {
        CompileOutput::Module(b) => b,
        CompileOutput::Text(t) if args.output.is_none() => {
            print!("{t}");
            return Ok(());
        }
        CompileOutput::Text(t) => t.into_bytes(),
    };
    write_output(&args.output.expect("checked above"), &bytes)
}

/// Writes `bytes` to `out`. A regular file (or a new one) is written beside its final path and
/// renamed into place, so a failed write never leaves a half-written module; a symbolic link
/// is followed, so the file it names is the one replaced. Anything else (`/dev/null`, a pipe,
/// a terminal) is written directly: renaming over it would replace the device itself.
fn write_output(out: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let cannot = || format!("cannot write '{}'", out.display());
    let target = match std::fs::metadata(out) {
        Ok(meta) if !meta.is_file() => return std::fs::write(out, bytes).with_context(cannot),
        Ok(_) => std::fs::canonicalize(out).with_context(cannot)?,
        Err(_) => out.to_path_buf(),
    };
    let tmp = target.with_extension("kiln.partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write '{}'", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(cannot)
}

fn main() {
    kiln_tools::install_panic_hook("kiln-compile");
    let (flags, rest) = kiln_compiler::flags::split_args(std::env::args());
    let command = Args::command().after_help(kiln_compiler::flags::help());
    let args = Args::from_arg_matches(&command.get_matches_from(rest)).unwrap_or_else(|e| e.exit());
    if let Err(e) = run(args, &flags) {
        kiln_tools::exit_with("kiln-compile", e);
    }
}
