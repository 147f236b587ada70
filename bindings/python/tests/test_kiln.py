"""The Python API: IREE's deployment-configuration calls, golden models, bad input, lifetimes
and threads."""

import gc
import os
import tempfile
import threading

import numpy as np
import pytest

import kiln.compiler as kc
import kiln.runtime as kr

MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "models")


def model(name):
    return os.path.join(MODELS, name, "model.onnx")


def golden(name, prefix):
    files = sorted(f for f in os.listdir(os.path.join(MODELS, name)) if f.startswith(prefix + "_"))
    files.sort(key=lambda f: int(f.split("_")[1].split(".")[0]))
    return [np.load(os.path.join(MODELS, name, f)) for f in files]


SCALAR_IR = """
func @main(%0 "scale": tensor<f32>, %1 "x": tensor<3xf32>) -> (%2 "y") {
  %2 = mul %0, %1 : tensor<3xf32> loc("mul")
}
"""


def test_targets_and_drivers_match_the_reference_page():
    assert kc.query_available_targets() == [
        "cuda", "llvm-cpu", "metal-spirv", "rocm", "vmvx", "vmvx-inline", "vulkan-spirv",
        "webgpu-spirv",
    ]
    # Built-in drivers (a test may load the example plugin's driver too).
    drivers = [d for d in kr.system_setup.query_available_drivers() if d != "example-accelerator"]
    assert drivers == ["cuda", "hip", "local-sync", "local-task", "vulkan", "webgpu"]
    for name in ["local-sync", "local-task"]:
        devices = kr.get_driver(name).query_available_devices()
        assert devices == [{"device_id": 0, "path": "", "name": "default"}]
    for name, library in [("cuda", "libcuda.so.1"), ("hip", "libamdhip64.so")]:
        try:
            kr.get_driver(name).query_available_devices()
        except kr.KilnRuntimeError as e:  # no NVIDIA driver or ROCm installed, as in CI
            assert f"{name}: failed to initialize: cannot load {library}" in str(e)
    try:
        vulkan = kr.get_driver("vulkan").query_available_devices()
    except kr.KilnRuntimeError as e:  # no Vulkan loader or driver installed
        assert "failed to initialize" in str(e)
    else:
        for d in vulkan:
            assert set(d) == {"device_id", "path", "name"} and len(d["path"]) == 36


def test_unknown_driver_raises_the_runtime_error():
    with pytest.raises(kr.KilnRuntimeError, match="unknown driver 'metal'"):
        kr.get_driver("metal")
    assert issubclass(kr.KilnRuntimeError, RuntimeError)


