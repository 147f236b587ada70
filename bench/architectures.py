"""kiln against ONNX Runtime, OpenVINO and IREE on the benchmark zoo (bench/zoo.py), in one run.

Every model is written to a scratch directory once; then each engine runs it at 1 and at 2
threads, each in a fresh process of its own, so that one engine's threads, caches and memory
never touch another's figures and each process's peak memory is its own:

- kiln: `kiln.compiler` (llvm-cpu, this machine's CPU) writes a module file in a separate
  process first (its compile time and peak memory); the measured process loads that file on
  `local-sync` (1 thread) or `local-task` with 2 workers, as a deployment does.
- ONNX Runtime: a CPU session with `intra_op_num_threads` 1 or 2 (its other settings default,
  spinning included); its session creation is its compile time.
- OpenVINO: `compile_model` on CPU with `INFERENCE_NUM_THREADS`, the latency hint and f32
  precision (as the issue asks; this CPU would otherwise take bf16).
- IREE: `iree-import-onnx` and `iree-compile` (llvm-cpu, `--iree-llvmcpu-target-cpu=host`)
  in a separate process; the measured process runs the `.vmfb` on `local-sync` or on
  `local-task` limited to 2 workers. Models IREE does not compile get its error's first line.

A call's time is the median of 5 rounds of at least 0.4 s each, after a warm-up. Peak memory
is the measured process's high-water mark (VmHWM), interpreter included; compile memory is the
compiling process's (children included).

    .venv/bin/python bench/architectures.py [--only resnet50,bert128] [--engines kiln,ort] [--json F]
        [--repeat N]

With `--repeat N` the engines take turns N times per model and thread count (their order
rotated each turn): each cell is an engine's median run, and one more column gives the
median over turns of kiln's time over the faster peer's within the same turn.

Needs: the kiln package (scripts/setup-python.sh) and `pip install -r bench/requirements-peers.txt`.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ["kiln", "ort", "openvino", "iree"]
LABELS = {"kiln": "kiln", "ort": "ONNX Runtime", "openvino": "OpenVINO", "iree": "IREE"}


def median_call(fn, rounds=5, round_time=0.4, warmup_time=1.0):
    """Median seconds per call of `fn` over `rounds` rounds of at least `round_time` each."""
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < warmup_time:
        fn()
    times = []
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= round_time:
                break
        times.append(elapsed / n)
    return statistics.median(times)


def high_water_mib():
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    from the parent across exec."""
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kib / 1024


def children_peak_mib():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def load_case(scratch, name):
    import numpy as np

    data = np.load(os.path.join(scratch, f"{name}.npz"))
    return os.path.join(scratch, f"{name}.onnx"), [data[k] for k in sorted(data.files, key=lambda k: int(k[1:]))]


def compile_worker(engine, scratch, name):
    """Compiles model `name` for kiln or IREE into the scratch directory; returns its figures."""
    path, _ = load_case(scratch, name)
    start = time.perf_counter()
    if engine == "kiln":
        import kiln.compiler as kc

        with open(path, "rb") as f:
            module = kc.compile_str(f.read(), target_backends=["llvm-cpu"])
        with open(os.path.join(scratch, f"{name}.kiln"), "wb") as f:
            f.write(module)
        peak = high_water_mib()
    else:
        mlir = os.path.join(scratch, f"{name}.mlir")
        bindir = os.path.dirname(sys.executable)
        for cmd in ([os.path.join(bindir, "iree-import-onnx"), path, "-o", mlir],
                    [os.path.join(bindir, "iree-compile"), mlir, "--iree-hal-target-device=local",
                     "--iree-hal-local-target-device-backends=llvm-cpu",
                     "--iree-llvmcpu-target-cpu=host", "-o", os.path.join(scratch, f"{name}.vmfb")]):
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                lines = [l for l in (done.stderr + done.stdout).splitlines() if "error" in l.lower()]
                raise RuntimeError(f"{os.path.basename(cmd[0])}: " + (lines or ["exit %d" % done.returncode])[0][:160])
        peak = max(high_water_mib(), children_peak_mib())
    return {"compile_s": time.perf_counter() - start, "compile_mib": peak}


