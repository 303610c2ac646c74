"""Typed detector configs, one per backend, discriminated by ``type``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _YoloDetectorConfig(Strict):
    model: str = Field(default="yolov8n_int8.onnx", description="file name in the models directory, or a path")
    imgsz: int = Field(default=640, gt=0, le=4096, description="square network input size in pixels")
    conf: float = Field(default=0.25, ge=0.0, le=1.0, description="minimum class score")
    iou: float = Field(default=0.45, gt=0.0, le=1.0, description="NMS IoU threshold")
    classes: list[int] = Field(default=[0], description="COCO class ids to keep (person = 0)")
    threads: int | None = Field(default=None, ge=1, le=64, description="intra-op threads; None = runtime default")


class OnnxDetectorConfig(_YoloDetectorConfig):
    """Plain onnxruntime + numpy: the slim edge backend (no torch)."""

    type: Literal["onnx"] = "onnx"


class UltralyticsDetectorConfig(_YoloDetectorConfig):
    """ultralytics ``YOLO(path, task="detect")`` (needs torch)."""

    type: Literal["ultralytics"] = "ultralytics"


DetectorConfig = Annotated[OnnxDetectorConfig | UltralyticsDetectorConfig, Field(discriminator="type")]
