"""kiln against ONNX Runtime convolution by convolution: where a model's time goes.

Compiles MODEL.onnx for llvm-cpu, times every dispatch of it with `kiln-benchmark-module
--print_statistics=all` (`local-sync` for one thread, `local-task` for more), profiles ONNX
Runtime with as many intra-op threads, and pairs kiln's `conv2d` dispatches with ONNX Runtime's
convolution nodes: in order, each with the first unpaired node of the same output shape (ONNX
Runtime's NCHWc outputs read as NCHW). Both fuse a convolution's bias and activation, and
usually its residual add, into it. For each pair it prints the multiply-adds (from the
weights' shape), both times, their GFLOP/s and kiln's time over ONNX Runtime's; then the
totals, and kiln's other dispatches by kind.

    .venv/bin/python bench/layers.py MODEL.onnx [--input X.npy ...] [--threads 1]

Pin it to cores for steady figures (`taskset -c 0` for one thread). Without `--input`, each
input is random, of the shape the model declares. `bench/zoo.py`'s builders make the zoo's
models.
"""

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONV_OPS = {"Conv", "FusedConv", "NchwcConv"}


def nchw(shape):
    """An output shape as N, C, H, W and its channel block: ONNX Runtime's NCHWc
    `[n, c/b, h, w, b]` folded (its channels padded to a whole block)."""
    if len(shape) == 5:
        n, blocks, h, w, b = shape
        return (n, blocks * b, h, w), b
    return tuple(shape), 1


def same_output(kiln, ort_out):
    """Whether kiln's NCHW output is ONNX Runtime's, whose channels may be padded to a whole
    NCHWc block (16 channels with AVX-512), even where it reports the output as NCHW."""
    (shape, block) = ort_out
    return (len(kiln) == 4 and len(shape) == 4 and kiln[0] == shape[0] and kiln[2:] == shape[2:]
            and kiln[1] <= shape[1] < kiln[1] + max(block, 16))


def onnx_convs(model):
    """The model's convolutions in graph order: (output shape, weight shape)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
              for v in [*inferred.graph.value_info, *inferred.graph.output]}
    weights = {i.name: tuple(i.dims) for i in model.graph.initializer}
    return [(shapes.get(n.output[0], ()), weights.get(n.input[1], ()))
            for n in model.graph.node if n.op_type == "Conv"]


def kiln_dispatches(tool, module, inputs, threads):
    """kiln's dispatches in program order: (index, kind, output shape, microseconds)."""
    device = ["--device=local-sync"] if threads == 1 else [
        "--device=local-task", f"--task_topology_max_group_count={threads}"]
    out = subprocess.run(
        [tool, f"--module={module}", *device, *[f"--input=@{i}" for i in inputs],
         "--benchmark_repetitions=1", "--benchmark_min_time=1", "--print_statistics=all"],
        capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*[\d.]+%\s+([\d.]+) (us|ms)\s+[\d.]+\s+dispatch_(\d+): (\S+) -> (\S+)", line)
        if m:
            us = float(m[1]) * (1000 if m[2] == "ms" else 1)
            shape = tuple(int(d) for d in m[5].split("x")[:-1]) if "x" in m[5] else ()
            rows.append((int(m[3]), m[4], shape, us))
    return sorted(rows)


def ort_convs(model_path, feeds, threads, runs=10):
    """ONNX Runtime's convolution nodes in execution order: (name, (output NCHW, channel
    block), median microseconds)."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.gettempdir(), "kiln-layers-ort")
    session = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    for _ in range(3 + runs):
        session.run(None, feeds)
    profile = session.end_profiling()
    with open(profile) as f:
        events = json.load(f)
    os.remove(profile)
    times, info, order = collections.defaultdict(list), {}, []
    for e in events:
        args = e.get("args", {})
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        if args.get("op_name") not in CONV_OPS:
            continue
        name = e["name"][: -len("_kernel_time")]
        if name not in info:
            order.append(name)
            outs = [list(s.values())[0] for s in args.get("output_type_shape", [])]
            info[name] = nchw(outs[0])
        times[name].append(e["dur"])
    return [(n, info[n], statistics.median(times[n][-runs:])) for n in order]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[], help=".npy file, one per input")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--compile", default=os.path.join(ROOT, "target", "release", "kiln-compile"))
    ap.add_argument("--tool", default=os.path.join(ROOT, "target", "release", "kiln-benchmark-module"))
    args = ap.parse_args()
    model = onnx.load(args.model)
    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    with tempfile.TemporaryDirectory(prefix="kiln-layers-") as scratch:
        inputs = list(args.input)
        if not inputs:
            rng = np.random.default_rng(0)
            types = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.INT64: np.int64}
            for k, i in enumerate(graph_inputs):
                dims = [d.dim_value or 1 for d in i.type.tensor_type.shape.dim]
                path = os.path.join(scratch, f"input{k}.npy")
                np.save(path, rng.standard_normal(dims).astype(types[i.type.tensor_type.elem_type]))
                inputs.append(path)
        if len(inputs) != len(graph_inputs):
            sys.exit(f"{args.model} takes {len(graph_inputs)} inputs; {len(inputs)} given")
        module = os.path.join(scratch, "model.kiln")
        subprocess.run([args.compile, args.model, "--iree-hal-target-backends=llvm-cpu", "-o", module],
                       check=True)
        dispatches = kiln_dispatches(args.tool, module, inputs, args.threads)
        feeds = {i.name: np.load(p) for i, p in zip(graph_inputs, inputs)}
        convs = ort_convs(args.model, feeds, args.threads)
    print(f"# {os.path.basename(args.model)}, {args.threads} thread(s); ONNX Runtime {ort.__version__}")
    print("| dispatch | output | weights | MFLOP | kiln us | ORT us | kiln GFLOP/s | ORT GFLOP/s | kiln / ORT |")
    print("|---|---|---|---|---|---|---|---|---|")
    unpaired, graph = list(convs), onnx_convs(model)
    kiln_total = ort_total = 0.0
    others = []
    for index, kind, shape, us in dispatches:
        match = next((c for c in unpaired if kind == "conv2d" and same_output(shape, c[1])), None)
        if match is None:
            others.append((index, kind, shape, us))
            continue
        unpaired.remove(match)
        _, _, ort_us = match
        out = shape
        node = next((g for g in graph if g[0] == shape), None)
        if node is not None:
            graph.remove(node)
        weights = node[1] if node else ()
        flop = 2 * float(np.prod(weights)) * float(np.prod(out[2:])) * out[0] if weights else 0.0
        kiln_total += us
        ort_total += ort_us
        print(f"| {index} | {'x'.join(map(str, out))} | {'x'.join(map(str, weights))} | "
              f"{flop / 1e6:.1f} | {us:.1f} | {ort_us:.1f} | {flop / us / 1e3:.1f} | "
              f"{flop / ort_us / 1e3:.1f} | {us / ort_us:.2f} |")
    print(f"\npaired convolutions: kiln {kiln_total / 1e3:.3f} ms, ONNX Runtime {ort_total / 1e3:.3f} ms"
          f" ({kiln_total / max(ort_total, 1e-9):.2f}x)")
    for name, (out, _), us in unpaired:
        print(f"ONNX Runtime's {name} ({'x'.join(map(str, out))}) unpaired: {us:.1f} us")
    for index, kind, shape, us in others:
        print(f"kiln's dispatch_{index} ({kind} -> {'x'.join(map(str, shape))}) unpaired: {us:.1f} us")


if __name__ == "__main__":
    main()
