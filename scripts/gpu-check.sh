#!/usr/bin/env bash
# The checks of the cuda target and driver that need an NVIDIA GPU, in two steps, because the
# GPU machine has no Rust toolchain, no LLVM and no package registry:
#
#   bash scripts/gpu-check.sh prepare   # here: release tools, every golden model, f16 and
#                                       # bf16 matmuls and convolutions with NumPy's results
#                                       # (scripts/gpu_check_models.py), ONNX's node tests,
#                                       # the HAL conformance suite and three 4096^3
#                                       # matmuls (f32, f16, bf16) compiled for cuda, into
#                                       # out/gpu-check (carry that folder to the GPU machine)
#   bash scripts/gpu-check.sh run       # there: lists the cuda devices, runs every golden
#                                       # model (and a module for llvm-cpu,cuda) on --device=cuda
#                                       # against ONNX Runtime's outputs
#                                       # and the f16/bf16 models against NumPy's, the HAL
#                                       # conformance suite and the node tests (each case as
#                                       # tests/onnx_node/run.py compares it; the count, and
#                                       # every case that passes on vulkan-spirv but not here),
#                                       # the golden models compiled for vulkan-spirv on the
#                                       # GPU's Vulkan driver (the loader carried as a .deb),
#                                       # and times the matmuls against cuBLAS (through
#                                       # PyTorch, where installed), printing ratios
#
# `run` on a machine without the NVIDIA driver prints that it skipped and exits 0. The HAL
# conformance suite's test binary (kiln-hal-gpu's tests/conformance.rs) needs no LLVM, and the
# node tests there need only Python and NumPy.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=out/gpu-check
arch=${KILN_CUDA_TARGET:-sm_90}
n=4096

