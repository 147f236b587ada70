"""Two kiln builds side by side in one run: is a change to a hot path or to the compiler's seams
free?

Each build runs in its own worker process (its own Python environment with its own `kiln`
package); the coordinator hands the cases out in turn, round after round, so a slow spell of
the shared machine costs both builds the same round. Cases: square matmuls, the golden MLP and
bench/compare.py's CNN and encoder on local-sync (1 thread) and local-task (2 threads), and the
time to compile the CNN. Prints medians and the candidate's time relative to the baseline's.

    .venv/bin/python bench/ab.py --baseline /path/to/old/venv/bin/python [--target llvm-cpu]

The baseline environment is the old commit's package: `python3 -m venv OLD && OLD/bin/pip
install maturin numpy onnx && OLD/bin/pip install ./bindings/python` in a checkout of it, built
into a target directory of its own: with a `CARGO_TARGET_DIR` shared with a newer checkout,
cargo may judge that checkout's newer artifacts fresh and link them into the "baseline".

With `--together`, the one-thread cases run both builds at the same time instead, each in a
process pinned to a core of its own, the cores swapped every round: a shared machine's slow
spells then land on both at once, and its cores' different speeds cancel over each pair of
rounds. Those rows also print the geometric mean of the pairs' ratios, which moves far less
than two medians taken apart (on this project's two-core VM: a few percent rather than 10-20).
Two-thread cases and the compile time still take turns. Give an even number of rounds: an
odd last one has no partner and is left out of that column.
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))


def cases():
    """name -> () -> (model, inputs); every build measures the same models and inputs."""
    import numpy as np

    sys.path.insert(0, BENCH)
    import compare
    import models

    def matmul(n):
        rng = np.random.default_rng(n)
        return compare.matmul_model(n), [rng.standard_normal((n, n), dtype=np.float32) for _ in range(2)]

    out = {f"matmul {n}^3": (lambda n=n: matmul(n)) for n in (256, 512, 1024, 2048)}
    out["mlp"] = lambda: compare.golden("mlp")
    out["cnn"] = lambda: models.resnet()[:2]
    out["encoder"] = lambda: models.encoder()[:2]
    return out


def worker(target):
    """Serves `time CASE THREADS` (median seconds per call over 0.1 s), `load CASE THREADS`
    (compiles, loads and warms it up untimed: 0), `compile CASE` (seconds to compile it once)
    and `pin CORE` (this thread on one core from now on: 0) on stdin, one answer per line."""
    import kiln.compiler as kc
    import kiln.runtime as kr

    sys.path.insert(0, BENCH)
    from compare import median_seconds

    built, modules = cases(), {}

    def loaded(key):
        """Case `key = (name, threads)` compiled, loaded and warmed up, once."""
        if key not in modules:
            model, inputs = built[key[0]]()
            device = "local-sync" if key[1] == "1" else "local-task"
            m = kr.load_module(kc.compile_str(model.SerializeToString(), target_backends=[target]), device=device)
            modules[key] = (m, inputs)
            median_seconds(lambda: m.main(*inputs), min_time=0.0, reps=1)
        return modules[key]

    for line in sys.stdin:
        what, rest = line.split(" ", 1)
        if what == "pin":
            # This thread (the one that runs local-sync calls) on one core from now on.
            os.sched_setaffinity(0, {int(rest)})
            print(0.0, flush=True)
            continue
        if what == "compile":
            model, _ = built[rest.strip()]()
            blob = model.SerializeToString()
            start = time.perf_counter()
            kc.compile_str(blob, target_backends=[target])
            print(time.perf_counter() - start, flush=True)
            continue
        name, threads = rest.rsplit(" ", 1)
        key = (name, threads.strip())
        m, inputs = loaded(key)
        if what == "load":
            print(0.0, flush=True)
            continue
        print(median_seconds(lambda: m.main(*inputs), min_time=0.1, reps=3, warmup=0), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="the Python interpreter of the baseline build's environment")
    ap.add_argument("--candidate", default=sys.executable, help="the candidate build's interpreter (default: this one)")
    ap.add_argument("--target", default="llvm-cpu")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cases", help="comma-separated case names to run (default: all)")
    ap.add_argument("--together", action="store_true",
                    help="run one-thread cases of both builds at once, pinned to swapped cores")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.target)
    pythons = {"baseline": args.baseline, "candidate": args.candidate}
    together = args.together and len(os.sched_getaffinity(0)) >= 2
    if args.together and not together:
        print("--together needs two cores this process may run on: taking turns instead", file=sys.stderr)

    def start(python):
        return subprocess.Popen(
            [python, os.path.abspath(__file__), "--worker", "--target", args.target, "--baseline", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    builds = {label: start(python) for label, python in pythons.items()}
    # Pinned workers of their own, so that the two-thread workers' pools are never pinned.
    pinned = {label: start(python) for label, python in pythons.items()} if together else {}

    def send(build, request):
        build.stdin.write(request + "\n")
        build.stdin.flush()

    def ask(build, request):
        send(build, request)
        return float(build.stdout.readline())

    def ask_at_once(workers, request):
        """`request`'s answers from `workers`, all asked before any answer is read."""
        for worker in workers:
            send(worker, request)
        return [float(worker.stdout.readline()) for worker in workers]

    chosen = [n for n in cases() if not args.cases or n in args.cases.split(",")]
    requests = [f"time {name} {threads}" for name in chosen for threads in (1, 2)]
    if not args.cases or "cnn" in args.cases.split(","):
        requests += ["compile cnn"]
    times = {(r, b): [] for r in requests for b in builds}
    cores = sorted(os.sched_getaffinity(0))[:2]
    # Pinned workers compile and warm up every one-thread case before any is timed, so that
    # no round times one build while the other is still compiling.
    for r in requests if together else []:
        if r.endswith(" 1"):
            ask_at_once(pinned.values(), "load" + r[len("time"):])
    for round in range(args.rounds):
        # Each round, the other build goes first (or, together, takes the other core), so
        # neither always runs on a cache, a frequency or a core the other left behind.
        order = list(builds)[:: 1 if round % 2 == 0 else -1]
        for label, core in zip(order, cores):
            if label in pinned:
                ask(pinned[label], f"pin {core}")
        for r in requests:
            if together and r.endswith(" 1"):
                for label, t in zip(order, ask_at_once([pinned[label] for label in order], r)):
                    times[(r, label)].append(t)
                continue
            for label in order:
                times[(r, label)].append(ask(builds[label], r))
    for build in [*builds.values(), *pinned.values()]:
        build.stdin.close()
        build.wait()
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, target {args.target}, "
          f"{args.rounds} rounds; baseline {args.baseline}")
    extra = " | together: geomean of swapped pairs" if together else ""
    print(f"| case | threads | baseline | candidate | candidate / baseline{extra} |")
    print("|---|---|---|---|---|" + ("---|" if together else ""))
    for r in requests:
        base, cand = (statistics.median(times[(r, b)]) for b in ("baseline", "candidate"))
        what, rest = r.split(" ", 1)
        name, threads = (rest, "-") if what == "compile" else rest.rsplit(" ", 1)
        label = f"compile {name}" if what == "compile" else name
        row = f"| {label} | {threads} | {base * 1e3:.3f} ms | {cand * 1e3:.3f} ms | {cand / base:.3f} |"
        if together:
            paired = what == "time" and threads == "1"
            row += f" {paired_ratio(times[(r, 'candidate')], times[(r, 'baseline')]) if paired else ''} |"
        print(row)


def paired_ratio(candidate, baseline):
    """The geometric mean of the rounds' candidate/baseline ratios over whole pairs of rounds
    (each build once on each core), so that the cores' speeds cancel: the mean of each pair's
    geometric mean."""
    ratios = [c / b for c, b in zip(candidate, baseline)]
    whole = ratios[: len(ratios) - len(ratios) % 2]
    if not whole:
        return "-"
    return f"{math.exp(sum(map(math.log, whole)) / len(whole)):.3f}"


if __name__ == "__main__":
    main()
