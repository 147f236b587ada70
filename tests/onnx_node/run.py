"""ONNX's own backend node tests, run through kiln on each target backend.

Every plain node case of the pinned onnx wheel (`onnx.backend.test.loader.load_model_tests(
kind="node")`, built in memory, `_expanded` function-body variants left out) is compiled with
kiln for a target and run on its device, and its outputs are compared as onnx's backend runner
compares them: `numpy.testing.assert_allclose` with the case's rtol/atol for floats, exactly
for integers and booleans.

    .venv/bin/python tests/onnx_node/run.py [--targets llvm-cpu,vmvx,vulkan-spirv,webgpu-spirv]
                                            [--coverage docs/onnx-coverage.md]
                                            [--check] [--update]

`--check` fails (exit 1) when a case listed in `tests/onnx_node/passing-<target>.txt` does not
pass; `--update` rewrites those lists with what passes now; `--coverage` writes the per-op
table. Needs the kiln package and `onnx` (tests/models/requirements.txt pins the version).
"""

import argparse
import collections
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Each target runs on the device its users would pick.
DEVICES = {
    "llvm-cpu": "local-sync",
    "vmvx": "local-task",
    "vulkan-spirv": "vulkan",
    "webgpu-spirv": "webgpu",
}


def plain_cases():
    import onnx.backend.test.loader as loader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = loader.load_model_tests(kind="node")
    return sorted((c for c in cases if "_expanded" not in c.name), key=lambda c: c.name)


def op_types(case):
    return sorted({n.op_type for n in case.model.graph.node}) or ["(none)"]


def reason_of(message):
    """The first line of an error, shortened to a reason that groups like failures."""
    line = str(message).strip().splitlines()[0] if str(message).strip() else "error"
    return line[:160]


def compare(got, want, rtol, atol):
    got = np.asarray(got)
    if got.shape != want.shape:
        raise AssertionError(f"shape {list(got.shape)}, expected {list(want.shape)}")
    if want.dtype.name.startswith(("bfloat16", "float8", "float4", "int4", "uint4", "int2", "uint2")):
        if got.dtype != want.dtype:
            raise AssertionError(f"element type {got.dtype}, expected {want.dtype}")
        wide = np.float32
        np.testing.assert_allclose(got.astype(wide), want.astype(wide), rtol=rtol, atol=atol)
    elif want.dtype.kind in "fc":
        np.testing.assert_allclose(got.astype(want.dtype), want, rtol=rtol, atol=atol)
    else:
        if got.dtype != want.dtype:
            raise AssertionError(f"element type {got.dtype}, expected {want.dtype}")
        np.testing.assert_array_equal(got, want)


# TensorProto element types kiln's Python API takes and returns as NumPy arrays (bfloat16,
# float8, float4, int4 and int2 through ml_dtypes), which a case may store its data as
# instead of arrays.
NUMPY_TENSOR_TYPES = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, *range(16, 27)}


def as_numpy(a):
    """A case's input or output as a NumPy array; None when NumPy cannot hold its type."""
    from onnx import TensorProto, numpy_helper

    if not isinstance(a, TensorProto):
        return a
    if a.data_type not in NUMPY_TENSOR_TYPES:
        return None
    return numpy_helper.to_array(a)


def run_case(case, target, device):
    """'pass', or ('unsupported' | 'fail', reason)."""
    import kiln.compiler as kc
    import kiln.runtime as kr

    from onnx import TensorProto

    data_sets = [
        ([as_numpy(a) for a in ins], [as_numpy(a) for a in outs]) for ins, outs in case.data_sets
    ]
    if any(a is None for ins, outs in data_sets for a in (*ins, *outs)):
        return ("unsupported", "the case's data has an element type NumPy cannot hold (bfloat16, float8, ...)")
    try:
        blob = kc.compile_str(case.model.SerializeToString(), target_backends=[target])
    except kc.CompilerError as e:
        return ("unsupported", reason_of(e))
    try:
        module = kr.load_module(blob, device=device)
        for inputs, outputs in data_sets:
            got = module.main(*inputs)
            got = got if isinstance(got, tuple) else (got,)
            if len(got) != len(outputs):
                return ("fail", f"{len(got)} outputs, expected {len(outputs)}")
            for g, w in zip(got, outputs):
                compare(g, np.asarray(w), case.rtol, case.atol)
    except AssertionError as e:
        return ("fail", "wrong values: " + reason_of(e).strip())
    except Exception as e:  # noqa: BLE001 - every runtime error is a case's result
        if "which NumPy cannot hold" in str(e):
            return ("unsupported", "an input or output of bfloat16, which NumPy cannot hold")
        return ("fail", reason_of(e))
    return "pass"


