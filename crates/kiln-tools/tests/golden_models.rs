//! Every golden model compiles to vmvx and matches ONNX Runtime's outputs on local-sync and
//! local-task (numpy.allclose with rtol 1e-4, atol 1e-5), and the reference interpreter agrees
//! with both. The same holds for llvm-cpu (native code for this machine) on local-task. Each also compiles to vulkan-spirv: every shader passes `spirv-val`, and the model
//! matches on the first Vulkan device (lavapipe in CI, with the validation layer on).
//!
//! Without `spirv-val` or a Vulkan device those parts are skipped with a note, unless
//! `KILN_REQUIRE_VULKAN` is set (CI sets it), which makes either missing a failure. Where a
//! `cuda` or `hip` device exists (or `KILN_REQUIRE_CUDA` / `KILN_REQUIRE_HIP` demand one), each
//! model also compiles for `cuda` / `rocm` and must match there. Every model the `vmvx-inline`
//! target takes (sizes known at compile time, no run-time control flow; the rest must be
//! refused for one of those reasons) matches on the inline runtime, for each run whose inputs
//! fit the compiled signature. Every model also compiles for `webgpu-spirv`, each kernel within
//! WebGPU's default 8 storage buffers, and matches on the webgpu driver (wgpu on lavapipe in
//! CI).

use kiln_compiler::{CompileOptions, CompileOutput, Phase};
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

fn compile(dir: &Path, target: &str) -> Vec<u8> {
    compile_bound(dir, target, vec![])
}

/// Compiles with symbolic dims bound (`--kiln-bind-dim`).
fn compile_bound(dir: &Path, target: &str, dims: Vec<(String, usize)>) -> Vec<u8> {
    compile_with(
        dir,
        CompileOptions {
            targets: vec![target.into()],
            dims,
            ..Default::default()
        },
    )
}

fn compile_with(dir: &Path, opts: CompileOptions) -> Vec<u8> {
    let CompileOutput::Module(bytes) =
        kiln_compiler::compile_file(&dir.join("model.onnx"), None, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
    else {
        panic!("module expected")
    };
    bytes
}

fn vulkan_required() -> bool {
    std::env::var_os("KILN_REQUIRE_VULKAN").is_some()
}

/// Runs `spirv-val` on every shader of a vulkan-spirv module.
fn validate_spirv(name: &str, module: &[u8]) {
    let m = kiln_module::Module::read(module).unwrap();
    for e in m
        .executables
        .iter()
        .filter(|e| e.format == kiln_spirv::FORMAT)
    {
        let exe = kiln_spirv::Executable::decode(&e.data).unwrap();
        for entry in &exe.entry_points {
            match kiln_codegen_spirv::spirv_val(&entry.code) {
                Ok(true) => {}
                Ok(false) if !vulkan_required() => {
                    eprintln!("spirv-val is not installed; skipping validation");
                    return;
                }
                Ok(false) => panic!("spirv-val is required (KILN_REQUIRE_VULKAN) but missing"),
                Err(err) => panic!("{name}: shader '{}': {err}", entry.name),
            }
        }
    }
}

/// The devices to run `target`'s module on; Vulkan and WebGPU only where a device exists.
fn devices(target: &str) -> Vec<&'static str> {
    if target == "vmvx" {
        return vec!["local-sync", "local-task"];
    }
    if target == "llvm-cpu" {
        return vec!["local-task"];
    }
    if target == "cuda" || target == "rocm" {
        // gpu_targets() found the device.
        return vec![if target == "cuda" { "cuda" } else { "hip" }];
    }
    let driver = if target == "webgpu-spirv" {
        "webgpu"
    } else {
        "vulkan"
    };
    match kiln_tools::registry()
        .get(driver)
        .map(|d| d.enumerate_devices())
    {
        Some(Ok(d)) if !d.is_empty() => vec![driver],
        other if !vulkan_required() => {
            eprintln!("no {driver} device ({other:?}); skipping the {driver} runs");
            vec![]
        }
        other => panic!("a {driver} device is required (KILN_REQUIRE_VULKAN): {other:?}"),
    }
}

/// `cuda` and `rocm` where a device of their driver exists (a GPU machine; never CI), or
/// where `KILN_REQUIRE_CUDA` / `KILN_REQUIRE_HIP` demand one.
fn gpu_targets() -> Vec<&'static str> {
    let registry = kiln_tools::registry();
    let mut out = vec![];
    for (target, driver, required) in [
        ("cuda", "cuda", "KILN_REQUIRE_CUDA"),
        ("rocm", "hip", "KILN_REQUIRE_HIP"),
    ] {
        match registry.get(driver).map(|d| d.enumerate_devices()) {
            Some(Ok(d)) if !d.is_empty() => out.push(target),
            other if std::env::var_os(required).is_some() => {
                panic!("a {driver} device is required ({required}): {other:?}")
            }
            _ => {}
        }
    }
    out
}

