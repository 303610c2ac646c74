"""Frames from a video file, an RTSP/HTTP stream or a USB camera, through OpenCV.

A camera that fails is retried with exponential backoff (bounded, configurable) and logged once
per attempt; a source that stays dead ends with a :class:`SourceError` naming it. A video file
that does not exist fails at once, naming the path.

Timestamps: for a live source ``captured_at`` is the wall clock (UTC) when the frame was read;
for a file it is ``origin + index / fps`` (video time), so a file replays identically however
fast the machine is: an analyzer that reports every 2 s reports every 20 frames of a 10 fps
video, on a laptop or a busy CI box.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, NamedTuple

import cv2
import numpy as np

log = logging.getLogger(__name__)

SourceKind = Literal["file", "url", "usb"]


class SourceError(RuntimeError):
    """A source that cannot deliver frames (after the configured retries)."""


class SourceNotFoundError(SourceError, FileNotFoundError):
    """A video file source that does not exist."""


class Frame(NamedTuple):
    """One decoded frame; unpacks as ``image, captured_at, index``.

    Attributes:
        image: (H, W, 3) uint8 BGR pixels.
        captured_at: UTC time of capture (video time for files, see the module docstring).
        index: 0-based frame number since the source started (keeps counting across loops).
    """

    image: np.ndarray
    captured_at: datetime
    index: int


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect policy: wait ``initial_delay_s * 2**attempt`` seconds, capped at ``max_delay_s``.

    >>> [Backoff(0.5, 3.0, 5).delay(a) for a in range(5)]
    [0.5, 1.0, 2.0, 3.0, 3.0]
    """

    initial_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retries: int = 10

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return float(min(self.max_delay_s, self.initial_delay_s * (2 ** min(attempt, 62))))


def source_kind(source: str | int | Path) -> SourceKind:
    """What a source string means.

    >>> source_kind(0), source_kind("rtsp://cam/1"), source_kind("clips/a.mp4")
    ('usb', 'url', 'file')
    """
    if isinstance(source, int):
        return "usb"
    return "url" if "://" in str(source) else "file"


