"""F comfort on the edge: notice hysteresis, light from a real camera frame with its one-point
calibration, refusal of readings after an exposure change, and air readings from a real
(simulated) Modbus TCP sensor on 127.0.0.1."""

from __future__ import annotations

import threading
from datetime import timedelta

import cv2
import numpy as np
import pytest
from edge_builders import T0
from pydantic import ValidationError

from edge.config import ZoneConfig, load_store_config
from edge.detections import Detections
from edge.geometry import to_pixels
from edge.paths import PROJECT_ROOT, media_dir
from edge.sources.sensors import ModbusSensorConfig, ModbusSensorSource
from edge.usecases import FrameContext, analyzer_class
from edge.usecases.comfort import ComfortAnalyzerConfig, Target
from edge.usecases.comfort.light import linear_luminance, srgb_to_linear, zone_luminance
from edge.usecases.comfort.monitor import ComfortMonitor
from edge.usecases.comfort.simulate import REGISTERS, Phase, RoomModel, SimulatedAirSensor


def statuses(values: list[float | None], target: Target, min_out_s: float = 30.0, every_s: float = 10.0):
    monitor = ComfortMonitor(target, min_out_s)
    out = []
    for k, v in enumerate(values):
        step = monitor.update(v, T0 + timedelta(seconds=every_s * k))
        out.append(step.action or monitor.shown_status)
    return out


CO2 = Target(high=1000, hysteresis=50)
TEMP = Target(low=17, high=28, hysteresis=0.5)


@pytest.mark.parametrize(("values", "target", "expected"), [
    pytest.param([900, 1010, 1020, 1030, 1040, 900], CO2, ["ok", "high", "high", "high", "notice", "restored"],
                 id="a notice after 30 s out, restored when well back"),
    pytest.param([1010, 990, 1010, 990, 1010, 990, 1010], CO2, ["high"] * 3 + ["notice", "high", "high", "high"],
                 id="hovering at the limit: one spell, one notice, no flapping"),
    pytest.param([1010, 1020, 955, 940, 1010], CO2, ["high", "high", "high", "ok", "high"],
                 id="inside the hysteresis band still counts as out; a short spell gives no notice"),
    pytest.param([1100, 1100, 1100, 1100, 1100, 1100], CO2, ["high", "high", "high", "notice", "high", "high"],
                 id="one notice per spell"),
    pytest.param([16.0, 16.2, 16.1, 16.4, 29.0, 22.0], TEMP, ["low", "low", "low", "notice", "high", "restored"],
                 id="too cold then too warm is one spell"),
    pytest.param([1100, None, None, None, 1100, 900], CO2, ["high", "untrusted", "untrusted", "untrusted", "notice", "restored"],
                 id="untrusted readings neither start nor end a spell"),
])
def test_comfort_notices_follow_min_out_time_and_hysteresis(values, target, expected):
    assert statuses(values, target) == expected


def test_a_target_must_have_room_for_its_hysteresis():
    with pytest.raises(ValidationError, match="twice the hysteresis"):
        Target(low=40, high=42, hysteresis=2)
    with pytest.raises(ValidationError, match="low, high or both"):
        Target()


# ------------------------------------------------------------------ light from a real frame

PLAZA = ZoneConfig(polygon=[(0.40, 0.36), (0.76, 0.36), (0.80, 0.70), (0.42, 0.70)])
WEST = ZoneConfig(polygon=[(0.00, 0.30), (0.40, 0.36), (0.42, 0.55), (0.00, 0.50)])
ZONES = {"plaza": PLAZA, "west": WEST}


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    capture = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    ok, image = capture.read()
    capture.release()
    assert ok
    return image


def relight(image: np.ndarray, gain: float, polygon=None) -> np.ndarray:
    """The frame as if the light (in linear terms) were ``gain`` times as strong, everywhere or in a polygon."""
    linear = srgb_to_linear(image / 255.0) * gain
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.clip(linear, 0, None) ** (1 / 2.4) - 0.055)
    out = np.clip(np.round(encoded * 255), 0, 255).astype(np.uint8)
    if polygon is None:
        return out
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(to_pixels(polygon, (image.shape[1], image.shape[0]))).astype(np.int32)], 1)
    return np.where(mask[..., None].astype(bool), out, image)


