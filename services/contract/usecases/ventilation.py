"""Use case G (ventilation control): what the site's ventilation agent reports, and the manager's
"infected visitor reported" that may start a purge.

The agent (``edge/usecases/ventilation``) sends ``ventilation.zone_state`` every report period,
``ventilation.setpoints_changed`` for every setpoint it writes (who and why), ``ventilation.failsafe``
when the building stops answering or a zone's CO₂ reading is lost (an alert staff acknowledge),
``ventilation.restored`` when it answers again and ``ventilation.purge_completed`` when a purge
has delivered its air changes. Central records ``ventilation.infection_reported`` from a manager's
report: two people must confirm it before the purge command is issued.

Counts and airflows only: no identities, no pictures.

>>> ZoneStatePayload.model_validate({"zone": "floor", "mode": "dcv", "co2_ppm": 650.0, "airflow_m3h": 1200.0,
...                                  "occupants": 12.0}).mode
'dcv'
>>> [t.type for t in EVENT_TYPES if t.two_person]
['ventilation.infection_reported']
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.contract.events import Severity, UseCase
from services.contract.types import EventTypeSpec, Name, Payload, Seconds, Text

Mode = Literal["dcv", "purge", "override", "failsafe"]
Percent = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
Ppm = Annotated[float, Field(ge=0.0, le=100_000.0, allow_inf_nan=False)]
Airflow = Annotated[float, Field(ge=0.0, le=10_000_000.0, allow_inf_nan=False)]
People = Annotated[float, Field(ge=0.0, le=1_000_000.0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Zones = Annotated[list[Name], Field(min_length=1, max_length=64)]
#: A time inside a payload: ISO 8601 text on the wire (payloads are strict, but JSON has no datetime type).
When = Annotated[datetime, Field(strict=False)]


class ZoneStatePayload(Payload):
    """``ventilation.zone_state``: one zone's air and ventilation now."""

    zone: Name
    mode: Mode
    co2_ppm: Ppm | None = Field(description="measured CO₂; null: the sensor is lost")
    airflow_m3h: Airflow | None = Field(description="measured outdoor airflow")
    occupants: People = Field(description="people F counts in the zone (the controller's feed-forward)")
    temperature_c: Annotated[float, Field(ge=-50.0, le=100.0, allow_inf_nan=False)] | None = None
    humidity_pct: Percent | None = None
    damper_pct: Percent | None = None
    fan_pct: Percent | None = None
    required_airflow_m3h: Airflow | None = Field(default=None, description="max(ASHRAE 62.1 Vbz, 30 m³/h·person)")
    air_changes_per_hour: Annotated[float, Field(ge=0.0, le=10_000.0, allow_inf_nan=False)] | None = None
    risk_index: Probability | None = Field(
        default=None, description="Wells–Riley probability of infection per hour for one susceptible person (index)")
    purge_air_changes: Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)] | None = Field(
        default=None, description="air changes delivered so far by the running purge")
    purge_target_air_changes: Annotated[float, Field(gt=0.0, le=50.0, allow_inf_nan=False)] | None = Field(
        default=None, description="air changes the running purge delivers before demand control resumes")
    co2_setpoint_ppm: Ppm | None = Field(default=None, description="the CO₂ the demand control holds")
    override_expires_at: When | None = None


class SetpointsChangedPayload(Payload):
    """``ventilation.setpoints_changed``: a write to the air handler, with who asked and why."""

    zone: Name
    mode: Mode
    damper_pct: Percent
    fan_pct: Percent
    previous_damper_pct: Percent | None = None
    previous_fan_pct: Percent | None = None
    target_airflow_m3h: Airflow | None = None
    by: Name = Field(description="who decided: 'dcv' (the controller), 'failsafe', or the command's issuer")
    reason: Text = Field(description="why, e.g. 'CO₂ 912 ppm, 31 people', 'purge after review item 7'")
    command_id: str | None = Field(default=None, max_length=64, description="the command this write carries out")


class FailsafePayload(Payload):
    """``ventilation.failsafe``: the agent lost the building (or a zone's CO₂) and fell back."""

    zones: Zones
    cause: Literal["building_unreachable", "co2_sensor_lost"]
    action: Literal["max_outdoor_air", "hold"]
    detail: Text


class RestoredPayload(Payload):
    """``ventilation.restored``: the building answers again; control resumes."""

    zones: Zones
    down_for_s: Seconds


class PurgeCompletedPayload(Payload):
    """``ventilation.purge_completed``: a zone had its air changes; back to DCV."""

    zone: Name
    air_changes: Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)]
    minutes: Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
    review_item_id: int | None = Field(default=None, ge=1)


class InfectionReportedPayload(Payload):
    """``ventilation.infection_reported``: a manager was told an infected person visited."""

    zones: Zones = Field(description="zones the visitor was in")
    visited_from: When
    visited_until: When
    air_changes: Annotated[float, Field(gt=0.0, le=50.0, allow_inf_nan=False)] = 5.0
    device_id: Name = Field(description="the air handler serving the zones (command target)")
    note: Text = Field(default="", description="no names or contact details: counts and places only")

    @model_validator(mode="after")
    def _window(self) -> InfectionReportedPayload:
        if self.visited_until < self.visited_from:
            raise ValueError("visited_until is before visited_from")
        return self


EVENT_TYPES = (
    EventTypeSpec("ventilation.zone_state", UseCase.G, Severity.INFO, ZoneStatePayload,
                  "a zone's CO₂, airflow, occupants, mode and infection-risk index"),
    EventTypeSpec("ventilation.setpoints_changed", UseCase.G, Severity.INFO, SetpointsChangedPayload,
                  "damper and fan setpoints written to the air handler, with who and why"),
    EventTypeSpec("ventilation.failsafe", UseCase.G, Severity.CRITICAL, FailsafePayload,
                  "the building stopped answering or a CO₂ reading was lost; staff check the air handler",
                  review=True),
    EventTypeSpec("ventilation.restored", UseCase.G, Severity.NOTICE, RestoredPayload,
                  "the building answers again; control resumed"),
    EventTypeSpec("ventilation.purge_completed", UseCase.G, Severity.NOTICE, PurgeCompletedPayload,
                  "a zone received its purge air changes; back to demand control"),
    EventTypeSpec("ventilation.infection_reported", UseCase.G, Severity.WARNING, InfectionReportedPayload,
                  "a manager reports an infected visitor; two people confirm before the purge starts",
                  review=True, two_person=True),
)
