"""A store's floor plan: its size and scale, named areas, and the walkable graph routes run on.

One YAML file per store (``config/floors/<store>.yaml``), loaded into central with
``anshin stores floor set --store ID FILE``. Coordinates are metres from the plan's top-left
corner (x right, y down). The picture is rendered from the plan itself (outline, areas, aisles),
so the map and the graph can never disagree.

* ``areas``: named polygons: departments and zones (density per zone), shelves and checkouts
  (drawn; shelves are not walkable: the graph goes around them).
* ``nodes``: entrances, aisle crossings, departments, checkouts, at floor points.
* ``edges``: pairs of nodes joined by a straight walkable segment along an aisle; its length is
  the distance between them.
* ``routing``: λ (metres of detour worth one person-second of exposure), walking speed, the
  exposure radius, the density window and when density is stale, the cross-camera dedup distance.

>>> plan = FloorPlan.model_validate({
...     "store_id": "s1", "size_m": [10, 6],
...     "nodes": {"door": {"at": [1, 5], "kind": "entrance"}, "a": {"at": [1, 1]}, "b": {"at": [9, 1]}},
...     "edges": [["door", "a"], ["a", "b"]]})
>>> plan.edge_length("a", "b"), plan.grid_shape
(8.0, (6, 10))
>>> FloorPlan.model_validate({**plan.model_dump(), "edges": [["door", "x"]]})
Traceback (most recent call last):
  ...
pydantic_core._pydantic_core.ValidationError: 1 validation error for FloorPlan
  Value error, edges[0]: unknown node 'x'; nodes: ['a', 'b', 'door'] ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.contract.events import Identifier
from services.shared.strict import Strict
from services.shared.yaml_files import load_yaml_model

Metres = Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)]
Point = tuple[Metres, Metres]


class Label(Strict):
    """A name in English and Japanese."""

    en: str = Field(min_length=1, max_length=80)
    ja: str = Field(min_length=1, max_length=80)


class Area(Strict):
    """A named polygon on the floor: a department or zone (density is reported per zone), a shelf or a checkout."""

    id: Identifier
    kind: Literal["zone", "department", "shelf", "checkout"] = "zone"
    label: Label | None = None
    polygon: list[Point] = Field(min_length=3, max_length=200, description="vertices in metres")

    @property
    def area_m2(self) -> float:
        """Shoelace area, m²."""
        pts = self.polygon
        return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True))) / 2.0


class Node(Strict):
    """A place on the walkable graph."""

    at: Point
    kind: Literal["entrance", "exit", "aisle", "department", "checkout"] = "aisle"
    label: Label | None = None


class Routing(Strict):
    """How routes weigh length against exposure, and how fresh density must be."""

    lambda_m_per_person_s: float = Field(
        default=2.0, ge=0.0, le=1000.0,
        description="cost = length + λ·exposure: metres of detour worth one person-second within the radius")
    walking_speed_m_s: float = Field(default=1.0, gt=0.1, le=3.0, description="customer walking speed, m/s")
    radius_m: float = Field(default=2.0, gt=0.0, le=10.0, description="exposure counts people within this distance, m")
    window_s: float = Field(default=60.0, gt=0.0, le=3600.0, description="density is averaged over this many seconds")
    slot_s: float = Field(default=2.0, gt=0.0, le=600.0, description="cameras' reports are fused per slot of this length")
    stale_s: float = Field(default=120.0, gt=0.0, le=86_400.0,
                           description="density older than this is stale: routes fall back to the shortest path")
    dedup_m: float = Field(default=0.8, ge=0.0, le=5.0,
                           description="points of two cameras closer than this are one person (overlapping views)")
    max_overhead: float = Field(default=0.5, ge=0.0, le=10.0,
                                description="never suggest a path more than this fraction longer than the shortest")


class FloorPlan(Strict):
    """One store's floor plan (see the module docstring)."""

    store_id: Identifier
    name: Label | None = None
    size_m: tuple[Annotated[float, Field(gt=0, le=1000)], Annotated[float, Field(gt=0, le=1000)]] = Field(
        description="[width, height] of the plan, metres")
    cell_m: float = Field(default=1.0, ge=0.25, le=10.0, description="side of a density cell, metres")
    areas: list[Area] = Field(default_factory=list, max_length=500)
    nodes: dict[Identifier, Node] = Field(min_length=2, max_length=2000)
    edges: list[tuple[Identifier, Identifier]] = Field(min_length=1, max_length=10_000)
    routing: Routing = Routing()
    default_route: tuple[Identifier, Identifier] | None = Field(
        default=None, description="[from, to] the floor pages show first; default: the first entrance to the first checkout")

    @model_validator(mode="after")
    def _consistent(self) -> FloorPlan:
        problems = list(self._problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _problems(self) -> Iterator[str]:
        width, height = self.size_m
        for name, node in self.nodes.items():
            if not (0 <= node.at[0] <= width and 0 <= node.at[1] <= height):
                yield f"nodes.{name}.at: {list(node.at)} is outside the {width:g} x {height:g} m plan"
        seen: set[frozenset[str]] = set()
        for i, (a, b) in enumerate(self.edges):
            for end in (a, b):
                if end not in self.nodes:
                    yield f"edges[{i}]: unknown node {end!r}; nodes: {sorted(self.nodes)[:20]}"
            if a == b:
                yield f"edges[{i}]: joins {a!r} to itself"
            key = frozenset((a, b))
            if key in seen:
                yield f"edges[{i}]: {a!r}-{b!r} is listed twice"
            seen.add(key)
            if a in self.nodes and b in self.nodes and a != b and self.edge_length(a, b) == 0:
                yield f"edges[{i}]: {a!r} and {b!r} are at the same point"
        for end in self.default_route or ():
            if end not in self.nodes:
                yield f"default_route: unknown node {end!r}"
        ids = [a.id for a in self.areas]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            yield f"areas: id {dup!r} is used twice"
        for area in self.areas:
            if area.area_m2 <= 0:
                yield f"areas.{area.id}: polygon has no area"
        unreachable = self._unreachable()
        if unreachable and not any(e not in self.nodes for pair in self.edges for e in pair):
            yield f"the walkable graph is not connected: {sorted(unreachable)[:20]} cannot be reached from {next(iter(self.nodes))!r}"

    def _unreachable(self) -> set[str]:
        neighbours: dict[str, set[str]] = {n: set() for n in self.nodes}
        for a, b in self.edges:
            if a in neighbours and b in neighbours:
                neighbours[a].add(b)
                neighbours[b].add(a)
        start = next(iter(self.nodes))
        seen, todo = {start}, [start]
        while todo:
            for nxt in neighbours[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return set(self.nodes) - seen

    def edge_length(self, a: str, b: str) -> float:
        """Straight-line length of the segment a-b, metres."""
        (x0, y0), (x1, y1) = self.nodes[a].at, self.nodes[b].at
        return round(math.hypot(x1 - x0, y1 - y0), 6)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(rows, cols) of density cells covering the plan."""
        width, height = self.size_m
        return math.ceil(height / self.cell_m - 1e-9), math.ceil(width / self.cell_m - 1e-9)

    def zones(self) -> list[Area]:
        """Areas density is reported for: zones and departments."""
        return [a for a in self.areas if a.kind in ("zone", "department")]


class FloorPlanError(ValueError):
    """A floor plan file that cannot be read or does not validate; the message names each problem."""


def load_plan(path: Path) -> FloorPlan:
    """Read and validate a floor plan YAML file (:class:`FloorPlanError` names the file and each field)."""
    return load_yaml_model(path, FloorPlan, FloorPlanError, what="a floor plan")
