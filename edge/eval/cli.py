"""``anshin eval ...``: commands that regenerate the evaluation figures in the model cards."""

from __future__ import annotations

import csv
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import typer

from edge.detectors.base import Detector
from edge.eval.calibration import CountCalibration, cross_validated, fit_linear, fit_report, smooth, write_fit_manifest
from edge.eval.count import CountMetrics, FrameCount, count_camera, count_frames, load_truth, spread, summarize
from edge.eval.options import build_detector, detector_config, detector_settings, fail

eval_app = typer.Typer(help="Evaluate models on real annotated data; figures for the model cards.", no_args_is_help=True)

# Shared options. Detector settings default to None so that an explicit value can be told apart
# from a default (``count --calibration`` takes its settings from the calibration file).
IMAGES = typer.Option(..., "--images", exists=True, file_okay=False, help="folder of frames")
TRUTH = typer.Option(None, "--truth", help="truth JSON (file -> {count, heads}); default IMAGES/truth.json")
DETECTOR = typer.Option("onnx", "--detector", help="backend: onnx | ultralytics")
MODEL = typer.Option(None, "--model", help="model file in the models directory, or a path (default: yolov8n_int8.onnx)")
IMGSZ = typer.Option(None, "--imgsz", help="network input side in pixels (default: the model's own)")
CONF = typer.Option(None, "--conf", help="minimum person score (default: 0.25)")
IOU = typer.Option(None, "--iou", help="NMS IoU threshold (default: 0.45)")
TILES = typer.Option(None, "--tiles", help="sliced inference ROWSxCOLS (e.g. 2x2) plus the whole frame")
OVERLAP = typer.Option(0.25, "--overlap", help="tile overlap, fraction of a tile's side")
THREADS = typer.Option(None, "--threads", help="intra-op threads (default: the runtime's choice)")
LIMIT = typer.Option(None, "--limit", help="use N frames evenly spread over the sorted file names")


def _truth(images: Path, truth_path: Path | None) -> dict[str, int]:
    try:
        return load_truth(truth_path or images / "truth.json")
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc


def _run(det: Detector, images: Path, truth: dict[str, int], files: Sequence[str], calibration: CountCalibration | None = None) -> list[FrameCount]:
    started = time.perf_counter()

    def progress(done: int, total: int, frame: FrameCount) -> None:
        if done == total or done % 10 == 0:
            rate = done / (time.perf_counter() - started)
            print(f"{done}/{total} frames ({rate:.1f}/s), last {frame.file}: true {frame.true} pred {frame.pred:.1f}",
                  file=sys.stderr, flush=True)

    calibrate = None
    if calibration is not None:  # frames in sequence order through the live counting rule (its smoothing too)
        from edge.usecases.occupancy.counting import PeopleCounter

        counter = PeopleCounter(calibration)
        calibrate = lambda detected: counter.count(int(detected)).people  # noqa: E731
    return count_frames(det, images, truth, files, calibrate=calibrate, progress=progress)


def _write_per_frame(path: Path, frames: Sequence[FrameCount]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "true", "detected", "pred", "ms"])
        writer.writerows([f.file, f.true, f.detected, round(f.pred, 3), round(f.ms, 1)] for f in frames)


