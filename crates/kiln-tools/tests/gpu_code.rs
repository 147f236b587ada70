//! Every golden model compiles for `cuda` and `rocm`, and the code is what the GPU tools
//! accept: NVIDIA's `ptxas` assembles the PTX for sm_80 and sm_90, and each HSACO (for
//! gfx942 and gfx1100) is an AMDGPU ELF that `llvm-readelf` shows holding a kernel
//! descriptor (`NAME.kd`) for every kernel of the executable.
//!
//! `ptxas` comes from `KILN_PTXAS` or `PATH` (the PyPI wheel `nvidia-cuda-nvcc-cu12` ships
//! it); `llvm-readelf` is LLVM 22's. Without them those checks are skipped with a note, unless
//! `KILN_REQUIRE_GPU_TOOLS` is set (CI sets it), which makes either missing a failure.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_gpu_binary::{CodeKind, Executable};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The golden models: every directory of `tests/models` with expected outputs.
fn golden_models() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("model.onnx").exists() && d.join("expected_0.npy").exists())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 20,
        "golden models missing under {}",
        root.display()
    );
    dirs
}

fn tools_required() -> bool {
    std::env::var_os("KILN_REQUIRE_GPU_TOOLS").is_some()
}

/// The GPU executable of `model` compiled for `target` with `options`.
fn compile(model: &Path, options: CompileOptions) -> Executable {
    let name = model.display();
    let CompileOutput::Module(bytes) =
        kiln_compiler::compile_file(&model.join("model.onnx"), None, &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    else {
        panic!("{name}: a module expected")
    };
    let module = kiln_module::Module::read(&bytes).unwrap();
    let [exe] = &module.executables[..] else {
        panic!("{name}: one executable expected")
    };
    Executable::decode(&exe.data).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs `tool args…` on `code` written to a file named `file`; `None` when the tool is not
/// installed.
fn run_tool(tool: &str, args: &[&str], code: &[u8], file: &str) -> Option<(bool, String)> {
    let dir = std::env::temp_dir().join(format!(
        "kiln-gpu-code-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, code).unwrap();
    let out = Command::new(tool)
        .args(args)
        .arg(&path)
        .current_dir(&dir)
        .output();
    std::fs::remove_dir_all(&dir).ok();
    let out = out.ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), text))
}

fn missing(tool: &str) {
    assert!(
        !tools_required(),
        "{tool} is required (KILN_REQUIRE_GPU_TOOLS) but missing"
    );
    eprintln!("{tool} is not installed; skipping that check");
}

#[test]
fn golden_models_compile_to_ptx_that_ptxas_accepts() {
    let ptxas = std::env::var("KILN_PTXAS").unwrap_or_else(|_| "ptxas".into());
    for model in golden_models() {
        let exe = compile(
            &model,
            CompileOptions {
                targets: vec!["cuda".into()],
                ..Default::default()
            },
        );
        assert_eq!((exe.kind, exe.target.as_str()), (CodeKind::Ptx, "sm_80"));
        let ptx = std::str::from_utf8(&exe.code).unwrap();
        for k in &exe.kernels {
            assert!(ptx.contains(&format!(".entry {}(", k.name)), "{}", k.name);
        }
        for arch in ["sm_80", "sm_90"] {
            let args = ["-arch", arch, "-o", "kernels.cubin"];
            match run_tool(&ptxas, &args, &exe.code, "kernels.ptx") {
                Some((true, _)) => {}
                Some((false, err)) => panic!("{}: ptxas -arch={arch}: {err}", model.display()),
                None => return missing(&ptxas),
            }
        }
    }
}

fn check_hsaco(chip: &str) {
    for model in golden_models() {
        let exe = compile(
            &model,
            CompileOptions {
                targets: vec!["rocm".into()],
                rocm_target: Some(chip.into()),
                ..Default::default()
            },
        );
        assert_eq!((exe.kind, exe.target.as_str()), (CodeKind::Hsaco, chip));
        let name = model.display();
        let readelf = ["llvm-readelf-22", "llvm-readelf"]
            .into_iter()
            .find_map(|tool| run_tool(tool, &["-h", "--dyn-syms"], &exe.code, "kernels.hsaco"));
        let Some((ok, text)) = readelf else {
            return missing("llvm-readelf");
        };
        assert!(ok, "{name}: llvm-readelf: {text}");
        assert!(
            text.contains("EM_AMDGPU") && text.contains("AMDGPU - HSA"),
            "{name}: {text}"
        );
        assert!(text.contains(chip), "{name}: not for {chip}: {text}");
        for k in &exe.kernels {
            let descriptor = format!(" {}.kd\n", k.name);
            assert!(
                text.contains(&descriptor),
                "{name}: no {descriptor}in {text}"
            );
        }
    }
}

#[test]
fn golden_models_compile_to_hsaco_for_cdna3() {
    check_hsaco("gfx942");
}

#[test]
fn golden_models_compile_to_hsaco_for_rdna3() {
    check_hsaco("gfx1100");
}

#[test]
fn gpu_targets_are_named_as_iree_names_them() {
    let model = &golden_models()[0];
    let exe = compile(
        model,
        CompileOptions {
            targets: vec!["cuda".into()],
            cuda_target: Some("hopper".into()),
            ..Default::default()
        },
    );
    assert_eq!(exe.target, "sm_90");
    let err = kiln_compiler::compile_file(
        &model.join("model.onnx"),
        None,
        &CompileOptions {
            targets: vec!["rocm".into()],
            rocm_target: Some("gfx1".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--iree-rocm-target=gfx1") && err.contains("mi300x"),
        "{err}"
    );
}

/// A module for `llvm-cpu,cuda` holds both executables and runs its CPU variant on a CPU
/// device (and its cuda one where a cuda device is, checked by the golden models there).
#[test]
fn modules_for_cpu_and_cuda_run_on_the_cpu() {
    let dir = golden_models()
        .into_iter()
        .find(|d| d.ends_with("mlp"))
        .unwrap();
    let CompileOutput::Module(bytes) = kiln_compiler::compile_file(
        &dir.join("model.onnx"),
        None,
        &CompileOptions {
            targets: vec!["llvm-cpu".into(), "cuda".into()],
            ..Default::default()
        },
    )
    .unwrap() else {
        panic!("a module expected")
    };
    let module = kiln_module::Module::read(&bytes).unwrap();
    let formats: Vec<&str> = module
        .executables
        .iter()
        .map(|e| e.format.as_str())
        .collect();
    assert!(
        formats.contains(&kiln_gpu_binary::CUDA_FORMAT),
        "{formats:?}"
    );
    let read =
        |name: &str| kiln_types::npy::read_npy(&std::fs::read(dir.join(name)).unwrap()).unwrap();
    let device = kiln_tools::registry()
        .create_device("local-task", &Default::default())
        .unwrap();
    let bytes = std::sync::Arc::new(kiln_runtime::ModuleBytes::from_bytes(&bytes));
    let m = kiln_runtime::LoadedModule::load(device, bytes, "mlp").unwrap();
    let got = m.invoke("main", &[read("input_0.npy")]).unwrap();
    let want = read("expected_0.npy");
    for (a, b) in got[0].to_f64().iter().zip(want.to_f64()) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
    }
}

/// Every golden model compiles for metal-spirv (each kernel's MSL, written by naga, defines
/// the kernel its record names; 8- and 16-bit tensors packed in words, f64 in word pairs).
#[test]
fn golden_models_compile_to_msl() {
    let models = golden_models();
    assert!(models.len() >= 30, "{} golden models", models.len());
    for model in models {
        let options = CompileOptions {
            targets: vec!["metal-spirv".into()],
            ..Default::default()
        };
        let Ok(CompileOutput::Module(bytes)) =
            kiln_compiler::compile_file(&model.join("model.onnx"), None, &options)
                .map_err(|e| panic!("{}: {e}", model.display()))
        else {
            panic!("{}: a module expected", model.display())
        };
        let module = kiln_module::Module::read(&bytes).unwrap();
        let exe = Executable::decode(&module.executables[0].data)
            .unwrap_or_else(|e| panic!("{}: {e}", model.display()));
        assert_eq!(exe.kind, CodeKind::Msl);
    }
}

/// A matmul of f16 operands keeps them narrow for `cuda`, whose tensor cores multiply them
/// (WMMA in the PTX, which `ptxas` assembles); a module for `llvm-cpu` as well widens them
/// to f32, which every target takes.
#[test]
fn half_matmuls_run_on_tensor_cores_for_cuda() {
    let dir = std::env::temp_dir().join(format!("kiln-half-matmul-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("matmul.kir");
    std::fs::write(
        &source,
        "func @main(%0 \"a\": tensor<64x96xf16>, %1 \"b\": tensor<96x80xf16>) -> (%2 \"c\") {\n  \
         %2 = matmul %0, %1 : tensor<64x80xf16> loc(\"matmul\")\n}\n",
    )
    .unwrap();
    for (targets, tensor_cores) in [(vec!["cuda"], true), (vec!["llvm-cpu", "cuda"], false)] {
        let options = CompileOptions {
            targets: targets.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let CompileOutput::Module(bytes) =
            kiln_compiler::compile_file(&source, None, &options).unwrap()
        else {
            panic!("a module expected")
        };
        let module = kiln_module::Module::read(&bytes).unwrap();
        let exe = module
            .executables
            .iter()
            .find(|e| e.format == kiln_gpu_binary::CUDA_FORMAT)
            .unwrap();
        let exe = Executable::decode(&exe.data).unwrap();
        let ptx = String::from_utf8(exe.code.clone()).unwrap();
        assert_eq!(ptx.contains("wmma.mma.sync"), tensor_cores, "{targets:?}");
        let ptxas = std::env::var("KILN_PTXAS").unwrap_or_else(|_| "ptxas".into());
        match run_tool(&ptxas, &["-arch", "sm_80"], &exe.code, "kernels.ptx") {
            Some((ok, err)) => assert!(ok, "ptxas -arch=sm_80: {err}"),
            None => missing(&ptxas),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
