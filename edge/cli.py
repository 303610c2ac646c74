"""Edge commands: ``anshin config check FILE`` and ``anshin edge run --config FILE``.

Mounted by the composition root ``anshin/cli.py``.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import typer

config_app = typer.Typer(help="Store config files (one YAML per store).", no_args_is_help=True)
edge_app = typer.Typer(help="The edge worker: camera → detector → tracker → analyzers → outbox → central.", no_args_is_help=True)


@config_app.command("check")
def config_check(file: Path = typer.Argument(..., help="store YAML file, e.g. config/demo-store.yaml")) -> None:
    """Validate a store config; print every problem as `line N field.path: message` and exit 1 if any."""
    from edge.config import ConfigError, load_store_config

    try:
        store = load_store_config(file)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"{file}: {problem.render()}", err=True)
        n = len(exc.problems)
        typer.echo(f"{file}: {n} problem{'s' if n != 1 else ''}", err=True)
        raise typer.Exit(1) from None
    zones = sum(len(c.zones) for c in store.cameras.values())
    analyzers = sum(len(c.analyzers) for c in store.cameras.values())
    typer.echo(
        f"{file}: OK: store {store.store_id!r} ({store.privacy_profile}), {len(store.cameras)} camera(s) "
        f"[{', '.join(store.cameras)}], {zones} zone(s), {analyzers} analyzer(s); central {store.central.url}"
    )
    try:
        store.central.api_key()
    except Exception as exc:  # not a config error: the key is deployment state, but say so early
        typer.echo(f"note: {exc}", err=True)


@config_app.command("calibrate")
def config_calibrate(
    config: Path = typer.Option(..., "--config", "-c", help="store YAML file"),
    camera: str = typer.Option(..., "--camera", help="camera id whose floor homography to fit"),
) -> None:
    """Fit a camera's camera→floor homography (floor analyzer) and print its reprojection error as JSON."""
    from edge.usecases.floor.calibrate import calibration_report

    try:
        report = calibration_report(config, camera)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(report, indent=2))
    if not report["ok"]:
        raise typer.Exit(1)


@edge_app.command("run")
def edge_run(
    config: Path = typer.Option(..., "--config", "-c", help="store YAML file"),
    camera: str | None = typer.Option(None, "--camera", help="camera id (needed when the store has several)"),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="stop after this many frames"),
    publish: bool = typer.Option(True, "--publish/--no-publish", help="run the HTTP publisher thread (needs the API key variable)"),
    drain_timeout: float = typer.Option(5.0, "--drain-timeout", min=0, help="seconds to keep publishing at the end to empty the outbox"),
    progress_every: float = typer.Option(5.0, "--progress-every", min=0.1, help="seconds between progress lines"),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING, ERROR"),
) -> None:
    """Run one camera's pipeline until the video ends, --max-frames or Ctrl-C; print a summary with stage timings."""
    from edge.config import ConfigError, MissingApiKeyError, load_store_config
    from edge.sources import SourceError
    from edge.worker import EdgeWorker
    from services.contract.logs import configure_logging

    configure_logging(log_level)  # ANSHIN_LOG_FORMAT=json: one JSON object per line
    try:
        store = load_store_config(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if camera is None:
        if len(store.cameras) != 1:
            typer.echo(f"store {store.store_id!r} has several cameras; choose one with --camera: {sorted(store.cameras)}", err=True)
            raise typer.Exit(2)
        camera = next(iter(store.cameras))
    if camera not in store.cameras:
        typer.echo(f"store {store.store_id!r} has no camera {camera!r}; cameras: {sorted(store.cameras)}", err=True)
        raise typer.Exit(2)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        worker = EdgeWorker(store, camera, publish=publish, drain_timeout_s=drain_timeout if publish else 0.0)
    except (MissingApiKeyError, FileNotFoundError, RuntimeError, ValueError) as exc:
        typer.echo(f"cannot start camera {camera!r}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"camera {camera!r}: {store.cameras[camera].source} → outbox {store.outbox.path}"
               + (f" → {store.central.url}" if publish else " (not publishing)"), err=True)
    try:
        with worker:
            summary = worker.run(max_frames=max_frames, stop_event=stop, progress_every_s=progress_every)
            timings = worker.stage_timings()
    except SourceError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({
        "camera": camera,
        "frames": summary.frames,
        "detector_runs": summary.detections_run,
        "events": summary.events_by_type,
        "elapsed_s": round(summary.elapsed_s, 2),
        "fps": round(summary.frames / summary.elapsed_s, 2) if summary.elapsed_s else 0.0,
        "outbox_depth": summary.outbox_depth,
        "dead_letters": summary.dead_letters,
        "stage_mean_ms": {k: v["mean_ms"] for k, v in timings.items()},
    }, indent=2))
