"""The chandrikadeb7 MobileNetV2 mask classifier, as the derived dynamic-int8 TFLite file.

Input 224x224 RGB scaled to -1..1 (``mobilenet_v2.preprocess_input``); output softmax over
(mask, withoutMask). It also exposes its 1280-d pooled features, which :mod:`edge.usecases.entrance.masks.linear`
uses as an embedding for the project's own trained head.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import numpy.typing as npt

from edge.paths import resolve_model
from edge.usecases.entrance.masks.base import bgr_to_rgb_square

DEFAULT_MODEL = "derived_face_mask_mobilenetv2_dynint8.tflite"
_POOLED = "model/flatten/Reshape"  # (1, 1280) global-average-pooled backbone features
INPUT_SIZE = 224


def _interpreter(path: str, preserve: bool, threads: int | None):  # type: ignore[no-untyped-def]
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # the slim edge image may lack it: say which package is missing
        raise RuntimeError("the MobileNetV2 mask model needs the 'ai-edge-litert' package (pip install ai-edge-litert)") from exc
    with warnings.catch_warnings():
        # preserving intermediates is how we read the pooled features; the warning is about memory
        warnings.simplefilter("ignore", UserWarning)
        it = Interpreter(model_path=path, experimental_preserve_all_tensors=preserve, num_threads=threads)
    it.allocate_tensors()
    return it


class MobileNetV2MaskClassifier:
    """P(mask) from the MobileNetV2 softmax; one crop per invoke (the file has batch size 1)."""

    kind = "mobilenetv2"
    model_name = "face_mask_mobilenetv2"

    def __init__(self, model: str = DEFAULT_MODEL, threads: int | None = 1) -> None:
        path = resolve_model(model)
        self.model_version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self._it = _interpreter(str(path), preserve=True, threads=threads)
        self._in = self._it.get_input_details()[0]["index"]
        self._out = self._it.get_output_details()[0]["index"]
        names = {t["name"]: t["index"] for t in self._it.get_tensor_details()}
        if _POOLED not in names:
            raise RuntimeError(f"{path}: tensor {_POOLED!r} not found; is this the derived MobileNetV2 mask model?")
        self._pooled = names[_POOLED]

    def _run(self, crop: np.ndarray) -> None:
        x = bgr_to_rgb_square(crop, INPUT_SIZE) / 127.5 - 1.0
        self._it.set_tensor(self._in, x[None])
        self._it.invoke()

    def predict(self, crops: list[np.ndarray]) -> npt.NDArray[np.float32]:
        out = np.empty(len(crops), np.float32)
        for i, crop in enumerate(crops):
            self._run(crop)
            out[i] = self._it.get_tensor(self._out)[0, 0]
        return out

    def embed(self, crops: list[np.ndarray]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(n, 1280) pooled features and (n,) P(mask) of the original head, one invoke per crop."""
        feats = np.empty((len(crops), 1280), np.float32)
        probs = np.empty(len(crops), np.float32)
        for i, crop in enumerate(crops):
            self._run(crop)
            feats[i] = self._it.get_tensor(self._pooled)[0]
            probs[i] = self._it.get_tensor(self._out)[0, 0]
        return feats, probs
