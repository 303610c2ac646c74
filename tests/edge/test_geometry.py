"""Zone geometry: anchors, point-in-polygon (checked against OpenCV), scaling."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.geometry import anchor_points, inside, polygon_area, to_pixels

SQUARE = [(0.3, 0.3), (0.7, 0.3), (0.7, 1.0), (0.3, 1.0)]  # normalised
L_SHAPE = np.array([(0, 0), (60, 0), (60, 20), (20, 20), (20, 60), (0, 60)], np.float32)  # concave, pixels


@pytest.mark.parametrize(("boxes", "expected"), [
    pytest.param([[40, 40, 60, 90]], [True], id="feet in zone"),
    pytest.param([[40, 0, 60, 20]], [False], id="only head in zone"),
    pytest.param([[0, 0, 10, 10], [45, 50, 55, 80]], [False, True], id="one of two"),
    pytest.param([], [], id="empty frame"),
])
def test_zone_counts_people_by_their_feet(boxes, expected):
    zone = to_pixels(SQUARE, (100, 100))
    assert inside(anchor_points(np.array(boxes, np.float32).reshape(-1, 4)), zone).tolist() == expected


@pytest.mark.parametrize(("anchor", "point"), [
    ("bottom_center", [5.0, 20.0]),
    ("center", [5.0, 10.0]),
    ("top_center", [5.0, 0.0]),
])
def test_anchor_points(anchor, point):
    assert anchor_points([[0, 0, 10, 20]], anchor).tolist() == [point]


def test_unknown_anchor_is_an_error():
    with pytest.raises(ValueError, match="feet"):
        anchor_points([[0, 0, 1, 1]], "feet")


def test_inside_agrees_with_opencv_on_a_concave_polygon():
    rng = np.random.default_rng(7)
    points = rng.uniform(-5, 65, size=(2000, 2)).astype(np.float32)
    contour = L_SHAPE.reshape(-1, 1, 2)
    # OpenCV: +1 inside, 0 on the edge, -1 outside; points on an edge may go either way, skip them.
    cv = np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), False) for x, y in points])
    mine = inside(points, L_SHAPE)
    assert (mine[cv != 0] == (cv[cv != 0] > 0)).all()
    assert 0 < mine.sum() < len(points)


def test_winding_order_does_not_matter():
    pts = np.array([[10, 10], [40, 40], [70, 70]], np.float32)
    assert inside(pts, L_SHAPE).tolist() == inside(pts, L_SHAPE[::-1]).tolist() == [True, False, False]


def test_polygon_needs_three_vertices():
    with pytest.raises(ValueError, match="at least 3 vertices"):
        inside([[0, 0]], [(0, 0), (1, 1)])


def test_to_pixels_scales_x_by_width_and_y_by_height():
    assert to_pixels(SQUARE, (480, 360))[2].tolist() == pytest.approx([336.0, 360.0])


def test_polygon_area():
    assert polygon_area(L_SHAPE) == pytest.approx(60 * 20 + 20 * 40)
