"""Count as you evaluate: a camera's count calibration, live in F and in `anshin eval count --config`."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from edge_builders import T0, make_tracks
from typer.testing import CliRunner

from anshin.cli import app
from edge.config import ConfigError, ZoneConfig, load_store_config
from edge.detections import Detections
from edge.eval.calibration import CountCalibration
from edge.paths import media_dir
from edge.tracking import ByteTracker, TrackerConfig
from edge.usecases import FrameContext
from edge.usecases.occupancy import OccupancyAnalyzerConfig
from edge.usecases.occupancy.analyzer import OccupancyAnalyzer
from services.contract.registry import validate_event_payload

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo-store.yaml"
CALIBRATION = ROOT / "models" / "calibration" / "mall_dev_yolov8n_int8_tiles2x2.json"
MALL = media_dir() / "mall_dev"
FRAME = (100, 100)
LEFT = ZoneConfig(polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])
ALL = ZoneConfig(polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])


def analyzer(valid: tuple[int, int] = (6, 39), **settings) -> OccupancyAnalyzer:
    cfg = OccupancyAnalyzerConfig(zones={"left": {"capacity": 5}, "all": {"capacity": 100}},
                                  count={"calibration": CALIBRATION, "valid_detected": valid}, **settings)
    return OccupancyAnalyzer(cfg, {"left": LEFT, "all": ALL})


def people(left: int, right: int):
    boxes = [(2 + 4 * k, 10, 5 + 4 * k, 60) for k in range(left)] + [(55 + 4 * k, 10, 58 + 4 * k, 60) for k in range(right)]
    return make_tracks(*boxes, ids=list(range(1, left + right + 1)))


def ctx(frame: int = 0) -> FrameContext:
    return FrameContext("s1", "c1", T0 + timedelta(seconds=frame), FRAME, model_name="yolov8n_int8", model_version="83de8f0d2cd5")


def test_zones_get_the_whole_frame_calibration_as_a_per_detection_weight():
    cal = CountCalibration.load(CALIBRATION)
    a = analyzer(min_frames=1)
    events = list(a.update(people(4, 6), ctx()))
    whole = cal.intercept + cal.slope * 10  # 10 person boxes in the frame
    by_zone = {e.payload["zone"]: e.payload for e in events if e.type == "zone.occupancy"}
    assert by_zone["all"]["count"] == round(whole) and by_zone["all"]["raw_count"] == 10
    assert by_zone["left"]["count"] == round(whole * 4 / 10) and by_zone["left"]["raw_count"] == 4
    assert all(p["calibrated"] is True for p in by_zone.values())
    assert a.live_state() == {"zone_counts": {"left": round(whole * 0.4), "all": round(whole)}, "people": round(whole, 1),
                              "calibrated": True}
    overcrowded = [e for e in events if e.type == "zone.overcrowded"]  # left: 7 people > capacity 5, from 4 boxes
    assert [e.payload["zone"] for e in overcrowded] == ["left"]
    assert overcrowded[0].explanation.measured["raw_count"] == 4.0
    assert "count calibration" in overcrowded[0].explanation.summary
    for event in events:
        validate_event_payload(event)  # the contract accepts raw_count and calibrated


def test_a_smoothed_calibration_averages_the_box_count_and_restarts_after_a_gap(tmp_path):
    from edge.usecases.occupancy.counting import RESTART_AFTER_S

    cal = CountCalibration.load(CALIBRATION)
    smoothed = tmp_path / "smoothed.json"
    cal.model_copy(update={"smoothing": 0.5}).save(smoothed)
    cfg = OccupancyAnalyzerConfig(zones={"left": {"capacity": 50}, "all": {"capacity": 100}},
                                  count={"calibration": smoothed, "valid_detected": (6, 39)}, interval_s=0.5)
    a = OccupancyAnalyzer(cfg, {"left": LEFT, "all": ALL})
    list(a.update(people(4, 6), ctx(0)))
    events = list(a.update(people(10, 10), ctx(1)))  # 10 boxes, then 20: the average is 15
    whole = cal.intercept + cal.slope * 15
    by_zone = {e.payload["zone"]: e.payload for e in events if e.type == "zone.occupancy"}
    assert a.live_state()["people"] == round(whole, 1) and by_zone["all"]["count"] == round(whole)
    assert by_zone["left"]["count"] == round(whole * 10 / 20)  # this frame's boxes carry the estimate to zones
    list(a.update(people(10, 10), ctx(2 + int(RESTART_AFTER_S))))  # a minute without frames: start afresh
    assert a.live_state()["people"] == round(cal.intercept + cal.slope * 20, 1)


def test_outside_the_valid_range_the_count_is_raw_and_says_so():
    a = analyzer(valid=(6, 39), min_frames=1)
    events = list(a.update(people(2, 2), ctx()))  # 4 boxes: fewer than the fit ever saw
    by_zone = {e.payload["zone"]: e.payload for e in events if e.type == "zone.occupancy"}
    assert by_zone["all"] == {**by_zone["all"], "count": 4, "raw_count": 4, "calibrated": False}
    assert a.live_state()["calibrated"] is False
    crowd = make_tracks(*[(1 + 2 * k, 10, 2 + 2 * k, 60) for k in range(45)], ids=list(range(1, 46)))
    crowded = list(analyzer(valid=(6, 39), min_frames=1).update(crowd, ctx()))  # 45 boxes: more than it saw
    over = [e for e in crowded if e.type == "zone.overcrowded"][0]
    assert over.payload["count"] == over.payload["raw_count"] == 25 and over.payload["calibrated"] is False
    assert "outside the calibration range 6-39" in over.explanation.summary
    for event in [*events, *crowded]:
        validate_event_payload(event)


def test_a_calibration_of_another_model_version_is_not_applied():
    a = analyzer()
    other = FrameContext("s1", "c1", T0, FRAME, model_name="yolov8n_int8", model_version="000000000000")
    list(a.update(people(5, 5), other))
    assert a.live_state()["people"] == 10.0 and a.live_state()["calibrated"] is False


def test_without_a_calibration_payloads_are_as_before():
    cfg = OccupancyAnalyzerConfig(zones={"left": {"capacity": 5}})
    a = OccupancyAnalyzer(cfg, {"left": LEFT})
    payload = next(iter(a.update(people(3, 3), ctx()))).payload
    assert payload["count"] == 3 and "raw_count" not in payload and "calibrated" not in payload
    assert a.live_state() == {"zone_counts": {"left": 3}}


def _mall_store(tmp_path: Path, detector_extra: str = "", calibration: str = "../models/calibration/mall_dev_yolov8n_int8_tiles2x2.json") -> Path:
    text = DEMO.read_text().replace("../models/calibration/mall_dev_yolov8n_int8_tiles2x2.json", str(ROOT / "models" / "calibration" / calibration.split("/")[-1]) if calibration.startswith("..") else calibration)
    text = text.replace("media/mall_dev.ffconcat", str(ROOT / "config" / "media" / "mall_dev.ffconcat"))
    text = text.replace("../../shared/data/media/", str(media_dir()) + "/").replace("calibration/entrance-thermal.yaml", str(ROOT / "config" / "calibration" / "entrance-thermal.yaml"))
    if detector_extra:
        assert text.count("      model: yolov8n_int8.onnx\n") == 1  # the mall camera's detector
        text = text.replace("      model: yolov8n_int8.onnx\n", "      model: yolov8n_int8.onnx\n" + detector_extra + "\n")
    path = tmp_path / "store.yaml"
    path.write_text(text)
    return path


def test_the_calibration_path_is_relative_to_the_yaml_and_checked_at_load(tmp_path):
    cam = load_store_config(DEMO).camera("mall")
    count = cam.analyzers[0].count
    assert count.calibration == CALIBRATION and count.valid_detected == (6, 39)
    missing = _mall_store(tmp_path, calibration="no-such-calibration.json")
    with pytest.raises(ConfigError, match="no-such-calibration.json"):
        load_store_config(missing)


def test_a_calibration_fitted_with_other_detector_settings_is_refused(tmp_path):
    other = _mall_store(tmp_path, detector_extra="      imgsz: 320")
    with pytest.raises(ConfigError, match=r"count.calibration: fitted with other detector settings.*imgsz"):
        load_store_config(other)


def test_confirm_new_tracks_counts_a_person_from_the_first_frame_they_are_seen():
    frames = [Detections(np.array([[0, 0, 10, 30]], np.float32), np.array([0.9], np.float32), np.array([0])),
              Detections(np.array([[0, 0, 10, 30], [50, 0, 60, 30]], np.float32), np.array([0.9, 0.9], np.float32), np.array([0, 0]))]
    plain, eager = ByteTracker(TrackerConfig()), ByteTracker(TrackerConfig(confirm_new_tracks=True))
    assert [len(plain.update(d)) for d in frames] == [1, 1]  # ByteTrack waits for the newcomer's second frame
    assert [len(eager.update(d)) for d in frames] == [1, 2]


@pytest.mark.slow
def test_live_analyzer_and_eval_count_config_give_the_same_count_on_the_same_real_mall_frames(tmp_path):
    from edge.worker import EdgeWorker

    names = sorted(p.name for p in MALL.glob("seq_*.jpg"))[:3]
    truth = json.loads((MALL / "truth.json").read_text())
    images = tmp_path / "frames"
    images.mkdir()
    for name in names:
        shutil.copy(MALL / name, images / name)
    (images / "truth.json").write_text(json.dumps({n: truth[n] for n in names}))

    store = load_store_config(DEMO)
    store = store.model_copy(update={"outbox": store.outbox.model_copy(update={"path": tmp_path / "outbox.sqlite"})})
    with EdgeWorker(store, "mall", publish=False) as worker:
        worker.run(max_frames=len(names))
        live = worker.analyzers[0].live_state()  # after the third frame: the demo's video plays the same frames in order

    per_frame = tmp_path / "per_frame.csv"
    done = CliRunner().invoke(app, ["eval", "count", "--config", str(DEMO), "--camera", "mall", "--images", str(images),
                                    "--per-frame", str(per_frame), "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rows = list(csv.DictReader(per_frame.open()))
    assert [r["file"] for r in rows] == names
    last = float(rows[-1]["pred"])
    assert result["calibrated_frames"] == 3 and result["camera"] == "mall" and result["tiles"]["rows"] == 2
    assert result["fitted_on_this_data"] is True  # the calibration was fitted on these very frames
    assert live["calibrated"] is True
    assert live["people"] == round(last, 1)
    assert live["zone_counts"]["concourse"] == round(last)  # the whole-floor zone is the camera's count
    assert abs(last - truth[names[-1]]["count"]) < 8  # and it is a sensible count of a crowded frame


def test_eval_count_config_takes_the_cameras_own_settings():
    done = CliRunner().invoke(app, ["eval", "count", "--config", str(DEMO), "--camera", "mall", "--images", str(MALL), "--tiles", "3x3"])
    assert done.exit_code == 2 and "drop --tiles" in done.output
    done = CliRunner().invoke(app, ["eval", "count", "--config", str(DEMO), "--images", str(MALL)])
    assert done.exit_code == 2 and "--config and --camera go together" in done.output
