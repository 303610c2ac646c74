"""Use case F comfort: light and air against their targets, and notices for staff.

The edge's comfort analyzer (``edge/usecases/comfort``) sends, per zone and quantity (``lux``
from the camera; ``co2_ppm``, ``temperature_c``, ``humidity_pct`` from sensors):

* ``comfort.reading`` (info) periodically: the value, its target, its status and how long it
  has been out of range. A camera reading taken while the camera's exposure had changed is
  ``untrusted`` with no value: it would be wrong, so it is not reported.
* ``comfort.notice`` (notice, **not** a review item): the value stayed out of range for the
  configured time; staff act on it (ventilate, adjust the heating, switch lights on).
* ``comfort.restored`` (notice): it is back inside the range (by the hysteresis margin).

>>> p = ComfortReadingPayload.model_validate({"zone": "floor", "quantity": "co2_ppm", "value": 1180.0, "unit": "ppm",
...     "target_low": None, "target_high": 1000.0, "status": "high", "out_of_range_s": 240.0, "source": "sensor"})
>>> p.status, p.out_of_range_s
('high', 240.0)
>>> [t.type for t in EVENT_TYPES]
['comfort.reading', 'comfort.notice', 'comfort.restored']
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.contract.events import Severity, UseCase
from services.contract.types import EventTypeSpec, Name, Payload, Seconds, Text

Value = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]


class ComfortPayload(Payload):
    """One value of one zone against its target."""

    zone: Name = Field(description="zone the value belongs to")
    quantity: Name = Field(description="lux, co2_ppm, temperature_c or humidity_pct")
    value: Value | None = Field(description="the reading in unit; null when untrusted")
    unit: Annotated[str, Field(min_length=1, max_length=16)] = Field(description="lx, ppm, °C, %")
    target_low: Value | None = Field(default=None, description="lowest comfortable value (null: none)")
    target_high: Value | None = Field(default=None, description="highest comfortable value (null: none)")
    status: Literal["ok", "low", "high", "untrusted"] = Field(description="against the target; untrusted: no valid value")
    out_of_range_s: Seconds = Field(default=0.0, description="seconds the value has been out of range (0 when it is not)")
    source: Literal["camera", "sensor"] = Field(description="camera (light) or sensor (air)")
    sensor_id: Name | None = Field(default=None, description="the sensor the value came from")
    reason: Text | None = Field(default=None, description="why the reading is untrusted")

    @model_validator(mode="after")
    def _value_unless_untrusted(self) -> ComfortPayload:
        if (self.value is None) != (self.status == "untrusted"):
            raise ValueError("value must be null exactly when status is untrusted")
        return self


class ComfortReadingPayload(ComfortPayload):
    """``comfort.reading``: the periodic value."""


class ComfortNoticePayload(ComfortPayload):
    """``comfort.notice``: out of range for longer than allowed."""


class ComfortRestoredPayload(ComfortPayload):
    """``comfort.restored``: back in range after a notice."""

    out_for_s: Seconds | None = Field(default=None, description="seconds the value was out of range")


EVENT_TYPES = (
    EventTypeSpec("comfort.reading", UseCase.F, Severity.INFO, ComfortReadingPayload,
                  "periodic light or air value of a zone against its target"),
    EventTypeSpec("comfort.notice", UseCase.F, Severity.NOTICE, ComfortNoticePayload,
                  "a light or air value stayed out of its target range; staff act on it (no review)"),
    EventTypeSpec("comfort.restored", UseCase.F, Severity.NOTICE, ComfortRestoredPayload,
                  "a light or air value is back in its target range"),
)
