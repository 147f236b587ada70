//! The tools end to end with a module for several targets: `kiln-compile` writes one module
//! for llvm-cpu, vmvx and vulkan-spirv (in both of IREE's spellings), `kiln-dump-module` lists
//! its three executables, `--iree-hal-dump-executable-binaries-to` writes their binaries, and
//! `kiln-run-module` matches ONNX Runtime's outputs on local-sync, local-task and vulkan (the
//! last where a Vulkan device exists, always when `KILN_REQUIRE_VULKAN` is set);
//! `kiln-benchmark-module` times it and lists its dispatches. A `vmvx-inline` module runs and
//! benchmarks with no device.

use std::path::{Path, PathBuf};
use std::process::Command;

const COMPILE: &str = env!("CARGO_BIN_EXE_kiln-compile");
const RUN: &str = env!("CARGO_BIN_EXE_kiln-run-module");
const DUMP: &str = env!("CARGO_BIN_EXE_kiln-dump-module");
const BENCHMARK: &str = env!("CARGO_BIN_EXE_kiln-benchmark-module");

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(name)
}

/// Runs a tool, asserting success; returns its stdout.
fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{tool} {args:?}: {stdout}{stderr}");
    stdout.into_owned()
}

fn vulkan_present() -> bool {
    let devices = run(RUN, &["--list_devices"]);
    let present = devices.lines().any(|l| l.starts_with("vulkan://"));
    if !present && std::env::var_os("KILN_REQUIRE_VULKAN").is_some() {
        panic!("a Vulkan device is required (KILN_REQUIRE_VULKAN): {devices}");
    }
    present
}