/// The golden runs of a model: `input_*`/`expected_*`, then `run1_input_*`/`run1_expected_*`, …
fn runs(dir: &Path) -> Vec<(String, Vec<HostTensor>, Vec<HostTensor>)> {
    let mut out = vec![];
    for k in 0.. {
        let run = if k == 0 {
            String::new()
        } else {
            format!("run{k}_")
        };
        let inputs = load(dir, &format!("{run}input"));
        if inputs.is_empty() {
            break;
        }
        out.push((run.clone(), inputs, load(dir, &format!("{run}expected"))));
    }
    out
}

fn check(name: &str) {
    let dir = models_dir().join(name);
    let program = kiln_import::onnx::import_file(&dir.join("model.onnx")).unwrap();
    let runs = runs(&dir);
    let mut references = vec![];
    for (run, inputs, expected) in &runs {
        let reference = kiln_ir::interp::run(&program, "main", inputs).unwrap();
        assert_close(
            name,
            &format!("{run}reference interpreter"),
            &reference,
            expected,
        );
        references.push(reference);
    }
    let registry = kiln_tools::registry();
    let mut targets = vec!["vmvx", "llvm-cpu", "vulkan-spirv"];
    targets.extend(gpu_targets());
    for target in targets {
        let module = compile(&dir, target);
        if target == "vulkan-spirv" {
            validate_spirv(name, &module);
        }
        let bytes = Arc::new(ModuleBytes::from_bytes(&module));
        for device in devices(target) {
            let dev = registry.create_device(device, &Default::default()).unwrap();
            let m = LoadedModule::load(dev, bytes.clone(), name)
                .unwrap_or_else(|e| panic!("{name} on {device}: {e}"));
            for ((run, inputs, expected), reference) in runs.iter().zip(&references) {
                let got = m
                    .invoke("main", inputs)
                    .unwrap_or_else(|e| panic!("{name} {run}on {device}: {e}"));
                assert_close(name, &format!("{run}{device}"), &got, expected);
                let what = format!("{run}{device} vs reference");
                assert_close(name, &what, &got, reference);
            }
        }
    }
    check_inline(name, &dir, &runs);
    check_webgpu(name, &dir, &runs);
}

/// The model on the webgpu driver, every kernel within WebGPU's default 8 storage buffers.
fn check_webgpu(name: &str, dir: &Path, runs: &[(String, Vec<HostTensor>, Vec<HostTensor>)]) {
    let module = compile(dir, "webgpu-spirv");
    let read = kiln_module::Module::read(&module).unwrap();
    let exe = kiln_gpu_binary::Executable::decode(&read.executables[0].data).unwrap();
    for k in &exe.kernels {
        let storage = k.bindings.len() + k.reports_errors as usize;
        assert!(
            storage <= 8,
            "{name}: kernel {} binds {storage} storage buffers",
            k.name
        );
    }
    let registry = kiln_tools::registry();
    let device = match registry.get("webgpu").map(|d| d.enumerate_devices()) {
        Some(Ok(d)) if !d.is_empty() => registry.create_device("webgpu", &Default::default()),
        other if !vulkan_required() => {
            eprintln!("no WebGPU adapter ({other:?}); skipping the webgpu runs");
            return;
        }
        other => panic!("a WebGPU adapter is required (KILN_REQUIRE_VULKAN): {other:?}"),
    };
    let device = device.unwrap_or_else(|e| panic!("{name} webgpu: {e}"));
    let bytes = Arc::new(ModuleBytes::from_bytes(&module));
    let m =
        LoadedModule::load(device, bytes, name).unwrap_or_else(|e| panic!("{name} on webgpu: {e}"));
    for (run, inputs, expected) in runs {
        let got = m
            .invoke("main", inputs)
            .unwrap_or_else(|e| panic!("{name} {run}on webgpu: {e}"));
        assert_close(name, &format!("{run}webgpu"), &got, expected);
    }
    eprintln!("{name}: matches on webgpu");
}

