"""``anshin checkout gate --config FILE --camera ID``: run the exit gate on one camera of a store.

The camera is an ordinary entry of the store YAML (its ``source``, ``fps_limit`` and ``reconnect``
are used; detector and analyzers are not: the gate runs instead of ``anshin edge run`` for that
camera). Exits go to ``central.url`` with the key in ``central.api_key_env`` (scope ``events:write``,
bound to the store). Mounted by the composition root (``anshin/checkout_demo.py``).
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import typer


def gate_command(
    config: Path = typer.Option(..., "--config", "-c", help="store YAML file"),
    camera: str = typer.Option(..., "--camera", help="the exit camera's id in that file"),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="stop after this many frames"),
    max_gap_s: float = typer.Option(1.0, "--max-gap-s", min=0.05, help="a face unseen this long ends the passage"),
    min_frames: int = typer.Option(2, "--min-frames", min=1, help="fewer sightings: not a passage, nothing sent"),
    drain_timeout: float = typer.Option(30.0, "--drain-timeout", min=0, help="seconds to keep delivering exits at the end"),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING, ERROR"),
) -> None:
    """Read the exit camera, send one exit per person passing; print a JSON summary at the end."""
    from edge.config import ConfigError, MissingApiKeyError, load_store_config
    from edge.sources.video import Backoff, SourceError, VideoSource
    from edge.usecases.checkout.client import CheckoutClient
    from edge.usecases.checkout.gate import ExitGate, ExitSender, GateSettings, exit_id_for
    from services.contract.logs import configure_logging

    configure_logging(log_level)
    try:
        store = load_store_config(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if camera not in store.cameras:
        typer.echo(f"store {store.store_id!r} has no camera {camera!r}; cameras: {sorted(store.cameras)}", err=True)
        raise typer.Exit(2)
    if store.privacy_profile != "identified":
        typer.echo(f"store {store.store_id!r} has privacy profile {store.privacy_profile!r}; the face checkout gate runs "
                   "only in stores with 'identified' (opt-in members)", err=True)
        raise typer.Exit(2)
    try:
        api_key = store.central.api_key()
    except MissingApiKeyError as exc:
        typer.echo(f"cannot start the gate on camera {camera!r}: {exc}", err=True)
        raise typer.Exit(2) from None

    cam = store.cameras[camera]
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    reconnect = Backoff(cam.reconnect.initial_delay_s, cam.reconnect.max_delay_s, cam.reconnect.max_retries)
    sender = ExitSender(CheckoutClient(store.central.url, api_key, store.store_id), camera,
                        backoff=Backoff(cam.reconnect.initial_delay_s, cam.reconnect.max_delay_s, 0))
    gate = ExitGate(sender, GateSettings(max_gap_s=max_gap_s, min_frames=min_frames),
                    exit_id=exit_id_for(camera, cam.source, cam.source_kind == "file" and not cam.loop))
    typer.echo(f"exit gate {camera!r}: {cam.source} → {store.central.url} (store {store.store_id})", err=True)
    failed: str | None = None
    try:
        with VideoSource(cam.source, loop=cam.loop, fps_limit=cam.fps_limit, backoff=reconnect, name=camera) as source:
            gate.run(source.frames(stop, max_frames=max_frames))
    except SourceError as exc:  # the camera stayed dead: deliver what was seen, then fail loudly
        failed = str(exc)
    finally:
        unsent = sender.close(drain_timeout)
    s, out = gate.summary, sender.stats
    typer.echo(json.dumps({"camera": camera, "frames": s.frames, "faces": s.faces, "passages": s.passages,
                           "exits_sent": out.sent, "outcomes": out.outcomes, "retries": out.retries,
                           "refused": out.refused, "unsent": unsent, "no_embedding": s.no_embedding}, sort_keys=True))
    if failed:
        typer.echo(failed, err=True)
        raise typer.Exit(1)
    if unsent or out.refused:
        raise typer.Exit(1)
