"""The exit gate worker: the gate camera's stream becomes one ``CheckoutClient`` exit per passage.

A person walking through the gate is seen on many frames; central must hear of them once, with one
exit id (the charge's idempotency key). So:

1. Every frame: dlib HOG finds the faces (one upsampling pass; the gate camera is framed on people
   close by, and a second pass costs seconds per empty frame).
2. :class:`PassageTracker` links each face to the passage whose last box it overlaps (IoU) or lies
   near (centre distance within a face side); a face linked to none starts a new passage. A passage
   unseen for ``max_gap_s`` (frame time) has ended; one seen on fewer than ``min_frames`` frames was
   noise and is dropped unsent.
3. While a passage lasts it keeps, in memory only, padded crops of its ``candidates`` best frames
   (largest, sharpest face). When it ends those are embedded (flip-averaged dlib, as at enrolment)
   and the best one (quality gate passed, smallest plain-vs-mirror gap) goes to central with its
   liveness cue: ``{exit_id, camera_id, embedding, quality_ok, live}``, never a picture.
4. :class:`ExitSender` delivers in a thread, so the camera keeps being read while central is slow or
   down. A connection error, a 5xx or a 429 is retried with backoff under the same exit id (central
   answers a redelivered exit from its first answer, so nobody is charged twice); other 4xx answers
   (wrong key, store not ``identified``) are logged with central's reason and not retried.

Strangers: the pending exits live in memory only (a disk spool would write every passer-by's
embedding before central could say they are no member), and an ``ignored`` answer is neither logged
nor kept; the crops and embeddings are dropped as soon as the exit is sent. The price: exits still
unsent when the process dies are lost; ``close()`` drains for ``drain_timeout_s`` first.

    gate = ExitGate(CheckoutClient(url, key, "tokyo-01"), "exit-1")
    with VideoSource("rtsp://gate-cam/1", name="exit-1") as source:
        summary = gate.run(source.frames(stop))
"""

from __future__ import annotations

import hashlib
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import numpy as np

from edge.sources.video import Backoff, Frame
from edge.usecases.checkout.client import CheckoutClient, ExitObservation
from edge.usecases.checkout.faces import FaceEmbedding, embed_box, locate
from edge.usecases.checkout.liveness import texture_cue
from services.shared.boxes import box_iou

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # top, right, bottom, left (dlib's order)


@dataclass(frozen=True, slots=True)
class GateSettings:
    """How faces become passages (defaults for a gate camera at 5-15 frames per second)."""

    max_gap_s: float = 1.0  # a passage unseen this long (frame time) has ended
    min_frames: int = 2  # seen on fewer frames: a false detection, nothing is sent
    min_iou: float = 0.2  # a face overlapping a passage's last box this much continues it
    max_centre_sides: float = 1.0  # ... or whose centre lies within this many face sides of it
    candidates: int = 3  # best frames kept per passage and embedded when it ends
    crop_margin: float = 0.6  # crop kept around a face, in face sides (dlib's landmarks need context)
    upsample: int = 1  # HOG upsampling passes (1 finds faces down to about 40 px)


@dataclass(slots=True)
class Candidate:
    """One frame's face of a passage, as a padded crop (the frame itself is not kept)."""

    score: float
    crop: np.ndarray  # RGB
    box: Box  # in crop coordinates


@dataclass(slots=True)
class Passage:
    """One person passing the gate: the frames a face was linked across."""

    exit_id: str
    first_at: datetime
    last_at: datetime
    box: Box
    frames: int = 1
    candidates: list[Candidate] = field(default_factory=list)


def _xyxy(b: Box) -> list[int]:
    """dlib's (top, right, bottom, left) as (x1, y1, x2, y2) for services.shared.boxes.

    >>> _xyxy((10, 50, 40, 20))
    [20, 10, 50, 40]
    """
    return [b[3], b[0], b[1], b[2]]


def _overlap(a: Box, b: Box) -> float:
    return float(box_iou(_xyxy(a), _xyxy(b))[0, 0])


def _side(b: Box) -> int:
    return max(1, min(b[2] - b[0], b[1] - b[3]))


