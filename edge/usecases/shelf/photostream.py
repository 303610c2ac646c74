"""A simulated shelf camera for the demo: shelf photos as a live MJPEG stream over HTTP.

Each photo is shown for ``hold_s`` seconds of wall-clock time, then the next (looping), at ``fps``
frames a second, on ``http://127.0.0.1:<port>/shelf.mjpg``. An edge worker reads it like any IP
camera (``source: http://...``), so the shelf analyzer sees live frames with wall-clock times and
the closed loop runs at the robots' pace. The photos are read from the shared media folder, never
copied.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BOUNDARY = b"anshinframe"


class ShelfPhotoStream:
    """Serve ``photos`` in turn as an MJPEG stream; :meth:`start` / :meth:`stop`."""

    def __init__(self, photos: Sequence[Path], hold_s: float = 20.0, fps: float = 2.0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if not photos:
            raise ValueError("a photo stream needs at least one photo")
        self.frames = []
        for p in photos:
            if not Path(p).is_file():
                raise FileNotFoundError(f"shelf photo {p} not found")
            self.frames.append(Path(p).read_bytes())
        self.hold_s, self.fps = hold_s, fps
        self.started = time.monotonic()
        stream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:  # quiet: the demo's log is elsewhere
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path != "/shelf.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.end_headers()
                try:
                    while not stream._stop.is_set():
                        jpeg = stream.current()
                        self.wfile.write(b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
                        time.sleep(1.0 / stream.fps)
                except (BrokenPipeError, ConnectionResetError):
                    return

        self._stop = threading.Event()
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/shelf.mjpg"

    def index(self) -> int:
        """Which photo is showing now."""
        return int((time.monotonic() - self.started) // self.hold_s) % len(self.frames)

    def current(self) -> bytes:
        return self.frames[self.index()]

    def start(self) -> ShelfPhotoStream:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self.server.serve_forever, name="shelf-photos", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
