//! `kiln-dump-module`: describes a `.kiln` file: format version, functions and signatures,
//! executables per target, constants.

use anyhow::{Context, Result};
use clap::Parser;

/// Prints what a kiln module contains.
#[derive(Parser)]
#[command(name = "kiln-dump-module", version, about)]
struct Args {
    /// The module file.
    module: String,
}

fn run(args: Args) -> Result<()> {
    let bytes =
        std::fs::read(&args.module).with_context(|| format!("cannot read '{}'", args.module))?;
    let m = kiln_module::Module::read(&bytes).with_context(|| format!("'{}'", args.module))?;
    println!("module: {}", m.name);
    println!("format version: {}", kiln_module::FORMAT_VERSION);
    println!("compiler: {}", m.compiler_version);
    println!("file size: {} bytes", bytes.len());
    println!("\nfunctions:");
    for f in &m.functions {
        let sig = |s: &[kiln_module::TensorSig]| {
            s.iter()
                .map(|t| match t.byte_size() {
                    Some(_) => format!("{}: {}", t.name, t.type_string()),
                    None => format!("{}: {} {}", t.name, t.type_string(), t.dims_string()),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let private = if f.internal { "private " } else { "" };
        println!(
            "  {private}@{}({}) -> ({})",
            f.name,
            sig(&f.inputs),
            sig(&f.outputs)
        );
        if let Some(c) = &f.control {
            println!("    control program:");
            for line in c.to_string().lines() {
                println!("    {line}");
            }
        }
        for p in &f.programs {
            let dispatches = p
                .insts
                .iter()
                .filter(|i| matches!(i, kiln_module::HostInst::Dispatch { .. }))
                .count();
            let targets: Vec<String> = p
                .executables()
                .iter()
                .map(|&e| match m.executables.get(e as usize) {
                    Some(x) => format!("[{e}] {}", x.target),
                    None => format!("[{e}]"),
                })
                .collect();
            println!(
                "    {}: {dispatches} dispatches, {} bytes of transient memory",
                targets.join(", "),
                p.transient_size
            );
        }
    }
    println!("\nexecutables:");
    for (i, e) in m.executables.iter().enumerate() {
        let kernels = if e.format == kiln_vmvx::FORMAT {
            kiln_vmvx::Executable::decode(&e.data)
                .map(|x| format!(", {} kernels", x.kernels.len()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        println!(
            "  [{i}] target {} (format {}): {} bytes{kernels}",
            e.target,
            e.format,
            e.data.len()
        );
    }
    let total: u64 = m.constants.iter().map(|c| c.length).sum();
    println!(
        "\nconstants: {} ({} bytes, 64-byte aligned)",
        m.constants.len(),
        total
    );
    Ok(())
}

fn main() {
    kiln_tools::install_panic_hook("kiln-dump-module");
    if let Err(e) = run(Args::parse()) {
        kiln_tools::exit_with("kiln-dump-module", e);
    }
}