@pytest.mark.parametrize("name", ["mlp", "cnn", "encoder", "elementwise", "ops_misc"])
@pytest.mark.parametrize("device", ["local-sync", "local-task"])
def test_golden_models_match_onnx_runtime(name, device):
    m = kr.load_module(kc.compile_file(model(name), target_backends=["vmvx"]), device=device)
    results = m.main(*golden(name, "input"))
    results = results if isinstance(results, tuple) else (results,)
    for got, want in zip(results, golden(name, "expected")):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_vmvx_inline_modules_run_without_a_device(name):
    blob = kc.compile_file(model(name), target_backends=["vmvx-inline"])
    m = kr.load_module(blob)
    (x,), (want,) = golden(name, "input"), golden(name, "expected")
    got = m.main(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(kr.KilnRuntimeError, match=r"expects .* but got 1x2xf32"):
        m.main(np.zeros((1, 2), np.float32))
    with pytest.raises(kr.KilnRuntimeError, match="vmvx-inline modules run without a device"):
        kr.load_module(blob, device="local-sync")


@pytest.mark.skipif(not os.environ.get("KILN_EXAMPLE_PLUGIN"), reason="KILN_EXAMPLE_PLUGIN (the example driver plugin's path) is not set")
def test_a_driver_plugin_runs_the_cnn():
    driver = kr.load_driver_plugin(os.environ["KILN_EXAMPLE_PLUGIN"])
    assert driver.name == "example-accelerator"
    assert "example-accelerator" in kr.query_available_drivers()
    m = kr.load_module(kc.compile_file(model("cnn"), target_backends=["vmvx"]), device="example-accelerator")
    (x,), (want,) = golden("cnn", "input"), golden("cnn", "expected")
    np.testing.assert_allclose(m.main(x), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(kr.KilnRuntimeError, match="cannot open shared object file"):
        kr.load_driver_plugin("/nonexistent/libplugin.so")


def test_mlp_matches_within_1e5_relative(tmp_path):
    path = tmp_path / "mlp.kiln"
    assert kc.compile_file(model("mlp"), target_backends=["vmvx"], output_file=path) is None
    m = kr.load_module(path)  # memory-mapped
    (x,), (want,) = golden("mlp", "input"), golden("mlp", "expected")
    np.testing.assert_allclose(m["main"](x), want, rtol=1e-5, atol=0)


def available(driver):
    try:
        return bool(kr.get_driver(driver).query_available_devices())
    except RuntimeError:
        return False


# wgpu runs WebGPU on the Vulkan driver here, so KILN_REQUIRE_VULKAN demands both.
@pytest.mark.parametrize("target,driver", [("vulkan-spirv", "vulkan"), ("webgpu-spirv", "webgpu")])
def test_mlp_on_a_gpu_api_matches_within_1e5_relative(target, driver):
    if not available(driver) and not os.environ.get("KILN_REQUIRE_VULKAN"):
        pytest.skip(f"no {driver} device")
    m = kr.load_module(kc.compile_file(model("mlp"), target_backends=[target]), device=driver)
    (x,), (want,) = golden("mlp", "input"), golden("mlp", "expected")
    np.testing.assert_allclose(m["main"](x), want, rtol=1e-5, atol=1e-7)


def test_reflection_and_items():
    m = kr.load_module(kc.compile_file(model("mlp")))
    assert m.function_names == ["main"]
    assert "main" in m
    assert m.main.inputs == [("x", "f32", [8, 784])]
    assert m.main.outputs == [("probs", "f32", [8, 10])]
    with pytest.raises(AttributeError, match="no function named 'forward'"):
        m.forward


def test_scalars_and_lists_are_accepted():
    m = kr.load_module(kc.compile_str(SCALAR_IR))
    np.testing.assert_array_equal(m.main(2.0, [1.0, 2.0, 3.0]), np.array([2, 4, 6], np.float32))
    np.testing.assert_array_equal(m.main(np.float32(0.5), np.ones(3, np.float32)), np.full(3, 0.5, np.float32))


def test_bad_inputs_raise_one_exception_class():
    m = kr.load_module(kc.compile_file(model("mlp")))
    with pytest.raises(kr.KilnRuntimeError, match="expects 8x784xf32 but got a float64 array"):
        m.main(np.zeros((8, 784)))
    with pytest.raises(kr.KilnRuntimeError, match="expects 8x784xf32 but got 8x783xf32"):
        m.main(np.zeros((8, 783), np.float32))
    with pytest.raises(kr.KilnRuntimeError, match="takes 1 inputs but 2 were given"):
        m.main(1, 2)
    with pytest.raises(kr.KilnRuntimeError, match="unknown driver 'metal'"):
        kr.load_module(kc.compile_file(model("mlp")), device="metal")
    blob = kc.compile_file(model("mlp"))
    with pytest.raises(kr.KilnRuntimeError, match="module is truncated"):
        kr.load_module(blob[: len(blob) // 2])
    corrupt = bytearray(blob)
    corrupt[20] ^= 1
    with pytest.raises(kr.KilnRuntimeError, match="checksum of the header"):
        kr.load_module(bytes(corrupt))


def test_compiler_errors_carry_the_cli_message():
    with pytest.raises(kc.CompilerError, match=r"^unsupported op 'Bernoulli' \(node 'my_bernoulli', opset 17\)$"):
        kc.compile_file(model("unsupported"))
    with pytest.raises(kc.CompilerError, match="unknown target backend 'tpu'"):
        kc.compile_file(model("mlp"), target_backends=["tpu"])
    with pytest.raises(kc.CompilerError, match="not a valid ONNX model"):
        kc.compile_str(b"\xff\xff garbage")
    with pytest.raises(kc.CompilerError, match="unknown compiler flag '--frobnicate'"):
        kc.compile_file(model("mlp"), extra_args=["--frobnicate=1"])


def test_extra_args_take_cli_flags():
    text = kc.compile_file(model("mlp"), extra_args=["--iree-hal-target-device=local", "--compile-to=input"])
    assert text.startswith("func @main(")
    blob = kc.compile_file(model("mlp"), extra_args=["--iree-hal-target-device=local", "--iree-hal-local-target-device-backends=vmvx"])
    assert blob[:8] == b"KILNMOD\0"


def test_results_outlive_module_and_device():
    device = kr.create_device("local-task")
    m = kr.load_module(kc.compile_file(model("mlp")), device=device)
    (x,), (want,) = golden("mlp", "input"), golden("mlp", "expected")
    y = m.main(x)
    del m, device
    gc.collect()
    junk = [np.full((8, 10), 7.0, np.float32) for _ in range(100)]
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-5)
    y[0, 0] = 1.0  # results are ordinary writable arrays
    assert len(junk) == 100


def test_concurrent_calls_from_threads():
    m = kr.load_module(kc.compile_file(model("cnn")))
    (x,), (want,) = golden("cnn", "input"), golden("cnn", "expected")
    errors = []

    def worker():
        try:
            for _ in range(5):
                np.testing.assert_allclose(m.main(x), want, rtol=1e-4, atol=1e-5)
        except Exception as e:  # noqa: BLE001 - collected for the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_results_are_not_reused_while_held():
    # Result buffers go back to the module only when NumPy releases them.
    m = kr.load_module(kc.compile_str(SCALAR_IR))
    first = m.main(2.0, [1.0, 2.0, 3.0])
    view = first[1:]
    del first
    second = m.main(10.0, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(view, np.array([4, 6], np.float32))
    np.testing.assert_array_equal(second, np.full(3, 10, np.float32))
    del view
    third = m.main(3.0, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(third, np.full(3, 3, np.float32))
    np.testing.assert_array_equal(second, np.full(3, 10, np.float32))


def test_one_module_for_two_cpu_targets_runs_native_code_first():
    blob = kc.compile_file(model("mlp"), target_backends=["llvm-cpu", "vmvx"])
    x = np.load(os.path.join(os.path.dirname(model("mlp")), "input_0.npy"))
    want = np.load(os.path.join(os.path.dirname(model("mlp")), "expected_0.npy"))
    for device in ["local-sync", "local-task"]:
        got = kr.load_module(blob, device=device).main(x)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_compiler_flags_come_from_one_table():
    dump = tempfile.mkdtemp()
    kc.compile_file(model("mlp"), target_backends=["vmvx"],
                    extra_args=[f"--iree-hal-dump-executable-binaries-to={dump}"])
    assert os.listdir(dump) == ["model_vmvx.vmvx"]
    with pytest.raises(kc.CompilerError, match="unknown compiler flag '--iree-bogus'"):
        kc.compile_file(model("mlp"), target_backends=["vmvx"], extra_args=["--iree-bogus=1"])


def test_one_module_takes_every_size_its_open_dims_allow():
    """Compiled once with --kiln-dynamic-dims, the detector runs at sizes it was never given,
    each matching ONNX Runtime's golden output, and reflection names its open dims."""
    blob = kc.compile_file(model("detector_dynamic"), target_backends=["vmvx"], extra_args=["--kiln-dynamic-dims"])
    f = kr.load_module(blob, device="local-task").main
    assert repr(f) == "<Function @main(images: ?x3x?x?xf32) -> (boxes: ?x6x?xf32)>"
    assert f.inputs == [("images", "f32", ["images_0", 3, "images_2", "images_3"])]
    for prefix in ["", "run1_", "run2_"]:
        x, want = (np.load(os.path.join(MODELS, "detector_dynamic", f"{prefix}{kind}_0.npy")) for kind in ["input", "expected"])
        got = f(x)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(kr.KilnRuntimeError, match=r"dim 1 must be 3"):
        f(np.zeros((1, 4, 8, 8), np.float32))


def test_run_time_branches_and_loops_run_from_one_module():
    """An If whose branches differ in rank and a Loop whose trip count is an input run at
    every input from one module on each target, matching ONNX Runtime; reflection shows a
    result of any rank as `*`."""
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        for name in ["branch_rank", "loop_count"]:
            f = kr.load_module(kc.compile_file(model(name), target_backends=[target]), device=device).main
            if name == "branch_rank":
                assert repr(f) == "<Function @main(x: ?x4xf32, sel: 1xf32) -> (y1: *xf32, y2_scaled: ?x1xf32)>"
            for prefix in ["", "run1_", "run2_"]:
                load = lambda kind, i: np.load(os.path.join(MODELS, name, f"{prefix}{kind}_{i}.npy"))
                inputs = [load("input", i) for i in range(len(f.inputs))]
                got = f(*inputs)
                got = got if isinstance(got, tuple) else (got,)
                for i, g in enumerate(got):
                    want = load("expected", i)
                    assert g.shape == want.shape, (name, prefix, i)
                    np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-5)


def open_dims_main(nodes, x_dims, outputs, consts, device="local-sync"):
    """The `main` of a one-input (`x`, f32 with `x_dims`) ONNX graph of `nodes` with
    constants `consts` (name -> array), compiled once with its dims left open for every
    target (vmvx on `device`, llvm-cpu on local-sync, vulkan-spirv where a Vulkan device
    exists). Calling it runs every build and checks they agree (outputs, or all raising);
    it returns vmvx's outputs or raises its error."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        nodes,
        "open_dims",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)],
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    builds = [("vmvx", device), ("llvm-cpu", "local-sync")]
    if available("vulkan"):
        builds.append(("vulkan-spirv", "vulkan"))
    mains = [
        (target, kr.load_module(kc.compile_str(model.SerializeToString(), target_backends=[target], extra_args=["--kiln-dynamic-dims"]), device=dev).main)
        for target, dev in builds
    ]

    def call(*inputs):
        results = []
        for target, f in mains:
            try:
                results.append((target, f(*inputs), None))
            except Exception as e:  # noqa: BLE001 - every target must fail alike
                results.append((target, None, e))
        first = results[0]
        for target, got, err in results[1:]:
            assert (err is None) == (first[2] is None), f"{target}: {err!r}, vmvx: {first[2]!r}"
            if err is None:
                as_tuple = lambda r: r if isinstance(r, tuple) else (r,)  # noqa: E731
                for a, b in zip(as_tuple(got), as_tuple(first[1])):
                    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5, err_msg=target)
        if first[2] is not None:
            raise first[2]
        return first[1]

    return call


def test_slices_ending_at_a_run_time_size():
    """x + pos[:, :seq] with seq open (a transformer's position table): one module at every
    length up to the table's, and a clear error past it."""
    from onnx import helper

    pos = np.arange(64 * 8, dtype=np.float32).reshape(1, 64, 8)
    consts = {"pos": pos, "zero": np.array([0], np.int64), "one": np.array([1], np.int64), "axis1": np.array(1, np.int64)}
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "axis1"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "zero"], ["n1"]),
        helper.make_node("Slice", ["pos", "zero", "n1", "one"], ["p"]),
        helper.make_node("Add", ["x", "p"], ["y"]),
    ]
    f = open_dims_main(nodes, [1, "seq", 8], ["y"], consts)
    for n in [1, 5, 64]:
        x = np.random.default_rng(n).standard_normal((1, n, 8)).astype(np.float32)
        np.testing.assert_array_equal(f(x), x + pos[:, :n])
    with pytest.raises(kr.KilnRuntimeError, match=r"'p' of 'main' needs seq to be at most 64, but they are 65 and 64"):
        f(np.zeros((1, 65, 8), np.float32))


def test_ranges_up_to_a_run_time_size():
    """Range(start, seq, delta) with seq open (position ids): one module at every length."""
    from onnx import TensorProto, helper

    consts = {k: np.array(v, np.int64) for k, v in {"zero": 0, "one": 1, "two": 2, "three": 3}.items()}
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "one"], ["n"], axis=0),
        helper.make_node("Range", ["zero", "n", "one"], ["positions"]),
        helper.make_node("Range", ["two", "n", "three"], ["strided"]),
        helper.make_node("Cast", ["positions"], ["p"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["x", "p"], ["y"]),
    ]
    f = open_dims_main(nodes, [1, "seq"], ["y", "strided"], consts, device="local-task")
    for n in [1, 2, 7, 300]:
        x = np.random.default_rng(n).standard_normal((1, n)).astype(np.float32)
        y, strided = f(x)
        np.testing.assert_array_equal(y, x + np.arange(n, dtype=np.float32))
        np.testing.assert_array_equal(strided, np.arange(2, n, 3, dtype=np.int64))


def test_tiles_by_a_run_time_count():
    """Tile(m, [batch, 1, 1]) with batch open: a mask repeated once per batch element."""
    from onnx import helper

    m = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    consts = {"m": m, "zero": np.array([0], np.int64), "one": np.array([1], np.int64), "ones": np.array([1, 1], np.int64)}
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Slice", ["s", "zero", "one"], ["b"]),
        helper.make_node("Concat", ["b", "ones"], ["reps"], axis=0),
        helper.make_node("Tile", ["m", "reps"], ["t"]),
        helper.make_node("Add", ["x", "t"], ["y"]),
    ]
    f = open_dims_main(nodes, ["batch", 2, 3], ["y"], consts)
    for b in [1, 4, 10]:
        x = np.random.default_rng(b).standard_normal((b, 2, 3)).astype(np.float32)
        np.testing.assert_array_equal(f(x), x + np.tile(m, (b, 1, 1)))


