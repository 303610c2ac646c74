"""Use case F footfall: people crossing counting lines (an entrance, a department's border).

The edge's line counter (``edge/usecases/lines``) sends one ``line.crossings`` per line every
interval: people who crossed **in** and **out** during it. Lines marked ``visitors`` are store
entrances: central adds their in-counts up for visitors per hour (J's conversion rate). The
payload carries counts and the line's geometry, never who crossed.

>>> p = LineCrossingsPayload.model_validate({"line": "door", "in_count": 4, "out_count": 2, "interval_s": 60.0})
>>> p.in_count, p.visitors
(4, True)
>>> [t.type for t in EVENT_TYPES]
['line.crossings']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.contract.events import Severity, UseCase
from services.contract.types import Count, EventTypeSpec, Fraction, Name, Payload, Seconds

#: A point: x, y as fractions (0-1) of the camera frame.
Point = Annotated[list[Fraction], Field(min_length=2, max_length=2)]


class LineCrossingsPayload(Payload):
    """``line.crossings``: people who crossed one line in one interval."""

    line: Name = Field(description="line name, as configured on the edge")
    in_count: Count = Field(description="people who crossed in (left-hand to right-hand side, walking start → end)")
    out_count: Count = Field(description="people who crossed out")
    interval_s: Seconds = Field(description="seconds of video time the counts cover")
    visitors: bool = Field(default=True, description="the line is a store entrance: in_count counts visitors")
    start: Point | None = Field(default=None, description="line start, fractions of the frame")
    end: Point | None = Field(default=None, description="line end, fractions of the frame")


EVENT_TYPES = (
    EventTypeSpec("line.crossings", UseCase.F, Severity.INFO, LineCrossingsPayload,
                  "people who crossed a counting line (in, out) in one interval"),
)