/// The model on the inline runtime, if the `vmvx-inline` target takes it.
fn check_inline(name: &str, dir: &Path, runs: &[(String, Vec<HostTensor>, Vec<HostTensor>)]) {
    let options = CompileOptions {
        targets: vec!["vmvx-inline".into()],
        ..Default::default()
    };
    let module = match kiln_compiler::compile_file(&dir.join("model.onnx"), None, &options) {
        Ok(CompileOutput::Module(bytes)) => bytes,
        Ok(_) => panic!("{name}: a module expected"),
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("needs every size at compile time")
                    || e.contains("branches or loops at run time"),
                "{name}: vmvx-inline refused it for another reason: {e}"
            );
            return;
        }
    };
    let mut m =
        kiln_inline::InlineModule::load(&module).unwrap_or_else(|e| panic!("{name} inline: {e}"));
    for (run, inputs, expected) in runs {
        let shapes = inputs.iter().map(|t| (t.element_type, &t.shape[..]));
        if m.function("main").unwrap().check_inputs(shapes).is_err() {
            continue;
        }
        let got = m
            .call_tensors("main", inputs)
            .unwrap_or_else(|e| panic!("{name} {run}inline: {e}"));
        assert_close(name, &format!("{run}inline"), &got, expected);
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

/// The CNN as ONNX Runtime's `quantize_static` writes it (QDQ, int8 activations, per-channel
/// int8 weights): its convolutions run as integer ones (see below), other ops in f32.
#[test]
fn cnn_quantized_to_qdq() {
    check("cnn_qdq");
}

/// The MLP as `quantize_static` writes it: its Gemms run as integer matmuls.
#[test]
fn mlp_quantized_to_qdq() {
    check("mlp_qdq");
}

/// In the QDQ CNN every convolution is an integer one, ui8 pixels by i8 weights; an epilogue
/// rescales and requantises its sums and stores 8-bit values (or f32 where a float op reads
/// them), never the i32 sums; for a CPU the weights are packed in channel quads.
#[test]
fn qdq_convolutions_are_integer_convolutions() {
    let path = models_dir().join("cnn_qdq").join("model.onnx");
    let text = |phase| {
        let opts = CompileOptions {
            targets: vec!["llvm-cpu".into()],
            compile_to: Some(phase),
            ..Default::default()
        };
        match kiln_compiler::compile_file(&path, None, &opts).unwrap() {
            CompileOutput::Text(text) => text,
            _ => panic!("text expected"),
        }
    };
    let dispatches = text(Phase::DispatchCreation);
    let convs: Vec<&str> = dispatches
        .lines()
        .filter(|l| l.contains(" = conv2d "))
        .collect();
    assert_eq!(convs.len(), 5, "{dispatches}");
    let mut requantised = 0;
    for conv in &convs {
        assert!(conv.contains("xui8]") && conv.contains("xi8]"), "{conv}");
        let stored = conv.split(" -> ").nth(1).and_then(|r| r.split(']').next());
        let stored = stored.unwrap_or_else(|| panic!("no output: {conv}"));
        if conv.contains("epilogue") {
            assert!(!stored.ends_with("xi32"), "{conv}");
            requantised += 1;
        }
    }
    // The last one's sums feed the global average pool, whose reduction dequantises them.
    assert_eq!(requantised, 4, "{dispatches}");
    let hal = text(Phase::Hal);
    let packed = hal.lines().filter(|l| l.contains(" channel_quads")).count();
    assert_eq!(packed, 5, "{hal}");
}

#[test]
fn encoder() {
    check("encoder");
}

/// Scaled dot-product attention: multi-head with a scale by multiplication and an additive
/// causal mask, cross-attention scaled by a division (its query rows split over workgroups),
/// and one whose probabilities are a graph output.
#[test]
fn attention() {
    check("attention");
}

/// For a CPU target the first two attentions of `attention` (numbers checked there) become
/// one kernel each, their scale and mask with them; the one whose probabilities are a graph
/// output keeps its matmuls and softmax.
#[test]
fn cpu_targets_fuse_attention() {
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        compile_to: Some(Phase::Hal),
        ..Default::default()
    };
    let path = models_dir().join("attention").join("model.onnx");
    let CompileOutput::Text(text) = kiln_compiler::compile_file(&path, None, &opts).unwrap() else {
        panic!("hal text expected")
    };
    let kernels = |op: &str| {
        text.lines()
            .filter(|l| l.contains(&format!(" = {op} ")))
            .count()
    };
    assert_eq!(kernels("attention"), 2, "{text}");
    assert_eq!(kernels("softmax"), 1, "{text}");
    let masked = text
        .lines()
        .find(|l| l.contains(" = attention ") && l.contains("mul"));
    let masked = masked.unwrap_or_else(|| panic!("no attention scales by a product:\n{text}"));
    assert!(masked.contains(" add "), "{masked}");
}