def test_triangles_of_run_time_size():
    """Trilu over an open sequence (a causal mask): lower with k=0 and upper with k=1."""
    from onnx import helper

    nodes = [
        helper.make_node("Trilu", ["x"], ["lower"], upper=0),
        helper.make_node("Trilu", ["x", "one"], ["upper"], upper=1),
    ]
    f = open_dims_main(nodes, ["batch", "seq", "seq"], ["lower", "upper"], {"one": np.array(1, np.int64)})
    for b, n in [(1, 1), (2, 5), (1, 33)]:
        x = np.random.default_rng(n).standard_normal((b, n, n)).astype(np.float32)
        lower, upper = f(x)
        np.testing.assert_array_equal(lower, np.tril(x))
        np.testing.assert_array_equal(upper, np.triu(x, 1))


def test_cumulative_sums_over_a_run_time_length():
    """CumSum along an open sequence (RoBERTa's position ids count a mask), every variant."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Greater", ["x", "zero_f"], ["pos"]),
        helper.make_node("Cast", ["pos"], ["mask"], to=TensorProto.INT64),
        helper.make_node("CumSum", ["mask", "one"], ["counts"]),
        helper.make_node("CumSum", ["x", "one"], ["sums"]),
        helper.make_node("CumSum", ["x", "one"], ["back"], exclusive=1, reverse=1),
    ]
    consts = {"zero_f": np.array(0, np.float32), "one": np.array(1, np.int64)}
    f = open_dims_main(nodes, ["batch", "seq"], ["counts", "sums", "back"], consts)
    for b, n in [(1, 1), (2, 9), (3, 100)]:
        x = np.random.default_rng(n).standard_normal((b, n)).astype(np.float32)
        counts, sums, back = f(x)
        np.testing.assert_array_equal(counts, np.cumsum(x > 0, axis=1))
        np.testing.assert_allclose(sums, np.cumsum(x, axis=1), rtol=1e-5, atol=1e-5)
        want = np.cumsum(x[:, ::-1], axis=1)[:, ::-1] - x
        np.testing.assert_allclose(back, want, rtol=1e-5, atol=1e-5)


def test_pads_around_run_time_sizes():
    """Pad (constant pads and value) of an image whose height and width are open."""
    from onnx import helper

    consts = {"pads": np.array([0, 0, 1, 2, 0, 0, 3, 1], np.int64), "v": np.array(0.5, np.float32)}
    f = open_dims_main([helper.make_node("Pad", ["x", "pads", "v"], ["y"])], ["n", 2, "h", "w"], ["y"], consts)
    for shape in [(1, 2, 1, 1), (2, 2, 6, 9)]:
        x = np.random.default_rng(shape[2]).standard_normal(shape).astype(np.float32)
        want = np.pad(x, ((0, 0), (0, 0), (1, 3), (2, 1)), constant_values=0.5)
        np.testing.assert_array_equal(f(x), want)


def test_log_softmax_and_instance_norm_over_run_time_sizes():
    """LogSoftmax along an open sequence (a CTC head) and InstanceNormalization of an image of
    open size, against NumPy."""
    from onnx import helper

    consts = {"scale": np.array([1.5, -0.5], np.float32), "bias": np.array([0.25, 1.0], np.float32)}
    nodes = [
        helper.make_node("LogSoftmax", ["x"], ["logp"], axis=-1),
        helper.make_node("InstanceNormalization", ["x", "scale", "bias"], ["norm"], epsilon=1e-5),
    ]
    f = open_dims_main(nodes, ["n", 2, "len"], ["logp", "norm"], consts)
    for shape in [(1, 2, 3), (3, 2, 50)]:
        x = np.random.default_rng(shape[2]).standard_normal(shape).astype(np.float32)
        logp, norm = f(x)
        shifted = x - x.max(axis=-1, keepdims=True)
        np.testing.assert_allclose(logp, shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)), rtol=1e-5, atol=1e-5)
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        want = (x - mean) / np.sqrt(var + 1e-5) * consts["scale"][None, :, None] + consts["bias"][None, :, None]
        np.testing.assert_allclose(norm, want, rtol=1e-4, atol=1e-4)


def test_arg_extremes_over_run_time_sizes():
    """ArgMax over classes of an open sequence (greedy CTC decoding), ArgMin along the open
    axis itself, and Hardmax, against NumPy."""
    from onnx import helper

    nodes = [
        helper.make_node("ArgMax", ["x"], ["best"], axis=2, keepdims=0),
        helper.make_node("ArgMin", ["x"], ["first_low"], axis=1, keepdims=1),
        helper.make_node("Hardmax", ["x"], ["hot"], axis=1),
    ]
    f = open_dims_main(nodes, ["n", "seq", 5], ["best", "first_low", "hot"], {})
    for shape in [(1, 1, 5), (2, 17, 5)]:
        x = np.random.default_rng(shape[1]).standard_normal(shape).astype(np.float32)
        best, first_low, hot = f(x)
        np.testing.assert_array_equal(best, x.argmax(2))
        np.testing.assert_array_equal(first_low, x.argmin(1)[:, None, :])
        want = (np.arange(shape[1])[None, :, None] == x.argmax(1)[:, None, :]).astype(np.float32)
        np.testing.assert_array_equal(hot, want)


def test_pixel_shuffle_over_run_time_sizes():
    """DepthToSpace (DCR and CRD) of an image of open size, against NumPy's reshapes."""
    from onnx import helper

    nodes = [
        helper.make_node("DepthToSpace", ["x"], ["dcr"], blocksize=2),
        helper.make_node("DepthToSpace", ["x"], ["crd"], blocksize=2, mode="CRD"),
    ]
    f = open_dims_main(nodes, ["n", 8, "h", "w"], ["dcr", "crd"], {})
    for n, h, w in [(1, 1, 1), (2, 3, 5)]:
        x = np.random.default_rng(h).standard_normal((n, 8, h, w)).astype(np.float32)
        dcr, crd = f(x)
        want_dcr = x.reshape(n, 2, 2, 2, h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, 2, 2 * h, 2 * w)
        want_crd = x.reshape(n, 2, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, 2, 2 * h, 2 * w)
        np.testing.assert_array_equal(dcr, want_dcr)
        np.testing.assert_array_equal(crd, want_crd)


def test_group_norm_over_run_time_sizes():
    """GroupNormalization (opset 21) of an image of open size, against NumPy."""
    from onnx import TensorProto, helper, numpy_helper

    scale, bias = np.linspace(0.5, 2.0, 4).astype(np.float32), np.linspace(-1, 1, 4).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], num_groups=2, epsilon=1e-5)],
        "group_norm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(bias, "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    blob = kc.compile_str(model.SerializeToString(), target_backends=["vmvx"], extra_args=["--kiln-dynamic-dims"])
    f = kr.load_module(blob, device="local-sync").main
    for n, h, w in [(1, 1, 2), (2, 5, 7)]:
        x = np.random.default_rng(h).standard_normal((n, 4, h, w)).astype(np.float32)
        g = x.reshape(n, 2, -1)
        norm = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
        want = norm * scale[None, :, None, None] + bias[None, :, None, None]
        np.testing.assert_allclose(f(x), want, rtol=1e-4, atol=1e-4)


