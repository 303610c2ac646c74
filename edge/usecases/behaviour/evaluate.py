"""``anshin eval predict``: how well H's movement model predicts where a track will be.

On MOTChallenge ground-truth tracks, at every frame of every track (after ``warmup`` frames of
it), the constant-velocity Kalman filter (:mod:`edge.usecases.behaviour.predict`) that has seen
the track so far predicts its foot point (bottom centre of the box) ``1 … H`` frames ahead; the
truth at those frames scores it. A sample counts only where the truth has the track at every
one of those frames. The baseline is constant position: the person stays where last seen.

* ADE: mean over samples of the mean distance over steps ``1 … H``; FDE: mean distance at step H.
* Pixels of the ground truth's frame. No floor calibration is used, so no metres.

>>> truth = {f: FrameTruth(np.array([1]), np.array([[10.0 + 2 * f, 50, 20.0 + 2 * f, 90]]), np.array([False]))
...          for f in range(1, 41)}
>>> out = evaluate_prediction(truth, fps=10, horizons_s=(1.0,))
>>> h = out["horizons"][0]
>>> out["tracks"], h["samples"], h["baseline_fde_px"], h["fde_px"] < 1.0
(1, 28, 20.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer

from edge.eval.track import FrameTruth, load_mot
from edge.usecases.behaviour.predict import ConstantVelocity

DEFAULT_GT = "pets2009_gt/gt_480x360_frames0001-0400.txt"


def _tracks(truth: Mapping[int, FrameTruth]) -> dict[int, dict[int, np.ndarray]]:
    """Track id → frame → foot point (bottom centre of the box)."""
    out: dict[int, dict[int, np.ndarray]] = {}
    for frame, boxes in truth.items():
        for ident, box in zip(boxes.ids, boxes.xyxy, strict=True):
            out.setdefault(int(ident), {})[frame] = np.array([(box[0] + box[2]) / 2, box[3]], np.float64)
    return out


def evaluate_prediction(
    truth: Mapping[int, FrameTruth], fps: float, horizons_s: Sequence[float], *, accel_std: float = 20.0,
    meas_std: float = 3.0, warmup: int = 3,
) -> dict[str, Any]:
    """ADE/FDE of the Kalman prediction and of the constant-position baseline per horizon (see module doc)."""
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    steps_of = {h: max(1, int(round(h * fps))) for h in horizons_s}
    errors: dict[float, dict[str, list[float]]] = {h: {"ade": [], "fde": [], "b_ade": [], "b_fde": []} for h in horizons_s}
    tracks = _tracks(truth)
    for points in tracks.values():
        frames = sorted(points)
        kf = ConstantVelocity(accel_std, meas_std)
        for frame in frames:
            kf.update((frame - 1) / fps, tuple(points[frame]))
            if kf.updates < warmup:
                continue
            for h, steps in steps_of.items():
                future = [frame + k for k in range(1, steps + 1)]
                if not all(f in points for f in future):
                    continue
                real = np.stack([points[f] for f in future])
                predicted = kf.path_ahead(steps / fps, 1 / fps)[:steps]
                d = np.linalg.norm(predicted - real, axis=1)
                b = np.linalg.norm(real - points[frame], axis=1)
                e = errors[h]
                e["ade"].append(float(d.mean()))
                e["fde"].append(float(d[-1]))
                e["b_ade"].append(float(b.mean()))
                e["b_fde"].append(float(b[-1]))

    def mean(values: list[float]) -> float | None:
        return round(float(np.mean(values)), 3) if values else None

    horizons = []
    for h in horizons_s:
        e = errors[h]
        fde, b_fde = mean(e["fde"]), mean(e["b_fde"])
        horizons.append({
            "horizon_s": h, "steps": steps_of[h], "samples": len(e["fde"]),
            "ade_px": mean(e["ade"]), "fde_px": fde,
            "baseline_ade_px": mean(e["b_ade"]), "baseline_fde_px": b_fde,
            "fde_reduction": round(1 - fde / b_fde, 4) if fde is not None and b_fde else None,
            "ade_m": None, "fde_m": None,  # metres need a floor calibration; none is used here
        })
    return {"tracks": len(tracks), "fps": fps, "horizons": horizons,
            "settings": {"model": "kalman_constant_velocity", "accel_std_px_s2": accel_std, "meas_std_px": meas_std,
                         "warmup_frames": warmup, "point": "bottom centre of the box (feet)"}}


def predict_command(
    gt: Path | None = typer.Option(None, "--gt", help=f"MOTChallenge ground truth; default: MEDIA/{DEFAULT_GT}"),
    fps: float = typer.Option(10.0, "--fps", help="frames per second of the annotated video"),
    horizon_s: str = typer.Option("1,2", "--horizon-s", help="comma-separated prediction horizons in seconds"),
    accel_std: float = typer.Option(20.0, "--accel-std", help="movement model: velocity change (px/s²)"),
    meas_std: float = typer.Option(3.0, "--meas-std", help="movement model: foot point noise (px)"),
    warmup: int = typer.Option(3, "--warmup", min=1, help="frames a track must have been seen before it is scored"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Short-horizon movement prediction (use case H) against a constant-position baseline.

    Example: anshin eval predict --gt media/pets2009_gt/gt_480x360_frames0001-0400.txt --fps 10 --horizon-s 1,2 --json
    """
    import json

    from edge.eval.options import fail
    from edge.paths import media_dir

    try:
        horizons = tuple(float(v) for v in horizon_s.split(",") if v.strip())
    except ValueError:
        raise fail(f"--horizon-s: expected numbers like 1,2; got {horizon_s!r}") from None
    if not horizons or any(h <= 0 for h in horizons):
        raise fail(f"--horizon-s: give one or more horizons > 0 s; got {horizon_s!r}")
    if fps <= 0:
        raise fail(f"--fps must be > 0, got {fps}")
    path = gt or media_dir() / DEFAULT_GT
    try:
        truth = load_mot(path)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(f"{path}: {exc}") from exc
    if not truth:
        raise fail(f"{path}: no ground-truth boxes")
    figures = evaluate_prediction(truth, fps, horizons, accel_std=accel_std, meas_std=meas_std, warmup=warmup)
    figures.update(gt=str(path), frames=[min(truth), max(truth)],
                   tuned_on_this_data=False,
                   note=("movement model settings are the product defaults, chosen from walking speeds before "
                         "looking at this file; pixels of the ground truth's frame, no floor metres"))
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
    else:
        for h in figures["horizons"]:
            typer.echo(f"{h['horizon_s']} s: ADE {h['ade_px']} px (baseline {h['baseline_ade_px']}), "
                       f"FDE {h['fde_px']} px (baseline {h['baseline_fde_px']}), samples {h['samples']}")


