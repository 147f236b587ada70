"""Compiling models to kiln modules, with iree-compile's flags.

    import kiln.compiler as kc
    kc.query_available_targets()                  # ['vmvx']
    blob = kc.compile_file("model.onnx", target_backends=["vmvx"])
"""

import os
from typing import Optional, Sequence, Union

from ._kiln import CompilerError
from ._kiln import compile_bytes as _compile_bytes
from ._kiln import compile_file as _compile_file
from ._kiln import query_available_targets

__all__ = ["CompilerError", "compile_file", "compile_str", "query_available_targets"]


def compile_file(
    path: Union[str, os.PathLike],
    target_backends: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    output_file: Optional[Union[str, os.PathLike]] = None,
    input_type: Optional[str] = None,
):
    """Compiles a model file (.onnx or .kir) and returns the module bytes.

    ``extra_args`` takes kiln-compile's ``--name=value`` flags. With ``output_file`` the module
    is written there and ``None`` is returned. With ``--compile-to=<phase>`` the result is the
    phase's IR text. Failures raise :class:`CompilerError` with the message the CLI prints.
    """
    result = _compile_file(os.fspath(path), list(target_backends), list(extra_args), input_type)
    return _write(result, output_file)


def compile_str(
    source: Union[str, bytes],
    target_backends: Sequence[str] = (),
    input_type: Optional[str] = None,
    extra_args: Sequence[str] = (),
    output_file: Optional[Union[str, os.PathLike]] = None,
):
    """Compiles a model held in memory: ONNX bytes, or kiln IR text (``input_type="kir"``).

    ``input_type`` defaults to ``"onnx"`` for bytes and ``"kir"`` for str.
    """
    if input_type is None:
        input_type = "kir" if isinstance(source, str) else "onnx"
    data = source.encode("utf-8") if isinstance(source, str) else bytes(source)
    result = _compile_bytes(data, input_type, list(target_backends), list(extra_args))
    return _write(result, output_file)


def _write(result, output_file):
    if output_file is None:
        return result
    mode = "w" if isinstance(result, str) else "wb"
    with open(output_file, mode) as f:
        f.write(result)
    return None
