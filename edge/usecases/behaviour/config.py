"""Config of use case H (behaviour notices), free of model imports.

The camera defines its zones (polygons, :class:`edge.config.ZoneConfig`); this section lists the
rules, each on a zone, with its own thresholds and the store's explanation (``note``, shown to
reviewers)::

    analyzers:
      - type: behaviour
        timezone: Asia/Tokyo
        rules:
          - {rule: loitering, zone: plaza, dwell_s: 360, note: "benches are elsewhere"}
          - {rule: restricted_zone, zone: stockroom, active: ["21:00-09:00"], predict_s: 2}
          - {rule: exit_without_checkout, zone: shelves, checkout_zone: tills,
             exit_line: [[0.9, 0.2], [0.9, 0.8]]}
          - {rule: repeated_returns, zone: cosmetics, visits: 4, window_s: 600}

>>> cfg = BehaviourAnalyzerConfig(rules=[{"rule": "restricted_zone", "zone": "door", "active": ["22:00-07:00"]}])
>>> rule = cfg.rules[0]
>>> rule.is_active(time(23, 30)), rule.is_active(time(12, 0))
(True, False)
>>> from types import SimpleNamespace as NS
>>> camera = NS(zones={"door": object()}, analyzers=[BehaviourAnalyzerConfig(rules=[{"rule": "loitering", "zone": "hall", "dwell_s": 60}])])
>>> [p.render() for p in check_rule_zones_exist(NS(cameras={"c1": camera}))]
["cameras.c1.analyzers[0].rules[0].zone: no such zone on this camera (its zones: door) (got 'hall')"]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from edge.config_errors import ConfigProblem
from services.contract.events import Identifier
from services.shared.strict import Strict

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class _Rule(Strict):
    """What every rule has: its zone, the store's explanation and how often one track may be noticed."""

    zone: Identifier = Field(description="the camera zone this rule watches")
    note: str = Field(default="", max_length=500, description="the store's explanation of the rule, shown to reviewers")
    cooldown_s: float = Field(default=1800.0, gt=0, le=86_400,
                              description="after a notice, the same track gets no other notice of this rule for this long")


class LoiteringRule(_Rule):
    """A track stays in the zone longer than ``dwell_s``."""

    rule: Literal["loitering"] = "loitering"
    dwell_s: float = Field(gt=0, le=86_400, description="seconds in the zone before a notice")
    leave_s: float = Field(default=3.0, ge=0, le=600,
                           description="seconds seen outside before a stay counts as ended (shorter steps out do not reset it)")


class RestrictedZoneRule(_Rule):
    """A track enters a restricted zone during its active hours (all day when ``active`` is empty)."""

    rule: Literal["restricted_zone"] = "restricted_zone"
    active: list[str] = Field(default_factory=list, max_length=24,
                              description="local time ranges 'HH:MM-HH:MM' (may wrap midnight); empty: always")
    min_frames: int = Field(default=2, ge=1, le=1000, description="consecutive frames inside before the notice")
    predict_s: float = Field(default=0.0, ge=0, le=10,
                             description="warn this many seconds before a predicted entry (0: only on entry)")
    min_speed_px_s: float = Field(default=8.0, ge=0, le=10_000,
                                  description="a predicted entry needs the track to move at least this fast")

    @field_validator("active")
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _HOURS.fullmatch(item):
                raise ValueError(f"time range {item!r}: expected 'HH:MM-HH:MM' (24 h), e.g. '22:00-07:00'")
        return value

    def is_active(self, local: time) -> bool:
        """Whether the restriction applies at this local time of day."""
        if not self.active:
            return True
        for item in self.active:
            h1, m1, h2, m2 = (int(g) for g in _HOURS.fullmatch(item).groups())  # type: ignore[union-attr]
            start, end = time(h1, m1), time(h2, m2)
            if (start <= local < end) if start <= end else (local >= start or local < end):
                return True
        return False


