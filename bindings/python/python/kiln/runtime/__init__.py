"""Loading kiln modules and calling their functions with NumPy arrays.

    import kiln.runtime as kr
    kr.query_available_drivers()                           # ['local-sync', 'local-task']
    kr.get_driver("local-task").query_available_devices()  # [{'device_id': 0, 'path': '', 'name': 'default'}]
    m = kr.load_module("model.kiln", device="local-task")  # a vmvx-inline module: no device
    y = m.main(x)                                          # or m["main"](x)

Every failure raises :class:`KilnRuntimeError`, a subclass of ``RuntimeError``. Results are
NumPy arrays that own their memory: they stay valid after the module and device are gone.

A module compiled with open dims (the default for a model that leaves dims open) takes any size
its signature allows; ``m.main.inputs`` and ``m.main.outputs`` give each dim as an int, or as
the name or expression of a size known per call (``['images_0', 3, 'images_2', 'images_3']``).
"""

import os
from typing import Union

import numpy as np

from .._kiln import HalDevice, HalDriver, KilnRuntimeError
from . import system_setup
from .system_setup import create_device, get_driver, load_driver_plugin, query_available_drivers

__all__ = [
    "Function",
    "HalDevice",
    "HalDriver",
    "KilnRuntimeError",
    "Module",
    "create_device",
    "get_driver",
    "load_driver_plugin",
    "load_module",
    "query_available_drivers",
    "system_setup",
]

_NUMPY_TYPES = {
    "f32": np.dtype(np.float32),
    "f16": np.dtype(np.float16),
    "i8": np.dtype(np.int8),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
    "i1": np.dtype(np.bool_),
    "ui8": np.dtype(np.uint8),
    "i16": np.dtype(np.int16),
    "ui16": np.dtype(np.uint16),
    "ui32": np.dtype(np.uint32),
    "ui64": np.dtype(np.uint64),
    "f64": np.dtype(np.float64),
}
# NumPy has no bfloat16 (nor float8, int4, ...): ml_dtypes, which ONNX and JAX use, adds them.
try:
    import ml_dtypes as _ml

    _NUMPY_TYPES.update(
        {
            "bf16": np.dtype(_ml.bfloat16),
            "f8E4M3FN": np.dtype(_ml.float8_e4m3fn),
            "f8E4M3FNUZ": np.dtype(_ml.float8_e4m3fnuz),
            "f8E5M2": np.dtype(_ml.float8_e5m2),
            "f8E5M2FNUZ": np.dtype(_ml.float8_e5m2fnuz),
            "f8E8M0FNU": np.dtype(_ml.float8_e8m0fnu),
            "f4E2M1FN": np.dtype(_ml.float4_e2m1fn),
            "i4": np.dtype(_ml.int4),
            "ui4": np.dtype(_ml.uint4),
            "i2": np.dtype(_ml.int2),
            "ui2": np.dtype(_ml.uint2),
        }
    )
except ImportError:  # those types then raise a clear error naming ml_dtypes
    pass


def _type_string(element_type, dims):
    if dims == ["*"]:  # a rank known only per call
        return f"*x{element_type}"
    return "x".join([(str(d) if isinstance(d, int) else "?") for d in dims] + [element_type])


def _dims(dims):
    """Signature dims as given by the module: ints where fixed, symbol expressions as strings."""
    return [int(d) if d.lstrip("-").isdigit() else d for d in dims]


class Function:
    """An exported function. Call it with NumPy arrays, Python scalars or nested lists."""

    def __init__(self, module: "Module", name: str):
        self._handle = module._handle
        self.name = name
        inputs, outputs = module._handle.signature(name)
        # (name, element type, dims) per input and result; a dim is an int, or the name or
        # expression of a size known per call ("batch", "(h+1)/2").
        self.inputs = [(n, t, _dims(d)) for n, t, d in inputs]
        self.outputs = [(n, t, _dims(d)) for n, t, d in outputs]

    def __repr__(self):
        sig = lambda ps: ", ".join(f"{n}: {_type_string(t, d)}" for n, t, d in ps)
        return f"<Function @{self.name}({sig(self.inputs)}) -> ({sig(self.outputs)})>"

    def _convert(self, index, value):
        name, element_type, dims = self.inputs[index]
        expected = _NUMPY_TYPES.get(element_type)
        if expected is None:
            raise KilnRuntimeError(
                f"input {index} ('{name}') has type {element_type}, which NumPy cannot hold "
                "without the ml_dtypes package"
            )
        if isinstance(value, np.ndarray) or isinstance(value, np.generic):
            array = np.asarray(value)
            if array.dtype != expected:
                raise KilnRuntimeError(
                    f"input {index} ('{name}') of '{self.name}' expects {_type_string(element_type, dims)} "
                    f"but got a {array.dtype} array of shape {list(array.shape)}"
                )
        else:
            array = np.asarray(value, dtype=expected)
        # Read in place by the runtime (no copy) when already C-contiguous.
        return (element_type, list(array.shape), np.ascontiguousarray(array))

    def __call__(self, *args):
        if len(args) != len(self.inputs):
            raise KilnRuntimeError(f"'{self.name}' takes {len(self.inputs)} inputs but {len(args)} were given")
        tensors = [self._convert(i, a) for i, a in enumerate(args)]
        results = []
        for element_type, shape, data in self._handle.invoke(self.name, tensors):
            dtype = _NUMPY_TYPES.get(element_type)
            if dtype is None:
                raise KilnRuntimeError(
                    f"'{self.name}' returns {element_type}, which NumPy cannot hold without the ml_dtypes package"
                )
            # Types NumPy lacks natively arrive as a bytearray of their little-endian elements.
            array = np.frombuffer(data, dtype=dtype) if isinstance(data, bytearray) else np.asarray(data)
            results.append(array.reshape(shape))
        return results[0] if len(results) == 1 else tuple(results)


class Module:
    """A module loaded on a device; exported functions are attributes and items."""

    def __init__(self, handle):
        self._handle = handle
        self._functions = {}

    @property
    def function_names(self):
        return self._handle.function_names()

    def __getitem__(self, name: str) -> Function:
        if name not in self._functions:
            if name not in self.function_names:
                raise KeyError(f"no function named '{name}' (exported: {', '.join(self.function_names)})")
            self._functions[name] = Function(self, name)
        return self._functions[name]

    def __getattr__(self, name: str) -> Function:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    def __contains__(self, name: str) -> bool:
        return name in self.function_names

    def __repr__(self):
        return f"<Module functions={self.function_names}>"


def load_module(source: Union[str, os.PathLike, bytes], device: Union[str, HalDevice, None] = None) -> Module:
    """Loads a module from a path (memory-mapped) or bytes onto a device (name, URI or HalDevice).

    Without a device, a module compiled for ``vmvx-inline`` runs on the inline runtime (no HAL
    device, no threads) and any other module on ``local-task``.
    """
    if device is not None and not isinstance(device, HalDevice):
        device = create_device(device)
    if not isinstance(source, (bytes, bytearray)):
        source = os.fspath(source)
    elif isinstance(source, bytearray):
        source = bytes(source)
    from .._kiln import load_module as _load

    return Module(_load(source, device))
