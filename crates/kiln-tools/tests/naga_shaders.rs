//! The SPIR-V every golden model compiles to reads in naga (the translator to WGSL and MSL
//! that the webgpu and metal targets build on) and passes its validator, except shaders with
//! 8- or 16-bit storage, which naga's SPIR-V front end does not read yet: they are counted,
//! not checked.

use kiln_compiler::{CompileOptions, CompileOutput};
use std::path::Path;

#[test]
fn golden_model_shaders_pass_nagas_validator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models");
    let (mut validated, mut narrow) = (0, 0);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("expected_0.npy").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        let options = CompileOptions {
            targets: vec!["vulkan-spirv".into()],
            ..Default::default()
        };
        let CompileOutput::Module(bytes) =
            kiln_compiler::compile_file(&dir.join("model.onnx"), None, &options).unwrap()
        else {
            panic!("a module expected")
        };
        let module = kiln_module::Module::read(&bytes).unwrap();
        for exe in &module.executables {
            let exe = kiln_spirv::Executable::decode(&exe.data).unwrap();
            for entry in &exe.entry_points {
                if entry.features.storage8 || entry.features.storage16 {
                    narrow += 1;
                    continue;
                }
                let words: Vec<u8> = entry.code.iter().flat_map(|w| w.to_le_bytes()).collect();
                let name = format!("{}: {}", dir.display(), entry.name);
                let parsed =
                    naga::front::spv::parse_u8_slice(&words, &naga::front::spv::Options::default())
                        .unwrap_or_else(|e| panic!("{name}: naga cannot read it: {e}"));
                naga::valid::Validator::new(
                    naga::valid::ValidationFlags::all(),
                    naga::valid::Capabilities::all(),
                )
                .validate(&parsed)
                .unwrap_or_else(|e| panic!("{name}: naga refuses it: {:?}", e.as_inner()));
                validated += 1;
            }
        }
    }
    eprintln!("{validated} shaders validated; {narrow} with 8- or 16-bit storage not checked");
    assert!(validated > 1000, "{validated}");
}
