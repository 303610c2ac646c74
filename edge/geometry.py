"""Zone geometry as pure functions: anchor points, point-in-polygon, polygon scaling.

Zones are configured as polygons in *normalised* coordinates (0-1 of the frame width and height)
so a config survives a change of camera resolution; analyzers scale them to pixels per frame with
:func:`to_pixels` and test people by the anchor point of their box (by default the bottom centre,
i.e. where the feet touch the floor, which is what "standing in a zone" means on a floor plan).

>>> boxes = np.array([[40, 40, 60, 90], [40, 0, 60, 20]], dtype=np.float32)
>>> square = to_pixels([(0.3, 0.3), (0.7, 0.3), (0.7, 1.0), (0.3, 1.0)], (100, 100))
>>> inside(anchor_points(boxes), square).tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class Anchor(StrEnum):
    """Which point of a box stands for the object."""

    BOTTOM_CENTER = "bottom_center"  # feet on the floor: people in floor zones
    CENTER = "center"
    TOP_CENTER = "top_center"


def anchor_points(xyxy: npt.ArrayLike, anchor: Anchor | str = Anchor.BOTTOM_CENTER) -> npt.NDArray[np.float32]:
    """One (x, y) point per box, in the boxes' pixel coordinates.

    Args:
        xyxy: (n, 4) boxes x1, y1, x2, y2 in pixels.
        anchor: which point of the box to use.

    Returns:
        (n, 2) float32 points in pixels.

    >>> anchor_points([[0, 0, 10, 20]]).tolist()
    [[5.0, 20.0]]
    >>> anchor_points([[0, 0, 10, 20]], "center").tolist()
    [[5.0, 10.0]]
    >>> anchor_points(np.zeros((0, 4))).shape
    (0, 2)
    """
    boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    x = (boxes[:, 0] + boxes[:, 2]) / 2
    anchor = Anchor(anchor)
    if anchor is Anchor.BOTTOM_CENTER:
        y = boxes[:, 3]
    elif anchor is Anchor.TOP_CENTER:
        y = boxes[:, 1]
    else:
        y = (boxes[:, 1] + boxes[:, 3]) / 2
    return np.stack([x, y], axis=1).astype(np.float32)


def inside(points: npt.ArrayLike, polygon: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which points lie inside a polygon (even-odd rule, vectorised ray casting).

    Points and polygon must use the same units (both pixels or both normalised). A point exactly
    on an edge may count either way; the anchor of a real box is never placed that precisely.

    Args:
        points: (n, 2) x, y.
        polygon: (m, 2) vertices in order (either winding), m >= 3; the last edge closes it.

    Returns:
        (n,) boolean mask.

    >>> tri = [(0, 0), (10, 0), (0, 10)]
    >>> inside([(1, 1), (9, 9), (20, 1)], tri).tolist()
    [True, False, False]
    >>> inside(np.zeros((0, 2)), tri).tolist()
    []
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(poly) < 3:
        raise ValueError(f"polygon needs at least 3 vertices, got {len(poly)}")
    x, y = pts[:, 0:1], pts[:, 1:2]  # (n, 1) so every point meets every edge by broadcasting
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    straddles = (y1 > y) != (y2 > y)  # edge crosses the horizontal line through the point
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    crossings = straddles & (x < x_cross)
    return (crossings.sum(axis=1) % 2 == 1).astype(np.bool_)


def to_pixels(polygon: Sequence[Sequence[float]] | npt.ArrayLike, frame_size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Scale a normalised polygon (0-1) to pixels of a frame.

    Args:
        polygon: (m, 2) vertices, x and y as fractions of width and height.
        frame_size: (width, height) in pixels.

    >>> to_pixels([(0, 0), (0.5, 0), (0.5, 1)], (480, 360)).tolist()
    [[0.0, 0.0], [240.0, 0.0], [240.0, 360.0]]
    """
    width, height = frame_size
    return (np.asarray(polygon, dtype=np.float32).reshape(-1, 2) * np.array([width, height], np.float32)).astype(np.float32)


def polygon_area(polygon: npt.ArrayLike) -> float:
    """Unsigned area (shoelace formula), in the polygon's units squared.

    >>> polygon_area([(0, 0), (1, 0), (1, 1), (0, 1)])
    1.0
    >>> polygon_area([(0, 0), (1, 1), (2, 2)])
    0.0
    """
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
