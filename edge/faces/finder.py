"""The worker's one face detector: faces found once per frame, for every analyzer and for blurring.

Analyzers read them through :meth:`edge.usecases.base.FrameContext.faces`; the evidence stage
blurs the same faces. An analyzer that screens faces sets a ``face_score`` attribute; the
worker then builds the finder with the lowest score any analyzer screens (and fails at start
when the model is missing). With no analyzer needing faces, the finder only serves blurring:
it loads on first use, and without its model a warning says heads are still blurred.
"""

from __future__ import annotations

import logging

import numpy as np

from edge.faces.faces import Faces
from edge.faces.yunet import YuNetConfig, YuNetFaceDetector

log = logging.getLogger(__name__)

#: YuNet's default score; analyzers screening faces may ask for lower.
DEFAULT_SCORE = YuNetConfig().score_threshold


class FaceFinder:
    """Callable ``frame -> Faces`` (pixels). ``required``: load the model now and fail without it."""

    def __init__(self, score_threshold: float = DEFAULT_SCORE, *, required: bool = False) -> None:
        self.config = YuNetConfig(score_threshold=score_threshold)
        self._detector: YuNetFaceDetector | None = None
        self._tried = False
        if required:
            self._detector, self._tried = YuNetFaceDetector(self.config), True

    @property
    def model_name(self) -> str:
        return YuNetFaceDetector.model_name

    @property
    def model_version(self) -> str:
        detector = self._load()
        return detector.model_version if detector is not None else "unknown"

    def _load(self) -> YuNetFaceDetector | None:
        if not self._tried:
            self._tried = True
            try:
                self._detector = YuNetFaceDetector(self.config)
            except Exception as exc:  # a missing model must not stop evidence: heads are still blurred
                log.warning("no face detector for evidence blurring (%s); blurring person heads only", exc)
        return self._detector

    def __call__(self, frame: np.ndarray) -> Faces:
        detector = self._load()
        return Faces.empty() if detector is None else detector.detect(frame)
