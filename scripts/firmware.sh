#!/usr/bin/env bash
# The bare-metal runtime, measured and run: compiles the golden MLP for vmvx-inline, builds
# examples/firmware-mlp (kiln's inline runtime, no_std, on a Cortex-M4F) around it, prints
# the firmware's stripped sizes (the runtime apart from the module and test data it embeds),
# and runs it on QEMU's MPS2 AN386 board, where it compares its output with ONNX Runtime's.
#
#     bash scripts/firmware.sh            # scripts/setup.sh installs qemu-system-arm
#     bash scripts/firmware.sh --smallest # the same on nightly Rust with core and alloc
#                                         # rebuilt for size, panics aborting at once
#
# `--smallest` (what scripts/sizes.sh also measures) rebuilds `core` and `alloc` alongside
# the firmware (`-Z build-std`, with their `optimize_for_size` feature) at its opt-level "z",
# with `panic=immediate-abort`: a panic (a kiln bug) then stops at a fault instead of
# reaching the panic handler, so no panic path is linked. It installs the nightly toolchain
# and its rust-src component when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/firmware
mkdir -p "$out"
smallest=false
case "${1:-}" in
  --smallest) smallest=true ;;
  "") ;;
  *) echo "usage: $0 [--smallest]" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
  rustup target add thumbv7em-none-eabihf
fi
if $smallest && ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup toolchain install nightly --profile minimal --component rust-src
fi
cargo build --quiet -p kiln-tools --bin kiln-compile
target/debug/kiln-compile tests/models/mlp/model.onnx --iree-hal-target-backends=vmvx-inline \
  -o "$out/mlp.kiln"
# The golden input and ONNX Runtime's output as raw little-endian bytes (.npy without header).
python3 - "$out" <<'PY'
import struct, sys
out = sys.argv[1]
for src, dst in [("input_0", "input.bin"), ("expected_0", "expected.bin")]:
    data = open(f"tests/models/mlp/{src}.npy", "rb").read()
    assert data[:6] == b"\x93NUMPY" and b"'<f4'" in data[:128], src
    (header_len,) = struct.unpack("<H", data[8:10])
    open(f"{out}/{dst}", "wb").write(data[10 + header_len:])
PY
export KILN_FIRMWARE_MODULE=$out/mlp.kiln KILN_FIRMWARE_INPUT=$out/input.bin \
  KILN_FIRMWARE_EXPECTED=$out/expected.bin
build_dir=$out/build
if $smallest; then build_dir=$out/build-smallest; fi
(
  cd examples/firmware-mlp
  export CARGO_TARGET_DIR=$build_dir
  if $smallest; then
    # RUSTFLAGS replaces .cargo/config.toml's flags for the target: repeat its linker script.
    RUSTFLAGS="-Clink-arg=-Tlink.x -Zunstable-options -Cpanic=immediate-abort" \
      cargo +nightly build --quiet --release -Z build-std=core,alloc \
      -Z build-std-features=optimize_for_size
  else
    cargo fmt --check
    cargo clippy --quiet --release -- -D warnings
    cargo build --quiet --release
  fi
)
elf=$build_dir/thumbv7em-none-eabihf/release/kiln-firmware-mlp
llvm-strip-22 -o "$out/firmware.stripped" "$elf"
# Loaded bytes: code, read-only data and initialised data (what flash holds).
loaded=$(llvm-size-22 -A "$out/firmware.stripped" |
  awk '$1 ~ /^\.(vector_table|text|rodata|data)$/ { s += $2 } END { print s }')
embedded=$(($(stat -c %s "$out/mlp.kiln") + $(stat -c %s "$out/input.bin") + $(stat -c %s "$out/expected.bin")))
runtime=$((loaded - embedded))
build=$($smallest && echo "nightly, core and alloc rebuilt for size, panic=immediate-abort" ||
  echo "stable")
echo "firmware (thumbv7em-none-eabihf, $build, stripped): $loaded bytes loaded"
echo "  of which the MLP module, its input and expected output: $embedded bytes"
echo "  the runtime (inline runtime, VMVX interpreter, microkernels, startup, allocator): $runtime bytes ($((runtime / 1024)) KiB)"
if command -v qemu-system-arm >/dev/null 2>&1; then
  timeout 300 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf"
else
  echo "qemu-system-arm is not installed: the firmware was built but not run" >&2
  exit 1
fi
