"""Open dims against static ones, side by side in one run: what does one module for every size
cost?

Builds bench/compare.py's ResNet-style CNN (1x3x224x224) with its batch, height and width
left open, and a BERT-style encoder (hidden 256, 4 heads, feed-forward 1024) with open batch
and sequence run at 1x128. Each is compiled twice for each target: with its dims bound to the
size it runs at, and once with `--kiln-dynamic-dims` (for the encoder also with its batch
bound to 1 and only the sequence open). Both run on local-sync (1 thread) and
local-task (2 threads), all builds taken in turn over several rounds; prints medians, the
dynamic build's time relative to the static one's, and the largest difference between their
outputs (both compute the same thing). bench/compare.py prints the same table.

    .venv/bin/python bench/dynamic.py [--target llvm-cpu --target vmvx] [--rounds 7]

Needs: the kiln package (scripts/setup-python.sh), numpy, onnx.
"""

import argparse
import datetime
import os
import sys

import numpy as np
import onnx

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import compare  # noqa: E402
import models  # noqa: E402

import kiln.compiler as kc  # noqa: E402
import kiln.runtime as kr  # noqa: E402


def with_open_dims(model, names):
    """`model` with the input dims `names` gives (input -> a name or None per axis) left open."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for inp in m.graph.input:
        for d, n in zip(inp.type.tensor_type.shape.dim, names.get(inp.name, [])):
            if n is not None:
                d.ClearField("dim_value")
                d.dim_param = n
    return m


def cases():
    """name -> (open-dims model, the static build's --kiln-bind-dim flags, inputs, the
    dynamic build's extra flags)."""
    import make_models as mm

    cnn, (image,), _ = models.resnet()
    rng = np.random.default_rng(0)
    encoder = mm.build_encoder_dynamic(D=256, H=4, F=1024)[0]
    hidden = rng.standard_normal((1, 128, 256), dtype=np.float32)
    encoder_static = ["--kiln-bind-dim=batch=1", "--kiln-bind-dim=seq=128"]
    encoder_inputs = [hidden, np.ones((1, 128), np.int64)]
    return {
        "cnn 1x3x224x224": (
            with_open_dims(cnn, {"image": ["batch", None, "height", "width"]}),
            ["--kiln-bind-dim=batch=1", "--kiln-bind-dim=height=224", "--kiln-bind-dim=width=224"],
            [image],
            [],
        ),
        "encoder 1x128": (encoder, encoder_static, encoder_inputs, []),
        # Binding what is known (batch 1) keeps the sequence open and lets batch-1 layouts fold.
        "encoder 1x128, batch bound": (encoder, encoder_static, encoder_inputs, ["--kiln-bind-dim=batch=1"]),
    }


def measure(targets, rounds):
    """Static and open-dims builds of every case for each target, timed in turn (interleaved)
    on local-sync (1 thread) and local-task (2 threads): rows of (case, target, threads,
    static seconds, dynamic seconds, largest output difference)."""
    runs = []
    for name, (model, binds, inputs, extra) in cases().items():
        blob = model.SerializeToString()
        for target in targets:
            static = kc.compile_str(blob, target_backends=[target], extra_args=binds)
            dynamic = kc.compile_str(blob, target_backends=[target], extra_args=["--kiln-dynamic-dims", *extra])
            for threads, device in [(1, "local-sync"), (2, "local-task")]:
                fs = kr.load_module(static, device=device).main
                fd = kr.load_module(dynamic, device=device).main
                diff = float(np.abs(np.asarray(fs(*inputs)) - np.asarray(fd(*inputs))).max())
                runs.append(((name, target, threads, diff), fs, fd, inputs))
    fns = []
    for _, fs, fd, inputs in runs:
        fns += [lambda fs=fs, inputs=inputs: fs(*inputs), lambda fd=fd, inputs=inputs: fd(*inputs)]
    medians = compare.interleaved_medians(fns, rounds=rounds)
    return [
        (name, target, threads, medians[2 * i], medians[2 * i + 1], diff)
        for i, ((name, target, threads, diff), _, _, _) in enumerate(runs)
    ]


def print_table(rows):
    print("| model | target | threads | static | open dims | open / static | max difference |")
    print("|---|---|---|---|---|---|---|")
    for name, target, threads, ts, td, diff in rows:
        print(f"| {name} | {target} | {threads} | {ts * 1e3:.2f} ms | {td * 1e3:.2f} ms | {td / ts:.3f} | {diff:.1e} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", action="append", help="a CPU target (repeatable; default llvm-cpu and vmvx)")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    targets = args.target or ["llvm-cpu", "vmvx"]
    print(f"# {datetime.date.today()}, {os.cpu_count()} cores, targets {', '.join(targets)}, {args.rounds} rounds")
    print_table(measure(targets, args.rounds))


if __name__ == "__main__":
    main()