class VideoSource:
    """Iterate frames of one camera with reconnects.

    Args:
        source: file path, ``rtsp://``/``http(s)://`` URL, or USB camera index.
        loop: for files, start again at the end (frame index and timestamps keep increasing).
        fps_limit: at most this many frames per second: of video time for files (every k-th
            frame, deterministic), of wall time for live sources (frames arriving early are dropped).
        backoff: reconnect policy.
        name: how logs and errors call this source (e.g. the camera id).
        origin: video time 0 of a file (UTC); default: when the source is opened.
        sleep: waits between reconnect attempts; inject a fake in tests.
        capture_factory: opens an OpenCV capture; inject in tests of odd devices.

    >>> from edge.paths import media_dir
    >>> src = VideoSource(media_dir() / "pets2009_vtest_480x360.mp4",
    ...                   origin=datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> [(f.index, f.captured_at.isoformat(), f.image.shape) for f in src.frames(max_frames=2)]
    [(0, '2026-01-01T00:00:00+00:00', (360, 480, 3)), (1, '2026-01-01T00:00:00.100000+00:00', (360, 480, 3))]
    """

    def __init__(
        self,
        source: str | int | Path,
        *,
        loop: bool = False,
        fps_limit: float | None = None,
        backoff: Backoff = Backoff(),
        name: str = "",
        origin: datetime | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        capture_factory: Callable[[str | int], Any] | None = None,
    ) -> None:
        self.source = str(source) if isinstance(source, Path) else source
        self.kind = source_kind(self.source)
        self.loop = loop
        self.fps_limit = fps_limit
        self.backoff = backoff
        self.name = name or str(source)
        self.origin = origin
        self._sleep = sleep
        self._open_capture = capture_factory or _open_capture
        self._cap: Any = None
        self.fps: float = 0.0
        self.frame_count: int = 0  # files only; 0 = unknown
        self.frame_size: tuple[int, int] | None = None  # width, height in pixels
        self.reconnects = 0  # successful reopenings, for health reports
        if self.kind == "file" and not Path(str(self.source)).is_file():
            raise SourceNotFoundError(f"camera {self.name!r}: video file {self.source} does not exist")

    # ------------------------------------------------------------------ opening

    def _open(self) -> bool:
        self._release()
        cap = self._open_capture(self.source)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            return False
        self._cap = cap
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if self.kind == "file":
            self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return True

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def frames(self, stop: threading.Event | None = None, max_frames: int | None = None) -> Iterator[Frame]:
        """Yield frames until the file ends (without ``loop``), ``stop`` is set or ``max_frames`` were yielded.

        Raises:
            SourceError: the source could not be (re)opened within ``backoff.max_retries`` attempts.
        """
        stop = stop or threading.Event()
        if not self._open():
            if self.kind == "file":  # a file that exists but does not decode will not heal by waiting
                raise SourceError(f"camera {self.name!r}: OpenCV cannot open video file {self.source} (not a video, or an unsupported codec)")
            if not self._reconnect(stop, position=0, why="could not open"):
                return
        origin = self.origin or datetime.now(timezone.utc)
        position = 0  # next frame number within the file (files only)
        emitted = 0
        index = -1  # frame number since start, counting across loops
        last_live_at = float("-inf")
        step = self._file_step()
        try:
            while not stop.is_set() and (max_frames is None or emitted < max_frames):
                ok, image = self._cap.read()
                if not ok or image is None:
                    if self.kind == "file" and self._at_end(position):
                        if not self.loop:
                            log.info("camera %r: end of video file %s after %d frames", self.name, self.source, position)
                            return
                        if not self._open():
                            raise SourceError(f"camera {self.name!r}: cannot reopen video file {self.source} to loop")
                        position = 0
                        continue
                    why = f"read failed at frame {position}" if self.kind == "file" else "stream stopped delivering frames"
                    if not self._reconnect(stop, position, why):
                        return
                    continue
                position += 1
                index += 1
                if self.frame_size is None:
                    self.frame_size = (int(image.shape[1]), int(image.shape[0]))
                if self.kind == "file":
                    if (index % step) != 0:
                        continue
                    fps = self.fps if self.fps > 0 else 25.0  # unknown fps: a common default keeps time monotonic
                    captured_at = origin + timedelta(seconds=index / fps)
                else:
                    now = time.monotonic()
                    if self.fps_limit and now - last_live_at < 1.0 / self.fps_limit:
                        continue
                    last_live_at = now
                    captured_at = datetime.now(timezone.utc)
                emitted += 1
                yield Frame(image, captured_at, index)
        finally:
            self._release()

    def _file_step(self) -> int:
        """Keep every k-th frame of a file so at most ``fps_limit`` frames per video second remain."""
        if not self.fps_limit or self.fps <= 0:
            return 1
        return max(1, round(self.fps / self.fps_limit))

    def _at_end(self, position: int) -> bool:
        # An unknown frame count (0) cannot tell a truncated file from its end; treat it as the end.
        return self.frame_count <= 0 or position >= self.frame_count

    def _reconnect(self, stop: threading.Event, position: int, why: str) -> bool:
        """Reopen with backoff; True when frames flow again, False when stopped; SourceError when out of retries."""
        first_failure = time.monotonic()
        for attempt in range(self.backoff.max_retries):
            delay = self.backoff.delay(attempt)
            log.warning(
                "camera %r: %s (%s); reconnecting in %.1f s (attempt %d/%d)",
                self.name, why, self.source, delay, attempt + 1, self.backoff.max_retries,
            )
            self._sleep(delay)
            if stop.is_set():
                return False
            if self._open() and self._resume(position):
                self.reconnects += 1
                log.warning(
                    "camera %r: reconnected after %d attempt(s), %.1f s", self.name, attempt + 1, time.monotonic() - first_failure
                )
                return True
            why = "reconnect failed"
        self._release()
        raise SourceError(
            f"camera {self.name!r}: gave up on {self.source} after {self.backoff.max_retries} reconnect attempts "
            f"(last error: {why}); check the camera, its URL and the network"
        )

    def _resume(self, position: int) -> bool:
        """After reopening a file, seek back to where reading stopped; the next read must succeed."""
        if self.kind != "file" or position == 0:
            return True
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, position)
        # Probe by grabbing: a still-broken file fails here, and a success is re-read after seeking back.
        if not self._cap.grab():
            return False
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, position)
        return True


def read_still(path: Path) -> np.ndarray | None:
    """One picture file decoded as a file source decodes its frames (OpenCV's video reader, not
    ``cv2.imread``: the two JPEG decoders differ by a few grey levels, enough to change a detection),
    so an evaluation of what a camera runs sees the camera's own pixels. None when unreadable."""
    cap = _open_capture(str(path))
    try:
        ok, image = cap.read()
    finally:
        cap.release()
    return image if ok and image is not None else None


def _open_capture(source: str | int) -> Any:
    if isinstance(source, int):
        return cv2.VideoCapture(source)
    if "://" in source:
        # FFmpeg for network streams: it honours the open/read timeouts below instead of hanging.
        cap = cv2.VideoCapture(source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 10_000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 10_000])
        return cap
    return cv2.VideoCapture(source)