def run_worker(engine, scratch, name, threads):
    """Loads model `name` on `engine` with `threads` threads and times a call."""
    path, inputs = load_case(scratch, name)
    if engine == "kiln":
        import kiln.runtime as kr
    elif engine == "ort":
        import onnxruntime as ort
    elif engine == "openvino":
        import openvino as ov
    else:
        import iree.runtime as rt
    setup = time.perf_counter()
    if engine == "kiln":
        device = "local-sync" if threads == 1 else "local-task"
        module = kr.load_module(os.path.join(scratch, f"{name}.kiln"), device=device)
        call = lambda: module.main(*inputs)
    elif engine == "ort":
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        feeds = {i.name: v for i, v in zip(sess.get_inputs(), inputs)}
        call = lambda: sess.run(None, feeds)
    elif engine == "openvino":
        compiled = ov.Core().compile_model(path, "CPU", {
            "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()
        call = lambda: request.infer(inputs)
    else:
        if threads > 1:
            rt.flags.parse_flags(f"--task_topology_max_group_count={threads}")
        config = rt.Config("local-sync" if threads == 1 else "local-task")
        ctx = rt.SystemContext(config=config)
        with open(os.path.join(scratch, f"{name}.vmfb"), "rb") as f:
            vm = rt.VmModule.copy_buffer(ctx.instance, f.read())
        ctx.add_vm_module(vm)
        # The module's one public function is named after the ONNX graph.
        fn = next(getattr(m, f) for m in [ctx.modules.module] for f in vm.function_names
                  if not f.startswith("__") and not f.endswith("$async"))
        call = lambda: fn(*inputs)
    setup = time.perf_counter() - setup
    seconds = median_call(call)
    return {"ms": seconds * 1e3, "setup_s": setup, "peak_mib": high_water_mib()}


def in_process(args):
    """Runs a worker in a fresh interpreter; returns its figures or {"error": reason}."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker"] + [str(a) for a in args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        return json.loads(lines[-1])
    err = [l for l in done.stderr.strip().splitlines() if l.strip()]
    return {"error": (err[-1] if err else f"exit {done.returncode}")[:200]}


def measure(names, engines, scratch, repeat=1):
    """Each model's figures per engine. With `repeat` over 1, every engine runs each thread
    count `repeat` times, the engines taking turns (their order rotated each time), and a
    cell keeps its median run; `ratios` keeps kiln's time over each peer's within each turn,
    which a slow spell of a shared machine moves far less than times taken minutes apart."""
    import numpy as np
    import zoo

    results = {}
    for name in names:
        model, inputs = zoo.ZOO[name]()
        with open(os.path.join(scratch, f"{name}.onnx"), "wb") as f:
            f.write(model.SerializeToString())
        np.savez(os.path.join(scratch, f"{name}.npz"), **{f"i{i}": x for i, x in enumerate(inputs)})
        del model
        runs = {}
        for engine in engines:
            r = {}
            if engine in ("kiln", "iree"):
                r.update(in_process(["compile", engine, scratch, name]))
            results[(name, engine)] = r
            runs[engine] = {1: [], 2: []}
        for turn in range(repeat):
            order = engines[turn % len(engines):] + engines[:turn % len(engines)]
            for threads in (1, 2):
                for engine in order:
                    r = results[(name, engine)]
                    if "error" in r:
                        continue
                    got = in_process(["run", engine, scratch, name, threads])
                    if "error" in got:
                        r["error"] = got["error"]
                        continue
                    runs[engine][threads].append(got)
        for engine in engines:
            r = results[(name, engine)]
            for threads, got in runs[engine].items():
                if got and "error" not in r:
                    r[threads] = sorted(got, key=lambda g: g["ms"])[len(got) // 2]
                    r[threads]["ms_all"] = [g["ms"] for g in got]
            print(f"# {name} {engine}: {json.dumps(r)}", file=sys.stderr, flush=True)
    return results


def turn_ratio(results, name, engines, threads):
    """The median over turns of kiln's time over the faster peer's in the same turn."""
    peers = [e for e in engines if e in ("ort", "openvino")]
    runs = [results[(name, e)].get(threads, {}).get("ms_all") for e in ["kiln"] + peers]
    if any(r is None for r in runs) or len({len(r) for r in runs}) != 1:
        return None
    ratios = sorted(k / min(p) for k, *p in zip(*runs))
    return ratios[len(ratios) // 2]


def table(names, engines, results, repeat=1):
    ms = lambda x: f"{x:.2f}"
    out = []
    head = ["model", "threads"] + [f"{LABELS[e]} ms" for e in engines]
    peers = [e for e in engines if e in ("ort", "openvino")]
    if "kiln" in engines and peers:
        head.append("kiln / best of " + " and ".join(LABELS[e] for e in peers))
        if repeat > 1:
            head.append(f"the same, median over {repeat} turns of each turn's ratio")
    if "kiln" in engines and "iree" in engines:
        head.append("kiln / IREE")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for name in names:
        for threads in (1, 2):
            row = [name, str(threads)]
            t = {}
            for e in engines:
                r = results[(name, e)]
                if threads in r:
                    t[e] = r[threads]["ms"]
                    row.append(ms(t[e]))
                else:
                    row.append("—")
            if "kiln" in engines and peers:
                best = min((t[e] for e in peers if e in t), default=None)
                row.append(f"{t['kiln'] / best:.2f}" if "kiln" in t and best else "—")
                if repeat > 1:
                    paired = turn_ratio(results, name, engines, threads)
                    row.append(f"{paired:.2f}" if paired else "—")
            if "kiln" in engines and "iree" in engines:
                row.append(f"{t['kiln'] / t['iree']:.2f}" if "kiln" in t and "iree" in t else "—")
            out.append("| " + " | ".join(row) + " |")
    out.append("")
    head = ["model"] + [f"{LABELS[e]} compile s / peak MiB" for e in engines] + \
           [f"{LABELS[e]} run peak MiB" for e in engines]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for name in names:
        row = [name]
        for e in engines:
            r = results[(name, e)]
            if "compile_s" in r:
                row.append(f"{r['compile_s']:.1f} / {r['compile_mib']:.0f}")
            elif 1 in r:  # session creation is the compile for in-process engines
                row.append(f"{r[1]['setup_s']:.1f} / —")
            else:
                row.append("—")
        for e in engines:
            r = results[(name, e)]
            row.append(f"{r[1]['peak_mib']:.0f}" if 1 in r else "—")
        out.append("| " + " | ".join(row) + " |")
    failures = [(k, r["error"]) for k, r in results.items() if "error" in r]
    if failures:
        out.append("")
        out.extend(f"- {LABELS[e]} on {n}: {err}" for (n, e), err in failures)
    return "\n".join(out)


def versions(engines):
    got = []
    for e, mod in [("ort", "onnxruntime"), ("openvino", "openvino"), ("iree", "iree.compiler")]:
        if e in engines:
            try:
                m = __import__(mod, fromlist=["version"])
                v = getattr(m, "__version__", None) or getattr(getattr(m, "version", None), "VERSION", "?")
                got.append(f"{LABELS[e]} {v}")
            except ImportError:
                got.append(f"{LABELS[e]} not installed")
    return ", ".join(got)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        mode, engine, scratch, name = sys.argv[2:6]
        if mode == "compile":
            print(json.dumps(compile_worker(engine, scratch, name)))
        else:
            print(json.dumps(run_worker(engine, scratch, name, int(sys.argv[6]))))
        return
    sys.path.insert(0, HERE)
    import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated zoo models (default: all)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: " + ", ".join(ENGINES))
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every engine this many times per model and thread count, taking turns")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(zoo.ZOO)
    engines = args.engines.split(",")
    for n in names:
        if n not in zoo.ZOO:
            ap.error(f"--only: no zoo model {n!r} (models: {', '.join(zoo.ZOO)})")
    for e in engines:
        if e not in ENGINES:
            ap.error(f"--engines: no engine {e!r} (engines: {', '.join(ENGINES)})")
    with tempfile.TemporaryDirectory(prefix="kiln-zoo-") as scratch:
        results = measure(names, engines, scratch, max(1, args.repeat))
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{versions(engines)}; kiln llvm-cpu")
    print(table(names, engines, results, max(1, args.repeat)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{n}/{e}": r for (n, e), r in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
