//! The conformance suite on local-sync and local-task, with a VMVX fixture.

use kiln_hal_cts::vmvx_fixture;
use kiln_hal_local::LocalDriver;
use std::sync::Arc;

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
