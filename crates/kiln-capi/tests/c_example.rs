//! The C example (`examples/run_model.c`), built with the system C compiler against kiln.h and
//! the `cdylib`, runs the golden CNN on local-task and matches ONNX Runtime's outputs; bad
//! input through the C API comes back as a status with a message. Built instead with the MLP
//! compiled as a static library, linked with the `staticlib` and the module's bytes, it runs
//! the MLP with no module file on disk and matches ONNX Runtime too.

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

/// Builds the example into `dir`, linked with the shared library.
fn build_example(dir: &Path) -> PathBuf {
    let lib = library_dir();
    assert!(
        lib.join("libkiln.so").exists(),
        "{} lacks libkiln.so (cargo builds it with this package)",
        lib.display()
    );
    cc(dir, |c| {
        c.arg("-L")
            .arg(&lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lkiln");
    })
}

/// Compiles the example into `dir/run_model` with `-Wall -Werror`, `extra` adding arguments.
fn cc(dir: &Path, extra: impl FnOnce(&mut Command)) -> PathBuf {
    let exe = dir.join("run_model");
    let mut c = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    c.arg(crate_dir().join("examples/run_model.c"))
        .arg("-I")
        .arg(crate_dir().join("include"));
    extra(&mut c);
    let status = c
        .args(["-Wall", "-Werror", "-o"])
        .arg(&exe)
        .status()
        .expect("a C compiler (cc)");
    assert!(status.success(), "cc failed");
    exe
}

/// Runs the example's `main` of `module` on `device` with `dir/input_0.bin`, writing
/// `dir/out_0.bin`; returns what it printed.
fn run_main(exe: &Path, device: &str, module: &Path, dir: &Path) -> String {
    let out = Command::new(exe)
        .arg(device)
        .arg(module)
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
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The little-endian f32s of `bytes`.
fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Checks that `got` holds `want`'s floats within the golden tolerance.
fn assert_matches(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len());
    for (a, b) in floats(got).iter().zip(floats(want)) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
    }
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
    let printed = run_main(&exe, "local-task", &module, &dir);
    assert!(printed.contains("input 0: f32[1x3x64x64]"), "{printed}");
    let want = read("expected_0.npy");
    assert_matches(&std::fs::read(dir.join("out_0.bin")).unwrap(), &want.data);
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

#[test]
fn the_static_library_example_runs_the_mlp_without_a_module_file() {
    let dir = scratch("static");
    let lib = library_dir();
    assert!(
        lib.join("libkiln.a").exists(),
        "{} lacks libkiln.a (cargo builds it with this package)",
        lib.display()
    );
    let models = crate_dir().join("../../tests/models/mlp");
    let module = dir.join("mlp.kiln");
    let options = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        llvm_cpu_link_embedded: Some(false),
        static_library_output: Some(dir.join("mlp.o")),
        ..Default::default()
    };
    let CompileOutput::Module(bytes) =
        kiln_compiler::compile_file(&models.join("model.onnx"), None, &options).unwrap()
    else {
        panic!("a module expected")
    };
    std::fs::write(&module, bytes).unwrap();
    let header = std::fs::read_to_string(dir.join("mlp.h")).unwrap();
    assert!(header.contains("const struct kiln_static_library *mlp_library_query(void);"));
    // The module's bytes become part of the program, then the file goes.
    std::fs::write(
        dir.join("module.c"),
        format!(
            "__asm__(\".section .rodata\\n.balign 64\\n.globl kiln_embedded_module\\n\
             kiln_embedded_module:\\n.incbin \\\"{}\\\"\\n.globl kiln_embedded_module_end\\n\
             kiln_embedded_module_end:\\n.previous\");\n",
            module.display()
        ),
    )
    .unwrap();
    let exe = cc(&dir, |c| {
        c.arg(dir.join("module.c"))
            .arg(dir.join("mlp.o"))
            .arg("-I")
            .arg(&dir)
            .arg("-DKILN_LIBRARY_HEADER=\"mlp.h\"")
            .arg("-DKILN_LIBRARY_QUERY=mlp_library_query")
            .arg(lib.join("libkiln.a"))
            .args(["-lm", "-lpthread", "-ldl", "-lrt", "-lgcc_s"]);
    });
    std::fs::remove_file(&module).unwrap();
    let read = |name: &str| npy::read_npy(&std::fs::read(models.join(name)).unwrap()).unwrap();
    std::fs::write(dir.join("input_0.bin"), &read("input_0.npy").data).unwrap();
    for device in ["local-sync", "local-task"] {
        run_main(&exe, device, Path::new("-"), &dir);
        let got = std::fs::read(dir.join("out_0.bin")).unwrap();
        assert_matches(&got, &read("expected_0.npy").data);
    }
    std::fs::remove_dir_all(dir).ok();
}
