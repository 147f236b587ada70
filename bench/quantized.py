"""Quantised CNNs: kiln's int8 convolutions against its own f32 ones and ONNX Runtime's.

Builds bench/models.py's ResNet-style CNN and MobileNetV2 (1x3x224x224) and quantises each as
users do: ONNX Runtime's `quant_pre_process` (batch norms folded), then `quantize_static` to
the QDQ format with int8 activations and per-channel int8 weights, calibrated on four random
images. Runs the f32 and the QDQ model with kiln (llvm-cpu; local-sync for 1 thread,
local-task for 2) and ONNX Runtime (intra-op threads 1 and 2), taking them in turn over
several rounds, and prints medians, the int8 model's speed-up over the f32 one in each
runtime, and how far kiln's int8 output is from ONNX Runtime's in units of the output's
quantisation step.

    .venv/bin/python bench/quantized.py

Needs: the kiln package (scripts/setup-python.sh), numpy, onnx, onnxruntime.
"""

import os
import platform
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

import kiln.compiler as kc
import kiln.runtime as kr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
from compare import interleaved_medians, ort_session  # noqa: E402


def output_step(model):
    """The scale of the QuantizeLinear that produces the graph's output (its last one)."""
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    last_q = [n for n in model.graph.node if n.op_type == "QuantizeLinear"][-1]
    return float(inits[last_q.input[1]])


# The CNNs measured: label -> builder returning (model, [image], flops).
CNNS = {"ResNet-style CNN": models.resnet, "MobileNetV2": models.mobilenet_v2}


def main():
    print(f"# {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; onnxruntime {ort.__version__}; 1x3x224x224 images; kiln llvm-cpu")
    print("| model | runtime | threads | f32 | int8 (QDQ) | int8 speed-up |")
    print("|---|---|---|---|---|---|")
    notes = []
    for label, build in CNNS.items():
        f32, inputs, flops = build()
        qdq = models.mm.quantize_qdq(f32, np.random.default_rng(5007), 4)
        runners = {}
        outputs = {}
        for name, model in (("f32", f32), ("int8", qdq)):
            blob = model.SerializeToString()
            for threads in (1, 2):
                sess = ort_session(blob, threads)
                feeds = {i.name: v for i, v in zip(sess.get_inputs(), inputs)}
                runners[("ort", name, threads)] = lambda sess=sess, feeds=feeds: sess.run(None, feeds)
                device = "local-sync" if threads == 1 else "local-task"
                module = kr.load_module(kc.compile_str(blob, target_backends=["llvm-cpu"]), device=device)
                runners[("kiln", name, threads)] = lambda module=module: module.main(*inputs)
                if threads == 1:
                    outputs[("ort", name)] = sess.run(None, feeds)[0]
                    outputs[("kiln", name)] = np.asarray(module.main(*inputs))
        medians = dict(zip(runners, interleaved_medians(list(runners.values()))))
        ms = lambda s: f"{s * 1e3:.3f} ms"
        for runtime in ("kiln", "ort"):
            for threads in (1, 2):
                a, b = medians[(runtime, "f32", threads)], medians[(runtime, "int8", threads)]
                who = "kiln llvm-cpu" if runtime == "kiln" else "onnxruntime"
                print(f"| {label} | {who} | {threads} | {ms(a)} | {ms(b)} | {a / b:.2f}x |")
        sys.stdout.flush()
        ratios = ", ".join(
            f"{p} {medians[('ort', p, 1)] / medians[('kiln', p, 1)]:.2f}x" for p in ("f32", "int8"))
        step = output_step(qdq)
        diff = np.abs(outputs[("kiln", "int8")] - outputs[("ort", "int8")]).max()
        f32_diff = np.abs(outputs[("kiln", "f32")] - outputs[("ort", "f32")]).max()
        notes.append(f"{label} ({flops / 1e9:.2f} GFLOP): kiln vs ONNX Runtime at 1 thread {ratios}; "
                     f"int8 output within {diff / step:.2f} quantisation steps ({step:.4g}) of ONNX "
                     f"Runtime's, f32 output {f32_diff:.3g} from it")
    print()
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()
