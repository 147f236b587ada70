"""ONNX ops that kiln builds from simpler ops, against NumPy in float64: elementwise math over
its whole domain and the IEEE edge cases (±0, ±∞, NaN, out-of-domain), and normalisations."""

import numpy as np
import pytest

import kiln.compiler as kc
import kiln.runtime as kr

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

TARGETS = [("llvm-cpu", "local-sync"), ("vmvx", "local-task")]


def run_model(op, inputs, target, device, opset=17, extra_args=(), **attrs):
    names = ["x", "y"][: len(inputs)]
    n = len(inputs[0])
    elem = helper.np_dtype_to_tensor_dtype(inputs[0].dtype)
    graph = helper.make_graph(
        [helper.make_node(op, names, ["z"], **attrs)],
        "g",
        [helper.make_tensor_value_info(name, elem, [n]) for name in names],
        [helper.make_tensor_value_info("z", elem, [n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    blob = kc.compile_str(
        model.SerializeToString(), target_backends=[target], extra_args=extra_args
    )
    return np.asarray(kr.load_module(blob, device=device).main(*inputs))


def assert_close_with_nans(got, want, rtol):
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    finite = ~np.isnan(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=0)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize(
    "op,ref,domain",
    [
        ("Asin", np.arcsin, np.linspace(-1, 1, 4001)),
        ("Acos", np.arccos, np.linspace(-1, 1, 4001)),
        ("Atan", np.arctan, np.linspace(-60, 60, 4001)),
    ],
)
def test_inverse_trig_is_accurate_to_a_few_ulp(op, ref, domain, target, device):
    edges = [0.0, -0.0, 1.0, -1.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 1e30, -1e-30]
    x = np.concatenate([domain, edges]).astype(np.float32)
    with np.errstate(invalid="ignore"):
        want = ref(x.astype(np.float64))
    assert_close_with_nans(run_model(op, [x], target, device), want, rtol=1e-6)


def inline_math_cases():
    rng = np.random.default_rng(11)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan]
    tiny = [1e-40, 1e-30, 1.2e-38, 3e-39]
    return [
        ("Log", np.log, [np.geomspace(1e-30, 1e30, 3001), tiny, [-1.0, 1.0, 2.0], edges]),
        ("Sin", np.sin, [np.linspace(-100, 100, 4001), [np.pi, -np.pi / 2, 1e-8], edges]),
        ("Cos", np.cos, [np.linspace(-100, 100, 4001), [np.pi, -np.pi / 2, 1e-8], edges]),
        ("Tanh", np.tanh, [np.linspace(-20, 20, 4001), [1e-8, -0.6249, 0.6251, 44.0], edges]),
        (
            "Softplus",
            lambda x: np.logaddexp(0, x),
            [np.linspace(-100, 100, 4001), [-1e-8, 19.9, 20.1], edges],
        ),
        ("Exp", np.exp, [rng.uniform(-100, 90, 2000), [-104.0, 88.5], edges]),
    ]


@pytest.mark.parametrize("op,ref,parts", inline_math_cases())
def test_inline_math_is_accurate_to_a_few_ulp(op, ref, parts):
    """The math GPU kernels write inline (no C library), checked on the CPU: llvm-cpu with
    --kiln-llvmcpu-inline-math runs the same LLVM IR the cuda and rocm targets emit."""
    x = np.concatenate([np.asarray(p, np.float64) for p in parts]).astype(np.float32)
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64))
        # Beyond f32's range the result is ±inf, as in f32 arithmetic.
        want = np.where(np.abs(want) > np.finfo(np.float32).max, want * np.inf, want)
    got = run_model(op, [x], "llvm-cpu", "local-sync", extra_args=["--kiln-llvmcpu-inline-math"])
    assert np.array_equal(np.isnan(got), np.isnan(want)), (x[np.isnan(got) != np.isnan(want)])
    finite = ~np.isnan(want)
    # A few ulp of the result, with an absolute floor where it passes through zero.
    np.testing.assert_allclose(got[finite], want[finite], rtol=2e-6, atol=1e-7)


def vulkan_or_skip():
    try:
        if kr.get_driver("vulkan").query_available_devices():
            return
    except kr.KilnRuntimeError:
        pass
    pytest.skip("no Vulkan device")


@pytest.mark.parametrize(
    "target,device,extra_args",
    [
        ("llvm-cpu", "local-sync", ["--kiln-llvmcpu-inline-math"]),
        ("llvm-cpu", "local-sync", []),
        ("vmvx", "local-task", []),
        ("vulkan-spirv", "vulkan", []),
    ],
)
def test_pow_follows_powf(target, device, extra_args):
    """powf's special cases on every path: C's powf (llvm-cpu), the inline math GPU kernels
    write (llvm-cpu with --kiln-llvmcpu-inline-math), VMVX and SPIR-V."""
    if device == "vulkan":
        vulkan_or_skip()
    rng = np.random.default_rng(5)
    inf = np.inf
    edge_x = [-2, -2, -0.5, 0, 0, -0.0, 1, -1, 4, np.nan, -inf, -inf, -inf, -inf, 0, inf, 0.5]
    edge_y = [3, 2, 0.5, 2, -1, 3, np.nan, inf, 0, 0, 0.5, -0.5, 3, -3, np.nan, -2, -inf]
    x = np.concatenate([rng.uniform(0.1, 10, 1000), edge_x])
    y = np.concatenate([rng.uniform(-5, 5, 1000), edge_y])
    x, y = x.astype(np.float32), y.astype(np.float32)
    with np.errstate(all="ignore"):
        want = np.power(x.astype(np.float64), y.astype(np.float64))
    got = run_model("Pow", [x, y], target, device, extra_args=extra_args)
    assert_close_with_nans(got, want, rtol=5e-6)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("fmod", [0, 1])
def test_float_mod_follows_c_fmod_and_python_sign_rules(fmod, target, device):
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-100, 100, 200), [0, -0.0, 3, -3, 1, np.inf, np.nan, 5]])
    y = np.concatenate([rng.uniform(-9, 9, 200), [-2, 2, np.inf, np.inf, 0, 2, 2, np.nan]])
    x, y = x.astype(np.float32), y.astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.fmod if fmod else np.mod
        want = ref(x.astype(np.float64), y.astype(np.float64))
    got = run_model("Mod", [x, y], target, device, opset=28, fmod=fmod)
    assert_close_with_nans(got, want, rtol=1e-4)
    if not fmod:
        zeros = want == 0
        assert np.array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64])
