//! The example plugin, loaded as a shared library through the driver plugin ABI, runs the
//! golden MLP and CNN (compiled for vmvx) and matches ONNX Runtime; a library built for another
//! ABI version, or one that is no plugin, is refused with the reason.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_runtime::{DriverRegistry, LoadedModule, ModuleBytes};
use kiln_types::npy;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// `target/<profile>/deps`, where `cargo test` builds this package's `cdylib`.
fn plugin_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().join("libkiln_example_accelerator.so");
    assert!(
        path.exists(),
        "{} is missing (cargo builds it with this package)",
        path.display()
    );
    path
}

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

#[test]
fn the_plugin_runs_the_golden_models() {
    let mut registry = DriverRegistry::new();
    registry.register(kiln_hal_plugin::load(&plugin_path()).unwrap());
    assert_eq!(registry.names(), ["example-accelerator"]);
    for name in ["mlp", "cnn"] {
        let dir = models().join(name);
        let options = CompileOptions {
            targets: vec!["vmvx".into()],
            ..Default::default()
        };
        let CompileOutput::Module(bytes) =
            kiln_compiler::compile_file(&dir.join("model.onnx"), None, &options).unwrap()
        else {
            panic!("a module expected")
        };
        let device = registry
            .create_device("example-accelerator", &Default::default())
            .unwrap();
        let module =
            LoadedModule::load(device, Arc::new(ModuleBytes::from_bytes(&bytes)), name).unwrap();
        let read = |f: &str| npy::read_npy(&std::fs::read(dir.join(f)).unwrap()).unwrap();
        let got = module.invoke("main", &[read("input_0.npy")]).unwrap();
        let want = read("expected_0.npy");
        let (got, want) = (got[0].to_f64(), want.to_f64());
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{name}: {a} vs {b}");
        }
    }
}

#[test]
fn libraries_for_another_abi_or_no_plugin_at_all_are_refused() {
    let dir = std::env::temp_dir().join(format!("kiln-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let build = |name: &str, source: &str| {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, source).unwrap();
        let so = dir.join(format!("lib{name}.so"));
        let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-shared", "-fPIC", "-o"])
            .arg(&so)
            .arg(&c)
            .status()
            .expect("a C compiler (cc)");
        assert!(status.success());
        so
    };
    let future = build(
        "future",
        "unsigned kiln_hal_plugin_abi_version(void) { return 999; }\n",
    );
    let e = kiln_hal_plugin::load(&future).err().unwrap().to_string();
    assert!(
        e.contains("built for driver plugin ABI version 999, and this kiln reads version 1"),
        "{e}"
    );
    let other = build("other", "int something_else(void) { return 0; }\n");
    let e = kiln_hal_plugin::load(&other).err().unwrap().to_string();
    assert!(e.contains("not a kiln driver plugin"), "{e}");
    let e = kiln_hal_plugin::load(&dir.join("missing.so"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("missing.so"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}