/// Fusion in the encoder, whose numbers `encoder` checks:
/// - attention adds each projection's bias before the heads are split out of it (a reshape
///   and a transpose): those adds become the projections' epilogues, and the score and context
///   matmuls read the results through the transpose;
/// - GELU, `x · (erf(x/√2) + 1) · 0.5`, reads `x` twice, and still becomes the first FFN
///   matmul's epilogue (with its bias add, computed once).
#[test]
fn bias_adds_and_gelu_fuse_into_their_matmuls() {
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        compile_to: Some(Phase::DispatchCreation),
        ..Default::default()
    };
    let path = models_dir().join("encoder").join("model.onnx");
    let CompileOutput::Text(text) = kiln_compiler::compile_file(&path, None, &opts).unwrap() else {
        panic!("dispatch text expected")
    };
    let generics: Vec<&str> = text.lines().filter(|l| l.contains(" = generic ")).collect();
    let plain_add = "{ r0 = in0; r1 = in1; r2 = add r0, r1; yield r2 }";
    assert!(!generics.iter().any(|l| l.ends_with(plain_add)), "{text}");
    assert!(!generics.iter().any(|l| l.contains("erf")), "{text}");
    let gelu = text
        .lines()
        .find(|l| l.contains(" = matmul ") && l.contains("erf"));
    let gelu = gelu.unwrap_or_else(|| panic!("no matmul computes GELU:\n{text}"));
    assert_eq!(
        gelu.matches(" add ").count(),
        2,
        "bias add and erf + 1: {gelu}"
    );
}

/// Resize with constant scales, sizes and roi in every mode: nearest (rounding modes),
/// linear and cubic (coordinate transforms, exclude_outside, antialias), tf_crop_and_resize
/// with extrapolation, axes with keep_aspect_ratio_policy.
#[test]
fn resize() {
    check("resize");
}

/// ConvTranspose as decoders use it: stride 2 with pads, output_padding with dilation,
/// groups, depthwise, SAME_UPPER/SAME_LOWER, output_shape, 1-D.
#[test]
fn conv_transpose() {
    check("conv_transpose");
}

/// Inverted residual blocks (MobileNetV2/V3): depthwise convolutions of every form between
/// pointwise ones, with residual adds, on a batch of two images.
#[test]
fn inverted_residual() {
    check("inverted_residual");
}

/// On llvm-cpu the images around the depthwise convolutions of `inverted_residual` are
/// channels-last: each depthwise convolution reads and writes them so (constant filters
/// packed tap by tap), the pixel-row convolutions beside them convert.
#[test]
fn depthwise_convolutions_keep_images_channels_last() {
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        compile_to: Some(Phase::Hal),
        ..Default::default()
    };
    let path = models_dir().join("inverted_residual").join("model.onnx");
    let CompileOutput::Text(text) = kiln_compiler::compile_file(&path, None, &opts).unwrap() else {
        panic!("hal text expected")
    };
    let depthwise: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains(" = conv2d ") && !l.contains("groups 1 ") && !l.contains("pixel_rows")
        })
        .collect();
    assert_eq!(depthwise.len(), 3, "{text}");
    for (line, image) in depthwise.iter().zip([
        "2x72x20x20xf32]/28800,1,1440,72",
        "2x40x20x20xf32]/16000,1,800,40",
        "2x32x10x10xf32]/3200,1,320,32",
    ]) {
        assert!(line.contains(&format!("#0[{image}")), "{line}");
    }
    // The Neg between two channels-last images iterates their channels innermost.
    let neg = text
        .lines()
        .find(|l| l.contains(" = generic ") && l.contains("neg"));
    assert!(
        neg.is_some_and(|l| l.contains("generic [2x20x20x72]")),
        "{text}"
    );
    let tap_major = depthwise
        .iter()
        .filter(|l| l.contains("x3x3xf32]/1,1,") || l.contains("x5x5xf32]/1,1,"));
    assert_eq!(tap_major.count(), 2, "{text}");
}

/// GatherElements and GatherND with run-time and negative indices, batch_dims, and inner
/// blocks.
#[test]
fn indexing() {
    check("indexing");
}

/// GridSample in each mode (linear, nearest, cubic), padding mode and corner alignment, with
/// grid points inside and well outside the image.
#[test]
fn grid_sample() {
    check("grid_sample");
}

/// Einsum equations: batched and attention-style contractions, transposes, sums, an implicit
/// output, broadcast `...`, three operands.
#[test]
fn einsum() {
    check("einsum");
}

/// CumSum on floats and integers with exclusive and reverse, on several axes.
#[test]
fn cumsum() {
    check("cumsum");
}

/// MaxPool and AveragePool with ceil_mode, with and without count_include_pad.
#[test]
fn pool_ceil() {
    check("pool_ceil");
}

/// If, Loop and Scan known at compile time, their subgraphs reading outer-scope values: an
/// If on a constant whose branches differ in rank, an If on a run-time flag (both values of
/// it), a Loop of four iterations with a scan output, a backwards Scan over axis 1.
#[test]
fn control_flow() {
    check("control_flow");
}

