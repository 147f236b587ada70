#!/usr/bin/env bash
# How small kiln's runtime gets: prints the stripped size of `kiln-run-module` with the local
# drivers only (no vulkan, cuda or hip; no compiler) in three builds, each of which then runs
# the golden MLP (llvm-cpu on local-task) and must match ONNX Runtime, and builds and runs the
# bare-metal firmware (scripts/firmware.sh), which prints its own sizes:
#   - the release profile;
#   - the size-optimised `release-small` profile (opt-level z, fat LTO, panic=abort), stable Rust;
#   - the smallest: `release-small` on nightly Rust with the standard library rebuilt alongside
#     (`-Z build-std`) with `panic=immediate-abort` and no unwind tables, so that std's panic
#     and backtrace machinery (about a fifth of the stable build) is left out. This script
#     installs the nightly toolchain and its rust-src component when they are missing.
#
#     bash scripts/sizes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p kiln-tools --bin kiln-compile
mkdir -p target/sizes
target/debug/kiln-compile tests/models/mlp/model.onnx --iree-hal-target-backends=llvm-cpu,vmvx \
  -o target/sizes/mlp.kiln
# Prints the stripped size of build $1 (described by $2), then runs the golden MLP with it on
# local-task, which must match ONNX Runtime.
report() {
  llvm-strip-22 -o "$1.stripped" "$1"
  local bytes
  bytes=$(stat -c %s "$1.stripped")
  echo "kiln-run-module, local drivers only, $2, stripped: $bytes bytes ($((bytes / 1024)) KiB)"
  "$1.stripped" --module=target/sizes/mlp.kiln --device=local-task \
    --input=@tests/models/mlp/input_0.npy --expected_output=@tests/models/mlp/expected_0.npy |
    grep -F "[SUCCESS]"
}
for profile in release release-small; do
  cargo build --quiet --profile "$profile" -p kiln-tools --no-default-features --bin kiln-run-module
  report "target/$profile/kiln-run-module" "profile $profile"
done
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup toolchain install nightly --profile minimal --component rust-src
fi
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no" \
  CARGO_TARGET_DIR=target/smallest cargo +nightly build --quiet -Z build-std=std,panic_abort \
  --profile release-small --target "$host" -p kiln-tools --no-default-features --bin kiln-run-module
report "target/smallest/$host/release-small/kiln-run-module" \
  "profile release-small, nightly, std rebuilt with panic=immediate-abort"
bash scripts/firmware.sh
bash scripts/firmware.sh --smallest
