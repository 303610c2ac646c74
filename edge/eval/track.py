"""``anshin eval track``: multi-object tracking quality of what a camera runs live.

The video is run through the camera's own detector, tracker and detection cadence
(:class:`~edge.tracking.cadence.DetectTrackCadence`, the worker's rule), and the tracks of every
frame that the ground truth covers are scored against it with py-motmetrics (CLEAR MOT and the
identity metrics): ``{frames, mota, idf1, id_switches, fp, fn, fps}``.

Ground truth is MOTChallenge 2D text: ``frame,id,left,top,width,height,flag,...`` with 1-based
frames (frame 1 is the video's first image). Boxes with ``flag`` 0 are ignored the way the
MOTChallenge devkit does it: they are not counted as misses, and a track box that matches one
(IoU >= 0.5) is not counted as a false alarm.

>>> truth = parse_mot(["1,7,10,10,20,40,1,0,0,0", "1,8,100,10,20,40,0,0,0,0", "2,7,12,10,20,40,1,0,0,0"])
>>> sorted(truth), truth[1].ids.tolist(), truth[1].ignored.tolist()
([1, 2], [7, 8], [False, True])
>>> truth[1].xyxy[0].tolist()
[10.0, 10.0, 30.0, 50.0]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import typer
from scipy.optimize import linear_sum_assignment

from services.shared.boxes import box_iou

#: A track box matches a truth box at IoU >= this (MOTChallenge's 2D rule).
MATCH_IOU = 0.5


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """The truth boxes of one frame: ids (n,), xyxy (n, 4) pixels, ignored (n,) for flag 0."""

    ids: np.ndarray
    xyxy: np.ndarray
    ignored: np.ndarray


def parse_mot(lines: Iterable[str]) -> dict[int, FrameTruth]:
    """MOTChallenge 2D lines → truth per 1-based frame number (blank lines skipped)."""
    rows: dict[int, list[tuple[int, float, float, float, float, bool]]] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        fields = line.split(",")
        try:
            frame, ident = int(fields[0]), int(float(fields[1]))
            left, top, width, height = (float(v) for v in fields[2:6])
            flag = int(float(fields[6])) if len(fields) > 6 else 1
        except (ValueError, IndexError):
            raise ValueError(f"line {number}: expected frame,id,left,top,width,height,flag,... got {line[:80]!r}") from None
        if frame < 1 or width <= 0 or height <= 0:
            raise ValueError(f"line {number}: frame must be >= 1 and the box must have a size, got {line[:80]!r}")
        rows.setdefault(frame, []).append((ident, left, top, left + width, top + height, flag == 0))
    return {
        frame: FrameTruth(
            ids=np.array([r[0] for r in boxes], np.int64),
            xyxy=np.array([r[1:5] for r in boxes], np.float64).reshape(-1, 4),
            ignored=np.array([r[5] for r in boxes], bool),
        )
        for frame, boxes in sorted(rows.items())
    }


def load_mot(path: Path) -> dict[int, FrameTruth]:
    try:
        return parse_mot(path.read_text(encoding="utf-8").splitlines())
    except OSError as exc:
        raise FileNotFoundError(f"cannot read ground truth {path}: {exc.strerror}") from None


def _drop_matches_with_ignored(truth: FrameTruth, xyxy: np.ndarray) -> np.ndarray:
    """Which track boxes to keep: those not matched one-to-one (IoU >= 0.5) to an ignored truth box."""
    keep = np.ones(len(xyxy), bool)
    if len(xyxy) == 0 or not truth.ignored.any():
        return keep
    iou = box_iou(truth.xyxy, xyxy)
    rows, cols = linear_sum_assignment(-iou)
    for r, c in zip(rows, cols):
        if iou[r, c] >= MATCH_IOU and truth.ignored[r]:
            keep[c] = False
    return keep


def score_tracks(truth: Mapping[int, FrameTruth], tracks: Mapping[int, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """CLEAR MOT and identity metrics over the frames ``truth`` covers.

    ``tracks`` maps a 1-based frame number to ``(track_ids (m,), xyxy (m, 4))``; a frame with no
    entry had no tracks.

    >>> t = parse_mot(["1,1,0,0,10,10,1", "2,1,1,0,10,10,1"])
    >>> perfect = {1: (np.array([5]), np.array([[0, 0, 10, 10]])), 2: (np.array([5]), np.array([[1, 0, 11, 10]]))}
    >>> m = score_tracks(t, perfect); (m["mota"], m["idf1"], m["id_switches"], m["fp"], m["fn"])
    (1.0, 1.0, 0, 0, 0)
    >>> swapped = {1: perfect[1], 2: (np.array([6]), np.array([[1, 0, 11, 10]]))}
    >>> score_tracks(t, swapped)["id_switches"]
    1
    """
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=False)
    empty = (np.zeros(0, np.int64), np.zeros((0, 4)))
    for frame, frame_truth in sorted(truth.items()):
        ids, xyxy = tracks.get(frame, empty)
        ids, xyxy = np.asarray(ids).reshape(-1), np.asarray(xyxy, np.float64).reshape(-1, 4)
        keep = _drop_matches_with_ignored(frame_truth, xyxy)
        ids, xyxy = ids[keep], xyxy[keep]
        counted = ~frame_truth.ignored
        iou = box_iou(frame_truth.xyxy[counted], xyxy)
        # motmetrics takes distances; NaN means "may not match" (IoU below the threshold).
        distance = np.where(iou >= MATCH_IOU, 1.0 - iou, np.nan)
        acc.update(frame_truth.ids[counted].tolist(), ids.tolist(), distance, frameid=frame)
    names = ["num_frames", "mota", "motp", "idf1", "num_switches", "num_false_positives", "num_misses", "num_objects"]
    summary = mm.metrics.create().compute(acc, metrics=names, name="all").iloc[0]
    return {
        "frames": int(summary["num_frames"]),
        "mota": round(float(summary["mota"]), 4),
        "idf1": round(float(summary["idf1"]), 4),
        "id_switches": int(summary["num_switches"]),
        "fp": int(summary["num_false_positives"]),
        "fn": int(summary["num_misses"]),
        "truth_boxes": int(summary["num_objects"]),
        "motp_iou": round(1.0 - float(summary["motp"]), 4) if np.isfinite(summary["motp"]) else None,
    }


def run_tracks(
    video: Path, cadence: Any, last_frame: int, progress_every: int = 100, view: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], float, int]:
    """Frames 1..``last_frame`` of ``video`` (each through ``view`` first, if given) through ``cadence``
    → (people tracks per frame, seconds, detect frames).

    The seconds count the live per-frame work (decode, detect, track), not the scoring.
    """
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open video {video}")
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    detect_frames = 0
    started = time.perf_counter()
    try:
        for frame in range(1, last_frame + 1):
            ok, image = capture.read()
            if not ok:
                break
            step = cadence.step(image if view is None else view(image))
            detect_frames += step.detected
            people = step.tracks.people()
            ids = people.tracker_id if people.tracker_id is not None else np.zeros(0, np.int64)
            out[frame] = (np.asarray(ids).copy(), np.asarray(people.xyxy, np.float64).copy())
            if progress_every and frame % progress_every == 0:
                rate = frame / (time.perf_counter() - started)
                print(f"{frame}/{last_frame} frames ({rate:.1f} fps)", file=sys.stderr, flush=True)
    finally:
        capture.release()
    return out, time.perf_counter() - started, detect_frames


def fitted_on_frames(video: Path, frames: list[int], model_files: str | Sequence[str]) -> dict[str, object]:
    """``fitted_on_this_data`` for the scored ``frames``: whether the camera's detector (any of its
    ``model_files``, e.g. from the config's ``model_files()``) was trained on them.

    A detector fine-tuned on a camera's own frames keeps a fit manifest beside its file (one digest
    per frame, :func:`edge.eval.fit_manifest.frame_digest`); a published model's sits beside its card.
    Warns on stderr when any scored frame was in the fit.
    """
    from edge.eval import fit_manifest
    from edge.models_registry import sha256_file
    from edge.paths import resolve_model

    paths = []
    for name in [model_files] if isinstance(model_files, str) else model_files:
        model = resolve_model(name)
        paths += [fit_manifest.manifest_path(model), fit_manifest.card_manifest(model.stem)]
    manifests = fit_manifest.existing(paths)
    video_sha = sha256_file(video)
    report = fit_manifest.check([fit_manifest.frame_digest(video_sha, f) for f in frames], manifests)
    fit_manifest.warn(report)
    return report


def _frame_size(video: Path) -> tuple[int, int]:
    capture = cv2.VideoCapture(str(video))
    try:
        if not capture.isOpened():
            raise FileNotFoundError(f"cannot open video {video}")
        return int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()


def parse_frame_range(text: str) -> tuple[int, int]:
    """``"201-400"`` → ``(201, 400)``: the 1-based frames to score, both ends included.

    >>> parse_frame_range("201-400")
    (201, 400)
    >>> parse_frame_range("0-5")
    Traceback (most recent call last):
    ...
    ValueError: --frames must be FIRST-LAST with 1 <= FIRST <= LAST, got '0-5'
    """
    first, _, last = text.partition("-")
    try:
        lo, hi = int(first), int(last)
    except ValueError:
        lo, hi = 0, -1
    if not 1 <= lo <= hi:
        raise ValueError(f"--frames must be FIRST-LAST with 1 <= FIRST <= LAST, got {text!r}")
    return lo, hi


DEFAULT_CAMERA = "pets-aisle"
DEFAULT_GT = Path("pets2009_gt") / "gt_480x360_frames0001-0400.txt"


def track_command(
    video: Path | None = typer.Option(None, "--video", help="video file; default: the camera's own file source"),
    gt: Path | None = typer.Option(None, "--gt", help=f"MOTChallenge ground truth; default: MEDIA/{DEFAULT_GT}"),
    config: Path = typer.Option(None, "--config", help="store config whose camera settings to run; default: config/demo-store.yaml"),
    camera: str = typer.Option(DEFAULT_CAMERA, "--camera", help="camera id in that config"),
    model: str | None = typer.Option(
        None, "--model", help="run this detector file instead of the camera's, with all its other settings "
        "(e.g. a model trained on other frames of the same camera, to score frames it never saw)",
    ),
    frames: str | None = typer.Option(
        None, "--frames", help="score only these truth frames, e.g. 201-400 (tracking still runs from frame 1, as live)",
    ),
    zoom: float | None = typer.Option(
        None, "--zoom", min=1.0, help="score a close-up instead: frames and truth cropped to 1/ZOOM around the labelled "
        "people and scaled back up, so everyone is ZOOM times taller (edge/eval/closeup.py; compare settings on it, not views)",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Tracking quality (MOTA, IDF1, id switches) of what a camera runs live, on MOTChallenge ground truth.

    Example: anshin eval track --json   (the demo's PETS camera on frames 1-400 of its video)
    Example: anshin eval track --frames 201-400 --json   (score the second half only)
    Example: anshin eval track --model var/train/twin_1_200.onnx --frames 201-400 --json
    Example: anshin eval track --zoom 2 --json   (people twice as tall as any labelled one)
    Runs the camera's detector, tracker and detection cadence; scores only the frames the truth covers.
    """
    import json

    from edge.config import ConfigError, load_store_config
    from edge.detectors import create_detector
    from edge.eval.options import fail
    from edge.hardware import cpu_description
    from edge.paths import PROJECT_ROOT, media_dir
    from edge.tracking import ByteTracker
    from edge.tracking.cadence import DetectTrackCadence

    config = config or PROJECT_ROOT / "config" / "demo-store.yaml"
    try:
        store = load_store_config(config)
        cam = store.camera(camera)
    except (ConfigError, KeyError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    video = video or (Path(str(cam.source)) if cam.source_kind == "file" else None)
    if video is None:
        raise fail(f"camera {camera!r} reads a live source; give --video FILE")
    gt = gt or media_dir() / DEFAULT_GT
    try:
        truth = load_mot(gt)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(f"{gt}: {exc}") from exc
    closeup = None
    if zoom is not None:
        from edge.eval.closeup import CloseUp

        try:
            closeup = CloseUp.around(truth, *_frame_size(video), zoom)  # one crop for every --frames choice
        except FileNotFoundError as exc:
            raise fail(str(exc)) from exc
        truth = closeup.truth(truth)
    if frames is not None:
        try:
            first, last = parse_frame_range(frames)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        truth = {f: t for f, t in truth.items() if first <= f <= last}
    if not truth:
        raise fail(f"{gt}: no ground-truth boxes" + (f" in frames {frames}" if frames else ""))
    detector_config = cam.detector if model is None else cam.detector.model_copy(update={"model": model})
    try:
        detector = create_detector(detector_config)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        raise fail(str(exc)) from exc
    cadence = DetectTrackCadence(detector, ByteTracker(cam.tracker), cam.detect_every)
    try:
        tracks, seconds, detect_frames = run_tracks(video, cadence, max(truth), view=None if closeup is None else closeup.frame)
    except FileNotFoundError as exc:
        raise fail(str(exc)) from exc
    frames_run = len(tracks)
    figures = {
        **score_tracks({f: t for f, t in truth.items() if f <= frames_run}, tracks),
        "fps": round(frames_run / seconds, 2) if seconds else None,
        "cpu": cpu_description(),  # the fps depends on it (edge/hardware.py)
        "frames_run": frames_run,
        "detect_frames": detect_frames,
        "scored_frames": [min(truth), max(truth)],
        "video": str(video), "gt": str(gt), "config": str(config), "camera": camera,
        "closeup": None if closeup is None else {"zoom": zoom, "crop_origin": list(closeup.origin)},
        "settings": {
            "detector": detector_config.model_dump(mode="json"),
            "detect_every": cam.detect_every,
            "tracker": cam.tracker.model_dump(mode="json"),
        },
    }
    figures.update(fitted_on_frames(video, sorted(truth), detector_config.model_files()))
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
    else:
        typer.echo(" ".join(f"{k}={figures[k]}" for k in ("frames", "mota", "idf1", "id_switches", "fp", "fn", "fps")))
