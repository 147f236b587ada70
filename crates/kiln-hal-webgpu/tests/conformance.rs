//! The HAL conformance suite on the first WebGPU adapter (lavapipe through wgpu's Vulkan
//! backend in CI), with an `out = a + b` fixture compiled for `webgpu-spirv`.
//!
//! Without an adapter the checks report that and pass vacuously, unless `KILN_REQUIRE_VULKAN`
//! is set (CI sets it: wgpu runs on the Vulkan driver there), which makes a missing adapter
//! a failure.

use kiln_hal_cts::{Fixture, Subject};
use kiln_hal_webgpu::WebGpuDriver;
use kiln_runtime::hal::Driver;
use std::sync::Arc;

/// `out = a + b` over N f32 as WGSL.
fn wgsl_fixture() -> Fixture {
    let (kernel, count) =
        kiln_codegen_spirv::wgsl::compile_kernel("add", &kiln_hal_cts::add_kernel()).unwrap();
    Fixture {
        format: kiln_gpu_binary::WEBGPU_FORMAT.into(),
        add: executable(kernel).encode(),
        workgroups: [count as u32, 1, 1],
    }
}

/// A `webgpu-wgsl-fb` executable of one kernel.
fn executable(kernel: kiln_codegen_spirv::TranslatedKernel) -> kiln_gpu_binary::Executable {
    kiln_gpu_binary::Executable {
        kind: kiln_gpu_binary::CodeKind::Wgsl,
        target: kiln_codegen_spirv::wgsl::WEBGPU.name.into(),
        code: vec![],
        kernels: vec![kiln_gpu_binary::Kernel {
            name: kernel.function,
            workgroup_size: kernel.entry.workgroup_size[0],
            bindings: kernel.entry.bindings,
            symbols: kernel.entry.symbols,
            binding_extents: kernel.entry.binding_extents,
            workgroups: kernel.entry.workgroups,
            shared_memory: kernel.entry.shared_memory,
            reports_errors: kernel.entry.reports_errors,
            code: kernel.source.into_bytes(),
        }],
    }
}

fn subject() -> Option<Subject> {
    let driver: Arc<dyn Driver> = Arc::new(WebGpuDriver);
    match driver.enumerate_devices() {
        Ok(d) if !d.is_empty() => Some((driver, wgsl_fixture())),
        other if std::env::var_os("KILN_REQUIRE_VULKAN").is_none() => {
            eprintln!("no WebGPU adapter here ({other:?}); install mesa-vulkan-drivers to run these checks");
            None
        }
        other => panic!("a WebGPU adapter is required (KILN_REQUIRE_VULKAN): {other:?}"),
    }
}

kiln_hal_cts::conformance_tests!(webgpu, optional subject());

/// `--dump_devices` shows the adapter: its name, backend, limits and features.
#[test]
fn devices_describe_their_adapter() {
    let Some((driver, _)) = subject() else {
        return;
    };
    for d in driver.enumerate_devices().unwrap() {
        let device = driver.create_device(&d.path, &Default::default()).unwrap();
        let keys: Vec<String> = device.properties().into_iter().map(|(k, _)| k).collect();
        for key in [
            "name",
            "backend",
            "features",
            "max-storage-buffers-per-stage",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
        }
    }
    let err = driver
        .create_device("99", &Default::default())
        .err()
        .expect("no adapter 99");
    assert!(err.to_string().contains("no device at '99'"), "{err}");
}

/// Host transfers of any length at any offset (WebGPU copies whole words).
#[test]
fn unaligned_transfers_round_trip() {
    let Some((driver, _)) = subject() else {
        return;
    };
    let device = driver.create_device("", &Default::default()).unwrap();
    let buffer = device.allocate(11).unwrap();
    buffer.write(0, &[9; 11]).unwrap();
    buffer.write(3, &[1, 2, 3, 4, 5]).unwrap();
    let mut out = [0u8; 11];
    buffer.read(0, &mut out).unwrap();
    assert_eq!(out, [9, 9, 9, 1, 2, 3, 4, 5, 9, 9, 9]);
    let mut middle = [0u8; 3];
    buffer.read(5, &mut middle).unwrap();
    assert_eq!(middle, [3, 4, 5]);
}