def test_open_dims_fall_back_to_bound_with_a_note():
    """A model that does not compile with its dims open (a Slice from the end of an open dim)
    compiles with them bound to 1 by default, with a warning saying why;
    --kiln-dynamic-dims=true makes that an error instead."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["y"])],
        "slice",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([v], np.int64), name)
         for name, v in [("starts", -2), ("ends", 2**62), ("axes", 0)]],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    with pytest.warns(UserWarning, match="does not compile with its input dims left open"):
        module = kc.compile_str(blob, target_backends=["vmvx"])
    f = kr.load_module(module, device="local-sync").main
    np.testing.assert_array_equal(f(np.full((1, 3), 2.0, np.float32)), [[2.0, 2.0, 2.0]])
    with pytest.raises(kr.KilnRuntimeError, match="1x3"):
        f(np.ones((2, 3), np.float32))
    with pytest.raises(kc.CompilerError, match="Slice"):
        kc.compile_str(blob, target_backends=["vmvx"], extra_args=["--kiln-dynamic-dims=true"])


def test_scan_and_lstm_over_open_lengths():
    """A Scan (reversed second input, output on axis 1 in reverse) and an LSTM over lengths
    known only per call run as loops, from one module at every length."""
    from onnx import TensorProto, helper, numpy_helper

    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "row"], ["acc_out"]),
         helper.make_node("Mul", ["acc_out", "col"], ["prod"])],
        "body",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3]) for n in ["acc_in", "row", "col"]],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3]) for n in ["acc_out", "prod"]],
    )
    graph = helper.make_graph(
        [helper.make_node("Scan", ["acc0", "x", "y"], ["acc", "ys"], body=body, num_scan_inputs=2,
                          scan_input_directions=[0, 1], scan_input_axes=[0, 1],
                          scan_output_axes=[1], scan_output_directions=[1])],
        "scan",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["seq", 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, "seq"])],
        [helper.make_tensor_value_info("acc", TensorProto.FLOAT, [3]),
         helper.make_tensor_value_info("ys", TensorProto.FLOAT, [3, "seq"])],
        [numpy_helper.from_array(np.ones(3, np.float32), "acc0")],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    f = kr.load_module(kc.compile_str(blob, target_backends=["vmvx"]), device="local-sync").main
    rng = np.random.default_rng(1)
    for seq in [1, 4, 7]:
        x, y = rng.random((seq, 3), np.float32), rng.random((3, seq), np.float32)
        acc, prods = np.ones(3, np.float32), []
        for t in range(seq):
            acc = acc + x[t]
            prods.append(acc * y[:, seq - 1 - t])
        got_acc, got_ys = f(x, y)
        np.testing.assert_allclose(got_acc, acc, rtol=1e-6)
        np.testing.assert_allclose(got_ys, np.stack(prods[::-1], axis=1), rtol=1e-6)

    rng = np.random.default_rng(0)
    w = rng.standard_normal((1, 8, 3), dtype=np.float32)
    r = rng.standard_normal((1, 8, 2), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=2)],
        "lstm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["seq", 1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(r, "r")],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    f = kr.load_module(kc.compile_str(blob, target_backends=["vmvx"]), device="local-sync").main
    for seq in [1, 4]:
        assert f(np.ones((seq, 1, 3), np.float32)).shape == (seq, 1, 1, 2)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _recurrent_reference(op, x, w, r, b, h0, lens, reverse):
    """One direction of ONNX's GRU (linear_before_reset 0) or LSTM over x [seq, batch, in]:
    (Y [seq, batch, hidden], final H); a batch entry's state stops at its length, where its
    outputs are zero."""
    seq, hidden = x.shape[0], r.shape[-1]
    wb, rb = np.split(b, 2)
    h, c = h0.copy(), np.zeros_like(h0)
    ys = np.zeros((seq, x.shape[1], hidden), np.float32)
    for t in (range(seq - 1, -1, -1) if reverse else range(seq)):
        active = (t < lens)[:, None]
        if op == "GRU":
            xw, hr = x[t] @ w.T + wb, h @ r.T + rb
            z = _sigmoid(xw[:, :hidden] + hr[:, :hidden])
            rr = _sigmoid(xw[:, hidden:2 * hidden] + hr[:, hidden:2 * hidden])
            hh = np.tanh(xw[:, 2 * hidden:] + (rr * h) @ r[2 * hidden:].T + rb[2 * hidden:])
            new_h, new_c = (1 - z) * hh + z * h, c
        else:
            i, o, f, g = np.split(x[t] @ w.T + wb + h @ r.T + rb, 4, axis=1)
            new_c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            new_h = _sigmoid(o) * np.tanh(new_c)
        h, c = np.where(active, new_h, h), np.where(active, new_c, c)
        ys[t] = np.where(active, new_h, 0)
    return ys, h


@pytest.mark.parametrize("op", ["GRU", "LSTM"])
def test_long_static_sequences_run_as_loops(op):
    """A bidirectional GRU or LSTM over 40 steps known at compile time (with sequence lengths
    and initial states) runs as a loop of the control program on llvm-cpu and vmvx, and
    unrolled on vmvx-inline (which runs straight-line programs only); all match NumPy."""
    from onnx import TensorProto, helper, numpy_helper

    seq, batch, inp, hidden = 40, 3, 5, 4
    gates = 3 if op == "GRU" else 4
    rng = np.random.default_rng(40)
    w = rng.standard_normal((2, gates * hidden, inp), dtype=np.float32) * 0.4
    r = rng.standard_normal((2, gates * hidden, hidden), dtype=np.float32) * 0.4
    b = rng.standard_normal((2, 2 * gates * hidden), dtype=np.float32) * 0.2
    h0 = rng.standard_normal((2, batch, hidden), dtype=np.float32) * 0.5
    lens = np.array([40, 17, 1], np.int32)
    graph = helper.make_graph(
        [helper.make_node(op, ["x", "w", "r", "b", "lens", "h0"], ["y", "y_h"], hidden_size=hidden,
                          direction="bidirectional")],
        "recurrent",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [seq, batch, inp])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ["y", "y_h"]],
        [numpy_helper.from_array(v, n) for v, n in [(w, "w"), (r, "r"), (b, "b"), (lens, "lens"), (h0, "h0")]],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    x = rng.standard_normal((seq, batch, inp), dtype=np.float32)
    parts = [_recurrent_reference(op, x, w[d], r[d], b[d], h0[d], lens, d == 1) for d in range(2)]
    want_y = np.stack([p[0] for p in parts], axis=1)
    want_h = np.stack([p[1] for p in parts])
    text = kc.compile_str(blob, target_backends=["vmvx"], extra_args=["--compile-to=hal"])
    assert "control program" in text
    for target, device in [("llvm-cpu", "local-sync"), ("vmvx", "local-task"), ("vmvx-inline", None)]:
        y, y_h = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main(x)
        np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-5, err_msg=target)
        np.testing.assert_allclose(y_h, want_h, rtol=1e-5, atol=1e-5, err_msg=target)


def test_long_recurrence_over_a_constant_input_is_unrolled():
    """An LSTM over 20 steps whose input is a constant (its projection folds to a constant,
    which a loop cannot carry) is unrolled, and matches NumPy."""
    from onnx import TensorProto, helper, numpy_helper

    seq, inp, hidden = 20, 3, 4
    rng = np.random.default_rng(20)
    x = rng.standard_normal((seq, 1, inp), dtype=np.float32)
    w = rng.standard_normal((1, 4 * hidden, inp), dtype=np.float32) * 0.4
    r = rng.standard_normal((1, 4 * hidden, hidden), dtype=np.float32) * 0.4
    b = rng.standard_normal((1, 8 * hidden), dtype=np.float32) * 0.2
    graph = helper.make_graph(
        [helper.make_node("LSTM", ["x", "w", "r", "b"], ["y"], hidden_size=hidden),
         helper.make_node("Mul", ["y", "scale"], ["out"])],
        "constant_lstm",
        [helper.make_tensor_value_info("scale", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, n) for v, n in [(x, "x"), (w, "w"), (r, "r"), (b, "b")]],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    lens = np.array([seq], np.int32)
    want, _ = _recurrent_reference("LSTM", x, w[0], r[0], b[0], np.zeros((1, hidden), np.float32), lens, False)
    for target in ["llvm-cpu", "vmvx"]:
        got = kr.load_module(kc.compile_str(blob, target_backends=[target]), device="local-sync").main(
            np.array([2.0], np.float32))
        np.testing.assert_allclose(got[:, 0], 2 * want, rtol=1e-5, atol=1e-5, err_msg=target)


@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap"])
def test_pad_modes_match_numpy(mode):
    """Pad's edge, reflect and wrap modes with constant pads (reflection padding of vision
    and audio models), including pads wider than the axis, against np.pad on every CPU target."""
    from onnx import TensorProto, helper, numpy_helper

    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    pads = np.array([0, 2, 5, 1, 0, 3], np.int64)
    graph = helper.make_graph(
        [helper.make_node("Pad", ["x", "pads"], ["y"], mode=mode)],
        "pad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(pads, "pads")],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9).SerializeToString()
    want = np.pad(x, [(0, 1), (2, 0), (5, 3)], mode={"edge": "edge", "reflect": "reflect", "wrap": "wrap"}[mode])
    for target in ["vmvx", "llvm-cpu"]:
        got = kr.load_module(kc.compile_str(blob, target_backends=[target]), device="local-sync").main(x)
        np.testing.assert_array_equal(got, want, err_msg=f"{mode} on {target}")


@pytest.mark.parametrize("largest", [1, 0])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_top_k_with_a_constant_k_matches_a_stable_sort(largest, dtype):
    """TopK with K as an initializer (as exporters write classifier and detector heads): sorted
    values and indices, equal values in index order, along a middle axis, on every CPU target."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(largest)
    x = rng.integers(-4, 5, size=(2, 9, 3)).astype(dtype)  # many ties
    graph = helper.make_graph(
        [helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1, largest=largest)],
        "topk",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT if dtype == np.float32 else TensorProto.INT32, list(x.shape))],
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in ("values", "indices")],
        [numpy_helper.from_array(np.array([4], np.int64), "k")],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    order = np.argsort(-x if largest else x, axis=1, kind="stable")[:, :4, :]
    for target in ["vmvx", "llvm-cpu"]:
        values, indices = kr.load_module(kc.compile_str(blob, target_backends=[target]), device="local-sync").main(x)
        np.testing.assert_array_equal(indices, order, err_msg=target)
        np.testing.assert_array_equal(values, np.take_along_axis(x, order, axis=1), err_msg=target)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot_with_a_constant_depth_matches_numpy(axis):
    """OneHot with depth as an initializer: negative indices from the end, indices outside the
    depth all off, the new axis where asked, values' type."""
    from onnx import TensorProto, helper, numpy_helper

    indices = np.array([[0, 3, -1], [9, -6, 2]], np.int64)
    depth, off, on = 5, 2.0, 7.0
    graph = helper.make_graph(
        [helper.make_node("OneHot", ["i", "depth", "values"], ["y"], axis=axis)],
        "onehot",
        [helper.make_tensor_value_info("i", TensorProto.INT64, list(indices.shape))],
        [helper.make_tensor_value_info("y", TensorProto.UNDEFINED, None)],
        [numpy_helper.from_array(np.array(depth, np.int64), "depth"), numpy_helper.from_array(np.array([off, on], np.float32), "values")],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=8).SerializeToString()
    wrapped = np.where(indices < 0, indices + depth, indices)
    want = np.where(wrapped[..., None] == np.arange(depth), on, off).astype(np.float32)
    want = np.moveaxis(want, -1, axis)
    for target in ["vmvx", "llvm-cpu"]:
        got = kr.load_module(kc.compile_str(blob, target_backends=[target]), device="local-sync").main(indices)
        np.testing.assert_array_equal(got, want, err_msg=target)