# ---------------------------------------------------------------------------- eval behaviour

DEFAULT_CLIPS = "shoplifting_mnnit_dev"
DEFAULT_SCENE = Path(__file__).parent / "scenes" / "mnnit_room.yaml"
SMOKE_NOTE = ("smoke test on one staged room (a handful of clips labelled as a whole), not a benchmark: "
              "the rules look at where anonymous tracks go, not at what hands do, so they are not expected "
              "to tell shoplifting from handling")


def load_scene(path: Path) -> Any:
    """The scene YAML (zones, detector, tracker, behaviour analyzer) as its typed model."""
    import yaml

    from edge.config import ZoneConfig
    from edge.detectors.config import OnnxDetectorConfig
    from edge.tracking.config import TrackerConfig
    from edge.usecases.behaviour.config import BehaviourAnalyzerConfig
    from services.contract.events import Identifier
    from services.shared.strict import Strict

    class Scene(Strict):
        description: str = ""
        stride: int = 1
        zones: dict[Identifier, ZoneConfig]
        detector: OnnxDetectorConfig = OnnxDetectorConfig()
        tracker: TrackerConfig = TrackerConfig()
        analyzer: BehaviourAnalyzerConfig

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileNotFoundError(f"cannot read scene {path}: {exc.strerror}") from None
    return Scene.model_validate(data)


