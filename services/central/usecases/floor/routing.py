"""Least-exposure routes on the floor plan's walkable graph (use case B).

**Exposure** of a walk: person-seconds spent within ``radius_m`` of other people. Walking at
``v`` m/s past a place where ``E(p)`` people are expected within the radius costs ``E(p)·ds/v``
person-seconds per ``ds`` metres. ``E(p)`` is the live density (people/m²) integrated over the
disc around ``p`` (on a 0.25 m grid). An edge's exposure is that sum along it, sampled every 0.25 m.

**Cost** of an edge: ``length + λ·exposure`` (λ: metres of detour one person-second is worth).
The suggested route minimises cost with networkx's Dijkstra; the shortest route minimises length.
A suggestion more than ``max_overhead`` longer than the shortest is replaced by the cheapest
path within that bound (networkx's shortest simple paths by cost), else by the shortest.
With no live density (empty or stale), the suggestion *is* the shortest path, and says so.

>>> from services.central.usecases.floor.plan import FloorPlan
>>> plan = FloorPlan.model_validate({"store_id": "s", "size_m": [10, 6],
...     "nodes": {"a": {"at": [1, 3]}, "top": {"at": [5, 1]}, "mid": {"at": [5, 3]}, "b": {"at": [9, 3]}},
...     "edges": [["a", "mid"], ["mid", "b"], ["a", "top"], ["top", "b"]]})
>>> quiet = Router(plan, None)
>>> quiet.route("a", "b").suggested.nodes, quiet.route("a", "b").fallback
(('a', 'mid', 'b'), 'no_density')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

import networkx as nx
import numpy as np
import numpy.typing as npt

from services.central.usecases.floor.density import DensityMap
from services.central.usecases.floor.plan import FloorPlan

FINE_M = 0.25  # exposure grid and sampling step along edges, metres


class UnknownNode(ValueError):
    """A route endpoint or via point that is not a node of the plan."""


@dataclass(frozen=True, slots=True)
class Path:
    """A walk through the graph: nodes, their floor points, length (m) and exposure (person-seconds, None: unknown)."""

    nodes: tuple[str, ...]
    polyline: tuple[tuple[float, float], ...]
    length_m: float
    exposure_person_s: float | None


@dataclass(frozen=True, slots=True)
class Route:
    """The suggested and the shortest path between two nodes, and why the suggestion is what it is.

    ``fallback``: None when the suggestion used live density; ``"no_density"`` (none ever
    received), ``"stale"`` (too old) or ``"over_length"`` (the least-exposure path was too long).
    """

    suggested: Path
    shortest: Path
    fallback: str | None


def exposure_field(density: npt.NDArray[np.float64], cell_m: float, size_m: tuple[float, float], radius_m: float) -> npt.NDArray[np.float64]:
    """Expected people within ``radius_m`` of each point of a FINE_M grid over the plan, shape (H/FINE_M, W/FINE_M)."""
    factor = max(1, int(round(cell_m / FINE_M)))
    fine = np.kron(density, np.ones((factor, factor))) * (cell_m / factor) ** 2  # people per fine cell
    k = int(math.ceil(radius_m / (cell_m / factor)))
    offsets = np.arange(-k, k + 1) * (cell_m / factor)
    disc = (offsets[None, :] ** 2 + offsets[:, None] ** 2) <= radius_m**2
    padded = np.pad(fine, k)
    out = np.zeros_like(fine)
    for dy, dx in zip(*np.nonzero(disc), strict=True):
        out += padded[dy:dy + fine.shape[0], dx:dx + fine.shape[1]]
    return out


class Router:
    """Routes on one plan with one density map (None or not usable: shortest paths only)."""

    def __init__(self, plan: FloorPlan, density: DensityMap | None, lambda_m_per_person_s: float | None = None) -> None:
        self.plan = plan
        self.density = density
        r = plan.routing
        self.lam = r.lambda_m_per_person_s if lambda_m_per_person_s is None else lambda_m_per_person_s
        self.graph = nx.Graph()
        # Exposure only from live density: a stale map says nothing about who is there now.
        field = exposure_field(density.density, density.cell_m, plan.size_m, r.radius_m) if self.live else None
        cell = density.cell_m / max(1, int(round(density.cell_m / FINE_M))) if density is not None else FINE_M
        for a, b in plan.edges:
            length = plan.edge_length(a, b)
            exposure = self._edge_exposure(plan.nodes[a].at, plan.nodes[b].at, field, cell) if field is not None else None
            self.graph.add_edge(a, b, length=length, exposure=exposure,
                                cost=length + self.lam * (exposure or 0.0) if self.live else length)

    @property
    def live(self) -> bool:
        return self.density is not None and self.density.usable

    def _edge_exposure(self, p0: tuple[float, float], p1: tuple[float, float], field: npt.NDArray[np.float64], cell: float) -> float:
        length = math.dist(p0, p1)
        n = max(1, int(math.ceil(length / FINE_M)))
        t = (np.arange(n) + 0.5) / n  # midpoints of n equal steps
        xs, ys = p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])
        cols = np.clip((xs / cell).astype(int), 0, field.shape[1] - 1)
        rows = np.clip((ys / cell).astype(int), 0, field.shape[0] - 1)
        return float(field[rows, cols].sum() * (length / n) / self.plan.routing.walking_speed_m_s)

    def _path(self, nodes: Sequence[str]) -> Path:
        length = sum(self.graph[a][b]["length"] for a, b in zip(nodes, nodes[1:], strict=False))
        exposures = [self.graph[a][b]["exposure"] for a, b in zip(nodes, nodes[1:], strict=False)]
        exposure = None if any(e is None for e in exposures) else round(sum(exposures), 3)
        return Path(tuple(nodes), tuple(self.plan.nodes[n].at for n in nodes), round(length, 3), exposure)

    def _leg(self, a: str, b: str) -> tuple[list[str], list[str], bool]:
        shortest = nx.dijkstra_path(self.graph, a, b, weight="length")
        if not self.live:
            return shortest, shortest, False
        suggested = nx.dijkstra_path(self.graph, a, b, weight="cost")
        limit = (1 + self.plan.routing.max_overhead) * self._length(shortest) + 1e-9
        if self._length(suggested) <= limit:
            return suggested, shortest, False
        for candidate in islice(nx.shortest_simple_paths(self.graph, a, b, weight="cost"), 50):
            if self._length(candidate) <= limit:
                return candidate, shortest, True
        return shortest, shortest, True

    def _length(self, nodes: Sequence[str]) -> float:
        return sum(self.graph[a][b]["length"] for a, b in zip(nodes, nodes[1:], strict=False))

    def route(self, start: str, end: str, via: Sequence[str] = ()) -> Route:
        """Suggested and shortest path from ``start`` through each ``via`` (in order) to ``end``."""
        stops = [start, *via, end]
        unknown = [s for s in stops if s not in self.plan.nodes]
        if unknown:
            raise UnknownNode(f"unknown node(s) {unknown}; nodes: {sorted(self.plan.nodes)}")
        suggested: list[str] = [start]
        shortest: list[str] = [start]
        over = False
        for a, b in zip(stops, stops[1:], strict=False):
            if a == b:
                continue
            sug, sho, too_long = self._leg(a, b)
            suggested += sug[1:]
            shortest += sho[1:]
            over = over or too_long
        if self.density is None or self.density.status == "empty":
            fallback: str | None = "no_density"
        elif self.density.status == "stale":
            fallback = "stale"
        else:
            fallback = "over_length" if over else None
        return Route(self._path(suggested), self._path(shortest), fallback)
