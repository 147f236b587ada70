//! Snapshot tests of the compiler's middle: for every golden model, the kernel IR that
//! dispatch formation makes (`--compile-to=dispatch-creation`) and what each target backend
//! lowers it to, with the host programs (`--compile-to=hal`, for llvm-cpu on an x86-64-v4 CPU,
//! vmvx and vulkan-spirv in one module), and the Metal Shading Language of two models
//! (`*.metal`). A change to fusion, tiling, data tiling, buffer planning or GPU kernels
//! shows up as a diff of `tests/snapshots/*`; review it, then accept it with
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

/// Options compiling for all three targets up to `phase`, llvm-cpu for a fixed CPU so the
/// data-tiled layouts do not depend on the machine running the test.
fn every_target(phase: Phase) -> CompileOptions {
    CompileOptions {
        targets: ["llvm-cpu", "vmvx", "vulkan-spirv"]
            .map(String::from)
            .to_vec(),
        compile_to: Some(phase),
        llvm_cpu: kiln_codegen_llvm::CpuTarget {
            triple: "x86_64-unknown-linux-gnu".into(),
            cpu: "x86-64-v4".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn text(model: &str, phase: Phase) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(model)
        .join("model.onnx");
    match kiln_compiler::compile_file(&path, None, &every_target(phase)) {
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

/// Models whose input dims stay open with `--kiln-dynamic-dims`.
const DYNAMIC_MODELS: &[&str] = &["detector_dynamic", "encoder_dynamic"];

fn dynamic_program(model: &str) -> kiln_ir::Program {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(model)
        .join("model.onnx");
    let options = kiln_import::ImportOptions {
        keep_symbols: true,
        ..Default::default()
    };
    let mut program = kiln_import::import_file_with(&path, None, &options)
        .unwrap()
        .program;
    kiln_compiler::passes::fold_constants(&mut program).unwrap();
    kiln_compiler::passes::eliminate_dead_code(&mut program);
    program
}

/// Kernel IR over symbolic sizes, as `--kiln-dynamic-dims --compile-to=dispatch-creation`
/// prints it.
#[test]
fn dynamic_dispatch_creation() {
    for model in DYNAMIC_MODELS {
        let program = dynamic_program(model);
        let formed =
            kiln_compiler::dispatch::form_dispatches(&program, &program.functions[0]).unwrap();
        assert!(!formed.symbols().is_empty(), "{model}");
        let file = format!("snapshots/{model}.dynamic.dispatch-creation.txt");
        expect_test::expect_file![file].assert_eq(&formed.to_string());
    }
}

/// Forming kernel IR once over symbols and then binding them gives, at every size tried, the
/// kernel IR formed from the program with those sizes fixed.
#[test]
fn symbolic_kernel_ir_binds_to_the_static_one() {
    let sizes: &[(&str, &[(&str, i64)])] = &[
        (
            "detector_dynamic",
            &[("images_0", 2), ("images_2", 64), ("images_3", 96)],
        ),
        (
            "detector_dynamic",
            &[("images_0", 3), ("images_2", 37), ("images_3", 50)],
        ),
        ("encoder_dynamic", &[("batch", 2), ("seq", 7)]),
        ("encoder_dynamic", &[("batch", 3), ("seq", 64)]),
    ];
    for (model, values) in sizes {
        let lookup = |s: &str| values.iter().find(|(n, _)| *n == s).map(|&(_, v)| v);
        let program = dynamic_program(model);
        let formed =
            kiln_compiler::dispatch::form_dispatches(&program, &program.functions[0]).unwrap();
        let bound = formed.bind(&lookup).unwrap();
        let mut fixed = program.clone();
        fixed.functions[0].bind_symbols(&lookup).unwrap();
        let direct = kiln_compiler::dispatch::form_dispatches(&fixed, &fixed.functions[0])
            .unwrap()
            .bind(&|_| None)
            .unwrap();
        assert_eq!(
            bound.to_string(),
            direct.to_string(),
            "{model} at {values:?}"
        );
    }
}

/// What every target makes of a function with open dims: kernels whose sizes are expressions
/// (llvm-cpu's and vmvx's with packed or plain weights, vulkan-spirv's shaders), and host
/// programs whose binding ranges, arena, workgroup counts and kernel parameters the runtime
/// evaluates per call.
#[test]
fn dynamic_hal() {
    for model in DYNAMIC_MODELS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/models")
            .join(model)
            .join("model.onnx");
        let opts = CompileOptions {
            dynamic_dims: Some(true),
            ..every_target(Phase::Hal)
        };
        let Ok(CompileOutput::Text(text)) = kiln_compiler::compile_file(&path, None, &opts) else {
            panic!("{model}: no hal text")
        };
        let file = format!("snapshots/{model}.dynamic.hal.txt");
        expect_test::expect_file![file].assert_eq(&text);
    }
}

/// The Metal Shading Language and WGSL the metal-spirv and webgpu-spirv targets write for two
/// golden models (through naga), every kernel in entry-point order.
#[test]
fn metal_shading_language_and_wgsl() {
    for (target, suffix) in [("metal-spirv", "metal"), ("webgpu-spirv", "wgsl")] {
        for model in ["mlp", "cnn"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/models")
                .join(model)
                .join("model.onnx");
            let options = CompileOptions {
                targets: vec![target.into()],
                ..Default::default()
            };
            let Ok(CompileOutput::Module(bytes)) =
                kiln_compiler::compile_file(&path, None, &options)
            else {
                panic!("{model}: no module for {target}")
            };
            let module = kiln_module::Module::read(&bytes).unwrap();
            let exe = kiln_gpu_binary::Executable::decode(&module.executables[0].data).unwrap();
            let sources: Vec<String> = exe
                .kernels
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let source = String::from_utf8_lossy(&k.code);
                    format!("// ===== entry {i}: kernel {} =====\n{source}", k.name)
                })
                .collect();
            let file = format!("snapshots/{model}.{target}.{suffix}");
            expect_test::expect_file![file].assert_eq(&sources.join("\n"));
        }
    }
}
