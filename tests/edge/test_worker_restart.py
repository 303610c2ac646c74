"""A live camera's worker restarted after a crash picks up the alerts it had sent: an alert left
open is cleared once the zone is back under capacity, and not raised a second time meanwhile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from edge_builders import T0
from test_worker_generic import clip

import edge.worker
from edge.config import StoreConfig
from edge.sources import VideoSource
from edge.worker import EdgeWorker


class LiveCamera(VideoSource):
    """A video file read as if it were a live stream (no replay, so no deterministic ids)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.kind = "url"


def store(tmp_path: Path, video: Path, capacity: int) -> StoreConfig:
    return StoreConfig.model_validate({
        "store_id": "s1", "outbox": {"path": str(tmp_path / "outbox.sqlite")},
        "cameras": {"plaza": {
            "source": str(video), "tracker": {"frame_rate": 10},
            "zones": {"all": {"polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}},
            "analyzers": [{"type": "occupancy", "interval_s": 3600, "min_frames": 1, "hysteresis": 0,
                           "zones": {"all": {"capacity": capacity}}}],
        }},
    })


def alerts_of_run(config: StoreConfig, frames: int) -> list[str]:
    with EdgeWorker(config, "plaza", publish=False, origin=T0) as worker:
        before = {item.event_id for item in worker.outbox.peek(1000)}
        worker.run(max_frames=frames)
        new = [json.loads(i.body) for i in worker.outbox.peek(1000) if i.event_id not in before]
    return [e["type"] for e in new if e["type"] != "zone.occupancy"]


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge.worker, "VideoSource", LiveCamera)


def test_an_alert_left_open_by_a_crash_is_cleared_after_the_restart(tmp_path, live):
    video = clip(tmp_path, frames=6)
    assert alerts_of_run(store(tmp_path, video, capacity=1), frames=3) == ["zone.overcrowded"]
    # The process dies here: no zone.cleared was ever sent. The camera comes back, the crowd has gone
    # (modelled by a capacity the same people no longer exceed).
    assert alerts_of_run(store(tmp_path, video, capacity=50), frames=3) == ["zone.cleared"]


def test_a_zone_still_crowded_after_the_restart_is_not_alerted_twice(tmp_path, live):
    video = clip(tmp_path, frames=6)
    assert alerts_of_run(store(tmp_path, video, capacity=1), frames=3) == ["zone.overcrowded"]
    assert alerts_of_run(store(tmp_path, video, capacity=1), frames=3) == []


def test_without_saved_state_a_fresh_worker_has_nothing_to_clear(tmp_path, live):
    video = clip(tmp_path, frames=6)
    assert alerts_of_run(store(tmp_path, video, capacity=50), frames=3) == []
