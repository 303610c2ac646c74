"""H's rules on anonymous tracks, as one pure state machine: foot points in, notices out.

:class:`RuleEngine` takes, per frame, the time, the track ids and their foot points (pixels) and
returns :class:`Notice` records. It knows nothing about events, pictures or the worker, so the
rules are tested on real ground-truth tracks and on synthesised ones alike.

How one person gives one notice, not a stream:

* **Stays with hysteresis.** A stay in a zone ends only once the track has been *seen outside*
  for ``leave_s``; a step out and back, or an occlusion gap (the track unseen), continues it.
* **A track is remembered** for ``forget_s`` after it was last seen, so a short occlusion keeps
  its dwell, visits and checkout state.
* **Cooldown per rule and track.** After a notice, the same rule stays silent for that track
  for ``cooldown_s``.

>>> from edge.usecases.behaviour.config import LoiteringRule
>>> square = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float32)
>>> engine = RuleEngine([LoiteringRule(zone="z", dwell_s=5)], {"z": square})
>>> notices = [n for t in range(0, 80) for n in engine.update(t * 0.1, [7], [[50.0, 50.0]])]
>>> [(n.rule, n.track_id, n.measured["dwell_s"]) for n in notices]
[('loitering', 7, 5.0)]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import numpy as np

from edge.geometry import inside
from edge.usecases.behaviour.config import (
    BehaviourRule,
    ExitWithoutCheckoutRule,
    LoiteringRule,
    PoseCueRule,
    RepeatedReturnsRule,
    RestrictedZoneRule,
)
from edge.usecases.behaviour.pose import hand_at_hip
from edge.usecases.behaviour.predict import ConstantVelocity

PATH_POINTS = 50  # foot points kept per track for the notice's path
PREDICT_STEP_S = 0.1  # resolution of the predicted path against a restricted zone


@dataclass(frozen=True, slots=True)
class Notice:
    """One rule firing for one track: what the analyzer turns into an event."""

    rule_index: int
    rule: str
    zone: str
    track_id: int
    at_s: float
    measured: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)  # payload fields beyond the measured figures
    path: tuple[tuple[float, float], ...] = ()  # recent foot points (pixels), oldest first


@dataclass(slots=True)
class _Stay:
    """A track's presence in one zone, with hysteresis."""

    entered_at: float | None = None  # start of the current stay (None: not in a stay)
    outside_since: float | None = None  # first time seen outside since last seen inside
    inside_frames: int = 0  # consecutive frames seen inside
    starts: deque[float] = field(default_factory=deque)  # start times of stays (for repeated returns)
    seconds_inside: float = 0.0  # total seen-inside time (frame to frame)

    def see(self, t: float, is_inside: bool, leave_s: float, dt: float) -> None:
        if is_inside:
            if self.entered_at is None:
                self.entered_at = t
                self.starts.append(t)
            elif dt > 0:
                self.seconds_inside += dt
            self.outside_since = None
            self.inside_frames += 1
        else:
            self.inside_frames = 0
            if self.entered_at is not None:
                self.outside_since = t if self.outside_since is None else self.outside_since
                if t - self.outside_since >= leave_s:
                    self.entered_at = None  # the stay is over


@dataclass(slots=True)
class _Track:
    kalman: ConstantVelocity
    first_seen: float
    last_seen: float
    path: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=PATH_POINTS))
    # (rule index, role) -> stay: each rule keeps its own, so two rules on one zone never count a frame twice
    stays: dict[tuple[int, str], _Stay] = field(default_factory=dict)
    fired: dict[int, float] = field(default_factory=dict)  # rule index -> time of its last notice
    cues: dict[int, deque[tuple[float, bool]]] = field(default_factory=dict)  # pose rule index -> (t, cue) in its window

    def stay(self, index: int, role: str = "zone") -> _Stay:
        return self.stays.setdefault((index, role), _Stay())


