"""Wire shapes of use case B's API: routes and live density."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ZoneDensityOut(BaseModel):
    zone: str
    people_per_m2: float = Field(description="mean people per m² over the zone, averaged over the window")
    area_m2: float


class DensityOut(BaseModel):
    status: Literal["live", "stale", "empty"] = Field(
        description="live: recent reports; stale: the newest is older than the plan's stale_s; empty: none received")
    as_of: datetime | None = Field(description="time of the newest camera report used")
    people: float = Field(description="mean people on the floor per slot of the window (cameras fused, overlaps counted once)")
    slots: int
    cameras: list[str]
    window_s: float
    cell_m: float
    cells: list[list[float]] | None = Field(default=None, description="people/m² per cell, rows top to bottom")
    zones: list[ZoneDensityOut] | None = None


class PathOut(BaseModel):
    nodes: list[str]
    polyline: list[list[float]] = Field(description="[x, y] floor metres of each node")
    length_m: float
    exposure_person_s: float | None = Field(
        description="expected person-seconds within radius_m of others while walking it (null: no live density)")


class RouteOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    store_id: str
    from_node: str = Field(serialization_alias="from")
    to_node: str = Field(serialization_alias="to")
    via: list[str]
    suggested: PathOut
    shortest: PathOut
    length_overhead: float = Field(description="suggested length / shortest length - 1")
    exposure_reduction: float | None = Field(description="1 - suggested exposure / shortest exposure (null: unknown or zero)")
    fallback: Literal["no_density", "stale", "over_length"] | None
    note: str
    density: DensityOut
    lambda_m_per_person_s: float
    walking_speed_m_s: float
    radius_m: float


class FloorOut(BaseModel):
    store_id: str
    size_m: list[float]
    nodes: dict[str, list[float]]
    edges: list[list[str]]
    density: DensityOut
