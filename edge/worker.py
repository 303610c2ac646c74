"""One camera's pipeline: source → detect → track → analyzers → evidence → outbox, plus a publisher thread.

The worker knows no use case: it builds the camera's analyzers through the registry
(:mod:`edge.usecases`), gives them a :class:`FrameContext` (per-frame results such as faces are
computed once, on first use, and shared), queues what they yield with the pictures they ask
for (made by the one evidence stage, :mod:`edge.evidence`), and offers a live view through the
analyzers' optional ``live_state``/``overlay`` hooks without knowing what they draw.

The detector runs on every ``detect_every``-th frame; in between, the last tracks carry over
(tracked objects move little in a fraction of a second, and detection is the expensive stage). Events go
to the durable outbox first; the publisher thread drains it to central independently, so a slow
or absent central never stalls the cameras and never loses an event.

Per-stage timings are kept for the benchmark command: on the camera thread decode, detect, track,
analyze, faces (the frame's face detection, whoever asks first), evidence, live (the blurred live
picture) and outbox, each frame's wall time and whether it was a detect frame; on the publisher
thread, publish. A stage that asks for the faces is timed without them, so no second is counted
twice; :meth:`EdgeWorker.snapshot` gives a UI the latest annotated frame and the analyzers' live state.

Evidence clips: when an analyzer asks for one (``EvidenceRequest(clip=(before_s, after_s))``, and
offers the longest it may ask for as ``evidence_clip_s``), the worker keeps that many recent
frames (:class:`edge.evidence.ClipBuffer`) and holds the event until the seconds after it have
passed; then the clip (anonymised like the picture; none under ``minimal``) goes into the outbox
appended to the event's picture. A held event is in memory for those seconds only: a crash then
loses it for a live camera (a file replays it under the same id); a stopped run sends what it holds.

Events of a replayable source (a video file) get deterministic ids (:func:`replay_event_id`):
an edge restarted after a crash replays the file from frame 0 and produces the same events
under the same ids, which the outbox and central then take as the repeats they are. Live
sources keep random ids.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import cv2
import numpy as np

from edge.config import CameraConfig, StoreConfig
from edge.detections import Detections
from edge.detectors.base import Detector
from edge.evidence import ClipBuffer, live_picture, render_clip, render_evidence
from edge.faces import FaceFinder, Faces
from edge.faces.finder import DEFAULT_SCORE
from edge.outbox import Outbox
from edge.publish import HttpPublisher
from edge.publish.factory import build_publisher
from edge.publish.status import edge_status, start_status_reporter
from edge.sources import Backoff, Frame, VideoSource
from edge.sources.sensors.feed import SensorFeed
from edge.tracking.cadence import DetectTrackCadence
from edge.usecases import Analyzer, EvidenceRequest, FrameContext, create_analyzer
from services.contract import EdgeStatus, Event
from services.contract.blobs import MAX_BLOB_BYTES, bundle

log = logging.getLogger(__name__)

#: The camera thread's stages in pipeline order (each frame's wall time covers them all), then the publisher thread's.
CAMERA_STAGES = ("decode", "detect", "track", "analyze", "faces", "evidence", "live", "outbox")
STAGES = (*CAMERA_STAGES, "publish")

#: Namespace of the deterministic event ids of replayable sources (fixed: ids must survive restarts and upgrades).
REPLAY_NAMESPACE = UUID("6f0c2a9e-5b1d-4c3e-9a47-2d8e1f6b3c10")


def replay_event_id(store_id: str, camera_id: str, source: str, frame_index: int, analyzer: str, nth: int) -> UUID:
    """The id of the ``nth`` event an analyzer yields on one frame of a replayable source.

    ``frame_index`` counts from the start of the run across loop passes, so a looped file's
    second pass gets new ids and a restarted run the same ones. ``analyzer`` is the analyzer's
    position and type on the camera (``"0:<type>"``), so two analyzers never share ids.

    >>> a = replay_event_id("s1", "c1", "/v/a.mp4", 12, "0:counter", 0)
    >>> a == replay_event_id("s1", "c1", "/v/a.mp4", 12, "0:counter", 0), a == replay_event_id("s1", "c1", "/v/a.mp4", 12, "0:counter", 1)
    (True, False)
    """
    return uuid5(REPLAY_NAMESPACE, f"{store_id}|{camera_id}|{source}|{frame_index}|{analyzer}|{nth}")


class StageTimings:
    """Thread-safe per-stage counters: calls and seconds (the publisher thread adds "publish")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = dict.fromkeys(STAGES, 0)
        self._total = dict.fromkeys(STAGES, 0.0)
        self._frames: deque[tuple[float, bool]] = deque(maxlen=100_000)
        self._frame_total = {True: 0.0, False: 0.0}  # whole-run wall seconds of detect / carried frames
        self._frame_count = {True: 0, False: 0}

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._count[stage] = self._count.get(stage, 0) + 1
            self._total[stage] = self._total.get(stage, 0.0) + seconds

    def add_frame(self, seconds: float, detected: bool = True) -> None:
        """Wall time of one whole frame on the camera thread (decode through live picture and outbox)."""
        with self._lock:
            self._frames.append((seconds, detected))
            self._frame_total[detected] += seconds
            self._frame_count[detected] += 1

    def frame_percentiles_ms(self, *qs: float, detected: bool | None = None) -> list[float]:
        """Percentiles of the frames' wall times in ms: all frames (None), detect frames (True) or carried ones (False).

        >>> t = StageTimings()
        >>> for s, d in [(0.010, True), (0.002, False), (0.030, True), (0.004, False)]:
        ...     t.add_frame(s, d)
        >>> t.frame_percentiles_ms(50, detected=True), t.frame_percentiles_ms(50, detected=False), t.frame_percentiles_ms(100)
        ([20.0], [3.0], [30.0])
        """
        with self._lock:
            frames = np.asarray([s for s, d in self._frames if detected is None or d == detected], dtype=np.float64)
        if frames.size == 0:
            return [0.0 for _ in qs]
        return [round(float(np.percentile(frames, q)) * 1000, 3) for q in qs]

    def frame_totals(self) -> dict[str, dict[str, float]]:
        """Frames and wall seconds on the camera thread: ``{"all"|"detect"|"carry": {"frames": n, "wall_s": s}}``."""
        with self._lock:
            count, total = dict(self._frame_count), dict(self._frame_total)
        return {
            "all": {"frames": count[True] + count[False], "wall_s": round(total[True] + total[False], 6)},
            "detect": {"frames": count[True], "wall_s": round(total[True], 6)},
            "carry": {"frames": count[False], "wall_s": round(total[False], 6)},
        }

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"count": calls, "total_s": seconds, "mean_ms": milliseconds per call}}``."""
        with self._lock:
            return {
                stage: {
                    "count": self._count[stage],
                    "total_s": round(self._total[stage], 6),
                    "mean_ms": round(1000 * self._total[stage] / self._count[stage], 3) if self._count[stage] else 0.0,
                }
                for stage in self._count
            }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a UI shows for one camera.

    Attributes:
        jpeg: the latest frame with the analyzers' overlays and the tracked boxes drawn, JPEG
            bytes; None before the first frame and always under the ``minimal`` privacy profile
            (no images leave the worker).
        live: each analyzer's ``live_state()`` for that frame, by analyzer key (its ``type``;
            ``type[i]`` for a second analyzer of one type); analyzers without the hook are left out.
        frame_index: source frame number; -1 before the first frame.
        captured_at: capture time (UTC) of that frame.
        tracks: tracked objects in the whole frame.
    """

    jpeg: bytes | None
    live: dict[str, dict[str, Any]]
    frame_index: int
    captured_at: datetime | None
    tracks: int


