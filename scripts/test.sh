#!/usr/bin/env bash
# Sets up and runs every test: Rust unit, golden-model, bad-input and doc tests, clippy and
# rustfmt checks, then builds the Python wheel into a virtual environment and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
bash scripts/setup-python.sh
.venv/bin/python -m pytest -q bindings/python/tests
