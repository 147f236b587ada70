#!/usr/bin/env bash
# Sets up, builds the tools, compiles the bundled example model (an MLP, ONNX) for the vmvx
# target and runs it on the local-task device, checking the result against ONNX Runtime's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p kiln-tools --quiet
bin=target/release
model=tests/models/mlp
mkdir -p out
$bin/kiln-compile $model/model.onnx --iree-hal-target-backends=vmvx -o out/mlp.kiln
$bin/kiln-dump-module out/mlp.kiln
$bin/kiln-run-module --device=local-task --module=out/mlp.kiln --function=main \
  --input=@$model/input_0.npy --expected_output=@$model/expected_0.npy
