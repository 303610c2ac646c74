"""What central's command-line processes share: settings or a clear exit, and running a
long-lived worker (MQTT ingest, the command result listener) until SIGINT/SIGTERM.

The worker's ``run(stop)`` loop runs in a thread; this one prints a progress line every
``progress_every_s`` seconds on stderr, and on a signal sets ``stop`` and waits for the loop to end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import typer

from services.central.settings import Settings


def settings_or_exit(database_url: str | None = None) -> Settings:
    """The settings, or exit 2 with what is wrong (a placeholder secret names the variable to set).

    Only the errors' messages are printed: pydantic's own text would also echo the values.
    """
    from pydantic import ValidationError

    try:
        return Settings(database_url=database_url) if database_url else Settings()
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}" for err in e.errors())
        typer.echo(f"error: central cannot start: {problems}", err=True)
        raise typer.Exit(2) from None


def run_until_signalled(run: Callable[[threading.Event], None], name: str, progress: Callable[[], str],
                        progress_every_s: float, join_timeout_s: float = 30.0) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=run, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        while not stop.wait(progress_every_s):
            typer.echo(progress(), err=True)
    finally:
        stop.set()
        thread.join(timeout=join_timeout_s)
