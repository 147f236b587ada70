"""Per-call overhead of kiln's Python API over its Rust API, on a tiny model.

Runs both in one process run: the Rust side is `kiln-benchmark-module` (which times
`LoadedModule::invoke`, the Rust API) on the same module and inputs; the Python side times
`module.main(x)`. Prints both medians and the difference.

    python3 bench/python_overhead.py [path/to/kiln-benchmark-module]
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import kiln.compiler as kc
import kiln.runtime as kr

TINY = """
func @main(%0 "x": tensor<4xf32>) -> (%1 "y") {
  %1 = relu %0 : tensor<4xf32> loc("relu")
}
"""


def rust_median_us(tool, module_path, device):
    out = subprocess.run(
        [tool, f"--module={module_path}", f"--device={device}", "--input=4xf32=1 -2 3 -4", "--benchmark_repetitions=5"],
        check=True, capture_output=True, text=True,
    ).stdout
    line = next(l for l in out.splitlines() if "_median" in l)
    value, unit = re.search(r"([\d.]+) (us|ms)", line).groups()
    return float(value) * (1000.0 if unit == "ms" else 1.0)


def python_median_us(module, x, reps=5, calls=2000):
    for _ in range(100):
        module.main(x)
    per_call = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(calls):
            module.main(x)
        per_call.append((time.perf_counter() - t) / calls * 1e6)
    return statistics.median(per_call)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target", "release", "kiln-benchmark-module")
    x = np.array([1, -2, 3, -4], np.float32)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tiny.kiln")
        kc.compile_str(TINY, target_backends=["vmvx"], output_file=path)
        print(f"{'device':<12} {'rust us/call':>14} {'python us/call':>16} {'overhead us':>12}")
        for device in ["local-sync", "local-task"]:
            rust = rust_median_us(tool, path, device)
            py = python_median_us(kr.load_module(path, device=device), x)
            print(f"{device:<12} {rust:>14.2f} {py:>16.2f} {py - rust:>12.2f}")


if __name__ == "__main__":
    main()
