"""Direction consistency of a track and a candidate box (OC-SORT's "observation-centric momentum"), pure numpy.

When two people cross, their boxes overlap for a few frames and box overlap alone cannot say who
went where: a track often leaves with the wrong person. But people keep walking the way they were
walking. Cao et al. (OC-SORT, CVPR 2023) add to the association cost a term that compares a track's
recent direction, taken from its own *detections* (not the Kalman estimate, which drifts while the
person is hidden), with the direction from its last detection to each candidate box.

A track's direction is the unit vector from the centre of an earlier detection (``frames`` before
its last, or its oldest if it is younger) to the centre of its last. A step shorter than
``min_step`` pixels has no direction: a person standing still only shows the detector's box jitter,
and a direction read from jitter would push their track at random. The consistency of a candidate
is ``(pi/2 - angle) / pi``: +0.5 straight ahead, 0 at a right angle, -0.5 straight back.

>>> seen = [(1, np.array([0.0, 0.0])), (2, np.array([1.0, 0.0])), (3, np.array([2.0, 0.0]))]
>>> direction, last = walking_direction(seen, frames=2)
>>> direction.tolist(), last.tolist()
([1.0, 0.0], [2.0, 0.0])
>>> consistency(direction, last, np.array([[4.0, 0.0], [2.0, 3.0], [0.0, 0.0]])).round(3).tolist()
[0.5, 0.0, -0.5]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Center = npt.NDArray[np.float64]


def walking_direction(seen: Sequence[tuple[int, Center]], frames: int,
                      min_step: float = 1e-6) -> tuple[Center | None, Center | None]:
    """(unit direction or None, last centre or None) from a track's ``(frame, centre)`` detections, oldest first.

    None for the direction when the track has fewer than two detections or moved less than ``min_step``.

    >>> walking_direction([(1, np.array([0.0, 0.0])), (3, np.array([2.0, 0.0]))], 2, min_step=2.5)[0] is None
    True
    """
    if not seen:
        return None, None
    last_frame, last = seen[-1]
    if len(seen) < 2:
        return None, last
    # The newest earlier detection at least ``frames`` back, else the oldest one kept.
    earlier = next((center for frame, center in reversed(seen[:-1]) if last_frame - frame >= frames), seen[0][1])
    step = last - earlier
    length = float(np.hypot(*step))
    if length < max(min_step, 1e-6):
        return None, last
    return step / length, last


def consistency(direction: Center, last: Center, candidates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(m,) consistency in -0.5..0.5 of moving from ``last`` to each of the (m, 2) ``candidates`` centres.

    A candidate at ``last`` itself (no movement) gets 0: no evidence either way.
    """
    step = np.asarray(candidates, np.float64).reshape(-1, 2) - last
    length = np.hypot(step[:, 0], step[:, 1])
    cos = np.clip(step @ direction / np.maximum(length, 1e-6), -1.0, 1.0)
    return np.where(length < 1e-6, 0.0, (np.pi / 2 - np.arccos(cos)) / np.pi)
