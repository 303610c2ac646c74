"""Distancing on the floor plane: which pairs of people stay too close for too long.

Pure state kept per pair of track ids (the ids stay here: the notice carries counts only). A pair
is *too close* while its floor distance is under ``distance_m``; the episode survives gaps up to
``grace_s`` (a missed detection); once it has lasted ``min_duration_s`` the pair counts.

>>> d = PairClock(distance_m=1.5, min_duration_s=2.0, grace_s=0.5)
>>> d.update([1, 2, 3], [[0, 0], [1, 0], [9, 9]], now=0.0)
[]
>>> [(p.a, p.b, p.duration_s) for p in d.update([1, 2, 3], [[0, 0], [1.2, 0], [9, 9]], now=2.0)]
[(1, 2, 2.0)]
>>> d.update([1, 2, 3], [[0, 0], [4, 0], [9, 9]], now=3.0)     # apart for longer than the grace: over
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.usecases.floor.homography import floor_distance


@dataclass(frozen=True, slots=True)
class ClosePair:
    """Two tracked people too close for at least the configured time (internal: ids never leave the edge)."""

    a: int
    b: int
    distance_m: float
    duration_s: float


@dataclass(slots=True)
class _Episode:
    since: float
    last_close: float


class PairClock:
    """How long each pair of tracks has been too close, frame by frame."""

    def __init__(self, distance_m: float, min_duration_s: float, grace_s: float = 1.0) -> None:
        self.distance_m = distance_m
        self.min_duration_s = min_duration_s
        self.grace_s = grace_s
        self._episodes: dict[tuple[int, int], _Episode] = {}

    def update(self, track_ids: Sequence[int], points_m: npt.ArrayLike, now: float) -> list[ClosePair]:
        """Pairs (a < b) too close now that have been too close for ``min_duration_s``, closest first.

        ``now`` is seconds (any origin, increasing); ``points_m`` the tracks' floor points in metres.
        """
        ids = [int(t) for t in track_ids]
        dist = floor_distance(points_m)
        close_now: dict[tuple[int, int], float] = {}
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                if np.isfinite(dist[i, j]) and dist[i, j] < self.distance_m and ids[i] != ids[j]:
                    key = (min(ids[i], ids[j]), max(ids[i], ids[j]))
                    close_now[key] = float(dist[i, j])
        for key in list(self._episodes):
            if key not in close_now and now - self._episodes[key].last_close > self.grace_s:
                del self._episodes[key]
        out = []
        for key, d in close_now.items():
            episode = self._episodes.setdefault(key, _Episode(since=now, last_close=now))
            episode.last_close = now
            duration = now - episode.since
            if duration >= self.min_duration_s:
                out.append(ClosePair(key[0], key[1], round(d, 3), round(duration, 3)))
        return sorted(out, key=lambda p: (p.distance_m, p.a, p.b))
