"""``anshin eval lines``: line counts of what a camera runs live, against ground-truth tracks.

Both sides go through the same :class:`~edge.usecases.lines.counter.LineCounter` (feet anchors,
same hysteresis margin): the ground-truth tracks (MOTChallenge 2D text, every box including
``flag`` 0 ones, which are real but occluded people) give ``in_true``/``out_true``; the camera's
own detector, tracker and detection cadence, run over the same frames with
:func:`edge.eval.track.run_tracks` (the runner of ``anshin eval track``), give
``in_pred``/``out_pred``. The error is

    relative_error = (|in_pred - in_true| + |out_pred - out_true|) / (in_true + out_true)

over all the lines given (a count off by one in each direction on 10 true crossings is 0.2).
It compares totals, so a missed crossing and a spurious one cancel; ``matched`` counts the true
crossings that a predicted one of the same direction answers within ``--tolerance`` frames.

>>> truth = parse_mot(["1,1,80,10,10,40,1", "2,1,60,10,10,40,1", "3,1,40,10,10,40,1",
...                    "1,2,40,10,10,40,1", "2,2,60,10,10,40,1", "3,2,80,10,10,40,1"])
>>> line = Line((60.0, 0.0), (60.0, 100.0))
>>> counts = crossings_of(truth_tracks(truth), line, margin_px=5.0)
>>> counts.in_count, counts.out_count, counts.events
(1, 1, [(2, 'out'), (3, 'in')])
>>> relative_error(in_true=10, out_true=10, in_pred=11, out_pred=9)
0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import typer

from edge.eval.track import DEFAULT_CAMERA, DEFAULT_GT, FrameTruth, fitted_on_frames, load_mot, parse_mot, run_tracks
from edge.geometry import Anchor, anchor_points
from edge.usecases.lines.analyzer import pixel_line
from edge.usecases.lines.config import LinesAnalyzerConfig
from edge.usecases.lines.counter import Line, LineCounter

__all__ = ["crossings_of", "lines_command", "parse_line", "parse_mot", "relative_error", "truth_tracks"]

#: frame → (track ids (n,), xyxy (n, 4) pixels)
Tracks = Mapping[int, tuple[np.ndarray, np.ndarray]]


@dataclass
class LineCounts:
    in_count: int = 0
    out_count: int = 0
    events: list[tuple[int, str]] = field(default_factory=list)  # (frame, "in" | "out")


def truth_tracks(truth: Mapping[int, FrameTruth]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Ground truth as per-frame tracks (ignored boxes included: they are real, occluded people)."""
    return {frame: (t.ids, t.xyxy) for frame, t in truth.items()}


def crossings_of(tracks: Tracks, line: Line, margin_px: float, forget_after: int = 100, rejoin_px: float = 0.0) -> LineCounts:
    """Every crossing of ``line`` by ``tracks`` (frames in order; a frame missing from ``tracks`` has none)."""
    counter = LineCounter(line, margin_px, forget_after, rejoin_px)
    out = LineCounts()
    empty = (np.zeros(0, np.int64), np.zeros((0, 4)))
    for frame in range(min(tracks, default=1), max(tracks, default=0) + 1):
        ids, xyxy = tracks.get(frame, empty)
        crossed = counter.update(ids, anchor_points(xyxy, Anchor.BOTTOM_CENTER))
        out.events += [(frame, "in")] * len(crossed.in_ids) + [(frame, "out")] * len(crossed.out_ids)
    out.in_count, out.out_count = counter.totals
    return out


def relative_error(in_true: int, out_true: int, in_pred: int, out_pred: int) -> float | None:
    """(|in_pred − in_true| + |out_pred − out_true|) / (in_true + out_true); None without true crossings."""
    total = in_true + out_true
    if total == 0:
        return None
    return round((abs(in_pred - in_true) + abs(out_pred - out_true)) / total, 4)


def matched(true_events: list[tuple[int, str]], pred_events: list[tuple[int, str]], tolerance: int) -> int:
    """True crossings answered by a predicted one of the same direction within ``tolerance`` frames (greedy, one-to-one).

    >>> matched([(10, "in"), (50, "out")], [(12, "in"), (49, "in")], tolerance=5)
    1
    """
    used: set[int] = set()
    hits = 0
    for frame, direction in true_events:
        best = min(((abs(f - frame), k) for k, (f, d) in enumerate(pred_events)
                    if d == direction and k not in used and abs(f - frame) <= tolerance), default=None)
        if best is not None:
            used.add(best[1])
            hits += 1
    return hits


def parse_line(text: str) -> Line:
    """``x1,y1,x2,y2`` in pixels → a :class:`Line`.

    >>> parse_line("240,60,240,330")
    Line(start=(240.0, 60.0), end=(240.0, 330.0))
    """
    try:
        x1, y1, x2, y2 = (float(v) for v in text.split(","))
        return Line((x1, y1), (x2, y2))
    except ValueError as exc:
        raise typer.BadParameter(f"expected x1,y1,x2,y2 in pixels with two different points, got {text!r} ({exc})",
                                 param_hint="--line") from None


