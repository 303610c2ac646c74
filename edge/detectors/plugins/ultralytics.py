"""YOLO detect models through ``ultralytics.YOLO(path, task="detect")`` (needs torch).

ultralytics (and with it torch) is imported only when this detector is built, so the onnx
path and the rest of edge/ never pay for it.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edge.detections import Detections
from edge.detectors.config import UltralyticsDetectorConfig
from edge.detectors.convert import from_ultralytics
from edge.models_registry import sha256_file
from edge.paths import resolve_model


def _load_yolo(path: Path) -> Any:
    # Never download or pip-install at run time: a missing piece must be a clear error instead.
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    # Its info banners go to stdout, which belongs to commands that print JSON.
    os.environ.setdefault("YOLO_VERBOSE", "false")
    try:
        from ultralytics import YOLO
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "detector type 'ultralytics' needs the ultralytics package (and torch); "
            "install them or use type 'onnx'"
        ) from exc
    return YOLO(str(path), task="detect")


def _native_imgsz(path: Path) -> int | None:
    """The input side an ONNX export was fixed to (its ``imgsz`` metadata), if any."""
    if path.suffix != ".onnx":
        return None
    import onnxruntime as ort

    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    imgsz = ast.literal_eval(meta["imgsz"]) if "imgsz" in meta else None  # literal_eval: metadata is data
    if isinstance(imgsz, (list, tuple)):
        return int(imgsz[0])
    return int(imgsz) if imgsz else None


class UltralyticsDetector:
    """Same contract as :class:`~edge.detectors.plugins.onnx.OnnxDetector`, run by ultralytics.

    Attributes:
        model_name: file stem; model_version: first 12 hex digits of the file's sha256.
        class_names: class id → name, from the model.
    """

    kind: ClassVar[str] = "ultralytics"

    def __init__(self, config: UltralyticsDetectorConfig) -> None:
        path = resolve_model(config.model)
        self.config = config
        if config.threads is not None:
            import torch

            torch.set_num_threads(config.threads)
        self._model = _load_yolo(path)
        self.class_names = {int(k): str(v) for k, v in self._model.names.items()}
        unknown = sorted(set(config.classes) - set(self.class_names))
        if unknown:
            raise ValueError(f"detector classes {unknown} not in model {path.name}")
        native = _native_imgsz(path)
        if native is not None and config.imgsz is not None and config.imgsz != native:
            raise ValueError(
                f"detector imgsz={config.imgsz} but model {path.name} has a fixed {native}x{native} input; "
                f"set imgsz to {native} or leave it unset"
            )
        self.imgsz = config.imgsz or native or 640
        self.model_name = path.stem
        self.model_version = sha256_file(path)[:12]

    def detect(self, frame: np.ndarray) -> Detections:
        """Detections in frame pixels for one BGR frame (H, W, 3 uint8)."""
        (result,) = self._model.predict(
            frame, conf=self.config.conf, iou=self.config.iou, imgsz=self.imgsz,
            classes=list(self.config.classes), max_det=self.config.max_det, device="cpu", verbose=False,
        )
        return from_ultralytics(result)
