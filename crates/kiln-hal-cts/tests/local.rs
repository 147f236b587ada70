//! The conformance suite on local-sync and local-task, with a VMVX fixture.

use kiln_hal_cts::{Fixture, N};
use kiln_hal_local::LocalDriver;
use kiln_types::ElementType;
use kiln_vmvx::format::{BinaryFn, Body, Executable, Inst, Kernel, KernelOp, ReduceFn, View};
use std::sync::Arc;

/// `out = a + b` over N f32, in 4 workgroups.
fn vmvx_fixture() -> Fixture {
    let view = |binding| View::contiguous(binding, 0, ElementType::F32, &[N as u64]);
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

kiln_hal_cts::conformance_tests!(
    local_sync,
    (
        Arc::new(LocalDriver::sync()) as Arc<dyn kiln_runtime::hal::Driver>,
        vmvx_fixture()
    )
);
kiln_hal_cts::conformance_tests!(
    local_task,
    (
        Arc::new(LocalDriver::task()) as Arc<dyn kiln_runtime::hal::Driver>,
        vmvx_fixture()
    )
);
