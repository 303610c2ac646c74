"""`anshin demo`: central + edge worker on the real PETS 2009 video, end to end."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from services.demo import free_port, run_demo

ROOT = Path(__file__).resolve().parents[1]
ANSHIN = [str(Path(sys.executable).parent / "anshin")]


def anshin(*args, env=None, timeout=600):
    return subprocess.run([*ANSHIN, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_headless_demo_delivers_every_event_and_leaves_an_intact_audit_chain(tmp_path):
    done = anshin("demo", "--headless", "--max-frames", "40", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["frames"] == 40 * 2  # 40 per camera: pets-aisle and entrance
    assert summary["outbox_depth"] == 0 and summary["dead_letters"] == 0
    assert summary["events_by_type"].get("zone.occupancy", 0) >= 3  # one per zone at the first frame
    assert summary["events_in_central"] == summary["events_produced"]

    url = f"sqlite:///{tmp_path}/central.db"
    verified = anshin("audit", "verify", "--database-url", url)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    import sqlite3
    with sqlite3.connect(tmp_path / "central.db") as db:
        zones = {json.loads(p)["zone"] for (p,) in db.execute("select payload from events where type='zone.occupancy'")}
    assert zones == {"plaza", "crossing", "west-path"}


def test_demo_names_a_missing_video(tmp_path):
    config = (ROOT / "config" / "demo-store.yaml").read_text()
    bad = tmp_path / "store.yaml"
    bad.write_text(config.replace("pets2009_vtest_480x360.mp4", "no-such-video.mp4"))
    done = anshin("demo", "--headless", "--config", str(bad), "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "no-such-video.mp4" in done.stderr


@pytest.mark.slow
def test_demo_serves_the_live_page_while_the_worker_runs(tmp_path):
    port, stop = free_port(), threading.Event()
    worker = threading.Thread(target=run_demo, kwargs=dict(data_dir=tmp_path, port=port, stop_event=stop))
    worker.start()
    try:
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                feed = httpx.get(f"http://127.0.0.1:{port}/ui/occupancy", timeout=2)
                if feed.status_code == 200 and "plaza" in feed.text:
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        assert page is not None and page.status_code == 200
        assert "Anshin" in page.text
        assert "plaza" in feed.text
    finally:
        stop.set()
        worker.join(timeout=120)
    assert not worker.is_alive()
