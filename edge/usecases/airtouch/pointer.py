"""From hand landmarks to pointer events: map, smooth, then detect presses.

:class:`AirTouch` is fed one frame at a time (``step``) with the chosen hand's 21 landmarks in
camera pixels, or ``None`` when no hand was found, and answers the :class:`PointerEvent` list of
that frame. A press fires when the smoothed fingertip distance crosses ``press_cm`` towards the
screen and re-arms only once it is back beyond ``release_cm`` (hysteresis: one push, one press;
hovering above the plane never presses).

>>> cfg = AirTouchConfig()
>>> hand = lambda palm: _hand_at(cfg, (320, 240), palm)
>>> touch = AirTouch(cfg)
>>> kinds = [e.kind for i, p in enumerate([75, 80, 95, 120, 125, 120, 90, 75]) for e in touch.step(i / 10, hand(p))]
>>> [k for k in kinds if k != "move"]
['press', 'release']
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from edge.usecases.airtouch.config import AirTouchConfig
from edge.usecases.airtouch.filters import OneEuroFilter
from edge.usecases.airtouch.geometry import INDEX_TIP, palm_px

Kind = Literal["move", "press", "release", "lost"]


@dataclass(frozen=True)
class PointerEvent:
    """What the kiosk page receives: a cursor position in screen px and what happened there."""

    kind: Kind
    t: float  #: seconds, the frame's time
    x: float
    y: float
    distance_cm: float | None = None
    via: Literal["plane", "dwell"] | None = None  #: for ``press``: how it was pressed

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["x"], out["y"] = round(self.x, 1), round(self.y, 1)
        if self.distance_cm is not None:
            out["distance_cm"] = round(self.distance_cm, 2)
        return out


class AirTouch:
    """The per-kiosk state: filters, whether the finger is through the plane, the dwell anchor."""

    def __init__(self, config: AirTouchConfig) -> None:
        self.config = config
        self._h = config.homography()
        self._depth = config.depth.model()
        self._fx, self._fy, self._fd = (OneEuroFilter(**config.pointer.model_dump()), OneEuroFilter(**config.pointer.model_dump()),
                                        OneEuroFilter(**config.distance.model_dump()))
        self._down = False
        self._seen: float | None = None  # time of the last frame with a hand
        self._last = (0.0, 0.0)
        self._anchor: tuple[float, float, float] | None = None  # dwell: x, y, since
        self._dwelt = False

    def step(self, t: float, landmarks: np.ndarray | None) -> list[PointerEvent]:
        if landmarks is None:
            return self._missing(t)
        cfg = self.config
        tip = landmarks[INDEX_TIP]
        sx, sy = self._h.apply(float(tip[0]), float(tip[1]))
        w, h = cfg.screen
        # beyond the screen's edge the cursor sticks to the edge, like a mouse
        sx, sy = min(max(sx, 0.0), float(w)), min(max(sy, 0.0), float(h))
        x, y = self._fx(sx, t), self._fy(sy, t)
        d = self._fd(self._depth.distance_cm(palm_px(landmarks)), t)
        self._seen, self._last = t, (x, y)
        events = [PointerEvent("move", t, x, y, d)]
        if not self._down and d <= cfg.press_cm:
            self._down = True
            events.append(PointerEvent("press", t, x, y, d, via="plane"))
        elif self._down and d >= cfg.release_cm:
            self._down = False
            events.append(PointerEvent("release", t, x, y, d))
        events += self._dwell(t, x, y, d)
        return events

    def _dwell(self, t: float, x: float, y: float, d: float) -> list[PointerEvent]:
        cfg = self.config
        if cfg.dwell_s is None or self._down or d > cfg.dwell_max_cm:
            self._anchor, self._dwelt = None, False
            return []
        if self._anchor is None or math.dist(self._anchor[:2], (x, y)) > cfg.dwell_radius_px:
            self._anchor, self._dwelt = (x, y, t), False
            return []
        if not self._dwelt and t - self._anchor[2] >= cfg.dwell_s:
            self._dwelt = True  # once per stay: moving away re-arms it
            return [PointerEvent("press", t, x, y, d, via="dwell")]
        return []

    def _missing(self, t: float) -> list[PointerEvent]:
        if self._seen is None or t - self._seen < self.config.lost_after_s:
            return []  # a dropped frame or two: keep the cursor where it is
        x, y = self._last
        self._seen, self._down, self._anchor, self._dwelt = None, False, None, False
        for f in (self._fx, self._fy, self._fd):
            f.reset()
        return [PointerEvent("lost", t, x, y)]


def _hand_at(config: AirTouchConfig, screen_xy: tuple[float, float], palm: float) -> np.ndarray:
    """A schematic hand (wrist, index and pinky bases, fingertip; the rest at the wrist) whose tip
    maps to ``screen_xy`` and whose palm triangle has sides ``palm``; for examples and tests."""
    tx, ty = config.homography().inverse().apply(*screen_xy)
    pts = np.zeros((21, 3))
    pts[:, 0], pts[:, 1] = tx, ty + 2 * palm
    wrist = np.array([tx, ty + 2 * palm])
    pts[5, :2] = wrist + [-palm / 2, -palm * math.sqrt(3) / 2]
    pts[17, :2] = wrist + [palm / 2, -palm * math.sqrt(3) / 2]
    pts[INDEX_TIP, :2] = (tx, ty)
    return pts
