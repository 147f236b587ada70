//! `kiln-run-module`: runs a function of a `.kiln` module on a HAL device (or, for a `vmvx-inline`
//! module given no device, inline) and prints or checks its results. Flags follow iree-run-module's spelling.

use anyhow::{bail, Result};
use clap::Parser;
use kiln_tools::io::{compare, format_results, write_outputs, InputReader, Thresholds};

/// Runs a function of a kiln module.
#[derive(Parser)]
#[command(name = "kiln-run-module", version, about)]
struct Args {
    /// The module file.
    #[arg(long = "module")]
    module: Option<String>,
    /// The function to call (default: the module's only function, or `main`).
    #[arg(long = "function")]
    function: Option<String>,
    /// An input: `2x3xf32=1 2 3 4 5 6`, `@file.npy` or `+file.npy`. Repeat per input.
    #[arg(long = "input")]
    input: Vec<String>,
    /// Where to write a result: `@file.npy` (replace) or `+file.npy` (append). Repeat per result.
    #[arg(long = "output")]
    output: Vec<String>,
    /// An expected result, in `--input` syntax. Repeat per result.
    #[arg(long = "expected_output")]
    expected_output: Vec<String>,
    #[arg(long = "expected_f32_threshold", default_value_t = 1e-4)]
    expected_f32_threshold: f64,
    #[arg(long = "expected_f16_threshold", default_value_t = 1e-3)]
    expected_f16_threshold: f64,
    #[arg(long = "expected_bf16_threshold", default_value_t = 1e-2)]
    expected_bf16_threshold: f64,
    /// The device: a driver name (`local-task`) or URI (`local-task://`). Without one, a
    /// `vmvx-inline` module runs inline (no device) and any other on `local-task`.
    #[arg(long = "device")]
    device: Option<String>,
    /// Worker threads of local-task (default: one per core).
    #[arg(long = "task_topology_max_group_count")]
    task_topology_max_group_count: Option<usize>,
    /// Elements printed per result before eliding with `...`.
    #[arg(long = "print_max_element_count", default_value_t = 1024)]
    print_max_element_count: usize,
    /// Loads a HAL driver plugin (a shared library implementing kiln's driver plugin ABI)
    /// before anything else. Repeat per plugin.
    #[arg(long = "hal_driver_plugin")]
    hal_driver_plugin: Vec<String>,
    /// Lists the HAL drivers.
    #[arg(long = "list_drivers")]
    list_drivers: bool,
    /// Lists device URIs (all drivers, or one).
    #[arg(long = "list_devices", num_args = 0..=1, default_missing_value = "")]
    list_devices: Option<String>,
    /// Describes devices (all drivers, or one).
    #[arg(long = "dump_devices", num_args = 0..=1, default_missing_value = "")]
    dump_devices: Option<String>,
}

fn run(args: Args) -> Result<i32> {
    kiln_tools::load_driver_plugins(&args.hal_driver_plugin)?;
    let registry = kiln_tools::registry();
    let only = |s: &Option<String>| s.as_deref().filter(|d| !d.is_empty()).map(str::to_string);
    if args.list_drivers {
        print!("{}", kiln_tools::devices::list_drivers(&registry));
        return Ok(0);
    }
    if args.list_devices.is_some() {
        print!(
            "{}",
            kiln_tools::devices::list_devices(&registry, only(&args.list_devices).as_deref())
        );
        return Ok(0);
    }
    if args.dump_devices.is_some() {
        print!(
            "{}",
            kiln_tools::devices::dump_devices(&registry, only(&args.dump_devices).as_deref())
        );
        return Ok(0);
    }
    let Some(path) = &args.module else {
        bail!("no module given: pass --module=FILE.kiln")
    };
    let mut module = kiln_tools::Loaded::open(
        path,
        args.device.as_deref(),
        args.task_topology_max_group_count,
    )?;
    let function = match &args.function {
        Some(f) => f.clone(),
        None => default_function(module.module()),
    };
    let mut reader = InputReader::default();
    let inputs = args
        .input
        .iter()
        .map(|s| reader.read(s))
        .collect::<Result<Vec<_>>>()?;
    println!("EXEC @{function}");
    let outputs = module.invoke(&function, inputs)?;
    print!("{}", format_results(&outputs, args.print_max_element_count));
    write_outputs(&args.output, &outputs)?;
    if !args.expected_output.is_empty() {
        let mut reader = InputReader::default();
        let expected = args
            .expected_output
            .iter()
            .map(|s| reader.read(s))
            .collect::<Result<Vec<_>>>()?;
        let th = Thresholds {
            f32: args.expected_f32_threshold,
            f16: args.expected_f16_threshold,
            bf16: args.expected_bf16_threshold,
        };
        match compare(&expected, &outputs, th) {
            Ok(()) => println!("[SUCCESS] all function outputs matched their expected values."),
            Err(m) => {
                println!("{m}");
                return Ok(1);
            }
        }
    }
    Ok(0)
}

fn default_function(m: &kiln_module::Module) -> String {
    let mut exported = m.functions.iter().filter(|f| !f.internal);
    match (exported.next(), exported.next()) {
        (Some(f), None) => f.name.clone(),
        _ => "main".into(),
    }
}

fn main() {
    kiln_tools::install_panic_hook("kiln-run-module");
    match run(Args::parse()) {
        Ok(code) => std::process::exit(code),
        Err(e) => kiln_tools::exit_with("kiln-run-module", e),
    }
}
