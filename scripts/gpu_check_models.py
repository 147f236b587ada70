"""The GPU check's own models: matmuls and a convolution of f16 and bf16 operands (which the
matrix units multiply) at sizes that leave partial tiles, each with random inputs and NumPy's
result as golden data.

    .venv/bin/python scripts/gpu_check_models.py OUT_DIR

writes OUT_DIR/NAME/{model.onnx,input_<i>.npy,expected_<i>.npy,threshold.txt} for each
case, the threshold being two rounding steps of the narrow type at the outputs' magnitude.
The models take and return f32 (NumPy has no bf16), casting to the narrow type inside; the
expected output is the narrow inputs' exact product rounded to the narrow type, as a GEMM
summing in f32 and storing f16 or bf16 gives within one rounding step.
"""

import os
import sys

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper

NARROW = {
    "f16": (TensorProto.FLOAT16, np.float16),
    "bf16": (TensorProto.BFLOAT16, ml_dtypes.bfloat16),
}


def model(name, inputs, out_shape, op, attrs, narrow, bias=None):
    """`op` over the inputs cast to `narrow`, plus a constant `bias` of `narrow` if given."""
    proto, dtype = NARROW[narrow]
    nodes, names = [], []
    for i, (input_name, shape) in enumerate(inputs):
        names.append(f"{input_name}_narrow")
        nodes.append(helper.make_node("Cast", [input_name], [names[-1]], to=proto, name=f"cast_{i}"))
    nodes.append(helper.make_node(op, names, ["product"], name=op.lower(), **attrs))
    initializers = []
    if bias is not None:
        raw = bias.astype(dtype).tobytes()
        initializers.append(helper.make_tensor("c", proto, bias.shape, raw, raw=True))
        # Two uses keep the biased product stored in `narrow`, so the add is the GEMM's
        # epilogue.
        nodes.append(helper.make_node("Add", ["product", "c"], ["biased"], name="bias"))
        nodes.append(helper.make_node("Cast", ["biased"], ["y"], to=TensorProto.FLOAT, name="cast_out"))
        nodes.append(helper.make_node("Relu", ["biased"], ["relu"], name="relu"))
        nodes.append(helper.make_node("Cast", ["relu"], ["z"], to=TensorProto.FLOAT, name="cast_relu"))
    else:
        nodes.append(helper.make_node("Cast", ["product"], ["y"], to=TensorProto.FLOAT, name="cast_out"))
    outputs = ["y", "z"] if bias is not None else ["y"]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, out_shape) for o in outputs],
        initializers,
    )
    # Conv takes bf16 from opset 22.
    opset = 22 if (op, narrow) == ("Conv", "bf16") else 17
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10 if opset == 22 else 8
    onnx.checker.check_model(m, full_check=True)
    return m


def conv_reference(x, w, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    y = np.zeros((n, o, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1))
    for ky in range(kh):
        for kx in range(kw):
            patch = xp[:, :, ky : ky + y.shape[2], kx : kx + y.shape[3]]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, ky, kx])
    return y


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    cases = []
    for narrow in NARROW:
        cases.append((f"matmul_{narrow}", narrow, "MatMul", {}, [("a", [2, 160, 520]), ("b", [520, 200])]))
        cases.append((f"conv_{narrow}", narrow, "Conv", {"pads": [1, 1, 1, 1]}, [("x", [1, 48, 20, 20]), ("w", [40, 48, 3, 3])]))
        # A constant bias the GEMM takes as its epilogue: the product is rounded to the
        # narrow type before the add, as the graph says.
        cases.append((f"matmul_bias_{narrow}", narrow, "MatMul", {}, [("a", [2, 160, 520]), ("b", [520, 200])]))
    for name, narrow, op, attrs, inputs in cases:
        _, dtype = NARROW[narrow]
        values = [rng.uniform(-1, 1, shape).astype(np.float32) for _, shape in inputs]
        exact = [v.astype(dtype).astype(np.float64) for v in values]
        bias = rng.uniform(-40, 40, [200]).astype(np.float32) if "bias" in name else None
        if op == "MatMul":
            y = exact[0] @ exact[1]
        else:
            y = conv_reference(exact[0], exact[1], 1)
        y = y.astype(np.float32).astype(dtype).astype(np.float64)
        if bias is not None:
            y = (y + bias.astype(dtype).astype(np.float64)).astype(np.float32).astype(dtype)
            y = y.astype(np.float64)
        y = y.astype(np.float32)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        m = model(name, inputs, list(y.shape), op, attrs, narrow, bias)
        onnx.save(m, os.path.join(d, "model.onnx"))
        for i, v in enumerate(values):
            np.save(os.path.join(d, f"input_{i}.npy"), v)
        np.save(os.path.join(d, "expected_0.npy"), y)
        # Two rounding steps of the narrow type at the outputs' largest magnitude.
        mantissa = 10 if narrow == "f16" else 7
        step = 2.0 ** (np.floor(np.log2(np.abs(y).max())) - mantissa)
        with open(os.path.join(d, "threshold.txt"), "w") as f:
            f.write(f"{2 * step}\n")
        if bias is not None:
            np.save(os.path.join(d, "expected_1.npy"), np.maximum(y, 0))


if __name__ == "__main__":
    main()
