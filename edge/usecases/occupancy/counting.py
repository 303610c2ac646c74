"""People in a frame and in its zones, with a camera's count calibration: the one counting rule.

The live occupancy analyzer and ``anshin eval count --config`` both count through
:class:`PeopleCounter`, so the evaluated figure is the figure of what runs.

A calibration (:class:`edge.eval.calibration.CountCalibration`) is fitted on whole frames:
``people ≈ intercept + slope × person boxes``. It reaches zones as a **per-detection weight**:
each person box in the frame stands for ``calibrated total / raw total`` people, and a zone's
count is that weight times the boxes whose feet are in it. Zones then add up to the calibrated
whole-frame count, and a zone without boxes stays at 0 (the intercept is not spread over empty
floor). The calibration holds only for the whole-frame box counts it was fitted on
(``valid_detected``); outside them the count is the raw box count and ``calibrated`` is False,
with a note saying why, instead of an extrapolation.

A calibration with ``smoothing`` < 1 is applied to an exponential average of the whole-frame box
count over the frames counted so far (as it was fitted); the zone weight divides that estimate by
this frame's boxes, so zones still add up to it. The average restarts after a gap in frame time
longer than :data:`RESTART_AFTER_S` (a dead stream, a restart): an old crowd says nothing of now.

>>> from edge.eval.calibration import CountCalibration
>>> cal = CountCalibration.model_construct(intercept=6.0, slope=1.2)
>>> counter = PeopleCounter(cal, valid_detected=(5, 50))
>>> c = counter.count(10)
>>> c.people, c.raw, c.calibrated, c.weight, c.in_zone(4)
(18.0, 10, True, 1.8, 7.2)
>>> c = counter.count(60)
>>> c.people, c.calibrated, c.note
(60.0, False, '60 person boxes in the frame: outside the calibration range 5-50; raw count')
>>> PeopleCounter(None).count(3).people
3.0
>>> smoothed = PeopleCounter(CountCalibration.model_construct(intercept=0.0, slope=1.0, smoothing=0.5))
>>> [smoothed.count(n).people for n in (10, 20, 20)]
[10.0, 15.0, 17.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edge.eval.calibration import CountCalibration


@dataclass(frozen=True, slots=True)
class FrameCount:
    """People in one frame.

    Attributes:
        raw: person boxes in the frame.
        people: estimated people (calibrated when ``calibrated``, else ``raw``).
        calibrated: whether the calibration was applied.
        note: why it was not applied ('' when it was, or when the camera has no calibration).
    """

    raw: int
    people: float
    calibrated: bool
    note: str = ""

    @property
    def weight(self) -> float:
        """People per person box: spreads the whole-frame correction over the boxes (1 with none)."""
        return self.people / self.raw if self.raw else 1.0

    def in_zone(self, boxes: int) -> float:
        """Estimated people in a zone holding ``boxes`` of the frame's person boxes."""
        return round(self.weight * boxes, 6)


#: Seconds between two counted frames after which the count's exponential average starts afresh.
RESTART_AFTER_S = 60.0


class PeopleCounter:
    """Counts people from person boxes; see the module docstring for the rule.

    Args:
        calibration: the camera's count calibration; None counts boxes as they are.
        valid_detected: whole-frame box counts (low, high) the calibration holds for.

    :meth:`count` takes the running model's version: a calibration fitted with another is not applied.
    """

    def __init__(self, calibration: CountCalibration | None, valid_detected: tuple[int, int] | None = None) -> None:
        self.calibration = calibration
        self.valid_detected = valid_detected
        self._level: float | None = None  # the exponential average of the box count (smoothing < 1)
        self._last_at: datetime | None = None

    @classmethod
    def from_file(cls, path: Path | None, valid_detected: tuple[int, int] | None = None) -> PeopleCounter:
        return cls(None if path is None else CountCalibration.load(path), valid_detected)

    def count(self, boxes: int, model_version: str = "", at: datetime | None = None) -> FrameCount:
        """People in a frame with ``boxes`` person boxes (detections or tracks of one frame), counted
        at frame time ``at`` (None: right after the previous frame, as in an evaluation)."""
        cal = self.calibration
        if cal is None:
            return FrameCount(boxes, float(boxes), False)
        level = self._average(boxes, cal.smoothing, at)
        if model_version and getattr(cal, "model_version", model_version) != model_version:
            return FrameCount(boxes, float(boxes), False,
                              f"calibration fitted with model version {cal.model_version}, running {model_version}; raw count")
        if self.valid_detected is not None:
            low, high = self.valid_detected
            if not low <= boxes <= high:
                return FrameCount(boxes, float(boxes), False,
                                  f"{boxes} person boxes in the frame: outside the calibration range {low}-{high}; raw count")
        return FrameCount(boxes, round(cal.apply(level), 6), True)

    def _average(self, boxes: int, weight: float, at: datetime | None) -> float:
        gap = None if at is None or self._last_at is None else (at - self._last_at).total_seconds()
        if self._level is None or weight >= 1.0 or (gap is not None and not 0 <= gap <= RESTART_AFTER_S):
            self._level = float(boxes)
        else:
            self._level = weight * boxes + (1.0 - weight) * self._level
        self._last_at = at if at is not None else self._last_at
        return self._level
