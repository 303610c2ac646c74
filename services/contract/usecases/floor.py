"""Use case B (congestion-avoiding routes): people on the store's floor plan, and distancing notices.

The edge's floor analyzer (``edge/usecases/floor``) projects each tracked person's feet through the
camera's camera→floor homography and reports where people stand, in floor metres, never who they
are: positions are rounded to 0.1 m and sorted, so no track id or order links one report to the
next. Central fuses the cameras' reports into live density (people/m²) and plans routes with it.

``floor.distancing`` is a notice for staff (no review item): how many pairs of people stood
closer than a configured distance for longer than a configured time, with counts only.

>>> FloorPositionsPayload.model_validate({"people": 2, "positions": [[1.0, 2.5], [3.2, 4.0]]}).people
2
>>> [t.type for t in EVENT_TYPES]
['floor.positions', 'floor.distancing']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from services.contract.events import Severity, UseCase
from services.contract.types import Count, EventTypeSpec, Payload, Seconds

#: Floor coordinates are metres from the floor plan's origin (top-left corner, x right, y down).
Metres = Annotated[float, Field(ge=-1000.0, le=1000.0, allow_inf_nan=False)]
#: One person's feet on the floor: [x, y] in metres.
FloorPoint = Annotated[list[Metres], Field(min_length=2, max_length=2)]
#: Most people one camera reports at once (a camera sees far fewer; this only bounds the payload).
MAX_POSITIONS = 2000


class FloorPositionsPayload(Payload):
    """``floor.positions``: where the people this camera sees stand, at one instant."""

    people: Count = Field(description="people on the floor in the camera's calibrated area (= len(positions))")
    positions: list[FloorPoint] = Field(
        max_length=MAX_POSITIONS, description="each person's feet in floor metres, rounded to 0.1 m and sorted (no identities)")
    interval_s: Seconds | None = Field(default=None, description="seconds since this camera's previous report")

    @model_validator(mode="after")
    def _counted(self) -> FloorPositionsPayload:
        if self.people != len(self.positions):
            raise ValueError(f"people ({self.people}) must equal the number of positions ({len(self.positions)})")
        return self


class FloorDistancingPayload(Payload):
    """``floor.distancing``: pairs of people closer than ``distance_m`` for at least ``min_duration_s``."""

    pairs: Annotated[int, Field(ge=1, le=1_000_000)] = Field(description="pairs of people too close for too long")
    people: Annotated[int, Field(ge=2, le=1_000_000)] = Field(description="different people in those pairs")
    closest_m: Metres = Field(description="smallest distance between two people of those pairs, metres")
    longest_s: Seconds = Field(description="longest time one of those pairs has stayed too close, seconds")
    distance_m: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = Field(
        description="configured distance, metres")
    min_duration_s: Seconds = Field(description="configured time, seconds")


EVENT_TYPES = (
    EventTypeSpec("floor.positions", UseCase.B, Severity.INFO, FloorPositionsPayload,
                  "anonymous floor positions of the people a camera sees (for density and routes)"),
    EventTypeSpec("floor.distancing", UseCase.B, Severity.NOTICE, FloorDistancingPayload,
                  "people stayed closer than the configured distance for too long; a notice for staff"),
)
