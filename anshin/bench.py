"""``anshin bench``: commands that print speed figures as JSON (never asserted by timed tests).

``bench edge`` runs the real edge pipeline (source → detect → track → analyze → evidence and live
pictures → outbox, with the publisher posting to an in-process central) on one camera and reports,
for each detector backend side by side:

* fps over all frames and over detect frames alone (the camera detects on every ``detect_every``-th
  frame and carries the tracks in between, so the two differ), both from the camera thread's wall time;
* p50/p95 wall time of detect frames, of carried frames and of all frames;
* every camera-thread stage's time (decode, detect, track, analyze, faces, evidence, live,
  outbox, and "other": the wall time no stage covers), as ms per frame and as shares of the camera
  thread's wall time that add up to 100 %; the publisher thread's publish time is reported beside
  them, not in the shares (it runs in parallel, competing for the same cores).
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

from edge.hardware import cpu_description
from edge.paths import PROJECT_ROOT

bench_app = typer.Typer(help="Speed benchmarks that print JSON figures.", no_args_is_help=True)

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "demo-store.yaml"
INFERENCE = "detect"
#: Camera-thread wall time no stage covers (loop bookkeeping, building the frame context) above this share is reported as a problem.
MAX_OTHER_SHARE = 0.05
#: Stage totals may exceed the wall by timer granularity only; more means overlapping (double-counted) stages.
OVERLAP_TOLERANCE_S = 1e-3


class InconsistentTimings(RuntimeError):
    """The stages' seconds do not fit the camera thread's wall time (double counting, or a stage left untimed)."""


def stage_figures(timings: dict[str, dict[str, float]], frames: int, wall_s: float) -> dict[str, Any]:
    """Camera-thread stages as ms per frame and as shares of the wall time; publish beside them.

    ``wall_s`` is the camera thread's wall time over the ``frames`` (the sum of the frames' wall
    times); "other" is what no stage covers. The shares add up to 1 by construction, so the check
    that matters is on "other": never negative (stages would overlap), and small (a stage untimed).

    >>> t = {"decode": {"total_s": 0.5}, "detect": {"total_s": 8.0}, "track": {"total_s": 0.2},
    ...      "analyze": {"total_s": 0.2}, "faces": {"total_s": 0.4}, "live": {"total_s": 0.1},
    ...      "outbox": {"total_s": 0.1}, "publish": {"count": 4, "total_s": 0.3}}
    >>> f = stage_figures(t, frames=100, wall_s=9.6)
    >>> f["stages_ms_per_frame"]["detect"], f["stages_ms_per_frame"]["other"], f["stage_shares"]["detect"]
    (80.0, 1.0, 0.8333)
    >>> f["shares_sum"], f["non_inference_share"], f["publish"]["ms_per_frame"]
    (1.0, 0.167, 3.0)
    >>> stage_figures(t, frames=100, wall_s=9.0)
    Traceback (most recent call last):
    ...
    anshin.bench.InconsistentTimings: camera-thread stages add up to 9.500 s but the frames took 9.000 s of wall time: stages overlap
    """
    from edge.worker import CAMERA_STAGES  # the worker's own list of camera-thread stages (imported late: cv2)

    totals = {s: timings.get(s, {}).get("total_s", 0.0) for s in CAMERA_STAGES}
    covered = sum(totals.values())
    if covered > wall_s + OVERLAP_TOLERANCE_S:
        raise InconsistentTimings(f"camera-thread stages add up to {covered:.3f} s but the frames took {wall_s:.3f} s of wall time: stages overlap")
    totals["other"] = max(wall_s - covered, 0.0)
    shares = {s: round(v / wall_s, 4) if wall_s else 0.0 for s, v in totals.items()}
    publish = timings.get("publish", {})
    publish_s = publish.get("total_s", 0.0)
    return {
        "camera_thread_wall_s": round(wall_s, 3),
        "stages_ms_per_frame": {s: round(1000 * v / max(frames, 1), 3) for s, v in totals.items()},
        "stage_shares": shares,
        "shares_sum": round(sum(shares.values()), 3),
        "other_share": shares["other"],
        "non_inference_share": round(1 - totals[INFERENCE] / wall_s, 3) if wall_s else 0.0,
        "publish": {  # the publisher thread: event POSTs to central, in parallel with the camera thread
            "thread": "publisher",
            "posts": int(publish.get("count", 0)),
            "total_s": round(publish_s, 3),
            "ms_per_post": round(1000 * publish_s / publish["count"], 3) if publish.get("count") else 0.0,
            "ms_per_frame": round(1000 * publish_s / max(frames, 1), 3),
        },
    }


def frame_figures(totals: dict[str, dict[str, float]], percentiles: dict[str, list[float]]) -> dict[str, Any]:
    """fps over all, detect and carried frames (frames per camera-thread wall second of each kind) and p50/p95 ms.

    >>> totals = {"all": {"frames": 4, "wall_s": 0.5}, "detect": {"frames": 2, "wall_s": 0.4},
    ...           "carry": {"frames": 2, "wall_s": 0.1}}
    >>> f = frame_figures(totals, {"all": [60.0, 190.0], "detect": [200.0, 200.0], "carry": [50.0, 50.0]})
    >>> f["fps_all_frames"], f["fps_detect_frames"], f["fps_carry_frames"], f["p50_ms_detect_frames"]
    (8.0, 5.0, 20.0, 200.0)
    """
    def fps(kind: str) -> float:
        return round(totals[kind]["frames"] / totals[kind]["wall_s"], 2) if totals[kind]["wall_s"] else 0.0

    out: dict[str, Any] = {
        "detect_frames": int(totals["detect"]["frames"]),
        "carry_frames": int(totals["carry"]["frames"]),
        "fps_all_frames": fps("all"),
        "fps_detect_frames": fps("detect"),
        "fps_carry_frames": fps("carry"),
    }
    for kind in ("detect", "carry", "all"):
        out[f"p50_ms_{kind}_frames"], out[f"p95_ms_{kind}_frames"] = percentiles[kind]
    return out


def bench_one(store, camera_id: str, frames: int, warmup: int) -> dict[str, Any]:  # noqa: ANN001 - StoreConfig
    """Run the real worker for ``warmup`` + ``frames`` frames; figures cover the last ``frames``."""
    from edge.worker import CAMERA_STAGES, EdgeWorker

    with EdgeWorker(store, camera_id, drain_timeout_s=30.0) as worker:
        if warmup:
            worker.run(max_frames=warmup)  # loads caches, first inferences, tracker state
            worker.timings = type(worker.timings)()
            if worker.publisher is not None:
                worker.publisher.stats = type(worker.publisher.stats)()
        summary = worker.run(max_frames=frames)
        timings = worker.stage_timings()
        totals = worker.timings.frame_totals()
        percentiles = {kind: worker.timings.frame_percentiles_ms(50, 95, detected=detected)
                       for kind, detected in (("all", None), ("detect", True), ("carry", False))}
    detector = store.camera(camera_id).detector
    camera = store.camera(camera_id)
    return {
        "backend": detector.type,
        "model": detector.model,
        "near_model": None if detector.near is None else detector.near.model,
        "imgsz": detector.imgsz,
        "threads": detector.threads,
        "detect_every": camera.detect_every,
        "frames": summary.frames,
        **frame_figures(totals, percentiles),
        # the whole run, including the publisher's start and the final drain of the outbox to central
        "run_elapsed_s": round(summary.elapsed_s, 3),
        **stage_figures(timings, totals["all"]["frames"], totals["all"]["wall_s"]),
        "stage_counts": {s: int(timings.get(s, {}).get("count", 0)) for s in CAMERA_STAGES},
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
                try:
                    results[name] = bench_one(store_b, camera_id, frames, warmup)
                except InconsistentTimings as exc:
                    typer.echo(f"anshin bench edge: {name}: {exc}", err=True)
                    raise typer.Exit(1) from None
                if results[name]["other_share"] > MAX_OTHER_SHARE:
                    typer.echo(f"anshin bench edge: {name}: {results[name]['other_share']:.1%} of the camera thread's "
                               f"wall time is in no stage (more than {MAX_OTHER_SHARE:.0%})", err=True)
        finally:
            server.stop()

    first = results[backend[0]]
    report = {
        "source": str(source),
        "camera": camera_id,
        "cpus": os.cpu_count(),
        "cpu": cpu_description(),  # int8 models run 3-4x faster with int8 dot-product instructions
        "load_average": [round(x, 2) for x in os.getloadavg()],  # other work on the machine skews every figure
        **{k: first[k] for k in ("backend", "imgsz", "detect_every", "fps_all_frames", "fps_detect_frames",
                                 "p50_ms_detect_frames", "p95_ms_detect_frames", "p50_ms_all_frames", "p95_ms_all_frames",
                                 "stages_ms_per_frame", "stage_shares", "shares_sum", "other_share",
                                 "non_inference_share", "publish")},
        "backends": results,
    }
    typer.echo(json.dumps(report, indent=None if as_json else 2))
    sys.stdout.flush()
