"""The one interface every mask classifier implements, and the decision it feeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt


class MaskClassifier(Protocol):
    """Turns BGR face crops (H, W, 3 uint8, any size) into P(mask worn over nose and mouth)."""

    kind: ClassVar[str]
    model_name: str
    model_version: str

    def predict(self, crops: list[np.ndarray]) -> npt.NDArray[np.float32]:
        """(n,) probability in 0..1 that each crop shows a face wearing a mask."""
        ...


@dataclass(frozen=True, slots=True)
class MaskDecision:
    """One face's mask verdict.

    Attributes:
        p_mask: probability in 0..1 that a mask covers nose and mouth.
        threshold: the probability at or above which the face counts as masked.
    """

    p_mask: float
    threshold: float = 0.5

    @property
    def masked(self) -> bool:
        return self.p_mask >= self.threshold


def bgr_to_rgb_square(crop: np.ndarray, size: int) -> np.ndarray:
    """Resize a BGR crop to ``size`` x ``size`` RGB float32 (0..255), stretching like the models' training.

    >>> bgr_to_rgb_square(np.zeros((10, 20, 3), np.uint8), 4).shape
    (4, 4, 3)
    """
    import cv2

    if crop.ndim != 3 or crop.shape[2] != 3 or crop.size == 0:
        raise ValueError(f"expected a non-empty BGR crop (H, W, 3), got shape {crop.shape}")
    interp = cv2.INTER_AREA if min(crop.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=interp), cv2.COLOR_BGR2RGB).astype(np.float32)
