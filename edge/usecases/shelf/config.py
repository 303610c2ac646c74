"""Config of use case I on the edge (shelf gaps against a planogram), free of model imports.

A shelf camera lists its planogram segments: a polygon (fractions of the frame) per SKU with its
facings and capacity::

    analyzers:
      - type: shelf
        detector: learned        # or product_rows (geometry on SKU-110K product boxes)
        interval_s: 5
        min_frames: 2
        segments:
          bay1-top: {sku: repellent-spray, facings: 6, capacity: 24,
                     polygon: [[0.0, 0.05], [1.0, 0.05], [1.0, 0.35], [0.0, 0.35]]}

>>> cfg = ShelfAnalyzerConfig(segments={"s1": {"sku": "tea", "facings": 4, "capacity": 8,
...     "polygon": [[0, 0], [1, 0], [1, 0.5]]}})
>>> cfg.segments["s1"].units_per_facing
2.0
>>> try:
...     ShelfSegment(sku="tea", facings=4, capacity=2, polygon=[[0, 0], [1, 0], [1, 1]])
... except ValueError as e:
...     print(e.errors()[0]["msg"])
Value error, capacity (2) must be at least the facings (4): every facing holds one unit or more
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.contract.events import Identifier
from services.shared.strict import Strict

Point = tuple[Annotated[float, Field(ge=0.0, le=1.0)], Annotated[float, Field(ge=0.0, le=1.0)]]


class ShelfSegment(Strict):
    """One planogram segment: where a SKU sits on the camera's frame."""

    sku: Identifier = Field(description="the SKU the planogram puts here")
    facings: int = Field(ge=1, le=10_000, description="product columns side by side")
    capacity: int = Field(ge=1, le=100_000, description="units when full")
    polygon: list[Point] = Field(min_length=3, max_length=100, description="outline, fractions of the frame")

    @model_validator(mode="after")
    def _capacity_fits_facings(self) -> ShelfSegment:
        if self.capacity < self.facings:
            raise ValueError(f"capacity ({self.capacity}) must be at least the facings ({self.facings}): "
                             "every facing holds one unit or more")
        return self

    @property
    def units_per_facing(self) -> float:
        return self.capacity / self.facings


class ShelfAnalyzerConfig(Strict):
    """Use case I: empty facings per planogram segment."""

    type: Literal["shelf"] = "shelf"
    segments: dict[Identifier, ShelfSegment] = Field(min_length=1, description="planogram segments of this camera")
    detector: Literal["learned", "product_rows"] = Field(default="learned", description="how gaps are found")
    conf: float = Field(default=0.45, gt=0.0, lt=1.0, description="gap box score threshold (0.45: best F1 on the training photos)")
    interval_s: float = Field(default=5.0, ge=0.0, le=3600, description="seconds of frame time between analyses")
    min_frames: int = Field(default=2, ge=1, le=1000, description="analyses in a row before a gap or refill counts")
    min_gap_fraction: float = Field(default=0.15, gt=0.0, le=1.0,
                                    description="empty share of a segment that makes a gap")
    refill_fraction: float = Field(default=0.05, ge=0.0, le=1.0,
                                   description="empty share at or below which a gap is refilled (hysteresis)")
    hidden_fraction: float = Field(default=0.1, gt=0.0, le=1.0,
                                   description="share of a segment covered by a person that hides it")

    @model_validator(mode="after")
    def _hysteresis(self) -> ShelfAnalyzerConfig:
        if self.refill_fraction >= self.min_gap_fraction:
            raise ValueError(f"refill_fraction ({self.refill_fraction}) must be below min_gap_fraction "
                             f"({self.min_gap_fraction}), or one gap would flicker between gap and refilled")
        return self
