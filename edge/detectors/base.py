"""The one interface every detector backend implements."""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

from edge.detections import Detections


class Detector(Protocol):
    """A backend that turns one BGR frame (H, W, 3 uint8) into detections in frame pixels."""

    kind: ClassVar[str]
    model_name: str
    model_version: str

    def detect(self, frame: np.ndarray) -> Detections: ...
