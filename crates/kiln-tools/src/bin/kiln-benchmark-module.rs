//! `kiln-benchmark-module`: times the functions of a `.kiln` module, Google-Benchmark style,
//! as iree-benchmark-module does: inputs placed on the device once, a warm-up call, then
//! repetitions of timed batches of calls (result buffers recycled from call to call), then the
//! mean, median and standard deviation of the per-call time. `--print_statistics` then times
//! each dispatch of some more calls and lists the kernels that take the most of a call. A
//! `vmvx-inline` module given no device runs on the inline runtime, over buffers prepared once.

use anyhow::{anyhow, bail, Result};
use kiln_runtime::{HostInput, LoadedModule};
use kiln_tools::flags::{self, help, FlagHelp, Flags};
use kiln_tools::io::InputReader;
use kiln_tools::Loaded;
use kiln_types::HostTensor;
use std::time::{Duration, Instant};

const TOOL: &str = "kiln-benchmark-module";

/// The flags, as `--help` lists them.
const FLAGS: &[FlagHelp] = &[
    flags::MODULE,
    FlagHelp {
        name: "function",
        value: "NAME",
        text: "The function to time (default: every exported function)",
    },
    flags::HAL_DRIVER_PLUGIN,
    FlagHelp {
        name: "input",
        value: "VALUE",
        text: "An input in iree-run-module syntax; `1x3x224x224xf32=0` fills a tensor with \
               zeros. Repeat per input",
    },
    flags::DEVICE,
    flags::TASK_TOPOLOGY_MAX_GROUP_COUNT,
    FlagHelp {
        name: "benchmark_repetitions",
        value: "N",
        text: "Timed repetitions; statistics are over these [5]",
    },
    FlagHelp {
        name: "benchmark_min_time",
        value: "SECONDS",
        text: "Minimum seconds each repetition runs (it calls the function as often as fits) \
               [0.2]",
    },
    FlagHelp {
        name: "print_statistics",
        value: "[N|all]",
        text: "After timing, time every dispatch of a repetition's worth of calls and print \
               the N kernels taking the most of a call (all: every kernel) [15]",
    },
];

/// What the command line asks for.
struct Args {
    module: String,
    function: Option<String>,
    hal_driver_plugin: Vec<String>,
    input: Vec<String>,
    device: Option<String>,
    task_topology_max_group_count: Option<usize>,
    benchmark_repetitions: usize,
    benchmark_min_time: f64,
    /// How many kernels `--print_statistics` lists, slowest first (none when not given).
    print_statistics: Option<usize>,
}