@pytest.mark.parametrize("op,count_include_pad", [("MaxPool", 0), ("AveragePool", 0), ("AveragePool", 1)])
def test_3d_pooling_with_pads_matches_a_direct_window_loop(op, count_include_pad):
    """3-D pooling runs as a 2-D pool per depth slice then one along depth; with padding and
    strides that must equal pooling each 3-D window directly (average counting padding or not)."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 5, 6, 7), dtype=np.float32)
    k, st, pads = (3, 2, 3), (2, 1, 2), (1, 0, 1, 1, 1, 0)
    attrs = dict(kernel_shape=list(k), strides=list(st), pads=list(pads))
    if op == "AveragePool":
        attrs["count_include_pad"] = count_include_pad
    graph = helper.make_graph(
        [helper.make_node(op, ["x"], ["y"], **attrs)],
        "pool3d",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    fill = -np.inf if op == "MaxPool" else np.nan
    padded = np.pad(x, [(0, 0), (0, 0)] + [(pads[d], pads[d + 3]) for d in range(3)], constant_values=fill)
    out = [(x.shape[2 + d] + pads[d] + pads[d + 3] - k[d]) // st[d] + 1 for d in range(3)]
    want = np.zeros(x.shape[:2] + tuple(out), np.float32)
    for i, j, l in np.ndindex(*out):
        w = padded[:, :, i * st[0]:i * st[0] + k[0], j * st[1]:j * st[1] + k[1], l * st[2]:l * st[2] + k[2]]
        if op == "MaxPool":
            want[:, :, i, j, l] = w.max(axis=(2, 3, 4))
        elif count_include_pad:
            want[:, :, i, j, l] = np.nan_to_num(w).sum(axis=(2, 3, 4)) / np.prod(k)
        else:
            want[:, :, i, j, l] = np.nanmean(w, axis=(2, 3, 4))
    for target in ["vmvx", "llvm-cpu"]:
        got = kr.load_module(kc.compile_str(blob, target_backends=[target]), device="local-sync").main(x)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=target)


@pytest.mark.parametrize("n", [1, 3, 4])
def test_det_of_small_matrices_matches_numpy(n):
    """Det by cofactor expansion over a batch of n×n matrices, against np.linalg.det."""
    from onnx import TensorProto, helper

    x = np.random.default_rng(n).standard_normal((2, 3, n, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Det", ["x"], ["y"])],
        "det",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    got = kr.load_module(kc.compile_str(blob, target_backends=["llvm-cpu"]), device="local-sync").main(x)
    np.testing.assert_allclose(got, np.linalg.det(x.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_uint64_is_exact_for_wrapping_arithmetic_and_bitwise_ops():
    """uint64 tensors cross in and out unchanged and compute in 64-bit registers: add and mul
    wrap as NumPy's do, bitwise ops are exact across the whole range, on every target."""
    from onnx import TensorProto, helper

    u64 = TensorProto.UINT64
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"]),
         helper.make_node("Mul", ["a", "b"], ["prod"]),
         helper.make_node("BitwiseXor", ["a", "b"], ["xor"])],
        "u64",
        [helper.make_tensor_value_info(n, u64, [4]) for n in ["a", "b"]],
        [helper.make_tensor_value_info(n, u64, [4]) for n in ["sum", "prod", "xor"]],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8).SerializeToString()
    a = np.array([1, 2**63 + 5, 2**64 - 1, 123456789], np.uint64)
    b = np.array([2, 2**63 + 7, 1, 987654321], np.uint64)
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        f = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main
        assert f.outputs[0][1] == "ui64"
        got_sum, got_prod, got_xor = f(a, b)
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(got_sum, a + b)
            np.testing.assert_array_equal(got_prod, a * b)
        np.testing.assert_array_equal(got_xor, a ^ b)


def test_float64_and_bfloat16_cross_as_numpy_arrays_and_bitcast_keeps_bits():
    """f64 tensors go in and out as float64 arrays (computing in f32, as IREE demotes f64 by
    default), bf16 as ml_dtypes arrays, and BitCast reads the stored bytes as another type."""
    import ml_dtypes
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["d", "d"], ["sq"]),
         helper.make_node("Cast", ["b"], ["wide"], to=TensorProto.FLOAT),
         helper.make_node("BitCast", ["f"], ["bits"], to=TensorProto.INT32)],
        "types",
        [helper.make_tensor_value_info("d", TensorProto.DOUBLE, [3]),
         helper.make_tensor_value_info("b", TensorProto.BFLOAT16, [3]),
         helper.make_tensor_value_info("f", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("sq", TensorProto.DOUBLE, [3]),
         helper.make_tensor_value_info("wide", TensorProto.FLOAT, [3]),
         helper.make_tensor_value_info("bits", TensorProto.INT32, [3])],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 26)], ir_version=11).SerializeToString()
    d = np.array([1.5, -2.25, 3.0], np.float64)
    b = np.array([0.5, -1.75, 3.0], ml_dtypes.bfloat16)
    f = np.array([1.0, -0.0, 3.5], np.float32)
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        fn = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main
        sq, wide, bits = fn(d, b, f)
        assert sq.dtype == np.float64 and wide.dtype == np.float32
        np.testing.assert_array_equal(sq, d * d)
        np.testing.assert_array_equal(wide, b.astype(np.float32))
        np.testing.assert_array_equal(bits, f.view(np.int32))


def test_narrow_floats_and_small_integers_convert_as_ml_dtypes_does():
    """float8, float4 and int4 tensors cross as ml_dtypes arrays; Cast to and from them rounds
    to nearest-even and saturates as ONNX says, matching ml_dtypes value for value (floats
    outside int4's range, which ONNX leaves undefined, give 0 as there)."""
    import ml_dtypes
    from onnx import TensorProto, helper

    narrow = [("e4m3", TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn),
              ("e5m2", TensorProto.FLOAT8E5M2, ml_dtypes.float8_e5m2),
              ("e2m1", TensorProto.FLOAT4E2M1, ml_dtypes.float4_e2m1fn),
              ("i4", TensorProto.INT4, ml_dtypes.int4)]
    nodes = [helper.make_node("Cast", ["x"], [n], to=t) for n, t, _ in narrow]
    nodes += [helper.make_node("Cast", [n], [n + "_back"], to=TensorProto.FLOAT) for n, _, _ in narrow]
    graph = helper.make_graph(
        nodes, "narrow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [12])],
        [helper.make_tensor_value_info(n, t, [12]) for n, t, _ in narrow]
        + [helper.make_tensor_value_info(n + "_back", TensorProto.FLOAT, [12]) for n, _, _ in narrow],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)], ir_version=11).SerializeToString()
    x = np.array([0.0, -0.0, 0.3, -1.7, 2.5, 3.5, 7.0, -7.9, 300.0, 1e-3, 6.1e-5, -20.0], np.float32)
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        got = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main(x)
        for (name, _, dtype), narrowed, back in zip(narrow, got[:4], got[4:]):
            assert narrowed.dtype == dtype, name
            with np.errstate(invalid="ignore"):
                want = x.astype(dtype)  # ml_dtypes: out-of-range floats give 0 as int4
            np.testing.assert_array_equal(narrowed.astype(np.float32), want.astype(np.float32), err_msg=name)
            np.testing.assert_array_equal(back, want.astype(np.float32), err_msg=name)


