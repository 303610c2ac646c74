"""``anshin config calibrate --config FILE --camera ID``: fit a camera's floor homography and report it.

The report is JSON: the reprojection error (mean, RMS, max and per pair, pixels), the limit from
the config, whether the fit passes it, and the 3×3 matrix (image pixels → floor metres).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.usecases.floor.config import FloorAnalyzerConfig
from edge.usecases.floor.homography import HomographyError


def calibration_report(config_path: Path, camera_id: str) -> dict[str, Any]:
    """Fit the homography of ``camera_id``'s floor analyzer in the store YAML; ValueError says what is missing.

    The config is parsed without the cross-field checks, so a fit that ``config check`` refuses
    can still be inspected here.
    """
    from edge.config import ConfigError, load_store_config

    try:
        store = load_store_config(config_path, checks=())
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    if camera_id not in store.cameras:
        raise ValueError(f"store {store.store_id!r} has no camera {camera_id!r}; cameras: {sorted(store.cameras)}")
    floors = [a for a in store.cameras[camera_id].analyzers if isinstance(a, FloorAnalyzerConfig)]
    if not floors:
        raise ValueError(f"camera {camera_id!r} has no floor analyzer (type: floor) with homography point pairs")
    cfg = floors[0]
    try:
        homography = cfg.homography.fit()
    except HomographyError as exc:
        raise ValueError(f"camera {camera_id!r}: {exc}") from None
    error = homography.reprojection_error()
    return {
        "store_id": store.store_id,
        "camera_id": camera_id,
        "pairs": len(cfg.homography.pairs),
        "image_size": list(cfg.image_size),
        "reprojection_error_px": {"mean": error.mean_px, "rms": error.rms_px, "max": error.max_px,
                                  "per_pair": list(error.per_point_px)},
        "max_error_px": cfg.homography.max_error_px,
        "ok": error.max_px <= cfg.homography.max_error_px,
        "matrix": [[round(float(v), 8) for v in row] for row in homography.matrix],
    }