/// Runs `out[i] = body(a[i])` over `len` elements of type `t` on `device`, both tensors bound
/// `offset` bytes into buffers holding `input` (which `out`'s buffer is filled with `fill`
/// around); returns `out`'s whole buffer.
fn run_elementwise(
    device: &dyn kiln_runtime::hal::Device,
    t: kiln_types::ElementType,
    len: usize,
    body: Vec<kiln_kernel::Inst>,
    offset: usize,
    input: &[u8],
    fill: u8,
) -> Vec<u8> {
    use kiln_kernel::{Body, Op, ReduceFn, View};
    use kiln_runtime::hal::{BufferBinding, CommandBuffer};
    let view = |binding| View::contiguous(binding, 0, t, &[len as u64]);
    let results = vec![body.len() as u32 - 1];
    let op = Op::Generic {
        shape: vec![len as u64],
        reduction_dims: 0,
        reduce: ReduceFn::Sum,
        inputs: vec![view(0)],
        outputs: vec![view(1)],
        body: Body {
            insts: body,
            results,
        },
    };
    let (kernel, count) = kiln_codegen_spirv::wgsl::compile_kernel("each", &op).unwrap();
    let exe = device
        .load_executable(kiln_gpu_binary::WEBGPU_FORMAT, &executable(kernel).encode())
        .unwrap();
    let (a, out) = (
        device.allocate(input.len()).unwrap(),
        device.allocate(input.len()).unwrap(),
    );
    a.write(0, input).unwrap();
    out.write(0, &vec![fill; input.len()]).unwrap();
    let bind = |buffer: &std::sync::Arc<dyn kiln_runtime::hal::Buffer>| BufferBinding {
        buffer: buffer.clone(),
        offset,
        length: len * t.byte_size(),
    };
    let mut commands = CommandBuffer::new();
    commands
        .dispatch(exe, 0, [count as u32, 1, 1], vec![bind(&a), bind(&out)])
        .unwrap();
    device.queue_execute(&commands, None).unwrap();
    let mut got = vec![0u8; input.len()];
    out.read(0, &mut got).unwrap();
    got
}

/// 8- and 16-bit tensors live packed in words: `out[i] = a[i] + 1` over 1,001 u8 and i16
/// elements (every word shared by several invocations' elements, the last one partly
/// another tensor's), starting one element into their buffers, leaves every element right
/// and the bytes around the output as they were.
#[test]
fn packed_narrow_elements_keep_their_neighbours() {
    use kiln_kernel::{BinaryFn, Inst};
    use kiln_types::ElementType;
    let Some((driver, _)) = subject() else {
        return;
    };
    let device = driver.create_device("", &Default::default()).unwrap();
    const LEN: usize = 1001;
    for t in [ElementType::U8, ElementType::I16] {
        let size = t.byte_size();
        // The tensors start one element into buffers with a guard element after them.
        let bytes = (LEN + 2) * size;
        let input: Vec<u8> = (0..bytes).map(|i| (i * 7 % 251) as u8).collect();
        let add_one = vec![
            Inst::Input(0),
            Inst::ConstI(1),
            Inst::Binary(BinaryFn::Add, 0, 1),
        ];
        let got = run_elementwise(&*device, t, LEN, add_one, size, &input, 0xa5);
        let guard = vec![0xa5; size];
        assert_eq!(&got[..size], &guard[..], "{t}: the element before");
        assert_eq!(&got[bytes - size..], &guard[..], "{t}: the element after");
        for i in 0..LEN {
            let at = (i + 1) * size;
            let (want, have) = if size == 1 {
                (u64::from(input[at].wrapping_add(1)), u64::from(got[at]))
            } else {
                let v = |b: &[u8]| i16::from_le_bytes([b[at], b[at + 1]]);
                (
                    v(&input).wrapping_add(1) as u16 as u64,
                    v(&got) as u16 as u64,
                )
            };
            assert_eq!(have, want, "{t} element {i}");
        }
    }
}

/// f64 elements are word pairs converted to and from f32 (WGSL has no f64): `out = a · 1`
/// gives each input rounded to f32 and widened back exactly — infinities, NaN and signed
/// zeros kept, values beyond f32's range infinite, values below it zero.
#[test]
fn f64_elements_convert_through_f32() {
    use kiln_kernel::{BinaryFn, Inst};
    let Some((driver, _)) = subject() else {
        return;
    };
    let device = driver.create_device("", &Default::default()).unwrap();
    let input = [
        0.0,
        -0.0,
        1.5,
        1.0 / 3.0,
        -7.5e20,
        1e-30,
        3.0e38,
        1e39,
        -1e39,
        1e-50,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let bytes: Vec<u8> = input.iter().flat_map(|x| x.to_le_bytes()).collect();
    let times_one = vec![
        Inst::Input(0),
        Inst::ConstF(1.0),
        Inst::Binary(BinaryFn::Mul, 0, 1),
    ];
    let f64_ = kiln_types::ElementType::F64;
    let got = run_elementwise(&*device, f64_, input.len(), times_one, 0, &bytes, 0);
    for (i, x) in input.iter().enumerate() {
        let have = f64::from_le_bytes(got[8 * i..8 * i + 8].try_into().unwrap());
        let want = *x as f32 as f64;
        let same = have.to_bits() == want.to_bits() || (have.is_nan() && want.is_nan());
        assert!(same, "{x:e}: {have:e}, expected {want:e}");
    }
}
