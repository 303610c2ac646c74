"""Detector backends behind one protocol, built from typed configs.

>>> sorted(DETECTOR_TYPES)
['onnx', 'ultralytics']
"""

from __future__ import annotations

import importlib

from edge.detectors.base import Detector
from edge.detectors.config import DetectorConfig

# type → "module:class". Explicit (searchable) and imported only when chosen, so the onnx
# backend never imports torch and a missing runtime is a named error for that type alone.
DETECTOR_TYPES: dict[str, str] = {
    "onnx": "edge.detectors.plugins.onnx:OnnxDetector",
    "ultralytics": "edge.detectors.plugins.ultralytics:UltralyticsDetector",
}


def create_detector(config: DetectorConfig) -> Detector:
    """Build the detector a config names; wraps it for sliced inference when ``config.tiles`` is set,
    and pairs it with a general detector for near people when ``config.near`` is set.

    Raises:
        ValueError: unknown ``type``.
        FileNotFoundError: the model file is not in the models directory (names it and ANSHIN_MODELS_DIR).
        RuntimeError: the backend's runtime package is not installed.
    """
    kind = getattr(config, "type", None)
    if kind not in DETECTOR_TYPES:
        raise ValueError(f"unknown detector type {kind!r}; known types: {sorted(DETECTOR_TYPES)}")
    module_name, _, class_name = DETECTOR_TYPES[kind].partition(":")
    detector: Detector = getattr(importlib.import_module(module_name), class_name)(config)
    if config.tiles is not None:
        from edge.detectors.tiling import TiledDetector

        detector = TiledDetector(detector, config.tiles)
    if config.near is not None:
        from edge.detectors.near_field import NearFieldDetector

        # The general model runs on the whole frame at its own input size, with the camera's other settings.
        near = create_detector(config.model_copy(update={"model": config.near.model, "imgsz": None, "tiles": None, "near": None}))
        detector = NearFieldDetector(detector, near, config.near)
    return detector


__all__ = ["DETECTOR_TYPES", "Detector", "DetectorConfig", "create_detector"]
