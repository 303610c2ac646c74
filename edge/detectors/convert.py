"""Named constructors from model outputs to :class:`~edge.detections.Detections`.

Library and tensor types stop here: nothing downstream sees an ONNX array layout or an
ultralytics ``Results`` object. Pure functions over numpy arrays, mirroring what ultralytics
does (letterbox, best-class score, class-aware NMS, scale back) so both backends agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.detections import Detections
from services.shared.boxes import batched_nms

PAD_VALUE = 114  # grey used by ultralytics' LetterBox
MAX_NMS = 30000  # at most this many candidates enter NMS (ultralytics' max_nms)


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the square network input.

    Attributes:
        gain_x, gain_y: network pixels per frame pixel (equal up to rounding of the resized sides).
        pad_x, pad_y: left and top padding, in network pixels.
        width, height: frame size in pixels.
    """

    gain_x: float
    gain_y: float
    pad_x: int
    pad_y: int
    width: int
    height: int

    @classmethod
    def fit(cls, width: int, height: int, size: int) -> Letterbox:
        """Geometry of centring a ``width`` x ``height`` frame in a ``size`` square (ultralytics rounding).

        >>> Letterbox.fit(640, 480, 640)
        Letterbox(gain_x=1.0, gain_y=1.0, pad_x=0, pad_y=80, width=640, height=480)
        """
        r = min(size / height, size / width)
        new_w, new_h = max(round(width * r), 1), max(round(height * r), 1)
        pad_x, pad_y = round((size - new_w) / 2 - 0.1), round((size - new_h) / 2 - 0.1)
        return cls(new_w / width, new_h / height, pad_x, pad_y, width, height)

    @property
    def resized(self) -> tuple[int, int]:
        """(width, height) of the frame inside the network input, in pixels."""
        return max(round(self.width * self.gain_x), 1), max(round(self.height * self.gain_y), 1)

    def to_frame(self, xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Boxes in network pixels → boxes in frame pixels, clipped to the frame (a new array).

        >>> lb = Letterbox.fit(640, 480, 320)
        >>> lb.to_frame(np.array([[0, 40, 160, 280]], np.float32))
        array([[  0.,   0., 320., 480.]], dtype=float32)
        """
        out = np.array(xyxy, dtype=np.float32, copy=True).reshape(-1, 4)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.gain_x
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.gain_y
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.height)
        return out


def letterbox(frame_bgr: np.ndarray, size: int) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """A BGR uint8 frame → (1x3xSxS float32 RGB/255 blob, its :class:`Letterbox`)."""
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"frame: expected a BGR image of shape (H, W, 3), got {frame_bgr.shape}")
    height, width = frame_bgr.shape[:2]
    lb = Letterbox.fit(width, height, size)
    new_w, new_h = lb.resized
    resized = frame_bgr if (new_w, new_h) == (width, height) else cv2.resize(
        frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR
    )
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[lb.pad_y : lb.pad_y + new_h, lb.pad_x : lb.pad_x + new_w] = resized
    blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(blob), lb


def xywh_to_xyxy(xywh: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Centre-size boxes → corner boxes (same units).

    >>> xywh_to_xyxy(np.array([[10, 20, 4, 6]], np.float32))
    array([[ 8., 17., 12., 23.]], dtype=float32)
    """
    xywh = np.asarray(xywh, dtype=np.float32).reshape(-1, 4)
    half = xywh[:, 2:] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], axis=1)


def from_yolo_output(
    output: np.ndarray,
    lb: Letterbox,
    *,
    conf: float,
    iou: float,
    classes: Sequence[int] | None = None,
    max_det: int = 300,
) -> Detections:
    """Raw YOLOv8/11 head output (1, 4 + C, N) → detections in frame pixels.

    Rows are (cx, cy, w, h) in network pixels followed by C class scores (no objectness).
    Like ultralytics: the best class per anchor, kept when its score is above ``conf`` and its class
    is in ``classes``, then class-aware NMS at ``iou``, at most ``max_det`` boxes.
    """
    preds = np.asarray(output, dtype=np.float32)
    if preds.ndim != 3 or preds.shape[0] != 1 or preds.shape[1] < 5:
        raise ValueError(f"YOLO output: expected shape (1, 4 + classes, anchors), got {preds.shape}")
    preds = preds[0].T  # (N, 4 + C)
    cls_scores = preds[:, 4:]
    class_id = cls_scores.argmax(axis=1)
    score = cls_scores[np.arange(len(preds)), class_id]
    keep = score > conf
    if classes is not None:
        keep &= np.isin(class_id, np.asarray(list(classes)))
    idx = np.flatnonzero(keep)
    if len(idx) > MAX_NMS:
        idx = idx[np.argsort(-score[idx], kind="stable")[:MAX_NMS]]
    xyxy = xywh_to_xyxy(preds[idx, :4])
    kept = batched_nms(xyxy, score[idx], class_id[idx], iou)[:max_det]
    return Detections(
        xyxy=lb.to_frame(xyxy[kept]),
        score=score[idx][kept],
        class_id=class_id[idx][kept].astype(np.int64),
    )


def from_ultralytics(result: Any) -> Detections:
    """One ultralytics ``Results`` (detect task) → detections in frame pixels."""
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return Detections.empty()
    boxes = boxes.cpu().numpy()
    tracker_id = None if boxes.id is None else boxes.id.astype(np.int64)
    return Detections(
        xyxy=boxes.xyxy.astype(np.float32),
        score=boxes.conf.astype(np.float32),
        class_id=boxes.cls.astype(np.int64),
        tracker_id=tracker_id,
    )