def score_lines(truth: Tracks, pred: Tracks, lines: list[Line], margin_px: float, tolerance: int,
                forget_after: int = 100, rejoin_px: float = 0.0) -> dict[str, object]:
    """The figures of ``anshin eval lines`` for ``lines`` (totals over them, and each line's own).

    The truth's ids never switch, so only the prediction gets ``rejoin_px``."""
    per_line = []
    for line in lines:
        t = crossings_of(truth, line, margin_px, forget_after)
        p = crossings_of(pred, line, margin_px, forget_after, rejoin_px)
        per_line.append({
            "line": [*line.start, *line.end], "in_true": t.in_count, "out_true": t.out_count,
            "in_pred": p.in_count, "out_pred": p.out_count,
            "relative_error": relative_error(t.in_count, t.out_count, p.in_count, p.out_count),
            "matched": matched(t.events, p.events, tolerance),
        })
    sums = {k: sum(int(row[k]) for row in per_line) for k in ("in_true", "out_true", "in_pred", "out_pred", "matched")}  # type: ignore[call-overload]
    return {**sums, "relative_error": relative_error(sums["in_true"], sums["out_true"], sums["in_pred"], sums["out_pred"]),
            "lines": per_line}


def lines_command(
    line: list[str] = typer.Option(
        None, "--line", help="x1,y1,x2,y2 in pixels; in = crossing to the right-hand side walking start → end; repeatable. "
                             "Default: the lines of the camera's own lines analyzer"),
    video: Path | None = typer.Option(None, "--video", help="video file; default: the camera's own file source"),
    gt: Path | None = typer.Option(None, "--gt", help=f"MOTChallenge ground truth; default: MEDIA/{DEFAULT_GT}"),
    config: Path = typer.Option(None, "--config", help="store config whose camera settings to run; default: config/demo-store.yaml"),
    camera: str = typer.Option(DEFAULT_CAMERA, "--camera", help="camera id in that config"),
    hysteresis: float | None = typer.Option(
        None, "--hysteresis", min=0.0, max=0.5,
        help="margin past the line before a side counts, fraction of the frame height; default: the camera's lines analyzer's"),
    rejoin: float | None = typer.Option(
        None, "--rejoin", min=0.0, max=1.0,
        help="a new track this close to a lost one continues it, fraction of the frame height; default: the camera's"),
    forget_after: int | None = typer.Option(None, "--forget-after", min=1, help="frames a lost track is remembered; default: the camera's"),
    tolerance: int = typer.Option(10, "--tolerance", min=0, help="frames a predicted crossing may be off to match a true one"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Line counts (in/out) of what a camera runs live against ground-truth tracks.

    Example: anshin eval lines --json   (the demo's PETS camera, its own lines and settings, on frames
    1-400 of its video: the frames the ground truth covers). Settings the camera's config has no lines
    analyzer for are the analyzer's defaults.
    """
    import json

    import cv2

    from edge.config import ConfigError, load_store_config
    from edge.detectors import create_detector
    from edge.eval.options import fail
    from edge.paths import PROJECT_ROOT, media_dir
    from edge.tracking import ByteTracker
    from edge.tracking.cadence import DetectTrackCadence

    config = config or PROJECT_ROOT / "config" / "demo-store.yaml"
    try:
        cam = load_store_config(config).camera(camera)
    except (ConfigError, KeyError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    live = next((a for a in cam.analyzers if isinstance(a, LinesAnalyzerConfig)), None)
    settings = live or LinesAnalyzerConfig(lines={"unused": {"start": [0, 0], "end": [1, 1]}})
    hysteresis = settings.hysteresis if hysteresis is None else hysteresis
    rejoin = settings.rejoin if rejoin is None else rejoin
    forget_after = settings.forget_after_frames if forget_after is None else forget_after
    video = video or (Path(str(cam.source)) if cam.source_kind == "file" else None)
    if video is None:
        raise fail(f"camera {camera!r} reads a live source; give --video FILE")
    gt = gt or media_dir() / DEFAULT_GT
    try:
        truth = load_mot(gt)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(f"{gt}: {exc}") from exc
    if not truth:
        raise fail(f"{gt}: no ground-truth boxes")
    capture = cv2.VideoCapture(str(video))
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    if height <= 0:
        raise fail(f"cannot open video {video}")
    if line:
        lines = [parse_line(text) for text in line]
    elif live is not None:
        lines = [pixel_line(cfg, (width, height)) for cfg in live.lines.values()]
    else:
        raise fail(f"camera {camera!r} has no lines analyzer; give --line x1,y1,x2,y2")
    try:
        detector = create_detector(cam.detector)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        raise fail(str(exc)) from exc
    cadence = DetectTrackCadence(detector, ByteTracker(cam.tracker), cam.detect_every)
    pred, seconds, _ = run_tracks(video, cadence, max(truth))
    frames = len(pred)
    margin, rejoin_px = hysteresis * height, rejoin * height
    figures = {
        **score_lines({f: t for f, t in truth_tracks(truth).items() if f <= frames}, pred, lines, margin, tolerance,
                      forget_after, rejoin_px),
        "frames": frames, "first_frame": min(truth), "last_frame": min(max(truth), frames),
        "definition": "relative_error = (|in_pred-in_true| + |out_pred-out_true|) / (in_true + out_true), summed over the lines",
        "lines_from": "--line" if line else f"the {camera} camera's lines analyzer",
        "margin_px": round(margin, 2), "rejoin_px": round(rejoin_px, 2), "forget_after": forget_after,
        "tolerance_frames": tolerance,
        "tuned_on_these_frames": "the rejoin radius was chosen on these frames (the only ground truth there is)",
        "fps": round(frames / seconds, 2) if seconds else None,
        "video": str(video), "gt": str(gt), "config": str(config), "camera": camera,
        "settings": {"detector": cam.detector.model_dump(mode="json"), "detect_every": cam.detect_every,
                     "tracker": cam.tracker.model_dump(mode="json")},
    }
    figures.update(fitted_on_frames(video, list(range(figures["first_frame"], figures["last_frame"] + 1)),
                                    cam.detector.model_files()))
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
    else:
        typer.echo(" ".join(f"{k}={figures[k]}" for k in ("in_true", "out_true", "in_pred", "out_pred", "relative_error")))
