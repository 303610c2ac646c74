"""Counting people across a line: direction and hysteresis, as pure state over track anchors.

A line is a directed segment ``start → end`` in pixels. A track's anchor (its feet) is on the
**right-hand** side of the line when ``cross(end - start, p - start) > 0`` (image coordinates,
y down: the side on your right when you walk along the line from start to end, seen on the
image). Crossing from the left-hand to the right-hand side is **in**, the other way **out**.
Swap ``start`` and ``end`` to swap the directions.

Hysteresis: a track's side only changes once its anchor is at least ``margin_px`` from the
line on the other side. Someone standing on the line, or a box jittering across it by a few
pixels, never counts twice. A crossing counts only where the track passed through the
segment itself (not its extension): the point where the anchor's path last changed sides must
lie between ``start`` and ``end``.

Tracker id switches: with ``rejoin_px`` > 0, a track id seen for the first time within
``rejoin_px`` of where a track missing from this frame was last seen takes over that track's
state (its side), so a person whose id changed mid-crossing is still counted once. The nearest
lost track wins; a person appearing right where another vanished may inherit their side, which
at worst counts one crossing that a fresh track would have missed.

>>> line = Line((100.0, 0.0), (100.0, 200.0))           # drawn top to bottom
>>> counter = LineCounter(line, margin_px=10.0)
>>> walk = [130, 120, 105, 98, 103, 96, 85, 70]          # x of one walker, right to left, jittering at 100
>>> [counter.update([7], [[x, 50.0]]) for x in walk][-2:]
[Crossings(in_ids=(7,), out_ids=()), Crossings(in_ids=(), out_ids=())]
>>> counter.totals
(1, 0)
>>> [counter.update([7], [[x, 50.0]]).out_ids for x in (95, 104, 111)]   # back out, left to right
[(), (), (7,)]
>>> counter.update([8], [[130.0, 300.0]]), counter.update([8], [[70.0, 300.0]])   # below the segment's end
(Crossings(in_ids=(), out_ids=()), Crossings(in_ids=(), out_ids=()))
>>> counter.totals
(1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Line:
    """A directed segment in pixels (or any unit shared with the points it is used with)."""

    start: tuple[float, float]
    end: tuple[float, float]

    def __post_init__(self) -> None:
        if self.length == 0:
            raise ValueError(f"a line needs two different end points, got {self.start} twice")

    @property
    def length(self) -> float:
        return float(np.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]))

    def signed_distance(self, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Distance of each point from the (infinite) line; > 0 on the right-hand side.

        >>> Line((0, 0), (10, 0)).signed_distance([(5, 3), (5, -2)]).tolist()
        [3.0, -2.0]
        """
        p = np.asarray(points, np.float64).reshape(-1, 2)
        (x1, y1), (x2, y2) = self.start, self.end
        return ((x2 - x1) * (p[:, 1] - y1) - (y2 - y1) * (p[:, 0] - x1)) / self.length

    def along(self, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Where each point projects onto the line: 0 at ``start``, 1 at ``end``.

        >>> Line((0, 0), (10, 0)).along([(5, 3), (12, 0)]).tolist()
        [0.5, 1.2]
        """
        p = np.asarray(points, np.float64).reshape(-1, 2)
        (x1, y1), (x2, y2) = self.start, self.end
        return ((p[:, 0] - x1) * (x2 - x1) + (p[:, 1] - y1) * (y2 - y1)) / self.length**2


@dataclass(frozen=True, slots=True)
class Crossings:
    """Tracks that crossed in one update: ``in_ids`` (left → right-hand side) and ``out_ids``."""

    in_ids: tuple[int, ...] = ()
    out_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class _Track:
    side: int  # +1 right-hand, -1 left-hand, 0 not yet clearly on either
    raw: int  # side of the last anchor, however close to the line (+1 / -1)
    point: tuple[float, float]
    cross_t: float | None  # where (0-1 along the segment) the path last changed sides
    seen: int  # update number it was last seen in


class LineCounter:
    """In/out counts of tracks across one :class:`Line`; see the module docstring for the rule.

    Args:
        line: the segment, in the points' units (pixels).
        margin_px: how far past the line an anchor must be before its side counts (hysteresis).
        forget_after: updates a track may be missing before its state is dropped (a track that
            comes back later starts afresh, on whichever side it is then).
        rejoin_px: how close a new track must start to a lost one to continue it (0: never).
    """

    def __init__(self, line: Line, margin_px: float, forget_after: int = 100, rejoin_px: float = 0.0) -> None:
        if margin_px < 0 or rejoin_px < 0:
            raise ValueError(f"margin_px and rejoin_px must be >= 0, got {margin_px}, {rejoin_px}")
        self.line, self.margin_px, self.forget_after, self.rejoin_px = line, float(margin_px), forget_after, float(rejoin_px)
        self._tracks: dict[int, _Track] = {}
        self._updates = 0
        self.in_count = 0
        self.out_count = 0

    @property
    def totals(self) -> tuple[int, int]:
        """(in, out) since the counter was made."""
        return self.in_count, self.out_count

    def update(self, track_ids: Sequence[int] | npt.ArrayLike, points: npt.ArrayLike) -> Crossings:
        """One frame's tracks: ids (n,) and anchor points (n, 2); returns who crossed in this frame."""
        self._updates += 1
        ids = [int(i) for i in np.asarray(track_ids).reshape(-1)]
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        if len(ids) != len(pts):
            raise ValueError(f"{len(ids)} track ids but {len(pts)} points")
        distance = self.line.signed_distance(pts)
        went_in: list[int] = []
        went_out: list[int] = []
        present = set(ids)
        for ident, point, d in zip(ids, pts, distance):
            if ident not in self._tracks and self.rejoin_px > 0:
                self._rejoin(ident, (float(point[0]), float(point[1])), present)
            moved = self._step(ident, (float(point[0]), float(point[1])), float(d))
            if moved > 0:
                went_in.append(ident)
            elif moved < 0:
                went_out.append(ident)
        stale = [i for i, t in self._tracks.items() if self._updates - t.seen > self.forget_after]
        for ident in stale:
            del self._tracks[ident]
        self.in_count += len(went_in)
        self.out_count += len(went_out)
        return Crossings(tuple(went_in), tuple(went_out))

    def _rejoin(self, ident: int, point: tuple[float, float], present: set[int]) -> None:
        """A new track id that starts where a lost track was last seen continues it (a tracker id switch)."""
        best, best_d = None, self.rejoin_px
        for other, t in self._tracks.items():
            if other in present or t.seen == self._updates:
                continue
            dist = float(np.hypot(point[0] - t.point[0], point[1] - t.point[1]))
            if dist <= best_d:
                best, best_d = other, dist
        if best is not None:
            self._tracks[ident] = self._tracks.pop(best)

    def _step(self, ident: int, point: tuple[float, float], d: float) -> int:
        """Advance one track; +1 when it crossed in, -1 out, 0 otherwise."""
        raw = 1 if d > 0 else -1 if d < 0 else 0
        clear = raw if abs(d) >= self.margin_px and raw else 0
        track = self._tracks.get(ident)
        if track is None:
            self._tracks[ident] = _Track(clear, raw, point, None, self._updates)
            return 0
        if raw and track.raw and raw != track.raw:
            # The path from the last anchor to this one changed sides: remember where it met the line.
            d0 = float(self.line.signed_distance([track.point])[0])
            s = d0 / (d0 - d)
            meet = (track.point[0] + s * (point[0] - track.point[0]), track.point[1] + s * (point[1] - track.point[1]))
            track.cross_t = float(self.line.along([meet])[0])
        track.point, track.seen = point, self._updates
        track.raw = raw or track.raw
        if not clear or clear == track.side:
            return 0
        crossed = track.side != 0 and track.cross_t is not None and 0.0 <= track.cross_t <= 1.0
        track.side, track.cross_t = clear, None
        return clear if crossed else 0
