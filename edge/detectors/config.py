"""Typed detector configs, one per backend, discriminated by ``type``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.shared.strict import Strict


class TilingConfig(Strict):
    """Sliced inference: overlapping tiles, each scaled up to the network input, merged with NMS.

    Small, distant people (a crowd seen from a ceiling camera) are a few pixels tall at the
    network's input size; cutting the frame into tiles gives each of them more network pixels.
    Cost grows with the number of tiles (rows x cols, + 1 with ``full_frame``).
    """

    rows: int = Field(default=2, ge=1, le=8, description="tiles from top to bottom")
    cols: int = Field(default=2, ge=1, le=8, description="tiles from left to right")
    overlap: float = Field(default=0.25, ge=0.0, lt=1.0, description="overlap between neighbouring tiles, fraction of a tile's side")
    full_frame: bool = Field(default=True, description="also run on the whole frame, so large people cut by tile edges are found whole")
    merge: Literal["iou", "ios"] = Field(
        default="ios",
        description="how duplicates across tiles are matched: IoU, or intersection over the smaller box "
        "(also removes a person's part cut off at a tile edge)",
    )
    merge_thresh: float = Field(default=0.6, gt=0.0, le=1.0, description="match threshold for merging duplicates")
    workers: int = Field(default=1, ge=1, le=16,
                         description="tiles run at once on this many threads (the runtime releases the GIL): "
                         "on a box with a core to spare, about that many times the counts per second; "
                         "the boxes do not change")


class NearFieldConfig(Strict):
    """A second, general detector for people taller in the picture than any the camera's model learnt.

    A model fine-tuned on one camera's labelled frames scores people nearer the camera than any
    labelled one poorly (it never saw them that size), while a general COCO detector finds them
    well. Boxes are routed by height: the camera's model keeps its boxes up to
    ``main_max_height_px``, the general one contributes boxes from ``min_height_px`` up, and where
    both found the same person (IoU >= ``merge_iou``) the higher score wins. The two heights
    overlap, so a person at the boundary is never dropped by both. Costs a second inference per frame.
    """

    model: str = Field(default="yolo11n_int8.onnx", description="the general detector: file name in the models directory, or a path")
    min_height_px: float = Field(default=70.0, ge=0.0, description="its boxes count from this height (frame pixels) up")
    main_max_height_px: float = Field(
        default=90.0, gt=0.0, description="the camera model's boxes count up to this height (frame pixels)",
    )
    merge_iou: float = Field(default=0.5, gt=0.0, le=1.0, description="IoU at which two boxes are one person")

    @model_validator(mode="after")
    def _heights_overlap(self) -> NearFieldConfig:
        if self.min_height_px > self.main_max_height_px:
            raise ValueError(
                f"min_height_px ({self.min_height_px}) is above main_max_height_px ({self.main_max_height_px}): "
                "people between the two would be found by neither model"
            )
        return self


class _YoloDetectorConfig(Strict):
    model: str = Field(default="yolov8n_int8.onnx", description="file name in the models directory, or a path")
    imgsz: int | None = Field(
        default=None, gt=0, le=4096,
        description="square network input size in pixels; None = the model's own (640 for yolov8n_int8, 320 for yolo11n_int8)",
    )
    conf: float = Field(default=0.25, ge=0.0, le=1.0, description="minimum class score")
    iou: float = Field(default=0.45, gt=0.0, le=1.0, description="NMS IoU threshold")
    classes: list[int] = Field(default=[0], description="COCO class ids to keep (person = 0)")
    max_det: int = Field(default=300, ge=1, le=10000, description="most detections kept per network input")
    threads: int | None = Field(default=None, ge=1, le=64, description="intra-op threads; None = runtime default")
    tiles: TilingConfig | None = Field(default=None, description="sliced inference for small objects; None = whole frame only")
    near: NearFieldConfig | None = Field(
        default=None, description="a general detector for people nearer the camera than the model was fitted on; None = this model only",
    )

    def model_files(self) -> list[str]:
        """The model files this detector runs: its own, and its near-field model's if it has one."""
        return [self.model] + ([self.near.model] if self.near is not None else [])


class OnnxDetectorConfig(_YoloDetectorConfig):
    """Plain onnxruntime + numpy: the slim edge backend (no torch)."""

    type: Literal["onnx"] = "onnx"
    providers: list[str] = Field(default=["CPUExecutionProvider"], description="onnxruntime execution providers, in order")


class UltralyticsDetectorConfig(_YoloDetectorConfig):
    """ultralytics ``YOLO(path, task="detect")`` (needs torch)."""

    type: Literal["ultralytics"] = "ultralytics"


DetectorConfig = Annotated[OnnxDetectorConfig | UltralyticsDetectorConfig, Field(discriminator="type")]