def run_clip(video: Path, scene: Any, detector: Any) -> dict[str, Any]:
    """Detect, track and run the scene's behaviour rules over one clip; the notices it gave."""
    from datetime import datetime, timedelta, timezone

    import cv2

    from edge.tracking import ByteTracker
    from edge.tracking.cadence import DetectTrackCadence
    from edge.usecases.base import FrameContext
    from edge.usecases.behaviour.analyzer import BehaviourAnalyzer

    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot open video {video}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    analyzer = BehaviourAnalyzer(scene.analyzer, scene.zones)
    cadence = DetectTrackCadence(detector, ByteTracker(scene.tracker), 1)
    origin = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    notices: list[dict[str, Any]] = []
    index = processed = 0
    try:
        while True:
            ok, image = cap.read()
            if not ok:
                break
            if index % scene.stride == 0:
                tracks = cadence.step(image).tracks
                h, w = image.shape[:2]
                ctx = FrameContext("eval", "clip", origin + timedelta(seconds=index / fps), (w, h), frame=image)
                notices += [{"rule": e.explanation.rule, "type": e.type, "at_s": round(index / fps, 2),
                             "summary": e.explanation.summary} for e in analyzer.update(tracks, ctx)]
                processed += 1
            index += 1
    finally:
        cap.release()
    return {"frames": index, "frames_processed": processed, "notices": notices}


def evaluate_clips(clips: Path, scene: Any, detector: Any) -> dict[str, Any]:
    """Per labelled clip (``labels.csv``: file,label with label normal|shoplifting): did any notice fire, which rules."""
    import csv

    labels_path = clips / "labels.csv"
    try:
        rows = list(csv.DictReader(labels_path.read_text(encoding="utf-8").splitlines()))
    except OSError as exc:
        raise FileNotFoundError(f"cannot read {labels_path}: {exc.strerror}") from None
    per_clip = []
    for row in rows:
        label = (row.get("label") or "").strip()
        if label not in ("normal", "shoplifting") or not row.get("file"):
            raise ValueError(f"{labels_path}: each row needs file and label normal|shoplifting, got {row}")
        result = run_clip(clips / row["file"], scene, detector)
        per_clip.append({"file": row["file"], "label": label, "fired": bool(result["notices"]),
                         "rules": sorted({n["rule"] for n in result["notices"]}), **result})
    normal = [c for c in per_clip if c["label"] == "normal"]
    theft = [c for c in per_clip if c["label"] == "shoplifting"]
    return {
        "smoke_test": True, "note": SMOKE_NOTE,
        "clips": len(per_clip), "normal_clips": len(normal), "shoplifting_clips": len(theft),
        "false_alarms_per_normal_clip": round(sum(len(c["notices"]) for c in normal) / len(normal), 3) if normal else None,
        "normal_clips_with_a_notice": sum(c["fired"] for c in normal),
        "recall_shoplifting": round(sum(c["fired"] for c in theft) / len(theft), 3) if theft else None,
        "per_clip": per_clip,
    }


def behaviour_command(
    clips: Path | None = typer.Option(None, "--clips", help=f"folder with labels.csv and the clips; default: MEDIA/{DEFAULT_CLIPS}"),
    scene: Path = typer.Option(DEFAULT_SCENE, "--scene", help="zones, detector, tracker and rules for these clips (YAML)"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Use case H's rules on labelled clips: per clip, whether any notice fired and which rule (a smoke test).

    Example: anshin eval behaviour --clips ../shared/data/media/shoplifting_mnnit_dev --json
    """
    import json

    from edge.detectors import create_detector
    from edge.eval.options import fail
    from edge.paths import media_dir

    clips = clips or media_dir() / DEFAULT_CLIPS
    try:
        spec = load_scene(scene)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(f"{scene}: {exc}") from exc
    try:
        detector = create_detector(spec.detector)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        raise fail(str(exc)) from exc
    try:
        figures = evaluate_clips(clips, spec, detector)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc
    figures.update(clips_dir=str(clips), scene=str(scene), tuned_on_this_data=False,
                   settings={"detector": spec.detector.model_dump(mode="json"), "stride": spec.stride,
                             "rules": [r.model_dump(mode="json") for r in spec.analyzer.rules]},
                   how_set=("the zone was drawn from two frames of these clips; the rule thresholds were fixed "
                            "before the first run"))
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
    else:
        typer.echo(SMOKE_NOTE)
        for c in figures["per_clip"]:
            typer.echo(f"{c['label']:12s} {c['file']}: {', '.join(c['rules']) or 'no notice'}")
