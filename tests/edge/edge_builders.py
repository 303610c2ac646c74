"""Tiny builders for edge tests: tracks, events, a real central service in a thread."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np

from edge.detections import Detections
from services.contract import Event, UseCase

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


def make_tracks(*xyxy: tuple[float, float, float, float], ids: list[int] | None = None,
                class_id: int | list[int] = 0, score: float = 0.9) -> Detections:
    """Tracked detections from plain boxes (pixels); ids default to 1..n, class to person."""
    n = len(xyxy)
    classes = class_id if isinstance(class_id, list) else [class_id] * n
    return Detections(
        xyxy=np.array(xyxy, np.float32).reshape(-1, 4),
        score=np.full(n, score, np.float32),
        class_id=np.array(classes, np.int64),
        tracker_id=np.array(ids if ids is not None else list(range(1, n + 1)), np.int64),
    )


def make_events(n: int, store_id: str = "store-1", camera_id: str = "cam-1", start: int = 0) -> list[Event]:
    """``n`` distinct zone.occupancy events, 1 s apart."""
    return [
        Event(type="zone.occupancy", use_case=UseCase.F, store_id=store_id, camera_id=camera_id,
              occurred_at=T0 + timedelta(seconds=start + k), payload={"zone": "aisle", "count": k % 7, "capacity": 5})
        for k in range(n)
    ]


class NoDetector:
    """A detector that finds nothing: for tests of what the worker does around detection."""

    model_name, model_version = "none", "0"

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()


class NoTracker:
    def update(self, detections: Detections, image: np.ndarray) -> Detections:
        return detections.with_tracker_ids(np.zeros(len(detections), np.int64))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CentralServer:
    """The real central app (``create_app``) under uvicorn in a thread; stop and start it at will.

    The database is a SQLite file under ``data_dir`` and the port is fixed at construction, so a
    restart serves the same data at the same address, as a restarted container would.
    """

    def __init__(self, data_dir: Path, port: int | None = None, **settings: object) -> None:
        from services.central.settings import Settings

        data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir}/central.db", **settings)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> CentralServer:
        import uvicorn

        from services.central.api.app import create_app

        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"central-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"central did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            assert not self._thread.is_alive(), "central did not stop"
        self._server = self._thread = None

    def create_key(self, name: str, scopes: list[str], store_id: str | None = None) -> str:
        from services.central.auth import create_key
        from services.central.db.migrate import upgrade
        from services.central.db.session import Database

        db = Database.from_settings(self.settings)
        try:
            upgrade(db.engine)
            with db.unit_of_work() as session:
                return create_key(session, name, scopes, store_id, actor="test").secret
        finally:
            db.dispose()

    def stored_event_ids(self, reader_key: str, **filters: str) -> list[str]:
        """Every stored event id (one entry per stored row), through the read API."""
        ids: list[str] = []
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {reader_key}"}, timeout=10) as client:
            while True:
                page = client.get("/api/v1/events", params={**filters, "limit": 500, "offset": len(ids)})
                page.raise_for_status()
                body = page.json()
                ids += [e["event_id"] for e in body["data"]]
                if not body["data"] or len(ids) >= body["count"]:
                    return ids
