//! Imports each golden model under `tests/models` and checks that the reference interpreter
//! reproduces ONNX Runtime's outputs.

use kiln_import::{onnx, ImportError};
use kiln_types::{npy, HostTensor};
use std::path::{Path, PathBuf};

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

fn check_model(name: &str) {
    let dir = models_dir().join(name);
    let program =
        onnx::import_file(&dir.join("model.onnx")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let inputs = load(&dir, "input");
    let expected = load(&dir, "expected");
    let got =
        kiln_ir::interp::run(&program, "main", &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got.len(), expected.len(), "{name}: output count");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g.shape, e.shape, "{name} output {i} shape");
        assert_eq!(g.element_type, e.element_type, "{name} output {i} type");
        for (j, (a, b)) in g.to_f64().iter().zip(e.to_f64()).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1e-2),
                "{name} output {i}[{j}]: {a} vs {b}"
            );
        }
    }
}

#[test]
fn mlp_matches_onnx_runtime() {
    check_model("mlp");
}

#[test]
fn cnn_matches_onnx_runtime() {
    check_model("cnn");
}

#[test]
fn encoder_matches_onnx_runtime() {
    check_model("encoder");
}

#[test]
fn elementwise_matches_onnx_runtime() {
    check_model("elementwise");
}

#[test]
fn misc_ops_match_onnx_runtime() {
    check_model("ops_misc");
}

#[test]
fn shape_subgraphs_fold_away() {
    let p = onnx::import_file(&models_dir().join("encoder/model.onnx")).unwrap();
    let f = &p.functions[0];
    // No gather or concat survives: the Shape→Gather→Concat chain became a constant.
    assert!(f.ops.iter().all(|op| !matches!(
        op.kind,
        kiln_ir::OpKind::Gather { .. } | kiln_ir::OpKind::Concat { .. }
    )));
}

#[test]
fn unsupported_op_names_op_node_and_opset() {
    let err = onnx::import_file(&models_dir().join("unsupported/model.onnx")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported op 'Bernoulli' (node 'my_bernoulli', opset 17)"
    );
}

#[test]
fn malformed_bytes_are_rejected() {
    let err = onnx::import_bytes(b"\xff\xff\xff\xff not protobuf", None).unwrap_err();
    assert!(matches!(err, ImportError::Malformed(_)), "{err}");
    assert!(
        err.to_string().starts_with("not a valid ONNX model"),
        "{err}"
    );
    let bytes = std::fs::read(models_dir().join("mlp/model.onnx")).unwrap();
    let err = onnx::import_bytes(&bytes[..bytes.len() / 2], None).unwrap_err();
    assert!(err.to_string().contains("not a valid ONNX model"), "{err}");
    assert!(onnx::import_bytes(b"", None)
        .unwrap_err()
        .to_string()
        .contains("no graph"));
}
