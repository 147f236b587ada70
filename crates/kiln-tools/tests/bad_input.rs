//! Bad input never panics: each case exits non-zero with one line naming the problem.

use std::path::{Path, PathBuf};
use std::process::Command;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiln-bad-input-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a tool; asserts failure with exactly one stderr line containing `needle`.
fn fails(tool: &str, args: &[&str], needle: &str) {
    let out = Command::new(tool).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: exit status {:?}, stderr: {stderr}",
        out.status.code()
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{args:?}: '{needle}' not in: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

const COMPILE: &str = env!("CARGO_BIN_EXE_kiln-compile");
const RUN: &str = env!("CARGO_BIN_EXE_kiln-run-module");

fn compiled_mlp(dir: &Path) -> PathBuf {
    let out = dir.join("mlp.kiln");
    let st = Command::new(COMPILE)
        .arg(models().join("mlp/model.onnx"))
        .args(["--iree-hal-target-backends=vmvx", "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

#[test]
fn compiler_rejects_bad_models_and_flags() {
    let dir = scratch("compile");
    let junk = dir.join("junk.onnx");
    std::fs::write(
        &junk,
        b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f garbage",
    )
    .unwrap();
    let out = dir.join("out.kiln");
    let out_s = out.to_str().unwrap();
    fails(
        COMPILE,
        &[junk.to_str().unwrap(), "-o", out_s],
        "not a valid ONNX model",
    );
    let unsupported = models().join("unsupported/model.onnx");
    fails(
        COMPILE,
        &[unsupported.to_str().unwrap(), "-o", out_s],
        "unsupported op 'Bernoulli' (node 'my_bernoulli', opset 17)",
    );
    let mlp = models().join("mlp/model.onnx");
    fails(
        COMPILE,
        &[
            mlp.to_str().unwrap(),
            "--iree-hal-target-backends=frobnicator",
            "-o",
            out_s,
        ],
        "unknown target backend 'frobnicator' (available: cuda, llvm-cpu, metal-spirv, rocm, vmvx, vmvx-inline, vulkan-spirv, webgpu-spirv)",
    );
    fails(
        COMPILE,
        &[
            mlp.to_str().unwrap(),
            "--iree-hal-target-backends=vulkan-spirv",
            "--iree-vulkan-target=voodoo2",
            "-o",
            out_s,
        ],
        "unknown Vulkan target 'voodoo2' for --iree-vulkan-target (known: generic, turing",
    );
    fails(
        COMPILE,
        &[dir.join("missing.onnx").to_str().unwrap(), "-o", out_s],
        "cannot read",
    );
    assert!(!out.exists(), "no output is written when compilation fails");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn runtime_rejects_corrupt_modules() {
    let dir = scratch("corrupt");
    let good = std::fs::read(compiled_mlp(&dir)).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        format!("--module={}", p.display())
    };
    let input = format!("--input=@{}", models().join("mlp/input_0.npy").display());
    fails(
        RUN,
        &[&write("truncated.kiln", &good[..good.len() / 2]), &input],
        "module is truncated",
    );
    fails(
        RUN,
        &[&write("empty.kiln", &[]), &input],
        "module is truncated",
    );
    let mut header = good.clone();
    header[20] ^= 0x40;
    fails(
        RUN,
        &[&write("header.kiln", &header), &input],
        "checksum of the header does not match",
    );
    let mut version = good.clone();
    version[8] = 9;
    fails(
        RUN,
        &[&write("version.kiln", &version), &input],
        &format!(
            "module format version 9 is not supported: this runtime reads version {}",
            kiln_module::FORMAT_VERSION
        ),
    );
    let meta = u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    let mut table = good.clone();
    table[meta + 12] ^= 0x01;
    fails(
        RUN,
        &[&write("table.kiln", &table), &input],
        "checksum of the function and executable tables does not match",
    );
    fails(
        RUN,
        &[&write("magic.kiln", b"not a module at all"), &input],
        "not a kiln module",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn runtime_rejects_bad_calls() {
    let dir = scratch("calls");
    let module = format!("--module={}", compiled_mlp(&dir).display());
    fails(
        RUN,
        &[&module, "--input=8x783xf32=0"],
        "input 0 ('x') of 'main' expects 8x784xf32 but got 8x783xf32",
    );
    fails(
        RUN,
        &[&module, "--input=8x784xi32=0"],
        "expects 8x784xf32 but got 8x784xi32",
    );
    fails(
        RUN,
        &[&module, "--input=8x784xf32=0", "--function=forward"],
        "no function named 'forward' (exported: main)",
    );
    fails(
        RUN,
        &[&module, "--input=8x784xf32=0", "--device=metal"],
        "unknown driver 'metal' (available: cuda, hip, local-sync, local-task, vulkan, webgpu)",
    );
    fails(
        RUN,
        &[&module, "--input=8x784xf32=0", "--device=local-task://gpu7"],
        "local-task: no device at 'gpu7'",
    );
    fails(RUN, &[&module], "'main' takes 1 inputs but 0 were given");
    // With no Vulkan driver installed the driver is still listed and fails with a reason.
    let no_icd = Command::new(RUN)
        .args([&module, "--input=8x784xf32=0", "--device=vulkan"])
        .env("VK_ICD_FILENAMES", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&no_icd.stderr);
    assert_eq!(no_icd.status.code(), Some(1));
    assert!(
        stderr.trim_end().lines().count() == 1 && stderr.contains("vulkan: failed to initialize"),
        "{stderr}"
    );
    let listed = Command::new(RUN)
        .arg("--list_drivers")
        .env("VK_ICD_FILENAMES", "/nonexistent")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    for line in [
        "      vulkan: Vulkan 1.x (dynamic)",
        "        cuda: NVIDIA CUDA (libcuda, dynamic)",
        "         hip: AMD HIP (libamdhip64, dynamic)",
    ] {
        assert!(listed.contains(line), "{listed}");
    }
    // Without the NVIDIA driver or ROCm (CI machines), cuda and hip are listed, say why they
    // cannot initialise, and a run on them fails with that reason.
    for (driver, library) in [("cuda", "libcuda.so.1"), ("hip", "libamdhip64.so")] {
        let dump = Command::new(RUN)
            .arg(format!("--dump_devices={driver}"))
            .output()
            .unwrap();
        let dump = String::from_utf8_lossy(&dump.stdout);
        let reason = format!("{driver}: failed to initialize: cannot load {library}");
        if !dump.contains("failed to initialize") {
            eprintln!("{library} is installed here; skipping its absent-library checks");
            continue;
        }
        assert!(dump.contains(&format!("# {reason}")), "{dump}");
        fails(
            RUN,
            &[
                &module,
                "--input=8x784xf32=0",
                &format!("--device={driver}"),
            ],
            &reason,
        );
    }
    fails(RUN, &[&module, "--input=8x784xf32=1 2 3"], "invalid value");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A module compiled once with open dims checks every call's shapes: the rank, the fixed
/// dims, and the dims two inputs share, each a one-line error naming the inputs and sizes.
#[test]
fn open_dims_reject_shapes_that_do_not_fit() {
    let dir = scratch("open-dims");
    let compile = |model: &str| {
        let out = dir.join(format!("{model}.kiln"));
        let st = Command::new(COMPILE)
            .arg(models().join(model).join("model.onnx"))
            .args([
                "--iree-hal-target-backends=vmvx",
                "--kiln-dynamic-dims",
                "-o",
            ])
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        format!("--module={}", out.display())
    };
    let module = compile("encoder_dynamic");
    fails(
        RUN,
        &[&module, "--input=1x7x64xf32=0", "--input=1x9xi64=1"],
        "input 1 ('attention_mask') of 'main': dim 1 is 9, but input 0 ('hidden') dim 1 makes 'seq' 7",
    );
    fails(
        RUN,
        &[&module, "--input=1x7x32xf32=0", "--input=1x7xi64=1"],
        "input 0 ('hidden') of 'main' expects ?x?x64xf32 but got 1x7x32xf32: dim 2 must be 64",
    );
    fails(
        RUN,
        &[&module, "--input=7x64xf32=0", "--input=1x7xi64=1"],
        "input 0 ('hidden') of 'main' expects ?x?x64xf32 but got 7x64xf32 (rank 2 instead of 3)",
    );
    // Sizes the program takes as equal (a skip connection and an upsampled branch) that the
    // inputs make different.
    fails(
        RUN,
        &[&compile("neck_dynamic"), "--input=1x3x30x32xf32=0"],
        "'cat' of 'main' needs (images_2+1)/2 and 2*(((images_2+1)/2+1)/2) to be equal, but they are 15 and 16 for these inputs (images_0=1, images_2=30, images_3=32)",
    );
}
