"""Linear count calibration: detected people per frame → estimated people per frame.

A detector misses a steady share of a fixed camera's crowd (small, occluded people), so on one
camera ``true ≈ intercept + slope × detected``. The fit is ordinary least squares; its honest
error is measured by blocked cross-validation: consecutive frames are near-duplicates, so each
fold holds out one contiguous block of the sequence, never interleaved frames.

Detections miss different people from frame to frame while the crowd changes more slowly, so a
calibration may carry a ``smoothing`` weight: the line is fitted on, and applied to, an exponential
average of the box count over the frames in sequence order (:func:`smooth`).

A calibration is only valid for the camera and detector settings it was fitted with; the JSON
file records both, and the exact command that produced it. Beside it, ``<name>.fit.json`` lists
the sha256 of every frame it was fitted on, so ``anshin eval count`` can say when it is scored on
its own training frames (an in-sample, optimistic figure).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from edge.detectors.config import OnnxDetectorConfig, UltralyticsDetectorConfig
from edge.eval import fit_manifest
from edge.eval.json_files import JsonFile


def fit_linear(detected: Sequence[float], true: Sequence[float]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of ``true ≈ intercept + slope × detected``.

    >>> fit_linear([10, 20, 30], [17, 32, 47])
    (2.0, 1.5)
    """
    x = np.asarray(detected, np.float64)
    y = np.asarray(true, np.float64)
    if x.shape != y.shape or len(x) < 2:
        raise ValueError(f"fit_linear: need two equal-length sequences of at least 2 frames, got {x.shape} and {y.shape}")
    if np.ptp(x) == 0:
        raise ValueError("fit_linear: every frame has the same detected count; a slope cannot be fitted")
    slope, intercept = np.polyfit(x, y, 1)
    return round(float(intercept), 6) + 0.0, round(float(slope), 6) + 0.0  # + 0.0: no -0.0


def smooth(detected: Sequence[float], weight: float) -> npt.NDArray[np.float64]:
    """Exponential average of per-frame counts in sequence order: each frame's value is ``weight`` ×
    its own count + (1 − ``weight``) × the previous value; the first frame is its own count.
    ``weight`` 1 leaves the counts as they are.

    >>> smooth([10, 20, 20], 0.5).tolist()
    [10.0, 15.0, 17.5]
    """
    if not 0.0 < weight <= 1.0:
        raise ValueError(f"smoothing weight must be in (0, 1], got {weight}")
    out = np.empty(len(detected))
    level = 0.0
    for i, d in enumerate(detected):
        level = float(d) if i == 0 else weight * float(d) + (1.0 - weight) * level
        out[i] = level
    return out


def block_folds(n: int, blocks: int) -> npt.NDArray[np.int64]:
    """Fold index of each of ``n`` frames in sequence order: ``blocks`` contiguous, near-equal blocks.

    >>> block_folds(7, 3).tolist()
    [0, 0, 0, 1, 1, 2, 2]
    """
    if not 2 <= blocks <= n:
        raise ValueError(f"blocks must be between 2 and the number of frames ({n}), got {blocks}")
    return (np.arange(n) * blocks // n).astype(np.int64)


def cross_validated(detected: Sequence[float], true: Sequence[float], blocks: int) -> npt.NDArray[np.float64]:
    """Each frame's calibrated count from a fit that never saw its block (frames in sequence order)."""
    x = np.asarray(detected, np.float64)
    y = np.asarray(true, np.float64)
    folds = block_folds(len(x), blocks)
    out = np.empty(len(x))
    for k in range(blocks):
        held = folds == k
        intercept, slope = fit_linear(x[~held], y[~held])
        out[held] = np.maximum(0.0, intercept + slope * x[held])
    return out


class CountCalibration(JsonFile):
    """A fitted calibration and everything needed to reproduce or reject it."""

    what: ClassVar[str] = "calibration file"
    indent: ClassVar[int] = 2


    intercept: float = Field(description="people per frame added to every estimate")
    slope: float = Field(gt=0, description="people per detected person")
    smoothing: float = Field(
        default=1.0, gt=0.0, le=1.0,
        description="weight of the current frame in an exponential average of the box count over frames, fitted "
        "with the line (1: each frame alone)")
    detector: OnnxDetectorConfig | UltralyticsDetectorConfig = Field(discriminator="type", description="settings it is valid for")
    model_version: str = Field(description="sha256[:12] of the model file it was fitted with")
    fitted_on: str = Field(description="what it was fitted on (dataset folder, frames)")
    frames: int = Field(gt=1)
    cv_blocks: int = Field(ge=2)
    cv_mae: float = Field(ge=0, description="blocked cross-validated MAE, people per frame")
    cv_rmse: float = Field(ge=0)
    fit_mae: float = Field(ge=0, description="in-sample MAE (optimistic), people per frame")
    command: str = Field(description="the command that produced this file")

    def apply(self, detected: float) -> float:
        """Estimated people for ``detected`` person detections (never below 0).

        >>> CountCalibration.model_construct(intercept=2.0, slope=1.5).apply(10)
        17.0
        """
        return max(0.0, self.intercept + self.slope * detected)


def write_fit_manifest(out: Path, frames: Sequence[Path], calibration: CountCalibration) -> Path:
    """Write ``<out stem>.fit.json``: the sha256 of every frame the calibration at ``out`` was fitted on."""
    path = fit_manifest.manifest_path(out)
    fit_manifest.FitManifest.of(
        artifact=str(out), role="fitted", data=f"{calibration.fitted_on}: {frames[0].name} .. {frames[-1].name}" if frames else calibration.fitted_on,
        command=calibration.command, digests=fit_manifest.file_digests(frames),
    ).save(path)
    return path


def fit_report(calibration: Path | None, frames: Sequence[Path]) -> dict[str, Any]:
    """Whether any evaluated frame was one ``calibration`` was fitted on (``fitted_on_this_data``); warns on stderr.

    Without a calibration nothing in the count was fitted here (the detector never saw these
    frames), so the report is false with no manifest checked. A calibration without a manifest
    (fitted before manifests existed) gives ``fitted_on_this_data: null``: unknown, not false.
    """
    if calibration is not None and not fit_manifest.manifest_path(calibration).is_file():
        print(f"warning: {calibration} has no fit manifest ({fit_manifest.manifest_path(calibration).name}); "
              "cannot tell whether these frames were fitted on; refit it with `anshin eval fit-count`", file=sys.stderr)
        return {"fitted_on_this_data": None, "fitted_overlap": None, "fitted_artifacts": [], "fit_manifests_checked": []}
    manifests = [] if calibration is None else fit_manifest.existing([fit_manifest.manifest_path(calibration)])
    report = fit_manifest.check_files(frames, manifests)
    fit_manifest.warn(report)
    return report
