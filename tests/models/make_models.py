# Generates kiln's ONNX test models and their ONNX Runtime golden data.
#
# Every model is built with onnx.helper (opset 17, IR version 8), checked with
# onnx.checker (full_check), run through ONNX Runtime with graph optimizations
# disabled and a single thread, and written to <out>/<name>/ as
#   model.onnx, input_<i>.npy (graph input order), expected_<i>.npy (graph
#   output order).
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
        self.outputs.append(
            helper.make_tensor_value_info(name, NP_TO_ONNX[np.dtype(dtype)], list(shape)))

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

    def model(self, doc):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  initializer=self.initializers, doc_string=doc)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="kiln-make_models", producer_version="1")
        model.ir_version = IR_VERSION
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


def build_encoder():
    rng = np.random.default_rng(3003)
    S, D, H, HD, F = 32, 64, 4, 16, 256
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


def build_ops_misc():
    rng = np.random.default_rng(6006)
    g = Graph("ops_misc")
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

    # reductions (opset 17: ReduceSum axes input, ReduceMean/ReduceMax axes attributes)
    rm1 = op("ReduceMean", [x], "reducemean_k1_out", [2, 3, 1, 1], axes=[2, 3], keepdims=1)
    op("ReduceMean", [y], "reducemean_k0_out", [2], axes=[-1], keepdims=0)
    op("ReduceSum", [x, g.init("rs_axes_1", [1], np.int64)], "reducesum_k0_out", [2, 8, 8],
       keepdims=0)
    op("ReduceSum", [y, g.init("rs_axes_m1", [-1], np.int64)], "reducesum_k1_out", [2, 1],
       keepdims=1)
    op("ReduceSum", [y], "reducesum_all_out", [], keepdims=0)  # no axes: reduce all -> scalar
    op("ReduceMax", [x], "reducemax_k0_out", [2, 3, 8], axes=[-1], keepdims=0)
    op("ReduceMax", [x], "reducemax_k1_out", [2, 1, 8, 1], axes=[1, 3], keepdims=1)

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
    return g.model("roughly one node per op, one graph output per op"), [xin, yin], None


def build_unsupported():
    g = Graph("unsupported")
    g.input("x", [2, 3])
    g.node("Einsum", ["x"], name="my_einsum", outputs=["y"], equation="ij->ji")
    g.output("y", [3, 2])
    return g.model("uses Einsum, which kiln does not support"), None, None


BUILDERS = [
    ("mlp", build_mlp),
    ("cnn", build_cnn),
    ("encoder", build_encoder),
    ("matmul512", build_matmul512),
    ("elementwise", build_elementwise),
    ("ops_misc", build_ops_misc),
    ("unsupported", build_unsupported),
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
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def clean_dir(d):
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "input_*.npy")) + glob.glob(
            os.path.join(d, "expected_*.npy")):
        os.remove(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="output directory (default: the directory of this script)")
    args = ap.parse_args()

    print(f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    generated = []
    for name, build in BUILDERS:
        model, inputs, ref = build()
        d = os.path.join(args.out, name)
        clean_dir(d)
        path = os.path.join(d, "model.onnx")
        onnx.save(model, path)
        if inputs is None:
            ishapes = ", ".join(f"{i.name}{shape_of(i)}" for i in model.graph.input)
            oshapes = ", ".join(f"{o.name}{shape_of(o)}" for o in model.graph.output)
            print(f"{name}: inputs {ishapes} -> outputs {oshapes} (no golden data)")
            continue
        outputs = run_ort(path, model, inputs)
        for o, vi in zip(outputs, model.graph.output):
            assert list(o.shape) == shape_of(vi), (name, vi.name, o.shape, shape_of(vi))
            assert np.all(np.isfinite(o)), (name, vi.name)
        if ref is not None:
            for o, r, vi in zip(outputs, ref(inputs), model.graph.output):
                np.testing.assert_allclose(o, r, rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name}/{vi.name} vs numpy reference")
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
        inputs = [np.load(os.path.join(d, f"input_{i}.npy")) for i in range(n_in)]
        expected = [np.load(os.path.join(d, f"expected_{i}.npy")) for i in range(n_out)]
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
        print(f"verified {name}: max abs diff {worst:g}")
    print("all models verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
