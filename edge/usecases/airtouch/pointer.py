"""From hand landmarks to pointer events: map, smooth, then detect presses.

:class:`AirTouch` is fed one frame at a time (``step``) with the chosen hand's 21 landmarks in
camera pixels, or ``None`` when no hand was found, and answers the :class:`PointerEvent` list of
that frame. A press fires when the smoothed fingertip distance is within ``press_cm`` of the
screen while approaching it at ``press_speed_cm_s`` or faster, and re-arms only once it is back
beyond ``release_cm`` (hysteresis: one push, one press). Hovering above the plane never presses;
nor does a hand that rests near the plane, where hand-size depth is least sure (a hand seen a
little larger than calibrated reads a few cm too close): a push is a movement.

>>> cfg = AirTouchConfig()
>>> hand = lambda size: _hand_at(cfg, (320, 240), size)
>>> touch = AirTouch(cfg)
>>> kinds = [e.kind for i, p in enumerate([75, 80, 95, 120, 125, 120, 90, 75]) for e in touch.step(i / 10, hand(p))]
>>> [k for k in kinds if k != "move"]
['press', 'release']
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from edge.usecases.airtouch.config import AirTouchConfig
from edge.usecases.airtouch.filters import OneEuroFilter
from edge.usecases.airtouch.geometry import INDEX_TIP, KNUCKLES, hand_px

Kind = Literal["move", "press", "release", "lost"]
SPEED_WINDOW_S = 0.1  #: approach speed is measured over this much of the recent past


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
        self._recent: deque[tuple[float, float]] = deque()  # (t, smoothed distance) over SPEED_WINDOW_S
        # the last raw distances: their median drops a single-frame glitch (MediaPipe now and then
        # returns one frame with the hand collapsed, which reads as a jump of 20+ cm and would end a
        # push early and press it twice); one frame of lag
        self._raw: deque[float] = deque(maxlen=3)
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
        self._raw.append(self._depth.distance_cm(hand_px(landmarks)))
        d = self._fd(float(np.median(self._raw)), t)
        self._seen, self._last = t, (x, y)
        events = [PointerEvent("move", t, x, y, d)]
        approach = self._approach_speed(t, d)
        if not self._down and d <= cfg.press_cm and approach >= cfg.press_speed_cm_s:
            self._down = True
            events.append(PointerEvent("press", t, x, y, d, via="plane"))
        elif self._down and d >= cfg.release_cm:
            self._down = False
            events.append(PointerEvent("release", t, x, y, d))
        events += self._dwell(t, x, y, d)
        return events

    def _approach_speed(self, t: float, d: float) -> float:
        """cm/s towards the screen between the oldest kept sample (about SPEED_WINDOW_S ago) and now;
        0 on a hand's first frame."""
        self._recent.append((t, d))
        while len(self._recent) > 2 and t - self._recent[1][0] >= SPEED_WINDOW_S:
            self._recent.popleft()
        t0, d0 = self._recent[0]
        return (d0 - d) / (t - t0) if t > t0 else 0.0

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
        self._recent.clear()
        self._raw.clear()
        for f in (self._fx, self._fy, self._fd):
            f.reset()
        return [PointerEvent("lost", t, x, y)]


def _hand_at(config: AirTouchConfig, screen_xy: tuple[float, float], size: float) -> np.ndarray:
    """A schematic hand (the four finger bases evenly along a straight knuckle row ``size`` px long,
    the fingertip above; the rest at the wrist) whose tip maps to ``screen_xy``; for examples and tests."""
    tx, ty = config.homography().inverse().apply(*screen_xy)
    pts = np.zeros((21, 3))
    pts[:, 0], pts[:, 1] = tx, ty + 2 * size
    for i, j in enumerate(KNUCKLES):
        pts[j, :2] = (tx + size * (i / 3 - 0.5), ty + size)
    pts[INDEX_TIP, :2] = (tx, ty)
    return pts
