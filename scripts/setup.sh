#!/usr/bin/env bash
# Installs what kiln needs on a fresh Debian machine with a Rust toolchain, idempotently:
# Mesa's lavapipe (a Vulkan driver running on the CPU), the Vulkan loader and the Khronos
# validation layer, so the vulkan driver is tested for real; and spirv-tools, whose spirv-val
# checks every shader the vulkan-spirv target writes; and LLVM 22, which the llvm-cpu target
# compiles with (linked dynamically).
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "kiln needs a Rust toolchain (cargo); install it with rustup first." >&2
  exit 1
fi
missing=()
missing_lean=()
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || missing+=(mesa-vulkan-drivers)
ldconfig -p | grep -q 'libvulkan.so.1 ' || missing+=(libvulkan1)
[ -e /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ] || missing+=(vulkan-validationlayers)
command -v spirv-val >/dev/null 2>&1 || missing+=(spirv-tools)
command -v llvm-config-22 >/dev/null 2>&1 || missing+=(llvm-22-dev libpolly-22-dev lld-22 libzstd-dev zlib1g-dev)
# QEMU runs the bare-metal firmware example (scripts/firmware.sh) on an emulated Cortex-M4F.
command -v qemu-system-arm >/dev/null 2>&1 || missing_lean+=(qemu-system-arm)
if [ $((${#missing[@]} + ${#missing_lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ${#missing_lean[@]} -gt 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing_lean[@]}" >/dev/null
    fi
  else
    echo "kiln needs ${missing[*]} ${missing_lean[*]} (apt) to build and test; run this as root to install them" >&2
    exit 1
  fi
fi