@eval_app.command("count")
def count_command(
    images: Path = IMAGES,
    truth_path: Path | None = TRUTH,
    detector: str = DETECTOR,
    model: str | None = MODEL,
    imgsz: int | None = IMGSZ,
    conf: float | None = CONF,
    iou: float | None = IOU,
    tiles: str | None = TILES,
    overlap: float = OVERLAP,
    threads: int | None = THREADS,
    calibration_path: Path | None = typer.Option(
        None, "--calibration", help="count calibration JSON (from `anshin eval fit-count`); its detector settings are used"),
    limit: int | None = LIMIT,
    per_frame: Path | None = typer.Option(None, "--per-frame", help="also write file,true,detected,pred,ms rows to this CSV"),
    as_json: bool = typer.Option(False, "--json", help="print the result as one JSON line"),
    store_config: Path | None = typer.Option(
        None, "--config", help="store config: count exactly as this store's --camera does live (detector, tracker, calibration)"),
    camera: str | None = typer.Option(None, "--camera", help="camera id in --config"),
) -> None:
    """Whole-frame person counts vs. annotated truth: MAE, RMSE, mean true/pred and ms per frame.

    Example: anshin eval count --images ../shared/data/media/mall_dev --limit 50
    Example: anshin eval count --config config/demo-store.yaml --camera mall --images ../shared/data/media/mall_dev
    Progress goes to stderr; the result (with the settings used) to stdout as JSON.
    """
    if store_config is not None or camera is not None:
        given = [name for name, value in (("--model", model), ("--imgsz", imgsz), ("--conf", conf), ("--iou", iou),
                                          ("--tiles", tiles), ("--calibration", calibration_path)) if value is not None]
        if store_config is None or camera is None:
            raise fail("--config and --camera go together")
        if given:
            raise fail(f"--config takes the camera's own settings; drop {', '.join(given)}")
        _count_camera(store_config, camera, images, truth_path, threads, limit, per_frame, as_json)
        return
    calibration = None
    if calibration_path is not None:
        given = [name for name, value in (("--model", model), ("--imgsz", imgsz), ("--conf", conf), ("--iou", iou), ("--tiles", tiles)) if value is not None]
        if given:
            raise fail(f"--calibration fixes the detector settings; drop {', '.join(given)}")
        try:
            calibration = CountCalibration.load(calibration_path)
        except (FileNotFoundError, ValueError) as exc:
            raise fail(str(exc)) from exc
        config = calibration.detector.model_copy(update={"threads": threads})
    else:
        config = detector_config(detector, model, imgsz, conf, iou, tiles, overlap, threads)
    truth = _truth(images, truth_path)
    det = build_detector(config)
    if calibration is not None and det.model_version != calibration.model_version:
        raise fail(f"calibration {calibration_path} was fitted with model version {calibration.model_version}, "
                    f"but {det.model_name} is {det.model_version}")
    frames = _run(det, images, truth, spread(list(truth), limit), calibration)
    result = {
        **summarize(frames),
        **detector_settings(config, det),
        "calibration": None if calibration_path is None else str(calibration_path),
        "images": str(images),
        "limit": limit,
    }
    result.update(fit_report(calibration_path, [images / f.file for f in frames]))  # in-sample? say so
    if per_frame is not None:
        _write_per_frame(per_frame, frames)
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))


