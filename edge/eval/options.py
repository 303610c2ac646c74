"""Detector settings shared by the ``anshin eval`` commands: options in, a ready detector out."""

from __future__ import annotations

import re
from typing import Any

import typer

from edge.detectors import create_detector
from edge.detectors.base import Detector
from edge.detectors.config import OnnxDetectorConfig, TilingConfig, UltralyticsDetectorConfig

DEFAULTS = {"model": "yolov8n_int8.onnx", "conf": 0.25, "iou": 0.45}


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _tiles(spec: str | None, overlap: float) -> TilingConfig | None:
    if spec is None:
        return None
    match = re.fullmatch(r"(\d+)x(\d+)", spec)
    if not match:
        raise typer.BadParameter(f"expected ROWSxCOLS such as 2x2, got {spec!r}", param_hint="--tiles")
    return TilingConfig(rows=int(match[1]), cols=int(match[2]), overlap=overlap)


def detector_config(
    detector: str, model: str | None, imgsz: int | None, conf: float | None, iou: float | None,
    tiles: str | None, overlap: float, threads: int | None,
) -> OnnxDetectorConfig | UltralyticsDetectorConfig:
    """The detector config the command-line options describe (unset options take the defaults)."""
    settings: dict[str, Any] = {
        "model": model or DEFAULTS["model"], "imgsz": imgsz,
        "conf": DEFAULTS["conf"] if conf is None else conf, "iou": DEFAULTS["iou"] if iou is None else iou,
        "classes": [0], "threads": threads, "tiles": _tiles(tiles, overlap),
    }
    if detector == "onnx":
        return OnnxDetectorConfig(**settings)
    if detector == "ultralytics":
        return UltralyticsDetectorConfig(**settings)
    raise typer.BadParameter(f"expected onnx or ultralytics, got {detector!r}", param_hint="--detector")


def build_detector(config: OnnxDetectorConfig | UltralyticsDetectorConfig) -> Detector:
    try:
        return create_detector(config)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        raise fail(str(exc)) from exc


def detector_settings(config: OnnxDetectorConfig | UltralyticsDetectorConfig, det: Detector) -> dict[str, Any]:
    return {
        "backend": config.type,
        "model": det.model_name,
        "model_version": det.model_version,
        "imgsz": getattr(getattr(det, "inner", det), "imgsz", config.imgsz),
        "conf": config.conf,
        "iou": config.iou,
        "tiles": None if config.tiles is None else config.tiles.model_dump(),
    }
