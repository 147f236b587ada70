#!/usr/bin/env bash
# Installs what kiln needs on a fresh Debian machine with a Rust toolchain, idempotently:
# Mesa's lavapipe (a Vulkan driver running on the CPU) and the Vulkan loader, so the vulkan
# driver is tested for real.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "kiln needs a Rust toolchain (cargo); install it with rustup first." >&2
  exit 1
fi
if [ ! -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    echo "note: install mesa-vulkan-drivers and libvulkan1 to test the vulkan driver" >&2
  fi
fi
