"""`anshin demo`: central + edge worker on the real PETS 2009 video, end to end."""

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from anshin.demo import free_port, run_demo

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
    assert summary["frames"] == 40 * 3  # 40 per camera: pets-aisle, mall and entrance
    assert summary["outbox_depth"] == 0 and summary["dead_letters"] == 0
    assert summary["events_by_type"].get("zone.occupancy", 0) >= 3  # one per zone at the first frame
    assert summary["events_in_central"] == summary["events_produced"]

    url = f"sqlite:///{tmp_path}/central.db"
    verified = anshin("audit", "verify", "--database-url", url)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    import sqlite3
    with sqlite3.connect(tmp_path / "central.db") as db:
        zones = {json.loads(p)["zone"] for (p,) in db.execute("select payload from events where type='zone.occupancy'")}
    assert zones == {"plaza", "crossing", "west-path", "concourse", "near-floor"}
    with sqlite3.connect(tmp_path / "central.db") as db:
        mall = [json.loads(p) for (p,) in db.execute("select payload from events where type='zone.occupancy' and camera_id='mall'")]
    assert mall and all(p["calibrated"] for p in mall if p["zone"] == "concourse")  # the crowded view's counts are calibrated
    assert all(p["count"] > p["raw_count"] for p in mall if p["zone"] == "concourse")


def test_demo_names_a_missing_video(tmp_path):
    config = (ROOT / "config" / "demo-store.yaml").read_text()
    bad = tmp_path / "store.yaml"
    bad.write_text(config.replace("pets2009_vtest_480x360.mp4", "no-such-video.mp4"))
    done = anshin("demo", "--headless", "--config", str(bad), "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "no-such-video.mp4" in done.stderr


@pytest.mark.slow
def test_demo_serves_the_dashboard_to_its_demo_account_while_the_worker_runs(tmp_path):
    port, stop = free_port(), threading.Event()
    worker = threading.Thread(target=run_demo, kwargs=dict(data_dir=tmp_path, port=port, stop_event=stop,
                                                           demo_password="demo-test-password"))
    worker.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as browser:
            deadline, live, queue = time.monotonic() + 120, "", ""
            while time.monotonic() < deadline:
                try:
                    if "anshin_session" not in browser.cookies:
                        assert browser.get("/queue").status_code in (200, 303)  # signed out: sent to /login
                        form = browser.get("/login").text
                        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
                        browser.post("/login", data={"name": "demo", "password": "demo-test-password", "csrf_token": token})
                    live = browser.get("/stores/demo-store/live").text
                    queue = browser.get("/queue/items?state=all").text
                    if "plaza" in live and "/ui/live/demo-store/pets-aisle.jpg" in live and "data-item-id" in queue:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(1)
            assert "plaza" in live and 'data-zone="crossing"' in live  # occupancy per zone
            assert browser.get("/ui/live/demo-store/pets-aisle.jpg").headers["content-type"] == "image/jpeg"
            assert "data-item-id" in queue  # occupancy alerts arrived for the demo account to decide
            assert browser.get("/audit").status_code == 403  # a staff account
    finally:
        stop.set()
        worker.join(timeout=120)
    assert not worker.is_alive()
