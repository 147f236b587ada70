"""Writes crates/kiln-import/src/onnx/std_functions.pb from the pinned onnx wheel: the function
bodies ONNX's schemas give its function-defined ops (default domain, every op version and
every opset its body is written for), so the importer can expand an op it has no lowering for
through ONNX's own definition.

Each body is a FunctionProto named `OP:SINCE` (the op version it defines) whose opset imports
say which opset its nodes use, and whose `attribute_proto` holds the op's attribute defaults
(a body node referring to an attribute the caller leaves out takes the schema's default). The
file is a ModelProto holding only these functions. Bodies that depend on the input types
(context-dependent functions) cannot be written ahead of a model and are left out.

    .venv/bin/python tests/onnx_node/gen_functions.py
"""

import os

import onnx
import onnx.defs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "kiln-import", "src", "onnx", "std_functions.pb")


def main():
    functions = []
    for s in sorted(onnx.defs.get_all_schemas_with_history(), key=lambda s: (s.name, s.since_version)):
        if s.domain != "" or not s.has_function:
            continue
        for body_opset in s.function_opset_versions:
            f = onnx.FunctionProto()
            f.ParseFromString(s.get_function_with_opset_version(body_opset))
            f.name = f"{s.name}:{s.since_version}"
            f.domain = ""
            defaults = {n: a.default_value for n, a in s.attributes.items() if a.default_value.name}
            keep = [a for a in f.attribute if a not in defaults]
            del f.attribute[:]
            f.attribute.extend(keep)
            for name, value in sorted(defaults.items()):
                f.attribute_proto.append(value)
            if not any(o.domain in ("", "ai.onnx") for o in f.opset_import):
                f.opset_import.append(onnx.helper.make_opsetid("", body_opset))
            functions.append(f)
    model = onnx.ModelProto(functions=functions)
    with open(OUT, "wb") as out:
        out.write(model.SerializeToString())
    print(f"{len(functions)} function bodies from onnx {onnx.__version__} -> {OUT}")


if __name__ == "__main__":
    main()
