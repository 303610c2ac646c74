"""Camera → floor homography: image pixels to floor metres, fitted from point pairs.

People stand on the floor, a plane, so the feet of a person seen in the image map onto the floor
plan by one 3×3 homography. It is fitted with :func:`cv2.findHomography` from ≥ 4 pairs of an image
point (pixels) and the same point on the floor plan (metres), e.g. tile corners or the feet of a
shelf measured on the plan. The fit's quality is its **reprojection error**: each floor point
mapped back into the image lands this many pixels away from where it was marked. Four pairs fit
exactly (error 0); give more to measure how well the plane model holds.

>>> pairs = [((0, 0), (0, 0)), ((100, 0), (10, 0)), ((100, 100), (10, 10)), ((0, 100), (0, 10)), ((50, 50), (5, 5))]
>>> h = Homography.fit(pairs)
>>> h.to_floor([[50, 100]]).round(3).tolist()
[[5.0, 10.0]]
>>> h.reprojection_error().max_px < 1e-6
True
>>> floor_distance([[0, 0], [3, 4]])
array([[0., 5.],
       [5., 0.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

#: An image point (pixels) and the same point on the floor (metres).
PointPair = tuple[tuple[float, float], tuple[float, float]]


class HomographyError(ValueError):
    """The point pairs do not define a camera→floor mapping (too few, degenerate, collinear)."""


@dataclass(frozen=True, slots=True)
class ReprojectionError:
    """How far the floor points land from their image points when mapped back, in pixels."""

    per_point_px: tuple[float, ...]
    mean_px: float
    rms_px: float
    max_px: float


@dataclass(frozen=True, slots=True)
class Homography:
    """A fitted camera→floor homography and the pairs it was fitted on.

    Attributes:
        matrix: 3×3 image (pixels) → floor (metres).
        image_points: (n, 2) pixels; floor_points: (n, 2) metres.
    """

    matrix: npt.NDArray[np.float64]
    image_points: npt.NDArray[np.float64]
    floor_points: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, pairs: Sequence[PointPair]) -> Homography:
        """Least-squares fit over all pairs (every pair is a surveyed point: none is an outlier to drop)."""
        if len(pairs) < 4:
            raise HomographyError(f"a homography needs at least 4 point pairs, got {len(pairs)}")
        image = np.array([p[0] for p in pairs], dtype=np.float64)
        floor = np.array([p[1] for p in pairs], dtype=np.float64)
        for name, pts in (("image", image), ("floor", floor)):
            if not np.isfinite(pts).all():
                raise HomographyError(f"{name} points must be finite numbers")
            if _collinear(pts):
                raise HomographyError(f"the {name} points are (nearly) on one line or repeat; "
                                      "pick points that span an area, no three in a row")
        matrix, _ = cv2.findHomography(image, floor, method=0)
        if matrix is None or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 1e-12:
            raise HomographyError("cv2.findHomography found no mapping for these point pairs")
        return cls(matrix, image, floor)

    def to_floor(self, points_px: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Image points (n, 2) in pixels → floor points (n, 2) in metres; NaN where a point maps to infinity."""
        return _apply(self.matrix, points_px)

    def to_image(self, points_m: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Floor points (n, 2) in metres → image points (n, 2) in pixels."""
        return _apply(np.linalg.inv(self.matrix), points_m)

    def reprojection_error(self) -> ReprojectionError:
        """Pixel distance between each marked image point and its floor point mapped back."""
        back = self.to_image(self.floor_points)
        err = np.linalg.norm(back - self.image_points, axis=1)
        err = np.where(np.isfinite(err), err, np.inf)
        return ReprojectionError(
            per_point_px=tuple(round(float(e), 4) for e in err),
            mean_px=round(float(err.mean()), 4),
            rms_px=round(float(np.sqrt((err**2).mean())), 4),
            max_px=round(float(err.max()), 4),
        )

    def in_calibrated_area(self, points_px: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True for image points inside the convex hull of the calibration points (where the fit was checked).

        >>> h = Homography.fit([((0, 0), (0, 0)), ((10, 0), (1, 0)), ((10, 10), (1, 1)), ((0, 10), (0, 1))])
        >>> h.in_calibrated_area([[5, 5], [20, 5]]).tolist()
        [True, False]
        """
        pts = np.asarray(points_px, dtype=np.float32).reshape(-1, 2)
        hull = cv2.convexHull(self.image_points.astype(np.float32))
        return np.array([cv2.pointPolygonTest(hull, (float(x), float(y)), False) >= 0 for x, y in pts], dtype=bool)


def _apply(matrix: npt.NDArray[np.float64], points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return np.zeros((0, 2), dtype=np.float64)
    homog = np.hstack([pts, np.ones((len(pts), 1))]) @ matrix.T
    w = homog[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = homog[:, :2] / w
    out[np.abs(w[:, 0]) < 1e-12] = np.nan  # on the horizon line: no floor point
    return out


def _collinear(points: npt.NDArray[np.float64]) -> bool:
    """True when the points span (almost) no area: all on one line, or fewer than 3 distinct."""
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    scale = max(float(singular[0]), 1e-12)
    return float(singular[-1]) / scale < 1e-3


def floor_distance(points_m: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pairwise distances (n, n) in metres between floor points (n, 2) in metres."""
    pts = np.asarray(points_m, dtype=np.float64).reshape(-1, 2)
    diff = pts[:, None, :] - pts[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))
