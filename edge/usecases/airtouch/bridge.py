"""Serves air-touch pointer events to the kiosk page: Server-Sent Events on the kiosk's loopback.

``GET /events`` is a ``text/event-stream`` of :class:`~.pointer.PointerEvent` JSON lines (one
``data:`` per event); ``GET /health`` answers ``ok``. Only the kiosk page's origin may read it
(CORS), and the server binds to 127.0.0.1 by default: pointer events never leave the kiosk.
The page is central's ``/kiosk/{store}?airtouch=http://127.0.0.1:8765``.

A slow or closed page never blocks the camera loop: each client has a bounded queue and loses
its oldest events first (a cursor only needs the latest).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from edge.usecases.airtouch.pointer import AirTouch, PointerEvent

QUEUE = 256


class PointerHub:
    """Fan-out of pointer events to every connected page."""

    def __init__(self) -> None:
        self._clients: list[queue.Queue[PointerEvent | None]] = []
        self._lock = threading.Lock()

    def subscribe(self) -> queue.Queue[PointerEvent | None]:
        q: queue.Queue[PointerEvent | None] = queue.Queue(QUEUE)
        with self._lock:
            self._clients.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[PointerEvent | None]) -> None:
        with self._lock:
            if q in self._clients:
                self._clients.remove(q)

    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def publish(self, event: PointerEvent | None) -> None:
        """``None`` tells every client the stream is over."""
        with self._lock:
            targets = list(self._clients)
        for q in targets:
            while True:
                try:
                    q.put_nowait(event)
                    break
                except queue.Full:
                    try:
                        q.get_nowait()  # drop the oldest: the page wants the newest position
                    except queue.Empty:
                        pass


def _handler(hub: PointerHub, origin: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # the kiosk has no use for an access log of its own cursor

        def _head(self, code: int, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Access-Control-Allow-Origin", origin)
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/health":
                self._head(200, "text/plain")
                self.wfile.write(b"ok")
                return
            if self.path != "/events":
                self._head(404, "text/plain")
                self.wfile.write(b"not found: use /events or /health")
                return
            # Subscribe before the headers go out: a page that has its response is then sure to
            # see every event published after it, not only those after this thread ran on.
            q = hub.subscribe()
            try:
                self._head(200, "text/event-stream")
                self.wfile.write(b": air-touch pointer events\n\n")
                self.wfile.flush()
                while True:
                    try:
                        event = q.get(timeout=10)
                    except queue.Empty:
                        self.wfile.write(b": keep-alive\n\n")  # notices a page that went away
                        self.wfile.flush()
                        continue
                    if event is None:
                        return
                    self.wfile.write(f"data: {json.dumps(event.to_json())}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the page closed or reloaded; it reconnects on its own
            finally:
                hub.unsubscribe(q)

    return Handler


class Bridge:
    """The SSE server on its own thread; ``close()`` ends every stream and the server."""

    def __init__(self, hub: PointerHub, origin: str = "*", host: str = "127.0.0.1", port: int = 8765) -> None:
        self.hub = hub
        self._server = ThreadingHTTPServer((host, port), _handler(hub, origin))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="airtouch-bridge", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Bridge:
        self._thread.start()
        return self

    def close(self) -> None:
        self.hub.publish(None)
        self._server.shutdown()
        self._server.server_close()


def drive(touch: AirTouch, frames: Iterable[tuple[float, np.ndarray | None]], hub: PointerHub) -> int:
    """Feeds ``(t, landmarks)`` frames through ``touch`` and publishes what comes out; the number of presses."""
    presses = 0
    for t, landmarks in frames:
        for event in touch.step(t, landmarks):
            presses += event.kind == "press"
            hub.publish(event)
    return presses


def camera_frames(source: str | int, detector: object, stop: threading.Event) -> Iterable[tuple[float, np.ndarray | None]]:
    """``(t, landmarks of the nearest hand)`` from a camera or video, until ``stop`` or its end."""
    import time

    import cv2

    from edge.usecases.airtouch.detector import nearest_hand

    cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        raise RuntimeError(f"cannot open camera/video {source!r}")
    try:
        while not stop.is_set():
            ok, frame = cap.read()
            if not ok:
                return
            hand = nearest_hand(detector.detect(frame))  # type: ignore[attr-defined]
            yield time.monotonic(), None if hand is None else hand.landmarks
    finally:
        cap.release()
