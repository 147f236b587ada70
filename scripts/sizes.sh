#!/usr/bin/env bash
# How small kiln's runtime gets: prints the stripped size of `kiln-run-module` with the local
# drivers only (no vulkan, cuda or hip; no compiler), in the release profile and in the
# size-optimised `release-small` profile, then builds and runs the bare-metal firmware
# (scripts/firmware.sh), which prints its own sizes.
#
#     bash scripts/sizes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for profile in release release-small; do
  cargo build --quiet --profile "$profile" -p kiln-tools --no-default-features --bin kiln-run-module
  llvm-strip-22 -o "target/$profile/kiln-run-module.stripped" "target/$profile/kiln-run-module"
  bytes=$(stat -c %s "target/$profile/kiln-run-module.stripped")
  echo "kiln-run-module, local drivers only, profile $profile, stripped: $bytes bytes ($((bytes / 1024)) KiB)"
done
bash scripts/firmware.sh