def light_analyzer(frame: np.ndarray, reference_lux: float = 600.0):
    y = linear_luminance(frame)
    size = (frame.shape[1], frame.shape[0])
    cfg = ComfortAnalyzerConfig(light={
        "zones": {"plaza": {"task": "sales_floor"}, "west": {"task": "corridor"}},
        "calibration": {"zone": "plaza", "lux": reference_lux,
                        "luminance": zone_luminance(y, to_pixels(PLAZA.polygon, size)),
                        "frame_luminance": float(y.mean())},
    }, interval_s=0.5, min_out_s=2.0)
    return analyzer_class("comfort")(cfg, ZONES)


def lux_readings(analyzer, images: list[np.ndarray]) -> list[dict[str, tuple]]:
    """Per frame (2 s apart): zone → (status, value) of its comfort.reading; notices as ('notice', zone)."""
    out = []
    for k, image in enumerate(images):
        ctx = FrameContext("s1", "pets", T0 + timedelta(seconds=2 * k), (image.shape[1], image.shape[0]), frame=image)
        events = list(analyzer.update(Detections.empty(), ctx))
        row = {e.payload["zone"]: (e.payload["status"], e.payload["value"]) for e in events if e.type == "comfort.reading"}
        row.update({f"{e.type}:{e.payload['zone']}": e.payload["value"] for e in events if e.type != "comfort.reading"})
        out.append(row)
    return out


def test_light_calibration_reads_the_reference_back_and_scales_with_the_light(frame):
    analyzer = light_analyzer(frame)
    dim_plaza = relight(frame, 0.5, PLAZA.polygon)   # the plaza's lights at half power, the rest as it was
    first, dimmed = lux_readings(analyzer, [frame, dim_plaza])[:2]
    assert first["plaza"] == ("ok", 600.0)          # the reference reading, read back
    status, lux = dimmed["plaza"]
    assert status == "low" and 270 <= lux <= 330     # half the light: about half the lux (8-bit rounding aside)
    assert dimmed["west"][0] == "ok" and dimmed["west"][1] == pytest.approx(first["west"][1], rel=0.02)  # corridor unchanged
    assert first["west"][0] == "ok" and first["west"][1] > 100  # above the corridor's 100 lx


def test_an_exposure_change_makes_light_readings_untrusted_not_wrong(frame):
    analyzer = light_analyzer(frame)
    brighter = relight(frame, 1.8)                    # auto-exposure opened up: the whole picture brighter
    rows = lux_readings(analyzer, [frame, brighter, brighter, brighter, frame])
    assert rows[0]["plaza"] == ("ok", 600.0)
    assert [r["plaza"] for r in rows[1:4]] == [("untrusted", None)] * 3   # never 1000+ lx from a camera setting
    assert not any(key.startswith("comfort.notice") for r in rows for key in r)
    assert rows[4]["plaza"] == ("ok", 600.0)           # exposure back: trusted again
    event = next(iter(analyzer.update(Detections.empty(), FrameContext(
        "s1", "pets", T0 + timedelta(seconds=30), (480, 360), frame=brighter))))
    assert event.payload["reason"].startswith("the camera's exposure changed")


def test_a_dark_zone_for_long_enough_gives_a_notice_with_value_target_and_duration(frame):
    analyzer = light_analyzer(frame)
    dark = relight(frame, 0.5, PLAZA.polygon)
    rows = lux_readings(analyzer, [frame, dark, dark, dark])
    assert "comfort.notice:plaza" not in rows[1] and 270 <= rows[2]["comfort.notice:plaza"] <= 330
    notice = [e for e in analyzer.update(Detections.empty(), FrameContext(
        "s1", "pets", T0 + timedelta(seconds=8), (480, 360), frame=frame)) if e.type == "comfort.restored"]
    assert notice and notice[0].payload["target_low"] == 500.0 and notice[0].payload["out_for_s"] == 6.0


