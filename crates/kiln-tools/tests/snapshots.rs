//! Snapshot tests of the compiler's middle: for every golden model, the kernel IR that
//! dispatch formation makes (`--compile-to=dispatch-creation`) and what each target backend
//! lowers it to, with the host programs (`--compile-to=hal`, for llvm-cpu on an x86-64-v4 CPU,
//! vmvx and vulkan-spirv in one module). A change to fusion, tiling, data tiling or buffer
//! planning shows up as a diff of `tests/snapshots/*.txt`; review it, then accept it with
//! `UPDATE_EXPECT=1 cargo test -p kiln-tools --test snapshots`.

use kiln_compiler::{CompileOptions, CompileOutput, Phase};
use std::path::Path;

const MODELS: &[&str] = &[
    "mlp",
    "cnn",
    "encoder",
    "elementwise",
    "matmul512",
    "ops_misc",
    "ops_misc_opset13",
    "ops_misc_opset21",
    "ops_more",
    "ops_opset20",
    "softmax_axis",
];

fn text(model: &str, phase: Phase) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(model)
        .join("model.onnx");
    let opts = CompileOptions {
        targets: ["llvm-cpu", "vmvx", "vulkan-spirv"]
            .map(String::from)
            .to_vec(),
        compile_to: Some(phase),
        // A fixed CPU, so the data-tiled layouts do not depend on the machine running the test.
        llvm_cpu: kiln_codegen_llvm::CpuTarget {
            triple: "x86_64-unknown-linux-gnu".into(),
            cpu: "x86-64-v4".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    match kiln_compiler::compile_file(&path, None, &opts) {
        Ok(CompileOutput::Text(t)) => t,
        other => panic!("{model}: {other:?}"),
    }
}

#[test]
fn dispatch_creation() {
    for model in MODELS {
        let file = format!("snapshots/{model}.dispatch-creation.txt");
        expect_test::expect_file![file].assert_eq(&text(model, Phase::DispatchCreation));
    }
}

#[test]
fn hal() {
    for model in MODELS {
        let file = format!("snapshots/{model}.hal.txt");
        expect_test::expect_file![file].assert_eq(&text(model, Phase::Hal));
    }
}

/// The kernel IR's text reads back to what printed it: every golden model's dispatches parse
/// and print to the same text.
#[test]
fn kernel_ir_text_round_trips() {
    for model in MODELS {
        let text = text(model, Phase::DispatchCreation);
        for function in text.split("// function @").filter(|f| !f.is_empty()) {
            let (_, body) = function.split_once('\n').unwrap();
            let parsed = kiln_kernel::parse(body).unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_eq!(parsed.to_string(), body, "{model}");
        }
    }
}
