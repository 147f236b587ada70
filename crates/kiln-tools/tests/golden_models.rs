//! Every golden model compiles to vmvx and matches ONNX Runtime's outputs on local-sync and
//! local-task (numpy.allclose with rtol 1e-4, atol 1e-5), and the reference interpreter agrees with both.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_runtime::{LoadedModule, ModuleBytes};
use kiln_types::{npy, HostTensor};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

fn load(dir: &Path, prefix: &str) -> Vec<HostTensor> {
    (0..)
        .map(|i| dir.join(format!("{prefix}_{i}.npy")))
        .take_while(|p| p.exists())
        .map(|p| npy::read_npy(&std::fs::read(&p).unwrap()).unwrap())
        .collect()
}

fn assert_close(name: &str, what: &str, got: &[HostTensor], want: &[HostTensor]) {
    assert_eq!(got.len(), want.len(), "{name} {what}: output count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(
            (g.element_type, &g.shape),
            (w.element_type, &w.shape),
            "{name} {what}: output {i} type"
        );
        for (j, (a, b)) in g.to_f64().iter().zip(w.to_f64()).enumerate() {
            // numpy.allclose(rtol=1e-4, atol=1e-5): relative, with a floor for elements near zero.
            assert!(
                (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
                "{name} {what}: output {i}[{j}] = {a}, want {b}"
            );
        }
    }
}

fn check(name: &str) {
    let dir = models_dir().join(name);
    let opts = CompileOptions {
        targets: vec!["vmvx".into()],
        ..Default::default()
    };
    let CompileOutput::Module(bytes) =
        kiln_compiler::compile_file(&dir.join("model.onnx"), None, &opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    else {
        panic!("module expected")
    };
    let inputs = load(&dir, "input");
    let expected = load(&dir, "expected");
    let program = kiln_import::onnx::import_file(&dir.join("model.onnx")).unwrap();
    let reference = kiln_ir::interp::run(&program, "main", &inputs).unwrap();
    assert_close(name, "reference interpreter", &reference, &expected);
    let registry = kiln_tools::registry();
    let bytes = Arc::new(ModuleBytes::from_bytes(&bytes));
    for device in ["local-sync", "local-task"] {
        let dev = registry.create_device(device, &Default::default()).unwrap();
        let m = LoadedModule::load(dev, bytes.clone(), name)
            .unwrap_or_else(|e| panic!("{name} on {device}: {e}"));
        let got = m
            .invoke("main", &inputs)
            .unwrap_or_else(|e| panic!("{name} on {device}: {e}"));
        assert_close(name, device, &got, &expected);
        assert_close(name, &format!("{device} vs reference"), &got, &reference);
    }
}

#[test]
fn mlp() {
    check("mlp");
}

#[test]
fn cnn() {
    check("cnn");
}

#[test]
fn encoder() {
    check("encoder");
}

#[test]
fn elementwise() {
    check("elementwise");
}

#[test]
fn misc_ops() {
    check("ops_misc");
}

#[test]
fn matmul512() {
    check("matmul512");
}

#[test]
fn misc_ops_opset13() {
    check("ops_misc_opset13");
}

#[test]
fn misc_ops_opset21() {
    check("ops_misc_opset21");
}

#[test]
fn mlp_with_external_weights() {
    check("mlp_external");
}

#[test]
fn softmax_and_layer_norm_off_the_last_axis() {
    check("softmax_axis");
}
