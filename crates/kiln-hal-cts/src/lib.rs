//! The HAL conformance suite: one set of checks, generic over the driver.
//!
//! A driver crate (or this crate's own tests, for the local drivers) instantiates the suite with
//! [`conformance_tests!`], giving a driver and a [`Fixture`] that supplies an executable in the
//! device's format (or, with `optional`, an `Option` of them: `None` where the machine has no
//! such device, and the checks pass vacuously). Checks follow IREE's CTS bring-up order: driver and device, buffers, command
//! buffer validation, dispatch, barriers, semaphores, errors.
//!
//! ```text
//! kiln_hal_cts::conformance_tests!(local_task, || (Arc::new(LocalDriver::task()), my_fixture()));
//! ```

use kiln_runtime::hal::{
    Buffer, BufferBinding, CommandBuffer, Device, Driver, HostBytes, Semaphore,
};
use kiln_runtime::HalError;
use kiln_vmvx::format::{BinaryFn, Body, Executable, Inst, Kernel, KernelOp, ReduceFn, View};
use std::sync::Arc;

/// Elements each buffer of the dispatch checks holds.
pub const N: usize = 64;

/// Device code the suite needs, in the device's executable format.
pub struct Fixture {
    pub format: String,
    /// An executable whose entry point 0 computes `out[i] = a[i] + b[i]` for `N` f32 elements,
    /// with bindings `[a, b, out]`, over `workgroups`.
    pub add: Vec<u8>,
    pub workgroups: [u32; 3],
}

/// The fixture for devices that load VMVX: `out = a + b` over N f32, in 4 workgroups.
pub fn vmvx_fixture() -> Fixture {
    let view = |binding| View::contiguous(binding, 0, kiln_types::ElementType::F32, &[N as u64]);
    let body = Body {
        insts: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Binary(BinaryFn::Add, 0, 1),
        ],
        results: vec![2],
    };
    let op = KernelOp::Generic {
        shape: vec![N as u64],
        tile: vec![N as u64 / 4],
        reduction_dims: 0,
        reduce: ReduceFn::Sum,
        inputs: vec![view(0), view(1)],
        outputs: vec![view(2)],
        body,
    };
    let exe = Executable {
        kernels: vec![Kernel {
            name: "add".into(),
            op,
        }],
    };
    Fixture {
        format: kiln_vmvx::FORMAT.into(),
        add: exe.encode(),
        workgroups: [4, 1, 1],
    }
}

/// `out = a + b` over N f32 as a kernel-IR op (bindings `[a, b, out]`), for the fixtures of
/// drivers whose code a GPU generator writes from it.
pub fn add_kernel() -> kiln_kernel::Op {
    let view = |binding| {
        kiln_kernel::View::contiguous(binding, 0, kiln_types::ElementType::F32, &[N as u64])
    };
    kiln_kernel::Op::Generic {
        shape: vec![N as u64],
        reduction_dims: 0,
        reduce: kiln_kernel::ReduceFn::Sum,
        inputs: vec![view(0), view(1)],
        outputs: vec![view(2)],
        body: kiln_kernel::Body {
            insts: vec![
                kiln_kernel::Inst::Input(0),
                kiln_kernel::Inst::Input(1),
                kiln_kernel::Inst::Binary(kiln_kernel::BinaryFn::Add, 0, 1),
            ],
            results: vec![2],
        },
    }
}

/// A driver under test and its fixture.
pub type Subject = (Arc<dyn Driver>, Fixture);