def test_sizes_read_from_data_and_shapes_carried_across_the_read():
    """A Range whose limit is data (a float computed from a shape) reads its length back on
    the host; shape values computed before that read, in sizes of the first part of the
    program, still shape the rest (a detector's anchor grid); a Reshape to a shape given as
    data and a Slice with data positions match NumPy at two sizes, dims open."""
    from onnx import TensorProto, helper

    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    nodes = [
        helper.make_node("Constant", [], ["two"], value=helper.make_tensor("t", i64, [1], [2])),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", i64, [1], [0])),
        helper.make_node("Constant", [], ["one"], value=helper.make_tensor("o", i64, [1], [1])),
        helper.make_node("Constant", [], ["big"], value=helper.make_tensor("b", i64, [1], [1 << 30])),
        helper.make_node("Concat", ["x", "x"], ["half"], axis=1),
        helper.make_node("Shape", ["half"], ["s"]),
        helper.make_node("Gather", ["s", "one"], ["w"], axis=0),
        helper.make_node("Cast", ["w"], ["wf"], to=f),
        helper.make_node("Constant", [], ["f0"], value=helper.make_tensor("f0", f, [], [0.0])),
        helper.make_node("Constant", [], ["f1"], value=helper.make_tensor("f1", f, [], [1.0])),
        helper.make_node("Squeeze", ["wf"], ["wfs"]),
        helper.make_node("Range", ["f0", "wfs", "f1"], ["grid"]),
        helper.make_node("Add", ["half", "grid"], ["shifted"]),
        helper.make_node("Reshape", ["shifted", "s"], ["same"]),
        helper.make_node("Reshape", ["x", "shape"], ["reshaped"]),
        helper.make_node("Slice", ["x", "starts", "ends"], ["sliced"]),
    ]
    graph = helper.make_graph(
        nodes, "data_sizes",
        [helper.make_tensor_value_info("x", f, ["n", "h"]),
         helper.make_tensor_value_info("shape", i64, [2]),
         helper.make_tensor_value_info("starts", i64, [2]),
         helper.make_tensor_value_info("ends", i64, [2])],
        [helper.make_tensor_value_info(n, f, None) for n in ["same", "reshaped", "sliced"]],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8).SerializeToString()
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        fn = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main
        for n, h in [(2, 7), (3, 10)]:
            x = np.arange(n * h, dtype=np.float32).reshape(n, h)
            shape = np.array([-1, n], np.int64)
            starts, ends = np.array([1, -3], np.int64), np.array([n, 100], np.int64)
            same, reshaped, sliced = fn(x, shape, starts, ends)
            half = np.concatenate([x, x], axis=1)
            np.testing.assert_array_equal(same, half + np.arange(half.shape[1], dtype=np.float32))
            np.testing.assert_array_equal(reshaped, x.reshape(-1, n))
            np.testing.assert_array_equal(sliced, x[1:n, -3:100])


def test_model_local_functions_are_imported_through_their_bodies():
    """A node calling a model-local function imports the function's body: attributes it
    refers to take the caller's value or the function's default, calls nest, and two calls
    keep their values apart."""
    from onnx import TensorProto, helper

    from onnx import AttributeProto

    f = TensorProto.FLOAT
    alpha = helper.make_node("Constant", [], ["alpha"])
    ref = AttributeProto(name="value_float", ref_attr_name="alpha", type=AttributeProto.FLOAT)
    alpha.attribute.append(ref)
    scaled_relu = helper.make_function(
        "custom", "ScaledRelu", ["X"], ["Y"],
        [helper.make_node("Relu", ["X"], ["r"]), alpha, helper.make_node("Mul", ["r", "alpha"], ["Y"])],
        opset_imports=[helper.make_opsetid("", 18)],
        attributes=[],
    )
    scaled_relu.attribute_proto.extend([helper.make_attribute("alpha", 2.0)])
    twice = helper.make_function(
        "custom", "Twice", ["X"], ["Y"],
        [helper.make_node("ScaledRelu", ["X"], ["t"], domain="custom", alpha=3.0),
         helper.make_node("ScaledRelu", ["t"], ["Y"], domain="custom")],
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("custom", 1)],
    )
    graph = helper.make_graph(
        [helper.make_node("Twice", ["x"], ["y"], domain="custom"),
         helper.make_node("ScaledRelu", ["x"], ["z"], domain="custom", alpha=-1.0)],
        "functions",
        [helper.make_tensor_value_info("x", f, [4])],
        [helper.make_tensor_value_info("y", f, [4]), helper.make_tensor_value_info("z", f, [4])],
    )
    model = helper.make_model(graph, functions=[scaled_relu, twice], ir_version=8,
                              opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("custom", 1)])
    blob = model.SerializeToString()
    x = np.array([-1.0, 0.5, 2.0, -3.0], np.float32)
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        y, z = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main(x)
        np.testing.assert_allclose(y, np.maximum(np.maximum(x, 0) * 3.0, 0) * 2.0)
        np.testing.assert_allclose(z, np.maximum(x, 0) * -1.0)


def test_einsum_takes_diagonals_of_repeated_letters():
    """A letter repeated within a term takes that diagonal: a trace ('ii') and a batched
    diagonal contracted with another operand ('bii,ij->bj') match NumPy's einsum."""
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Einsum", ["a"], ["t"], equation="ii"),
         helper.make_node("Einsum", ["b", "a"], ["u"], equation="bii,ij->bj")],
        "diagonals",
        [helper.make_tensor_value_info("a", f, [3, 3]), helper.make_tensor_value_info("b", f, [2, 3, 3])],
        [helper.make_tensor_value_info("t", f, None), helper.make_tensor_value_info("u", f, None)],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8).SerializeToString()
    rng = np.random.default_rng(3)
    a, b = rng.random((3, 3), np.float32), rng.random((2, 3, 3), np.float32)
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        t, u = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main(a, b)
        np.testing.assert_allclose(t, np.einsum("ii", a), rtol=1e-5)
        np.testing.assert_allclose(u, np.einsum("bii,ij->bj", b, a), rtol=1e-5)


