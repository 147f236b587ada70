//! The HAL conformance suite on the example plugin's driver, loaded from its shared library.

use kiln_hal_cts::vmvx_fixture;

/// The plugin's driver (`cargo test` builds the `cdylib` beside this test's binary).
fn plugin() -> std::sync::Arc<dyn kiln_runtime::hal::Driver> {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().join("libkiln_example_accelerator.so");
    kiln_hal_plugin::load(&path).unwrap()
}

kiln_hal_cts::conformance_tests!(example_accelerator, (plugin(), vmvx_fixture()));
