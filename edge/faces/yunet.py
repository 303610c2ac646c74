"""YuNet (OpenCV Zoo) face detector through ``cv2.FaceDetectorYN``.

The model file is ``face_detection_yunet_2026may.onnx`` in the models directory ("2026may" is
only the upstream file name). It finds frontal and masked faces down to about 10 px.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from edge.faces.faces import Faces
from edge.paths import resolve_model
from services.shared.strict import Strict

DEFAULT_MODEL = "face_detection_yunet_2026may.onnx"


class YuNetConfig(Strict):
    model: str = Field(default=DEFAULT_MODEL, description="file name in the models directory, or a path")
    score_threshold: float = Field(default=0.6, ge=0.0, le=1.0, description="minimum face score")
    nms_threshold: float = Field(default=0.3, gt=0.0, le=1.0, description="NMS IoU threshold")
    top_k: int = Field(default=200, gt=0, description="faces kept before NMS")
    min_size: float = Field(default=0.0, ge=0.0, description="drop faces whose shorter side is below this, pixels")


class YuNetFaceDetector:
    """BGR frame (H, W, 3 uint8) in, :class:`Faces` in frame pixels out.

    Not thread-safe (OpenCV keeps the input size on the detector); use one per worker thread.
    """

    kind = "yunet"
    model_name = "yunet"

    def __init__(self, config: YuNetConfig | None = None) -> None:
        self.config = config or YuNetConfig()
        path: Path = resolve_model(self.config.model)
        self.model_version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self._net = cv2.FaceDetectorYN.create(
            str(path), "", (320, 320), self.config.score_threshold, self.config.nms_threshold, self.config.top_k
        )
        self._size = (320, 320)

    def detect(self, frame: np.ndarray) -> Faces:
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"YuNetFaceDetector.detect: expected a BGR image (H, W, 3), got shape {frame.shape}")
        h, w = frame.shape[:2]
        if (w, h) != self._size:
            self._net.setInputSize((w, h))
            self._size = (w, h)
        _, rows = self._net.detect(np.ascontiguousarray(frame))
        if rows is None or len(rows) == 0:
            return Faces.empty()
        rows = np.asarray(rows, dtype=np.float32)
        # YuNet now and then returns a row of NaN/inf (seen on ~1 in 3,000 mask photos); such a row
        # is no face, and left in it would become an empty crop downstream.
        with np.errstate(invalid="ignore", over="ignore"):
            rows = rows[np.isfinite(rows[:, :15]).all(axis=1)]
        if len(rows) == 0:
            return Faces.empty()
        xyxy = np.concatenate([rows[:, 0:2], rows[:, 0:2] + rows[:, 2:4]], axis=1)
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h)
        faces = Faces(xyxy=xyxy, landmarks=rows[:, 4:14].reshape(-1, 5, 2), score=rows[:, 14])
        faces = faces[(xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])]  # no area after clipping: nothing to crop
        if self.config.min_size > 0:
            side = np.minimum(faces.xyxy[:, 2] - faces.xyxy[:, 0], faces.xyxy[:, 3] - faces.xyxy[:, 1])
            faces = faces[side >= self.config.min_size]
        return faces
