"""kiln vs ONNX Runtime vs NumPy, side by side in one run.

Builds its ONNX models (square matmuls, relu(a*b+c) on 16M floats, and from bench/models.py a
ResNet-style CNN on 1x3x224x224 and a BERT-style encoder at sequence 128, hidden 256) and uses
the golden MLP under tests/models; runs each with kiln (every target this build has, on
local-sync for 1 thread and local-task for 2), ONNX Runtime (intra-op threads 1 and 2) and,
where it applies, NumPy, taking them in turn over several rounds; prints medians and kiln's
speed relative to ONNX Runtime. Then the CNN and an encoder with their dims left open
(`--kiln-dynamic-dims`) against static builds of the same models (bench/dynamic.py).

    .venv/bin/python bench/compare.py [--quick]

Needs: the kiln package (scripts/setup-python.sh), numpy, onnx, onnxruntime.
"""

import argparse
import os

# The 1-thread NumPy column must be one thread: OpenBLAS reads this when NumPy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

import kiln.compiler as kc
import kiln.runtime as kr
import models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_seconds(fn, min_time=0.3, reps=5, warmup=8):
    # Warm-up: first runs fill caches, page in weights and start local-task's workers.
    start = time.perf_counter()
    for _ in range(warmup):
        fn()
        if time.perf_counter() - start > 3.0:
            break
    times = []
    for _ in range(reps):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time / reps:
                break
        times.append(elapsed / n)
    return statistics.median(times)


def interleaved_medians(fns, rounds=7):
    """Each function's median seconds per call over `rounds` rounds that take every function
    in turn, so a slow spell of a shared machine costs each function a round rather than
    landing on whichever ran during it. A round's figure is itself a median
    (`median_seconds`, 0.1 s)."""
    for fn in fns:
        median_seconds(fn, min_time=0.0, reps=1)
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, t in zip(fns, times):
            t.append(median_seconds(fn, min_time=0.1, reps=3, warmup=0))
    return [statistics.median(t) for t in times]


