//! A target backend registered from outside the compiler (as an out-of-tree crate registers
//! its own) compiles a model by name, and the module it writes runs and matches ONNX Runtime.

use kiln_compiler::target::{
    register_backend, Constants, FunctionDispatches, TargetBackend, TargetOutput, Vmvx,
};
use kiln_compiler::{CompileError, CompileOptions, CompileOutput};
use std::sync::Arc;

/// vmvx's lowering under another name, standing in for a backend of one's own.
struct Outside;

impl TargetBackend for Outside {
    fn name(&self) -> &'static str {
        "outside-vmvx"
    }
    fn format(&self) -> &'static str {
        Vmvx.format()
    }
    fn compile(
        &self,
        functions: &[FunctionDispatches],
        constants: &mut Constants,
        executable: u32,
        serialize: bool,
    ) -> Result<TargetOutput, CompileError> {
        Vmvx.compile(functions, constants, executable, serialize)
    }
}

#[test]
fn a_registered_backend_compiles_a_model_that_runs() {
    register_backend("outside-vmvx", |_| Ok(Box::new(Outside))).unwrap();
    assert!(kiln_compiler::available_targets().contains(&"outside-vmvx"));
    let e = register_backend("vmvx", |_| Ok(Box::new(Outside))).unwrap_err();
    assert!(e.to_string().contains("built-in"), "{e}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models/mlp");
    let options = CompileOptions {
        targets: vec!["outside-vmvx".into()],
        ..Default::default()
    };
    let CompileOutput::Module(bytes) =
        kiln_compiler::compile_file(&dir.join("model.onnx"), None, &options).unwrap()
    else {
        panic!("a module expected")
    };
    let module = kiln_module::Module::read(&bytes).unwrap();
    assert_eq!(module.executables[0].target, "outside-vmvx");
    let mut registry = kiln_runtime::DriverRegistry::new();
    kiln_hal_local::register(&mut registry);
    let device = registry
        .create_device("local-sync", &Default::default())
        .unwrap();
    let bytes = Arc::new(kiln_runtime::ModuleBytes::from_bytes(&bytes));
    let loaded = kiln_runtime::LoadedModule::load(device, bytes, "mlp").unwrap();
    let read = |f: &str| kiln_types::npy::read_npy(&std::fs::read(dir.join(f)).unwrap()).unwrap();
    let got = loaded.invoke("main", &[read("input_0.npy")]).unwrap()[0].to_f64();
    let want = read("expected_0.npy").to_f64();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
    }
}
