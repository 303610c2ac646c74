"""One camera's pipeline: source → detect → track → analyzers → outbox, plus a publisher thread.

The detector runs on every ``detect_every``-th frame; in between, the last tracks carry over
(people move little in a fraction of a second, and detection is the expensive stage). Events go
to the durable outbox first; the publisher thread drains it to central independently, so a slow
or absent central never stalls the cameras and never loses an event.

Per-stage timings (decode, detect, track, analyze, outbox, publish) are kept for the benchmark
command; :meth:`EdgeWorker.snapshot` gives a UI the latest annotated frame and zone counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cv2
import numpy as np

from edge.analyzers.base import Analyzer, FrameContext, analyzer_class
from edge.config import CameraConfig, StoreConfig
from edge.detections import Detections
from edge.detectors.base import Detector
from edge.evidence import EvidencePicture, FaceFinder, evidence_jpeg
from edge.geometry import Anchor, anchor_points, inside, to_pixels
from edge.outbox import Outbox
from edge.publish import HttpPublisher
from edge.publish.factory import build_publisher
from edge.publish.status import edge_status, start_status_reporter
from edge.sources import Backoff, Frame, VideoSource
from services.contract import EdgeStatus

log = logging.getLogger(__name__)

STAGES = ("decode", "detect", "track", "analyze", "outbox", "publish")


class StageTimings:
    """Thread-safe per-stage counters: calls and seconds (the publisher thread adds "publish")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = dict.fromkeys(STAGES, 0)
        self._total = dict.fromkeys(STAGES, 0.0)
        self._frames: deque[float] = deque(maxlen=100_000)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._count[stage] = self._count.get(stage, 0) + 1
            self._total[stage] = self._total.get(stage, 0.0) + seconds

    def add_frame(self, seconds: float) -> None:
        """Wall time of one whole frame on the camera thread (decode through outbox)."""
        with self._lock:
            self._frames.append(seconds)

    def frame_percentiles_ms(self, *qs: float) -> list[float]:
        with self._lock:
            frames = np.asarray(self._frames, dtype=np.float64)
        if frames.size == 0:
            return [0.0 for _ in qs]
        return [round(float(np.percentile(frames, q)) * 1000, 3) for q in qs]

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
        jpeg: the latest frame with zones and tracked boxes drawn, JPEG bytes; None before the
            first frame and always under the ``minimal`` privacy profile (no images leave the worker).
        zone_counts: people per zone in that frame.
        frame_index: source frame number; -1 before the first frame.
        captured_at: capture time (UTC) of that frame.
        people: tracked people in the whole frame.
    """

    jpeg: bytes | None
    zone_counts: dict[str, int]
    frame_index: int
    captured_at: datetime | None
    people: int


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
        self._last: tuple[Frame, Detections, dict[str, int]] | None = None
        self._publisher_thread: threading.Thread | None = None
        self._faces = FaceFinder()  # blurs faces in pictures that leave the edge (profile standard)
        self._last_live: float | None = None  # monotonic time of the last live picture offered

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
        tracks = Detections.empty().with_tracker_ids(np.zeros(0, np.int64))
        try:
            frame_started = time.perf_counter()
            for frame in self._timed_frames(stop, max_frames):
                if summary.frames % self.camera.detect_every == 0:
                    t0 = time.perf_counter()
                    detections = self.detector.detect(frame.image)
                    t1 = time.perf_counter()
                    tracks = self.tracker.update(detections, frame.image)
                    t2 = time.perf_counter()
                    self.timings.add("detect", t1 - t0)
                    self.timings.add("track", t2 - t1)
                    summary.detections_run += 1
                summary.frames += 1
                self._analyze(frame, tracks, summary)
                now = time.perf_counter()
                self.timings.add_frame(now - frame_started)
                frame_started = now
                if time.monotonic() - last_progress >= progress_every_s:
                    last_progress = time.monotonic()
                    log.info(
                        "camera %r: %d frames (%.1f fps), %d events, outbox %d",
                        self.camera_id, summary.frames, summary.frames / max(1e-9, last_progress - started),
                        summary.events, self.outbox.depth(),
                    )
        finally:
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
        )
        t0 = time.perf_counter()
        events = [event for analyzer in self.analyzers for event in analyzer.update(tracks, ctx)]
        counts = zone_counts(self.camera, tracks, (width, height))
        t1 = time.perf_counter()
        self.timings.add("analyze", t1 - t0)
        if events:
            blobs = self._evidence_pictures(frame, tracks, events)  # each alert's picture, queued with it
            self.outbox.append(events, blobs=blobs) if blobs else self.outbox.append(events)  # durable before any publish
            self.timings.add("outbox", time.perf_counter() - t1)
            if self.publisher is not None:
                self.publisher.notify()
            summary.events += len(events)
            for event in events:
                summary.events_by_type[event.type] = summary.events_by_type.get(event.type, 0) + 1
        with self._lock:
            self._last = (frame, tracks, counts)
        self._offer_live(frame, tracks)

    # ------------------------------------------------------------------ pictures for central

    def _picture(self, image: np.ndarray, tracks: Detections, profile: str, boxes: list[Any] = ()) -> EvidencePicture | None:  # type: ignore[assignment]
        """The frame as it may leave the edge under ``profile`` (heads and faces blurred under standard)."""
        if profile == "minimal":
            return None
        people = [tracks.people().xyxy.reshape(-1, 4)] + [np.array([b.xyxy]) for b in boxes if b.label == "person"]
        faces = [np.array([b.xyxy]) for b in boxes if b.label == "face"]
        if profile == "standard":
            faces.append(self._faces.find(image))
        return evidence_jpeg(image, profile, np.vstack(people).astype(np.float32),
                             np.vstack(faces).astype(np.float32) if faces else None)

    def _evidence_pictures(self, frame: Frame, tracks: Detections, events: list[Any]) -> dict[str, tuple[bytes, bool]]:
        """The picture of the frame for each alert a person must review (none under ``minimal``)."""
        alerts = [e for e in events if e.review_required]
        if not alerts:
            return {}
        boxes = [b for e in alerts if e.evidence is not None for b in e.evidence.boxes]
        picture = self._picture(frame.image, tracks, self.store.privacy_profile, boxes)
        return {str(e.event_id): (picture.jpeg, picture.anonymised) for e in alerts} if picture else {}

    def _offer_live(self, frame: Frame, tracks: Detections) -> None:
        """Every ``live_snapshot_s`` seconds, give the publisher a blurred live picture (never under minimal)."""
        every = self.camera.live_snapshot_s
        offer = getattr(self.publisher, "offer_live", None)
        if not every or offer is None or self.store.privacy_profile == "minimal":
            return
        now = time.monotonic()
        if self._last_live is not None and now - self._last_live < every:
            return
        self._last_live = now
        # Live pictures are for the store view: always blurred, whatever the profile.
        picture = self._picture(frame.image, tracks, "standard")
        if picture is not None:
            offer(self.store.store_id, self.camera_id, picture.jpeg, picture.anonymised)

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
        """The latest frame (JPEG, zones and tracks drawn) and zone counts; safe from any thread."""
        with self._lock:
            last = self._last
        if last is None:
            return Snapshot(None, dict.fromkeys(self.camera.zones, 0), -1, None, 0)
        frame, tracks, counts = last
        jpeg = None
        if self.store.privacy_profile != "minimal":
            image = draw(frame.image, self.camera, tracks, counts) if annotate else frame.image
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
            jpeg = buf.tobytes() if ok else None
        return Snapshot(jpeg, dict(counts), frame.index, frame.captured_at, len(tracks.people()))

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
    """Analyzers of a camera, by config ``type``. Convention: ``cls(config, zones)``."""
    import edge.analyzers.entrance  # noqa: F401  (registers "entrance", use case A)
    import edge.analyzers.occupancy  # noqa: F401  (registers "occupancy"; new analyzers are listed here)

    return [analyzer_class(cfg.type)(cfg, camera.zones) for cfg in camera.analyzers]


def zone_counts(camera: CameraConfig, tracks: Detections, frame_size: tuple[int, int]) -> dict[str, int]:
    """People per zone (bottom-centre anchor), for every zone of the camera."""
    feet = anchor_points(tracks.people().xyxy, Anchor.BOTTOM_CENTER)
    return {name: int(inside(feet, to_pixels(zone.polygon, frame_size)).sum()) for name, zone in camera.zones.items()}


def draw(image: np.ndarray, camera: CameraConfig, tracks: Detections, counts: dict[str, int]) -> np.ndarray:
    """A copy of the frame with zone outlines (red when over capacity), counts and tracked boxes."""
    out = image.copy()
    size = (image.shape[1], image.shape[0])
    for name, zone in camera.zones.items():
        poly = to_pixels(zone.polygon, size).round().astype(np.int32)
        over = counts.get(name, 0) > zone.capacity
        colour = (0, 0, 255) if over else (0, 200, 0)
        cv2.polylines(out, [poly], isClosed=True, color=colour, thickness=2)
        x, y = poly.min(axis=0)
        cv2.putText(out, f"{name} {counts.get(name, 0)}/{zone.capacity}", (int(x) + 4, int(y) + 16),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    people = tracks.people()
    for k in range(len(people)):
        x1, y1, x2, y2 = (int(v) for v in people.xyxy[k])
        cv2.rectangle(out, (x1, y1), (x2, y2), (255, 200, 0), 1)
        if people.tracker_id is not None:
            cv2.putText(out, str(int(people.tracker_id[k])), (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 200, 0), 1)
    return out