class ExitWithoutCheckoutRule(_Rule):
    """A track goes through the merchandise ``zone``, then crosses ``exit_line`` without passing ``checkout_zone``."""

    rule: Literal["exit_without_checkout"] = "exit_without_checkout"
    checkout_zone: Identifier = Field(description="the camera zone of the tills")
    exit_line: tuple[tuple[Unit, Unit], tuple[Unit, Unit]] = Field(
        description="the exit line's two ends as fractions of the frame; crossing it away from the merchandise zone is leaving")
    min_merchandise_s: float = Field(default=2.0, ge=0, le=3600, description="seconds in the merchandise zone that count")


class RepeatedReturnsRule(_Rule):
    """A track comes back to the same shelf zone ``visits`` times within ``window_s``."""

    rule: Literal["repeated_returns"] = "repeated_returns"
    visits: int = Field(default=3, ge=2, le=100, description="separate visits within the window before a notice")
    window_s: float = Field(default=300.0, gt=0, le=86_400, description="the window in seconds")
    leave_s: float = Field(default=3.0, ge=0, le=600, description="seconds seen outside between two visits")


class PoseCueRule(_Rule):
    """EXPERIMENTAL, off unless listed: the pose model (YOLO11n-pose) sees the track's hand at pocket or
    bag height for ``min_s`` seconds within ``window_s`` while in the zone. Loads the pose model."""

    rule: Literal["pose_cue"] = "pose_cue"
    min_s: float = Field(default=1.0, gt=0, le=60, description="seconds of the cue within the window before a notice")
    window_s: float = Field(default=3.0, gt=0, le=300, description="the window in seconds")
    reach: float = Field(default=0.35, gt=0, le=2, description="wrist within this many torso lengths of the hip")


BehaviourRule = Annotated[
    LoiteringRule | RestrictedZoneRule | ExitWithoutCheckoutRule | RepeatedReturnsRule | PoseCueRule,
    Field(discriminator="rule"),
]


class BehaviourAnalyzerConfig(Strict):
    """Use case H: anonymous rules on tracks; every notice is a review item."""

    type: Literal["behaviour"] = "behaviour"
    rules: list[BehaviourRule] = Field(min_length=1, max_length=50)
    timezone: str = Field(default="UTC", description="IANA time zone of the store, for the rules' active hours")
    forget_s: float = Field(default=10.0, gt=0, le=600,
                            description="a track unseen this long is forgotten; shorter gaps (occlusion) keep its state")
    clip_before_s: float = Field(default=3.0, ge=0, le=10, description="seconds of evidence clip before the notice")
    clip_after_s: float = Field(default=2.0, ge=0, le=10,
                                description="seconds of evidence clip after the notice (the notice waits for them)")
    accel_std_px_s2: float = Field(default=20.0, gt=0, le=10_000,
                                   description="movement model: how much a walker's velocity changes (px/s²)")
    meas_std_px: float = Field(default=3.0, gt=0, le=1000, description="movement model: noise of a foot point (px)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Tokyo' or 'UTC'") from None
        return value


def check_rule_zones_exist(store: Any) -> Iterator[ConfigProblem]:
    """Every zone a behaviour rule names must be one of its camera's zones."""
    for cam_id, cam in store.cameras.items():
        known = ", ".join(sorted(cam.zones)) or "none"
        for i, analyzer in enumerate(cam.analyzers):
            if not isinstance(analyzer, BehaviourAnalyzerConfig):
                continue
            for j, rule in enumerate(analyzer.rules):
                fields = ["zone"] + (["checkout_zone"] if isinstance(rule, ExitWithoutCheckoutRule) else [])
                for name in fields:
                    value = getattr(rule, name)
                    if value not in cam.zones:
                        yield ConfigProblem(("cameras", cam_id, "analyzers", i, "rules", j, name),
                                            f"no such zone on this camera (its zones: {known})", value)