impl Args {
    /// Reads the command line; `None` when it asked for `--help` or `--version`, which are
    /// printed here.
    fn parse(mut flags: Flags) -> Result<Option<Args>> {
        let mut module = None;
        let mut args = Args {
            module: String::new(),
            function: None,
            hal_driver_plugin: Vec::new(),
            input: Vec::new(),
            device: None,
            task_topology_max_group_count: None,
            benchmark_repetitions: 5,
            benchmark_min_time: 0.2,
            print_statistics: None,
        };
        while let Some(flag) = flags.next_flag()? {
            match flag.as_str() {
                "module" => module = Some(flags.text(&flag)?),
                "function" => args.function = Some(flags.text(&flag)?),
                "hal_driver_plugin" => args.hal_driver_plugin.push(flags.text(&flag)?),
                "input" => args.input.push(flags.text(&flag)?),
                "device" => args.device = Some(flags.text(&flag)?),
                "task_topology_max_group_count" => {
                    args.task_topology_max_group_count = Some(flags.number(&flag)?)
                }
                "benchmark_repetitions" => args.benchmark_repetitions = flags.number(&flag)?,
                "benchmark_min_time" => args.benchmark_min_time = flags.number(&flag)?,
                "print_statistics" => {
                    args.print_statistics = Some(match flags.optional_text(&flag)? {
                        None => SLOWEST,
                        Some(all) if all == "all" => usize::MAX,
                        Some(count) => count.parse().map_err(|_| {
                            anyhow!("--print_statistics: {count:?} is not a count or `all`")
                        })?,
                    })
                }
                "help" => {
                    let about = "Times the functions of a kiln module, as iree-benchmark-module \
                                 does.";
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
        let Some(module) = module else {
            bail!("no module given: pass --module=FILE.kiln")
        };
        args.module = module;
        Ok(Some(args))
    }
}

/// Kernels listed by `--print_statistics` without a count.
const SLOWEST: usize = 15;

fn human(d: f64) -> String {
    if d >= 1e-1 {
        format!("{:.1} ms", d * 1e3)
    } else if d >= 1e-3 {
        format!("{:.3} ms", d * 1e3)
    } else {
        format!("{:.2} us", d * 1e6)
    }
}

/// Keeps freed memory in the process for reuse, as a long-running server would, so repeated
/// calls measure steady-state work rather than the kernel handing out fresh zeroed pages for
/// every multi-megabyte tensor (glibc otherwise maps and unmaps such blocks each time).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes glibc's allocator; called before any threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

fn run(args: Args) -> Result<()> {
    keep_freed_memory();
    kiln_tools::load_driver_plugins(&args.hal_driver_plugin)?;
    if args.benchmark_repetitions == 0 {
        bail!("--benchmark_repetitions must be at least 1");
    }
    if !(args.benchmark_min_time.is_finite() && (0.0..=3600.0).contains(&args.benchmark_min_time)) {
        bail!("--benchmark_min_time must be between 0 and 3600 seconds");
    }
    let mut module = Loaded::open(
        &args.module,
        args.device.as_deref(),
        args.task_topology_max_group_count,
    )?;
    let exported = |f: &&kiln_module::FunctionDef| !f.internal;
    let functions: Vec<String> = match &args.function {
        Some(f) => {
            let found = module.module().function(f).filter(exported);
            match found {
                Some(def) => vec![def.name.clone()],
                None => bail!("no function named '{f}' in the module"),
            }
        }
        None => module
            .module()
            .functions
            .iter()
            .filter(exported)
            .map(|f| f.name.clone())
            .collect(),
    };
    let mut reader = InputReader::default();
    let host_inputs = args
        .input
        .iter()
        .map(|s| reader.read(s))
        .collect::<Result<Vec<_>>>()?;
    let rule = "-".repeat(78);
    println!(
        "{rule}\n{:<44} {:>18} {:>14}\n{rule}",
        "Benchmark", "Time", "Iterations"
    );
    for f in &functions {
        match &mut module {
            Loaded::Device(m) => {
                // Inputs go to the device once; each call's results are dropped, which hands
                // their buffers back for the next call.
                let inputs = host_inputs.iter().cloned().map(HostInput::from).collect();
                let placed = m.place(f, inputs)?;
                let call = || m.invoke_placed(f, &placed).map(drop);
                let calls = time_calls(f, &args, &mut || Ok(call()?))?;
                if let Some(listed) = args.print_statistics {
                    print_statistics(m, f, calls, &call, listed)?;
                }
            }
            Loaded::Inline(m) => {
                let (inputs, mut outputs) = inline_buffers(m, f, &host_inputs)?;
                let inputs: Vec<&[u8]> = inputs.iter().map(|b| b.as_slice()).collect();
                let mut call = || -> Result<()> {
                    let mut outs: Vec<&mut [u8]> =
                        outputs.iter_mut().map(|b| b.as_mut_slice()).collect();
                    Ok(m.call(f, &inputs, &mut outs)?)
                };
                time_calls(f, &args, &mut call)?;
                if args.print_statistics.is_some() {
                    println!("{f}: the inline runtime does not time dispatches");
                }
            }
        }
    }
    Ok(())
}

/// Aligned copies of `inputs` (checked against `f`'s signature) and zeroed outputs for calling
/// `f` inline.
fn inline_buffers(
    m: &kiln_inline::InlineModule,
    f: &str,
    inputs: &[HostTensor],
) -> Result<(
    Vec<kiln_inline::AlignedBytes>,
    Vec<kiln_inline::AlignedBytes>,
)> {
    let def = m
        .function(f)
        .ok_or_else(|| anyhow::anyhow!("no function named '{f}' in the module"))?;
    def.check_inputs(inputs.iter().map(|t| (t.element_type, &t.shape[..])))
        .map_err(|e| anyhow::anyhow!(e))?;
    let ins = inputs
        .iter()
        .map(|t| kiln_inline::AlignedBytes::copy_of(&t.data))
        .collect();
    let outs = def
        .outputs
        .iter()
        .map(|o| kiln_inline::AlignedBytes::zeroed(o.byte_size().unwrap_or(0) as usize))
        .collect();
    Ok((ins, outs))
}

/// Times `call` as `args` asks after a warm-up call, printing each repetition and the
/// statistics; returns the calls of the last repetition.
fn time_calls(f: &str, args: &Args, call: &mut dyn FnMut() -> Result<()>) -> Result<u64> {
    call()?; // warm-up
    let name = format!("BM_{f}/process_time/real_time");
    let mut per_call = vec![];
    let mut last_iters = 1;
    for _ in 0..args.benchmark_repetitions {
        let (mut iters, start) = (0u64, Instant::now());
        while iters == 0 || start.elapsed() < Duration::from_secs_f64(args.benchmark_min_time) {
            call()?;
            iters += 1;
        }
        last_iters = iters;
        let t = start.elapsed().as_secs_f64() / iters as f64;
        println!("{name:<44} {:>18} {iters:>14}", human(t));
        per_call.push(t);
    }
    let n = per_call.len() as f64;
    let mean = per_call.iter().sum::<f64>() / n;
    let mut sorted = per_call.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
    let stddev = if per_call.len() > 1 {
        (per_call.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    for (suffix, v) in [("mean", mean), ("median", median), ("stddev", stddev)] {
        println!(
            "{:<44} {:>18} {:>14}",
            format!("{name}_{suffix}"),
            human(v),
            per_call.len()
        );
    }
    Ok(last_iters)
}

/// Times each dispatch of `calls` calls of `f` and prints the `listed` kernels that take the
/// most of a call: share, time and dispatches per call (the rest summed on one line).
fn print_statistics(
    module: &LoadedModule,
    f: &str,
    calls: u64,
    call: &dyn Fn() -> Result<(), kiln_runtime::RuntimeError>,
    listed: usize,
) -> Result<()> {
    let device = module.device();
    if !device.time_dispatches(true) {
        println!(
            "{f}: the {} device does not time dispatches",
            device.driver_name()
        );
        return Ok(());
    }
    let start = Instant::now();
    let ran = (0..calls).try_for_each(|_| call());
    let elapsed = start.elapsed().as_secs_f64();
    let mut times = device.dispatch_times();
    device.time_dispatches(false);
    ran?;
    times.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    let total: f64 = times.iter().map(|t| t.seconds).sum();
    let n = calls as f64;
    println!(
        "Dispatches of {f}: {} per call over {calls} calls, {} of {} per call in dispatches",
        times.iter().map(|t| t.dispatches).sum::<u64>() as f64 / n,
        human(total / n),
        human(elapsed / n)
    );
    println!(
        "{:>7} {:>12} {:>10}  kernel",
        "share", "time/call", "per call"
    );
    for t in times.iter().take(listed) {
        println!(
            "{:>6.1}% {:>12} {:>10}  {}",
            100.0 * t.seconds / total.max(f64::MIN_POSITIVE),
            human(t.seconds / n),
            t.dispatches as f64 / n,
            t.kernel
        );
    }
    if times.len() > listed {
        let rest: f64 = times[listed..].iter().map(|t| t.seconds).sum();
        println!(
            "{:>6.1}% {:>12} {:>10}  {} other kernels",
            100.0 * rest / total.max(f64::MIN_POSITIVE),
            human(rest / n),
            "",
            times.len() - listed
        );
    }
    Ok(())
}

fn main() {
    kiln_tools::install_panic_hook(TOOL);
    let done = Args::parse(Flags::from_env(TOOL)).and_then(|args| match args {
        Some(args) => run(args),
        None => Ok(()),
    });
    if let Err(e) = done {
        kiln_tools::exit_with(TOOL, e);
    }
}
