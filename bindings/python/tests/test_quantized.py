"""Quantised ops whose operands kiln computes on as integers (ui8 by i8 summed in i32): ONNX's
integer and QLinear ops with constant zero points, deep enough that an f32 accumulation would
not be exact, against ONNX's reference implementation (exact integers, or requantised values
within one step)."""

import numpy as np
import pytest

import kiln.compiler as kc
import kiln.runtime as kr

onnx = pytest.importorskip("onnx")
from onnx import helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

TARGETS = [("llvm-cpu", "local-sync"), ("vmvx", "local-task")]


def model_of(op, inputs, constants, out_type, **attrs):
    """A one-node model: `inputs` (name -> array) are graph inputs, `constants` initializers."""
    names = list(inputs) + list(constants)
    graph = helper.make_graph(
        [helper.make_node(op, names, ["y"], **attrs)],
        "g",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in inputs.items()],
        [helper.make_tensor_value_info("y", out_type, None)],
        [numpy_helper.from_array(v, n) for n, v in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


def run_both(model, inputs, target, device):
    want = ReferenceEvaluator(model).run(None, inputs)[0]
    blob = kc.compile_str(model.SerializeToString(), target_backends=[target])
    got = np.asarray(kr.load_module(blob, device=device).main(*inputs.values()))
    return got, want


def int8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


@pytest.mark.parametrize("target,device", TARGETS)
@pytest.mark.parametrize("x_type", [np.uint8, np.int8])
def test_conv_integer_is_exact_over_deep_windows(x_type, target, device):
    rng = np.random.default_rng(11)
    info = np.iinfo(x_type)
    x = rng.integers(info.min, info.max + 1, (1, 40, 9, 11)).astype(x_type)
    # 40 channels by 3x3: 360 products per output, beyond f32's exact sums of 8-bit values.
    constants = {
        "w": int8(rng, (6, 40, 3, 3)),
        "x_zero_point": np.array(x_type(7)),
        "w_zero_point": np.array(np.int8(0)),
    }
    model = model_of("ConvInteger", {"x": x}, constants, onnx.TensorProto.INT32,
                     pads=[1, 2, 1, 0], strides=[2, 1])
    got, want = run_both(model, {"x": x}, target, device)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("target,device", TARGETS)
def test_conv_integer_of_unsigned_weights_with_data_zero_points_is_exact(target, device):
    """uint8 weights with a non-zero zero point and the activations' zero point given as
    data (as DynamicQuantizeLinear feeds it): 64 channels by 3x3 is 576 products per
    output, summed exactly in slices of channels."""
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, (1, 64, 7, 9)).astype(np.uint8)
    inputs = {
        "x": x,
        "w": rng.integers(0, 256, (5, 64, 3, 3)).astype(np.uint8),
        "x_zero_point": np.array(np.uint8(131)),
    }
    constants = {"w_zero_point": np.array(np.uint8(121))}
    model = model_of("ConvInteger", inputs, constants, onnx.TensorProto.INT32, pads=[1, 1, 1, 1])
    got, want = run_both(model, inputs, target, device)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("target,device", TARGETS)
def test_qlinear_conv_with_per_channel_weights(target, device):
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, (2, 16, 10, 10)).astype(np.uint8)
    constants = {
        "x_scale": np.array(0.02, np.float32),
        "x_zero_point": np.array(np.uint8(120)),
        "w": int8(rng, (8, 16, 3, 3)),
        "w_scale": rng.uniform(0.001, 0.004, 8).astype(np.float32),
        "w_zero_point": np.zeros(8, np.int8),
        "y_scale": np.array(0.35, np.float32),
        "y_zero_point": np.array(np.uint8(128)),
        "B": rng.integers(-2000, 2000, 8).astype(np.int32),
    }
    model = model_of("QLinearConv", {"x": x}, constants, onnx.TensorProto.UINT8,
                     pads=[1, 1, 1, 1])
    got, want = run_both(model, {"x": x}, target, device)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.parametrize("target,device", TARGETS)
def test_matmul_integer_is_exact(target, device):
    rng = np.random.default_rng(13)
    a = rng.integers(0, 256, (3, 5, 700)).astype(np.uint8)
    constants = {
        "b": int8(rng, (700, 9)),
        "a_zero_point": np.array(np.uint8(200)),
    }
    model = model_of("MatMulInteger", {"a": a}, constants, onnx.TensorProto.INT32)
    got, want = run_both(model, {"a": a}, target, device)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("target,device", TARGETS)
def test_qlinear_matmul_of_int8(target, device):
    rng = np.random.default_rng(14)
    a = int8(rng, (6, 300))
    constants = {
        "a_scale": np.array(0.05, np.float32),
        "a_zero_point": np.array(np.int8(-3)),
        "b": int8(rng, (300, 12)),
        "b_scale": np.array(0.01, np.float32),
        "b_zero_point": np.array(np.int8(0)),
        "y_scale": np.array(0.9, np.float32),
        "y_zero_point": np.array(np.int8(5)),
    }
    model = model_of("QLinearMatMul", {"a": a}, constants, onnx.TensorProto.INT8)
    got, want = run_both(model, {"a": a}, target, device)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
