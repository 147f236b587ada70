//! Module files store weights once (size bound) and loading maps constants in place.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_import::onnx::proto::ModelProto;
use kiln_runtime::hal::HostBytes;
use kiln_runtime::{LoadedModule, ModuleBytes};
use prost::Message;
use std::path::Path;
use std::sync::Arc;

fn compile(model: &Path) -> Vec<u8> {
    let opts = CompileOptions {
        targets: vec!["vmvx".into()],
        ..Default::default()
    };
    match kiln_compiler::compile_file(model, None, &opts).unwrap() {
        CompileOutput::Module(b) => b,
        CompileOutput::Text(_) => unreachable!("no --compile-to"),
    }
}

/// Bytes of all initializers of an ONNX model.
fn weight_bytes(model: &Path) -> usize {
    let m = ModelProto::decode(std::fs::read(model).unwrap().as_slice()).unwrap();
    m.graph
        .unwrap()
        .initializer
        .iter()
        .map(|t| {
            t.raw_data.as_ref().map_or(0, Vec::len)
                + 4 * t.float_data.len()
                + 8 * t.int64_data.len()
                + 4 * t.int32_data.len()
        })
        .sum()
}

#[test]
fn module_is_at_most_weights_plus_5_percent_plus_64_kib() {
    for name in ["mlp", "cnn", "encoder"] {
        let model = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/models")
            .join(name)
            .join("model.onnx");
        let size = compile(&model).len();
        let weights = weight_bytes(&model);
        let bound = weights + weights / 20 + 64 * 1024;
        println!("{name}: module {size} bytes, weights {weights} bytes, bound {bound}");
        assert!(size <= bound, "{name}: module {size} > bound {bound}");
    }
}

#[test]
fn loading_maps_constants_in_place() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models/mlp/model.onnx");
    let dir = std::env::temp_dir().join(format!("kiln-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mlp.kiln");
    std::fs::write(&path, compile(&model)).unwrap();
    let bytes = Arc::new(ModuleBytes::map(&path).unwrap());
    let (start, len) = (bytes.bytes().as_ptr() as usize, bytes.bytes().len());
    let device = kiln_tools::registry()
        .create_device("local-task", &Default::default())
        .unwrap();
    let m = LoadedModule::load(device, bytes.clone(), "mlp.kiln").unwrap();
    assert!(!m.module().constants.is_empty());
    for (i, def) in m.module().constants.iter().enumerate() {
        let c = m
            .constant(i)
            .expect("a one-target module uses every constant it stores");
        let addr = c.host_address().unwrap();
        assert_eq!(
            addr,
            start + def.offset as usize,
            "constant is used in place, not copied"
        );
        assert!(addr + c.len() <= start + len);
        assert_eq!(addr % 64, 0, "constants are 64-byte aligned");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
