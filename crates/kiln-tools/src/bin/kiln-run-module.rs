//! `kiln-run-module`: runs a function of a `.kiln` module on a HAL device (or, for a `vmvx-inline`
//! module given no device, inline) and prints or checks its results. Flags follow iree-run-module's spelling.

use anyhow::{bail, Result};
use kiln_tools::flags::{self, help, FlagHelp, Flags};
use kiln_tools::io::{compare, format_results, write_outputs, InputReader, Thresholds};

const TOOL: &str = "kiln-run-module";

/// The flags, as `--help` lists them.
const FLAGS: &[FlagHelp] = &[
    flags::MODULE,
    FlagHelp {
        name: "function",
        value: "NAME",
        text: "The function to call (default: the module's only function, or `main`)",
    },
    FlagHelp {
        name: "input",
        value: "VALUE",
        text: "An input: `2x3xf32=1 2 3 4 5 6`, `@file.npy` or `+file.npy`. Repeat per input",
    },
    FlagHelp {
        name: "output",
        value: "@FILE",
        text: "Where to write a result: `@file.npy` (replace) or `+file.npy` (append). Repeat \
               per result",
    },
    FlagHelp {
        name: "expected_output",
        value: "VALUE",
        text: "An expected result, in `--input` syntax. Repeat per result",
    },
    FlagHelp {
        name: "expected_f32_threshold",
        value: "X",
        text: "Largest difference an f32 result may have from its expected value [1e-4]",
    },
    FlagHelp {
        name: "expected_f16_threshold",
        value: "X",
        text: "Largest difference an f16 result may have from its expected value [1e-3]",
    },
    FlagHelp {
        name: "expected_bf16_threshold",
        value: "X",
        text: "Largest difference a bf16 result may have from its expected value [1e-2]",
    },
    flags::DEVICE,
    flags::TASK_TOPOLOGY_MAX_GROUP_COUNT,
    FlagHelp {
        name: "print_max_element_count",
        value: "N",
        text: "Elements printed per result before eliding with `...` [1024]",
    },
    flags::HAL_DRIVER_PLUGIN,
    FlagHelp {
        name: "list_drivers",
        value: "",
        text: "Lists the HAL drivers",
    },
    FlagHelp {
        name: "list_devices",
        value: "[DRIVER]",
        text: "Lists device URIs (all drivers, or one)",
    },
    FlagHelp {
        name: "dump_devices",
        value: "[DRIVER]",
        text: "Describes devices (all drivers, or one)",
    },
];

/// What the command line asks for.
struct Args {
    module: Option<String>,
    function: Option<String>,
    input: Vec<String>,
    output: Vec<String>,
    expected_output: Vec<String>,
    thresholds: Thresholds,
    device: Option<String>,
    task_topology_max_group_count: Option<usize>,
    print_max_element_count: usize,
    hal_driver_plugin: Vec<String>,
    list_drivers: bool,
    /// `Some("")` for every driver.
    list_devices: Option<String>,
    /// `Some("")` for every driver.
    dump_devices: Option<String>,
}

impl Args {
    /// Reads the command line; `None` when it asked for `--help` or `--version`, which are
    /// printed here.
    fn parse(mut flags: Flags) -> Result<Option<Args>> {
        let mut args = Args {
            module: None,
            function: None,
            input: Vec::new(),
            output: Vec::new(),
            expected_output: Vec::new(),
            thresholds: Thresholds {
                f32: 1e-4,
                f16: 1e-3,
                bf16: 1e-2,
            },
            device: None,
            task_topology_max_group_count: None,
            print_max_element_count: 1024,
            hal_driver_plugin: Vec::new(),
            list_drivers: false,
            list_devices: None,
            dump_devices: None,
        };
        while let Some(flag) = flags.next_flag()? {
            match flag.as_str() {
                "module" => args.module = Some(flags.text(&flag)?),
                "function" => args.function = Some(flags.text(&flag)?),
                "input" => args.input.push(flags.text(&flag)?),
                "output" => args.output.push(flags.text(&flag)?),
                "expected_output" => args.expected_output.push(flags.text(&flag)?),
                "expected_f32_threshold" => args.thresholds.f32 = flags.number(&flag)?,
                "expected_f16_threshold" => args.thresholds.f16 = flags.number(&flag)?,
                "expected_bf16_threshold" => args.thresholds.bf16 = flags.number(&flag)?,
                "device" => args.device = Some(flags.text(&flag)?),
                "task_topology_max_group_count" => {
                    args.task_topology_max_group_count = Some(flags.number(&flag)?)
                }
                "print_max_element_count" => args.print_max_element_count = flags.number(&flag)?,
                "hal_driver_plugin" => args.hal_driver_plugin.push(flags.text(&flag)?),
                "list_drivers" => args.list_drivers = true,
                "list_devices" => {
                    args.list_devices = Some(flags.optional_text(&flag)?.unwrap_or_default())
                }
                "dump_devices" => {
                    args.dump_devices = Some(flags.optional_text(&flag)?.unwrap_or_default())
                }
                "help" => {
                    let about =
                        "Runs a function of a kiln module and prints or checks its results.";
                    print!("{}", help(TOOL, about, FLAGS));
                    return Ok(None);
                }
                "version" => {
                    println!("{TOOL} {}", env!("CARGO_PKG_VERSION"));
                    return Ok(None);
                }
                _ => return Err(flags.unknown(&flag)),
            }
        }
        Ok(Some(args))
    }
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
        match compare(&expected, &outputs, args.thresholds) {
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
    kiln_tools::install_panic_hook(TOOL);
    let code = Args::parse(Flags::from_env(TOOL)).and_then(|args| match args {
        Some(args) => run(args),
        None => Ok(0),
    });
    match code {
        Ok(code) => std::process::exit(code),
        Err(e) => kiln_tools::exit_with(TOOL, e),
    }
}
