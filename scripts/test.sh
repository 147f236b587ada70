#!/usr/bin/env bash
# Sets up and runs every test: unit, golden-model, bad-input and doc tests, then clippy and
# rustfmt checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