def matmul_model(n):
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])
    g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"], name="mm")], "mm", [a, b], [c])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def fma_relu_model(n):
    ins = [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n]) for x in "abc"]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])
    nodes = [
        helper.make_node("Mul", ["a", "b"], ["ab"], name="mul"),
        helper.make_node("Add", ["ab", "c"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu"),
    ]
    g = helper.make_graph(nodes, "fma_relu", ins, [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def ort_session(blob, threads):
    """An ONNX Runtime CPU session of model bytes `blob` on `threads` intra-op threads."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    # Idle ORT workers spin by default and would steal cores from whatever runs next.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(blob, so, providers=["CPUExecutionProvider"])


def golden(name):
    d = os.path.join(ROOT, "tests", "models", name)
    files = sorted((f for f in os.listdir(d) if f.startswith("input_")), key=lambda f: int(f[6:-4]))
    return onnx.load(os.path.join(d, "model.onnx")), [np.load(os.path.join(d, f)) for f in files]


# The network models: name -> () -> (model, inputs).
NETWORKS = {
    "mlp": lambda: golden("mlp"),
    "cnn": lambda: models.resnet()[:2],
    "encoder": lambda: models.encoder()[:2],
}


def peak_rss(runtime, name, runs=50):
    """Peak resident memory (MiB) of a fresh process that loads network `name` with
    `runtime` ("onnxruntime" or a kiln target) and runs it `runs` times on one thread.

    kiln compiles ahead of time: this process compiles the module to a file, and the measured
    process only loads (maps) that file and runs it, as a deployment does. ONNX Runtime's
    process creates its session from the model, which is how it deploys."""
    module_path = None
    if runtime != "onnxruntime":
        module_path = os.path.join(tempfile.mkdtemp(prefix="kiln-bench-"), f"{name}.kiln")
        with open(module_path, "wb") as f:
            f.write(kc.compile_str(NETWORKS[name]()[0].SerializeToString(), target_backends=[runtime]))
    script = f"""
import sys
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import compare
model, inputs = compare.NETWORKS[{name!r}]()
if {runtime!r} == "onnxruntime":
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feeds = {{i.name: v for i, v in zip(sess.get_inputs(), inputs)}}
    run = lambda: sess.run(None, feeds)
else:
    import kiln.runtime as kr
    m = kr.load_module({module_path!r}, device="local-sync")
    run = lambda: m.main(*inputs)
for _ in range({runs}):
    run()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    if module_path:
        shutil.rmtree(os.path.dirname(module_path))
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer, smaller cases")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cases = []
    for n in [256, 512] if args.quick else [256, 512, 1024, 2048]:
        x = [rng.standard_normal((n, n), dtype=np.float32) for _ in range(2)]
        cases.append((f"matmul {n}^3", matmul_model(n), x, lambda a, b: a @ b))
    m = 1 << (20 if args.quick else 24)
    x = [rng.standard_normal(m, dtype=np.float32) for _ in range(3)]
    cases.append((f"relu(a*b+c) {m >> 20}M", fma_relu_model(m), x, lambda a, b, c: np.maximum(a * b + c, 0)))
    for name, build in NETWORKS.items():
        model, inputs = build()
        cases.append((name, model, inputs, None))

    # The CPU targets: what local-sync (1 thread) and local-task (2 threads) run.
    targets = [t for t in kc.query_available_targets() if t in ("llvm-cpu", "vmvx")]
    print(f"# {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"onnxruntime {ort.__version__}, numpy {np.__version__}; kiln targets: {', '.join(targets)}")
    header = f"| case | threads | onnxruntime | numpy | " + " | ".join(f"kiln {t}" for t in targets) + " | " + " | ".join(f"{t} vs ORT" for t in targets) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    ms = lambda s: f"{s * 1e3:.3f} ms"
    # Every runtime of every case, at both thread counts, takes its turn in each round: a
    # slow spell of the shared machine (seconds of contention on the second vCPU) then costs
    # each case one round's figure rather than all of them, and the 2-thread speed-ups compare
    # figures taken under the same conditions.
    runners = {}
    for label, model, inputs, reference in cases:
        blob = model.SerializeToString()
        for threads in (1, 2):
            sess = ort_session(blob, threads)
            feeds = {i.name: v for i, v in zip(sess.get_inputs(), inputs)}
            runners[(label, "ort", threads)] = lambda sess=sess, feeds=feeds: sess.run(None, feeds)
            if reference and threads == 1:
                runners[(label, "numpy", threads)] = lambda reference=reference, inputs=inputs: reference(*inputs)
            for t in targets:
                module = kr.load_module(kc.compile_str(blob, target_backends=[t]), device="local-sync" if threads == 1 else "local-task")
                runners[(label, t, threads)] = lambda module=module, inputs=inputs: module.main(*inputs)
    medians = dict(zip(runners, interleaved_medians(list(runners.values()))))
    del runners
    for label, _, _, _ in cases:
        for threads in (1, 2):
            t_ort = medians[(label, "ort", threads)]
            t_np = medians.get((label, "numpy", threads))
            kiln_times = [medians[(label, t, threads)] for t in targets]
            ratios = " | ".join(f"{t_ort / k:.2f}x" for k in kiln_times)
            print(f"| {label} | {threads} | {ms(t_ort)} | {ms(t_np) if t_np else '-'} | " + " | ".join(ms(k) for k in kiln_times) + f" | {ratios} |")
    sys.stdout.flush()

    print()
    import dynamic

    dynamic.print_table(dynamic.measure(targets, rounds=3 if args.quick else 7))
    sys.stdout.flush()

    print()
    print("| model | " + " | ".join(f"compile {t}" for t in targets) + " |")
    print("|" + "---|" * (len(targets) + 1))
    for name, build in NETWORKS.items():
        blob = build()[0].SerializeToString()
        times = []
        for t in targets:
            def build():
                kc.compile_str(blob, target_backends=[t])
            times.append(median_seconds(build, min_time=0.0, reps=3, warmup=1))
        print(f"| {name} | " + " | ".join(f"{x * 1e3:.0f} ms" for x in times) + " |")

    print()
    runtimes = ["onnxruntime"] + targets
    print("| model (peak RSS, one process each) | " + " | ".join(runtimes) + " | " + " | ".join(f"{t} vs ORT" for t in targets) + " |")
    print("|" + "---|" * (2 * len(runtimes)))
    for name in NETWORKS:
        rss = [peak_rss(r, name) for r in runtimes]
        print(f"| {name} | " + " | ".join(f"{x:.1f} MiB" for x in rss) + " | " + " | ".join(f"{x / rss[0]:.2f}x" for x in rss[1:]) + " |")


if __name__ == "__main__":
    main()
