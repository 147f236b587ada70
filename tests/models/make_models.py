# Generates kiln's ONNX test models and their ONNX Runtime golden data.
#
# Every model is built with onnx.helper (opset 17, IR version 8, except
# ops_opset20 and the ops_misc_opset13 / ops_misc_opset21 variants, see
# OPSET_IR_VERSION), checked with onnx.checker (full_check), run through ONNX
# Runtime with graph optimizations disabled and a single thread, and written
# to <out>/<name>/ as
#   model.onnx, input_<i>.npy (graph input order), expected_<i>.npy (graph
#   output order); mlp_external also gets weights.bin (all initializers as ONNX
#   external data, see EXTERNAL_DATA).
# The script is deterministic (fixed seed per model), overwrites its outputs,
# and finally re-loads everything from disk to check ORT reproduces the golden
# outputs.  Usage:  python3 tests/models/make_models.py [--out DIR]
import argparse
import glob
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
# IR version used for each opset a model is built at (opset 21 needs IR >= 10)
OPSET_IR_VERSION = {13: 7, 17: IR_VERSION, 18: 8, 19: 9, 20: 9, 21: 10}
# models whose initializers are saved as external data: name -> data file (next to model.onnx)
EXTERNAL_DATA = {"mlp_external": "weights.bin"}

NP_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.bool_): TensorProto.BOOL,
}


class Graph:
    """Small helper that collects nodes/initializers and names nodes uniquely."""

    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.initializers = []
        self.inputs = []
        self.outputs = []
        self._counts = {}
        self._node_names = set()
        self._tensor_names = set()

    def _fresh(self, base):
        k = self._counts.get(base, 0)
        self._counts[base] = k + 1
        return f"{base}_{k}"

    def input(self, name, shape, dtype=np.float32):
        self.inputs.append(
            helper.make_tensor_value_info(name, NP_TO_ONNX[np.dtype(dtype)], list(shape)))
        self._tensor_names.add(name)
        return name

    def output(self, name, shape, dtype=np.float32):
        """A graph output; `shape` None declares no rank."""
        self.outputs.append(helper.make_tensor_value_info(
            name, NP_TO_ONNX[np.dtype(dtype)], None if shape is None else list(shape)))

    def init(self, name, value, dtype=None):
        arr = np.asarray(value, dtype=dtype)
        assert name not in self._tensor_names, f"duplicate tensor name {name}"
        self._tensor_names.add(name)
        self.initializers.append(numpy_helper.from_array(arr, name=name))
        return name

    def node(self, op, inputs, name=None, outputs=None, n_out=1, **attrs):
        if name is None:
            name = self._fresh(op.lower())
        assert name not in self._node_names, f"duplicate node name {name}"
        self._node_names.add(name)
        if outputs is None:
            outputs = [name] if n_out == 1 else [f"{name}_{i}" for i in range(n_out)]
        for o in outputs:
            assert o not in self._tensor_names, f"duplicate tensor name {o}"
            self._tensor_names.add(o)
        self.nodes.append(helper.make_node(op, list(inputs), list(outputs), name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def model(self, doc, opset=OPSET):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  initializer=self.initializers, doc_string=doc)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="kiln-make_models", producer_version="1")
        model.ir_version = OPSET_IR_VERSION[opset]
        onnx.checker.check_model(model, full_check=True)
        names = [n.name for n in model.graph.node]
        assert all(names) and len(set(names)) == len(names), "node names must be unique"
        return model


# ----------------------------------------------------------------------------
# weight helpers


def he(rng, shape, fan_in):
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(np.float32)


def lecun(rng, shape, fan_in):
    return (rng.standard_normal(shape) * math.sqrt(1.0 / fan_in)).astype(np.float32)


def xavier(rng, shape, fan_in, fan_out):
    return (rng.standard_normal(shape) * math.sqrt(2.0 / (fan_in + fan_out))).astype(np.float32)