fn device(driver: &Arc<dyn Driver>) -> Arc<dyn Device> {
    let info = driver.enumerate_devices().expect("enumerate devices");
    driver
        .create_device(&info[0].path, &Default::default())
        .expect("create the first device")
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn read_f32(b: &Arc<dyn Buffer>) -> Vec<f32> {
    let mut out = vec![0u8; b.len()];
    b.read(0, &mut out).expect("read back");
    out.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn whole(buffer: &Arc<dyn Buffer>) -> BufferBinding {
    BufferBinding {
        buffer: buffer.clone(),
        offset: 0,
        length: buffer.len(),
    }
}

/// The driver lists at least one device, creates it by path, and refuses an unknown path.
pub fn driver_creates_devices((driver, _): Subject) {
    let devices = driver.enumerate_devices().expect("enumerate");
    assert!(!devices.is_empty(), "{} lists no device", driver.name());
    let d = driver
        .create_device(&devices[0].path, &Default::default())
        .expect("create");
    assert_eq!(d.driver_name(), driver.name());
    assert!(
        !d.properties().is_empty(),
        "a device describes itself for --dump_devices"
    );
    assert!(driver
        .create_device("no-such-device", &Default::default())
        .is_err());
}

/// Buffers start zeroed, round-trip bytes, and reject out-of-range transfers.
pub fn buffers_round_trip((driver, _): Subject) {
    let d = device(&driver);
    let b = d.allocate(256).expect("allocate");
    assert_eq!(b.len(), 256);
    let mut out = vec![1u8; 256];
    b.read(0, &mut out).unwrap();
    assert!(out.iter().all(|&x| x == 0), "new buffers are zeroed");
    let data: Vec<u8> = (0..100).collect();
    b.write(50, &data).unwrap();
    let mut back = vec![0u8; 100];
    b.read(50, &mut back).unwrap();
    assert_eq!(back, data);
    assert!(b.write(200, &data).is_err(), "write past the end");
    assert!(b.read(250, &mut back).is_err(), "read past the end");
    assert_eq!(d.allocate(0).expect("empty buffers are allowed").len(), 0);
}

struct Bytes(Vec<u8>);

impl HostBytes for Bytes {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Imported host bytes read back unchanged and are read-only.
pub fn host_imports_are_read_only((driver, _): Subject) {
    let d = device(&driver);
    let host = Arc::new(Bytes((0..=255).collect()));
    let b = d.import_host(host, 16, 32).expect("import");
    let mut out = vec![0u8; 32];
    b.read(0, &mut out).unwrap();
    assert_eq!(out, (16..48).collect::<Vec<u8>>());
    assert!(b.write(0, &[1]).is_err(), "imports are read-only");
    assert!(
        d.import_host(Arc::new(Bytes(vec![0; 8])), 4, 8).is_err(),
        "range outside the bytes"
    );
}

/// Recording validates entry points and binding ranges.
pub fn command_buffers_validate((driver, fx): Subject) {
    let d = device(&driver);
    let exe = d.load_executable(&fx.format, &fx.add).expect("load");
    let b = d.allocate(N * 4).unwrap();
    let mut cb = CommandBuffer::new();
    let bad_range = BufferBinding {
        buffer: b.clone(),
        offset: 8,
        length: N * 4,
    };
    assert!(cb
        .dispatch(
            exe.clone(),
            0,
            fx.workgroups,
            vec![whole(&b), whole(&b), bad_range]
        )
        .is_err());
    assert!(cb
        .dispatch(
            exe,
            99,
            fx.workgroups,
            vec![whole(&b), whole(&b), whole(&b)]
        )
        .is_err());
    assert!(
        cb.commands().is_empty(),
        "rejected commands are not recorded"
    );
}

/// A dispatch computes its result; a barrier orders a dependent dispatch after it.
pub fn dispatch_and_barrier((driver, fx): Subject) {
    let d = device(&driver);
    let exe = d.load_executable(&fx.format, &fx.add).expect("load");
    let a: Vec<f32> = (0..N).map(|i| i as f32).collect();
    let (ba, bb, bc) = (
        d.allocate(N * 4).unwrap(),
        d.allocate(N * 4).unwrap(),
        d.allocate(N * 4).unwrap(),
    );
    ba.write(0, &f32_bytes(&a)).unwrap();
    let mut cb = CommandBuffer::new();
    cb.dispatch(
        exe.clone(),
        0,
        fx.workgroups,
        vec![whole(&ba), whole(&ba), whole(&bb)],
    )
    .unwrap();
    cb.barrier();
    cb.dispatch(
        exe,
        0,
        fx.workgroups,
        vec![whole(&bb), whole(&ba), whole(&bc)],
    )
    .unwrap();
    let done = Semaphore::new(0);
    d.queue_execute(&cb, Some((&done, 7))).expect("execute");
    done.wait(7);
    assert_eq!(done.value(), 7);
    assert_eq!(read_f32(&bb), a.iter().map(|x| 2.0 * x).collect::<Vec<_>>());
    assert_eq!(read_f32(&bc), a.iter().map(|x| 3.0 * x).collect::<Vec<_>>());
}

/// Semaphores only move forward and wake waiters.
pub fn semaphores_signal_and_wait(_: Subject) {
    let s = Arc::new(Semaphore::new(1));
    let s2 = s.clone();
    let waiter = std::thread::spawn(move || s2.wait(5));
    s.signal(5);
    waiter.join().unwrap();
    s.signal(3);
    assert_eq!(s.value(), 5, "signalling a lower value does not go back");
}

/// Executables in a foreign format or with corrupt bytes are refused with an error.
pub fn bad_executables_are_errors((driver, fx): Subject) {
    let d = device(&driver);
    assert!(matches!(
        d.load_executable("no-such-format", &fx.add),
        Err(HalError::UnsupportedFormat { .. })
    ));
    let mut corrupt = fx.add.clone();
    corrupt.truncate(corrupt.len() / 2);
    assert!(d.load_executable(&fx.format, &corrupt).is_err());
    assert!(d.load_executable(&fx.format, &[]).is_err());
}

/// Instantiates every conformance check as a `#[test]` in module `$name`, with `$subject` an
/// expression producing a [`Subject`].
#[macro_export]
macro_rules! conformance_tests {
    ($name:ident, optional $subject:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            /// Runs `check` on the subject, or passes where there is none (no device).
            fn run(check: fn($crate::Subject)) {
                let subject: Option<$crate::Subject> = $subject;
                if let Some(s) = subject {
                    check(s);
                }
            }
            #[test]
            fn driver_creates_devices() {
                run($crate::driver_creates_devices);
            }
            #[test]
            fn buffers_round_trip() {
                run($crate::buffers_round_trip);
            }
            #[test]
            fn host_imports_are_read_only() {
                run($crate::host_imports_are_read_only);
            }
            #[test]
            fn command_buffers_validate() {
                run($crate::command_buffers_validate);
            }
            #[test]
            fn dispatch_and_barrier() {
                run($crate::dispatch_and_barrier);
            }
            #[test]
            fn semaphores_signal_and_wait() {
                run($crate::semaphores_signal_and_wait);
            }
            #[test]
            fn bad_executables_are_errors() {
                run($crate::bad_executables_are_errors);
            }
        }
    };
    ($name:ident, $subject:expr) => {
        $crate::conformance_tests!($name, optional Some($subject));
    };
}