def passing_path(target):
    return os.path.join(HERE, f"passing-{target}.txt")


def read_passing(target):
    try:
        with open(passing_path(target)) as f:
            return {l.strip() for l in f if l.strip() and not l.startswith("#")}
    except FileNotFoundError:
        return set()


def write_coverage(path, cases, results, targets, onnx_version):
    by_op = collections.defaultdict(list)
    for case in cases:
        by_op[", ".join(op_types(case))].append(case.name)
    totals = {t: sum(results[t][c.name] == "pass" for c in cases) for t in targets}
    lines = [
        "# ONNX node-test coverage",
        "",
        f"Made by `tests/onnx_node/run.py` from onnx {onnx_version}'s {len(cases)} plain backend node",
        "cases (`_expanded` variants left out). Each target runs on its usual device:",
        ", ".join(f"{t} on {DEVICES[t]}" for t in targets) + ".",
        "",
        "| target | passing |",
        "|---|---|",
    ]
    lines += [f"| {t} | {totals[t]} of {len(cases)} |" for t in targets]
    lines += ["", "## By op", ""]
    lines.append("| op | cases | " + " | ".join(targets) + " |")
    lines.append("|---|---|" + "---|" * len(targets))
    for op in sorted(by_op):
        names = by_op[op]
        cells = [f"{sum(results[t][n] == 'pass' for n in names)}/{len(names)}" for t in targets]
        lines.append(f"| {op} | {len(names)} | " + " | ".join(cells) + " |")
    lines += ["", "## Why cases do not pass", ""]
    for t in targets:
        reasons = collections.Counter()
        for c in cases:
            r = results[t][c.name]
            if r != "pass":
                reasons[f"{r[0]}: {r[1]}"] += 1
        lines += [f"### {t}", "", "| cases | reason |", "|---|---|"]
        lines += [f"| {n} | {reason.replace('|', '/')} |" for reason, n in reasons.most_common()]
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default="llvm-cpu", help="comma-separated target backends")
    ap.add_argument("--coverage", help="write the per-op table to this file")
    ap.add_argument("--check", action="store_true", help="fail if a listed passing case fails")
    ap.add_argument("--update", action="store_true", help="rewrite the passing lists")
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    args = ap.parse_args()
    import onnx

    targets = [t for t in args.targets.split(",") if t]
    cases = [c for c in plain_cases() if args.filter in c.name]
    results = {t: {} for t in targets}
    regressions = []
    for t in targets:
        start = time.perf_counter()
        listed = read_passing(t)
        for case in cases:
            results[t][case.name] = run_case(case, t, DEVICES[t])
            if case.name in listed and results[t][case.name] != "pass":
                regressions.append((t, case.name, results[t][case.name]))
        passed = sum(r == "pass" for r in results[t].values())
        print(f"{t}: {passed} of {len(cases)} pass ({time.perf_counter() - start:.0f} s)")
        if args.update:
            with open(passing_path(t), "w") as f:
                f.write(f"# ONNX node cases that pass on {t} ({DEVICES[t]}); "
                        "tests/onnx_node/run.py --check enforces them.\n")
                f.writelines(f"{n}\n" for n in sorted(n for n, r in results[t].items() if r == "pass"))
    if args.coverage:
        write_coverage(args.coverage, cases, results, targets, onnx.__version__)
    for t, name, result in regressions:
        print(f"REGRESSION on {t}: {name}: {result[0]}: {result[1]}")
    if args.check and regressions:
        sys.exit(1)


if __name__ == "__main__":
    main()