def test_dropout_in_training_mode_keeps_one_minus_ratio_scaled():
    """Training-mode Dropout (its mode given at run time) keeps about 1 - ratio of the
    elements, scaled by 1 / (1 - ratio), zeroes the rest, reports the mask, and passes the
    input through when the mode is off."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Dropout", ["x", "r", "t"], ["y", "mask"], seed=7)],
        "dropout",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [100, 100]),
         helper.make_tensor_value_info("r", TensorProto.FLOAT, []),
         helper.make_tensor_value_info("t", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [100, 100]),
         helper.make_tensor_value_info("mask", TensorProto.BOOL, [100, 100])],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()
    x = np.random.default_rng(1).random((100, 100), np.float32) + 1.0
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        fn = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main
        y, mask = fn(x, np.array(0.25, np.float32), np.array(True))
        assert abs(mask.mean() - 0.75) < 0.02
        np.testing.assert_allclose(y[mask], x[mask] / 0.75, rtol=1e-6)
        assert (y[~mask] == 0).all()
        y, mask = fn(x, np.array(0.25, np.float32), np.array(False))
        np.testing.assert_array_equal(y, x)
        assert mask.all()


def test_a_branch_that_returns_an_input_returns_a_copy():
    """An If whose taken branch passes an input through returns a copy of it: changing the
    input afterwards does not change the result; the other branch reduces it."""
    from onnx import TensorProto, helper

    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("ReduceSum", ["x"], ["e"], keepdims=0)], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    graph = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)], "passthrough",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    f = kr.load_module(kc.compile_str(blob, target_backends=["vmvx"]), device="local-sync").main
    assert repr(f) == "<Function @main(c: i1, x: 3xf32) -> (y: *xf32)>"
    x = np.array([1.0, 2.0, 3.0], np.float32)
    y = f(np.array(True), x)
    x[0] = 9.0
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0])
    assert f(np.array(False), x) == 14.0


def reference_nms(boxes, scores, most, iou_threshold, score_threshold, center):
    """Greedy NonMaxSuppression as ONNX Runtime runs it, one (batch, class) at a time."""
    if center:
        xc, yc, w, h = np.moveaxis(boxes, -1, 0)
        lo_y, lo_x, hi_y, hi_x = yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2
    else:
        y1, x1, y2, x2 = np.moveaxis(boxes, -1, 0)
        lo_y, lo_x, hi_y, hi_x = np.minimum(y1, y2), np.minimum(x1, x2), np.maximum(y1, y2), np.maximum(x1, x2)
    area = (hi_y - lo_y) * (hi_x - lo_x)
    rows = []
    for b in range(scores.shape[0]):
        for c in range(scores.shape[1]):
            s = scores[b, c]
            order = sorted((i for i in range(len(s)) if s[i] > score_threshold), key=lambda i: (-s[i], i))
            kept = []
            for i in order:
                if len(kept) == most:
                    break
                ok = True
                for k in kept:
                    ih = max(min(hi_y[b, i], hi_y[b, k]) - max(lo_y[b, i], lo_y[b, k]), np.float32(0))
                    iw = max(min(hi_x[b, i], hi_x[b, k]) - max(lo_x[b, i], lo_x[b, k]), np.float32(0))
                    inter = ih * iw
                    union = area[b, i] + area[b, k] - inter
                    if inter > 0 and area[b, i] > 0 and area[b, k] > 0 and union > 0 and inter / union > iou_threshold:
                        ok = False
                        break
                if ok:
                    kept.append(i)
            rows += [[b, c, i] for i in kept]
    return np.array(rows, np.int64).reshape(-1, 3)


@pytest.mark.parametrize("center", [0, 1])
def test_non_max_suppression_matches_a_greedy_reference(center):
    """NonMaxSuppression over 2 batches × 3 classes × 200 random boxes (overlapping,
    tied scores, zero-area boxes among them) selects what ONNX Runtime's greedy search does,
    with the limit, IoU and score thresholds given as data; nothing selected is an empty
    [0, 3]."""
    from onnx import TensorProto, helper

    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    node = helper.make_node(
        "NonMaxSuppression", ["boxes", "scores", "most", "iou", "score"], ["selected"],
        center_point_box=center,
    )
    graph = helper.make_graph(
        [node], "nms",
        [helper.make_tensor_value_info("boxes", f, [2, 200, 4]),
         helper.make_tensor_value_info("scores", f, [2, 3, 200]),
         helper.make_tensor_value_info("most", i64, [1]),
         helper.make_tensor_value_info("iou", f, [1]),
         helper.make_tensor_value_info("score", f, [1])],
        [helper.make_tensor_value_info("selected", i64, [None, 3])],
    )
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]).SerializeToString()
    rng = np.random.default_rng(7)
    corner = rng.uniform(0, 10, (2, 200, 2)).astype(np.float32)
    size = rng.uniform(0, 3, (2, 200, 2)).astype(np.float32)
    size[:, ::17] = 0
    if center:
        boxes = np.concatenate([corner, size], axis=-1)
    else:
        boxes = np.concatenate([corner + size, corner], axis=-1)[..., [0, 3, 2, 1]]
    scores = rng.choice(np.linspace(0, 1, 50, dtype=np.float32), (2, 3, 200))
    cases = [(10, 0.5, 0.2), (1000, 0.3, 0.0), (0, 0.5, 0.0), (5, 0.5, 2.0), (1000, 1.0, -1.0)]
    for target, device in [("llvm-cpu", "local-sync"), ("vmvx", "local-task")]:
        fn = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main
        for most, iou, score in cases:
            args = (np.array([most], np.int64), np.array([iou], np.float32), np.array([score], np.float32))
            got = np.asarray(fn(boxes, scores, *args))
            want = reference_nms(boxes, scores, most, np.float32(iou), np.float32(score), center)
            assert got.shape == want.shape, (target, most, iou, score, got.shape, want.shape)
            np.testing.assert_array_equal(got, want)


def test_mel_filter_bank_and_stft_of_constants_match_onnx_reference():
    """A log-mel front end as audio models export it: STFT with a constant step and Hann
    window, the power spectrum, and a MelWeightMatrix of constant inputs, against onnx's
    reference evaluator."""
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    consts = {
        "step": np.array(160, np.int64), "window_len": np.array(400, np.int64),
        "mels": np.array(40, np.int64), "dft": np.array(400, np.int64),
        "rate": np.array(16000, np.int64), "low": np.array(20.0, np.float32),
        "high": np.array(7600.0, np.float32), "starts": np.array([0], np.int64),
        "ends": np.array([1], np.int64), "axis": np.array([3], np.int64),
    }
    nodes = [
        helper.make_node("HannWindow", ["window_len"], ["window"]),
        helper.make_node("STFT", ["signal", "step", "window"], ["spectrum"]),
        helper.make_node("Mul", ["spectrum", "spectrum"], ["squares"]),
        helper.make_node("ReduceSum", ["squares", "axis"], ["power"], keepdims=0),
        helper.make_node("MelWeightMatrix", ["mels", "dft", "rate", "low", "high"], ["bank"]),
        helper.make_node("MatMul", ["power", "bank"], ["mel"]),
    ]
    graph = helper.make_graph(
        nodes, "log_mel",
        [helper.make_tensor_value_info("signal", f, [2, 4000, 1])],
        [helper.make_tensor_value_info("mel", f, None), helper.make_tensor_value_info("bank", f, None)],
        initializer=[numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    signal = np.random.default_rng(3).standard_normal((2, 4000, 1)).astype(np.float32)
    want_mel, want_bank = ReferenceEvaluator(model).run(None, {"signal": signal})
    blob = model.SerializeToString()
    for target, device in [("llvm-cpu", "local-sync"), ("vmvx", "local-task")]:
        mel, bank = kr.load_module(kc.compile_str(blob, target_backends=[target]), device=device).main(signal)
        np.testing.assert_allclose(np.asarray(bank), want_bank, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.asarray(mel), want_mel, rtol=2e-4, atol=1e-3)


def test_a_loop_that_runs_no_iteration_stacks_its_scans_as_empty_rows():
    """A Loop whose trip count is data stacks its scan output as [trips, 2, 3], also for 0
    trips ([0, 2, 3], not [0, 0, 0]), with the carried value left as it entered, against values
    written out (onnx's reference evaluator cannot stack no rows)."""
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "x"], ["acc_out"]),
         helper.make_node("Mul", ["acc_out", "x"], ["row"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", f, [2, 3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", f, [2, 3]),
         helper.make_tensor_value_info("row", f, [2, 3])],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "", "x"], ["acc", "rows"], body=body)],
        "loop",
        [helper.make_tensor_value_info("trips", TensorProto.INT64, []),
         helper.make_tensor_value_info("x", f, [2, 3])],
        [helper.make_tensor_value_info("acc", f, [2, 3]),
         helper.make_tensor_value_info("rows", f, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        fn = kr.load_module(kc.compile_str(model.SerializeToString(), target_backends=[target]), device=device).main
        for trips in [0, 1, 3]:
            acc, rows = fn(np.array(trips, np.int64), x)
            # acc after k steps is (k + 1)·x; step k's row is (k + 2)·x·x.
            want_rows = np.array([(k + 2) * x * x for k in range(trips)], np.float32).reshape(trips, 2, 3)
            assert np.asarray(rows).shape == (trips, 2, 3), (target, trips)
            np.testing.assert_allclose(acc, (trips + 1) * x, rtol=1e-6)
            np.testing.assert_allclose(rows, want_rows, rtol=1e-6)


def test_loop_outputs_read_carried_values_as_the_iteration_began():
    """A run-time Loop whose scan output is a carried value's value before the iteration
    updated it (as ONNX's function body of Range writes it), and which swaps two carried
    values: every output reads the values the iteration started from."""
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["a_in", "step"], ["a_out"]),
         helper.make_node("Identity", ["a_in"], ["before"]),
         helper.make_node("Identity", ["c_in"], ["b_out"]),
         helper.make_node("Identity", ["b_in"], ["c_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("a_in", f, [2]),
         helper.make_tensor_value_info("b_in", f, [2]),
         helper.make_tensor_value_info("c_in", f, [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("a_out", f, [2]),
         helper.make_tensor_value_info("b_out", f, [2]),
         helper.make_tensor_value_info("c_out", f, [2]),
         helper.make_tensor_value_info("before", f, [2])],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "", "a", "b", "c"], ["a_end", "b_end", "c_end", "befores"], body=body)],
        "loop",
        [helper.make_tensor_value_info("trips", TensorProto.INT64, []),
         helper.make_tensor_value_info("step", f, [2])]
        + [helper.make_tensor_value_info(n, f, [2]) for n in "abc"],
        [helper.make_tensor_value_info(n, f, None) for n in ["a_end", "b_end", "c_end", "befores"]],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    step, a, b, c = (np.array(v, np.float32) for v in ([1, 10], [0, 0], [5, 6], [7, 8]))
    for target, device in [("vmvx", "local-task"), ("llvm-cpu", "local-sync")]:
        fn = kr.load_module(kc.compile_str(model.SerializeToString(), target_backends=[target]), device=device).main
        a_end, b_end, c_end, befores = fn(np.array(3, np.int64), step, a, b, c)
        np.testing.assert_array_equal(befores, [a, a + step, a + 2 * step])
        np.testing.assert_array_equal(a_end, a + 3 * step)
        np.testing.assert_array_equal(b_end, c)
        np.testing.assert_array_equal(c_end, b)


def test_ops_onnx_defines_as_functions_pass_their_node_cases_through_the_bodies():
    """With --kiln-onnx-expand-functions, the ops ONNX defines as functions (Elu, Selu,
    HardSwish, MeanVarianceNormalization, ReduceL2, Range, the signal windows, ...) are imported
    through ONNX's own function bodies — the IR names the body — and their node cases that
    pass through kiln's lowerings pass this way too. AffineGrid's bodies branch on the theta's
    rank at run time, and those branches return different ranks: refused, clearly."""
    import sys
    import warnings

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "onnx_node"))
    import onnx
    import run as node_runner
    from onnx import ModelProto

    here = os.path.dirname(__file__)
    table = ModelProto()
    with open(os.path.join(here, "..", "..", "..", "crates", "kiln-import", "src", "onnx", "std_functions.pb"), "rb") as f:
        table.ParseFromString(f.read())
    bodies = {tuple(f.name.split(":")) for f in table.functions}
    function_ops = {op for op, _ in bodies}
    passing = node_runner.read_passing("llvm-cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in node_runner.plain_cases()
                 if c.name in passing and set(node_runner.op_types(c)) <= function_ops]
    refused = {"test_affine_grid_2d", "test_affine_grid_2d_align_corners", "test_affine_grid_3d_align_corners"}
    flags = ["--kiln-onnx-expand-functions"]
    assert len(cases) >= 100
    for case in cases:
        blob = case.model.SerializeToString()
        if case.name in refused:
            with pytest.raises(kc.CompilerError, match="AffineGrid"):
                kc.compile_str(blob, target_backends=["llvm-cpu"], extra_args=flags)
            continue
        ir = kc.compile_str(blob, target_backends=["llvm-cpu"], extra_args=flags + ["--compile-to=input"])
        opset = next(o.version for o in case.model.opset_import if o.domain in ("", "ai.onnx"))
        for op in node_runner.op_types(case):
            version = onnx.defs.get_schema(op, opset).since_version
            # Versions whose body depends on the input types have none in the table.
            if (op, str(version)) in bodies:
                assert f"/{op}:{version}/" in ir, case.name
        module = kr.load_module(kc.compile_str(blob, target_backends=["llvm-cpu"], extra_args=flags), device="local-sync")
        for inputs, outputs in case.data_sets:
            got = module.main(*[node_runner.as_numpy(a) for a in inputs])
            got = got if isinstance(got, tuple) else (got,)
            for g, w in zip(got, outputs):
                node_runner.compare(g, np.asarray(node_runner.as_numpy(w)), case.rtol, case.atol)


