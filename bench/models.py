"""The ONNX models bench/compare.py measures at the sizes issue 3 names.

- `resnet()`: a ResNet-style CNN on a 1x3x224x224 image (7x7 stem, max pool, four stages of
  two basic blocks with batch norm and residual adds, global average pool, classifier), about
  1.6 GFLOP (a multiply-add counts as two).
- `mobilenet_v2()`: MobileNetV2 on a 1x3x224x224 image (depthwise convolutions, ReLU6,
  inverted residuals), batch norms folded, about 0.6 GFLOP.
- `encoder()`: a BERT-style encoder, sequence 128, hidden 256, 4 heads, 2 layers (the golden
  encoder's builder at that size).

Both use the golden models' graph helper (tests/models/make_models.py), so they are built the
same way, and fixed seeds, so every run measures the same model.
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "models"))
import make_models as mm  # noqa: E402


def resnet(widths=(40, 80, 160, 320), size=224):
    """Returns (model, [image], flops)."""
    rng = np.random.default_rng(5005)
    g = mm.Graph("resnet")
    x = g.input("image", [1, 3, size, size])
    flops = 0

    def conv(name, x, cin, cout, hw_out, k, stride):
        nonlocal flops
        flops += 2 * cout * hw_out * hw_out * cin * k * k
        w = g.init(f"{name}_weight", mm.he(rng, (cout, cin, k, k), cin * k * k))
        y = g.node("Conv", [x, w], name=name, kernel_shape=[k, k], strides=[stride, stride],
                   pads=[k // 2] * 4)
        scale = g.init(f"{name}_bn_scale", rng.uniform(0.5, 1.0, cout).astype(np.float32))
        bias = g.init(f"{name}_bn_bias", mm.small(rng, (cout,), 0.1))
        mean = g.init(f"{name}_bn_mean", mm.small(rng, (cout,), 0.1))
        var = g.init(f"{name}_bn_var", rng.uniform(0.5, 1.5, cout).astype(np.float32))
        return g.node("BatchNormalization", [y, scale, bias, mean, var], name=f"{name}_bn",
                      epsilon=1e-5)

    hw = size // 2
    x = g.node("Relu", [conv("stem", x, 3, widths[0], hw, 7, 2)], name="stem_relu")
    hw //= 2
    x = g.node("MaxPool", [x], name="stem_pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    cin = widths[0]
    for stage, cout in enumerate(widths):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            hw //= stride
            p = f"s{stage}b{block}"
            y = g.node("Relu", [conv(f"{p}_conv1", x, cin, cout, hw, 3, stride)], name=f"{p}_relu1")
            y = conv(f"{p}_conv2", y, cout, cout, hw, 3, 1)
            shortcut = x if stride == 1 and cin == cout else conv(f"{p}_down", x, cin, cout, hw, 1, stride)
            x = g.node("Relu", [g.node("Add", [y, shortcut], name=f"{p}_add")], name=f"{p}_relu2")
            cin = cout
    x = g.node("GlobalAveragePool", [x], name="gap")
    x = g.node("Flatten", [x], name="flatten", axis=1)
    w = g.init("fc_weight", mm.xavier(rng, (1000, cin), cin, 1000))
    b = g.init("fc_bias", mm.small(rng, (1000,), 0.05))
    flops += 2 * cin * 1000
    g.node("Gemm", [x, w, b], name="fc", outputs=["logits"], transB=1)
    g.output("logits", [1, 1000])
    image = mm.normal(np.random.default_rng(5006), (1, 3, size, size))
    return g.model("ResNet-style CNN, 1x3x224x224"), [image], flops


def mobilenet_v2(size=224):
    """MobileNetV2 (width 1.0) on a 1x3xSIZExSIZE image, batch norms folded into the
    convolutions' biases: inverted residual blocks of a 1x1 expansion, a 3x3 depthwise
    convolution and a 1x1 projection with ReLU6, residual adds where shapes allow, a 1x1
    convolution to 1280 channels, global average pooling and a classifier. Returns (model,
    [image], flops)."""
    rng = np.random.default_rng(5008)
    g = mm.Graph("mobilenet_v2")
    x = g.input("image", [1, 3, size, size])
    six = g.init("relu6_max", np.array(6.0, np.float32))
    zero = g.init("relu6_min", np.array(0.0, np.float32))
    flops = 0

    def conv(name, x, cin, cout, hw_out, k, stride, group=1, relu6=True):
        nonlocal flops
        flops += 2 * cout * hw_out * hw_out * (cin // group) * k * k
        w = g.init(f"{name}_weight", mm.he(rng, (cout, cin // group, k, k), (cin // group) * k * k))
        b = g.init(f"{name}_bias", mm.small(rng, (cout,), 0.05))
        y = g.node("Conv", [x, w, b], name=name, kernel_shape=[k, k], strides=[stride, stride],
                   pads=[k // 2] * 4, group=group)
        return g.node("Clip", [y, zero, six], name=f"{name}_relu6") if relu6 else y

    hw = size // 2
    x = conv("stem", x, 3, 32, hw, 3, 2)
    cin = 32
    for i, (t, c, n, s) in enumerate([(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                      (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]):
        for j in range(n):
            stride = s if j == 0 else 1
            hw_in, hw = hw, hw // stride
            p, hidden = f"b{i}_{j}", cin * t
            y = conv(f"{p}_expand", x, cin, hidden, hw_in, 1, 1) if t != 1 else x
            y = conv(f"{p}_dw", y, hidden, hidden, hw, 3, stride, group=hidden)
            y = conv(f"{p}_project", y, hidden, c, hw, 1, 1, relu6=False)
            x = g.node("Add", [x, y], name=f"{p}_add") if stride == 1 and cin == c else y
            cin = c
    x = conv("head", x, cin, 1280, hw, 1, 1)
    x = g.node("GlobalAveragePool", [x], name="gap")
    x = g.node("Flatten", [x], name="flatten", axis=1)
    w = g.init("fc_weight", mm.xavier(rng, (1000, 1280), 1280, 1000))
    b = g.init("fc_bias", mm.small(rng, (1000,), 0.05))
    flops += 2 * 1280 * 1000
    g.node("Gemm", [x, w, b], name="fc", outputs=["logits"], transB=1)
    g.output("logits", [1, 1000])
    image = mm.normal(np.random.default_rng(5009), (1, 3, size, size))
    return g.model("MobileNetV2, 1x3x224x224"), [image], flops


def encoder(seq=128, hidden=256, heads=4, ffn=1024):
    """Returns (model, [hidden states], flops)."""
    model, inputs, _ = mm.build_encoder(S=seq, D=hidden, H=heads, F=ffn)
    per_layer = 2 * seq * hidden * (4 * hidden + 2 * ffn) + 2 * 2 * seq * seq * hidden
    return model, inputs, 2 * per_layer


if __name__ == "__main__":
    for name, build in [("resnet", resnet), ("encoder", encoder)]:
        model, _, flops = build()
        print(f"{name}: {len(model.graph.node)} nodes, {flops / 1e9:.2f} GFLOP")
