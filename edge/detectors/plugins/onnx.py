"""YOLOv8/YOLO11 detect models through plain onnxruntime + numpy + OpenCV (no torch).

The slim edge backend: letterbox, one ``session.run``, decode and NMS in numpy
(:mod:`edge.detectors.convert`), boxes mapped back to frame pixels.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import ClassVar

import numpy as np

from edge.detections import Detections
from edge.detectors.config import OnnxDetectorConfig
from edge.detectors.convert import from_yolo_output, letterbox
from edge.models_registry import sha256_file
from edge.paths import resolve_model

try:  # the runtime is optional for the rest of edge/, so a missing one is a named error, not an ImportError
    import onnxruntime as ort
except ImportError:  # pragma: no cover - depends on the environment
    ort = None


def _class_names(metadata: dict[str, str], n_classes: int) -> dict[int, str]:
    """Class names from the ultralytics ``names`` metadata entry (a Python dict literal)."""
    raw = metadata.get("names")
    if not raw:
        return {i: str(i) for i in range(n_classes)}
    names = ast.literal_eval(raw)  # literal_eval: metadata is data, never code
    return {int(k): str(v) for k, v in names.items()}


class OnnxDetector:
    """Runs a YOLO detect ONNX export (input 1x3xSxS RGB/255, output 1x(4+C)xN, no NMS).

    Attributes:
        model_name: file stem, e.g. ``yolov8n_int8``.
        model_version: first 12 hex digits of the file's sha256 (what models/manifest.yaml records).
        class_names: class id → name, from the model's metadata.
        imgsz: network input side in pixels.
    """

    kind: ClassVar[str] = "onnx"

    def __init__(self, config: OnnxDetectorConfig) -> None:
        if ort is None:
            raise RuntimeError(
                "detector type 'onnx' needs the onnxruntime package; install it (pip install onnxruntime)"
            )
        path: Path = resolve_model(config.model)
        self.config = config
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if config.threads is not None:
            options.intra_op_num_threads = config.threads
        self._session = ort.InferenceSession(str(path), sess_options=options, providers=list(config.providers))
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        self.imgsz = self._input_size(inp.shape, config.imgsz, path)
        metadata = self._session.get_modelmeta().custom_metadata_map
        n_classes = int(self._session.get_outputs()[0].shape[1]) - 4
        self.class_names = _class_names(metadata, n_classes)
        unknown = sorted(set(config.classes) - set(self.class_names))
        if unknown:
            raise ValueError(f"detector classes {unknown} not in model {path.name} (it has ids 0..{n_classes - 1})")
        self.model_name = path.stem
        self.model_version = sha256_file(path)[:12]
        self.exporter_version = metadata.get("version", "")

    @staticmethod
    def _input_size(shape: list[object], wanted: int | None, path: Path) -> int:
        """The square input side: the model's own when fixed (``wanted`` must agree), else ``wanted``."""
        h, w = shape[2], shape[3]
        fixed = isinstance(h, int) and isinstance(w, int)
        if fixed and h != w:
            raise ValueError(f"model {path.name}: expected a square input, got {h}x{w}")
        if fixed and wanted is not None and wanted != h:
            raise ValueError(
                f"detector imgsz={wanted} but model {path.name} has a fixed {h}x{w} input; "
                f"set imgsz to {h} or leave it unset"
            )
        if fixed:
            return int(h)  # type: ignore[arg-type]
        return wanted or 640

    def detect(self, frame: np.ndarray) -> Detections:
        """Detections in frame pixels for one BGR frame (H, W, 3 uint8)."""
        blob, lb = letterbox(frame, self.imgsz)
        (output,) = self._session.run(None, {self._input_name: blob})[:1]
        return from_yolo_output(
            output, lb, conf=self.config.conf, iou=self.config.iou, classes=self.config.classes,
            max_det=self.config.max_det,
        )
