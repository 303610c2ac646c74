"""Run a long-lived central worker (MQTT ingest, the command result listener) until SIGINT/SIGTERM.

The worker's ``run(stop)`` loop runs in a thread; this one prints a progress line every
``progress_every_s`` seconds on stderr, and on a signal sets ``stop`` and waits for the loop to end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import typer


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
