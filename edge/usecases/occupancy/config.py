"""Config of use case F (people per zone against capacity), free of model imports.

The camera defines its zones (polygons, :class:`edge.config.ZoneConfig`); this section picks
the zones F watches and gives each its capacity::

    analyzers:
      - type: occupancy
        interval_s: 2.0
        zones:
          plaza: {capacity: 3}
          crossing: {capacity: 2}

>>> from types import SimpleNamespace as NS
>>> cfg = OccupancyAnalyzerConfig(zones={"door": {"capacity": 2}}, hysteresis=3)
>>> camera = NS(zones={"door": object()}, analyzers=[cfg])
>>> [p.render() for p in check_hysteresis_fits_capacity(NS(cameras={"c1": camera}))]
["cameras.c1.analyzers[0].hysteresis: larger than the capacity of zone 'door' (2); the alert could never re-arm (got 3)"]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from edge.config_errors import ConfigProblem
from services.contract.events import Identifier
from services.shared.strict import Strict


class OccupancyZone(Strict):
    """F's settings for one zone of the camera."""

    capacity: int = Field(gt=0, description="people allowed in the zone at once")


class OccupancyAnalyzerConfig(Strict):
    """Use case F: people per zone vs. capacity."""

    type: Literal["occupancy"] = "occupancy"
    zones: dict[Identifier, OccupancyZone] = Field(
        min_length=1, description="the camera's zones to watch, each with its capacity"
    )
    interval_s: float = Field(default=2.0, gt=0, le=3600, description="seconds between zone.occupancy reports")
    hysteresis: int = Field(default=1, ge=0, description="people below capacity before an alert re-arms")
    min_frames: int = Field(default=3, ge=1, le=10_000, description="consecutive frames over capacity before alerting")


def check_hysteresis_fits_capacity(store: Any) -> Iterator[ConfigProblem]:
    """An alert re-arms at count <= capacity - hysteresis; that must be reachable (>= 0)."""
    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            if not isinstance(analyzer, OccupancyAnalyzerConfig):
                continue
            for name, zone in analyzer.zones.items():
                if name in cam.zones and analyzer.hysteresis > zone.capacity:
                    yield ConfigProblem(
                        ("cameras", cam_id, "analyzers", i, "hysteresis"),
                        f"larger than the capacity of zone {name!r} ({zone.capacity}); the alert could never re-arm",
                        analyzer.hysteresis,
                    )
