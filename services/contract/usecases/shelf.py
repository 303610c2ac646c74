"""Use case I (robot restocking): shelf segments with empty facings, and their refill.

The edge's shelf analyzer (``edge/usecases/shelf``) finds empty shelf space on a shelf camera's
frames and maps it onto the camera's planogram segments (a polygon per SKU with its facings and
capacity). ``shelf.gap`` says a segment stayed partly empty for several analysed frames and how
many units that is; ``shelf.refilled`` says the gap is gone again. Both are notices (no review):
central turns them into restock tasks (``services/central/usecases/shelf``). A segment hidden by
a person is not judged, so neither type is ever raised because a shopper stands in front of it.

>>> ShelfGapPayload.model_validate({"segment": "bay1-top", "sku": "repellent-a", "gap_fraction": 0.4,
...     "units_missing": 4, "capacity": 10, "facings": 5}).units_missing
4
>>> [t.type for t in EVENT_TYPES]
['shelf.gap', 'shelf.refilled']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.contract.events import Severity, UseCase
from services.contract.types import Count, EventTypeSpec, Fraction, Name, Payload, Seconds

#: A polygon vertex: x, y as fractions (0-1) of the camera frame.
Vertex = Annotated[list[Fraction], Field(min_length=2, max_length=2)]
Units = Annotated[int, Field(ge=0, le=100_000)]


class ShelfSegmentPayload(Payload):
    """What every shelf event says about its planogram segment."""

    segment: Name = Field(description="planogram segment name, as configured on the edge")
    sku: Name = Field(description="the SKU the planogram puts on this segment")
    capacity: Annotated[int, Field(ge=1, le=100_000)] = Field(description="units the segment holds when full")
    facings: Annotated[int, Field(ge=1, le=10_000)] = Field(description="facings (product columns) of the segment")


class ShelfGapPayload(ShelfSegmentPayload):
    """``shelf.gap``: part of a segment stayed empty over several analysed frames."""

    gap_fraction: Fraction = Field(description="share of the segment's width that is empty")
    units_missing: Units = Field(description="estimated units to refill: empty facings x units per facing")
    frames: Count | None = Field(default=None, description="consecutive analysed frames the gap was seen in")
    polygon: list[Vertex] | None = Field(default=None, min_length=3, max_length=1000,
                                         description="segment outline, fractions of the frame")
    gaps: list[Annotated[list[Fraction], Field(min_length=4, max_length=4)]] | None = Field(
        default=None, max_length=100, description="empty-space boxes in the segment: x1, y1, x2, y2 as fractions")


class ShelfRefilledPayload(ShelfSegmentPayload):
    """``shelf.refilled``: the segment's gap is gone on camera."""

    gap_for_s: Seconds | None = Field(default=None, description="seconds from the gap's notice to its refill")


EVENT_TYPES = (
    EventTypeSpec("shelf.gap", UseCase.I, Severity.NOTICE, ShelfGapPayload,
                  "a planogram segment has empty facings; central decides a restock task"),
    EventTypeSpec("shelf.refilled", UseCase.I, Severity.NOTICE, ShelfRefilledPayload,
                  "a segment's gap is gone on camera; its restock task completes"),
)
