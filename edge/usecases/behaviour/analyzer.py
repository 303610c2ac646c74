"""Use case H: behaviour notices from anonymous tracks; every notice is a review item.

Each frame the analyzer hands the tracked people's foot points to the :class:`RuleEngine`
(:mod:`edge.usecases.behaviour.rules`) and turns its notices into events, one type per rule.
Wording is neutral: it says where a track went and for how long, never what a person is.

Evidence: the track's box (heads blurred under ``standard``), a short clip around the notice
(``clip_before_s``/``clip_after_s``; none under ``minimal``) and, always, the track's recent path in
the payload, so a reviewer under ``minimal`` still sees the movement the rule saw.

>>> from datetime import datetime, timedelta, timezone
>>> from edge.config import ZoneConfig
>>> zones = {"hall": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])}
>>> a = BehaviourAnalyzer(BehaviourAnalyzerConfig(rules=[{"rule": "loitering", "zone": "hall", "dwell_s": 2}]), zones)
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> person = Detections(xyxy=[[10, 10, 20, 40]], score=[0.9], class_id=[0], tracker_id=[4])
>>> events = [e for k in range(30) for e in a.update(person, FrameContext("s1", "c1", t0 + timedelta(seconds=k / 10), (100, 100)))]
>>> [(e.type, e.payload["track_id"], e.payload["dwell_s"], e.review_required) for e in events]
[('behaviour.loitering', 4, 2.0, True)]
>>> events[0].explanation.summary
"Track 4 stayed in zone 'hall' for 2 s (threshold 2 s)."
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from edge.config import ZoneConfig
from edge.detections import Detections
from edge.geometry import Anchor, anchor_points, to_pixels
from edge.usecases.base import EvidenceRequest, FrameContext
from edge.usecases.behaviour.config import BehaviourAnalyzerConfig, PoseCueRule, RestrictedZoneRule
from edge.usecases.behaviour.rules import Notice, RuleEngine
from services.contract import Event, Explanation, Severity, UseCase
from services.contract.events import Box, Evidence, ModelRef

#: rule → (event type, severity)
EVENT_OF_RULE = {
    "loitering": ("behaviour.loitering", Severity.NOTICE),
    "restricted_zone": ("behaviour.restricted_zone", Severity.WARNING),
    "exit_without_checkout": ("behaviour.exit_without_checkout", Severity.NOTICE),
    "repeated_returns": ("behaviour.repeated_returns", Severity.NOTICE),
    "pose_cue": ("behaviour.pose_cue", Severity.NOTICE),
}


def duration(seconds: float) -> str:
    """Seconds in plain words.

    >>> duration(42.4), duration(361), duration(3600)
    ('42 s', '6 min 1 s', '60 min')
    """
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def summary(notice: Notice) -> str:
    """The notice in one neutral sentence (what the track did; nothing about the person)."""
    m, x, zone, track = notice.measured, notice.extra, notice.zone, notice.track_id
    if notice.rule == "loitering":
        return f"Track {track} stayed in zone '{zone}' for {duration(m['dwell_s'])} (threshold {duration(x['threshold_s'])})."
    if notice.rule == "restricted_zone":
        if x["predicted"]:
            return f"Track {track} is heading into restricted zone '{zone}' (predicted in {m['eta_s']:.1f} s)."
        return f"Track {track} entered restricted zone '{zone}'."
    if notice.rule == "exit_without_checkout":
        return (f"Track {track} crossed the exit line after {duration(m['seconds_in_merchandise'])} in zone '{zone}', "
                f"without passing zone '{x['checkout_zone']}'.")
    if notice.rule == "repeated_returns":
        return f"Track {track} came to zone '{zone}' {int(m['visits'])} times within {duration(x['window_s'])}."
    if notice.rule == "pose_cue":
        return (f"Experimental pose cue: track {track} held a hand at pocket or bag height for {m['cue_s']:.1f} s "
                f"within {duration(x['window_s'])} in zone '{zone}'.")
    raise ValueError(f"unknown rule {notice.rule!r}")


class BehaviourAnalyzer:
    """Runs the configured rules on the camera's tracked people; see the module docstring."""

    use_case: ClassVar[UseCase] = UseCase.H
    type: ClassVar[str] = "behaviour"

    def __init__(self, config: BehaviourAnalyzerConfig, zones: Mapping[str, ZoneConfig]) -> None:
        needed = {r.zone for r in config.rules} | {getattr(r, "checkout_zone", r.zone) for r in config.rules}
        missing = sorted(n for n in needed if n not in zones)
        if missing:
            raise ValueError(f"behaviour analyzer: unknown zone(s) {missing}; defined: {sorted(zones)}")
        self.config = config
        self._polygons = {name: list(zones[name].polygon) for name in sorted(needed)}
        self._tz = ZoneInfo(config.timezone)
        self._engine: RuleEngine | None = None
        self._origin: datetime | None = None
        self._frame_size: tuple[int, int] | None = None
        # The experimental pose cue loads its model only when a rule asks for it (a missing model fails here, named).
        self._pose_model: Any = None
        if any(isinstance(r, PoseCueRule) for r in config.rules):
            from edge.usecases.behaviour.pose import PoseModel

            self._pose_model = PoseModel()
        #: The worker reads this to keep enough frames for the evidence clips (generic hook).
        self.evidence_clip_s = (config.clip_before_s, config.clip_after_s) if config.clip_before_s + config.clip_after_s > 0 else None

    def _local_time(self, t: float) -> time:
        assert self._origin is not None
        return (self._origin + timedelta(seconds=t)).astimezone(self._tz).time()

    def _engine_for(self, ctx: FrameContext) -> RuleEngine:
        if self._engine is None or self._frame_size != ctx.frame_size:
            self._frame_size, self._origin = ctx.frame_size, ctx.at
            zones = {name: to_pixels(poly, ctx.frame_size) for name, poly in self._polygons.items()}
            self._engine = RuleEngine(
                self.config.rules, zones, ctx.frame_size, forget_s=self.config.forget_s, local_time=self._local_time,
                accel_std=self.config.accel_std_px_s2, meas_std=self.config.meas_std_px,
            )
        return self._engine

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        people = tracks.people()
        if people.tracker_id is None:
            return  # rules need track identities (anonymous numbers); untracked detections say nothing
        engine = self._engine_for(ctx)
        assert self._origin is not None
        t = (ctx.at - self._origin).total_seconds()
        feet = anchor_points(people.xyxy, Anchor.BOTTOM_CENTER)
        ids = [int(i) for i in people.tracker_id]
        poses = self._poses(people, ids, ctx) if self._pose_model is not None else None
        for notice in engine.update(t, ids, feet, poses):
            k = ids.index(notice.track_id)
            yield self._event(notice, people.xyxy[k], float(people.score[k]), ctx)

    def _poses(self, people: Detections, ids: list[int], ctx: FrameContext) -> dict[int, np.ndarray]:
        """Keypoints of each track the pose model matched (best IoU >= 0.3) in this frame."""
        from services.shared.boxes import box_iou

        if ctx.frame is None or not ids:
            return {}
        found = self._pose_model(ctx.frame)
        if len(found) == 0:
            return {}
        iou = box_iou(people.xyxy.astype(np.float64), found.xyxy.astype(np.float64))
        best = iou.argmax(axis=1)
        return {tid: found.keypoints[best[k]] for k, tid in enumerate(ids) if iou[k, best[k]] >= 0.3}

    def _event(self, notice: Notice, xyxy: np.ndarray, score: float, ctx: FrameContext) -> Event:
        rule = self.config.rules[notice.rule_index]
        event_type, severity = EVENT_OF_RULE[notice.rule]
        w, h = ctx.frame_size
        path = [[round(min(1.0, max(0.0, x / w)), 4), round(min(1.0, max(0.0, y / h)), 4)] for x, y in notice.path]
        payload: dict[str, Any] = {"zone": notice.zone, "track_id": notice.track_id, "path": path, "note": rule.note}
        thresholds: dict[str, float] = {"cooldown_s": rule.cooldown_s}
        if notice.rule == "loitering":
            payload.update(dwell_s=notice.measured["dwell_s"], threshold_s=float(notice.extra["threshold_s"]))
            thresholds.update(dwell_s=float(notice.extra["threshold_s"]), leave_s=rule.leave_s)  # type: ignore[union-attr]
        elif notice.rule == "restricted_zone":
            assert isinstance(rule, RestrictedZoneRule)
            payload.update(predicted=bool(notice.extra["predicted"]), active_hours=", ".join(rule.active) or "always")
            if notice.extra["predicted"]:
                payload["eta_s"] = notice.measured["eta_s"]
            thresholds.update(min_inside_frames=float(rule.min_frames), predict_s=rule.predict_s)
        elif notice.rule == "exit_without_checkout":
            payload.update(checkout_zone=notice.extra["checkout_zone"],
                           seconds_in_merchandise=notice.measured["seconds_in_merchandise"])
            thresholds.update(min_merchandise_s=rule.min_merchandise_s)  # type: ignore[union-attr]
        elif notice.rule == "repeated_returns":
            payload.update(visits=int(notice.measured["visits"]), threshold_visits=int(notice.extra["threshold_visits"]),
                           window_s=float(notice.extra["window_s"]))
            thresholds.update(visits=float(notice.extra["threshold_visits"]), window_s=float(notice.extra["window_s"]))
        elif notice.rule == "pose_cue":
            assert isinstance(rule, PoseCueRule)
            payload.update(cue_s=notice.measured["cue_s"], window_s=rule.window_s, experimental=True)
            thresholds.update(min_s=rule.min_s, window_s=rule.window_s, reach=rule.reach)
        box = tuple(float(v) for v in xyxy)
        model = ModelRef(name=ctx.model_name, version=ctx.model_version or "unknown") if ctx.model_name else None
        if notice.rule == "pose_cue":
            from edge.usecases.behaviour.pose import PoseModel

            model = ModelRef(name=PoseModel.model_name, version="16442e55de73 (experimental)")
        event = Event(
            type=event_type, use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id,
            occurred_at=ctx.at, severity=severity, payload=payload, review_required=True,
            explanation=Explanation(rule=notice.rule, summary=summary(notice), thresholds=thresholds,
                                    measured=dict(notice.measured), model=model),
            evidence=Evidence(frame_size=ctx.frame_size, boxes=[
                Box(xyxy=box, label="person", score=float(np.clip(score, 0.0, 1.0)), track_id=notice.track_id)]),
        )
        return ctx.with_evidence(event, EvidenceRequest(blur=((box, "person"),), clip=self.evidence_clip_s))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ live view

    def live_state(self) -> dict[str, Any]:
        """Tracks the rules currently remember (a number, no identities)."""
        return {"tracks": len(self._engine.tracks) if self._engine else 0}

    def overlay(self, image: np.ndarray, state: Mapping[str, Any]) -> None:
        """Outline the rules' zones (restricted zones in red)."""
        size = (image.shape[1], image.shape[0])
        restricted = {r.zone for r in self.config.rules if isinstance(r, RestrictedZoneRule)}
        for name, poly in self._polygons.items():
            pts = to_pixels(poly, size).astype(np.int32)
            colour = (0, 0, 255) if name in restricted else (0, 200, 255)
            cv2.polylines(image, [pts], True, colour, 1, cv2.LINE_AA)
            cv2.putText(image, name, tuple(int(v) for v in pts[0]), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