def test_comfort_light_zones_are_checked_against_the_camera(tmp_path):
    from edge.config import ConfigError

    path = tmp_path / "store.yaml"
    path.write_text(
        "store_id: s1\n"
        "cameras:\n"
        f"  cam: {{source: '{media_dir() / 'bus.jpg'}', zones: {{aisle: {{polygon: [[0, 0], [1, 0], [1, 1]]}}}},\n"
        "        analyzers: [{type: comfort, light: {zones: {aisel: {}}, calibration: {zone: aisle, lux: 500, luminance: 0.2}}}]}\n"
    )
    with pytest.raises(ConfigError, match="aisel.*not a zone of this camera"):
        load_store_config(path)


# ------------------------------------------------------------------ air from a real Modbus device

def test_air_readings_from_a_simulated_modbus_sensor_become_comfort_events():
    # A room whose ventilation is poor: CO2 climbs past 1000 ppm within simulated minutes.
    model = RoomModel(phases=(Phase(3600, people=120, ventilation_m3h=900),), co2_ppm=900.0)
    analyzer = analyzer_class("comfort")(ComfortAnalyzerConfig(sensors=["air-1"], air_zone="floor", min_out_s=0.5,
                                                               interval_s=0.1), {})
    events = []
    with SimulatedAirSensor(speed=600, model=model) as sim:
        cfg = ModbusSensorConfig(kind="modbus", id="air-1", host="127.0.0.1", port=sim.port, poll_interval_s=0.1,
                                 registers=list(REGISTERS))
        with ModbusSensorSource(cfg) as source:
            for reading in source.readings(threading.Event(), max_readings=45):
                ctx = FrameContext("s1", "pets", reading.at, (1, 1))
                events += list(analyzer.on_reading(reading, ctx))
    readings = {(e.payload["quantity"], e.payload["unit"]) for e in events if e.type == "comfort.reading"}
    assert readings == {("co2_ppm", "ppm"), ("temperature_c", "°C"), ("humidity_pct", "%")}
    co2 = [e.payload["value"] for e in events if e.type == "comfort.reading" and e.payload["quantity"] == "co2_ppm"]
    assert co2[0] < co2[-1] and co2[-1] > 1000           # read through the wire, decoded and scaled
    [notice] = [e for e in events if e.type == "comfort.notice"]
    p = notice.payload
    assert (p["zone"], p["quantity"], p["status"], p["target_high"], p["source"], p["sensor_id"]) == \
        ("floor", "co2_ppm", "high", 1000.0, "sensor", "air-1")
    assert p["value"] > 1000 and p["out_of_range_s"] >= 0.5
    assert notice.severity.value == "notice" and not notice.review_required   # a notice for staff, not a review item
    temps = [e.payload["value"] for e in events if e.payload["quantity"] == "temperature_c"]
    assert all(17 <= t <= 30 for t in temps)


def test_the_demo_store_config_with_comfort_and_lines_passes_its_checks():
    store = load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml")
    types = {a.type for cam in store.cameras.values() for a in cam.analyzers}
    assert {"comfort", "lines"} <= types


def test_a_restarted_analyzer_does_not_repeat_a_notice_and_still_restores_it():
    from edge.sources.sensors import SensorReading

    def feed(analyzer, seconds: float, ppm: float) -> list[str]:
        at = T0 + timedelta(seconds=seconds)
        reading = SensorReading("air-1", "co2_ppm", ppm, "ppm", at, "modbus://127.0.0.1:502/1/holding/0")
        return [e.type for e in analyzer.on_reading(reading, FrameContext("s1", "cam", at, (1, 1))) if e.type != "comfort.reading"]

    cfg = ComfortAnalyzerConfig(sensors=["air-1"], air_zone="floor", min_out_s=60)
    before = analyzer_class("comfort")(cfg, {})
    assert feed(before, 0, 1200) == [] and feed(before, 70, 1250) == ["comfort.notice"]
    after = analyzer_class("comfort")(cfg, {})       # the worker crashed and came back
    after.restore_state(before.durable_state())
    assert feed(after, 100, 1300) == []              # the same spell: no second notice
    restored = [e for e in after.on_reading(SensorReading("air-1", "co2_ppm", 900.0, "ppm", T0 + timedelta(seconds=130), "m"),
                                            FrameContext("s1", "cam", T0 + timedelta(seconds=130), (1, 1)))
                if e.type == "comfort.restored"]
    assert restored and restored[0].payload["out_for_s"] == 130.0
