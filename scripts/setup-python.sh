#!/usr/bin/env bash
# Creates .venv with the kiln Python package built from this checkout (maturin) and the
# packages its tests use (onnx for its backend node tests, tests/onnx_node).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "maturin>=1.5,<2" "numpy>=1.21" "ml_dtypes>=0.4" pytest "onnx==1.23.2"
.venv/bin/python -m pip install --quiet --force-reinstall --no-deps ./bindings/python
