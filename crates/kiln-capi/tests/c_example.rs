//! The C example (`examples/run_model.c`), built with the system C compiler against kiln.h and
//! the `cdylib`, runs the golden CNN on local-task and matches ONNX Runtime's outputs; bad
//! input through the C API comes back as a status with a message.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_types::npy;
use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>/deps`, where `cargo test` builds the `cdylib` beside this test (only
/// `cargo build` copies it up to `target/<profile>`, so that copy may be stale or absent).
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

/// Builds the example into `dir`.
fn build_example(dir: &Path) -> PathBuf {
    let lib = library_dir();
    assert!(
        lib.join("libkiln.so").exists(),
        "{} lacks libkiln.so (cargo builds it with this package)",
        lib.display()
    );
    let exe = dir.join("run_model");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg(crate_dir().join("examples/run_model.c"))
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lkiln", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .status()
        .expect("a C compiler (cc)");
    assert!(status.success(), "cc failed");
    exe
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-capi-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn compile(model: &Path, out: &Path) {
    let CompileOutput::Module(bytes) = kiln_compiler::compile_file(
        model,
        None,
        &CompileOptions {
            targets: vec!["llvm-cpu".into()],
            ..Default::default()
        },
    )
    .unwrap() else {
        panic!("a module expected")
    };
    std::fs::write(out, bytes).unwrap();
}

#[test]
fn the_c_example_runs_the_cnn_and_matches_onnx_runtime() {
    let dir = scratch("cnn");
    let models = crate_dir().join("../../tests/models/cnn");
    let module = dir.join("cnn.kiln");
    compile(&models.join("model.onnx"), &module);
    let read = |name: &str| npy::read_npy(&std::fs::read(models.join(name)).unwrap()).unwrap();
    let input = read("input_0.npy");
    std::fs::write(dir.join("input_0.bin"), &input.data).unwrap();
    let exe = build_example(&dir);
    let out = Command::new(&exe)
        .arg("local-task")
        .arg(&module)
        .arg("main")
        .arg(dir.join("out_"))
        .arg(dir.join("input_0.bin"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("input 0: f32[1x3x64x64]"), "{printed}");
    let want = read("expected_0.npy");
    let got = std::fs::read(dir.join("out_0.bin")).unwrap();
    assert_eq!(got.len(), want.data.len());
    let floats = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    for (a, b) in floats(&got).iter().zip(floats(&want.data)) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
    }
    // Bad input comes back as a status naming the problem.
    std::fs::write(dir.join("short.bin"), [0u8; 12]).unwrap();
    let out = Command::new(&exe)
        .arg("local-task")
        .arg(&module)
        .arg("main")
        .arg(dir.join("out_"))
        .arg(dir.join("short.bin"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("run_model: "),
        "{err}"
    );
    let out = Command::new(&exe)
        .args(["metal", "x.kiln", "main", "o"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown driver 'metal'"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}
