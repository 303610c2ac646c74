"""Config of line counting (use case F footfall), free of model imports.

Each line is a directed segment in fractions (0-1) of the frame; people crossing it from the
left-hand to the right-hand side (walking along it from ``start`` to ``end``, seen on the image)
count as **in**, the other way **out** (:mod:`edge.usecases.lines.counter`)::

    analyzers:
      - type: lines
        interval_s: 60
        lines:
          entrance: {start: [0.5, 0.2], end: [0.5, 0.9], visitors: true}

``visitors: true`` marks a line whose ``in`` count is store visitors (an entrance); central adds
those up for visitors per hour (J's conversion rate). Inner lines (between departments) say false.

>>> cfg = LinesAnalyzerConfig(lines={"door": {"start": [0.5, 0.1], "end": [0.5, 0.9]}})
>>> cfg.lines["door"].visitors, cfg.hysteresis, cfg.rejoin, cfg.interval_s
(True, 0.03, 0.2, 60.0)
>>> from pydantic import ValidationError
>>> try:
...     LinesAnalyzerConfig(lines={"door": {"start": [0.5, 0.1], "end": [0.5, 0.1]}})
... except ValidationError as exc:
...     print(exc.errors()[0]["msg"])
Value error, start and end are the same point; a line needs two
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.contract.events import Identifier
from services.shared.strict import Strict

Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class CountingLine(Strict):
    """One counting line of the camera."""

    start: tuple[Unit, Unit] = Field(description="x, y of the start as fractions (0-1) of the frame")
    end: tuple[Unit, Unit] = Field(description="x, y of the end; in = crossing to the right-hand side walking start → end")
    visitors: bool = Field(default=True, description="its in-count is store visitors (an entrance); false for inner lines")

    @model_validator(mode="after")
    def _two_points(self) -> CountingLine:
        if abs(self.start[0] - self.end[0]) + abs(self.start[1] - self.end[1]) < 1e-3:
            raise ValueError("start and end are the same point; a line needs two")
        return self


class LinesAnalyzerConfig(Strict):
    """Use case F footfall: in/out counts across configured lines."""

    type: Literal["lines"] = "lines"
    lines: dict[Identifier, CountingLine] = Field(min_length=1, description="counting lines by name")
    interval_s: float = Field(default=60.0, gt=0, le=3600, description="seconds of frame time per line.crossings report")
    hysteresis: float = Field(
        default=0.03, ge=0.0, le=0.5,
        description="how far past the line (fraction of the frame height) a person's feet must be before their side counts")
    rejoin: float = Field(
        default=0.2, ge=0.0, le=1.0,
        description="a new track starting this close (fraction of the frame height) to where a lost one was last seen "
                    "continues it, so a tracker id switch does not lose a crossing; 0: off. Chosen on PETS frames 1-400")
    forget_after_frames: int = Field(default=100, ge=1, le=100_000, description="a track unseen for this many frames is forgotten")
