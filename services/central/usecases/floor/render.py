"""The floor map as drawing instructions for the SVG template (``_floor_map.html``).

The picture is drawn from the plan itself: outline, shelves and checkouts, aisles (graph edges),
places (labelled nodes), live density as coloured cells, and the suggested and shortest routes.
Pixels per metre are fixed; the SVG scales to its box.

>>> crowding_level(0.0), crowding_level(0.1), crowding_level(0.3), crowding_level(0.8)
(None, 'low', 'mid', 'high')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.central.usecases.floor.density import DensityMap
from services.central.usecases.floor.plan import FloorPlan
from services.central.usecases.floor.schemas import RouteOut

PX_PER_M = 30
#: people/m² from which a cell is drawn as low / mid / high crowding
LEVELS = ((0.5, "high"), (0.2, "mid"), (0.02, "low"))
COLOURS = {"low": "#f2c94c", "mid": "#f2994a", "high": "#eb5757"}


def crowding_level(people_per_m2: float) -> str | None:
    """Colour class of a density; None: too few people to draw."""
    for threshold, name in LEVELS:
        if people_per_m2 >= threshold:
            return name
    return None


@dataclass
class MapView:
    width: int
    height: int
    cells: list[tuple[float, float, float, str, str, float]] = field(default_factory=list)  # x, y, size, level, colour, opacity
    shelves: list[str] = field(default_factory=list)
    checkouts: list[str] = field(default_factory=list)
    edges: list[tuple[float, float, float, float]] = field(default_factory=list)
    places: list[tuple[str, float, float, str, str]] = field(default_factory=list)  # id, x, y, label, kind
    suggested: str | None = None
    shortest: str | None = None
    start: tuple[float, float] | None = None
    end: tuple[float, float] | None = None


def _px(v: float) -> float:
    return round(v * PX_PER_M, 1)


def _points(coords: list[list[float]] | list[tuple[float, float]]) -> str:
    return " ".join(f"{_px(x)},{_px(y)}" for x, y in coords)


def node_label(plan: FloorPlan, node: str, locale: str) -> str:
    label = plan.nodes[node].label
    return node if label is None else (label.ja if locale == "ja" else label.en)


def map_view(plan: FloorPlan, density: DensityMap | None, route: RouteOut | None, locale: str) -> MapView:
    width, height = plan.size_m
    view = MapView(int(_px(width)), int(_px(height)))
    if density is not None and density.status != "empty":
        for r, row in enumerate(density.density):
            for c, value in enumerate(row):
                level = crowding_level(float(value))
                if level:
                    view.cells.append((_px(c * density.cell_m), _px(r * density.cell_m), _px(density.cell_m), level,
                                       COLOURS[level], round(min(0.85, 0.35 + float(value)), 2)))
    for area in plan.areas:
        if area.kind == "shelf":
            view.shelves.append(_points(area.polygon))
        elif area.kind == "checkout":
            view.checkouts.append(_points(area.polygon))
    for a, b in plan.edges:
        (x0, y0), (x1, y1) = plan.nodes[a].at, plan.nodes[b].at
        view.edges.append((_px(x0), _px(y0), _px(x1), _px(y1)))
    for name, node in plan.nodes.items():
        if node.kind != "aisle":
            view.places.append((name, _px(node.at[0]), _px(node.at[1]), node_label(plan, name, locale), node.kind))
    if route is not None:
        view.suggested = _points(route.suggested.polyline)
        if route.shortest.nodes != route.suggested.nodes:
            view.shortest = _points(route.shortest.polyline)
        sx, sy = route.suggested.polyline[0]
        ex, ey = route.suggested.polyline[-1]
        view.start, view.end = (_px(sx), _px(sy)), (_px(ex), _px(ey))
    return view
