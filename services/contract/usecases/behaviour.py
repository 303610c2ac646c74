"""Use case H (shoplifting prevention): anonymous rules on tracks, every notice decided by staff.

The edge's behaviour analyzer (``edge/usecases/behaviour``) emits one type per rule. Each notice
names the rule's zone, an anonymous track number (valid only on that camera, for minutes) and the
measured figures; it never carries an identity or an appearance attribute. Its wording is neutral
("stayed in zone X for 6 min"): the machine reports where someone went, a person decides what it
means. Every type needs review. ``path`` is the track's recent foot points (fractions of the
frame), so even under the ``minimal`` privacy profile, where no picture or clip is kept, the
reviewer sees the movement the rule saw.

>>> LoiteringPayload.model_validate({"zone": "aisle-3", "track_id": 7, "dwell_s": 361.0, "threshold_s": 300.0}).dwell_s
361.0
>>> [t.type for t in EVENT_TYPES][:4]
['behaviour.loitering', 'behaviour.restricted_zone', 'behaviour.exit_without_checkout', 'behaviour.repeated_returns']
>>> all(t.review for t in EVENT_TYPES)
True
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.contract.events import Severity, UseCase
from services.contract.types import Count, EventTypeSpec, Fraction, Name, Payload, Seconds, Text

#: A foot point: x, y as fractions (0-1) of the camera frame.
Point = Annotated[list[Fraction], Field(min_length=2, max_length=2)]
#: An anonymous track number: the edge tracker's id, meaningful only on that camera for a few minutes.
TrackId = Annotated[int, Field(ge=0, le=2**53)]


class BehaviourPayload(Payload):
    """What every behaviour notice says: the rule's zone, the anonymous track and its path."""

    zone: Name = Field(description="the zone the rule watches, as configured on the edge")
    track_id: TrackId = Field(description="anonymous track number on this camera (no identity)")
    path: list[Point] = Field(default_factory=list, max_length=200,
                              description="recent foot points of the track, oldest first, fractions of the frame")
    note: Text = Field(default="", description="the store's own explanation of the rule (from the edge config)")


class LoiteringPayload(BehaviourPayload):
    """``behaviour.loitering``: a track stayed in the zone longer than the threshold."""

    dwell_s: Seconds = Field(description="seconds the track has stayed in the zone")
    threshold_s: Seconds = Field(description="the rule's dwell threshold in seconds")


class RestrictedZonePayload(BehaviourPayload):
    """``behaviour.restricted_zone``: a track entered (or, predicted, is about to enter) a restricted zone."""

    predicted: bool = Field(description="true: the track is predicted to enter within eta_s; false: it is inside")
    eta_s: Seconds | None = Field(default=None, description="predicted seconds until the track enters (predicted only)")
    active_hours: Text = Field(default="", description="the local times the restriction applies, e.g. '22:00-07:00'")


class ExitWithoutCheckoutPayload(BehaviourPayload):
    """``behaviour.exit_without_checkout``: a track went through a merchandise zone, then crossed the
    exit line without passing the checkout zone. ``zone`` is the merchandise zone it was in."""

    checkout_zone: Name = Field(description="the checkout zone the track did not pass")
    seconds_in_merchandise: Seconds = Field(description="seconds the track spent in the merchandise zone")


class RepeatedReturnsPayload(BehaviourPayload):
    """``behaviour.repeated_returns``: a track came back to the same shelf zone several times in a window."""

    visits: Count = Field(description="separate visits to the zone within the window")
    threshold_visits: Count = Field(description="the rule's number of visits")
    window_s: Seconds = Field(description="the rule's window in seconds")


class PoseCuePayload(BehaviourPayload):
    """``behaviour.pose_cue`` (EXPERIMENTAL, off unless configured): the pose model saw the track's hand
    at pocket or bag height for ``cue_s`` seconds within ``window_s``. A crude geometric cue; handling
    goods gives it too."""

    cue_s: Seconds = Field(description="seconds within the window with a hand at hip height")
    window_s: Seconds = Field(description="the rule's window in seconds")
    experimental: bool = Field(default=True, description="always true: an experimental cue, not a finding")


EVENT_TYPES = (
    EventTypeSpec("behaviour.loitering", UseCase.H, Severity.NOTICE, LoiteringPayload,
                  "a track stayed in a zone longer than its threshold; staff decide whether it matters", review=True),
    EventTypeSpec("behaviour.restricted_zone", UseCase.H, Severity.WARNING, RestrictedZonePayload,
                  "a track entered, or is predicted to enter, a restricted zone in its active hours; staff decide",
                  review=True),
    EventTypeSpec("behaviour.exit_without_checkout", UseCase.H, Severity.NOTICE, ExitWithoutCheckoutPayload,
                  "a track left through the exit after a merchandise zone without passing checkout; staff decide",
                  review=True),
    EventTypeSpec("behaviour.repeated_returns", UseCase.H, Severity.NOTICE, RepeatedReturnsPayload,
                  "a track returned to the same shelf zone several times within a window; staff decide", review=True),
    EventTypeSpec("behaviour.pose_cue", UseCase.H, Severity.NOTICE, PoseCuePayload,
                  "EXPERIMENTAL: the pose model saw a hand held at pocket or bag height; staff decide", review=True),
)
