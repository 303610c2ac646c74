"""``anshin shelf demo`` end to end, shortened: the shelf camera (an MJPEG stream of two real photos)
raises gaps; the simulated AMR takes a VDA 5050 order over the real broker and reports its state; the
next photo closes the task on camera; the AMR's second order fails at the pick and staff take over."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from anshin.demo import free_port
from anshin.shelf_demo import run_shelf_demo
from edge.paths import PROJECT_ROOT

CONFIG = PROJECT_ROOT / "config"


def configs(tmp_path: Path) -> Path:
    camera = yaml.safe_load((CONFIG / "shelf-demo-camera.yaml").read_text())
    camera["cameras"]["shelf-1"]["source"] = f"http://127.0.0.1:{free_port()}/shelf.mjpg"
    camera["outbox"]["path"] = str(tmp_path / "outbox.sqlite")
    (tmp_path / "camera.yaml").write_text(yaml.safe_dump(camera))
    shelf = yaml.safe_load((CONFIG / "shelf-demo-store.yaml").read_text())
    shelf["floor"] = str(CONFIG / "floors" / "demo-store.yaml")
    shelf["demo"] |= {"camera_config": "camera.yaml", "hold_s": 9}
    shelf["demo"]["robot"] |= {"speed_m_s": 6.0, "action_s": 0.3}
    (tmp_path / "shelf.yaml").write_text(yaml.safe_dump(shelf))
    return tmp_path / "shelf.yaml"


def story_told(tasks: list[dict]) -> bool:
    by_robot = [t for t in tasks if t["assignee"] == "robot" and t["order_state"] == "FINISHED" and t["state"] == "done"]
    fell_back = [t for t in tasks if t["fallback_reason"] == "robot_failed"]
    return bool(by_robot and fell_back)


@pytest.mark.slow
def test_shelf_demo_gap_robot_refill_and_failure_fallback(tmp_path: Path) -> None:
    summary = run_shelf_demo(configs(tmp_path), data_dir=tmp_path / "central", port=free_port(), seconds=90,
                             until=story_told)
    tasks = summary["tasks"]
    assert story_told(tasks), tasks
    spray = [t for t in tasks if t["sku"] == "repellent-spray"]
    first = spray[0]
    assert (first["robot"], first["order_state"], first["done_by"]) == ("amr-1", "FINISHED", "camera")
    assert first["refill_s"] > 0  # gap seen -> refill seen, on camera
    assert any(t["sku"] == "mosquito-coil" and t["fallback_reason"] == "not_robot_handleable" for t in tasks)
    assert spray[1]["assignee"] == "staff" and spray[1]["order_state"] == "FAILED"
    assert summary["events_by_type"]["shelf.gap"] >= 3 and summary["events_by_type"]["shelf.refilled"] >= 1
    assert summary["vda5050_rejected"] == 0 and summary["restock_errors"] == 0
