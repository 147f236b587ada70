#!/usr/bin/env bash
# Installs what kiln needs on a fresh Debian machine with a Rust toolchain, idempotently.
# Today the build needs nothing beyond cargo; system packages for later backends (LLVM,
# Vulkan) are added here as they land.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "kiln needs a Rust toolchain (cargo); install it with rustup first." >&2
  exit 1
fi
