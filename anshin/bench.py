"""``anshin bench``: commands that print speed figures as JSON (never asserted by timed tests).

``bench edge`` runs the real edge pipeline (source → detect → track → analyze → outbox, with the
publisher posting to an in-process central) on one camera and reports throughput, per-frame
latency and where the time goes, for each detector backend side by side.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from edge.paths import PROJECT_ROOT

bench_app = typer.Typer(help="Speed benchmarks that print JSON figures.", no_args_is_help=True)

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "demo-store.yaml"
#: Stages on the camera thread, in pipeline order; "publish" runs in the publisher thread.
FRAME_STAGES = ("decode", "detect", "track", "analyze", "outbox")
INFERENCE = "detect"


def stage_figures(timings: dict[str, dict[str, float]], frames: int) -> dict[str, Any]:
    """Per-stage milliseconds per frame, and the share of camera-thread time outside inference.

    >>> t = {"decode": {"total_s": 0.5}, "detect": {"total_s": 8.0}, "track": {"total_s": 0.2},
    ...      "analyze": {"total_s": 0.2}, "outbox": {"total_s": 0.1}, "publish": {"total_s": 0.3}}
    >>> f = stage_figures(t, frames=100)
    >>> f["stages"]["detect"], f["stages"]["publish"], f["non_inference_share"]
    (80.0, 3.0, 0.111)
    """
    per_frame = {s: round(1000 * timings.get(s, {}).get("total_s", 0.0) / max(frames, 1), 3) for s in (*FRAME_STAGES, "publish")}
    camera_thread = sum(per_frame[s] for s in FRAME_STAGES)
    outside = camera_thread - per_frame[INFERENCE]
    return {
        "stages": per_frame,
        "non_inference_share": round(outside / camera_thread, 3) if camera_thread else 0.0,
    }


def bench_one(store, camera_id: str, frames: int, warmup: int) -> dict[str, Any]:  # noqa: ANN001 - StoreConfig
    """Run the real worker for ``warmup`` + ``frames`` frames; figures cover the last ``frames``."""
    from edge.worker import EdgeWorker

    with EdgeWorker(store, camera_id, drain_timeout_s=30.0) as worker:
        if warmup:
            worker.run(max_frames=warmup)  # loads caches, first inferences, tracker state
            worker.timings = type(worker.timings)()
            if worker.publisher is not None:
                worker.publisher.stats = type(worker.publisher.stats)()
        summary = worker.run(max_frames=frames)
        timings = worker.stage_timings()
        p50, p95 = worker.timings.frame_percentiles_ms(50, 95)
    detector = store.camera(camera_id).detector
    camera = store.camera(camera_id)
    frame_time = sum(timings.get(s, {}).get("total_s", 0.0) for s in FRAME_STAGES)
    return {
        "backend": detector.type,
        "model": detector.model,
        "imgsz": detector.imgsz,
        "threads": detector.threads,
        "detect_every": camera.detect_every,
        "frames": summary.frames,
        "fps": round(summary.frames / summary.elapsed_s, 2) if summary.elapsed_s else 0.0,
        "camera_thread_fps": round(summary.frames / frame_time, 2) if frame_time else 0.0,
        "p50_ms": p50,
        "p95_ms": p95,
        **stage_figures(timings, summary.frames),
        "events": summary.events,
        "outbox_depth_after": summary.outbox_depth,
    }


@bench_app.command("edge")
def bench_edge(
    source: Annotated[Path, typer.Option("--source", help="video file to run (looped if shorter than the run)")],
    frames: Annotated[int, typer.Option("--frames", min=1, help="frames measured per backend")] = 300,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="frames run first and not measured")] = 10,
    backend: Annotated[list[str], typer.Option("--backend", help="onnx and/or ultralytics (repeat); default both")] = ["onnx", "ultralytics"],  # noqa: B006
    imgsz: Annotated[Optional[int], typer.Option(help="detector input size; default from the config")] = None,  # noqa: UP045
    detect_every: Annotated[Optional[int], typer.Option("--detect-every", min=1, help="run the detector every Nth frame")] = None,  # noqa: UP045
    threads: Annotated[Optional[int], typer.Option(min=1, help="inference threads")] = None,  # noqa: UP045
    config: Annotated[Path, typer.Option("--config", help="store config whose camera (zones, analyzers) is used")] = DEFAULT_CONFIG,
    camera: Annotated[Optional[str], typer.Option(help="camera id in the config; default its first")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="print only the JSON figures")] = False,
) -> None:
    """Throughput and latency of the whole edge pipeline on one camera, per detector backend."""
    from anshin.demo import DEMO_KEY_ENV, CentralServer, _edge_key, free_port
    from edge.config import ConfigError, load_store_config

    logging.basicConfig(level=logging.WARNING)
    if not source.is_file():
        typer.echo(f"anshin bench edge: video {source} not found", err=True)
        raise typer.Exit(2)
    unknown = sorted(set(backend) - {"onnx", "ultralytics"})
    if unknown:
        typer.echo(f"anshin bench edge: unknown backend(s) {unknown}; choose onnx, ultralytics", err=True)
        raise typer.Exit(2)
    try:
        store = load_store_config(config)
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    camera_id = camera or next(iter(store.cameras))
    cam = store.camera(camera_id)

    from edge.detectors.config import OnnxDetectorConfig, UltralyticsDetectorConfig
    from services.central.api.app import create_app
    from services.central.settings import Settings

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="anshin-bench-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp)))
        server = CentralServer(app, "127.0.0.1", free_port())
        server.start()
        try:
            os.environ[DEMO_KEY_ENV] = _edge_key(app, store.store_id)
            for name in backend:
                det_overrides = {"type": name, **({"imgsz": imgsz} if imgsz else {}), **({"threads": threads} if threads else {})}
                det_cls = OnnxDetectorConfig if name == "onnx" else UltralyticsDetectorConfig
                shared = {k: v for k, v in cam.detector.model_dump().items() if k in det_cls.model_fields}
                detector = det_cls.model_validate({**shared, **det_overrides})
                cam_b = cam.model_copy(update={
                    "source": str(source.resolve()), "loop": True, "fps_limit": None, "detector": detector,
                    **({"detect_every": detect_every} if detect_every else {}),
                })
                store_b = store.model_copy(update={
                    "cameras": {camera_id: cam_b},
                    "central": store.central.model_copy(update={"url": server.url, "api_key_env": DEMO_KEY_ENV}),
                    "outbox": store.outbox.model_copy(update={"path": Path(tmp) / f"outbox-{name}.sqlite"}),
                })
                if not as_json:
                    typer.echo(f"benchmarking {name}: {warmup} warm-up + {frames} frames ...", err=True)
                results[name] = bench_one(store_b, camera_id, frames, warmup)
        finally:
            server.stop()

    first = results[backend[0]]
    report = {
        "source": str(source),
        "camera": camera_id,
        "cpus": os.cpu_count(),
        **{k: first[k] for k in ("backend", "imgsz", "detect_every", "fps", "p50_ms", "p95_ms", "stages", "non_inference_share")},
        "backends": results,
    }
    typer.echo(json.dumps(report, indent=None if as_json else 2))
    sys.stdout.flush()
