"""``anshin eval ...``: commands that regenerate the evaluation figures in the model cards."""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from pathlib import Path
from typing import Literal

import typer

from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig, TilingConfig, UltralyticsDetectorConfig
from edge.eval.count import FrameCount, count_frames, load_truth, spread, summarize

eval_app = typer.Typer(help="Evaluate models on real annotated data; figures for the model cards.", no_args_is_help=True)


def _tiles(spec: str | None, overlap: float) -> TilingConfig | None:
    if spec is None:
        return None
    match = re.fullmatch(r"(\d+)x(\d+)", spec)
    if not match:
        raise typer.BadParameter(f"expected ROWSxCOLS such as 2x2, got {spec!r}", param_hint="--tiles")
    return TilingConfig(rows=int(match[1]), cols=int(match[2]), overlap=overlap)


@eval_app.command("count")
def count_command(
    images: Path = typer.Option(..., "--images", exists=True, file_okay=False, help="folder of frames"),
    truth_path: Path | None = typer.Option(None, "--truth", help="truth JSON (file -> {count, heads}); default IMAGES/truth.json"),
    detector: str = typer.Option("onnx", "--detector", help="backend: onnx | ultralytics"),
    model: str = typer.Option("yolov8n_int8.onnx", "--model", help="model file name in the models directory, or a path"),
    imgsz: int | None = typer.Option(None, "--imgsz", help="network input side in pixels; default: the model's own"),
    conf: float = typer.Option(0.25, "--conf", help="minimum person score"),
    iou: float = typer.Option(0.45, "--iou", help="NMS IoU threshold"),
    tiles: str | None = typer.Option(None, "--tiles", help="sliced inference, ROWSxCOLS (e.g. 2x2), plus the whole frame"),
    overlap: float = typer.Option(0.25, "--overlap", help="tile overlap, fraction of a tile's side"),
    threads: int | None = typer.Option(None, "--threads", help="intra-op threads; default: runtime's choice"),
    limit: int | None = typer.Option(None, "--limit", help="evaluate N frames evenly spread over the sorted file names"),
    per_frame: Path | None = typer.Option(None, "--per-frame", help="also write file,true,pred,ms rows to this CSV"),
    as_json: bool = typer.Option(False, "--json", help="print only the JSON result on stdout"),
) -> None:
    """Whole-frame person counts vs. annotated truth: MAE, RMSE, mean true/pred and ms per frame.

    Example: anshin eval count --images ../shared/data/media/mall_dev --limit 50
    Progress goes to stderr; the result (with the settings used) to stdout.
    """
    kind: Literal["onnx", "ultralytics"]
    if detector == "onnx":
        kind = "onnx"
    elif detector == "ultralytics":
        kind = "ultralytics"
    else:
        raise typer.BadParameter(f"expected onnx or ultralytics, got {detector!r}", param_hint="--detector")
    truth_file = truth_path or images / "truth.json"
    try:
        truth = load_truth(truth_file)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    files = spread(list(truth), limit)
    settings = dict(model=model, imgsz=imgsz, conf=conf, iou=iou, classes=[0], threads=threads, tiles=_tiles(tiles, overlap))
    config = OnnxDetectorConfig(**settings) if kind == "onnx" else UltralyticsDetectorConfig(**settings)
    try:
        det = create_detector(config)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    started = time.perf_counter()

    def progress(done: int, total: int, frame: FrameCount) -> None:
        if done == total or done % 10 == 0:
            rate = done / (time.perf_counter() - started)
            print(f"\r{done}/{total} frames ({rate:.1f}/s), last {frame.file}: true {frame.true} pred {frame.pred:g}",
                  end="\n" if done == total else "", file=sys.stderr, flush=True)

    frames = count_frames(det, images, truth, files, progress=progress)
    result = {
        **summarize(frames),
        "backend": kind,
        "model": det.model_name,
        "model_version": det.model_version,
        "imgsz": getattr(getattr(det, "inner", det), "imgsz", imgsz),
        "conf": conf,
        "iou": iou,
        "tiles": None if config.tiles is None else config.tiles.model_dump(),
        "images": str(images),
        "limit": limit,
    }
    if per_frame is not None:
        with per_frame.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["file", "true", "pred", "ms"])
            writer.writerows([f.file, f.true, f.pred, round(f.ms, 1)] for f in frames)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(json.dumps(result, indent=2))


# Use case A: mask classification (edge/eval/mask.py).
from edge.eval.mask import mask_command  # noqa: E402

eval_app.command("mask")(mask_command)
