"""Whole-frame people counting against annotated frames (e.g. the Mall dataset's head points).

Truth file: ``{"<image file name>": {"count": int, "heads": [[x, y], ...]}, ...}``. A frame's
predicted count is the number of person detections in it (after an optional calibration).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge.detections import PERSON, Detections
from edge.detectors.base import Detector
from edge.usecases.occupancy.counting import PeopleCounter


@dataclass(frozen=True, slots=True)
class FrameCount:
    """One evaluated frame: true people, person detections, predicted people (after any calibration), ms."""

    file: str
    true: int
    detected: int
    pred: float
    ms: float


@dataclass(frozen=True, slots=True)
class CountMetrics:
    """Error of predicted vs true counts over frames (people per frame)."""

    frames: int
    mae: float
    rmse: float
    mean_true: float
    mean_pred: float

    @classmethod
    def of(cls, true: Sequence[float] | npt.NDArray[np.float64], pred: Sequence[float] | npt.NDArray[np.float64]) -> CountMetrics:
        """Mean absolute and root-mean-square error, plus both means.

        >>> CountMetrics.of([10, 20, 30], [12, 17, 30])
        CountMetrics(frames=3, mae=1.6666666666666667, rmse=2.0816659994661326, mean_true=20.0, mean_pred=19.666666666666668)
        """
        t = np.asarray(true, dtype=np.float64)
        p = np.asarray(pred, dtype=np.float64)
        if t.shape != p.shape or t.ndim != 1 or len(t) == 0:
            raise ValueError(f"counts: expected two equal-length non-empty 1-d sequences, got {t.shape} and {p.shape}")
        err = p - t
        return cls(len(t), float(np.abs(err).mean()), float(math.sqrt((err**2).mean())), float(t.mean()), float(p.mean()))


def load_truth(path: Path) -> dict[str, int]:
    """File name → true count; errors name the file and the offending entry."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"truth file {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"truth file {path}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"truth file {path}: expected a non-empty object of file name -> {{count, heads}}")
    truth: dict[str, int] = {}
    for name, entry in raw.items():
        count = entry.get("count") if isinstance(entry, dict) else None
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"truth file {path}: entry {name!r} needs a non-negative integer 'count', got {entry!r:.80}")
        truth[name] = count
    return truth


def spread(names: Sequence[str], limit: int | None) -> list[str]:
    """``limit`` names evenly spaced over the sorted list (all when ``limit`` is None or too big).

    Spreading, not taking the first N, keeps a quick run representative of the whole sequence.

    >>> spread([f"f{i}" for i in range(10)], 3)
    ['f0', 'f4', 'f9']
    """
    ordered = sorted(names)
    if limit is None or limit >= len(ordered):
        return ordered
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    picks = np.unique(np.linspace(0, len(ordered) - 1, limit).round().astype(int))
    return [ordered[i] for i in picks]


def people_count(dets: Detections) -> int:
    """People in a frame: its person-class detections."""
    return int((dets.class_id == PERSON).sum())


def count_frames(
    detector: Detector,
    images: Path,
    truth: dict[str, int],
    files: Sequence[str],
    calibrate: Callable[[float], float] | None = None,
    progress: Callable[[int, int, FrameCount], None] | None = None,
) -> list[FrameCount]:
    """Run ``detector`` on each file and count people: detections, or ``calibrate(detections)`` if given."""
    out: list[FrameCount] = []
    for i, name in enumerate(files):
        frame = cv2.imread(str(images / name))
        if frame is None:
            raise FileNotFoundError(f"cannot read image {images / name} (listed in the truth file)")
        start = time.perf_counter()
        dets = detector.detect(frame)
        ms = (time.perf_counter() - start) * 1000.0
        detected = people_count(dets)
        pred = calibrate(detected) if calibrate is not None else float(detected)
        out.append(FrameCount(name, truth[name], detected, pred, ms))
        if progress is not None:
            progress(i + 1, len(files), out[-1])
    return out


def summarize(frames: Sequence[FrameCount]) -> dict[str, float | int]:
    """The figures ``anshin eval count`` prints: frames, mae, rmse, means, ms per frame."""
    metrics = CountMetrics.of([f.true for f in frames], [f.pred for f in frames])
    return {
        "frames": metrics.frames,
        "mae": round(metrics.mae, 3),
        "rmse": round(metrics.rmse, 3),
        "mean_true": round(metrics.mean_true, 3),
        "mean_pred": round(metrics.mean_pred, 3),
        "mean_detected": round(float(np.mean([f.detected for f in frames])), 3),
        "ms_per_frame": round(float(np.mean([f.ms for f in frames])), 1),
    }


@dataclass(frozen=True, slots=True)
class CameraCounts:
    """``count_camera`` result: each frame's count, and whether its calibration was applied."""

    frames: list[FrameCount]
    calibrated: list[bool]
    seconds: float  # wall time for all frames (reading, detecting, tracking, counting)


def count_camera(
    people_boxes: Callable[[np.ndarray], Detections],
    counter: PeopleCounter,
    model_version: str,
    images: Path,
    truth: dict[str, int],
    files: Sequence[str],
    progress: Callable[[int, int, FrameCount], None] | None = None,
) -> CameraCounts:
    """Count each file as a live camera does: decoded as a file source decodes it
    (:func:`edge.sources.video.read_still`), its boxes (``people_boxes``, the camera's detector and
    tracker) through the same :class:`PeopleCounter` the occupancy analyzer uses."""
    from edge.sources.video import read_still

    out: list[FrameCount] = []
    calibrated: list[bool] = []
    started = time.perf_counter()
    for i, name in enumerate(files):
        frame = read_still(images / name)
        if frame is None:
            raise FileNotFoundError(f"cannot read image {images / name} (listed in the truth file)")
        start = time.perf_counter()
        boxes = len(people_boxes(frame).people())
        counted = counter.count(boxes, model_version)
        ms = (time.perf_counter() - start) * 1000.0
        out.append(FrameCount(name, truth[name], boxes, counted.people, ms))
        calibrated.append(counted.calibrated)
        if progress is not None:
            progress(i + 1, len(files), out[-1])
    return CameraCounts(out, calibrated, time.perf_counter() - started)
