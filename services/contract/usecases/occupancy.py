"""Use case F (density monitoring): people per zone against the zone's capacity.

The edge's occupancy analyzer (``edge/usecases/occupancy``) emits these three types. Every zone
event names the zone and carries the count and capacity; ``zone.occupancy`` adds the interval
figures and the zone outline, ``zone.cleared`` how long the zone was over capacity.

>>> ZoneOccupancyPayload.model_validate({"zone": "aisle", "count": 3, "capacity": 10}).count
3
>>> [t.type for t in EVENT_TYPES]
['zone.occupancy', 'zone.overcrowded', 'zone.cleared']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.contract.events import Severity, UseCase
from services.contract.types import Count, EventTypeSpec, Fraction, Name, Payload, Seconds

#: A polygon vertex: x, y as fractions (0-1) of the camera frame.
Vertex = Annotated[list[Fraction], Field(min_length=2, max_length=2)]


class ZonePayload(Payload):
    """What every zone event says about its zone."""

    zone: Name = Field(description="zone name, as configured on the edge")
    count: Count = Field(description="people in the zone")
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] = Field(description="people the zone allows at once")
    occupancy_ratio: Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)] | None = Field(
        default=None, description="count / capacity")
    raw_count: Count | None = Field(
        default=None, description="person boxes in the zone before the camera's count calibration (absent: no calibration)")
    calibrated: bool | None = Field(
        default=None, description="count calibration applied; false: outside the range it holds for, count is raw")


class ZoneOccupancyPayload(ZonePayload):
    """``zone.occupancy``: the periodic reading (interval figures are optional for older senders)."""

    peak_count: Count | None = Field(default=None, description="most people at once since the last reading")
    unique_tracks: Count | None = Field(default=None, description="different tracked people since the last reading")
    interval_s: Seconds | None = Field(default=None, description="seconds covered by peak_count and unique_tracks")
    polygon: list[Vertex] | None = Field(default=None, min_length=3, max_length=1000,
                                         description="zone outline, vertices as fractions of the frame")


class ZoneOvercrowdedPayload(ZonePayload):
    """``zone.overcrowded``: the zone stayed over capacity for several frames."""


class ZoneClearedPayload(ZonePayload):
    """``zone.cleared``: the zone is back under capacity (minus the hysteresis)."""

    overcrowded_for_s: Seconds | None = Field(default=None, description="seconds the zone was over capacity")


EVENT_TYPES = (
    EventTypeSpec("zone.occupancy", UseCase.F, Severity.INFO, ZoneOccupancyPayload,
                  "periodic people count of a zone"),
    EventTypeSpec("zone.overcrowded", UseCase.F, Severity.WARNING, ZoneOvercrowdedPayload,
                  "a zone stayed over capacity; staff check it", review=True),
    EventTypeSpec("zone.cleared", UseCase.F, Severity.NOTICE, ZoneClearedPayload,
                  "a zone is back under capacity"),
)