prepare() {
  bash scripts/setup.sh
  cargo build --release --quiet -p kiln-tools
  rm -rf "$dir"
  mkdir -p "$dir/models"
  # Compressed: what travels to the GPU machine must stay under the device tool's 64 MiB.
  for tool in kiln-run-module kiln-benchmark-module; do
    gzip -9 -c "target/release/$tool" >"$dir/$tool.gz"
  done
  for model in tests/models/*/; do
    name=$(basename "$model")
    [ -f "$model/expected_0.npy" ] || continue
    target/release/kiln-compile "$model/model.onnx" --iree-hal-target-backends=cuda \
      --iree-cuda-target="$arch" -o "$dir/models/$name.kiln"
  done
  # The same models for vulkan-spirv, and the Vulkan loader (which the GPU machine lacks) as
  # a Debian package to unpack there: the vulkan driver on the NVIDIA GPU.
  mkdir -p "$dir/vulkan" "$dir/gl"
  for model in tests/models/*/; do
    name=$(basename "$model")
    [ -f "$model/expected_0.npy" ] || continue
    target/release/kiln-compile "$model/model.onnx" --iree-hal-target-backends=vulkan-spirv \
      -o "$dir/vulkan/$name.kiln"
  done
  (cd "$dir/gl" && apt-get download libvulkan1 >/dev/null 2>&1) ||
    echo "gpu-check: could not download libvulkan1; the vulkan checks will be skipped"
  # One module for two targets, which a cuda device runs through its cuda variant.
  target/release/kiln-compile tests/models/mlp/model.onnx \
    --iree-hal-target-backends=llvm-cpu,cuda --iree-cuda-target="$arch" -o "$dir/mlp_cpu_cuda.kiln"
  # Matmuls and convolutions of f16 and bf16 operands, which run on the tensor cores.
  bash scripts/setup-python.sh
  .venv/bin/python scripts/gpu_check_models.py "$dir/narrow"
  for model in "$dir"/narrow/*/; do
    target/release/kiln-compile "$model/model.onnx" --iree-hal-target-backends=cuda \
      --iree-cuda-target="$arch" -o "$model/module.kiln"
  done
  for t in f32 f16 bf16; do
    cat >"$dir/matmul_$t.kir" <<EOF
func @main(%0 "a": tensor<${n}x${n}x$t>, %1 "b": tensor<${n}x${n}x$t>) -> (%2 "c") {
  %2 = matmul %0, %1 : tensor<${n}x${n}x$t> loc("matmul")
}
EOF
    target/release/kiln-compile "$dir/matmul_$t.kir" --iree-hal-target-backends=cuda \
      --iree-cuda-target="$arch" -o "$dir/matmul_$t.kiln"
  done
  target/release/kiln-compile "$dir/matmul_f32.kir" --iree-hal-target-backends=vulkan-spirv \
    -o "$dir/vulkan/matmul_f32.kiln"
  # ONNX's node tests, compiled for cuda with their data (about 8 MB packed).
  .venv/bin/python tests/onnx_node/run.py --prepare "$dir/onnx_node" --targets cuda \
    --cuda-target "$arch"
  tar -C "$dir" -czf "$dir/onnx_node.tar.gz" onnx_node
  rm -rf "$dir/onnx_node"
  # The HAL conformance suite and its `out = a + b` fixture (PTX for sm_70 runs on any).
  cat >"$dir/cts_add.kir" <<EOF
func @main(%0 "a": tensor<64xf32>, %1 "b": tensor<64xf32>) -> (%2 "out") {
  %2 = add %0, %1 : tensor<64xf32> loc("add")
}
EOF
  target/release/kiln-compile "$dir/cts_add.kir" --iree-hal-target-backends=cuda \
    --iree-cuda-target=sm_70 -o "$dir/cts_add.kiln"
  cts=$(cargo test --quiet -p kiln-hal-gpu --test conformance --no-run --message-format=json |
    grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d'"' -f4)
  cp "$cts" "$dir/cuda-conformance"
  strip --strip-debug "$dir/cuda-conformance" 2>/dev/null || true
  echo "gpu-check: prepared $(($(ls "$dir/models" | wc -l) + $(ls "$dir/narrow" | wc -l))) models for $arch in $dir"
}

# Runs MODULE on DEVICE with the inputs and expected outputs in folder DATA and any further
# flags, its output into LOG; fails as kiln-run-module does.
check() {
  local device=$1 module=$2 data=$3 log=$4 args=() f
  shift 4
  for f in $(ls -v "$data"/input_*.npy); do args+=("--input=@$f"); done
  for f in $(ls -v "$data"/expected_*.npy); do args+=("--expected_output=@$f"); done
  timeout 120 "$bin/kiln-run-module" --device="$device" --module="$module" "${args[@]}" "$@" \
    >"$log" 2>&1
}

# The golden models among the modules in FOLDER on DEVICE: prints each failure and the
# count, and adds the failures to `failed`.
golden() {
  local device=$1 folder=$2 ok=0 bad=0 module name
  for module in "$folder"/*.kiln; do
    name=$(basename "$module" .kiln)
    [ -d "tests/models/$name" ] || continue
    if check "$device" "$module" "tests/models/$name" "$dir/${device}_$name.log"; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
      echo "gpu-check: $name on $device FAILED: $(tail -n 3 "$dir/${device}_$name.log")"
    fi
  done
  echo "gpu-check: golden models on $device: $ok passed, $bad failed"
  failed=$((failed + bad))
}

# The golden models compiled for vulkan-spirv on the GPU's Vulkan driver, when the loader
# unpacks and a Vulkan device other than a CPU one is found.
vulkan() {
  local debs=("$dir"/gl/*.deb)
  [ -f "${debs[0]}" ] || { echo "gpu-check: vulkan: skipped (no loader package)"; return; }
  for f in "${debs[@]}"; do
    dpkg -x "$f" / 2>/dev/null || { echo "gpu-check: vulkan: skipped (cannot unpack $f)"; return; }
  done
  ldconfig 2>/dev/null || true
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
  "$bin/kiln-run-module" --dump_devices=vulkan >"$dir/vulkan_devices.log" 2>&1 || true
  if ! grep -qi nvidia "$dir/vulkan_devices.log"; then
    echo "gpu-check: vulkan: skipped (no NVIDIA Vulkan device: $(head -n 3 "$dir/vulkan_devices.log"))"
    return
  fi
  echo "gpu-check: vulkan device: $(grep -m1 -io 'nvidia[^,]*' "$dir/vulkan_devices.log" | head -n 1)"
  golden vulkan "$dir/vulkan"
  local out
  out=$(timeout 120 "$bin/kiln-benchmark-module" --device=vulkan --module="$dir/vulkan/matmul_f32.kiln" \
    --input="${n}x${n}xf32=1" --input="${n}x${n}xf32=1" --benchmark_min_time=1 2>&1) || {
    echo "gpu-check: vulkan matmul FAILED: $(echo "$out" | tail -n 3)"
    return
  }
  echo "gpu-check: vulkan matmul ${n}^3 f32: median $(echo "$out" | awk '/_median/ {print $2, $3}')"
}

run() {
  [ -f "$dir/kiln-run-module.gz" ] || { echo "gpu-check: run 'prepare' first" >&2; exit 1; }
  bin=$(mktemp -d)
  for tool in kiln-run-module kiln-benchmark-module; do
    gunzip -c "$dir/$tool.gz" >"$bin/$tool"
    chmod +x "$bin/$tool"
  done
  devices=$("$bin/kiln-run-module" --list_devices=cuda)
  if [ -z "$devices" ]; then
    echo "gpu-check: skipped: no NVIDIA GPU here"
    "$bin/kiln-run-module" --dump_devices=cuda | grep failed || true
    exit 0
  fi
  "$bin/kiln-run-module" --dump_devices=cuda
  failed=0
  golden cuda "$dir/models"
  if check cuda "$dir/mlp_cpu_cuda.kiln" tests/models/mlp "$dir/mlp_cpu_cuda.log"; then
    echo "gpu-check: a module for llvm-cpu,cuda on cuda: passed"
  else
    failed=$((failed + 1))
    echo "gpu-check: a module for llvm-cpu,cuda on cuda FAILED: $(tail -n 3 "$dir/mlp_cpu_cuda.log")"
  fi
  if KILN_REQUIRE_CUDA=1 KILN_CTS_CUDA_MODULE="$dir/cts_add.kiln" "$dir/cuda-conformance" \
    cuda:: >"$dir/conformance.log" 2>&1; then
    echo "gpu-check: HAL conformance on cuda: $(grep 'test result' "$dir/conformance.log")"
  else
    failed=$((failed + 1))
    echo "gpu-check: HAL conformance on cuda FAILED: $(grep -E 'panicked|FAILED' "$dir/conformance.log" | head -n 5)"
  fi
  # Within two rounding steps of the narrow type at the outputs' magnitude.
  for model in "$dir"/narrow/*/; do
    name=$(basename "$model")
    threshold=$(cat "$model/threshold.txt")
    if check cuda "$model/module.kiln" "$model" "$dir/$name.log" \
      --expected_f32_threshold="$threshold"; then
      echo "gpu-check: $name on cuda: passed"
    else
      failed=$((failed + 1))
      echo "gpu-check: $name FAILED: $(tail -n 3 "$dir/$name.log")"
    fi
  done
  vulkan
  tar -C "$dir" -xzf "$dir/onnx_node.tar.gz"
  python3 tests/onnx_node/run.py --run-prepared "$dir/onnx_node" --device cuda \
    --tool "$bin/kiln-run-module" >"$dir/onnx_node.log" 2>&1 || true
  echo "gpu-check: ONNX node tests: $(head -n 1 "$dir/onnx_node.log")"
  flops=$((2 * n * n * n))
  for t in f32 f16 bf16; do
    out=$(timeout 120 "$bin/kiln-benchmark-module" --device=cuda --module="$dir/matmul_$t.kiln" \
      --input="${n}x${n}x$t=1" --input="${n}x${n}x$t=1" --benchmark_min_time=1 2>&1) || {
      echo "gpu-check: matmul ${n}^3 $t FAILED: $(echo "$out" | tail -n 3)"
      failed=$((failed + 1))
      continue
    }
    median=$(echo "$out" | awk '/_median/ {print $2, $3}')
    seconds=$(echo "$median" | awk '{ v = $1; u = $2; s = (u == "ms") ? v / 1e3 : (u == "us") ? v / 1e6 : (u == "s") ? v : v / 1e9; print s }')
    kiln=$(awk -v f="$flops" -v s="$seconds" 'BEGIN { printf "%.1f", f / s / 1e12 }')
    cublas=$(python3 - "$t" "$n" <<'EOF' 2>/dev/null || echo "n/a"
import sys, time
import torch
t, n = sys.argv[1], int(sys.argv[2])
torch.backends.cuda.matmul.allow_tf32 = False
dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[t]
a = torch.ones(n, n, dtype=dtype, device="cuda")
b = torch.ones(n, n, dtype=dtype, device="cuda")
for _ in range(3):
    a @ b
torch.cuda.synchronize()
reps, start = 20, time.perf_counter()
for _ in range(reps):
    a @ b
torch.cuda.synchronize()
print(f"{2 * n ** 3 / ((time.perf_counter() - start) / reps) / 1e12:.1f}")
EOF
)
    ratio=$(awk -v k="$kiln" -v c="$cublas" 'BEGIN { if (c + 0 > 0) printf "%.2fx", k / c; else print "n/a" }')
    echo "gpu-check: matmul ${n}^3 $t: kiln $kiln TFLOP/s (median $median), cuBLAS $cublas TFLOP/s, kiln/cuBLAS $ratio"
  done
  [ "$failed" -eq 0 ]
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
