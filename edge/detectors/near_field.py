"""Two detectors routed by box height: the camera's own model, and a general one for near people.

See :class:`edge.detectors.config.NearFieldConfig` for why; :func:`route_by_height` is the rule.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from edge.detections import Detections
from edge.detectors.base import Detector
from edge.detectors.config import NearFieldConfig
from edge.detectors.tiling import concat, merge_duplicates


def route_by_height(main: Detections, near: Detections, config: NearFieldConfig) -> Detections:
    """``main``'s boxes up to ``main_max_height_px`` and ``near``'s from ``min_height_px``, duplicates merged.

    >>> cfg = NearFieldConfig(min_height_px=70, main_max_height_px=90)
    >>> main = Detections(xyxy=[[0, 0, 20, 50], [100, 0, 140, 120]], score=[0.9, 0.3], class_id=[0, 0])
    >>> near = Detections(xyxy=[[1, 0, 21, 50], [101, 0, 141, 121]], score=[0.4, 0.8], class_id=[0, 0])
    >>> out = route_by_height(main, near, cfg)  # the small person from main, the tall one from near
    >>> out.xyxy.tolist(), [round(float(s), 2) for s in out.score]
    ([[0.0, 0.0, 20.0, 50.0], [101.0, 0.0, 141.0, 121.0]], [0.9, 0.8])
    """
    main = main[_heights(main) <= config.main_max_height_px]
    near = near[_heights(near) >= config.min_height_px]
    return merge_duplicates(concat([main, near]), "iou", config.merge_iou)


def _heights(dets: Detections) -> np.ndarray:
    return dets.xyxy[:, 3] - dets.xyxy[:, 1]


class NearFieldDetector:
    """Runs the camera's detector and the general one on each frame; :func:`route_by_height` merges them.

    ``model_version`` names both models, so a count calibration fitted with the camera's model
    alone is not applied to the pair.
    """

    def __init__(self, main: Detector, near: Detector, config: NearFieldConfig) -> None:
        self.main = main
        self.near = near
        self.config = config
        self.kind = main.kind
        self.model_name = f"{main.model_name}+{near.model_name}"
        self.model_version = f"{main.model_version}+{near.model_version}"
        # The general model runs on a thread of its own while the camera's model runs on the caller's:
        # onnxruntime releases the GIL, so on two cores the pair costs about one inference of wall time.
        self._near_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="near-field")

    def detect(self, frame: np.ndarray) -> Detections:
        """Detections in frame pixels for one BGR frame (H, W, 3 uint8)."""
        near = self._near_thread.submit(self.near.detect, frame)
        main = self.main.detect(frame)
        return route_by_height(main, near.result(), self.config)
