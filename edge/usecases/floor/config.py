"""Config of the floor analyzer (use case B: people on the floor plan), free of model imports.

Each camera that sees part of the sales floor names ≥ 4 pairs of an image point (pixels of the
camera's frame, ``image_size``) and the same point on the store's floor plan (metres), and how
far a fitted homography may miss them (``max_error_px``, checked by ``anshin config check``)::

    analyzers:
      - type: floor
        image_size: [480, 360]
        homography:
          max_error_px: 4.0
          pairs:               # [image x, image y] px  ->  [floor x, floor y] m
            - {image: [12, 340], floor: [6.0, 14.0]}
            - ...
        distancing: {distance_m: 1.5, min_duration_s: 5}

>>> pairs = [{"image": [0, 0], "floor": [0, 0]}, {"image": [100, 0], "floor": [10, 0]},
...          {"image": [100, 100], "floor": [10, 10]}, {"image": [0, 100], "floor": [0, 10]}]
>>> cfg = FloorAnalyzerConfig(image_size=(100, 100), homography={"pairs": pairs})
>>> cfg.homography.fit().reprojection_error().max_px < 1e-6
True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field

from edge.config_errors import ConfigProblem
from edge.usecases.floor.homography import Homography, HomographyError
from services.shared.strict import Strict

Finite = Annotated[float, Field(allow_inf_nan=False)]


class PointPairConfig(Strict):
    """One surveyed point: where it is in the image (pixels) and on the floor plan (metres)."""

    image: tuple[Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)],
                 Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]] = Field(
        description="[x, y] pixels in a frame of image_size (x right, y down)")
    floor: tuple[Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)],
                 Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]] = Field(
        description="[x, y] metres on the floor plan")


class HomographyConfig(Strict):
    """The camera→floor point pairs and the reprojection error the fit must stay under."""

    pairs: list[PointPairConfig] = Field(min_length=4, max_length=200, description="≥ 4 image↔floor point pairs")
    max_error_px: float = Field(default=4.0, gt=0, le=100, description="largest reprojection error allowed, pixels")

    def fit(self) -> Homography:
        """The fitted homography (raises :class:`HomographyError` for degenerate pairs)."""
        return Homography.fit([(p.image, p.floor) for p in self.pairs])


class DistancingConfig(Strict):
    """When two people on the floor are too close for too long (a notice, never an identity)."""

    distance_m: float = Field(default=1.5, ge=1.0, le=2.0, description="closer than this counts as too close, metres (1-2)")
    min_duration_s: float = Field(default=5.0, gt=0, le=3600, description="seconds a pair must stay too close")
    grace_s: float = Field(default=1.0, ge=0, le=60,
                           description="a pair apart for at most this long (a missed detection) stays one episode")
    cooldown_s: float = Field(default=30.0, ge=0, le=86_400, description="seconds between two notices of this camera")


class FloorAnalyzerConfig(Strict):
    """Use case B: project tracked people's feet onto the floor plan; report positions and distancing."""

    type: Literal["floor"] = "floor"
    image_size: tuple[Annotated[int, Field(ge=16, le=20_000)], Annotated[int, Field(ge=16, le=20_000)]] = Field(
        description="[width, height] of the frames the image points were marked on; other frame sizes are scaled")
    homography: HomographyConfig
    interval_s: float = Field(default=2.0, gt=0, le=3600, description="seconds between floor.positions reports")
    distancing: DistancingConfig | None = Field(default_factory=DistancingConfig,
                                                description="distancing notices; null: none")


def check_homography_error(store: Any) -> Iterator[ConfigProblem]:
    """Each floor camera's point pairs fit a homography whose reprojection error is within ``max_error_px``."""
    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            if not isinstance(analyzer, FloorAnalyzerConfig):
                continue
            loc = ("cameras", cam_id, "analyzers", i, "homography")
            width, height = analyzer.image_size
            for k, pair in enumerate(analyzer.homography.pairs):
                x, y = pair.image
                if x > width or y > height:
                    yield ConfigProblem((*loc, "pairs", k, "image"), f"outside the {width}x{height} image", list(pair.image))
            try:
                error = analyzer.homography.fit().reprojection_error()
            except HomographyError as exc:
                yield ConfigProblem((*loc, "pairs"), str(exc))
                continue
            if error.max_px > analyzer.homography.max_error_px:
                worst = max(range(len(error.per_point_px)), key=lambda j: error.per_point_px[j])
                yield ConfigProblem(
                    (*loc, "pairs", worst),
                    f"reprojection error {error.max_px:.2f} px is above max_error_px {analyzer.homography.max_error_px:g} "
                    f"(mean {error.mean_px:.2f} px); re-mark this pair or check its floor coordinates "
                    f"(`anshin config calibrate --camera {cam_id}` shows every pair)",
                    analyzer.homography.pairs[worst].model_dump(mode="json"),
                )
