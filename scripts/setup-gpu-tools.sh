#!/usr/bin/env bash
# Installs NVIDIA's ptxas (PyPI wheel nvidia-cuda-nvcc-cu12, which runs without a GPU) into
# .venv, so the tests can check that the PTX the cuda target writes assembles; prints its path.
# (LLVM 22's ld.lld and llvm-readelf, for the rocm target, come with scripts/setup.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet "nvidia-cuda-nvcc-cu12==12.9.86"
ptxas=$(.venv/bin/python -c 'import nvidia.cuda_nvcc, os; print(os.path.join(list(nvidia.cuda_nvcc.__path__)[0], "bin", "ptxas"))')
"$ptxas" --version >/dev/null
echo "$ptxas"
