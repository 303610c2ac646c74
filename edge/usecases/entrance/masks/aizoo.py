"""AIZOO face-mask SSD: face detection and mask classification in one network (Caffe, OpenCV 4.x).

Input 260x260 RGB/255; outputs 5972 anchors of box deltas and (Mask, NoMask) scores. Decoding
follows the upstream repository (see ../shared/data/MANIFEST.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from edge.paths import resolve_model

INPUT_SIZE = 260
_FEATURE_MAPS = (33, 17, 9, 5, 3)
_SIZES = ((0.04, 0.056), (0.08, 0.11), (0.16, 0.22), (0.32, 0.45), (0.64, 0.72))
_RATIOS = (1.0, 0.62, 0.42)
_VARIANCES = (0.1, 0.1, 0.2, 0.2)


@lru_cache(maxsize=1)
def anchors() -> npt.NDArray[np.float32]:
    """(5972, 4) anchors cx, cy, w, h normalised to 0..1, in the network's output order."""
    rows: list[tuple[float, float, float, float]] = []
    for f, (s0, s1) in zip(_FEATURE_MAPS, _SIZES, strict=True):
        shapes = [(s0, s0), (s1, s1)] + [(s0 * np.sqrt(r), s0 / np.sqrt(r)) for r in _RATIOS[1:]]
        for j in range(f):  # rows (y)
            for i in range(f):  # columns (x)
                cx, cy = (i + 0.5) / f, (j + 0.5) / f
                rows.extend((cx, cy, w, h) for w, h in shapes)
    return np.asarray(rows, np.float32)


@dataclass(frozen=True, slots=True)
class AizooDetections:
    """AIZOO faces: boxes in pixels, P(mask) and detection confidence (max class score)."""

    xyxy: npt.NDArray[np.float32]
    p_mask: npt.NDArray[np.float32]
    conf: npt.NDArray[np.float32]


class AizooMaskDetector:
    """Runs the SSD on a BGR image and returns every face with its mask probability."""

    kind = "aizoo"
    model_name = "aizoo_face_mask_detection"

    def __init__(self, conf: float = 0.5, iou: float = 0.4) -> None:
        model = resolve_model("aizoo_face_mask_detection.caffemodel")
        proto = resolve_model("aizoo_face_mask_detection.prototxt")
        self.model_version = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
        self._net = cv2.dnn.readNet(str(model), str(proto))
        self.conf, self.iou = conf, iou

    def raw(self, image: np.ndarray) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(5972, 4) decoded boxes x1, y1, x2, y2 (0..1) and (5972, 2) softmax (Mask, NoMask)."""
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        self._net.setInput(cv2.dnn.blobFromImage(rgb, 1 / 255.0, (INPUT_SIZE, INPUT_SIZE)))
        loc, cls = self._net.forward(["loc_branch_concat", "cls_branch_concat"])
        loc, cls = loc.reshape(-1, 4), cls.reshape(-1, 2)
        a = anchors()
        cxcy = loc[:, :2] * np.array(_VARIANCES[:2]) * a[:, 2:] + a[:, :2]
        wh = np.exp(loc[:, 2:] * np.array(_VARIANCES[2:])) * a[:, 2:]
        return np.concatenate([cxcy - wh / 2, cxcy + wh / 2], axis=1).astype(np.float32), cls.astype(np.float32)

    def detect(self, image: np.ndarray) -> AizooDetections:
        boxes, cls = self.raw(image)
        conf = cls.max(axis=1)
        keep = np.flatnonzero(conf >= self.conf)
        h, w = image.shape[:2]
        scale = np.array([w, h, w, h], np.float32)
        if len(keep) == 0:
            return AizooDetections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32))
        xywh = np.concatenate([boxes[keep, :2], boxes[keep, 2:] - boxes[keep, :2]], axis=1) * scale
        idx = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), conf[keep].tolist(), self.conf, self.iou), int).reshape(-1)
        keep = keep[idx]
        return AizooDetections((boxes[keep] * scale).astype(np.float32), cls[keep, 0], conf[keep])


class AizooMaskClassifier:
    """AIZOO as a crop classifier: the most confident face in the crop decides.

    When the SSD finds no face above its threshold in a crop, the anchor with the highest
    class score still gives an answer, so every crop gets a probability.
    """

    kind = "aizoo"
    model_name = AizooMaskDetector.model_name

    def __init__(self, conf: float = 0.5) -> None:
        self._det = AizooMaskDetector(conf=conf)
        self.model_version = self._det.model_version

    def predict(self, crops: list[np.ndarray]) -> npt.NDArray[np.float32]:
        out = np.empty(len(crops), np.float32)
        for i, crop in enumerate(crops):
            _, cls = self._det.raw(crop)
            out[i] = cls[int(np.argmax(cls.max(axis=1))), 0]
        return out