#[test]
fn one_module_for_three_targets_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("kiln-cli-targets-{}", std::process::id()));
    let binaries = dir.join("binaries");
    std::fs::create_dir_all(&binaries).unwrap();
    let encoder = model("encoder");
    let onnx = encoder.join("model.onnx");
    let (legacy, current) = (dir.join("legacy.kiln"), dir.join("current.kiln"));
    run(
        COMPILE,
        &[
            onnx.to_str().unwrap(),
            "--iree-hal-target-backends=llvm-cpu,vmvx,vulkan-spirv",
            "--iree-hal-dump-executable-binaries-to",
            binaries.to_str().unwrap(),
            "-o",
            legacy.to_str().unwrap(),
        ],
    );
    run(
        COMPILE,
        &[
            onnx.to_str().unwrap(),
            "--iree-hal-target-device=local",
            "--iree-hal-local-target-device-backends=llvm-cpu,vmvx",
            "--iree-hal-target-device=vulkan",
            "-o",
            current.to_str().unwrap(),
        ],
    );
    for module in [&legacy, &current] {
        let dump = run(DUMP, &[module.to_str().unwrap()]);
        for target in [
            "[0] target llvm-cpu",
            "[1] target vmvx",
            "[2] target vulkan-spirv",
        ] {
            assert!(dump.contains(target), "{target} not in:\n{dump}");
        }
    }
    let files = std::fs::read_dir(&binaries).unwrap().count();
    assert!(files >= 3, "{files} binaries written");
    assert!(binaries.join("model_llvm-cpu.o").exists());
    assert!(binaries.join("model_vmvx.vmvx").exists());
    let mut devices = vec!["local-sync", "local-task"];
    if vulkan_present() {
        devices.push("vulkan");
    }
    let (input, expected) = (encoder.join("input_0.npy"), encoder.join("expected_0.npy"));
    for device in devices {
        let out = run(
            RUN,
            &[
                &format!("--module={}", legacy.display()),
                &format!("--device={device}"),
                &format!("--input=@{}", input.display()),
                &format!("--expected_output=@{}", expected.display()),
            ],
        );
        assert!(out.contains("[SUCCESS]"), "{device}: {out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `kiln-benchmark-module` with `--print_statistics` on local-sync and local-task: the
/// Google-Benchmark lines, then every dispatch of the CNN timed with its workgroup count, the
/// shares adding up to all.
#[test]
fn benchmark_lists_the_slowest_dispatches() {
    let dir = std::env::temp_dir().join(format!("kiln-cli-benchmark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("cnn.kiln");
    let cnn = model("cnn");
    let onnx = cnn.join("model.onnx");
    let module_arg = format!("--module={}", module.to_str().unwrap());
    let input = format!("--input=@{}", cnn.join("input_0.npy").to_str().unwrap());
    run(
        COMPILE,
        &[
            onnx.to_str().unwrap(),
            "--iree-hal-target-backends=llvm-cpu",
            "-o",
            module.to_str().unwrap(),
        ],
    );
    for device in ["local-sync", "local-task"] {
        let out = run(
            BENCHMARK,
            &[
                &module_arg,
                &input,
                &format!("--device={device}"),
                "--benchmark_min_time=0.01",
                "--benchmark_repetitions=2",
                "--print_statistics",
            ],
        );
        assert!(
            out.contains("BM_main/process_time/real_time_median"),
            "{out}"
        );
        let header = out
            .lines()
            .position(|l| l.starts_with("Dispatches of main: "));
        let header = header.unwrap_or_else(|| panic!("no statistics: {out}"));
        let shares: f64 = out
            .lines()
            .skip(header + 2)
            .map(|l| {
                let share = l.trim_start().split('%').next().unwrap();
                share.parse::<f64>().unwrap_or_else(|_| panic!("{l}"))
            })
            .sum();
        assert!((shares - 100.0).abs() < 1.0, "{out}");
        assert!(out.contains(": conv2d -> 1x16x64x64xf32 ["), "{out}");
        assert!(out.contains(" workgroups]"), "{out}");
    }
    // A count lists that many kernels and sums the rest on one line; `all` lists every one.
    let listed = |statistics: &str| {
        let out = run(
            BENCHMARK,
            &[
                &module_arg,
                &input,
                "--device=local-sync",
                "--benchmark_min_time=0.01",
                "--benchmark_repetitions=1",
                statistics,
            ],
        );
        let kernels = out
            .lines()
            .filter(|l| l.contains(": ") && l.contains('%'))
            .count();
        (kernels, out.contains("other kernels"))
    };
    let (every, rest) = listed("--print_statistics=all");
    assert!(every > 2 && !rest, "{every} kernels listed");
    assert_eq!(listed("--print_statistics=2"), (2, true));
    let refused = Command::new(BENCHMARK)
        .args([&module_arg, "--print_statistics=many"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("\"many\" is not a count or `all`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A `vmvx-inline` module with no `--device`: `kiln-run-module` runs it inline and matches ONNX
/// Runtime, and `kiln-benchmark-module` times it, saying the inline runtime times no dispatches.
#[test]
fn inline_modules_run_and_benchmark_without_a_device() {
    let dir = std::env::temp_dir().join(format!("kiln-cli-inline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("mlp.kiln");
    let mlp = model("mlp");
    run(
        COMPILE,
        &[
            mlp.join("model.onnx").to_str().unwrap(),
            "--iree-hal-target-backends=vmvx-inline",
            "-o",
            module.to_str().unwrap(),
        ],
    );
    let module_arg = format!("--module={}", module.to_str().unwrap());
    let input = format!("--input=@{}", mlp.join("input_0.npy").to_str().unwrap());
    let expected = format!(
        "--expected_output=@{}",
        mlp.join("expected_0.npy").to_str().unwrap()
    );
    let out = run(RUN, &[&module_arg, &input, &expected]);
    assert!(out.contains("[SUCCESS]"), "{out}");
    let out = run(
        BENCHMARK,
        &[
            &module_arg,
            &input,
            "--benchmark_min_time=0.01",
            "--benchmark_repetitions=2",
            "--print_statistics",
        ],
    );
    assert!(
        out.contains("BM_main/process_time/real_time_median"),
        "{out}"
    );
    assert!(
        out.contains("the inline runtime does not time dispatches"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The CNN for `webgpu-spirv` (`--iree-hal-target-device=webgpu`): its kernels dumped as
/// `.wgsl`, `--dump_devices=webgpu` describing the adapter, and `kiln-run-module
/// --device=webgpu` matching ONNX Runtime (wgpu on the Vulkan driver: lavapipe in CI).
#[test]
fn webgpu_modules_dump_wgsl_and_run_on_the_webgpu_driver() {
    let dir = std::env::temp_dir().join(format!("kiln-cli-webgpu-{}", std::process::id()));
    let binaries = dir.join("binaries");
    std::fs::create_dir_all(&binaries).unwrap();
    let module = dir.join("cnn.kiln");
    let cnn = model("cnn");
    run(
        COMPILE,
        &[
            cnn.join("model.onnx").to_str().unwrap(),
            "--iree-hal-target-device=webgpu",
            "--iree-hal-dump-executable-binaries-to",
            binaries.to_str().unwrap(),
            "-o",
            module.to_str().unwrap(),
        ],
    );
    let wgsl = std::fs::read_to_string(binaries.join("model_webgpu-spirv_0.wgsl")).unwrap();
    assert!(
        wgsl.contains("@compute") && wgsl.contains("var<uniform>"),
        "{wgsl}"
    );
    let dump = run(DUMP, &[module.to_str().unwrap()]);
    assert!(dump.contains("[0] target webgpu-spirv"), "{dump}");
    let devices = run(RUN, &["--dump_devices=webgpu"]);
    if devices.contains("failed to initialize") {
        assert!(
            std::env::var_os("KILN_REQUIRE_VULKAN").is_none(),
            "a WebGPU adapter is required (KILN_REQUIRE_VULKAN): {devices}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        return;
    }
    for key in ["backend", "max-storage-buffers-per-stage", "features"] {
        assert!(devices.contains(key), "{key} not in:\n{devices}");
    }
    let out = run(
        RUN,
        &[
            &format!("--module={}", module.display()),
            "--device=webgpu",
            &format!("--input=@{}", cnn.join("input_0.npy").display()),
            &format!(
                "--expected_output=@{}",
                cnn.join("expected_0.npy").display()
            ),
        ],
    );
    assert!(out.contains("[SUCCESS]"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `-o` through a symbolic link replaces the file the link names and keeps the link; `-o` to
/// something that is not a file (a pipe here, `/dev/null` for users) is written into, never
/// renamed over (which would replace the device node itself).
#[cfg(unix)]
#[test]
fn compile_output_follows_links_and_writes_into_pipes() {
    use std::os::unix::fs::FileTypeExt;
    let dir = std::env::temp_dir().join(format!("kiln-cli-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let onnx = model("mlp").join("model.onnx");
    let compile = |out: &Path| {
        run(
            COMPILE,
            &[
                onnx.to_str().unwrap(),
                "--iree-hal-target-backends=vmvx",
                "-o",
                out.to_str().unwrap(),
            ],
        )
    };
    let (file, link) = (dir.join("real.kiln"), dir.join("link.kiln"));
    std::fs::write(&file, b"old").unwrap();
    std::os::unix::fs::symlink(&file, &link).unwrap();
    compile(&link);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let module = std::fs::read(&file).unwrap();
    assert!(module.len() > 1000, "{} bytes", module.len());

    let pipe = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&pipe).status().unwrap();
    assert!(made.success());
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read(pipe).unwrap())
    };
    compile(&pipe);
    // Checked before joining: a pipe renamed over would leave the reader waiting forever.
    assert!(std::fs::metadata(&pipe).unwrap().file_type().is_fifo());
    assert_eq!(reader.join().unwrap(), module);
    std::fs::remove_dir_all(&dir).ok();
}
