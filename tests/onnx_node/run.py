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

For a machine without the compiler (a GPU machine, `scripts/gpu-check.sh`), the work splits:

    .venv/bin/python tests/onnx_node/run.py --prepare DIR --targets cuda [--cuda-target sm_90]
    python3 tests/onnx_node/run.py --run-prepared DIR --device cuda --tool PATH/kiln-run-module

`--prepare` compiles every case into `DIR/<case>/module.kiln` with its data as `.npy` files and
`DIR/cases.json`; `--run-prepared` runs each with `kiln-run-module` (NumPy alone is needed
there), compares as above, and prints the count and every case that passes on vulkan-spirv
but not here.
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


# Element types NumPy holds only through ml_dtypes, whose .npy files other readers cannot read.
NARROW_NAMES = ("bfloat16", "float8", "float4", "int4", "uint4", "int2", "uint2")


def compare(got, want, rtol, atol):
    got = np.asarray(got)
    if got.shape != want.shape:
        raise AssertionError(f"shape {list(got.shape)}, expected {list(want.shape)}")
    if want.dtype.name.startswith(NARROW_NAMES):
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


def numpy_data_sets(case):
    """The case's (inputs, outputs) pairs as NumPy arrays (None where NumPy cannot hold one)."""
    return [([as_numpy(a) for a in ins], [as_numpy(a) for a in outs]) for ins, outs in case.data_sets]


def run_case(case, target, device):
    """'pass', or ('unsupported' | 'fail', reason)."""
    import kiln.compiler as kc
    import kiln.runtime as kr

    from onnx import TensorProto

    data_sets = numpy_data_sets(case)
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


def prepare(cases, target, extra_args, out):
    """Compiles every case for `target` into `out`; writes `out/cases.json`."""
    import json

    import kiln.compiler as kc

    records = []
    for case in cases:
        record = {"name": case.name, "rtol": case.rtol, "atol": case.atol}
        data_sets = numpy_data_sets(case)
        d = os.path.join(out, case.name)
        values = [a for ins, outs in data_sets for a in (*ins, *outs)]
        arrays = [np.asarray(a) for a in values if isinstance(a, (np.ndarray, np.generic))]
        if any(a is None for a in values):
            record["unsupported"] = "the case's data has an element type NumPy cannot hold"
        elif len(arrays) < len(values):
            record["unsupported"] = "kiln-run-module takes tensors only (the case has sequences)"
        elif any(a.dtype.kind == "V" or a.dtype.name.startswith(NARROW_NAMES) for a in arrays):
            record["unsupported"] = "kiln-run-module reads no .npy of bfloat16, float8, float4, int4 or int2"
        else:
            try:
                blob = kc.compile_str(
                    case.model.SerializeToString(), target_backends=[target], extra_args=extra_args
                )
            except kc.CompilerError as e:
                record["unsupported"] = reason_of(e)
            else:
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, "module.kiln"), "wb") as f:
                    f.write(blob)
                record["data"] = []
                for k, (ins, outs) in enumerate(data_sets):
                    for kind, values in (("in", ins), ("out", outs)):
                        for i, v in enumerate(values):
                            np.save(os.path.join(d, f"{k}_{kind}_{i}.npy"), np.asarray(v))
                    record["data"].append([len(ins), len(outs)])
        records.append(record)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"target": target, "cases": records}, f)
    compiled = sum("data" in r for r in records)
    print(f"{target}: {compiled} of {len(records)} cases compiled into {out}")


def run_prepared(out, device, tool, jobs):
    """Runs the cases `prepare` wrote on `device` with `tool` (kiln-run-module)."""
    import json
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    with open(os.path.join(out, "cases.json")) as f:
        prepared = json.load(f)

    def run_one(record):
        if "data" not in record:
            return ("unsupported", record["unsupported"])
        d = os.path.join(out, record["name"])
        for k, (n_in, n_out) in enumerate(record["data"]):
            args = [tool, f"--module={d}/module.kiln", f"--device={device}"]
            args += [f"--input=@{d}/{k}_in_{i}.npy" for i in range(n_in)]
            args += [f"--output=@{d}/{k}_got_{i}.npy" for i in range(n_out)]
            try:
                run = subprocess.run(args, capture_output=True, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                return ("fail", "timed out after 120 s")
            if run.returncode != 0:
                return ("fail", reason_of(run.stderr or run.stdout))
            try:
                for i in range(n_out):
                    got = np.load(f"{d}/{k}_got_{i}.npy")
                    want = np.load(f"{d}/{k}_out_{i}.npy")
                    compare(got, want, record["rtol"], record["atol"])
            except AssertionError as e:
                return ("fail", "wrong values: " + reason_of(e).strip())
            except Exception as e:  # noqa: BLE001 - an unreadable result is the case's failure
                return ("fail", reason_of(e))
        return "pass"

    start = time.perf_counter()
    records = prepared["cases"]
    with ThreadPoolExecutor(jobs) as pool:
        results = dict(zip((r["name"] for r in records), pool.map(run_one, records)))
    passed = sorted(n for n, r in results.items() if r == "pass")
    print(f"{prepared['target']} on {device}: {len(passed)} of {len(records)} pass "
          f"({time.perf_counter() - start:.0f} s)")
    reasons = collections.Counter(f"{r[0]}: {r[1]}" for r in results.values() if r != "pass")
    for reason, n in reasons.most_common(15):
        print(f"  {n:4} {reason}")
    for name in sorted(read_passing("vulkan-spirv")):
        if name in results and results[name] != "pass":
            print(f"passes on vulkan-spirv, not on {device}: {name}: {results[name][0]}: {results[name][1]}")
    with open(os.path.join(out, f"passing-{device}.txt"), "w") as f:
        f.writelines(f"{n}\n" for n in passed)


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
    ap.add_argument("--prepare", metavar="DIR", help="compile every case for the one target into DIR")
    ap.add_argument("--cuda-target", default="", help="--iree-cuda-target for --prepare")
    ap.add_argument("--run-prepared", metavar="DIR", help="run the cases --prepare wrote")
    ap.add_argument("--device", help="the device --run-prepared runs on")
    ap.add_argument("--tool", help="kiln-run-module, for --run-prepared")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel runs")
    args = ap.parse_args()
    if args.run_prepared:
        run_prepared(args.run_prepared, args.device, args.tool, args.jobs)
        return
    import onnx

    targets = [t for t in args.targets.split(",") if t]
    cases = [c for c in plain_cases() if args.filter in c.name]
    if args.prepare:
        extra = [f"--iree-cuda-target={args.cuda_target}"] if args.cuda_target else []
        prepare(cases, targets[0], extra, args.prepare)
        return
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
