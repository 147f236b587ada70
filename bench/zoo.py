"""The benchmark zoo: the architectures people deploy, as ONNX models with random weights.

Speed does not depend on the weights' values, so each model is built here, at the sizes the
original uses, with seeded random weights and batch norms folded into convolution biases (as
exporters write inference graphs). Each builder returns (model, [inputs]).

- `resnet50`: ResNet-50 v1.5 on 1x3x224x224 (bottleneck blocks, stride in the 3x3).
- `mobilenet_v2`: bench/models.py's MobileNetV2 on 1x3x224x224.
- `mobilenet_v3`: MobileNetV3-Large on 1x3x224x224 (depthwise 3x3 and 5x5, hard-swish,
  squeeze-excite with a hard-sigmoid gate).
- `efficientnet_b0`: EfficientNet-B0 on 1x3x224x224 (MBConv with SiLU and squeeze-excite).
- `yolo`: a YOLOv8n-style detector on 1x3x640x640 (C2f blocks, SPPF, nearest upsampling and
  concatenation in the neck, three detection heads).
- `bytecnn`: a byte-level classifier: embedding of 2,048 bytes, 1-D convolutions with kernels
  of 16 and 8, max pooling, a classifier.
- `crnn`: a CRNN text recogniser on a 1x1x32x256 line (seven convolutions, two bidirectional
  LSTMs of 256, a CTC head with log-softmax).
- `bert128`, `bert384`: two BERT-base layers (hidden 768, 12 heads, feed-forward 3,072) at
  sequence 128 and 384.
- `vit`: a ViT-S/16-style model on 1x3x224x224 (16x16 patch embedding, class token, four
  pre-norm encoder layers of hidden 384 and 6 heads, a classifier).
- `speech`: a speech front end on 1x80x1000 log-mel frames (two 1-D convolutions, two
  bidirectional GRUs of 256, a per-frame classifier).

    .venv/bin/python bench/zoo.py          # prints each model's node count and size
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "models"))
import make_models as mm  # noqa: E402
import models  # noqa: E402


class Net:
    """A graph under construction with seeded weights and the layers the zoo's models share."""

    def __init__(self, name, seed):
        self.g = mm.Graph(name)
        self.rng = np.random.default_rng(seed)
        self._consts = {}

    def const(self, value, dtype=np.float32):
        """A shared constant initializer."""
        arr = np.asarray(value, dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            self._consts[key] = self.g.init(self.g._fresh("const"), arr)
        return self._consts[key]

    def node(self, op, inputs, **attrs):
        return self.g.node(op, inputs, **attrs)

    def act(self, x, kind):
        if kind is None:
            return x
        if kind == "relu":
            return self.node("Relu", [x])
        if kind == "relu6":
            return self.node("Clip", [x, self.const(0.0), self.const(6.0)])
        if kind == "hswish":
            return self.node("HardSwish", [x])
        if kind == "hsigmoid":
            return self.node("HardSigmoid", [x], alpha=1.0 / 6.0)
        if kind == "sigmoid":
            return self.node("Sigmoid", [x])
        if kind == "silu":
            return self.node("Mul", [x, self.node("Sigmoid", [x])])
        raise ValueError(kind)

    def conv(self, x, cin, cout, k, stride=1, group=1, act=None, pad=None):
        """A convolution with a bias: 2-D for an int `k`, over `len(k)` spatial dims for a tuple."""
        ks = tuple(k) if isinstance(k, (tuple, list)) else (k, k)
        strides = tuple(stride) if isinstance(stride, (tuple, list)) else (stride,) * len(ks)
        pads = [kk // 2 for kk in ks] * 2 if pad is None else list(pad)
        fan_in = cin // group * math.prod(ks)
        w = self.g.init(self.g._fresh("w"), mm.he(self.rng, (cout, cin // group) + ks, fan_in))
        b = self.g.init(self.g._fresh("b"), mm.small(self.rng, (cout,), 0.05))
        y = self.node("Conv", [x, w, b], kernel_shape=list(ks), strides=list(strides), pads=pads,
                      group=group)
        return self.act(y, act)

    def linear(self, x, fi, fo, act=None):
        w = self.g.init(self.g._fresh("w"), mm.xavier(self.rng, (fi, fo), fi, fo))
        b = self.g.init(self.g._fresh("b"), mm.small(self.rng, (fo,), 0.02))
        return self.act(self.node("Add", [self.node("MatMul", [x, w]), b]), act)

    def squeeze_excite(self, x, c, squeeze, act, gate):
        s = self.node("GlobalAveragePool", [x])
        s = self.conv(s, c, squeeze, 1, act=act)
        s = self.conv(s, squeeze, c, 1, act=gate)
        return self.node("Mul", [x, s])

    def classifier(self, x, c, classes=1000):
        x = self.node("Flatten", [self.node("GlobalAveragePool", [x])], axis=1)
        w = self.g.init(self.g._fresh("w"), mm.xavier(self.rng, (classes, c), c, classes))
        b = self.g.init(self.g._fresh("b"), mm.small(self.rng, (classes,), 0.05))
        return self.node("Gemm", [x, w, b], transB=1)

    def layernorm(self, x, d):
        s = self.g.init(self.g._fresh("ln_scale"), self.rng.uniform(0.9, 1.1, d).astype(np.float32))
        b = self.g.init(self.g._fresh("ln_bias"), mm.small(self.rng, (d,), 0.02))
        return self.node("LayerNormalization", [x, s, b], axis=-1, epsilon=1e-6)

    def gelu(self, x):
        e = self.node("Erf", [self.node("Div", [x, self.const(math.sqrt(2.0))])])
        return self.node("Mul", [self.node("Mul", [x, self.node("Add", [e, self.const(1.0)])]),
                                 self.const(0.5)])

    def attention(self, x, seq, d, heads):
        """Multi-head self-attention over [1, seq, d] as exporters write it."""
        hd = d // heads
        split = self.const([1, seq, heads, hd], np.int64)
        q, k, v = (self.node("Reshape", [self.linear(x, d, d), split]) for _ in range(3))
        q = self.node("Transpose", [q], perm=[0, 2, 1, 3])
        k = self.node("Transpose", [k], perm=[0, 2, 3, 1])
        v = self.node("Transpose", [v], perm=[0, 2, 1, 3])
        s = self.node("Div", [self.node("MatMul", [q, k]), self.const(math.sqrt(hd))])
        c = self.node("MatMul", [self.node("Softmax", [s], axis=-1), v])
        c = self.node("Transpose", [c], perm=[0, 2, 1, 3])
        c = self.node("Reshape", [c, self.const([1, seq, d], np.int64)])
        return self.linear(c, d, d)

    def recurrent(self, op, x, inp, hidden, seq):
        """A bidirectional LSTM or GRU over [seq, 1, inp]; returns [seq, 1, 2 * hidden]."""
        gates = 4 if op == "LSTM" else 3
        scale = 1.0 / math.sqrt(hidden)
        w = self.g.init(self.g._fresh("W"), mm.small(self.rng, (2, gates * hidden, inp), scale))
        r = self.g.init(self.g._fresh("R"), mm.small(self.rng, (2, gates * hidden, hidden), scale))
        b = self.g.init(self.g._fresh("B"), mm.small(self.rng, (2, 2 * gates * hidden), scale))
        y = self.node(op, [x, w, r, b], n_out=1, direction="bidirectional", hidden_size=hidden)
        y = self.node("Transpose", [y], perm=[0, 2, 1, 3])
        return self.node("Reshape", [y, self.const([seq, 1, 2 * hidden], np.int64)])

    def model(self, out, shape, doc, opset=17):
        self.g.nodes[-1].output[0] = out
        self.g.output(out, shape)
        return self.g.model(doc, opset=opset)


def image(seed, size=224):
    return [mm.normal(np.random.default_rng(seed), (1, 3, size, size))]


def resnet50():
    n = Net("resnet50", 7001)
    x = n.g.input("image", [1, 3, 224, 224])
    x = n.node("MaxPool", [n.conv(x, 3, 64, 7, 2, act="relu")], kernel_shape=[3, 3], strides=[2, 2],
               pads=[1] * 4)
    cin = 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            y = n.conv(x, cin, width, 1, act="relu")
            y = n.conv(y, width, width, 3, stride, act="relu")
            y = n.conv(y, width, 4 * width, 1)
            shortcut = x if block > 0 else n.conv(x, cin, 4 * width, 1, stride)
            x = n.node("Relu", [n.node("Add", [y, shortcut])])
            cin = 4 * width
    n.classifier(x, cin)
    return n.model("logits", [1, 1000], "ResNet-50 v1.5, 1x3x224x224"), image(7002)


def mobilenet_v2():
    return models.mobilenet_v2()[:2]


def mobilenet_v3():
    n = Net("mobilenet_v3", 7011)
    x = n.g.input("image", [1, 3, 224, 224])
    x = n.conv(x, 3, 16, 3, 2, act="hswish")
    cin = 16
    # kernel, expansion, out, squeeze-excite, activation, stride (MobileNetV3-Large)
    for k, exp, out, se, act, s in [
            (3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2),
            (3, 72, 24, False, "relu", 1), (5, 72, 40, True, "relu", 2),
            (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
            (3, 240, 80, False, "hswish", 2), (3, 200, 80, False, "hswish", 1),
            (3, 184, 80, False, "hswish", 1), (3, 184, 80, False, "hswish", 1),
            (3, 480, 112, True, "hswish", 1), (3, 672, 112, True, "hswish", 1),
            (5, 672, 160, True, "hswish", 2), (5, 960, 160, True, "hswish", 1),
            (5, 960, 160, True, "hswish", 1)]:
        y = n.conv(x, cin, exp, 1, act=act) if exp != cin else x
        y = n.conv(y, exp, exp, k, s, group=exp, act=act)
        if se:
            y = n.squeeze_excite(y, exp, (exp // 4 + 7) // 8 * 8, "relu", "hsigmoid")
        y = n.conv(y, exp, out, 1)
        x = n.node("Add", [x, y]) if s == 1 and cin == out else y
        cin = out
    x = n.conv(x, cin, 960, 1, act="hswish")
    x = n.node("GlobalAveragePool", [x])
    x = n.node("Flatten", [n.conv(x, 960, 1280, 1, act="hswish")], axis=1)
    w = n.g.init("fc_w", mm.xavier(n.rng, (1000, 1280), 1280, 1000))
    n.node("Gemm", [x, w, n.g.init("fc_b", mm.small(n.rng, (1000,), 0.05))], transB=1)
    return n.model("logits", [1, 1000], "MobileNetV3-Large, 1x3x224x224"), image(7012)


def efficientnet_b0():
    n = Net("efficientnet_b0", 7021)
    x = n.g.input("image", [1, 3, 224, 224])
    x = n.conv(x, 3, 32, 3, 2, act="silu")
    cin = 32
    # expansion, kernel, stride, out, repeats
    for t, k, s, out, reps in [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                               (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]:
        for r in range(reps):
            stride = s if r == 0 else 1
            exp = cin * t
            y = n.conv(x, cin, exp, 1, act="silu") if t != 1 else x
            y = n.conv(y, exp, exp, k, stride, group=exp, act="silu")
            y = n.squeeze_excite(y, exp, max(1, cin // 4), "silu", "sigmoid")
            y = n.conv(y, exp, out, 1)
            x = n.node("Add", [x, y]) if stride == 1 and cin == out else y
            cin = out
    x = n.conv(x, cin, 1280, 1, act="silu")
    n.classifier(x, 1280)
    return n.model("logits", [1, 1000], "EfficientNet-B0, 1x3x224x224"), image(7022)


def yolo():
    n = Net("yolo", 7031)
    x = n.g.input("image", [1, 3, 640, 640])

    def cv(x, cin, cout, k=1, s=1):
        return n.conv(x, cin, cout, k, s, act="silu")

    def c2f(x, cin, cout, blocks, shortcut=True):
        c = cout // 2
        y = cv(x, cin, 2 * c)
        parts = list(n.node("Split", [y, n.const([c, c], np.int64)], axis=1, n_out=2))
        for _ in range(blocks):
            z = cv(cv(parts[-1], c, c, 3), c, c, 3)
            parts.append(n.node("Add", [parts[-1], z]) if shortcut else z)
        return cv(n.node("Concat", parts, axis=1), (2 + blocks) * c, cout)

    def upsample(x):
        return n.node("Resize", [x, "", n.const([1, 1, 2, 2])], mode="nearest")

    x = cv(cv(x, 3, 16, 3, 2), 16, 32, 3, 2)
    x = c2f(x, 32, 32, 1)
    p3 = c2f(cv(x, 32, 64, 3, 2), 64, 64, 2)
    p4 = c2f(cv(p3, 64, 128, 3, 2), 128, 128, 2)
    x = c2f(cv(p4, 128, 256, 3, 2), 256, 256, 1)
    # SPPF: three chained 5x5 max pools, concatenated
    y = cv(x, 256, 128)
    pools = [y]
    for _ in range(3):
        pools.append(n.node("MaxPool", [pools[-1]], kernel_shape=[5, 5], strides=[1, 1], pads=[2] * 4))
    p5 = cv(n.node("Concat", pools, axis=1), 512, 256)
    n4 = c2f(n.node("Concat", [upsample(p5), p4], axis=1), 384, 128, 1, shortcut=False)
    n3 = c2f(n.node("Concat", [upsample(n4), p3], axis=1), 192, 64, 1, shortcut=False)
    m4 = c2f(n.node("Concat", [cv(n3, 64, 64, 3, 2), n4], axis=1), 192, 128, 1, shortcut=False)
    m5 = c2f(n.node("Concat", [cv(m4, 128, 128, 3, 2), p5], axis=1), 384, 256, 1, shortcut=False)
    heads = []
    for feat, c in [(n3, 64), (m4, 128), (m5, 256)]:
        box = n.conv(cv(cv(feat, c, 64, 3), 64, 64, 3), 64, 64, 1)
        cls = n.conv(cv(cv(feat, c, 80, 3), 80, 80, 3), 80, 80, 1)
        y = n.node("Concat", [box, cls], axis=1)
        heads.append(n.node("Reshape", [y, n.const([1, 144, -1], np.int64)]))
    n.node("Concat", heads, axis=2)
    return n.model("detections", [1, 144, 8400], "YOLOv8n-style detector, 1x3x640x640"), image(7032, 640)


def bytecnn(length=2048):
    n = Net("bytecnn", 7041)
    x = n.g.input("bytes", [1, length], np.int64)
    table = n.g.init("embedding", mm.small(n.rng, (256, 64), 0.5))
    x = n.node("Transpose", [n.node("Gather", [table, x])], perm=[0, 2, 1])
    x = n.node("MaxPool", [n.conv(x, 64, 128, (16,), act="relu", pad=[8, 7])], kernel_shape=[4], strides=[4])
    x = n.node("MaxPool", [n.conv(x, 128, 192, (16,), act="relu", pad=[8, 7])], kernel_shape=[4], strides=[4])
    x = n.conv(x, 192, 256, (8,), act="relu", pad=[4, 3])
    x = n.node("Flatten", [n.node("GlobalMaxPool", [x])], axis=1)
    x = n.linear(n.linear(x, 256, 256, act="relu"), 256, 128)
    n.node("Softmax", [x], axis=-1)
    data = np.random.default_rng(7042).integers(0, 256, (1, length)).astype(np.int64)
    return n.model("scores", [1, 128], f"byte-level 1-D CNN classifier over {length} bytes"), [data]


def crnn(width=256):
    n = Net("crnn", 7051)
    x = n.g.input("line", [1, 1, 32, width])

    def pool(x, kh, kw):
        return n.node("MaxPool", [x], kernel_shape=[kh, kw], strides=[kh, kw])

    x = pool(n.conv(x, 1, 64, 3, act="relu"), 2, 2)
    x = pool(n.conv(x, 64, 128, 3, act="relu"), 2, 2)
    x = n.conv(n.conv(x, 128, 256, 3, act="relu"), 256, 256, 3, act="relu")
    x = n.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 1], pads=[0, 0, 0, 1])
    x = n.conv(n.conv(x, 256, 512, 3, act="relu"), 512, 512, 3, act="relu")
    x = n.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 1], pads=[0, 0, 0, 1])
    x = n.conv(x, 512, 512, 2, act="relu", pad=[0, 0, 0, 0])  # [1, 512, 1, T]
    steps = width // 4 - 1
    x = n.node("Transpose", [n.node("Squeeze", [x, n.const([2], np.int64)])], perm=[2, 0, 1])
    x = n.recurrent("LSTM", x, 512, 256, steps)
    x = n.recurrent("LSTM", x, 512, 256, steps)
    n.node("LogSoftmax", [n.linear(x, 512, 37)], axis=-1)
    line = mm.normal(np.random.default_rng(7052), (1, 1, 32, width))
    return n.model("log_probs", [steps, 1, 37], "CRNN text recogniser, 1x1x32x256"), [line]


def bert(seq):
    model, inputs, _ = mm.build_encoder(S=seq, D=768, H=12, F=3072)
    return model, inputs


def vit(layers=4, d=384, heads=6):
    n = Net("vit", 7061)
    x = n.g.input("image", [1, 3, 224, 224])
    x = n.conv(x, 3, d, 16, 16, pad=[0] * 4)  # [1, d, 14, 14]
    x = n.node("Transpose", [n.node("Reshape", [x, n.const([1, d, 196], np.int64)])], perm=[0, 2, 1])
    cls = n.g.init("class_token", mm.small(n.rng, (1, 1, d), 0.02))
    x = n.node("Concat", [cls, x], axis=1)
    x = n.node("Add", [x, n.g.init("positions", mm.small(n.rng, (1, 197, d), 0.02))])
    for _ in range(layers):
        x = n.node("Add", [x, n.attention(n.layernorm(x, d), 197, d, heads)])
        y = n.linear(n.gelu(n.linear(n.layernorm(x, d), d, 4 * d)), 4 * d, d)
        x = n.node("Add", [x, y])
    x = n.node("Gather", [n.layernorm(x, d), n.const(0, np.int64)], axis=1)
    n.linear(x, d, 1000)
    return n.model("logits", [1, 1000], f"ViT-S/16-style, {layers} layers, 1x3x224x224"), image(7062)


def speech(frames=1000):
    n = Net("speech", 7071)
    x = n.g.input("mel", [1, 80, frames])
    x = n.conv(x, 80, 256, (11,), 2, act="relu", pad=[5, 5])
    x = n.conv(x, 256, 256, (11,), act="relu", pad=[5, 5])
    steps = frames // 2
    x = n.node("Transpose", [x], perm=[2, 0, 1])  # [T, 1, 256]
    x = n.recurrent("GRU", x, 256, 256, steps)
    x = n.recurrent("GRU", x, 512, 256, steps)
    n.node("Softmax", [n.linear(x, 512, 29)], axis=-1)
    mel = mm.normal(np.random.default_rng(7072), (1, 80, frames))
    return n.model("probs", [steps, 1, 29], "speech front end: 1-D convolutions and BiGRUs"), [mel]


# name -> () -> (model, inputs)
ZOO = {
    "resnet50": resnet50,
    "mobilenet_v2": mobilenet_v2,
    "mobilenet_v3": mobilenet_v3,
    "efficientnet_b0": efficientnet_b0,
    "yolo": yolo,
    "bytecnn": bytecnn,
    "crnn": crnn,
    "bert128": lambda: bert(128),
    "bert384": lambda: bert(384),
    "vit": vit,
    "speech": speech,
}


if __name__ == "__main__":
    for name, build in ZOO.items():
        model, _ = build()
        print(f"{name}: {len(model.graph.node)} nodes, {model.ByteSize() / 1e6:.1f} MB")