def _segments_cross(p1: np.ndarray, p2: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether segment p1→p2 crosses segment a–b (touching counts, collinear overlap does not)."""
    def side(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> float:
        return float((v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0]))

    d1, d2 = side(a, b, p1), side(a, b, p2)
    d3, d4 = side(p1, p2, a), side(p1, p2, b)
    return d1 * d2 <= 0 and d3 * d4 <= 0 and not (d1 == 0 and d2 == 0)


class RuleEngine:
    """The rules of one camera over its tracks.

    Args:
        rules: the configured rules.
        zones: zone name → polygon in pixels ``(n, 2)``.
        frame_size: width, height in pixels (exit lines are configured as fractions of it).
        forget_s: a track unseen this long is dropped (shorter gaps keep its state).
        local_time: maps a frame time (seconds) to the store's local time of day (for active hours);
            default: always active.
        accel_std, meas_std: the movement model (:class:`ConstantVelocity`).
    """

    def __init__(
        self, rules: Sequence[BehaviourRule], zones: Mapping[str, np.ndarray], frame_size: tuple[int, int] = (1, 1),
        *, forget_s: float = 10.0,
        local_time: Callable[[float], time] | None = None, accel_std: float = 20.0, meas_std: float = 3.0,
    ) -> None:
        self.rules = list(rules)
        self.zones = {name: np.asarray(poly, np.float32).reshape(-1, 2) for name, poly in zones.items()}
        for rule in self.rules:
            for name in (rule.zone, getattr(rule, "checkout_zone", None)):
                if name is not None and name not in self.zones:
                    raise ValueError(f"rule {rule.rule!r} names zone {name!r}, which is not one of {sorted(self.zones)}")
        w, h = frame_size
        self._exit_px = {
            i: (np.array([r.exit_line[0][0] * w, r.exit_line[0][1] * h]), np.array([r.exit_line[1][0] * w, r.exit_line[1][1] * h]))
            for i, r in enumerate(self.rules) if isinstance(r, ExitWithoutCheckoutRule)
        }
        self.forget_s = forget_s
        self.local_time = local_time
        self.accel_std, self.meas_std = accel_std, meas_std
        self.tracks: dict[int, _Track] = {}
        self._poses: Mapping[int, np.ndarray] = {}

    def update(self, t: float, track_ids: Sequence[int], points: Sequence[Sequence[float]] | np.ndarray,
               poses: Mapping[int, np.ndarray] | None = None) -> list[Notice]:
        """One frame: time ``t`` (seconds), the tracks seen and their foot points (pixels); for the
        experimental pose rule, the keypoints (17, 3) of the tracks the pose model matched."""
        ids = [int(i) for i in track_ids]
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        if len(ids) != len(pts):
            raise ValueError(f"{len(ids)} track ids but {len(pts)} points")
        inside_by_zone = {name: inside(pts, poly) if len(pts) else np.zeros(0, bool) for name, poly in self.zones.items()}
        local = self.local_time(t) if self.local_time is not None else None
        self._poses = poses or {}
        notices: list[Notice] = []
        for k, tid in enumerate(ids):
            point = (float(pts[k, 0]), float(pts[k, 1]))
            track = self.tracks.get(tid)
            if track is None:
                track = self.tracks[tid] = _Track(ConstantVelocity(self.accel_std, self.meas_std), t, t)
            previous = track.path[-1] if track.path else None
            dt = t - track.last_seen if previous is not None else 0.0
            track.kalman.update(t, point)
            track.last_seen = t
            track.path.append((t, *point))
            for index, rule in enumerate(self.rules):
                notice = self._rule(index, rule, tid, track, t, k, inside_by_zone, previous, dt, local)
                if notice is not None:
                    track.fired[index] = t
                    notices.append(notice)
        for tid in [tid for tid, tr in self.tracks.items() if t - tr.last_seen > self.forget_s]:
            del self.tracks[tid]
        return notices

    # ------------------------------------------------------------------ the rules

    def _cooling(self, index: int, rule: BehaviourRule, track: _Track, t: float) -> bool:
        last = track.fired.get(index)
        return last is not None and t - last < rule.cooldown_s

    def _notice(self, index: int, rule: BehaviourRule, tid: int, track: _Track, t: float,
                measured: dict[str, float], **extra: Any) -> Notice:
        path = tuple((x, y) for _, x, y in track.path)
        return Notice(index, rule.rule, rule.zone, tid, t, {k: round(v, 3) for k, v in measured.items()}, extra, path)

    def _rule(self, index: int, rule: BehaviourRule, tid: int, track: _Track, t: float, k: int,
              inside_by_zone: dict[str, np.ndarray], previous: tuple[float, float, float] | None, dt: float,
              local: time | None) -> Notice | None:
        is_in = bool(inside_by_zone[rule.zone][k])
        if isinstance(rule, LoiteringRule):
            stay = track.stay(index)
            stay.see(t, is_in, rule.leave_s, dt)
            if is_in and stay.entered_at is not None and not self._cooling(index, rule, track, t):
                dwell = t - stay.entered_at
                if dwell >= rule.dwell_s - 1e-9:
                    return self._notice(index, rule, tid, track, t, {"dwell_s": dwell}, threshold_s=rule.dwell_s)
            return None
        if isinstance(rule, RepeatedReturnsRule):
            stay = track.stay(index)
            stay.see(t, is_in, rule.leave_s, dt)
            while stay.starts and t - stay.starts[0] > rule.window_s:
                stay.starts.popleft()
            if is_in and len(stay.starts) >= rule.visits and not self._cooling(index, rule, track, t):
                return self._notice(index, rule, tid, track, t, {"visits": float(len(stay.starts))},
                                    threshold_visits=rule.visits, window_s=rule.window_s)
            return None
        if isinstance(rule, RestrictedZoneRule):
            stay = track.stay(index)
            stay.see(t, is_in, 0.0, dt)
            if self._cooling(index, rule, track, t) or (local is not None and not rule.is_active(local)):
                return None
            if is_in and stay.inside_frames >= rule.min_frames:
                return self._notice(index, rule, tid, track, t, {"inside_frames": float(stay.inside_frames)},
                                    predicted=False)
            if not is_in and rule.predict_s > 0 and track.kalman.updates >= 3 and track.kalman.speed >= rule.min_speed_px_s:
                ahead = track.kalman.path_ahead(rule.predict_s, PREDICT_STEP_S)
                hits = np.flatnonzero(inside(ahead, self.zones[rule.zone]))
                if len(hits):
                    eta = float((hits[0] + 1) * PREDICT_STEP_S)
                    return self._notice(index, rule, tid, track, t,
                                        {"eta_s": eta, "speed_px_s": track.kalman.speed}, predicted=True, eta_s=eta)
            return None
        if isinstance(rule, PoseCueRule):
            history = track.cues.setdefault(index, deque())
            kp = self._poses.get(tid)
            history.append((t, is_in and kp is not None and hand_at_hip(kp, rule.reach)))
            while history and t - history[0][0] > rule.window_s:
                history.popleft()
            pairs = list(history)
            cue_s = sum(b[0] - a[0] for a, b in zip(pairs, pairs[1:], strict=False) if a[1] and b[1])
            if is_in and cue_s >= rule.min_s - 1e-9 and not self._cooling(index, rule, track, t):
                return self._notice(index, rule, tid, track, t, {"cue_s": cue_s}, window_s=rule.window_s)
            return None
        if isinstance(rule, ExitWithoutCheckoutRule):
            merch = track.stay(index)
            merch.see(t, is_in, 0.0, dt)
            checkout = track.stay(index, "checkout")
            checkout.see(t, bool(inside_by_zone[rule.checkout_zone][k]), 0.0, dt)
            if previous is None or checkout.starts or merch.seconds_inside < rule.min_merchandise_s:
                return None
            if self._cooling(index, rule, track, t):
                return None
            return self._exit(index, rule, tid, track, t, previous, merch)
        raise TypeError(f"unknown rule {rule!r}")

    def _exit(self, index: int, rule: ExitWithoutCheckoutRule, tid: int, track: _Track, t: float,
              previous: tuple[float, float, float], merch: _Stay) -> Notice | None:
        a, b = self._exit_px[index]
        p1, p2 = np.array(previous[1:]), np.array(track.path[-1][1:])
        if not _segments_cross(p1, p2, a, b):
            return None
        # Leaving = ending on the side of the line away from the merchandise zone's centre.
        centre = self.zones[rule.zone].mean(axis=0)

        def side(p: np.ndarray) -> float:
            return float((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))

        if side(p2) * side(centre) >= 0:
            return None  # crossed back in
        return self._notice(index, rule, tid, track, t, {"seconds_in_merchandise": merch.seconds_inside},
                            checkout_zone=rule.checkout_zone)
