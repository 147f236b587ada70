//! The tools end to end with a module for several targets: `kiln-compile` writes one module
//! for llvm-cpu, vmvx and vulkan-spirv (in both of IREE's spellings), `kiln-dump-module` lists
//! its three executables, `--iree-hal-dump-executable-binaries-to` writes their binaries, and
//! `kiln-run-module` matches ONNX Runtime's outputs on local-sync, local-task and vulkan (the
//! last where a Vulkan device exists, always when `KILN_REQUIRE_VULKAN` is set).

use std::path::{Path, PathBuf};
use std::process::Command;

const COMPILE: &str = env!("CARGO_BIN_EXE_kiln-compile");
const RUN: &str = env!("CARGO_BIN_EXE_kiln-run-module");
const DUMP: &str = env!("CARGO_BIN_EXE_kiln-dump-module");

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