@pytest.mark.parametrize("attrs", [
    {},
    {"strides": [2, 1, 2], "pads": [1, 0, 2, 0, 1, 1], "dilations": [2, 1, 1]},
    {"group": 2, "auto_pad": "SAME_UPPER", "strides": [2, 2, 1]},
])
def test_3d_convolutions_match_onnx_reference(attrs):
    """Conv over volumes (the depth window folded into the channels of one 2-D convolution)
    with strides, pads, dilations, auto_pad, groups and a bias, against onnx's reference
    evaluator."""
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 7, 6, 5)).astype(np.float32)
    w = rng.standard_normal((6, 4 // attrs.get("group", 1), 3, 2, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)], "conv3d",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    want = ReferenceEvaluator(model).run(None, {"x": x})[0]
    for target, device in [("llvm-cpu", "local-sync"), ("vmvx", "local-task")]:
        got = kr.load_module(kc.compile_str(model.SerializeToString(), target_backends=[target]), device=device).main(x)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,exclude", [("linear", 0), ("cubic", 0), ("cubic", 1)])
def test_antialiased_resize_by_data_scales_matches_constant_scales(mode, exclude):
    """Antialiased Resize with its scales given as data (the stretched kernel's weights built
    on the device over every reachable position) computes what the same Resize with constant
    scales computes (weights built while compiling, as ONNX's reference does), downscaling
    and upscaling each axis, edge taps folded or excluded."""
    from onnx import TensorProto, helper, numpy_helper

    x = np.random.default_rng(9).standard_normal((1, 2, 13, 11)).astype(np.float32)

    def model(constant):
        node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode, antialias=1,
                                exclude_outside=exclude)
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)]
        inits = []
        if constant is not None:
            inits = [numpy_helper.from_array(constant, "scales")]
        else:
            inputs.append(helper.make_tensor_value_info("scales", TensorProto.FLOAT, [4]))
        graph = helper.make_graph([node], "resize", inputs,
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]).SerializeToString()

    data = kr.load_module(kc.compile_str(model(None), target_backends=["llvm-cpu"]), device="local-sync").main
    for scales in ([1, 1, 0.4, 0.7], [1, 1, 0.23, 1.6], [1, 1, 2.0, 0.5]):
        scales = np.array(scales, np.float32)
        fixed = kr.load_module(kc.compile_str(model(scales), target_backends=["llvm-cpu"]), device="local-sync").main
        np.testing.assert_allclose(data(x, scales), fixed(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("attrs", [
    {"strides": [2, 1, 2], "pads": [1, 0, 0, 0, 1, 1], "output_padding": [1, 0, 1]},
    {"group": 2, "dilations": [2, 1, 1], "output_shape": [5, 6, 4]},
    {"auto_pad": "SAME_UPPER", "strides": [1, 2, 2]},
])
def test_3d_transposed_convolutions_match_onnx_reference(attrs):
    """ConvTranspose over volumes (a stride-1 3-D convolution over the zero-inserted input)
    with strides, pads, output_padding, output_shape, auto_pad, dilations, groups and a
    bias, against onnx's reference evaluator."""
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 4, 4, 5, 3)).astype(np.float32)
    groups = attrs.get("group", 1)
    w = rng.standard_normal((4, 6 // groups, 2, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)

    def model_of(x_shape, w, b, attrs):
        graph = helper.make_graph(
            [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)], "deconv3d",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    model = model_of(x.shape, w, b, attrs)
    # onnx's reference evaluator cannot run grouped ConvTranspose, nor output_shape: each
    # group is its own ungrouped one, concatenated, and output_shape [5, 6, 4] of the full
    # [6, 7, 4] is the padding ONNX derives from it (the odd unit at the start).
    single = {k: v for k, v in attrs.items() if k not in ("group", "output_shape")}
    if "output_shape" in attrs:
        single["pads"] = [1, 1, 0, 0, 0, 0]
    cg, mg = 4 // groups, 6 // groups
    want = np.concatenate([
        ReferenceEvaluator(model_of((1, cg, 4, 5, 3), w[g * cg:(g + 1) * cg], b[g * mg:(g + 1) * mg], single))
        .run(None, {"x": x[:, g * cg:(g + 1) * cg]})[0]
        for g in range(groups)
    ], axis=1)
    for target, device in [("llvm-cpu", "local-sync"), ("vmvx", "local-task")]:
        got = kr.load_module(kc.compile_str(model.SerializeToString(), target_backends=[target]), device=device).main(x)
        assert np.asarray(got).shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_antialiased_resize_to_data_sizes_not_larger_matches_constant_sizes(mode):
    """Antialiased Resize to sizes given as data with keep_aspect_ratio_policy=not_larger,
    shrinking a 13×11 image to one pixel (a kernel stretched past the image's length on
    both sides), computes what the same Resize with constant sizes computes."""
    from onnx import TensorProto, helper, numpy_helper

    x = np.random.default_rng(10).standard_normal((1, 2, 13, 11)).astype(np.float32)

    def model(constant):
        node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode=mode, antialias=1,
                                axes=[2, 3], keep_aspect_ratio_policy="not_larger")
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)]
        inits = []
        if constant is not None:
            inits = [numpy_helper.from_array(constant, "sizes")]
        else:
            inputs.append(helper.make_tensor_value_info("sizes", TensorProto.INT64, [2]))
        graph = helper.make_graph([node], "resize", inputs,
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]).SerializeToString()

    data = kr.load_module(kc.compile_str(model(None), target_backends=["llvm-cpu"]), device="local-sync").main
    for sizes in ([1, 1], [2, 9], [5, 3]):
        sizes = np.array(sizes, np.int64)
        fixed = kr.load_module(kc.compile_str(model(sizes), target_backends=["llvm-cpu"]), device="local-sync").main
        got, want = np.asarray(data(x, sizes)), np.asarray(fixed(x))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