def small(rng, shape, scale=0.1):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def normal(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------
# models; each returns (model, [input arrays], numpy_reference_fn or None)


def build_mlp():
    rng = np.random.default_rng(1001)
    g = Graph("mlp")
    h = g.input("x", [8, 784])
    dims = [784, 512, 256, 10]
    for i, (fi, fo) in enumerate(zip(dims[:-1], dims[1:])):
        w = g.init(f"fc{i}_weight", he(rng, (fo, fi), fi))  # [out, in], used with transB=1
        b = g.init(f"fc{i}_bias", small(rng, (fo,), 0.05))
        h = g.node("Gemm", [h, w, b], name=f"fc{i}_gemm", transB=1)
        if i < len(dims) - 2:
            h = g.node("Relu", [h], name=f"fc{i}_relu")
    g.node("Softmax", [h], name="softmax", outputs=["probs"], axis=1)
    g.output("probs", [8, 10])
    x = rng.random((8, 784), dtype=np.float32)  # pixel-like values in [0, 1)
    model = g.model("3-layer MLP 784-512-256-10 with softmax")

    def ref(inputs):
        ws = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        a = inputs[0].astype(np.float64)
        for i in range(3):
            a = a @ ws[f"fc{i}_weight"].T.astype(np.float64) + ws[f"fc{i}_bias"]
            if i < 2:
                a = np.maximum(a, 0)
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return [e / e.sum(axis=1, keepdims=True)]

    return model, [x], ref


def build_cnn():
    rng = np.random.default_rng(2002)
    g = Graph("cnn")
    img = g.input("image", [1, 3, 64, 64])

    def conv(name, x, cin, cout, k=3, stride=1, pad=1, group=1, bias=True):
        # LeCun-normal: with the (uncalibrated) random BN statistics this keeps activations O(1)
        w = g.init(f"{name}_weight", lecun(rng, (cout, cin // group, k, k), (cin // group) * k * k))
        ins = [x, w]
        if bias:
            ins.append(g.init(f"{name}_bias", small(rng, (cout,), 0.05)))
        return g.node("Conv", ins, name=name, kernel_shape=[k, k], strides=[stride, stride],
                      pads=[pad] * 4, group=group, dilations=[1, 1])

    def bn(name, x, c):
        scale = g.init(f"{name}_scale", rng.uniform(0.8, 1.2, c).astype(np.float32))
        bias = g.init(f"{name}_bias", small(rng, (c,), 0.1))
        mean = g.init(f"{name}_mean", small(rng, (c,), 0.1))
        var = g.init(f"{name}_var", rng.uniform(0.5, 1.5, c).astype(np.float32))
        return g.node("BatchNormalization", [x, scale, bias, mean, var], name=name,
                      epsilon=1e-5, momentum=0.9)

    x = conv("stem_conv", img, 3, 16)
    x = bn("stem_bn", x, 16)
    x = g.node("Relu", [x], name="stem_relu")
    x = g.node("MaxPool", [x], name="stem_maxpool", kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])                                             # 1x16x32x32
    r = conv("res_conv1", x, 16, 16, bias=False)
    r = bn("res_bn1", r, 16)
    r = g.node("Relu", [r], name="res_relu1")
    r = conv("res_conv2", r, 16, 16, bias=False)
    r = bn("res_bn2", r, 16)
    x = g.node("Add", [r, x], name="res_add")
    x = g.node("Relu", [x], name="res_relu2")
    x = conv("down_conv", x, 16, 32, stride=2, bias=False)                    # 1x32x16x16
    x = bn("down_bn", x, 32)
    x = g.node("Relu", [x], name="down_relu")
    x = conv("dw_conv", x, 32, 32, group=32)                                  # depthwise
    x = g.node("Relu", [x], name="dw_relu")
    x = g.node("GlobalAveragePool", [x], name="gap")                          # 1x32x1x1
    x = g.node("Flatten", [x], name="flatten", axis=1)                        # 1x32
    w = g.init("fc_weight", xavier(rng, (32, 10), 32, 10))                    # [in, out], transB=0
    b = g.init("fc_bias", small(rng, (10,), 0.05))
    g.node("Gemm", [x, w, b], name="fc_gemm", outputs=["logits"], transB=0)
    g.output("logits", [1, 10])
    image = normal(rng, (1, 3, 64, 64))
    return g.model("small ResNet-style CNN"), [image], None


def quantize_qdq(model, rng, batches):
    """`model` quantised as users quantise models: ONNX Runtime's `quant_pre_process` (batch
    norms folded into the convolutions) then `quantize_static` to the QDQ format, int8
    activations and per-channel int8 weights, calibrated on `batches` random normal inputs
    drawn from `rng` (every input f32, its declared shape)."""
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}

    class Inputs(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{n: normal(rng, s) for n, s in shapes.items()} for _ in range(batches)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, pre, out = (os.path.join(tmp, f) for f in ("f32.onnx", "pre.onnx", "qdq.onnx"))
        onnx.save(model, src)
        quant_pre_process(src, pre, skip_symbolic_shape=True)
        quantize_static(pre, out, Inputs(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        return onnx.load(out)


def build_mlp_qdq():
    """The MLP through `quantize_qdq`, calibrated on eight random batches: every Gemm (with
    per-channel int8 weights) and the Softmax sit between QuantizeLinear/DequantizeLinear."""
    model, inputs, _ = build_mlp()
    return quantize_qdq(model, np.random.default_rng(2027), 8), inputs, None


def build_cnn_qdq():
    """The CNN through `quantize_qdq`, calibrated on eight random images. Every convolution,
    pooling and the classifier sit between QuantizeLinear/DequantizeLinear."""
    model, inputs, _ = build_cnn()
    return quantize_qdq(model, np.random.default_rng(2026), 8), inputs, None


def build_encoder(S=32, D=64, H=4, F=256):
    """2-layer BERT-style encoder: sequence S, hidden D, H heads, feed-forward width F
    (the golden model uses the defaults; bench/compare.py builds a larger one)."""
    rng = np.random.default_rng(3003)
    HD = D // H
    g = Graph("encoder")
    h = g.input("hidden", [1, S, D])

    # shared constants
    head_dims = g.init("const_head_dims", [H, HD], np.int64)
    idx0 = g.init("const_idx0", np.array(0, np.int64))   # scalar indices for Gather
    idx1 = g.init("const_idx1", np.array(1, np.int64))
    axes0 = g.init("const_axes0", [0], np.int64)
    shape_k = g.init("const_shape_k", [1, S, H, HD], np.int64)
    shape_v = g.init("const_shape_v", [0, -1, H, HD], np.int64)   # exercises 0 / -1 in Reshape
    shape_out = g.init("const_shape_out", [1, S, D], np.int64)
    sqrt_hd = g.init("const_sqrt_hd", np.array(math.sqrt(HD), np.float32))
    sqrt2 = g.init("const_sqrt2", np.array(math.sqrt(2.0), np.float32))
    one = g.init("const_one", np.array(1.0, np.float32))
    half = g.init("const_half", np.array(0.5, np.float32))

    def linear(p, x, fi, fo):
        w = g.init(f"{p}_weight", xavier(rng, (fi, fo), fi, fo) if fo != fi
                   else (normal(rng, (fi, fo)) / math.sqrt(fi)).astype(np.float32))
        b = g.init(f"{p}_bias", small(rng, (fo,), 0.02))
        y = g.node("MatMul", [x, w], name=f"{p}_matmul")
        return g.node("Add", [y, b], name=f"{p}_add")

    def layernorm(p, x):
        s = g.init(f"{p}_scale", rng.uniform(0.9, 1.1, D).astype(np.float32))
        b = g.init(f"{p}_bias", small(rng, (D,), 0.02))
        return g.node("LayerNormalization", [x, s, b], name=p, axis=-1, epsilon=1e-5)

    for l in range(2):
        p = f"l{l}"
        q = linear(f"{p}_q", h, D, D)
        k = linear(f"{p}_k", h, D, D)
        v = linear(f"{p}_v", h, D, D)
        # Q: reshape target computed by a shape subgraph
        qs = g.node("Shape", [q], name=f"{p}_q_shape")
        qb = g.node("Gather", [qs, idx0], name=f"{p}_q_shape_batch", axis=0)
        qn = g.node("Gather", [qs, idx1], name=f"{p}_q_shape_seq", axis=0)
        qb = g.node("Unsqueeze", [qb, axes0], name=f"{p}_q_shape_batch_unsq")
        qn = g.node("Unsqueeze", [qn, axes0], name=f"{p}_q_shape_seq_unsq")
        qshape = g.node("Concat", [qb, qn, head_dims], name=f"{p}_q_shape_concat", axis=0)
        q = g.node("Reshape", [q, qshape], name=f"{p}_q_reshape")
        k = g.node("Reshape", [k, shape_k], name=f"{p}_k_reshape")
        v = g.node("Reshape", [v, shape_v], name=f"{p}_v_reshape")
        q = g.node("Transpose", [q], name=f"{p}_q_transpose", perm=[0, 2, 1, 3])  # 1,H,S,HD
        k = g.node("Transpose", [k], name=f"{p}_k_transpose", perm=[0, 2, 3, 1])  # 1,H,HD,S
        v = g.node("Transpose", [v], name=f"{p}_v_transpose", perm=[0, 2, 1, 3])  # 1,H,S,HD
        s = g.node("MatMul", [q, k], name=f"{p}_scores")
        s = g.node("Div", [s, sqrt_hd], name=f"{p}_scores_scale")
        a = g.node("Softmax", [s], name=f"{p}_softmax", axis=-1)
        c = g.node("MatMul", [a, v], name=f"{p}_context")
        c = g.node("Transpose", [c], name=f"{p}_context_transpose", perm=[0, 2, 1, 3])
        c = g.node("Reshape", [c, shape_out], name=f"{p}_context_reshape")
        o = linear(f"{p}_attn_out", c, D, D)
        h = g.node("Add", [o, h], name=f"{p}_attn_residual")
        h = layernorm(f"{p}_ln1", h)
        f = linear(f"{p}_ffn1", h, D, F)
        e = g.node("Div", [f, sqrt2], name=f"{p}_gelu_div")
        e = g.node("Erf", [e], name=f"{p}_gelu_erf")
        e = g.node("Add", [e, one], name=f"{p}_gelu_add")
        f = g.node("Mul", [f, e], name=f"{p}_gelu_mul")
        f = g.node("Mul", [f, half], name=f"{p}_gelu_half")
        f = linear(f"{p}_ffn2", f, F, D)
        h = g.node("Add", [f, h], name=f"{p}_ffn_residual")
        if l == 1:
            h = g.node("LayerNormalization", [h, g.init(f"{p}_ln2_scale",
                                                        rng.uniform(0.9, 1.1, D).astype(np.float32)),
                                              g.init(f"{p}_ln2_bias", small(rng, (D,), 0.02))],
                       name=f"{p}_ln2", outputs=["output"], axis=-1, epsilon=1e-5)
        else:
            h = layernorm(f"{p}_ln2", h)
    g.output("output", [1, S, D])
    hidden = normal(rng, (1, S, D))
    return g.model("2-layer BERT-style encoder, 4 heads"), [hidden], None


def build_attention(B=1, S=20, D=36, H=3):
    """Attention as CPU targets fuse it (scores, softmax and context in one kernel), in the
    forms exporters write: multi-head self-attention scaled by a multiplier 1/sqrt(d) (not a
    power of two) with an additive causal and padding mask broadcast over heads; single-head
    cross-attention (40 queries, 28 keys) scaled by a division, whose one batch-head is split
    over query rows; and one whose probabilities are also a graph output (not fused)."""
    rng = np.random.default_rng(9119)
    HD = D // H
    g = Graph("attention")
    x = g.input("x", [B, S, D])
    mask = g.input("mask", [B, 1, S, S])
    q2 = g.input("q2", [1, 40, 8])
    kv2 = g.input("kv2", [1, 28, 8])
    weights = {}

    def proj(p):
        w = (normal(rng, (D, D)) / math.sqrt(D)).astype(np.float32)
        weights[p] = w
        y = g.node("MatMul", [x, g.init(f"{p}_weight", w)], name=f"{p}_matmul")
        y = g.node("Reshape", [y, g.init(f"{p}_shape", [B, S, H, HD], np.int64)],
                   name=f"{p}_reshape")
        perm = [0, 2, 3, 1] if p == "k" else [0, 2, 1, 3]
        return g.node("Transpose", [y], name=f"{p}_transpose", perm=perm)

    q, k, v = proj("q"), proj("k"), proj("v")
    inv_sqrt = np.array(1.0 / math.sqrt(HD), np.float32)
    s = g.node("MatMul", [q, k], name="scores")
    s = g.node("Mul", [s, g.init("inv_sqrt_hd", inv_sqrt)], name="scores_scale")
    s = g.node("Add", [s, mask], name="scores_mask")
    a = g.node("Softmax", [s], name="softmax", axis=-1)
    c = g.node("MatMul", [a, v], name="context")
    c = g.node("Transpose", [c], name="context_transpose", perm=[0, 2, 1, 3])
    g.node("Reshape", [c, g.init("out_shape", [B, S, D], np.int64)], name="context_reshape",
           outputs=["y"])
    k2 = g.node("Transpose", [kv2], name="cross_keys", perm=[0, 2, 1])
    s2 = g.node("MatMul", [q2, k2], name="cross_scores")
    s2 = g.node("Div", [s2, g.init("sqrt_8", np.array(math.sqrt(8.0), np.float32))],
                name="cross_scale")
    a2 = g.node("Softmax", [s2], name="cross_softmax", axis=-1)
    g.node("MatMul", [a2, kv2], name="cross_context", outputs=["y2"])
    q3 = g.node("Transpose", [q2], name="self_keys", perm=[0, 2, 1])
    s3 = g.node("MatMul", [q2, q3], name="self_scores")
    g.node("Softmax", [s3], name="self_softmax", axis=-1, outputs=["p3"])
    g.node("MatMul", ["p3", q2], name="self_context", outputs=["y3"])
    g.output("y", [B, S, D])
    g.output("y2", [1, 40, 8])
    g.output("p3", [1, 40, 40])
    g.output("y3", [1, 40, 8])
    xin = normal(rng, (B, S, D))
    keep = np.tril(np.ones((S, S), np.float32))[None, None].repeat(B, axis=0)
    keep[..., S - 3:] = 0.0
    keep[..., S - 3:, :] = 1.0
    mask_in = ((1.0 - keep) * -10000.0).astype(np.float32)
    q2in, kv2in = normal(rng, (1, 40, 8)), normal(rng, (1, 28, 8))

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def ref(inputs):
        x, m, a, b = (t.astype(np.float64) for t in inputs)
        heads = [(x @ weights[p]).reshape(B, S, H, HD).transpose(0, 2, 1, 3) for p in "qkv"]
        p1 = softmax(heads[0] @ heads[1].transpose(0, 1, 3, 2) * float(inv_sqrt) + m)
        y = (p1 @ heads[2]).transpose(0, 2, 1, 3).reshape(B, S, D)
        y2 = softmax(a @ b.transpose(0, 2, 1) / math.sqrt(8.0)) @ b
        p3 = softmax(a @ a.transpose(0, 2, 1))
        return [y, y2, p3, p3 @ a]

    return g.model("multi-head attention with a mask, cross-attention, exposed probabilities"), \
        [xin, mask_in, q2in, kv2in], ref


def build_matmul512():
    rng = np.random.default_rng(4004)
    g = Graph("matmul512")
    g.input("a", [512, 512])
    g.input("b", [512, 512])
    g.node("MatMul", ["a", "b"], name="matmul", outputs=["c"])
    g.output("c", [512, 512])
    a = normal(rng, (512, 512))
    b = (normal(rng, (512, 512)) / math.sqrt(512)).astype(np.float32)  # keeps c ~ N(0, 1)

    def ref(inputs):
        return [inputs[0].astype(np.float64) @ inputs[1].astype(np.float64)]

    return g.model("512x512 MatMul (benchmark)"), [a, b], ref


def build_elementwise():
    rng = np.random.default_rng(5005)
    g = Graph("elementwise")
    for n in "abc":
        g.input(n, [4, 1000])
    g.input("d", [1000])
    ab = g.node("Mul", ["a", "b"], name="mul_ab")
    s = g.node("Add", [ab, "c"], name="add_c")
    g.node("Relu", [s], name="relu", outputs=["y"])
    s2 = g.node("Add", [ab, "d"], name="add_d_bcast")
    g.node("Relu", [s2], name="relu_bcast", outputs=["y_bcast"])
    g.output("y", [4, 1000])
    g.output("y_bcast", [4, 1000])
    ins = [normal(rng, (4, 1000)) for _ in range(3)] + [normal(rng, (1000,))]

    def ref(inputs):
        a, b, c, d = inputs
        return [np.maximum(a * b + c, 0), np.maximum(a * b + d, 0)]

    return g.model("relu(a*b+c) and broadcast relu(a*b+d)"), ins, ref


def build_ops_misc(opset=OPSET, name="ops_misc"):
    """The ops_misc graph at `opset` (13, 17 or 21), in that opset's own operator forms.

    Same seed, inputs, nodes and outputs at every opset; only the way Reduce* receive their
    axes differs (attribute up to opset 17 except ReduceSum, an int64 input from 18 on).
    """
    assert opset in (13, 17, 21), opset
    rng = np.random.default_rng(6006)
    g = Graph(name)
    x = g.input("x", [2, 3, 8, 8])
    y = g.input("y", [2, 12])
    F32 = np.float32

    def op(op_type, inputs, out, shape, dtype=F32, **attrs):
        """One node whose single output is the graph output `out`; node name = out minus _out."""
        g.node(op_type, inputs, name=out[:-len("_out")], outputs=[out], **attrs)
        g.output(out, shape, dtype)
        return out

    # constants: Constant nodes (tensor `value` and `value_float`) and initializers
    shift = g.node("Constant", [], name="const_shift",
                   value=numpy_helper.from_array(
                       np.array([0.5, -0.25, 1.0], F32).reshape(1, 3, 1, 1), "const_shift"))
    tenth = g.node("Constant", [], name="const_tenth", value_float=0.1)
    half_exp = g.node("Constant", [], name="const_half_exp", value_float=0.5)
    two = g.init("const_two", np.array(2.0, F32))
    zero_f = g.init("const_zero_f", np.array(0.0, F32))
    four = g.init("const_four", np.array(4.0, F32))
    log_eps = g.init("const_log_eps", np.array(0.5, F32))
    neg_one = g.init("const_neg_one", np.array(-1.0, F32))
    seven = g.init("const_seven", np.array(7.0, F32))
    zero_i = g.init("const_zero_i64", np.array(0, np.int64))
    X = [2, 3, 8, 8]

    # elementwise arithmetic / unary math
    op("Sub", [x, shift], "sub_out", X)                      # broadcast [1,3,1,1]
    op("Pow", [x, two], "pow2_out", X)
    ax = op("Abs", [x], "abs_out", X)
    op("Pow", [ax, half_exp], "pow05_out", X)
    op("Sqrt", [ax], "sqrt_out", X)
    op("Exp", [x], "exp_out", X)
    pos = g.node("Add", [ax, log_eps], name="log_input")   # |x| + 0.5 > 0
    op("Log", [pos], "log_out", X)
    nx = op("Neg", [x], "neg_out", X)
    op("Sigmoid", [x], "sigmoid_out", X)
    op("Tanh", [x], "tanh_out", X)
    op("Identity", [y], "identity_out", [2, 12])

    # casts (float -> int truncates toward zero in ORT)
    x4 = g.node("Mul", [x, four], name="cast_scale_x")
    xi = op("Cast", [x4], "cast_i64_out", X, np.int64, to=TensorProto.INT64)
    op("Cast", [xi], "cast_f32_out", X, to=TensorProto.FLOAT)
    y4 = g.node("Mul", [y, four], name="cast_scale_y")
    op("Cast", [y4], "cast_i32_out", [2, 12], np.int32, to=TensorProto.INT32)

    # Where with Greater / Less / Equal conditions
    gt = g.node("Greater", [x, zero_f], name="greater")
    leak = g.node("Mul", [x, tenth], name="leaky_mul")
    w = g.node("Where", [gt, x, leak], name="where_greater")      # leaky relu
    lt = g.node("Less", [x, shift], name="less")
    w = g.node("Where", [lt, w, neg_one], name="where_less")       # scalar y operand
    eq = g.node("Equal", [xi, zero_i], name="equal")               # int64 compare
    op("Where", [eq, seven, w], "where_out", X)

    # reductions (opset 13-17: ReduceSum axes input, ReduceMean/ReduceMax axes attributes;
    # opset 18+: axes input for all of them)
    def reduce_attr(op_type, inp, out, shape, axes, axes_init, keepdims):
        if opset >= 18:
            return op(op_type, [inp, g.init(axes_init, axes, np.int64)], out, shape,
                      keepdims=keepdims)
        return op(op_type, [inp], out, shape, axes=axes, keepdims=keepdims)

    rm1 = reduce_attr("ReduceMean", x, "reducemean_k1_out", [2, 3, 1, 1], [2, 3],
                      "rmean_axes_23", 1)
    reduce_attr("ReduceMean", y, "reducemean_k0_out", [2], [-1], "rmean_axes_m1", 0)
    op("ReduceSum", [x, g.init("rs_axes_1", [1], np.int64)], "reducesum_k0_out", [2, 8, 8],
       keepdims=0)
    op("ReduceSum", [y, g.init("rs_axes_m1", [-1], np.int64)], "reducesum_k1_out", [2, 1],
       keepdims=1)
    op("ReduceSum", [y], "reducesum_all_out", [], keepdims=0)  # no axes: reduce all -> scalar
    reduce_attr("ReduceMax", x, "reducemax_k0_out", [2, 3, 8], [-1], "rmax_axes_m1", 0)
    reduce_attr("ReduceMax", x, "reducemax_k1_out", [2, 1, 8, 1], [1, 3], "rmax_axes_13", 1)

    # Squeeze / Unsqueeze with axes inputs (one negative axis each)
    op("Squeeze", [rm1, g.init("sq_axes", [2, -1], np.int64)], "squeeze_out", [2, 3])
    op("Unsqueeze", [y, g.init("unsq_axes", [0, -1], np.int64)], "unsqueeze_out", [1, 2, 12, 1])

    # Slice: negative start, step 2, end clamped past the dimension
    op("Slice", [x, g.init("slice_starts", [-2, 1, -6], np.int64),
                 g.init("slice_ends", [3, 7, 1000], np.int64),
                 g.init("slice_axes", [1, 2, 3], np.int64),
                 g.init("slice_steps", [1, 2, 1], np.int64)], "slice_out", [2, 2, 3, 6])
    # Slice with a negative step on a negative axis: y[:, 10::-3]
    op("Slice", [y, g.init("slice_rev_starts", [10], np.int64),
                 g.init("slice_rev_ends", [-100], np.int64),
                 g.init("slice_rev_axes", [-1], np.int64),
                 g.init("slice_rev_steps", [-3], np.int64)], "slice_reverse_out", [2, 4])

    # Gather along axis 1: 1-D indices with a negative one, and a scalar negative index
    gi = op("Gather", [y, g.init("gather_idx", [0, -1, 5, 5, 3], np.int64)], "gather_out",
            [2, 5], axis=1)
    op("Gather", [x, g.init("gather_idx_scalar", np.array(-1, np.int64))],
       "gather_scalar_out", [2, 8, 8], axis=1)

    # Concat (negative axis), Flatten (axis 2)
    ny = g.node("Neg", [y], name="neg_y")
    op("Concat", [y, ny, gi], "concat_out", [2, 29], axis=-1)
    op("Flatten", [nx], "flatten_out", [6, 64], axis=2)

    # AveragePool excluding padding from the divisor
    op("AveragePool", [x], "avgpool_out", [2, 3, 4, 4], kernel_shape=[3, 3], strides=[2, 2],
       pads=[1, 1, 1, 1], count_include_pad=0)

    xin = normal(rng, (2, 3, 8, 8))
    yin = normal(rng, (2, 12))
    doc = "roughly one node per op, one graph output per op"
    if opset != OPSET:
        doc += f" (opset {opset} forms)"
    return g.model(doc, opset=opset), [xin, yin], None


def build_mlp_external():
    """Small MLP whose initializers are all saved as external data (see EXTERNAL_DATA)."""
    rng = np.random.default_rng(7007)
    g = Graph("mlp_external")
    h = g.input("x", [4, 32])
    dims = [32, 64, 10]
    ws = {}
    for i, (fi, fo) in enumerate(zip(dims[:-1], dims[1:])):
        ws[f"fc{i}_weight"] = he(rng, (fo, fi), fi)  # [out, in], used with transB=1
        ws[f"fc{i}_bias"] = small(rng, (fo,), 0.05)
        w = g.init(f"fc{i}_weight", ws[f"fc{i}_weight"])
        b = g.init(f"fc{i}_bias", ws[f"fc{i}_bias"])
        h = g.node("Gemm", [h, w, b], name=f"fc{i}_gemm", transB=1)
        if i < len(dims) - 2:
            h = g.node("Relu", [h], name=f"fc{i}_relu")
    g.node("Softmax", [h], name="softmax", outputs=["probs"], axis=1)
    g.output("probs", [4, 10])
    x = rng.random((4, 32), dtype=np.float32)

    def ref(inputs):
        # uses the arrays kept here: saving as external data empties the model's initializers
        a = inputs[0].astype(np.float64)
        for i in range(2):
            a = a @ ws[f"fc{i}_weight"].T.astype(np.float64) + ws[f"fc{i}_bias"]
            if i < 1:
                a = np.maximum(a, 0)
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return [e / e.sum(axis=1, keepdims=True)]

    model = g.model("2-layer MLP 32-64-10 with softmax; initializers in external weights.bin")
    return model, [x], ref


def build_softmax_axis():
    rng = np.random.default_rng(8008)
    g = Graph("softmax_axis")
    x = g.input("x", [2, 5, 3])
    scale = rng.uniform(0.5, 1.5, (1, 5, 1)).astype(np.float32)
    ln_scale = rng.uniform(0.8, 1.2, (5, 3)).astype(np.float32)
    ln_bias = small(rng, (5, 3), 0.1)
    s = g.node("Softmax", [x], name="softmax", axis=1)
    m = g.node("Mul", [s, g.init("mul_const", scale)], name="mul")
    g.node("Transpose", [m], name="transpose", outputs=["y"], perm=[0, 2, 1])
    g.node("LayerNormalization", [x, g.init("ln_scale", ln_scale), g.init("ln_bias", ln_bias)],
           name="layernorm", outputs=["ln"], axis=-2, epsilon=1e-5)
    g.output("y", [2, 3, 5])
    g.output("ln", [2, 5, 3])
    xin = (normal(rng, (2, 5, 3)) * 2.0).astype(np.float32)

    def ref(inputs):
        a = inputs[0].astype(np.float64)
        e = np.exp(a - a.max(axis=1, keepdims=True))
        y = np.transpose(e / e.sum(axis=1, keepdims=True) * scale, (0, 2, 1))
        mean = a.mean(axis=(1, 2), keepdims=True)
        var = ((a - mean) ** 2).mean(axis=(1, 2), keepdims=True)
        ln = (a - mean) / np.sqrt(var + 1e-5) * ln_scale + ln_bias
        return [y, ln]

    return g.model("Softmax(axis=1) * const[1,5,1] -> Transpose(0,2,1); "
                   "LayerNormalization(axis=-2) over the last two dims"), [xin], ref


def ops_more_x(rng):
    """f32[2,3,6,6] in [-3, 3]: uniform values plus exact ties (k + 0.5), integers and zeros."""
    x = rng.uniform(-3.0, 3.0, (2, 3, 6, 6)).astype(np.float32)
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, 48, replace=False)
    flat[idx[:36]] = np.tile(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], np.float32), 6)
    flat[idx[36:45]] = np.array([-3, -2, -1, 1, 2, 3, 0, 0, 0], np.float32)
    flat[idx[45:]] = np.array([-2.5, 0.5, 2.5], np.float32)
    return x


def build_ops_more():
    """One graph output per node; every node is named <op>_<n> and its output is named after it."""
    rng = np.random.default_rng(9009)
    g = Graph("ops_more")
    F32, I64, BOOL = np.float32, np.int64, np.bool_
    x = g.input("x", [2, 3, 6, 6])
    xnz = g.input("x_nonzero", [2, 3, 6, 6])   # |values| in [0.25, 3]
    xd = g.input("x_d2s", [1, 8, 2, 3])
    xs = g.input("x_s2d", [1, 2, 4, 6])
    xc = g.input("x_seq", [1, 3, 10])
    xe = g.input("x_expand", [3, 1])
    X = [2, 3, 6, 6]
    ins = [
        ops_more_x(rng),
        (rng.choice(np.array([-1.0, 1.0], F32), (2, 3, 6, 6))
         * rng.uniform(0.25, 3.0, (2, 3, 6, 6))).astype(F32),
        normal(rng, (1, 8, 2, 3)),
        normal(rng, (1, 2, 4, 6)),
        normal(rng, (1, 3, 10)),
        normal(rng, (3, 1)),
    ]
    # constants (initializers)
    prelu_slope = rng.uniform(0.05, 0.5, (3, 1, 1)).astype(F32)
    sum_c = small(rng, (6,), 1.0)                   # broadcast over the last axis
    minmax_c = small(rng, (1, 3, 1, 1), 1.0)
    in_scale = rng.uniform(0.5, 1.5, 3).astype(F32)
    in_bias = small(rng, (3,), 0.2)
    conv_w = lecun(rng, (4, 3, 3), 9)
    conv_b = small(rng, (4,), 0.1)
    c = {
        "prelu_slope": prelu_slope, "sum_c": sum_c, "minmax_c": minmax_c,
        "less_c": np.array(1.0, F32), "greater_c": np.array(0.0, F32),
        "in_scale": in_scale, "in_bias": in_bias,
        "split_sizes": np.array([1, 2], I64), "tile_repeats": np.array([1, 2, 1, 2], I64),
        "pad_pads_asym": np.array([0, 0, 1, 2, 0, 1, 2, 0], I64),
        "pad_value": np.array(0.5, F32), "pad_pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64),
        "range_start_f": np.array(0.5, F32), "range_limit_f": np.array(3.0, F32),
        "range_delta_f": np.array(0.75, F32),
        "range_start_i": np.array(10, I64), "range_limit_i": np.array(-2, I64),
        "range_delta_i": np.array(-3, I64),
        "conv_w": conv_w, "conv_b": conv_b,
        "clip_min": np.array(-1.0, F32), "clip_max": np.array(1.5, F32),
        "expand_shape": np.array([2, 3, 4], I64),
    }
    for k, v in c.items():
        g.init(k, v)

    def op(op_type, inputs, shape, dtype=F32, n_out=1, **attrs):
        outs = g.node(op_type, inputs, n_out=n_out, **attrs)
        for o in ([outs] if n_out == 1 else outs):
            g.output(o, shape, dtype)
        return outs

    # unary elementwise
    for t in ("Floor", "Ceil", "Round", "Sign", "Sin", "Cos"):
        op(t, [x], X)
    op("Reciprocal", [xnz], X)
    op("Softplus", [x], X)
    op("Softsign", [x], X)
    op("LeakyRelu", [x], X, alpha=0.1)
    op("PRelu", [x, "prelu_slope"], X)
    op("Elu", [x], X, alpha=0.7)
    op("Selu", [x], X)
    op("HardSigmoid", [x], X, alpha=0.3, beta=0.4)
    op("HardSwish", [x], X)
    # variadic
    op("Sum", [x, xnz, "sum_c"], X)
    op("Mean", [x, xnz], X)
    op("Min", [x, xnz, "minmax_c"], X)
    op("Max", [x, xnz, "minmax_c"], X)
    # bool
    gt = op("Greater", [x, "greater_c"], X, BOOL)
    lt = op("Less", [x, "less_c"], X, BOOL)
    op("Xor", [gt, lt], X, BOOL)
    op("Not", [gt], X, BOOL)
    # normalization
    op("LogSoftmax", [x], X, axis=-1)
    op("InstanceNormalization", [x, "in_scale", "in_bias"], X, epsilon=1e-5)
    # reductions (axes attribute at opset 17)
    for t in ("ReduceL1", "ReduceL2", "ReduceSumSquare"):
        op(t, [x], [2, 3, 1, 1], axes=[2, 3], keepdims=1)
        op(t, [x], [2, 6, 6], axes=[1], keepdims=0)
    # data movement
    s0, s1 = g.node("Split", [x, "split_sizes"], n_out=2, axis=1)
    g.output(s0, [2, 1, 6, 6])
    g.output(s1, [2, 2, 6, 6])
    op("Split", [x], [2, 3, 6, 2], n_out=3, axis=3)
    op("Tile", [x, "tile_repeats"], [2, 6, 6, 12])
    op("Pad", [x, "pad_pads_asym", "pad_value"], [2, 4, 9, 8], mode="constant")
    op("Pad", [x, "pad_pads"], [2, 3, 8, 8], mode="constant")
    op("Range", ["range_start_f", "range_limit_f", "range_delta_f"], [4])
    op("Range", ["range_start_i", "range_limit_i", "range_delta_i"], [4], I64)
    op("Size", [x], [], I64)
    op("Shape", [x], [2], I64, start=1, end=-1)
    op("Shape", [x], [2], I64, start=-2)
    op("DepthToSpace", [xd], [1, 2, 4, 6], blocksize=2, mode="DCR")
    op("DepthToSpace", [xd], [1, 2, 4, 6], blocksize=2, mode="CRD")
    op("SpaceToDepth", [xs], [1, 8, 2, 3], blocksize=2)
    # 1-D conv / pools
    op("Conv", [xc, "conv_w", "conv_b"], [1, 4, 5], kernel_shape=[3], pads=[1, 1], strides=[2])
    op("MaxPool", [xc], [1, 3, 5], kernel_shape=[3], strides=[2], pads=[1, 1])
    op("AveragePool", [xc], [1, 3, 5], kernel_shape=[2], strides=[2])
    op("Clip", [x, "clip_min", "clip_max"], X)
    op("Expand", [xe, "expand_shape"], [2, 3, 4])

    def ref(inputs):
        a, nz, d, s, q, e = [i.astype(np.float64) for i in inputs]
        out = [np.floor(a), np.ceil(a), np.round(a), np.sign(a), np.sin(a), np.cos(a),
               1.0 / nz, np.logaddexp(0.0, a), a / (1.0 + np.abs(a)),
               np.where(a < 0, 0.1 * a, a), np.where(a < 0, prelu_slope * a, a),
               np.where(a < 0, 0.7 * np.expm1(a), a)]
        sa, sg = 1.67326319217681884765625, 1.05070102214813232421875
        out += [sg * np.where(a <= 0, sa * np.expm1(a), a), np.clip(0.3 * a + 0.4, 0, 1),
                a * np.clip(a / 6 + 0.5, 0, 1),
                a + nz + sum_c, (a + nz) / 2,
                np.minimum(np.minimum(a, nz), minmax_c), np.maximum(np.maximum(a, nz), minmax_c)]
        gt, lt = a > 0, a < 1
        out += [gt, lt, gt ^ lt, ~gt]
        out.append(a - a.max(-1, keepdims=True)
                   - np.log(np.exp(a - a.max(-1, keepdims=True)).sum(-1, keepdims=True)))
        m = a.mean((2, 3), keepdims=True)
        v = ((a - m) ** 2).mean((2, 3), keepdims=True)
        out.append((a - m) / np.sqrt(v + 1e-5) * in_scale.reshape(3, 1, 1)
                   + in_bias.reshape(3, 1, 1))
        out += [np.abs(a).sum((2, 3), keepdims=True), np.abs(a).sum(1),
                np.sqrt((a * a).sum((2, 3), keepdims=True)), np.sqrt((a * a).sum(1)),
                (a * a).sum((2, 3), keepdims=True), (a * a).sum(1)]
        out += [a[:, :1], a[:, 1:], a[..., :2], a[..., 2:4], a[..., 4:]]
        out.append(np.tile(a, (1, 2, 1, 2)))
        out.append(np.pad(a, [(0, 0), (0, 1), (1, 2), (2, 0)], constant_values=0.5))
        out.append(np.pad(a, [(0, 0), (0, 0), (1, 1), (1, 1)]))
        out.append(np.float32(0.5) + np.arange(4) * np.float32(0.75))
        out += [np.arange(10, -2, -3), np.array(a.size), np.array([3, 6]), np.array([6, 6])]
        bs = 2
        out.append(d.reshape(1, bs, bs, 2, 2, 3).transpose(0, 3, 4, 1, 5, 2).reshape(1, 2, 4, 6))
        out.append(d.reshape(1, 2, bs, bs, 2, 3).transpose(0, 1, 4, 2, 5, 3).reshape(1, 2, 4, 6))
        out.append(s.reshape(1, 2, 2, bs, 3, bs).transpose(0, 3, 5, 1, 2, 4).reshape(1, 8, 2, 3))
        qp = np.pad(q, [(0, 0), (0, 0), (1, 1)])
        out.append(np.stack([np.einsum("ck,ock->o", qp[0, :, 2 * i:2 * i + 3], conv_w)
                             for i in range(5)], -1)[None] + conv_b[:, None])
        qm = np.pad(q, [(0, 0), (0, 0), (1, 1)], constant_values=-np.inf)
        out.append(np.stack([qm[..., 2 * i:2 * i + 3].max(-1) for i in range(5)], -1))
        out.append(q.reshape(1, 3, 5, 2).mean(-1))
        out += [np.clip(a, -1.0, 1.5), np.broadcast_to(e, (2, 3, 4))]
        return out

    return g.model("one node per op (one graph output each) for ops beyond ops_misc"), ins, ref


def build_detector_dynamic():
    """Detector-style CNN with batch, height and width left open (unnamed dims) and a
    deliberately wrong declared output shape; golden data at several input sizes (RUNS)."""
    rng = np.random.default_rng(3003)
    g = Graph("detector_dynamic")
    img = g.input("images", [None, 3, None, None])

    def conv(name, x, cin, cout, k=3, stride=1, bias=False):
        w = g.init(f"{name}_weight", lecun(rng, (cout, cin, k, k), cin * k * k))
        ins = [x, w] + ([g.init(f"{name}_bias", small(rng, (cout,), 0.05))] if bias else [])
        return g.node("Conv", ins, name=name, kernel_shape=[k, k], strides=[stride, stride],
                      pads=[k // 2] * 4)

    def conv_bn_silu(name, x, cin, cout, stride=1):
        y = conv(f"{name}_conv", x, cin, cout, stride=stride)
        scale = g.init(f"{name}_bn_scale", rng.uniform(0.8, 1.2, cout).astype(np.float32))
        bias = g.init(f"{name}_bn_bias", small(rng, (cout,), 0.1))
        mean = g.init(f"{name}_bn_mean", small(rng, (cout,), 0.1))
        var = g.init(f"{name}_bn_var", rng.uniform(0.5, 1.5, cout).astype(np.float32))
        y = g.node("BatchNormalization", [y, scale, bias, mean, var], name=f"{name}_bn")
        s = g.node("Sigmoid", [y], name=f"{name}_sigmoid")
        return g.node("Mul", [y, s], name=f"{name}_silu")

    x = conv_bn_silu("stem", img, 3, 8, stride=2)                  # N x 8 x (H+1)/2 x ...
    x = conv_bn_silu("down", x, 8, 16, stride=2)                   # N x 16 x ~H/4 x ~W/4
    a, b = g.node("Split", [x, g.init("split_sizes", np.array([8, 8], np.int64))],
                  name="split", n_out=2, axis=1)
    r = conv_bn_silu("res", b, 8, 8)
    b = g.node("Add", [b, r], name="res_add")
    x = g.node("Concat", [a, b], name="concat", axis=1)
    x = g.node("MaxPool", [x], name="pool", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("MaxPool", [x], name="spp", kernel_shape=[3, 3], strides=[1, 1],
               pads=[1, 1, 1, 1])
    x = conv("head", x, 16, 6, k=1, bias=True)                     # N x 6 x h x w
    shape = g.node("Shape", [x], name="head_shape")
    n = g.node("Gather", [shape, g.init("zero", np.array(0, np.int64))], name="batch_dim",
               axis=0)
    n = g.node("Unsqueeze", [n, g.init("axes0", np.array([0], np.int64))], name="batch_1d")
    target = g.node("Concat", [n, g.init("rest", np.array([6, -1], np.int64))],
                    name="target_shape", axis=0)
    g.node("Reshape", [x, target], name="flatten_boxes", outputs=["boxes"])
    g.output("boxes", [1, 6, 100])  # wrong on purpose: exporters get this wrong too
    return g.model("detector with open batch, height and width"), \
        [normal(rng, (1, 3, 64, 64))], None


def build_encoder_dynamic(D=64, H=4, F=128):
    """2-layer BERT-style encoder with named open dims `batch` and `seq` and an int64 attention
    mask (1 keeps a position, 0 masks it): heads split by reshapes whose targets are computed
    (Shape/Gather/Concat) or copy dims (`0`, `-1`)."""
    rng = np.random.default_rng(5005)
    HD = D // H
    g = Graph("encoder_dynamic")
    h = g.input("hidden", ["batch", "seq", D])
    mask = g.input("attention_mask", ["batch", "seq"], np.int64)
    head_dims = g.init("const_head_dims", [H, HD], np.int64)
    idx0 = g.init("const_idx0", np.array(0, np.int64))
    idx1 = g.init("const_idx1", np.array(1, np.int64))
    axes0 = g.init("const_axes0", [0], np.int64)
    shape_k = g.init("const_shape_k", [0, 0, H, HD], np.int64)
    shape_v = g.init("const_shape_v", [0, -1, H, HD], np.int64)
    shape_out = g.init("const_shape_out", [0, 0, D], np.int64)
    sqrt_hd = g.init("const_sqrt_hd", np.array(math.sqrt(HD), np.float32))
    one = g.init("const_one", np.array(1.0, np.float32))
    neg = g.init("const_neg", np.array(-10000.0, np.float32))

    m = g.node("Unsqueeze", [mask, g.init("const_axes12", [1, 2], np.int64)], name="mask_4d")
    m = g.node("Cast", [m], name="mask_float", to=TensorProto.FLOAT)
    m = g.node("Sub", [one, m], name="mask_invert")
    bias = g.node("Mul", [m, neg], name="mask_bias")                # batch x 1 x 1 x seq

    def linear(p, x, fi, fo):
        w = g.init(f"{p}_weight", xavier(rng, (fi, fo), fi, fo))
        b = g.init(f"{p}_bias", small(rng, (fo,), 0.02))
        y = g.node("MatMul", [x, w], name=f"{p}_matmul")
        return g.node("Add", [y, b], name=f"{p}_add")

    def layernorm(p, x, out=None):
        sc = g.init(f"{p}_scale", rng.uniform(0.9, 1.1, D).astype(np.float32))
        b = g.init(f"{p}_bias", small(rng, (D,), 0.02))
        return g.node("LayerNormalization", [x, sc, b], name=p, axis=-1, epsilon=1e-5,
                      outputs=out)

    for l in range(2):
        p = f"l{l}"
        q = linear(f"{p}_q", h, D, D)
        k = linear(f"{p}_k", h, D, D)
        v = linear(f"{p}_v", h, D, D)
        qs = g.node("Shape", [q], name=f"{p}_q_shape")
        qb = g.node("Unsqueeze", [g.node("Gather", [qs, idx0], name=f"{p}_q_batch", axis=0),
                                  axes0], name=f"{p}_q_batch_1d")
        qn = g.node("Unsqueeze", [g.node("Gather", [qs, idx1], name=f"{p}_q_seq", axis=0),
                                  axes0], name=f"{p}_q_seq_1d")
        qshape = g.node("Concat", [qb, qn, head_dims], name=f"{p}_q_target", axis=0)
        q = g.node("Reshape", [q, qshape], name=f"{p}_q_reshape")
        k = g.node("Reshape", [k, shape_k], name=f"{p}_k_reshape")
        v = g.node("Reshape", [v, shape_v], name=f"{p}_v_reshape")
        q = g.node("Transpose", [q], name=f"{p}_q_transpose", perm=[0, 2, 1, 3])
        k = g.node("Transpose", [k], name=f"{p}_k_transpose", perm=[0, 2, 3, 1])
        v = g.node("Transpose", [v], name=f"{p}_v_transpose", perm=[0, 2, 1, 3])
        sc = g.node("MatMul", [q, k], name=f"{p}_scores")
        sc = g.node("Div", [sc, sqrt_hd], name=f"{p}_scores_scale")
        sc = g.node("Add", [sc, bias], name=f"{p}_scores_mask")
        a = g.node("Softmax", [sc], name=f"{p}_softmax", axis=-1)
        c = g.node("MatMul", [a, v], name=f"{p}_context")
        c = g.node("Transpose", [c], name=f"{p}_context_transpose", perm=[0, 2, 1, 3])
        c = g.node("Reshape", [c, shape_out], name=f"{p}_context_reshape")
        h = g.node("Add", [linear(f"{p}_attn_out", c, D, D), h], name=f"{p}_attn_residual")
        h = layernorm(f"{p}_ln1", h)
        f = g.node("Relu", [linear(f"{p}_ffn1", h, D, F)], name=f"{p}_ffn_relu")
        h = g.node("Add", [linear(f"{p}_ffn2", f, F, D), h], name=f"{p}_ffn_residual")
        h = layernorm(f"{p}_ln2", h, ["output"] if l == 1 else None)
    g.output("output", ["batch", "seq", D])
    return g.model("2-layer BERT-style encoder with open batch and sequence"), \
        encoder_dynamic_inputs(rng, 1, 7, D), None


def encoder_dynamic_inputs(rng, batch, seq, D=64):
    """Hidden states and a mask that keeps a prefix of each sequence (all of the first)."""
    mask = np.ones((batch, seq), np.int64)
    for b in range(1, batch):
        mask[b, seq - seq // (b + 2):] = 0
    return [normal(rng, (batch, seq, D)), mask]


def build_recurrent():
    """LSTM, GRU and RNN nodes covering their attributes: directions, activations with
    alpha/beta, clip, peepholes, input_forget, linear_before_reset, initial states and
    run-time sequence lengths; a bidirectional LSTM feeds a GRU."""
    rng = np.random.default_rng(6006)
    g = Graph("recurrent")
    S, N, I = 5, 3, 4
    x = g.input("x", [S, N, I])
    lens = g.input("lens", [N], np.int32)

    def weights(p, dirs, gates, hidden, inp, peep=False):
        w = g.init(f"{p}_W", small(rng, (dirs, gates * hidden, inp), 0.5))
        r = g.init(f"{p}_R", small(rng, (dirs, gates * hidden, hidden), 0.5))
        b = g.init(f"{p}_B", small(rng, (dirs, 2 * gates * hidden), 0.2))
        extra = [g.init(f"{p}_P", small(rng, (dirs, 3 * hidden), 0.3))] if peep else []
        return [w, r, b], extra

    def state(p, shape):
        return g.init(p, small(rng, shape, 0.5))

    # bidirectional LSTM: peepholes, clip, initial states, run-time sequence lengths
    wrb, peep = weights("lstm_bi", 2, 4, 6, I, peep=True)
    y, yh, yc = g.node("LSTM", [x] + wrb + [lens, state("lstm_bi_h0", (2, N, 6)),
                                       state("lstm_bi_c0", (2, N, 6))] + peep,
                       name="lstm_bi", n_out=3, direction="bidirectional", hidden_size=6,
                       clip=1.5)
    # its output, [S, 2, N, 6], feeds a reverse GRU with linear_before_reset and its own
    # activations
    y = g.node("Transpose", [y], name="lstm_bi_y_t", perm=[0, 2, 1, 3])
    y = g.node("Reshape", [y, g.init("shape_s_n_12", [S, N, 12], np.int64)], name="lstm_bi_y_r")
    wrb, _ = weights("gru_rev", 1, 3, 5, 12)
    g.node("GRU", [y] + wrb, name="gru_rev", n_out=2, direction="reverse", hidden_size=5,
           linear_before_reset=1, activations=["HardSigmoid", "Softsign"],
           activation_alpha=[0.3], activation_beta=[0.4])
    # (ORT has no layout 1; ONNX's node tests cover it.) GRU forward with an initial state,
    # LSTM reverse with input_forget and its own activations
    wrb, _ = weights("gru_h0", 1, 3, 4, I)
    g.node("GRU", [x] + wrb + ["", state("gru_h0_h0", (1, N, 4))], name="gru_h0", n_out=2,
           hidden_size=4)
    wrb, _ = weights("lstm_rev", 1, 4, 3, I)
    g.node("LSTM", [x] + wrb + [lens], name="lstm_rev", n_out=3, hidden_size=3,
           direction="reverse", input_forget=1, activations=["Sigmoid", "Elu", "ScaledTanh"],
           activation_alpha=[0.8, 0.7], activation_beta=[1.2])
    # bidirectional RNN with a different activation per direction, no bias
    w = g.init("rnn_bi_W", small(rng, (2, 4, I), 0.5))
    r = g.init("rnn_bi_R", small(rng, (2, 4, 4), 0.5))
    g.node("RNN", [x, w, r, "", lens], name="rnn_bi", n_out=2, hidden_size=4,
           direction="bidirectional", activations=["LeakyRelu", "Affine"],
           activation_alpha=[0.1, 0.5], activation_beta=[0.2])
    for node in g.nodes:
        if node.op_type in ("LSTM", "GRU", "RNN"):
            for i, o in enumerate(node.output):
                g.output(o, [None] * (4 if i == 0 else 3))  # Y, then the final states
    inputs = [normal(rng, (S, N, I)), np.array([5, 3, 1], np.int32)]
    return g.model("recurrent ops"), inputs, None


def build_control_flow():
    """If, Loop and Scan whose structure is known at compile time; subgraphs read outer-scope
    values."""
    rng = np.random.default_rng(7007)
    g = Graph("control_flow")
    x = g.input("x", [2, 3])
    flag = g.input("flag", [], np.bool_)
    seq = g.input("seq", [2, 5, 3])
    w = g.init("w", small(rng, (3, 3), 0.5))

    def subgraph(name, build, inputs, outputs):
        sub = Graph(name)
        for n, shape, dtype in inputs:
            sub.input(n, shape, dtype)
        build(sub)
        for n, shape, *dtype in outputs:
            sub.output(n, shape, *dtype)
        return helper.make_graph(sub.nodes, name, sub.inputs, sub.outputs, sub.initializers)

    # If on a constant condition whose branches return different ranks: only one is kept
    then_rank2 = subgraph("then_rank2", lambda s: s.node("MatMul", [x, w], name="t_mm",
                                                          outputs=["t_out"]), [], [("t_out", [2, 3])])
    else_rank1 = subgraph("else_rank1", lambda s: s.node(
        "Reshape", [x, g.init("six", [6], np.int64)], name="e_flat", outputs=["e_out"]),
        [], [("e_out", [6])])
    true = g.node("Constant", [], name="const_true",
                  value=helper.make_tensor("true_value", TensorProto.BOOL, [], [True]))
    g.node("If", [true], name="if_const", outputs=["if_const_out"], then_branch=then_rank2,
           else_branch=else_rank1)
    # If on a run-time condition with branches of one type
    then_relu = subgraph("then_relu", lambda s: s.node("Relu", [x], name="t_relu",
                                                        outputs=["tr_out"]), [], [("tr_out", [2, 3])])
    else_neg = subgraph("else_neg", lambda s: s.node(
        "Mul", [x, g.init("minus_two", np.array(-2.0, np.float32))], name="e_neg",
        outputs=["en_out"]), [], [("en_out", [2, 3])])
    g.node("If", [flag], name="if_runtime", outputs=["if_runtime_out"], then_branch=then_relu,
           else_branch=else_neg)

    # Loop with a constant trip count: y = tanh(y·w) + i, scanning every y
    def loop_body(s):
        yw = s.node("MatMul", ["y_in", w], name="body_mm")
        th = s.node("Tanh", [yw], name="body_tanh")
        fi = s.node("Cast", ["i"], name="body_i", to=TensorProto.FLOAT)
        s.node("Add", [th, fi], name="body_add", outputs=["y_out"])
        s.node("Identity", ["cond_in"], name="body_cond", outputs=["cond_out"])
        s.node("Identity", ["y_out"], name="body_scan", outputs=["y_scan"])
    body = subgraph("loop_body", loop_body,
                    [("i", [], np.int64), ("cond_in", [], np.bool_), ("y_in", [2, 3], np.float32)],
                    [("cond_out", [], np.bool_), ("y_out", [2, 3]), ("y_scan", [2, 3])])
    g.node("Loop", [g.init("trips", np.array(4, np.int64)), "", x], name="loop",
           outputs=["loop_y", "loop_ys"], body=body)

    # Scan over axis 1 of seq, backwards: a running sum, and each step's sum·w stacked on axis 1
    def scan_body(s):
        s.node("Add", ["acc_in", "row"], name="scan_add", outputs=["acc_out"])
        s.node("MatMul", ["acc_out", w], name="scan_mm", outputs=["row_out"])
    sbody = subgraph("scan_body", scan_body,
                     [("acc_in", [2, 3], np.float32), ("row", [2, 3], np.float32)],
                     [("acc_out", [2, 3]), ("row_out", [2, 3])])
    g.node("Scan", [g.init("acc0", np.zeros((2, 3), np.float32)), seq], name="scan",
           outputs=["scan_acc", "scan_rows"], body=sbody, num_scan_inputs=1,
           scan_input_axes=[1], scan_input_directions=[1], scan_output_axes=[1])
    for name, shape in [("if_const_out", [2, 3]), ("if_runtime_out", [2, 3]),
                        ("loop_y", [2, 3]), ("loop_ys", [4, 2, 3]), ("scan_acc", [2, 3]),
                        ("scan_rows", [2, 5, 3])]:
        g.output(name, shape)
    inputs = [normal(rng, (2, 3)), np.array(False), normal(rng, (2, 5, 3))]
    return g.model("If, Loop and Scan known at compile time"), inputs, None



def control_subgraph(g, name, build, inputs, outputs):
    """A subgraph (If branch, Loop body) built by `build` on a fresh Graph; it may read
    `g`'s values by name."""
    sub = Graph(name)
    sub._tensor_names = set(g._tensor_names)
    for n, shape, dtype in inputs:
        sub.input(n, shape, dtype)
    build(sub)
    for n, shape, *dtype in outputs:
        sub.output(n, shape, *dtype)
    g._tensor_names |= sub._tensor_names
    return helper.make_graph(sub.nodes, name, sub.inputs, sub.outputs, sub.initializers)


def build_branch_rank():
    """An If on a condition computed from an input, whose branches return different ranks
    (y1: [n] or [n, 3]) and different sizes ([n, 2] or [n, 4], reduced downstream); n open.
    Golden data for both branches (RUNS)."""
    rng = np.random.default_rng(7101)
    g = Graph("branch_rank")
    x = g.input("x", ["n", 4])
    sel = g.input("sel", [1])
    w = g.init("w", small(rng, (4, 3), 0.5))
    total = g.node("ReduceSum", [sel], name="sel_sum", keepdims=0)
    cond = g.node("Greater", [total, g.init("zero", np.array(0.0, np.float32))], name="cond")

    def then_b(s):
        s.node("ReduceSum", [x, g.init("axis1", np.array([1], np.int64))], name="t_sum",
               outputs=["t_y1"], keepdims=0)
        s.node("Slice", [x, g.init("s0", np.array([0], np.int64)),
                         g.init("s2", np.array([2], np.int64)), "axis1"],
               name="t_slice", outputs=["t_y2"])

    def else_b(s):
        s.node("MatMul", [x, w], name="e_mm", outputs=["e_y1"])
        s.node("Mul", [x, g.init("two", np.array(2.0, np.float32))], name="e_mul",
               outputs=["e_y2"])
    then_g = control_subgraph(g, "then_b", then_b, [], [("t_y1", ["n"]), ("t_y2", ["n", 2])])
    else_g = control_subgraph(g, "else_b", else_b, [], [("e_y1", ["n", 3]), ("e_y2", ["n", 4])])
    y1, y2 = g.node("If", [cond], name="branch", outputs=["y1", "y2"], then_branch=then_g,
                    else_branch=else_g)
    r = g.node("ReduceSum", [y2, "axis1"], name="y2_sum", keepdims=1)
    g.node("Mul", [r, g.init("half", np.array(0.5, np.float32))], name="y2_half",
           outputs=["y2_scaled"])
    g.output("y1", ["n"])  # the then branch's rank; the else branch returns [n, 3]
    g.output("y2_scaled", ["n", 1])
    return g.model("If whose branches differ in rank and size"), \
        [normal(rng, (3, 4)), np.array([1.0], np.float32)], None


def build_loop_count():
    """A Loop whose trip count is an input, stopped early by a condition computed from data,
    carrying a state and a value that grows every iteration, with a scan output; batch open.
    Golden data at several trip counts (RUNS)."""
    rng = np.random.default_rng(7201)
    g = Graph("loop_count")
    x = g.input("x", ["batch", 4])
    n = g.input("n", [], np.int64)
    limit = g.input("limit", [])
    w = g.init("w", small(rng, (4, 4), 0.5))
    axis1 = g.init("axis1", np.array([1], np.int64))

    def body(s):
        mm = s.node("MatMul", ["h_in", w], name="b_mm")
        pre = s.node("Add", [mm, x], name="b_add")
        h = s.node("Tanh", [pre], name="b_tanh", outputs=["h_out"])
        m = s.node("ReduceMean", [h, axis1], name="b_mean", keepdims=1)
        s.node("Concat", ["trail_in", m], name="b_grow", outputs=["trail_out"], axis=1)
        fi = s.node("Cast", ["i"], name="b_i", to=TensorProto.FLOAT)
        s.node("Less", [fi, limit], name="b_cond", outputs=["cond_out"])
        s.node("ReduceSum", [h, axis1], name="b_scan", outputs=["h_sum"], keepdims=0)
    body_g = control_subgraph(
        g, "body", body,
        [("i", [], np.int64), ("cond_in", [], np.bool_), ("h_in", ["batch", 4], np.float32),
         ("trail_in", ["batch", None], np.float32)],
        [("cond_out", [], np.bool_), ("h_out", ["batch", 4]), ("trail_out", ["batch", None]),
         ("h_sum", ["batch"])])
    cond0 = g.node("Greater", [limit, g.init("zero", np.array(0.0, np.float32))], name="cond0")
    trail0 = g.node("ReduceMean", [x, axis1], name="trail0", keepdims=1)
    g.node("Loop", [n, cond0, x, trail0], name="loop", outputs=["h", "trail", "sums"],
           body=body_g)
    g.output("h", ["batch", 4])
    g.output("trail", ["batch", None])
    g.output("sums", [None, "batch"])
    inputs = [normal(rng, (2, 4)), np.array(5, np.int64), np.array(10.0, np.float32)]
    return g.model("Loop with a run-time trip count and condition", opset=18), inputs, None


def build_recurrent_dynamic():
    """A bidirectional LSTM with per-entry sequence lengths followed by a GRU, over an open
    sequence length and batch; golden data at several sizes (RUNS)."""
    rng = np.random.default_rng(7301)
    g = Graph("recurrent_dynamic")
    N, I, H1, H2 = 2, 4, 6, 5
    x = g.input("x", ["seq", "batch", I])
    lens = g.input("lens", ["batch"], np.int32)

    def wrb(p, dirs, gates, hidden, inp):
        return [g.init(f"{p}_W", small(rng, (dirs, gates * hidden, inp), 0.5)),
                g.init(f"{p}_R", small(rng, (dirs, gates * hidden, hidden), 0.5)),
                g.init(f"{p}_B", small(rng, (dirs, 2 * gates * hidden), 0.2))]
    y, yh, _ = g.node("LSTM", [x] + wrb("lstm", 2, 4, H1, I) + [lens], name="lstm", n_out=3,
                      direction="bidirectional", hidden_size=H1)
    y = g.node("Transpose", [y], name="lstm_y_t", perm=[0, 2, 1, 3])
    y = g.node("Reshape", [y, g.init("shape_0_0_m1", np.array([0, 0, -1], np.int64))],
               name="lstm_y_r")
    g.node("GRU", [y] + wrb("gru", 1, 3, H2, 2 * H1), name="gru", n_out=2,
           outputs=["gru_y", "gru_h"], hidden_size=H2, linear_before_reset=1)
    g.output("lstm_1", [2, "batch", H1])
    g.output("gru_y", ["seq", 1, "batch", H2])
    g.output("gru_h", [1, "batch", H2])
    inputs = [normal(rng, (5, N, I)), np.array([5, 3], np.int32)]
    return g.model("bidirectional LSTM then GRU over an open sequence length"), inputs, None

def build_resize():
    """Resize in its modes with constant scales, sizes and roi (opset 19)."""
    rng = np.random.default_rng(8008)
    g = Graph("resize")
    x = g.input("x", [1, 3, 6, 8])

    def resize(name, scales=None, sizes=None, roi=None, **attrs):
        ins = [x, g.init(f"{name}_roi", roi, np.float32) if roi is not None else "",
               g.init(f"{name}_scales", scales, np.float32) if scales is not None else "",
               g.init(f"{name}_sizes", sizes, np.int64) if sizes is not None else ""]
        while ins[-1] == "":
            ins.pop()
        g.node("Resize", ins, name=name, **attrs)
        return name

    outs = [
        resize("nearest_up2", scales=[1, 1, 2, 2], mode="nearest"),
        resize("nearest_asym_ceil", sizes=[1, 3, 9, 13], mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="ceil"),
        resize("linear_half_pixel_down", sizes=[1, 3, 4, 5], mode="linear"),
        resize("linear_pytorch_up", scales=[1, 1, 1.5, 2.5], mode="linear",
               coordinate_transformation_mode="pytorch_half_pixel"),
        resize("linear_align_corners", sizes=[1, 3, 11, 3], mode="linear",
               coordinate_transformation_mode="align_corners"),
        resize("linear_symmetric", scales=[1, 1, 0.7, 1.3], mode="linear",
               coordinate_transformation_mode="half_pixel_symmetric"),
        resize("cubic_up", scales=[1, 1, 2, 1.5], mode="cubic"),
        resize("cubic_exclude_outside", sizes=[1, 3, 5, 11], mode="cubic", cubic_coeff_a=-0.5,
               exclude_outside=1),
        resize("linear_antialias_down", sizes=[1, 3, 3, 3], mode="linear", antialias=1),
        resize("cubic_antialias_down", scales=[1, 1, 0.5, 0.6], mode="cubic", antialias=1),
        resize("crop_extrapolate", sizes=[1, 3, 5, 5], roi=[0, 0, -0.2, 0.1, 1, 1, 0.8, 1.3],
               mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
               extrapolation_value=-7.0),
        resize("axes_not_larger", sizes=[10, 10], mode="nearest", axes=[2, 3],
               keep_aspect_ratio_policy="not_larger"),
    ]
    for name in outs:
        g.output(name, [None] * 4)
    return g.model("Resize modes", opset=19), [normal(rng, (1, 3, 6, 8))], None


def build_conv_transpose():
    """ConvTranspose in the forms decoders use, with their attributes."""
    rng = np.random.default_rng(9009)
    g = Graph("conv_transpose")
    x = g.input("x", [2, 4, 5, 6])
    x1 = g.input("x1", [1, 3, 7])

    def deconv(name, inp, cin, cout, k, group=1, bias=True, **attrs):
        w = g.init(f"{name}_W", small(rng, (cin, cout // group) + tuple(k), 0.4))
        ins = [inp, w] + ([g.init(f"{name}_B", small(rng, (cout,), 0.1))] if bias else [])
        g.node("ConvTranspose", ins, name=name, group=group, **attrs)
        return name

    outs = [
        deconv("up2_k4_p1", x, 4, 6, [4, 4], strides=[2, 2], pads=[1, 1, 1, 1]),
        deconv("s3_outpad_dil", x, 4, 3, [3, 2], bias=False, strides=[3, 2],
               output_padding=[2, 1], dilations=[2, 1], pads=[0, 1, 2, 0]),
        deconv("groups_2", x, 4, 6, [3, 3], group=2, strides=[2, 1], pads=[1, 0, 0, 1]),
        deconv("depthwise", x, 4, 4, [2, 2], group=4, strides=[2, 2]),
        deconv("same_upper", x, 4, 2, [3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
        deconv("same_lower", x, 4, 2, [4, 3], strides=[2, 3], auto_pad="SAME_LOWER"),
        deconv("output_shape", x, 4, 5, [3, 3], strides=[3, 2], output_shape=[16, 13]),
        deconv("one_d", x1, 3, 4, [5], strides=[2], pads=[2, 1], output_padding=[1]),
    ]
    for name in outs:
        g.output(name, [None] * (3 if name == "one_d" else 4))
    inputs = [normal(rng, (2, 4, 5, 6)), normal(rng, (1, 3, 7))]
    return g.model("ConvTranspose forms"), inputs, None


def build_inverted_residual():
    """MobileNetV2/V3-style inverted residual blocks on a batch of two small images:
    pointwise expansions, depthwise convolutions (3x3 and 5x5, strides 1 and 2, a dilated
    one with run-time weights, channel counts that are not multiples of 16, a channel
    multiplier), projections with a residual add, an elementwise kernel of its own between
    two channels-last images, Clip and HardSwish, and a regular 3x3 convolution, then
    global pooling. llvm-cpu keeps the images between them channels-last."""
    rng = np.random.default_rng(9119)
    g = Graph("inverted_residual")
    x = g.input("x", [2, 16, 20, 20])
    lo, hi = g.init("lo", np.float32(0.0)), g.init("hi", np.float32(6.0))

    def conv(name, inp, cin, cout, k, group=1, **attrs):
        w = g.init(f"{name}_W", he(rng, (cout, cin // group, k, k), cin // group * k * k))
        b = g.init(f"{name}_B", small(rng, (cout,), 0.1))
        return g.node("Conv", [inp, w, b], name=name, group=group,
                      kernel_shape=[k, k], **attrs)

    def relu6(inp):
        return g.node("Clip", [inp, lo, hi])

    t = relu6(conv("stem", x, 16, 24, 3, pads=[1, 1, 1, 1]))
    e = relu6(conv("expand1", t, 24, 72, 1))
    d = relu6(conv("dw1", e, 72, 72, 3, group=72, pads=[1, 1, 1, 1]))
    # A second projection of the negated depthwise output: the Neg cannot join either
    # convolution, so it runs on its own between two channels-last images.
    side = conv("side1", g.node("Neg", [d]), 72, 24, 1)
    t = g.node("Add", [g.node("Add", [conv("project1", d, 72, 24, 1), side]), t])
    e = g.node("HardSwish", [conv("expand2", t, 24, 40, 1)])
    d = g.node("HardSwish", [conv("dw2", e, 40, 40, 5, group=40, strides=[2, 2],
                                  pads=[2, 2, 2, 2])])
    t = conv("project2", d, 40, 32, 1)
    # Weights given at run time: laid out tap by tap when the convolution runs.
    dw3_w = g.input("dw3_W", [32, 1, 3, 3])
    d = relu6(g.node("Conv", [t, dw3_w], name="dw3", group=32, kernel_shape=[3, 3],
                     dilations=[2, 2], pads=[2, 2, 2, 2]))
    m = relu6(conv("multiplier", d, 32, 64, 3, group=32, pads=[1, 1, 1, 1]))
    t = relu6(conv("regular", m, 64, 48, 3, strides=[2, 2], pads=[1, 0, 1, 1]))
    g.node("GlobalAveragePool", [t], name="pooled")
    g.output("pooled", [2, 48, 1, 1])
    inputs = [normal(rng, (2, 16, 20, 20)), he(rng, (32, 1, 3, 3), 9)]
    return g.model("inverted residual blocks"), inputs, None


def build_indexing():
    """GatherElements and GatherND with run-time (and negative) indices."""
    rng = np.random.default_rng(1010)
    g = Graph("indexing")
    data = g.input("data", [3, 4, 5])
    ie = g.input("idx_elements", [3, 2, 5], np.int64)
    inb = g.input("idx_nd_batch", [3, 2, 2], np.int64)
    ins = g.input("idx_nd_slices", [2, 1], np.int64)
    g.node("GatherElements", [data, ie], name="elements_axis1", axis=1)
    g.node("GatherElements", [data, g.init("idx_last", rng.integers(-5, 5, (3, 4, 2)))],
           name="elements_axis_neg1", axis=-1)
    g.node("GatherND", [data, inb], name="nd_batch1", batch_dims=1)
    g.node("GatherND", [data, ins], name="nd_slices")
    for name, shape in [("elements_axis1", [3, 2, 5]), ("elements_axis_neg1", [3, 4, 2]),
                        ("nd_batch1", [3, 2]), ("nd_slices", [2, 4, 5])]:
        g.output(name, shape)
    inputs = [normal(rng, (3, 4, 5)), rng.integers(-4, 4, (3, 2, 5)),
              np.stack([rng.integers(-4, 4, (3, 2)), rng.integers(-5, 5, (3, 2))], axis=-1),
              np.array([[2], [-3]], np.int64)]
    return g.model("GatherElements and GatherND"), inputs, None


def build_grid_sample():
    """GridSample (opset 20) in each mode, padding mode and corner alignment, with grid points
    inside and well outside the image."""
    rng = np.random.default_rng(1111)
    g = Graph("grid_sample")
    x = g.input("x", [2, 3, 5, 7])
    grid = g.input("grid", [2, 4, 6, 2])
    outs = []
    for mode in ("linear", "nearest", "cubic"):
        for padding in ("zeros", "border", "reflection"):
            if (mode, padding) == ("cubic", "border"):
                # ORT moves both coordinates to the border when either is outside it; ONNX's
                # reference (which kiln follows) moves only the one outside. Cubic weights
                # show the difference, so ORT is no reference for this pair.
                continue
            for align in (0, 1):
                name = f"{mode}_{padding}_{align}"
                g.node("GridSample", [x, grid], name=name, mode=mode, padding_mode=padding,
                       align_corners=align)
                outs.append(name)
    for name in outs:
        g.output(name, [2, 3, 4, 6])
    inputs = [normal(rng, (2, 3, 5, 7)), rng.uniform(-2.5, 2.5, (2, 4, 6, 2)).astype(np.float32)]
    return g.model("GridSample modes", opset=20), inputs, None


def build_einsum():
    """Einsum equations as exporters write them: batched and attention-style contractions,
    transposes, sums, an implicit output, broadcast `...` and three operands."""
    rng = np.random.default_rng(1212)
    g = Graph("einsum")
    a = g.input("a", [2, 3, 4])
    b = g.input("b", [2, 4, 5])
    q = g.input("q", [2, 3, 6, 8])
    k = g.input("k", [2, 3, 7, 8])
    v = g.input("v", [5])
    m = g.input("m", [1, 3, 4])
    cases = [
        ("batch_matmul", [a, b], "bij,bjk->bik"),
        ("attention", [q, k], "bhid,bhjd->bhij"),
        ("transpose", [a], "bij->jib"),
        ("row_sums", [a], "bij->bi"),
        ("implicit", [a, b], "bij,bjk"),
        ("inner", [v, v], "i,i"),
        ("outer", [v, v], "i,j->ij"),
        ("ellipsis_broadcast", [m, b], "...ij,...jk->...ik"),
        ("three", [a, b, g.init("c", normal(rng, (5, 2)))], "bij,bjk,kl->bil"),
        ("bilinear", [g.init("x2", normal(rng, (2, 4))), g.init("w", normal(rng, (3, 4, 5))),
                      g.init("y2", normal(rng, (2, 5)))], "bn,anm,bm->ba"),
    ]
    for name, ins, eq in cases:
        g.node("Einsum", ins, name=name, equation=eq)
        g.output(name, [None] * {"attention": 4, "inner": 0, "outer": 2, "row_sums": 2, "implicit": 2,
                                 "bilinear": 2}.get(name, 3))
    inputs = [normal(rng, s) for s in [(2, 3, 4), (2, 4, 5), (2, 3, 6, 8), (2, 3, 7, 8), (5,),
                                       (1, 3, 4)]]
    return g.model("Einsum equations"), inputs, None


def build_cumsum():
    """CumSum on floats and integers (the position ids GPT-style exports take from an
    attention mask), with exclusive and reverse, on several axes."""
    rng = np.random.default_rng(1313)
    g = Graph("cumsum")
    x = g.input("x", [3, 13, 4])
    mask = g.input("mask", [2, 9], np.int64)

    def cumsum(name, inp, axis, **attrs):
        g.node("CumSum", [inp, g.init(f"{name}_axis", np.array(axis, np.int64))], name=name,
               **attrs)
        return name

    outs = [
        cumsum("axis1", x, 1),
        cumsum("axis1_exclusive", x, 1, exclusive=1),
        cumsum("axis1_reverse", x, -2, reverse=1),
        cumsum("axis0_reverse_exclusive", x, 0, reverse=1, exclusive=1),
        cumsum("axis2", x, 2),
        cumsum("mask_positions", mask, 1),
    ]
    for name in outs:
        g.output(name, [2, 9] if name == "mask_positions" else [3, 13, 4],
                 np.int64 if name == "mask_positions" else np.float32)
    m = np.ones((2, 9), np.int64)
    m[1, :3] = 0
    return g.model("CumSum"), [normal(rng, (3, 13, 4)), m], None


def build_pool_ceil():
    """MaxPool and AveragePool with ceil_mode, where the last windows reach past the padded
    input, with and without count_include_pad."""
    rng = np.random.default_rng(1414)
    g = Graph("pool_ceil")
    x = g.input("x", [1, 2, 7, 10])
    specs = [
        ("max_ceil", "MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2])),
        ("max_ceil_pads", "MaxPool", dict(kernel_shape=[2, 3], strides=[3, 2], pads=[1, 0, 0, 1])),
        ("avg_ceil", "AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2])),
        ("avg_ceil_pads_counted", "AveragePool",
         dict(kernel_shape=[3, 2], strides=[2, 3], pads=[1, 1, 1, 0], count_include_pad=1)),
        ("avg_ceil_pads_not_counted", "AveragePool",
         dict(kernel_shape=[3, 2], strides=[2, 3], pads=[1, 1, 1, 0])),
    ]
    for name, op, attrs in specs:
        g.node(op, [x], name=name, ceil_mode=1, **attrs)
        g.output(name, [None] * 4)
    return g.model("pooling with ceil_mode"), [normal(rng, (1, 2, 7, 10))], None


# more inputs for a model (other sizes for open dims, other branch conditions): name ->
# [inputs of run 1, run 2, ...], saved as run<k>_input_<i>.npy / run<k>_expected_<i>.npy
# beside the first run's files
RUNS = {
    "detector_dynamic": [
        [normal(np.random.default_rng(3004), (2, 3, 40, 56))],
        [normal(np.random.default_rng(3005), (1, 3, 37, 45))],
    ],
    "branch_rank": [
        [normal(np.random.default_rng(7102), (5, 4)), np.array([-1.0], np.float32)],
        [normal(np.random.default_rng(7103), (1, 4)), np.array([2.0], np.float32)],
    ],
    "loop_count": [
        [normal(np.random.default_rng(7202), (3, 4)), np.array(7, np.int64),
         np.array(2.5, np.float32)],
        [normal(np.random.default_rng(7203), (1, 4)), np.array(1, np.int64),
         np.array(3.0, np.float32)],
    ],
    "recurrent_dynamic": [
        [normal(np.random.default_rng(7302), (9, 3, 4)), np.array([9, 4, 7], np.int32)],
        [normal(np.random.default_rng(7303), (1, 1, 4)), np.array([1], np.int32)],
    ],
    "control_flow": [
        [normal(np.random.default_rng(7008), (2, 3)), np.array(True),
         normal(np.random.default_rng(7009), (2, 5, 3))],
    ],
    "upsample_dynamic": [
        [normal(np.random.default_rng(3104), (2, 4, 9, 14))],
        [normal(np.random.default_rng(3105), (1, 4, 31, 7))],
    ],
    "neck_dynamic": [
        [normal(np.random.default_rng(3204), (2, 3, 48, 64))],
        [normal(np.random.default_rng(3205), (1, 3, 64, 40))],
    ],
    "encoder_dynamic": [
        encoder_dynamic_inputs(np.random.default_rng(5006), 2, 64),
        encoder_dynamic_inputs(np.random.default_rng(5007), 1, 128),
    ],
}
# models whose declared output shapes are wrong on purpose (not checked against ORT's)
WRONG_DECLARED_OUTPUTS = {"detector_dynamic", "branch_rank"}


def build_neck_dynamic():
    """A detector neck over open height and width: a stride-2 feature map concatenated with
    the next one upsampled x2 (sizes that agree only for inputs a multiple of 4, which the
    runtime checks); golden data at several sizes (RUNS)."""
    rng = np.random.default_rng(3203)
    g = Graph("neck_dynamic")
    img = g.input("images", [None, 3, None, None])

    def conv(name, x, cin, cout, stride):
        w = g.init(f"{name}_weight", lecun(rng, (cout, cin, 3, 3), cin * 9))
        y = g.node("Conv", [x, w], name=name, kernel_shape=[3, 3], strides=[stride, stride],
                   pads=[1, 1, 1, 1])
        return g.node("Mul", [y, g.node("Sigmoid", [y], name=f"{name}_sigmoid")],
                      name=f"{name}_silu")

    p3 = conv("p3", img, 3, 8, 2)
    p4 = conv("p4", p3, 8, 16, 2)
    up = g.node("Resize", [p4, "", g.init("scales", np.array([1, 1, 2, 2], np.float32))],
                name="up", mode="nearest", coordinate_transformation_mode="asymmetric",
                nearest_mode="floor")
    x = g.node("Concat", [up, p3], name="cat", axis=1)
    y = conv("fuse", x, 24, 8, 1)
    g.node("Add", [y, p3], name="skip", outputs=["features"])
    g.output("features", [None, 8, None, None])
    return g.model("detector neck: upsampled and skip branches concatenated", opset=13), \
        [normal(rng, (1, 3, 32, 32))], None


def build_upsample_dynamic():
    """Nearest upsampling by whole scales over open height and width: Resize 13 as detectors
    export it (asymmetric, floor) and with its defaults (half_pixel, round_prefer_floor),
    between strided convolutions; golden data at several sizes (RUNS)."""
    rng = np.random.default_rng(3103)
    g = Graph("upsample_dynamic")
    img = g.input("x", ["batch", 4, "height", "width"])

    def conv(name, x, cin, cout, stride):
        w = g.init(f"{name}_weight", lecun(rng, (cout, cin, 3, 3), cin * 9))
        return g.node("Conv", [x, w], name=name, kernel_shape=[3, 3], strides=[stride, stride],
                      pads=[1, 1, 1, 1])

    x = conv("down", img, 4, 6, 2)
    empty = g.init("no_roi", np.zeros(0, np.float32))
    x = g.node("Resize", [x, empty, g.init("scales2", np.array([1, 1, 2, 2], np.float32))],
               name="up_asymmetric", mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    x = conv("mid", x, 6, 6, 1)
    x = g.node("Resize", [x, empty, g.init("scales3", np.array([1, 1, 3, 1], np.float32))],
               name="up_default", mode="nearest")
    g.node("Relu", [x], name="relu", outputs=["y"])
    g.output("y", ["batch", 6, None, None])
    return g.model("nearest upsampling over open height and width", opset=13), \
        [normal(rng, (1, 4, 16, 20))], None


def build_ops_opset20():
    rng = np.random.default_rng(10010)
    g = Graph("ops_opset20")
    x = g.input("x", [2, 3, 6, 6])
    X = [2, 3, 6, 6]
    for attrs in ({"approximate": "none"}, {"approximate": "tanh"}, {}):
        o = g.node("Gelu" if attrs else "Mish", [x], **attrs)
        g.output(o, X)
    xin = ops_more_x(rng)

    def ref(inputs):
        a = inputs[0].astype(np.float64)
        erf = np.vectorize(math.erf)
        return [0.5 * a * (1 + erf(a / math.sqrt(2))),
                0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3))),
                a * np.tanh(np.logaddexp(0.0, a))]

    return g.model("Gelu (approximate none / tanh) and Mish at opset 20", opset=20), [xin], ref


def build_unsupported():
    g = Graph("unsupported")
    g.input("x", [2, 3, 3])
    g.node("Bernoulli", ["x"], name="my_bernoulli", outputs=["y"])
    g.output("y", [2, 3, 3])
    return g.model("uses Bernoulli (random draws), which kiln does not support"), None, None


BUILDERS = [
    ("mlp", build_mlp),
    ("cnn", build_cnn),
    ("cnn_qdq", build_cnn_qdq),
    ("mlp_qdq", build_mlp_qdq),
    ("encoder", build_encoder),
    ("attention", build_attention),
    ("matmul512", build_matmul512),
    ("elementwise", build_elementwise),
    ("ops_misc", build_ops_misc),
    ("ops_misc_opset13", lambda: build_ops_misc(13, "ops_misc_opset13")),
    ("ops_misc_opset21", lambda: build_ops_misc(21, "ops_misc_opset21")),
    ("mlp_external", build_mlp_external),
    ("softmax_axis", build_softmax_axis),
    ("ops_more", build_ops_more),
    ("ops_opset20", build_ops_opset20),
    ("unsupported", build_unsupported),
    ("detector_dynamic", build_detector_dynamic),
    ("encoder_dynamic", build_encoder_dynamic),
    ("upsample_dynamic", build_upsample_dynamic),
    ("neck_dynamic", build_neck_dynamic),
    ("recurrent", build_recurrent),
    ("control_flow", build_control_flow),
    ("branch_rank", build_branch_rank),
    ("loop_count", build_loop_count),
    ("recurrent_dynamic", build_recurrent_dynamic),
    ("resize", build_resize),
    ("conv_transpose", build_conv_transpose),
    ("inverted_residual", build_inverted_residual),
    ("indexing", build_indexing),
    ("grid_sample", build_grid_sample),
    ("einsum", build_einsum),
    ("cumsum", build_cumsum),
    ("pool_ceil", build_pool_ceil),
]


# ----------------------------------------------------------------------------


def session(model_path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model_path, sess_options=so, providers=["CPUExecutionProvider"])


def run_ort(model_path, model, inputs):
    sess = session(model_path)
    names = [i.name for i in model.graph.input]
    assert [i.name for i in sess.get_inputs()] == names
    feeds = dict(zip(names, inputs))
    out_names = [o.name for o in model.graph.output]
    return sess.run(out_names, feeds)


def describe(values, infos):
    return ", ".join(f"{vi.name}{list(v.shape)}:{v.dtype}" for v, vi in zip(values, infos))


def shape_of(vi):
    """Declared dims, `None` for an open one; `None` for no declared rank."""
    if not vi.type.tensor_type.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else None
            for d in vi.type.tensor_type.shape.dim]


def fits(shape, declared):
    return declared is None or len(shape) == len(declared) and all(
        d is None or d == n for n, d in zip(shape, declared))


def clean_dir(d, name):
    os.makedirs(d, exist_ok=True)
    stale = [f for pattern in ("input_*.npy", "expected_*.npy", "run*_input_*.npy",
                               "run*_expected_*.npy")
             for f in glob.glob(os.path.join(d, pattern))]
    if name in EXTERNAL_DATA:
        # onnx appends to an existing external data file, so start from an empty one
        stale += glob.glob(os.path.join(d, EXTERNAL_DATA[name]))
    for f in stale:
        os.remove(f)


def save(model, name, path):
    if name in EXTERNAL_DATA:
        # every initializer (size_threshold=0) goes to one file; each gets location/offset/length
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=EXTERNAL_DATA[name], size_threshold=0)
        # onnx creates the data file with mode 0600; make it as readable as model.onnx
        os.chmod(os.path.join(os.path.dirname(path), EXTERNAL_DATA[name]), 0o644)
    else:
        onnx.save(model, path)


def check_external_data(name, d):
    """Checks that every initializer of model.onnx lives in EXTERNAL_DATA[name], back to back."""
    model = onnx.load(os.path.join(d, "model.onnx"), load_external_data=False)
    end = 0
    for t in model.graph.initializer:
        assert t.data_location == TensorProto.EXTERNAL and not t.raw_data, (name, t.name)
        info = {e.key: e.value for e in t.external_data}
        assert set(info) == {"location", "offset", "length"}, (name, t.name, info)
        assert info["location"] == EXTERNAL_DATA[name], (name, t.name, info)
        assert int(info["offset"]) == end, (name, t.name, info)
        end += int(info["length"])
    assert os.path.getsize(os.path.join(d, EXTERNAL_DATA[name])) == end, name


def verify_run(path, model, d, run, n_in, n_out, name):
    """Re-runs ORT on one run's saved inputs; returns the largest difference from its golden
    outputs."""
    inputs = [np.load(os.path.join(d, f"{run}input_{i}.npy")) for i in range(n_in)]
    expected = [np.load(os.path.join(d, f"{run}expected_{i}.npy")) for i in range(n_out)]
    got = run_ort(path, model, inputs)
    worst = 0.0
    for e, o in zip(expected, got):
        assert e.dtype == o.dtype and e.shape == o.shape, name
        if np.issubdtype(e.dtype, np.floating):
            np.testing.assert_allclose(o, e, rtol=1e-6, atol=1e-7, err_msg=name)
            if e.size:
                worst = max(worst, float(np.max(np.abs(o.astype(np.float64) - e))))
        else:
            np.testing.assert_array_equal(o, e, err_msg=name)
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="output directory (default: the directory of this script)")
    ap.add_argument("--only", action="append",
                    help="generate only this model (repeatable; default: all)")
    args = ap.parse_args()

    print(f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    generated = []
    for name, build in BUILDERS:
        if args.only and name not in args.only:
            continue
        model, inputs, ref = build()
        d = os.path.join(args.out, name)
        clean_dir(d, name)
        path = os.path.join(d, "model.onnx")
        save(model, name, path)
        if name in EXTERNAL_DATA:
            check_external_data(name, d)
        if inputs is None:
            ishapes = ", ".join(f"{i.name}{shape_of(i)}" for i in model.graph.input)
            oshapes = ", ".join(f"{o.name}{shape_of(o)}" for o in model.graph.output)
            print(f"{name}: inputs {ishapes} -> outputs {oshapes} (no golden data)")
            continue
        outputs = run_ort(path, model, inputs)
        for o, vi in zip(outputs, model.graph.output):
            if name not in WRONG_DECLARED_OUTPUTS:
                assert fits(o.shape, shape_of(vi)), (name, vi.name, o.shape, shape_of(vi))
            assert np.all(np.isfinite(o)), (name, vi.name)
        for k, run_inputs in enumerate(RUNS.get(name, []), start=1):
            for i, a in enumerate(run_inputs):
                np.save(os.path.join(d, f"run{k}_input_{i}.npy"), a)
            for i, o in enumerate(run_ort(path, model, run_inputs)):
                assert np.all(np.isfinite(o)), (name, k, i)
                np.save(os.path.join(d, f"run{k}_expected_{i}.npy"), o)
        if ref is not None:
            refs = ref(inputs)
            assert len(refs) == len(outputs), (name, len(refs), len(outputs))
            for o, r, vi in zip(outputs, refs, model.graph.output):
                if np.issubdtype(o.dtype, np.floating):
                    np.testing.assert_allclose(o, r, rtol=1e-4, atol=1e-5,
                                               err_msg=f"{name}/{vi.name} vs numpy reference")
                else:  # integer / bool outputs must match exactly
                    np.testing.assert_array_equal(
                        o, r, err_msg=f"{name}/{vi.name} vs numpy reference")
        for i, a in enumerate(inputs):
            np.save(os.path.join(d, f"input_{i}.npy"), a)
        for i, o in enumerate(outputs):
            np.save(os.path.join(d, f"expected_{i}.npy"), o)
        print(f"{name}: inputs {describe(inputs, model.graph.input)} -> outputs "
              f"{describe(outputs, model.graph.output)}")
        generated.append(name)

    # self-check: reload from disk and compare against the saved golden outputs
    for name in generated:
        d = os.path.join(args.out, name)
        path = os.path.join(d, "model.onnx")
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        n_in, n_out = len(model.graph.input), len(model.graph.output)
        assert len(glob.glob(os.path.join(d, "input_*.npy"))) == n_in
        assert len(glob.glob(os.path.join(d, "expected_*.npy"))) == n_out
        worst = 0.0
        for run in [""] + [f"run{k}_" for k in range(1, len(RUNS.get(name, [])) + 1)]:
            worst = max(worst, verify_run(path, model, d, run, n_in, n_out, name))
        print(f"verified {name}: max abs diff {worst:g}")

    # the ops_misc opset variants compute the same thing on the same inputs
    for variant in ("ops_misc_opset13", "ops_misc_opset21"):
        if "ops_misc" in generated and variant in generated:
            for kind in ("input", "expected"):
                for f in sorted(glob.glob(os.path.join(args.out, "ops_misc", f"{kind}_*.npy"))):
                    a = np.load(f)
                    b = np.load(os.path.join(args.out, variant, os.path.basename(f)))
                    assert a.dtype == b.dtype and a.shape == b.shape, (variant, f)
                    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7,
                                               err_msg=f"{variant} vs ops_misc {f}")
            print(f"verified {variant} matches ops_misc")
    print("all models verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