@dataclass(slots=True)
class _HeldForClip:
    """Events waiting for the seconds after them, with their pictures and how much clip they asked for."""

    events: list[Event]
    pictures: dict[str, tuple[bytes, bool]]  # event id -> (jpeg, anonymised), as render_evidence made them
    start: datetime
    due: datetime


@dataclass
class RunSummary:
    frames: int = 0
    detections_run: int = 0
    events: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    outbox_depth: int = 0
    dead_letters: int = 0
    flushed: bool | None = None  # None: no flush attempted


class EdgeWorker:
    """Runs one camera of a store.

    Args:
        store: the validated store config.
        camera_id: which camera of ``store.cameras``.
        detector: a ready detector; default: ``create_detector(camera.detector)``.
        tracker: object with ``update(detections, frame) -> Detections`` (tracker_id set);
            default: :class:`edge.tracking.ByteTracker` from ``camera.tracker``.
        outbox: default: ``Outbox(store.outbox.path)``.
        publisher: default: an :class:`HttpPublisher` from ``store.central`` (needs the API key
            variable) when ``publish`` is true.
        publish: False runs without a publisher thread (events stay in the outbox).
        origin: video time 0 for file sources (UTC); default: when the source opens.
        source_sleep: the source's wait between reconnect attempts.
        drain_timeout_s: when the run ends, publish for up to this long to empty the outbox.
    """

    def __init__(
        self,
        store: StoreConfig,
        camera_id: str,
        *,
        detector: Detector | None = None,
        tracker: Any | None = None,
        outbox: Outbox | None = None,
        publisher: HttpPublisher | None = None,
        publish: bool = True,
        origin: datetime | None = None,
        source_sleep: Callable[[float], Any] | None = None,
        drain_timeout_s: float = 5.0,
    ) -> None:
        self.store = store
        self.camera_id = camera_id
        self.camera: CameraConfig = store.camera(camera_id)
        # Build the cheap, config-dependent parts first so a bad key or path fails before model loading.
        self._owned: list[Any] = []  # what this worker opened, and so closes
        if outbox is None:
            outbox = Outbox(store.outbox.path)
            self._owned.append(outbox)
        self.outbox = outbox
        if publisher is None and publish:
            try:
                publisher = build_publisher(self.outbox, store, camera_id)  # store.publisher: http or mqtt
            except BaseException:
                self.close()
                raise
            self._owned.insert(0, publisher)
        self.publisher = publisher
        self.source: VideoSource | None = None
        try:
            self.analyzers: list[Analyzer] = build_analyzers(self.camera)
            # Readings of the sensors the analyzers name, handed to them on this thread each frame.
            self.sensors = SensorFeed(store.sensors_by_id(), self.analyzers)
            # Faces are found once per frame for every analyzer and for blurring; analyzers that
            # screen faces say the lowest score they use (and need the model now).
            scores = [float(a.face_score) for a in self.analyzers if hasattr(a, "face_score")]
            self._faces = FaceFinder(min([DEFAULT_SCORE, *scores]), required=bool(scores))
            self.source = VideoSource(
                self.camera.source,
                loop=self.camera.loop,
                fps_limit=self.camera.fps_limit,
                backoff=Backoff(self.camera.reconnect.initial_delay_s, self.camera.reconnect.max_delay_s, self.camera.reconnect.max_retries),
                name=camera_id,
                origin=origin,
                **({"sleep": source_sleep} if source_sleep is not None else {}),
            )
            if detector is None:
                from edge.detectors import create_detector

                detector = create_detector(self.camera.detector)
            if tracker is None:
                from edge.tracking import ByteTracker

                tracker = ByteTracker(self.camera.tracker)
        except BaseException:
            self.close()  # a half-built worker must not leave the outbox or a client open
            raise
        self.detector: Detector = detector
        self.tracker = tracker
        self.drain_timeout_s = drain_timeout_s
        self.timings = StageTimings()
        self._lock = threading.Lock()
        self._last: tuple[Frame, Detections, list[dict[str, Any] | None]] | None = None
        self._publisher_thread: threading.Thread | None = None
        self._replayable = self.source.kind == "file"  # a file restarts at frame 0: ids must repeat
        self._last_live: float | None = None  # monotonic time of the last live picture offered
        self._faces_s = 0.0  # camera-thread seconds in face detection so far (stages that ask for faces exclude them)
        # Clips: as many seconds of frames as the longest clip an analyzer may ask for (none under minimal).
        spans = [getattr(a, "evidence_clip_s", None) for a in self.analyzers]
        longest = max((before + after for before, after in (s for s in spans if s)), default=0.0)
        self._clips = ClipBuffer(longest) if longest > 0 and store.privacy_profile != "minimal" else None
        self._held: list[_HeldForClip] = []
        if not self._replayable:
            # A live camera restarted after a crash: analyzers pick up the alerts they had sent, so
            # an alert left open is cleared when the situation is over, and not raised twice.
            # (A file replays from frame 0 and rebuilds the same state, under the same event ids.)
            self._restore_states()

    # ------------------------------------------------------------------ running

    def run(self, max_frames: int | None = None, stop_event: threading.Event | None = None, progress_every_s: float = 10.0) -> RunSummary:
        """Process frames until the source ends, ``max_frames`` were processed or ``stop_event`` is set.

        Raises:
            SourceError: the camera stayed dead through its reconnect attempts.
        """
        stop = stop_event or threading.Event()
        summary = RunSummary()
        started = last_progress = time.monotonic()
        publisher_stop = threading.Event()
        self._start_publisher(publisher_stop)
        self.sensors.start()
        cadence = DetectTrackCadence(self.detector, self.tracker, self.camera.detect_every)  # as `anshin eval track` runs it
        try:
            frame_started = time.perf_counter()
            for frame in self._timed_frames(stop, max_frames):
                step = cadence.step(frame.image)
                if step.detected:
                    self.timings.add("detect", step.detect_s)
                    self.timings.add("track", step.track_s)
                    summary.detections_run += 1
                summary.frames += 1
                self._analyze(frame, step.tracks, summary)
                now = time.perf_counter()
                self.timings.add_frame(now - frame_started, step.detected)
                frame_started = now
                if time.monotonic() - last_progress >= progress_every_s:
                    last_progress = time.monotonic()
                    log.info(
                        "camera %r: %d frames (%.1f fps), %d events, outbox %d",
                        self.camera_id, summary.frames, summary.frames / max(1e-9, last_progress - started),
                        summary.events, self.outbox.depth(),
                    )
        finally:
            self._release_clips(None, summary)  # the run ends: send what is held, with the frames there are
            self.sensors.stop()
            publisher_stop.set()
            self._stop_publisher()
            if self.publisher is not None and self.drain_timeout_s > 0 and self.outbox.depth() > 0:
                summary.flushed = self.publisher.flush(self.drain_timeout_s)
            summary.elapsed_s = time.monotonic() - started
            summary.outbox_depth = self.outbox.depth()
            summary.dead_letters = self.outbox.dead_letter_depth()
        return summary

    def _timed_frames(self, stop: threading.Event, max_frames: int | None) -> Iterator[Frame]:
        assert self.source is not None
        frames = self.source.frames(stop, max_frames)
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                return
            self.timings.add("decode", time.perf_counter() - t0)
            yield frame

    def _analyze(self, frame: Frame, tracks: Detections, summary: RunSummary) -> None:
        height, width = frame.image.shape[:2]
        ctx = FrameContext(
            store_id=self.store.store_id,
            camera_id=self.camera_id,
            at=frame.captured_at,
            frame_size=(width, height),
            frame=frame.image,
            model_name=getattr(self.detector, "model_name", ""),
            model_version=getattr(self.detector, "model_version", ""),
            privacy_profile=self.store.privacy_profile,
            face_finder=self._timed_faces,
        )
        with self._stage("analyze"):
            # Readings are live data: their events keep random ids (a replayed video must not repeat them).
            found = [
                (event, ctx.evidence_for(event))
                for i, reading in self.sensors.drain()
                for event in self.analyzers[i].on_reading(reading, ctx)  # type: ignore[attr-defined]
            ]
            found += [
                (self._identified(event, frame, f"{i}:{analyzer.type}", n), ctx.evidence_for(event))
                for i, analyzer in enumerate(self.analyzers)
                for n, event in enumerate(analyzer.update(tracks, ctx))
            ]
            live = [_live_state(analyzer) for analyzer in self.analyzers]
        if self._clips is not None:
            with self._stage("evidence"):
                self._clips.add(frame.captured_at, frame.image, tracks)
        if found:
            with self._stage("evidence"):
                blobs = self._evidence(frame, tracks, ctx, found)  # each asked-for picture, queued with its event
            now = [(event, request) for event, request in found if not self._holds(request)]
            for before, after in sorted({r.clip for _, r in found if self._holds(r)}):  # type: ignore[union-attr]
                held = [e for e, r in found if self._holds(r) and r.clip == (before, after)]  # type: ignore[union-attr]
                self._held.append(_HeldForClip(
                    held, {str(e.event_id): blobs[str(e.event_id)] for e in held if str(e.event_id) in blobs},
                    frame.captured_at - timedelta(seconds=before), frame.captured_at + timedelta(seconds=after)))
            if now:
                ids = {str(event.event_id) for event, _ in now}
                self._queue([event for event, _ in now], {k: v for k, v in blobs.items() if k in ids}, summary)
        self._release_clips(frame.captured_at, summary)
        with self._lock:
            self._last = (frame, tracks, live)
        self._offer_live(frame, tracks, ctx)

    def _queue(self, events: list[Event], blobs: dict[str, tuple[bytes, bool]], summary: RunSummary) -> None:
        """Append events (with their pictures and the analyzers' state) to the outbox; wake the publisher."""
        with self._stage("outbox"):
            extra = {name: value for name, value in (("blobs", blobs), ("state", self._states())) if value}
            self.outbox.append(events, **extra)  # durable before any publish, with the analyzers' state after them
        if self.publisher is not None:
            self.publisher.notify()
        summary.events += len(events)
        for event in events:
            summary.events_by_type[event.type] = summary.events_by_type.get(event.type, 0) + 1

    # ------------------------------------------------------------------ evidence clips

    def _holds(self, request: EvidenceRequest | None) -> bool:
        """Whether an event waits for a clip (asked for, and this worker keeps frames for clips)."""
        return self._clips is not None and request is not None and request.clip is not None

    def _release_clips(self, now: datetime | None, summary: RunSummary) -> None:
        """Queue held events whose seconds after have passed (all of them when ``now`` is None), with their clips."""
        if not self._held:
            return
        due = [h for h in self._held if now is None or h.due <= now]
        self._held = [h for h in self._held if h not in due]
        for held in due:
            blobs = dict(held.pictures)
            if self._clips is not None and blobs:
                with self._stage("evidence"):
                    clip = render_clip(self._clips.between(held.start, held.due), self.store.privacy_profile,
                                       self._timed_faces, self._clips.fps)
                for event_id, (jpeg, anonymised) in held.pictures.items():
                    if clip is None:
                        continue
                    if len(jpeg) + len(clip.webm) > MAX_BLOB_BYTES:  # would not fit an MQTT message: the picture alone
                        log.warning("camera %r: evidence clip of %d bytes too large; the event goes with its picture only",
                                    self.camera_id, len(clip.webm))
                        continue
                    # One blob, one anonymised flag: both were blurred under the same profile.
                    blobs[event_id] = (bundle(jpeg, clip.webm), anonymised and clip.anonymised)
            self._queue(held.events, blobs, summary)

    def _state_key(self, position: int, analyzer: Analyzer) -> str:
        return f"{self.camera_id}/{position}:{analyzer.type}"

    def _states(self) -> dict[str, str]:
        """The durable state of every analyzer that keeps one (``durable_state()`` hook), as JSON."""
        return {
            self._state_key(i, analyzer): json.dumps(analyzer.durable_state(), sort_keys=True)  # type: ignore[attr-defined]
            for i, analyzer in enumerate(self.analyzers)
            if callable(getattr(analyzer, "durable_state", None))
        }

    def _restore_states(self) -> None:
        for i, analyzer in enumerate(self.analyzers):
            restore = getattr(analyzer, "restore_state", None)
            saved = self.outbox.saved_state(self._state_key(i, analyzer)) if callable(restore) else None
            if saved is None:
                continue
            try:
                restore(json.loads(saved))
                log.info("camera %r: analyzer %r resumed its saved state", self.camera_id, analyzer.type)
            except (ValueError, TypeError, KeyError) as exc:  # a state from another config or build: start afresh
                log.warning("camera %r: analyzer %r could not resume its saved state (%s); starting afresh",
                            self.camera_id, analyzer.type, exc)

    def _identified(self, event: Event, frame: Frame, analyzer: str, nth: int) -> Event:
        """The event with a deterministic id when the source replays (a file); as it is otherwise."""
        if not self._replayable:
            return event
        event_id = replay_event_id(self.store.store_id, self.camera_id, str(self.camera.source), frame.index, analyzer, nth)
        return event.model_copy(update={"event_id": event_id})

    # ------------------------------------------------------------------ pictures for central

    def _evidence(self, frame: Frame, tracks: Detections, ctx: FrameContext,
                  found: list[tuple[Event, EvidenceRequest | None]]) -> dict[str, tuple[bytes, bool]]:
        """One picture of the frame for every event that asked for one (none under ``minimal``)."""
        asked = [(event, request) for event, request in found if request is not None]
        picture = render_evidence(frame.image, self.store.privacy_profile, [r for _, r in asked], tracks, ctx.faces)
        return {str(event.event_id): (picture.jpeg, picture.anonymised) for event, _ in asked} if picture else {}

    def _offer_live(self, frame: Frame, tracks: Detections, ctx: FrameContext) -> None:
        """Every ``live_snapshot_s`` seconds, give the publisher a blurred live picture (never under minimal)."""
        every = self.camera.live_snapshot_s
        offer = getattr(self.publisher, "offer_live", None)
        if not every or offer is None or self.store.privacy_profile == "minimal":
            return
        now = time.monotonic()
        if self._last_live is not None and now - self._last_live < every:
            return
        self._last_live = now
        with self._stage("live"):
            picture = live_picture(frame.image, tracks, ctx.faces)  # always blurred, whatever the profile
            if picture is not None:
                offer(self.store.store_id, self.camera_id, picture.jpeg, picture.anonymised)

    def _timed_faces(self, image: np.ndarray) -> Faces:
        """The face finder, timed as the "faces" stage (it runs at most once a frame, for whoever asks first)."""
        t0 = time.perf_counter()
        faces = self._faces(image)
        seconds = time.perf_counter() - t0
        self._faces_s += seconds
        self.timings.add("faces", seconds)
        return faces

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Time a camera-thread stage, less any face detection it triggered (counted under "faces")."""
        t0, faces0 = time.perf_counter(), self._faces_s
        try:
            yield
        finally:
            self.timings.add(name, time.perf_counter() - t0 - (self._faces_s - faces0))

    def _start_publisher(self, stop: threading.Event) -> None:
        if self.publisher is None:
            return
        self._publisher_thread = threading.Thread(
            target=self.publisher.run, args=(stop,), name=f"publisher-{self.camera_id}", daemon=True
        )
        self._publisher_thread.start()
        # Health reports (outbox depth, inference time) to central's /metrics, beside the events.
        start_status_reporter(self.publisher, self._status, stop, self.store.central.status_interval_s,
                              name=f"status-{self.camera_id}")

    def _status(self) -> EdgeStatus:
        detect = self.timings.summary().get("detect", {})
        return edge_status(self.store.store_id, self.camera_id, self.outbox,
                           detect.get("mean_ms") if detect.get("count") else None)

    def _stop_publisher(self) -> None:
        if self._publisher_thread is not None and self.publisher is not None:
            self.publisher.notify()
            self._publisher_thread.join(timeout=30)
            self._publisher_thread = None

    def close(self) -> None:
        """Release the source and whatever this worker opened itself (an injected outbox stays open)."""
        if getattr(self, "source", None) is not None:
            self.source.close()
        while self._owned:
            self._owned.pop(0).close()

    def __enter__(self) -> EdgeWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ for a UI

    def snapshot(self, annotate: bool = True, quality: int = 80) -> Snapshot:
        """The latest frame (JPEG, with the analyzers' overlays and the tracks) and the analyzers' live state; any thread."""
        with self._lock:
            last = self._last
        if last is None:
            fresh = [_live_state(analyzer) for analyzer in self.analyzers]
            return Snapshot(None, _live_by_key(self.analyzers, fresh), -1, None, 0)
        frame, tracks, live = last
        jpeg = None
        if self.store.privacy_profile != "minimal":
            image = draw(frame.image, self.analyzers, live, tracks) if annotate else frame.image
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
            jpeg = buf.tobytes() if ok else None
        return Snapshot(jpeg, _live_by_key(self.analyzers, live), frame.index, frame.captured_at, len(tracks))

    def stage_timings(self) -> dict[str, dict[str, float]]:
        """Per-stage ``count``/``total_s``/``mean_ms``; "publish" is per POST, from the publisher thread."""
        timings = self.timings.summary()
        if self.publisher is not None:
            stats = self.publisher.stats
            timings["publish"] = {
                "count": stats.requests,
                "total_s": round(stats.post_seconds, 6),
                "mean_ms": round(1000 * stats.post_seconds / stats.requests, 3) if stats.requests else 0.0,
            }
        return timings


def build_analyzers(camera: CameraConfig) -> list[Analyzer]:
    """The camera's analyzers, in config order, built through the use-case registry."""
    return [create_analyzer(cfg, camera) for cfg in camera.analyzers]


def _live_state(analyzer: Analyzer) -> dict[str, Any] | None:
    hook = getattr(analyzer, "live_state", None)
    return dict(hook()) if hook is not None else None


def _live_by_key(analyzers: list[Analyzer], live: list[dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """Live states by analyzer ``type`` (``type[i]`` for a second analyzer of one type)."""
    out: dict[str, dict[str, Any]] = {}
    for i, (analyzer, state) in enumerate(zip(analyzers, live, strict=True)):
        if state is not None:
            out[analyzer.type if analyzer.type not in out else f"{analyzer.type}[{i}]"] = state
    return out


def draw(image: np.ndarray, analyzers: list[Analyzer], live: list[dict[str, Any] | None], tracks: Detections) -> np.ndarray:
    """A copy of the frame with each analyzer's overlay (from its live state) and the tracked boxes with their ids."""
    out = image.copy()
    for analyzer, state in zip(analyzers, live, strict=True):
        overlay = getattr(analyzer, "overlay", None)
        if overlay is not None and state is not None:
            overlay(out, state)
    for k in range(len(tracks)):
        x1, y1, x2, y2 = (int(v) for v in tracks.xyxy[k])
        cv2.rectangle(out, (x1, y1), (x2, y2), (255, 200, 0), 1)
        if tracks.tracker_id is not None:
            cv2.putText(out, str(int(tracks.tracker_id[k])), (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 200, 0), 1)
    return out
