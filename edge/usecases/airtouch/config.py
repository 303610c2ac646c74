"""One kiosk's air-touch settings (YAML), free of model imports::

    kiosk_id: kiosk-1
    camera: [640, 480]
    screen: [1280, 800]
    corners: [[460, 140], [180, 140], [180, 340], [460, 340]]   # fingertip at the screen's TL, TR, BR, BL
    depth: {near: [110, 4.0], far: [75, 20.0]}                   # (hand px, cm to the screen) twice
    press_cm: 4.0
    release_cm: 5.5

The camera faces the customer, so its picture is mirrored: the corners are given as the
fingertip was seen when pointing at each screen corner, which makes the homography undo it.

>>> from pydantic import ValidationError
>>> try:
...     AirTouchConfig.model_validate({"press_cm": 4.0, "release_cm": 3.0})
... except ValidationError as exc:
...     print(exc.errors()[0]["msg"])
Value error, release_cm (3.0) must be larger than press_cm (4.0), or one push would press twice
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from edge.usecases.airtouch.geometry import DepthModel, Homography
from services.shared.strict import Strict
from services.shared.yaml_files import load_yaml_model

Pair = tuple[float, float]


class OneEuroConfig(Strict):
    """One-Euro filter settings (see :mod:`.filters`)."""

    min_cutoff: float = Field(1.0, gt=0, le=60, description="Hz; lower removes more jitter at rest")
    beta: float = Field(0.01, ge=0, le=10, description="cut-off rise per unit of speed; higher lags less")
    d_cutoff: float = Field(1.0, gt=0, le=60, description="Hz, for the speed estimate")


class DepthCalibrationConfig(Strict):
    """Two samples of a hand at known distances from the screen: ``[hand_px, cm]`` each, the hand's
    size measured as :func:`~edge.usecases.airtouch.geometry.hand_px` (its knuckle row)."""

    near: tuple[float, float] = (110.0, 4.0)
    far: tuple[float, float] = (75.0, 20.0)

    @model_validator(mode="after")
    def _fits(self) -> DepthCalibrationConfig:
        self.model()  # raises ValueError with the reason
        return self

    def model(self) -> DepthModel:
        return DepthModel.fit(self.near, self.far)


class AirTouchConfig(Strict):
    """A kiosk's camera-to-screen calibration and its press rules."""

    kiosk_id: str = Field("kiosk-1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    camera: tuple[int, int] = Field((640, 480), description="camera frame size, px")
    screen: tuple[int, int] = Field((1280, 800), description="kiosk screen (page viewport) size, px")
    corners: tuple[Pair, Pair, Pair, Pair] = Field(
        ((460.0, 140.0), (180.0, 140.0), (180.0, 340.0), (460.0, 340.0)),
        description="camera px of the fingertip at the screen's top-left, top-right, bottom-right, bottom-left")
    depth: DepthCalibrationConfig = DepthCalibrationConfig()
    press_cm: float = Field(4.0, gt=0, le=30, description="the virtual plane: a press when the fingertip comes closer")
    release_cm: float = Field(5.5, gt=0, le=40, description="the fingertip must go back beyond this before the next press")
    press_speed_cm_s: float = Field(
        10.0, ge=0, le=300, description="a plane press also needs the fingertip approaching the screen at least this fast "
        "(cm/s, over the last 0.1 s): a push moves, a hand resting near the plane does not (0: off)")
    dwell_s: float | None = Field(None, gt=0, le=10, description="also press after holding still this long (None: off)")
    dwell_radius_px: float = Field(25.0, gt=0, le=400, description="how still counts as holding still, screen px")
    dwell_max_cm: float = Field(15.0, gt=0, le=60, description="dwell only counts with the hand this close")
    pointer: OneEuroConfig = OneEuroConfig(min_cutoff=1.5, beta=0.02)
    distance: OneEuroConfig = OneEuroConfig(min_cutoff=2.0, beta=0.05)
    lost_after_s: float = Field(0.3, gt=0, le=5, description="frames without a hand before the cursor is hidden")

    @model_validator(mode="after")
    def _checks(self) -> AirTouchConfig:
        if self.release_cm <= self.press_cm:
            raise ValueError(f"release_cm ({self.release_cm}) must be larger than press_cm ({self.press_cm}), "
                             "or one push would press twice")
        self.homography()  # degenerate corners fail here, at load
        return self

    def homography(self) -> Homography:
        return Homography.from_corners(self.corners, self.screen)


def load_config(path: Path) -> AirTouchConfig:
    """Read a kiosk's YAML; errors name the file and the field."""
    return load_yaml_model(path, AirTouchConfig, what="an air-touch config")