/// LSTM, GRU and RNN with their attributes: directions, activations with alpha/beta, clip,
/// peepholes, input_forget, linear_before_reset, initial states and run-time sequence lengths.
#[test]
fn recurrent() {
    check("recurrent");
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

#[test]
fn more_ops() {
    check("ops_more");
}

#[test]
fn gelu_and_mish_at_opset20() {
    check("ops_opset20");
}

/// The MLP with its batch dim made symbolic, compiled for a bound size and for the default (1).
#[test]
fn symbolic_batch_dims_bind_at_compile_time() {
    use kiln_import::onnx::proto::{Dimension, ModelProto};
    use prost::Message;
    let dir = models_dir().join("mlp");
    let mut model =
        ModelProto::decode(std::fs::read(dir.join("model.onnx")).unwrap().as_slice()).unwrap();
    let input = &mut model.graph.as_mut().unwrap().input[0];
    let dims = &mut input
        .r#type
        .as_mut()
        .unwrap()
        .tensor_type
        .as_mut()
        .unwrap()
        .shape
        .as_mut()
        .unwrap()
        .dim;
    dims[0] = Dimension {
        dim_value: None,
        dim_param: Some("batch".into()),
    };
    let bytes = model.encode_to_vec();
    let (x, want) = (
        load(&dir, "input").remove(0),
        load(&dir, "expected").remove(0),
    );
    let registry = kiln_tools::registry();
    let run = |dims: Vec<(String, usize)>, input: &HostTensor| {
        let imported = kiln_import::onnx::import_bytes_with(
            &bytes,
            None,
            &kiln_import::ImportOptions {
                dims: dims.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let opts = CompileOptions {
            targets: vec!["vmvx".into()],
            dims,
            ..Default::default()
        };
        let CompileOutput::Module(m) =
            kiln_compiler::compile_program(imported.program, &opts).unwrap()
        else {
            panic!()
        };
        let dev = registry
            .create_device("local-task", &Default::default())
            .unwrap();
        let m = LoadedModule::load(dev, Arc::new(ModuleBytes::from_bytes(&m)), "mlp").unwrap();
        (
            m.invoke("main", std::slice::from_ref(input)),
            imported.notes,
        )
    };
    let (got, notes) = run(vec![("batch".into(), 8)], &x);
    assert!(notes.is_empty());
    assert_close("mlp", "batch=8", &got.unwrap(), std::slice::from_ref(&want));
    let row = HostTensor::new(x.element_type, vec![1, 784], x.data[..784 * 4].to_vec()).unwrap();
    let (got, notes) = run(vec![], &row);
    assert_eq!(notes, ["input 'x' has symbolic dim 'batch'; compiling for batch=1 (choose with --kiln-bind-dim=batch=SIZE)"]);
    let want_row =
        HostTensor::new(want.element_type, vec![1, 10], want.data[..40].to_vec()).unwrap();
    assert_close("mlp", "batch=1", &got.unwrap(), &[want_row]);
    let (err, _) = run(vec![], &x);
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("expects 1x784xf32 but got 8x784xf32"));
}

/// Data tiling: llvm-cpu packs constant convolution and matmul weights at compile time for the
/// register tile of the target CPU. For each x86-64 level this machine runs (AVX-512 8×32,
/// AVX2 6×16, the portable 4×8 tile) the module's constants are packed for that tile (their
/// last dimension is the tile's height or width) and the models still match ONNX Runtime,
/// both with kiln's Rust tiles and with the tile generated as LLVM IR into the executable
/// (`--iree-llvmcpu-enable-ukernels=none`, which AArch64's NEON tile always is).
#[test]
#[cfg(target_arch = "x86_64")]
fn data_tiled_weights_for_every_tile_shape() {
    let levels = [
        ("x86-64-v4", 8, 32, "avx512f"),
        ("x86-64-v3", 6, 16, "avx2"),
        ("x86-64", 4, 8, "sse2"),
    ];
    let registry = kiln_tools::registry();
    for (cpu, mr, nr, feature) in levels {
        if !kiln_native::cpu_has(feature) {
            eprintln!("this CPU lacks {feature}; skipping {cpu}");
            continue;
        }
        let cases = ["cnn", "mlp", "encoder"]
            .into_iter()
            .flat_map(|name| ["default", "none"].map(|ukernels| (name, ukernels)));
        for (name, ukernels) in cases {
            let dir = models_dir().join(name);
            let opts = CompileOptions {
                targets: vec!["llvm-cpu".into()],
                llvm_cpu: kiln_codegen_llvm::CpuTarget {
                    cpu: cpu.into(),
                    ukernels: ukernels.into(),
                    ..Default::default()
                },
                ..Default::default()
            };
            let Ok(CompileOutput::Module(module)) =
                kiln_compiler::compile_file(&dir.join("model.onnx"), None, &opts)
            else {
                panic!("{name} for {cpu} does not compile");
            };
            let m = kiln_module::Module::read(&module).unwrap();
            for exe in &m.executables {
                let tile = kiln_native::Executable::decode(&exe.data).unwrap().tile;
                let want = (ukernels == "none").then_some((mr as u32, nr as u32));
                assert_eq!(tile.map(|t| (t.mr, t.nr)), want, "{name}/{cpu}/{ukernels}");
            }
            let packed = |rank: usize, width: u64| {
                m.constants
                    .iter()
                    .any(|c| c.shape.len() == rank && c.shape[rank - 1] == width)
            };
            match name {
                "cnn" => assert!(
                    packed(6, mr) || packed(6, nr),
                    "{name}/{cpu}: no convolution weights packed for {mr} rows or {nr} columns"
                ),
                _ => assert!(
                    packed(4, nr),
                    "{name}/{cpu}: no matmul weights packed for {nr} columns"
                ),
            }
            let bytes = Arc::new(ModuleBytes::from_bytes(&module));
            let (inputs, expected) = (load(&dir, "input"), load(&dir, "expected"));
            for device in ["local-sync", "local-task"] {
                let dev = registry.create_device(device, &Default::default()).unwrap();
                let loaded = LoadedModule::load(dev, bytes.clone(), name).unwrap();
                let got = loaded.invoke("main", &inputs).unwrap();
                let case = format!("{cpu}, ukernels {ukernels}, on {device}");
                assert_close(name, &case, &got, &expected);
            }
        }
    }
}

/// One module for three targets (`--iree-hal-target-backends=llvm-cpu,vmvx,vulkan-spirv`):
/// it holds one executable per target and one host program per target for each function;
/// local devices run the llvm-cpu variant (native code before VMVX), vulkan the SPIR-V one,
/// and each matches ONNX Runtime. `--iree-hal-dump-executable-binaries-to` writes the
/// llvm-cpu object, the VMVX executable and one SPIR-V module per entry point.
#[test]
fn one_module_for_three_targets() {
    let targets = ["llvm-cpu", "vmvx", "vulkan-spirv"];
    let registry = kiln_tools::registry();
    for name in ["mlp", "cnn", "encoder"] {
        let dir = models_dir().join(name);
        let dump = std::env::temp_dir().join(format!("kiln-dump-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dump).unwrap();
        let opts = CompileOptions {
            targets: targets.map(String::from).to_vec(),
            dump_binaries_to: Some(dump.clone()),
            ..Default::default()
        };
        let CompileOutput::Module(module) =
            kiln_compiler::compile_file(&dir.join("model.onnx"), None, &opts)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        else {
            panic!("module expected")
        };
        validate_spirv(name, &module);
        let m = kiln_module::Module::read(&module).unwrap();
        let listed: Vec<&str> = m.executables.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(listed, targets, "{name}");
        let f = &m.functions[0];
        let variants: Vec<Vec<u32>> = f.programs.iter().map(|p| p.executables()).collect();
        assert_eq!(variants, [[0], [1], [2]], "{name}");

        let mut files: Vec<String> = std::fs::read_dir(&dump)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let shaders = kiln_spirv::Executable::decode(&m.executables[2].data)
            .unwrap()
            .entry_points
            .len();
        let mut want = vec!["model_llvm-cpu.o".to_string(), "model_vmvx.vmvx".into()];
        want.extend((0..shaders).map(|i| format!("model_vulkan-spirv_{i}.spv")));
        want.sort();
        assert_eq!(files, want, "{name}");
        let object = std::fs::read(dump.join("model_llvm-cpu.o")).unwrap();
        assert_eq!(&object[..4], b"\x7fELF", "{name}");
        let spirv = std::fs::read(dump.join("model_vulkan-spirv_0.spv")).unwrap();
        assert_eq!(spirv[..4], 0x0723_0203u32.to_le_bytes(), "{name}");
        std::fs::remove_dir_all(&dump).unwrap();

        let (inputs, expected) = (load(&dir, "input"), load(&dir, "expected"));
        let bytes = Arc::new(ModuleBytes::from_bytes(&module));
        let mut runs = vec![("local-sync", 0), ("local-task", 0)];
        runs.extend(devices("vulkan-spirv").into_iter().map(|d| (d, 2)));
        for (device, executable) in runs {
            let dev = registry.create_device(device, &Default::default()).unwrap();
            let loaded = LoadedModule::load(dev, bytes.clone(), name)
                .unwrap_or_else(|e| panic!("{name} on {device}: {e}"));
            let f = loaded.function("main").unwrap();
            assert_eq!(
                loaded.program(f).unwrap().executables(),
                [executable],
                "{name} on {device}"
            );
            let got = loaded.invoke("main", &inputs).unwrap();
            assert_close(
                name,
                &format!("{device}, three-target module"),
                &got,
                &expected,
            );
        }
    }
}

/// Checks a golden model with open dims and golden data at several sizes (`input_*`, then
/// `run1_input_*`, …). Imported with its symbols kept, the parameter and result types must be
/// `types` (inferred from the inputs alone; declared output shapes are ignored) and the
/// reference interpreter must run that one program at every size. Each size then compiles
/// with `--kiln-bind-dim` (symbol name, input, axis in `binds`) and matches ONNX Runtime on
/// every target. Compiled once with its dims left open (`--kiln-dynamic-dims`) for each of
/// [`DYNAMIC_TARGETS`], the one module matches ONNX Runtime at every size too, and reflects
/// its open dims as `?`.
/// The targets that compile open dims.
const DYNAMIC_TARGETS: [&str; 4] = ["vmvx", "llvm-cpu", "vulkan-spirv", "webgpu-spirv"];

/// Golden model `name` imported with its dims open.
fn import_open(name: &str) -> kiln_ir::Program {
    let bytes = std::fs::read(models_dir().join(name).join("model.onnx")).unwrap();
    let options = kiln_import::ImportOptions {
        keep_symbols: true,
        ..Default::default()
    };
    kiln_import::onnx::import_bytes_with(&bytes, None, &options)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .program
}

/// The model in `dir` compiled for `target` with its dims left open (`--kiln-dynamic-dims`).
fn compile_open(dir: &Path, target: &str) -> Vec<u8> {
    compile_with(
        dir,
        CompileOptions {
            targets: vec![target.into()],
            dynamic_dims: Some(true),
            ..Default::default()
        },
    )
}

fn check_open_dims(name: &str, types: &[&str], binds: &[(&str, usize, usize)]) {
    let dir = models_dir().join(name);
    let program = import_open(name);
    let f = &program.functions[0];
    let ports = f.params.iter().chain(&f.results);
    let got: Vec<String> = ports.map(|p| f.ty(p.value).to_string()).collect();
    assert_eq!(got, types, "{name}: symbolic types");
    let registry = kiln_tools::registry();
    let dynamic: Vec<(&str, Arc<ModuleBytes>)> = DYNAMIC_TARGETS
        .iter()
        .map(|&target| {
            let module = compile_open(&dir, target);
            (target, Arc::new(ModuleBytes::from_bytes(&module)))
        })
        .collect();
    for (run, inputs, expected) in runs(&dir) {
        let what = format!("{run}{}", inputs[0].type_string());
        for (target, module) in &dynamic {
            for device in devices(target) {
                let dev = registry.create_device(device, &Default::default()).unwrap();
                let m = LoadedModule::load(dev, module.clone(), name).unwrap();
                let sig = &m.module().functions[0].inputs[0];
                assert!(
                    sig.type_string().contains('?'),
                    "{name}: {}",
                    sig.type_string()
                );
                let got = m.invoke("main", &inputs).unwrap();
                assert_close(
                    name,
                    &format!("{what}, one {target} module, on {device}"),
                    &got,
                    &expected,
                );
            }
        }
        let reference = kiln_ir::interp::run(&program, "main", &inputs).unwrap();
        assert_close(name, &what, &reference, &expected);
        let dims: Vec<(String, usize)> = binds
            .iter()
            .map(|&(sym, input, axis)| (sym.to_string(), inputs[input].shape[axis]))
            .collect();
        for target in ["vmvx", "llvm-cpu", "vulkan-spirv"] {
            let bytes = Arc::new(ModuleBytes::from_bytes(&compile_bound(
                &dir,
                target,
                dims.clone(),
            )));
            for device in devices(target) {
                let dev = registry.create_device(device, &Default::default()).unwrap();
                let m = LoadedModule::load(dev, bytes.clone(), name).unwrap();
                let got = m.invoke("main", &inputs).unwrap();
                assert_close(name, &format!("{what} on {device}"), &got, &expected);
            }
        }
    }
}

/// A detector whose batch, height and width are unnamed dims (`?`, named `images_AXIS`) and
/// whose file declares the wrong output shape `[1, 6, 100]`: sizes stay expressions through
/// strided convolutions, pooling and a Reshape whose target is computed with
/// Shape/Gather/Concat.
#[test]
fn detector_with_open_dims() {
    check_open_dims(
        "detector_dynamic",
        &[
            "tensor<{images_0}x3x{images_2}x{images_3}xf32>",
            "tensor<{images_0}x6x{((images_2+1)/2+1)/4*(((images_3+1)/2+1)/4)}xf32>",
        ],
        &[("images_0", 0, 0), ("images_2", 0, 2), ("images_3", 0, 3)],
    );
}

/// A BERT-style encoder with named open dims `batch` and `seq` and an attention mask: head
/// splits reshape to computed targets and to `[0, 0, H, HD]` / `[0, -1, H, HD]`.
#[test]
fn encoder_with_open_batch_and_sequence() {
    check_open_dims(
        "encoder_dynamic",
        &[
            "tensor<{batch}x{seq}x64xf32>",
            "tensor<{batch}x{seq}xi64>",
            "tensor<{batch}x{seq}x64xf32>",
        ],
        &[("batch", 0, 0), ("seq", 0, 1)],
    );
}

/// Nearest upsampling by whole scales over open height and width (Resize 13 asymmetric/floor
/// ×2, and its defaults ×3) between strided convolutions: each input repeated, over symbolic
/// sizes, so odd heights and widths too match ONNX Runtime from one module.
#[test]
fn upsampling_with_open_dims() {
    check_open_dims(
        "upsample_dynamic",
        &[
            "tensor<{batch}x4x{height}x{width}xf32>",
            "tensor<{batch}x6x{6*((height+1)/2)}x{2*((width+1)/2)}xf32>",
        ],
        &[("batch", 0, 0), ("height", 0, 2), ("width", 0, 3)],
    );
}

/// A detector neck: a stride-2 feature map concatenated with (and added to) the next one
/// upsampled, sizes that are different expressions and agree only at some input sizes; the
/// module takes them as equal and checks it per call.
#[test]
fn neck_with_open_dims() {
    check_open_dims(
        "neck_dynamic",
        &[
            "tensor<{images_0}x3x{images_2}x{images_3}xf32>",
            "tensor<{images_0}x8x{2*(((images_2+1)/2+1)/2)}x{2*(((images_3+1)/2+1)/2)}xf32>",
        ],
        &[("images_0", 0, 0), ("images_2", 0, 2), ("images_3", 0, 3)],
    );
}

/// A golden model with run-time control flow and open dims, golden data at several inputs
/// (`input_*`, then `run1_input_*`, …): imported with its dims open, `main` is a control
/// program over straight-line segments, and the reference interpreter runs it at every
/// input. Compiled once per target of [`DYNAMIC_TARGETS`], the one module matches ONNX
/// Runtime at every input on every device. Returns `main`'s result types as the module
/// reflects them.
fn check_control_flow(name: &str) -> Vec<String> {
    let dir = models_dir().join(name);
    let program = import_open(name);
    let main = program.function("main").unwrap();
    assert!(
        main.control.is_some(),
        "{name}: main has no control program"
    );
    let runs = runs(&dir);
    for (run, inputs, expected) in &runs {
        let reference = kiln_ir::interp::run(&program, "main", inputs).unwrap();
        assert_close(name, &format!("{run}reference"), &reference, expected);
    }
    let registry = kiln_tools::registry();
    let mut reflected = vec![];
    for target in DYNAMIC_TARGETS {
        let module = compile_open(&dir, target);
        if target == "vulkan-spirv" {
            validate_spirv(name, &module);
        }
        let module = Arc::new(ModuleBytes::from_bytes(&module));
        for device in devices(target) {
            let dev = registry.create_device(device, &Default::default()).unwrap();
            let m = LoadedModule::load(dev, module.clone(), name).unwrap();
            let f = m.function("main").unwrap();
            reflected = f.outputs.iter().map(|o| o.type_string()).collect();
            for (run, inputs, expected) in &runs {
                let got = m
                    .invoke("main", inputs)
                    .unwrap_or_else(|e| panic!("{name} {run}on {device}: {e}"));
                let what = format!(
                    "{run}{}, one {target} module, on {device}",
                    inputs[0].type_string()
                );
                assert_close(name, &what, &got, expected);
            }
        }
    }
    reflected
}

/// An If on a condition computed from an input, whose branches return `[n]` or `[n, 3]`
/// (a result of any rank, reflected as `*xf32`) and `[n, 2]` or `[n, 4]` (a size known per
/// call, reduced downstream).
#[test]
fn an_if_whose_branches_differ_in_rank() {
    let types = check_control_flow("branch_rank");
    assert_eq!(types, ["*xf32", "?x1xf32"]);
}

/// A Loop whose trip count is an input and whose condition is computed each iteration (the
/// runs stop early, run every iteration, and run one), carrying a value that grows.
#[test]
fn a_loop_whose_trip_count_is_an_input() {
    let types = check_control_flow("loop_count");
    assert_eq!(types, ["?x4xf32", "?x?xf32", "?x?xf32"]);
}

/// A bidirectional LSTM with per-entry lengths, then a GRU, over sequences of 5, 9 and 1
/// steps and batches of 2, 3 and 1 from one module: each direction a loop over the steps.
#[test]
fn bidirectional_lstm_then_gru_over_an_open_sequence() {
    let types = check_control_flow("recurrent_dynamic");
    assert_eq!(types, ["2x?x6xf32", "?x1x?x5xf32", "1x?x5xf32"]);
}
