"""Two ways to find empty shelf space in a frame, behind one interface ``detect(bgr) -> (boxes, scores)``.

* :class:`LearnedGapDetector`: our YOLO trained from scratch (``models/weights/anshin_shelf_gap_v1.pt``, see its
  card): boxes of empty shelf space directly.
* :class:`ProductGapDetector`: geometry on the SKU-110K product detector's boxes: products are grouped
  into shelf rows by their vertical centre, and a horizontal stretch between two neighbours wider than
  ``min_gap_widths`` median product widths (or from the row's end to the frame edge) is a gap.

Boxes are pixel ``x1, y1, x2, y2`` in the input frame. Models load when the detector is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edge.paths import PROJECT_ROOT, models_dir
from services.shared.boxes import nms

GAP_WEIGHTS = PROJECT_ROOT / "models" / "weights" / "anshin_shelf_gap_v1.pt"
PRODUCT_MODEL = "derived_sku110k_yolov5n_640.onnx"


class GapDetector(Protocol):
    name: str

    def detect(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class LearnedGapDetector:
    """The empty-shelf detector trained here (ultralytics, CPU)."""

    name = "learned"

    def __init__(self, weights: Path = GAP_WEIGHTS, imgsz: int = 320, conf: float = 0.45) -> None:
        if not Path(weights).is_file():
            raise FileNotFoundError(f"shelf gap weights {weights} not found (see models/cards/anshin_shelf_gap.md)")
        from ultralytics import YOLO

        self.model = YOLO(str(weights), task="detect")
        self.imgsz, self.conf = imgsz, conf

    def detect(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self.model.predict(bgr, imgsz=self.imgsz, conf=self.conf, device="cpu", verbose=False)[0]
        return result.boxes.xyxy.cpu().numpy().astype(float), result.boxes.conf.cpu().numpy().astype(float)


def letterbox(bgr: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping aspect into ``size`` x ``size`` (pad 114, centred): image, scale, (pad x, pad y)."""
    h, w = bgr.shape[:2]
    scale = min(size / w, size / h)
    nw, nh = round(w * scale), round(h * scale)
    px, py = (size - nw) / 2, (size - nh) / 2
    canvas = np.full((size, size, 3), 114, np.uint8)
    canvas[int(py):int(py) + nh, int(px):int(px) + nw] = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, scale, (int(px), int(py))


class ProductDetector:
    """SKU-110K YOLOv5n (ONNX, 1x25200x6: cx, cy, w, h, objectness, class score) with NMS."""

    def __init__(self, path: Path | None = None, conf: float = 0.25, nms_iou: float = 0.45) -> None:
        import onnxruntime as ort

        path = path or models_dir() / PRODUCT_MODEL
        if not path.is_file():
            raise FileNotFoundError(f"product detector {path} not found (anshin models verify)")
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.conf, self.nms_iou = conf, nms_iou

    def detect(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image, scale, (px, py) = letterbox(bgr, 640)
        x = np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0
        out = self.session.run(None, {self.session.get_inputs()[0].name: x})[0][0]
        scores = out[:, 4] * out[:, 5]
        keep = scores >= self.conf
        out, scores = out[keep], scores[keep]
        xyxy = np.stack([out[:, 0] - out[:, 2] / 2, out[:, 1] - out[:, 3] / 2,
                         out[:, 0] + out[:, 2] / 2, out[:, 1] + out[:, 3] / 2], axis=1)
        idx = nms(xyxy, scores, self.nms_iou)
        boxes = xyxy[idx].copy()
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - px) / scale
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - py) / scale
        return boxes.astype(float), scores[idx].astype(float)


@dataclass(frozen=True)
class RowGapSettings:
    min_gap_widths: float = 1.0  # a gap is at least this many median product widths
    row_overlap: float = 0.5  # boxes whose vertical overlap is this share of the smaller height share a row
    min_row_products: int = 2


def row_gaps(products: np.ndarray, frame_width: int, settings: RowGapSettings = RowGapSettings()) -> np.ndarray:
    """Gaps between product boxes along shelf rows (pure geometry).

    >>> p = np.array([[0, 0, 10, 20], [10, 0, 20, 20], [50, 0, 60, 20], [60, 0, 70, 20]], float)
    >>> row_gaps(p, 75).round().tolist()
    [[20.0, 0.0, 50.0, 20.0]]
    """
    products = np.asarray(products, float).reshape(-1, 4)
    if len(products) == 0:
        return np.zeros((0, 4))
    order = np.argsort((products[:, 1] + products[:, 3]) / 2)
    rows: list[list[int]] = []
    for k in order:
        y1, y2 = products[k, 1], products[k, 3]
        for row in rows:
            ry1, ry2 = np.median(products[row, 1]), np.median(products[row, 3])
            overlap = min(y2, ry2) - max(y1, ry1)
            if overlap >= settings.row_overlap * min(y2 - y1, ry2 - ry1):
                row.append(int(k))
                break
        else:
            rows.append([int(k)])
    widths = products[:, 2] - products[:, 0]
    gaps = []
    for row in rows:
        if len(row) < settings.min_row_products:
            continue
        boxes = products[row][np.argsort(products[row, 0])]
        unit = float(np.median(widths[row]))
        top, bottom = float(np.median(boxes[:, 1])), float(np.median(boxes[:, 3]))
        edges = [(0.0, boxes[0, 0])] + [(boxes[i, 2], boxes[i + 1, 0]) for i in range(len(boxes) - 1)]
        edges.append((boxes[:, 2].max(), float(frame_width)))
        for start, end in edges:
            if end - start >= settings.min_gap_widths * unit:
                gaps.append([start, top, end, bottom])
    return np.asarray(gaps, float).reshape(-1, 4)


class ProductGapDetector:
    """Approach (a): row gaps between SKU-110K product boxes; score = gap width in product widths, squashed."""

    name = "product_rows"

    def __init__(self, products: ProductDetector | None = None, settings: RowGapSettings = RowGapSettings()) -> None:
        self.products = products or ProductDetector()
        self.settings = settings

    def detect(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes, _ = self.products.detect(bgr)
        gaps = row_gaps(boxes, bgr.shape[1], self.settings)
        unit = float(np.median(boxes[:, 2] - boxes[:, 0])) if len(boxes) else 1.0
        widths = (gaps[:, 2] - gaps[:, 0]) / max(unit, 1e-6)
        return gaps, 1.0 - np.exp(-widths / 2.0)