def _count_camera(store_config: Path, camera_id: str, images: Path, truth_path: Path | None, threads: int | None,
                  limit: int | None, per_frame: Path | None, as_json: bool) -> None:
    """``count --config``: the camera's detector and tracker, and its occupancy analyzer's counter."""
    from edge.config import ConfigError, load_store_config
    from edge.tracking import ByteTracker
    from edge.tracking.cadence import DetectTrackCadence
    from edge.usecases.occupancy import OccupancyAnalyzerConfig
    from edge.usecases.occupancy.counting import PeopleCounter

    try:
        cam = load_store_config(store_config).camera(camera_id)
    except (ConfigError, KeyError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    counts = [a.count for a in cam.analyzers if isinstance(a, OccupancyAnalyzerConfig)]
    count = counts[0] if counts else None
    counter = PeopleCounter.from_file(None if count is None else count.calibration, None if count is None else count.valid_detected)
    config = cam.detector if threads is None else cam.detector.model_copy(update={"threads": threads})
    truth = _truth(images, truth_path)
    det = build_detector(config)
    # Every evaluated frame is a detect frame (truth is per frame); frames go through the camera's
    # tracker in file order, as a live camera's frames do, and the analyzer counts the tracks.
    cadence = DetectTrackCadence(det, ByteTracker(cam.tracker), detect_every=1)
    started = time.perf_counter()

    def progress(done: int, total: int, frame: FrameCount) -> None:
        if done == total or done % 10 == 0:
            print(f"{done}/{total} frames ({done / (time.perf_counter() - started):.1f}/s), last {frame.file}: "
                  f"true {frame.true} pred {frame.pred:.1f}", file=sys.stderr, flush=True)

    result = count_camera(lambda image: cadence.step(image).tracks, counter, det.model_version, images, truth,
                          spread(list(truth), limit), progress)
    frames = result.frames
    out = {
        **summarize(frames),
        "counts_per_s": round(len(frames) / result.seconds, 2),
        "calibrated_frames": sum(result.calibrated),
        **detector_settings(config, det),
        "config": str(store_config), "camera": camera_id,
        "calibration": None if count is None else str(count.calibration),
        "valid_detected": None if count is None else list(count.valid_detected),
        "images": str(images), "limit": limit,
        **fit_report(None if count is None else count.calibration, [images / f.file for f in frames]),  # in-sample? say so
    }
    if per_frame is not None:
        _write_per_frame(per_frame, frames)
    typer.echo(json.dumps(out) if as_json else json.dumps(out, indent=2))


@eval_app.command("fit-count")
def fit_count_command(
    images: Path = IMAGES,
    out: Path = typer.Option(..., "--out", "-o", help="calibration JSON to write (e.g. models/calibration/<camera>.json)"),
    truth_path: Path | None = TRUTH,
    detector: str = DETECTOR,
    model: str | None = MODEL,
    imgsz: int | None = IMGSZ,
    conf: float | None = CONF,
    iou: float | None = IOU,
    tiles: str | None = TILES,
    overlap: float = OVERLAP,
    threads: int | None = THREADS,
    blocks: int = typer.Option(10, "--blocks", help="cross-validation folds: contiguous blocks of the frame sequence"),
    limit: int | None = LIMIT,
    per_frame: Path | None = typer.Option(None, "--per-frame", help="also write per-frame CSV (pred = cross-validated)"),
    smoothing: float = typer.Option(1.0, "--smoothing", min=0.01, max=1.0,
                                    help="weight of the current frame in an exponential average of the box count "
                                    "over the frames, in file order, fitted with the line (1: none)"),
) -> None:
    """Fit a linear count calibration (true ≈ a + b × detected) for one camera and detector setting.

    Prints the blocked cross-validated MAE (each block of consecutive frames predicted by a fit
    that never saw it: the honest figure) and the in-sample MAE, then writes the fit on all frames.

    Example: anshin eval fit-count --images ../shared/data/media/mall_dev --tiles 2x2 -o models/calibration/mall.json
    """
    config = detector_config(detector, model, imgsz, conf, iou, tiles, overlap, threads)
    truth = _truth(images, truth_path)
    det = build_detector(config)
    frames = _run(det, images, truth, spread(list(truth), limit))  # sorted names = sequence order
    detected = smooth([float(f.detected) for f in frames], smoothing).tolist()
    true = [float(f.true) for f in frames]
    try:
        intercept, slope = fit_linear(detected, true)
        cv_pred = cross_validated(detected, true, blocks)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if slope <= 0:
        raise fail(f"fitted slope {slope} is not positive: detections do not track the true count here")
    cv = CountMetrics.of(true, cv_pred)
    fit = CountMetrics.of(true, [max(0.0, intercept + slope * d) for d in detected])
    argv = ["anshin", "eval", "fit-count", "--images", str(images), "--detector", config.type, "--model", config.model,
            "--conf", str(config.conf), "--iou", str(config.iou), "--blocks", str(blocks), "--out", str(out)]
    argv += ["--imgsz", str(config.imgsz)] if config.imgsz is not None else []
    argv += ["--tiles", tiles, "--overlap", str(overlap)] if tiles is not None else []
    argv += ["--truth", str(truth_path)] if truth_path is not None else []
    argv += ["--limit", str(limit)] if limit is not None else []
    argv += ["--smoothing", str(smoothing)] if smoothing != 1.0 else []
    calibration = CountCalibration(
        intercept=intercept, slope=slope, smoothing=smoothing, detector=config.model_copy(update={"threads": None}),
        model_version=det.model_version, fitted_on=f"{images.name} ({len(frames)} frames)", frames=len(frames),
        cv_blocks=blocks, cv_mae=round(cv.mae, 3), cv_rmse=round(cv.rmse, 3), fit_mae=round(fit.mae, 3),
        command=shlex.join(argv),
    )
    calibration.save(out)
    write_fit_manifest(out, [images / f.file for f in frames], calibration)  # eval count flags these frames
    if per_frame is not None:
        _write_per_frame(per_frame, [FrameCount(f.file, f.true, f.detected, float(p), f.ms) for f, p in zip(frames, cv_pred)])
    summary = summarize(frames)
    typer.echo(json.dumps({
        "frames": len(frames), "intercept": intercept, "slope": slope, "smoothing": smoothing,
        "cv_blocks": blocks, "cv_mae": round(cv.mae, 3), "cv_rmse": round(cv.rmse, 3), "fit_mae": round(fit.mae, 3),
        "uncalibrated_mae": summary["mae"], "mean_detected": summary["mean_detected"], "mean_true": summary["mean_true"],
        "ms_per_frame": summary["ms_per_frame"], **detector_settings(config, det), "out": str(out),
    }, indent=2))


# Use case A: mask classification (edge/eval/mask.py).
from edge.eval.mask import mask_command  # noqa: E402

eval_app.command("mask")(mask_command)

# Detection sanity on real annotated photos (edge/eval/detect.py).
from edge.eval.detect import detect_command  # noqa: E402

eval_app.command("detect")(detect_command)
# `anshin eval faces` is mounted by anshin/cli.py from edge/usecases/checkout/evaluate.py: with --pairs it
# measures face verification (use case E), without it it runs this YuNet check (faces_command).

# Tracking quality of what a camera runs live (edge/eval/track.py).
from edge.eval.track import track_command  # noqa: E402

eval_app.command("track")(track_command)

# Thermal correction on simulated visitors with hidden effects (edge/eval/thermal.py).
from edge.eval.thermal import thermal_command  # noqa: E402

eval_app.command("thermal")(thermal_command)