@pytest.mark.parametrize("fmod", [0, 1])
def test_integer_mod_is_exact(dtype, fmod, target, device):
    rng = np.random.default_rng(3)
    hi = np.iinfo(dtype).max
    x = rng.integers(-hi, hi, 300).astype(dtype)
    y = rng.integers(-20, 20, 300).astype(dtype)
    y[y == 0] = 7
    want = np.fmod(x, y) if fmod else np.mod(x, y)
    got = run_model("Mod", [x, y], target, device, opset=13, fmod=fmod)
    assert got.dtype == dtype and np.array_equal(got, want)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float16, 2e-3)])
def test_group_normalization_matches_numpy(dtype, rtol, target, device):
    rng = np.random.default_rng(11)
    n, c, h, w, groups = 2, 6, 5, 3, 3
    x = rng.normal(2.0, 3.0, (n, c, h, w)).astype(dtype)
    scale = rng.normal(size=c).astype(dtype)
    bias = rng.normal(size=c).astype(dtype)
    g = x.astype(np.float64).reshape(n, groups, -1)
    norm = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-3)
    norm = norm.reshape(x.shape).astype(dtype).astype(np.float64)
    want = norm * scale.reshape(1, c, 1, 1) + bias.reshape(1, c, 1, 1)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        [helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=groups,
                          epsilon=1e-3)],
        "g",
        [helper.make_tensor_value_info("x", elem, x.shape),
         helper.make_tensor_value_info("s", elem, [c]),
         helper.make_tensor_value_info("b", elem, [c])],
        [helper.make_tensor_value_info("y", elem, x.shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    blob = kc.compile_str(model.SerializeToString(), target_backends=[target])
    got = np.asarray(kr.load_module(blob, device=device).main(x, scale, bias))
    assert got.dtype == dtype
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("op", ["ReduceLogSum", "ReduceLogSumExp"])
@pytest.mark.parametrize("opset,keepdims", [(13, 1), (13, 0), (18, 0)])
def test_log_reductions_match_numpy_without_overflow(op, opset, keepdims, target, device):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.1, 4.0, (3, 4, 5)).astype(np.float32)
    if op == "ReduceLogSumExp":
        x[0] += 200.0  # exp would overflow float32 without the max shift
        x[1, 2] = -np.inf
        x[2, :, 1] = -np.inf  # a slice of -inf alone gives -inf
    axes = [0, 2] if op == "ReduceLogSum" else [1]
    x64 = x.astype(np.float64)
    with np.errstate(divide="ignore"):
        if op == "ReduceLogSum":
            want = np.log(x64.sum(axis=tuple(axes), keepdims=bool(keepdims)))
        else:
            want = np.logaddexp.reduce(x64, axis=axes[0], keepdims=bool(keepdims))
    nodes, inits, attrs = [], [], {"keepdims": keepdims}
    names = ["x"]
    if opset >= 18:
        inits.append(helper.make_tensor("axes", TensorProto.INT64, [len(axes)], axes))
        names.append("axes")
    else:
        attrs["axes"] = axes
    nodes.append(helper.make_node(op, names, ["y"], **attrs))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, want.shape)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    blob = kc.compile_str(model.SerializeToString(), target_backends=[target])
    got = np.asarray(kr.load_module(blob, device=device).main(x))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("align_corners", [0, 1])
def test_grid_sample_cubic_border_follows_onnx_reference(align_corners, target, device):
    # ONNX Runtime moves both coordinates to the border when either lies outside it; ONNX's
    # reference moves only the one outside, which cubic weights can tell apart.
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
    grid = rng.uniform(-1.6, 1.6, (1, 7, 4, 2)).astype(np.float32)
    node = helper.make_node("GridSample", ["x", "grid"], ["y"], mode="cubic",
                            padding_mode="border", align_corners=align_corners)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape),
         helper.make_tensor_value_info("grid", TensorProto.FLOAT, grid.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 7, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    want = ReferenceEvaluator(model).run(None, {"x": x, "grid": grid})[0]
    blob = kc.compile_str(model.SerializeToString(), target_backends=[target])
    got = np.asarray(kr.load_module(blob, device=device).main(x, grid))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("channels_per_group", [1, 8])
def test_convolutions_with_one_output_channel_per_group(channels_per_group, target, device):
    """Depthwise (one input channel per group) and grouped convolutions with one output
    channel per group: their workgroups take several groups."""
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(21)
    groups = 24
    x = rng.standard_normal((2, groups * channels_per_group, 13, 11)).astype(np.float32)
    w = rng.standard_normal((groups, channels_per_group, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], group=groups, pads=[1, 1, 1, 1], strides=[2, 1])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    want = ReferenceEvaluator(model).run(None, {"x": x})[0]
    blob = kc.compile_str(model.SerializeToString(), target_backends=[target])
    got = np.asarray(kr.load_module(blob, device=device).main(x))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
