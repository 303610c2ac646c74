"""Scores air-touch on recorded traces (:mod:`.traces`): presses, pointing error and latency.

* A press is a true positive when it falls inside a ``push`` (from its first frame to 0.3 s after
  its last) that no earlier press matched; every other press (a second one in the same push, one
  during a ``dip`` or a hover) is a false positive. Recall: matched pushes / pushes.
* Pointing error: screen px between the smoothed cursor and the intended point, on every frame
  with a hand (``frames``), and between each true press and its button (``press``).
* Latency per frame: the pointer stage (map, filter, press) on the stored landmarks, and MediaPipe
  Hands on frames rebuilt from the trace (``detect``; ``detect_frames`` of them per trace).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge.usecases.airtouch.config import AirTouchConfig
from edge.usecases.airtouch.pointer import AirTouch
from edge.usecases.airtouch.traces import Anchor, load_traces, render_frame

LATE_S = 0.3  # a press may come this long after the push's last frame (filter lag)


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def score_trace(trace: dict[str, Any], config: AirTouchConfig | None = None) -> dict[str, Any]:
    """Replays one trace through :class:`AirTouch`; the counts and errors of that trace."""
    config = config or AirTouchConfig.model_validate(trace["config"])
    touch = AirTouch(config)
    fps = float(trace.get("fps", 30))
    pushes = [a for a in trace["actions"] if a["kind"] == "push"]
    matched: set[int] = set()
    tp = fp = 0
    frame_err: list[float] = []
    press_err: list[float] = []
    step_ms: list[float] = []
    found = 0
    for f in trace["frames"]:
        lms = None if f["landmarks"] is None else np.asarray(f["landmarks"], float)
        found += lms is not None
        t0 = time.perf_counter()
        events = touch.step(f["t"], lms)
        step_ms.append((time.perf_counter() - t0) * 1000)
        for e in events:
            if e.kind == "move":
                frame_err.append(math.dist((e.x, e.y), f["target"]))
            elif e.kind == "press":
                hit = next((i for i, a in enumerate(pushes) if i not in matched
                            and a["start"] / fps <= e.t <= a["end"] / fps + LATE_S), None)
                if hit is None:
                    fp += 1
                else:
                    matched.add(hit)
                    tp += 1
                    press_err.append(math.dist((e.x, e.y), pushes[hit]["target"]))
    return {"photo": trace.get("photo"), "frames": len(trace["frames"]), "hand_found": found, "pushes": len(pushes),
            "dips": sum(a["kind"] == "dip" for a in trace["actions"]), "true_presses": tp, "false_presses": fp,
            "frame_err": frame_err, "press_err": press_err, "step_ms": step_ms}


def detect_latency(trace: dict[str, Any], media: Path, frames: int) -> list[float]:
    """MediaPipe Hands (video mode) on the first ``frames`` frames rebuilt from the trace, ms each."""
    import cv2

    from edge.usecases.airtouch.detector import HandDetector

    photo = cv2.imread(str(media / trace["photo"]))
    if photo is None:
        raise FileNotFoundError(f"{media / trace['photo']}: the trace's photo is missing (see ../shared/data/MANIFEST.md)")
    anchor = Anchor(tuple(trace["anchor"]["tip"]), float(trace["anchor"]["size"]))
    size = tuple(trace["config"]["camera"])
    out = []
    with HandDetector(video=True) as det:
        for f in trace["frames"][:frames]:
            image = render_frame(photo, anchor, tuple(f["render"]), f["noise_seed"], size)
            t0 = time.perf_counter()
            det.detect(image)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def evaluate(folder: Path, media: Path | None = None, detect_frames: int = 0,
             config: AirTouchConfig | None = None) -> dict[str, Any]:
    """All traces in ``folder``; ``media`` and ``detect_frames > 0`` also time MediaPipe."""
    per, frame_err, press_err, step_ms, detect_ms = [], [], [], [], []
    for _path, trace in load_traces(folder):
        s = score_trace(trace, config)
        frame_err += s.pop("frame_err")
        press_err += s.pop("press_err")
        step_ms += s.pop("step_ms")
        if media is not None and detect_frames > 0:
            detect_ms += detect_latency(trace, media, detect_frames)
        per.append(s)
    tp, fp = sum(s["true_presses"] for s in per), sum(s["false_presses"] for s in per)
    pushes, frames = sum(s["pushes"] for s in per), sum(s["frames"] for s in per)
    return {
        "traces": len(per), "frames": frames, "hand_found_rate": round(sum(s["hand_found"] for s in per) / max(frames, 1), 4),
        "pushes": pushes, "dips": sum(s["dips"] for s in per), "true_presses": tp, "false_presses": fp,
        "press_precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "press_recall": round(tp / pushes, 4) if pushes else None,
        "pointing_error_px": {"median": _pct(frame_err, 50), "p95": _pct(frame_err, 95)},
        "press_error_px": {"median": _pct(press_err, 50), "p95": _pct(press_err, 95), "max": _pct(press_err, 100)},
        "latency_ms_per_frame": {
            "pointer_mean": round(float(np.mean(step_ms)), 4) if step_ms else None, "pointer_p95": _pct(step_ms, 95),
            "detect_mean": round(float(np.mean(detect_ms)), 2) if detect_ms else None, "detect_p95": _pct(detect_ms, 95),
            "detect_frames": len(detect_ms),
        },
        "per_trace": per,
    }
