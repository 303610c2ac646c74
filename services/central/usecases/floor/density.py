"""Live density on the floor plan: cameras' reports fused, binned into cells, averaged over a window.

Pure functions over :class:`CameraReport` values (a ``floor.positions`` payload with its camera and
time), so the live API and ``anshin eval route`` compute density the same way.

* **Fusion** (:func:`fuse`): a person two cameras see appears in both reports. Points of
  *different* cameras closer than ``dedup_m`` are one person (matched closest first, each point at
  most once, merged at their mean); points of one camera are never merged with each other (the
  camera already told them apart).
* **Slots** (:func:`density_map`): time is cut into slots of ``slot_s``; in each, every camera's
  latest report from the last two slots is fused. Density is the mean over the window's slots of
  people per cell, divided by the cell's area: people/m².

>>> fuse({"a": [[1.0, 1.0], [5.0, 5.0]], "b": [[1.3, 1.0]]}, dedup_m=0.8).round(2).tolist()
[[1.15, 1.0], [5.0, 5.0]]
>>> fuse({"a": [[1.0, 1.0], [1.3, 1.0]]}, dedup_m=0.8).shape      # one camera: two people, close together
(2, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

from services.central.usecases.floor.plan import Area, FloorPlan

Status = Literal["live", "stale", "empty"]


@dataclass(frozen=True, slots=True)
class CameraReport:
    """One camera's ``floor.positions`` report: where people stood (floor metres) at ``at``."""

    camera_id: str
    at: datetime
    points: tuple[tuple[float, float], ...]


def fuse(points_by_camera: Mapping[str, npt.ArrayLike], dedup_m: float) -> npt.NDArray[np.float64]:
    """One set of people from several cameras' points (metres): cross-camera pairs within ``dedup_m`` merge."""
    fused: list[np.ndarray] = []  # merged positions
    seen_by: list[set[str]] = []  # cameras each fused point came from
    for camera, pts in points_by_camera.items():
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        if not len(pts):
            continue
        matched: dict[int, int] = {}  # new point -> fused index
        if fused and dedup_m > 0:
            existing = np.array(fused)
            dist = np.linalg.norm(pts[:, None, :] - existing[None, :, :], axis=-1)
            for j, cams in enumerate(seen_by):
                if camera in cams:
                    dist[:, j] = np.inf  # a camera's own people stay apart
            used: set[int] = set()
            for flat in np.argsort(dist, axis=None):
                i, j = divmod(int(flat), dist.shape[1])
                if dist[i, j] >= dedup_m:
                    break
                if i in matched or j in used:
                    continue
                matched[i] = j
                used.add(j)
        for i, p in enumerate(pts):
            if i in matched:
                j = matched[i]
                n = len(seen_by[j])
                fused[j] = (fused[j] * n + p) / (n + 1)
                seen_by[j].add(camera)
            else:
                fused.append(p.copy())
                seen_by.append({camera})
    return np.array(fused, dtype=np.float64).reshape(-1, 2)


def cell_counts(points: npt.ArrayLike, plan: FloorPlan) -> npt.NDArray[np.float64]:
    """People per density cell (rows, cols); points off the plan are dropped.

    >>> from services.central.usecases.floor.plan import FloorPlan
    >>> plan = FloorPlan.model_validate({"store_id": "s", "size_m": [3, 2], "nodes": {"a": {"at": [0, 0]}, "b": {"at": [1, 1]}},
    ...                                  "edges": [["a", "b"]]})
    >>> cell_counts([[0.5, 0.5], [2.5, 1.5], [2.6, 1.2], [9, 9]], plan).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]
    """
    rows, cols = plan.grid_shape
    out = np.zeros((rows, cols), dtype=np.float64)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    width, height = plan.size_m
    ok = np.isfinite(pts).all(axis=1) & (pts[:, 0] >= 0) & (pts[:, 0] <= width) & (pts[:, 1] >= 0) & (pts[:, 1] <= height)
    c = np.minimum((pts[ok, 0] / plan.cell_m).astype(int), cols - 1)
    r = np.minimum((pts[ok, 1] / plan.cell_m).astype(int), rows - 1)
    np.add.at(out, (r, c), 1.0)
    return out


@dataclass(frozen=True, slots=True)
class DensityMap:
    """People/m² per cell, averaged over a window of slots, and how much to trust it.

    Attributes:
        density: (rows, cols) people/m²; zeros when status is "empty".
        status: "live" (recent reports), "stale" (the newest is older than ``stale_s``), "empty" (none).
        as_of: time of the newest report used (None when empty).
        people: mean fused people on the floor per slot.
        slots: slots the mean covers; cameras: cameras that reported in the window.
    """

    density: npt.NDArray[np.float64]
    cell_m: float
    status: Status
    as_of: datetime | None
    people: float
    slots: int
    cameras: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return self.status == "live"

    def zone_density(self, area: Area) -> float:
        """Mean people/m² over a zone's polygon (cell centres inside it)."""
        mask = _polygon_mask(area.polygon, self.density.shape, self.cell_m)
        return float(self.density[mask].mean()) if mask.any() else 0.0


def density_map(reports: Sequence[CameraReport], plan: FloorPlan, now: datetime) -> DensityMap:
    """Density over the routing window before the newest report (see the module docstring).

    ``reports`` may be in any order and reach further back than the window; those after ``now`` are ignored.
    """
    r = plan.routing
    shape = plan.grid_shape
    usable = [rep for rep in reports if rep.at <= now]
    if not usable:
        return DensityMap(np.zeros(shape), plan.cell_m, "empty", None, 0.0, 0, ())
    newest = max(rep.at for rep in usable)
    status: Status = "stale" if (now - newest).total_seconds() > r.stale_s else "live"
    slot = timedelta(seconds=r.slot_s)
    hold = 2 * slot  # a camera's report stands for two slots: reports and slots are not aligned
    n_slots = max(1, int(round(r.window_s / r.slot_s)))
    by_camera: dict[str, list[CameraReport]] = {}
    for rep in sorted(usable, key=lambda x: x.at):
        if rep.at > newest - timedelta(seconds=r.window_s) - hold:
            by_camera.setdefault(rep.camera_id, []).append(rep)
    total = np.zeros(shape)
    people, used = 0.0, 0
    for k in range(n_slots):
        end = newest - k * slot
        latest: dict[str, CameraReport] = {}
        for cam, reps in by_camera.items():
            for rep in reversed(reps):
                if end - hold < rep.at <= end:
                    latest[cam] = rep
                    break
        if not latest:
            continue
        points = fuse({cam: rep.points for cam, rep in latest.items()}, r.dedup_m)
        total += cell_counts(points, plan)
        people += len(points)
        used += 1
    if used == 0:  # cannot happen (the newest report is in slot 0), kept for safety
        return DensityMap(np.zeros(shape), plan.cell_m, "empty", None, 0.0, 0, ())
    density = total / used / (plan.cell_m**2)
    return DensityMap(density, plan.cell_m, status, newest, round(people / used, 2), used, tuple(sorted(by_camera)))


def _polygon_mask(polygon: Sequence[tuple[float, float]], shape: tuple[int, int], cell_m: float) -> npt.NDArray[np.bool_]:
    """Cells whose centre lies inside ``polygon`` (metres)."""
    rows, cols = shape
    ys, xs = np.mgrid[0:rows, 0:cols]
    cx, cy = (xs + 0.5) * cell_m, (ys + 0.5) * cell_m
    inside = np.zeros(shape, dtype=bool)
    pts = list(polygon)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        crosses = (y0 > cy) != (y1 > cy)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (cx < x_at)
    return inside
