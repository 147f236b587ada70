//! The inline runtime against ONNX Runtime's outputs for the golden models, its promise of no
//! allocation per call (counted by this test binary's allocator), and its errors.

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_inline::{InlineError, InlineModule};
use kiln_types::npy;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts allocations made by the thread that asked for counting.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

// SAFETY: forwards to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn model_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(name)
}

fn compile(name: &str, targets: &[&str]) -> Vec<u8> {
    let options = CompileOptions {
        targets: targets.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    match kiln_compiler::compile_file(&model_dir(name).join("model.onnx"), None, &options) {
        Ok(CompileOutput::Module(bytes)) => bytes,
        Ok(_) => panic!("a module expected"),
        Err(e) => panic!("{name}: {e}"),
    }
}

fn read_npy(name: &str, file: &str) -> kiln_types::HostTensor {
    npy::read_npy(&std::fs::read(model_dir(name).join(file)).unwrap()).unwrap()
}

/// f32 storage for a tensor's bytes, so the buffer is aligned as a firmware would align it.
fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn bytes_of(v: &[f32]) -> &[u8] {
    // SAFETY: any f32 is 4 initialised bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), v.len() * 4) }
}

fn bytes_of_mut(v: &mut [f32]) -> &mut [u8] {
    // SAFETY: as above; every byte pattern is a valid f32.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast(), v.len() * 4) }
}

/// Runs golden model `name` inline twice and compares with ONNX Runtime's output; the
/// second call must allocate nothing.
fn matches_onnx_runtime(name: &str) {
    let file = compile(name, &["vmvx-inline"]);
    let mut module = InlineModule::load(&file).unwrap();
    let input = floats(&read_npy(name, "input_0.npy").data);
    let want = floats(&read_npy(name, "expected_0.npy").data);
    let mut got = vec![0f32; want.len()];
    module
        .call("main", &[bytes_of(&input)], &mut [bytes_of_mut(&mut got)])
        .unwrap();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{name}: {a} vs {b}");
    }
    let mut again = vec![0f32; want.len()];
    let count = allocations_in(|| {
        module
            .call("main", &[bytes_of(&input)], &mut [bytes_of_mut(&mut again)])
            .unwrap()
    });
    assert_eq!(count, 0, "{name}: a second call allocated {count} times");
    assert_eq!(got, again);
}

#[test]
fn the_golden_mlp_runs_inline_and_matches_onnx_runtime() {
    matches_onnx_runtime("mlp");
}

#[test]
fn the_golden_cnn_runs_inline_and_matches_onnx_runtime() {
    matches_onnx_runtime("cnn");
}

#[test]
fn a_module_for_several_targets_runs_its_inline_variant() {
    let file = compile("mlp", &["vmvx", "vmvx-inline"]);
    let mut module = InlineModule::load_copy(&file).unwrap();
    let input = floats(&read_npy("mlp", "input_0.npy").data);
    let want = floats(&read_npy("mlp", "expected_0.npy").data);
    let mut got = vec![0f32; want.len()];
    module
        .call("main", &[bytes_of(&input)], &mut [bytes_of_mut(&mut got)])
        .unwrap();
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-4));
}

#[test]
fn bad_calls_and_modules_are_errors_that_say_why() {
    let file = compile("mlp", &["vmvx-inline"]);
    let mut module = InlineModule::load(&file).unwrap();
    let input = floats(&read_npy("mlp", "input_0.npy").data);
    let mut out = vec![0f32; 8 * 10];
    let err = |e: InlineError| e.to_string();

    let e = module.call("forward", &[], &mut []).unwrap_err();
    assert_eq!(
        err(e),
        "the module has no function @forward (it exports: main)"
    );
    let e = module.call("main", &[], &mut []).unwrap_err();
    assert_eq!(err(e), "@main takes 1 inputs, but the call passes 0");
    let short = &bytes_of(&input)[..12];
    let e = module
        .call("main", &[short], &mut [bytes_of_mut(&mut out)])
        .unwrap_err();
    assert!(
        err(e).starts_with(
            "@main: input 0 ('x', 8x784xf32) takes 25088 bytes, but the call passes 12"
        ),
        "unexpected"
    );
    let mut wide = vec![0f32; input.len() + 1];
    wide[..input.len()].copy_from_slice(&input);
    let misaligned = &bytes_of(&wide)[1..1 + input.len() * 4];
    let e = module
        .call("main", &[misaligned], &mut [bytes_of_mut(&mut out)])
        .unwrap_err();
    assert_eq!(
        err(e),
        "@main: input 0 ('x') must start at a multiple of 4 bytes"
    );

    // A module without an inline executable, and bytes that are no module at all.
    let vmvx = compile("mlp", &["vmvx"]);
    let e = InlineModule::load(&vmvx).unwrap_err();
    assert!(
        err(e).starts_with("the module has no vmvx-inline executable (it has: vmvx-bytecode)"),
        "unexpected"
    );
    let e = InlineModule::load(b"not a module").unwrap_err();
    assert!(matches!(e, InlineError::Module(_)), "{e}");
    let e = InlineModule::load(&file[..file.len() / 2]).unwrap_err();
    assert!(matches!(e, InlineError::Module(_)), "{e}");
}

#[test]
fn the_target_refuses_what_would_allocate_per_call() {
    let options = CompileOptions {
        targets: vec!["vmvx-inline".into()],
        dynamic_dims: Some(true),
        ..Default::default()
    };
    // Open dims the user asked to keep open.
    let e = kiln_compiler::compile_file(
        &model_dir("encoder_dynamic").join("model.onnx"),
        None,
        &options,
    )
    .expect_err("open dims refused");
    assert!(
        e.to_string().contains("needs every size at compile time"),
        "{e}"
    );
    // Run-time control flow.
    let options = CompileOptions {
        targets: vec!["vmvx-inline".into()],
        ..Default::default()
    };
    let e =
        kiln_compiler::compile_file(&model_dir("loop_count").join("model.onnx"), None, &options)
            .expect_err("control flow refused");
    assert!(
        e.to_string()
            .contains("branches or loops at run time, and target 'vmvx-inline' runs straight-line programs only"),
        "{e}"
    );
}
