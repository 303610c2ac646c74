"""EXPERIMENTAL pose cue for H: a hand held at pocket or bag height, from YOLO11n-pose (TFLite int8).

Off by default: only a ``concealment_cue`` rule in a camera's behaviour config loads the model.
The cue is geometric and crude: a wrist close to the same side's hip, relative to the torso's
length. Handling goods at a counter, a phone in a pocket or a hand on a bag strap give the same
cue; it is shown to reviewers as an experimental observation, never as a finding
(``models/cards/yolo11n_pose.md`` says what it was checked on).

The model (``models/manifest.yaml``: ``yolo11n-pose_full_integer_quant``) takes a 256x256 int8
RGB letterboxed image and answers 1x56x1344 int8: per anchor a box (cx, cy, w, h) and a score as
fractions of the input, then 17 COCO keypoints (x, y, visibility).

>>> kp = np.zeros((17, 3), np.float32)
>>> kp[[5, 6, 11, 12], :] = [[40, 20, 1], [60, 20, 1], [42, 60, 1], [58, 60, 1]]  # shoulders, hips
>>> kp[9] = [44, 62, 1]; kp[10] = [80, 30, 1]          # left wrist at the left hip, right hand raised
>>> hand_at_hip(kp)
True
>>> kp[9] = [20, 30, 1]
>>> hand_at_hip(kp)
False
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from services.shared.boxes import nms

MODEL_FILE = "yolo11n-pose_full_integer_quant.tflite"
INPUT = 256
# COCO keypoint indices
L_SHOULDER, R_SHOULDER, L_WRIST, R_WRIST, L_HIP, R_HIP = 5, 6, 9, 10, 11, 12


@dataclass(frozen=True, slots=True)
class Poses:
    """People found by the pose model: boxes (n, 4) and keypoints (n, 17, 3: x, y, visibility) in pixels."""

    xyxy: np.ndarray
    score: np.ndarray
    keypoints: np.ndarray

    def __len__(self) -> int:
        return len(self.xyxy)


def hand_at_hip(kp: np.ndarray, reach: float = 0.35, min_visibility: float = 0.5) -> bool:
    """Whether a visible wrist lies within ``reach`` torso lengths of the same side's visible hip."""
    def seen(i: int) -> bool:
        return bool(kp[i, 2] >= min_visibility)

    if not all(seen(i) for i in (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP)):
        return False
    torso = float(np.linalg.norm((kp[L_SHOULDER, :2] + kp[R_SHOULDER, :2]) / 2 - (kp[L_HIP, :2] + kp[R_HIP, :2]) / 2))
    if torso < 4:  # too small to measure
        return False
    return any(seen(w) and float(np.linalg.norm(kp[w, :2] - kp[h, :2])) <= reach * torso
               for w, h in ((L_WRIST, L_HIP), (R_WRIST, R_HIP)))


class PoseModel:
    """YOLO11n-pose through ai-edge-litert (loaded when built; fails with a named error without it)."""

    model_name = "yolo11n-pose_full_integer_quant"

    def __init__(self, path: Path | None = None, score: float = 0.4, threads: int = 1) -> None:
        from edge.paths import models_dir

        path = path or models_dir() / MODEL_FILE
        if not path.is_file():
            raise FileNotFoundError(f"pose model not found: {path} (models/manifest.yaml: yolo11n-pose_full_integer_quant)")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # the experimental pose cue needs the TFLite runtime
            raise RuntimeError("the pose cue needs ai-edge-litert (pip install ai-edge-litert)") from exc
        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._in = self._interpreter.get_input_details()[0]
        self._out = self._interpreter.get_output_details()[0]
        self.score = score

    def __call__(self, image: np.ndarray) -> Poses:
        h, w = image.shape[:2]
        scale = INPUT / max(h, w)
        nw, nh = round(w * scale), round(h * scale)
        pad_x, pad_y = (INPUT - nw) // 2, (INPUT - nh) // 2
        canvas = np.full((INPUT, INPUT, 3), 114, np.uint8)
        canvas[pad_y:pad_y + nh, pad_x:pad_x + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
        in_scale, in_zero = self._in["quantization"]
        x = np.clip(np.round(rgb.astype(np.float32) / 255.0 / in_scale + in_zero), -128, 127).astype(np.int8)[None]
        self._interpreter.set_tensor(self._in["index"], x)
        self._interpreter.invoke()
        q = self._interpreter.get_tensor(self._out["index"])[0]
        out_scale, out_zero = self._out["quantization"]
        y = (q.astype(np.float32) - out_zero) * out_scale  # (56, anchors), fractions of the input
        keep = y[4] >= self.score
        if not keep.any():
            return Poses(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 17, 3), np.float32))
        y = y[:, keep] * np.array([INPUT] * 4 + [1] + [INPUT, INPUT, 1] * 17, np.float32)[:, None]
        cx, cy, bw, bh = y[0], y[1], y[2], y[3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        kps = y[5:].T.reshape(-1, 17, 3)
        order = nms(boxes, y[4], iou=0.5)
        boxes, scores, kps = boxes[order], y[4][order], kps[order]
        # Undo the letterbox: back to the image's pixels.
        boxes = (boxes - np.array([pad_x, pad_y, pad_x, pad_y], np.float32)) / scale
        kps[..., 0] = (kps[..., 0] - pad_x) / scale
        kps[..., 1] = (kps[..., 1] - pad_y) / scale
        return Poses(boxes.astype(np.float32), scores.astype(np.float32), kps.astype(np.float32))