def _centre_distance(a: Box, b: Box) -> float:
    return math.hypot((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2, (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2)


def frame_score(rgb: np.ndarray, box: Box) -> float:
    """How good a frame of a face is for matching: its side in pixels times log(1 + Laplacian variance)
    (a bigger face carries more detail; motion blur lowers the variance)."""
    import cv2

    top, right, bottom, left = box
    face = rgb[max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    if face.size == 0:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2GRAY)
    return _side(box) * math.log1p(float(cv2.Laplacian(grey, cv2.CV_32F).var()))


def _crop(rgb: np.ndarray, box: Box, margin: float) -> Candidate:
    top, right, bottom, left = box
    pad = int(_side(box) * margin)
    h, w = rgb.shape[:2]
    y0, x0 = max(top - pad, 0), max(left - pad, 0)
    y1, x1 = min(bottom + pad, h), min(right + pad, w)
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    return Candidate(0.0, crop, (top - y0, right - x0, bottom - y0, left - x0))


class PassageTracker:
    """Links faces across frames into passages; :meth:`update` returns the passages that ended.

    ``exit_id(first_at, frame_index, nth)`` names a new passage (see :func:`exit_id_for`).
    """

    def __init__(self, settings: GateSettings, exit_id: Callable[[datetime, int, int], str]) -> None:
        self.settings = settings
        self._exit_id = exit_id
        self.open: list[Passage] = []

    def update(self, rgb: np.ndarray, boxes: list[Box], at: datetime, frame_index: int) -> list[Passage]:
        s = self.settings
        unmatched = list(range(len(boxes)))
        # Greedy, best pairs first: a passage continues with the face most like its last box.
        pairs = []
        for p_i, p in enumerate(self.open):
            for b_i, b in enumerate(boxes):
                overlap = _overlap(p.box, b)
                near = _centre_distance(p.box, b) <= s.max_centre_sides * _side(p.box)
                if overlap >= s.min_iou or near:
                    pairs.append((overlap - _centre_distance(p.box, b) / (1e3 * _side(p.box)), p_i, b_i))
        taken: set[int] = set()
        for _, p_i, b_i in sorted(pairs, reverse=True):
            if p_i in taken or b_i not in unmatched:
                continue
            taken.add(p_i)
            unmatched.remove(b_i)
            self._extend(self.open[p_i], rgb, boxes[b_i], at)
        for nth, b_i in enumerate(unmatched):
            passage = Passage(self._exit_id(at, frame_index, nth), at, at, boxes[b_i], frames=0)
            self._extend(passage, rgb, boxes[b_i], at)
            self.open.append(passage)
        ended = [p for p in self.open if (at - p.last_at).total_seconds() > s.max_gap_s]
        self.open = [p for p in self.open if p not in ended]
        return [p for p in ended if p.frames >= s.min_frames]

    def flush(self) -> list[Passage]:
        """End every open passage (the stream ended)."""
        ended, self.open = self.open, []
        return [p for p in ended if p.frames >= self.settings.min_frames]

    def _extend(self, p: Passage, rgb: np.ndarray, box: Box, at: datetime) -> None:
        p.box, p.last_at, p.frames = box, at, p.frames + 1
        score = frame_score(rgb, box)
        if len(p.candidates) < self.settings.candidates or score > p.candidates[-1].score:
            candidate = _crop(rgb, box, self.settings.crop_margin)
            candidate.score = score
            p.candidates = sorted([*p.candidates, candidate], key=lambda c: -c.score)[: self.settings.candidates]


def best_observation(passage: Passage) -> ExitObservation | None:
    """Embed the passage's candidate frames; the best: quality gate passed, then the smallest
    plain-vs-mirror gap (the steadiest embedding). None when no candidate could be embedded."""
    seen: list[tuple[FaceEmbedding, Candidate]] = []
    for c in passage.candidates:
        try:
            seen.append((embed_box(c.crop, c.box), c))
        except (IndexError, RuntimeError):  # dlib found no landmarks in the crop: skip that frame
            continue
    if not seen:
        return None
    face, c = min(seen, key=lambda fc: (not fc[0].quality_ok, fc[0].flip_gap))
    return ExitObservation(face, texture_cue(c.crop, c.box))


def exit_id_for(camera_id: str, source: str | int, replayable: bool) -> Callable[[datetime, int, int], str]:
    """Exit ids: for a video file (replayable) from the source and frame number, so a rerun of the same
    file redelivers the same exits (central answers them once); for a live camera from the time.

    >>> f = exit_id_for("exit-1", "/v/gate.avi", True)
    >>> f(datetime(2026, 1, 1), 12, 0) == f(datetime(2027, 1, 1), 12, 0), f(datetime(2026, 1, 1), 12, 1)[-10:]
    (True, '-f000012.1')
    >>> exit_id_for("exit-1", "rtsp://cam", False)(datetime(2026, 1, 2, 3, 4, 5, 678000), 9, 0)
    'exit-1-20260102T030405.678-0'
    """
    cam = camera_id[:32]
    if replayable:
        tag = hashlib.sha256(str(source).encode()).hexdigest()[:8]
        return lambda at, index, nth: f"{cam}-{tag}-f{index:06d}.{nth}"
    return lambda at, index, nth: f"{cam}-{at:%Y%m%dT%H%M%S}.{at.microsecond // 1000:03d}-{nth}"


class CentralRefused(RuntimeError):
    """Central answered an exit with a 4xx that retrying will not change (key, store profile, body)."""


@dataclass(slots=True)
class SenderStats:
    sent: int = 0
    retries: int = 0
    refused: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class ExitSender:
    """Delivers exits to central from a thread, retrying transient failures with the same exit id.

    ``sleep`` waits between retries (tests pass a fast one); ``on_answer(exit_id, answer)`` sees
    each member's answer (``ignored`` answers are not passed on: nothing of a stranger is kept).
    """

    def __init__(self, client: CheckoutClient, camera_id: str, backoff: Backoff = Backoff(0.5, 30.0, 0),
                 sleep: Callable[[float], Any] = time.sleep,
                 on_answer: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.client, self.camera_id, self.backoff = client, camera_id, backoff
        self._sleep, self._on_answer = sleep, on_answer
        self._queue: queue.Queue[tuple[str, ExitObservation] | None] = queue.Queue()
        self._stop = threading.Event()
        self.stats = SenderStats()
        self._thread = threading.Thread(target=self._loop, name=f"exit-sender-{camera_id}", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def submit(self, exit_id: str, seen: ExitObservation) -> None:
        self._queue.put((exit_id, seen))

    def close(self, drain_timeout_s: float = 30.0) -> int:
        """Stop after delivering what is queued (at most ``drain_timeout_s``); returns exits left unsent."""
        deadline = time.monotonic() + drain_timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=5.0)
        left = self._queue.unfinished_tasks - 1  # the None marker
        if left > 0:
            log.error("exit gate %r: %d exit(s) not delivered to central before stopping", self.camera_id, left)
        return max(left, 0)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            except Exception:  # an unexpected answer must not stop the deliveries that follow
                self.stats.refused += 1
                log.exception("exit %s: delivery failed; not retried", item[0] if item else "?")
            finally:
                self._queue.task_done()

    def _deliver(self, exit_id: str, seen: ExitObservation) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                response = self.client.send_exit(seen, exit_id, self.camera_id)
                transient = response.status_code >= 500 or response.status_code == 429
                why = f"central answered {response.status_code}"
            except httpx.HTTPError as exc:
                response, transient, why = None, True, f"central unreachable ({type(exc).__name__}: {exc})"
            if response is not None and response.status_code < 300:
                answer = response.json()
                self.stats.sent += 1
                outcome = str(answer.get("outcome"))
                self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
                if outcome != "ignored":  # a stranger's exit leaves no log line
                    log.info("exit %s: %s (member %s)", exit_id, outcome, answer.get("member_id"))
                    if self._on_answer:
                        self._on_answer(exit_id, answer)
                return
            if not transient:
                self.stats.refused += 1
                detail = _detail(response)
                log.error("exit %s refused by central (%s): %s; not retried", exit_id, why, detail)
                return
            delay = self.backoff.delay(attempt)
            self.stats.retries += 1
            log.warning("exit %s: %s; retrying in %.1f s (attempt %d, same exit id: charged at most once)",
                        exit_id, why, delay, attempt + 1)
            self._sleep(delay)
            attempt += 1


def _detail(response: httpx.Response | None) -> str:
    if response is None:
        return ""
    try:
        return str(response.json().get("detail", ""))[:300]
    except ValueError:
        return response.text[:300]


@dataclass(slots=True)
class GateSummary:
    frames: int = 0
    faces: int = 0
    passages: int = 0
    no_embedding: int = 0  # passages whose crops gave no embedding (nothing sent)


class ExitGate:
    """Frames in, one exit per passage out (through an :class:`ExitSender`)."""

    def __init__(self, sender: ExitSender, settings: GateSettings = GateSettings(),
                 exit_id: Callable[[datetime, int, int], str] | None = None,
                 locate_faces: Callable[[np.ndarray], list[Box]] | None = None) -> None:
        self.sender, self.settings = sender, settings
        self.tracker = PassageTracker(settings, exit_id or exit_id_for(sender.camera_id, "live", False))
        self._locate = locate_faces or (lambda rgb: locate(rgb, upsamples=(settings.upsample,)))
        self.summary = GateSummary()

    def feed(self, frame: Frame) -> None:
        """One BGR frame of the gate camera."""
        rgb = np.ascontiguousarray(frame.image[:, :, ::-1])
        boxes = self._locate(rgb)
        self.summary.frames += 1
        self.summary.faces += len(boxes)
        for passage in self.tracker.update(rgb, boxes, frame.captured_at, frame.index):
            self._send(passage)

    def end(self) -> None:
        """The stream ended: every open passage has ended too."""
        for passage in self.tracker.flush():
            self._send(passage)

    def run(self, frames: Iterable[Frame]) -> GateSummary:
        try:
            for frame in frames:
                self.feed(frame)
        finally:
            self.end()
        return self.summary

    def _send(self, passage: Passage) -> None:
        seen = best_observation(passage)
        passage.candidates.clear()  # the crops are not needed any more
        self.summary.passages += 1
        if seen is None:
            self.summary.no_embedding += 1
            return
        self.sender.submit(passage.exit_id, seen)
