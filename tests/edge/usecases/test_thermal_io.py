"""Recording format, calibration file, registration, and the camera adapters' error messages."""

from __future__ import annotations

import numpy as np
import pytest

from edge.faces import Faces
from edge.paths import PROJECT_ROOT
from edge.usecases.entrance.thermal.calibration import load_calibration
from edge.usecases.entrance.thermal.frame import ThermalFrame
from edge.usecases.entrance.thermal.provider import RecordedThermal, RecordedThermalConfig
from edge.usecases.entrance.thermal.recording import RecordingReader, RecordingWriter
from edge.usecases.entrance.thermal.registration import fit_homography, rgb_to_thermal
from edge.usecases.entrance.thermal.simulate import SimulatedFace, SimulatorConfig, ThermalSimulator
from edge.usecases.entrance.thermal.uvc import UvcThermalCamera

DEMO_CAL = PROJECT_ROOT / "config" / "calibration" / "entrance-thermal.yaml"


def test_simulated_frames_replay_bit_exactly_from_a_recording(tmp_path):
    sim = ThermalSimulator(SimulatorConfig(seed=5))
    face = SimulatedFace((50, 40, 90, 90), np.array([[62.0, 58.0], [78.0, 58.0]]), 38.0)
    frames = [sim.render([face], at=t / 9) for t in range(5)]
    path = tmp_path / "entrance.athr"
    with RecordingWriter(path, 160, 120, meta={"camera": "entrance", "source": "simulated"}) as writer:
        for f in frames:
            writer.write(f)
    reader = RecordingReader(path)
    assert len(reader) == 5 and reader.meta["camera"] == "entrance"
    for original, replayed in zip(frames, reader, strict=True):
        assert replayed.at == original.at and np.array_equal(replayed.ck, original.ck)
    assert reader.nearest(0.3).at == pytest.approx(3 / 9)


def test_a_truncated_last_frame_is_ignored_and_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "cut.athr"
    with RecordingWriter(path, 4, 3) as writer:
        for t in range(3):
            writer.write(ThermalFrame(np.full((3, 4), 30000 + t, np.uint16), float(t)))
    path.write_bytes(path.read_bytes()[:-5])  # power lost mid-frame
    assert [f.at for f in RecordingReader(path)] == [0.0, 1.0]
    other = tmp_path / "x.athr"
    other.write_bytes(b"GIF89a...")
    with pytest.raises(ValueError, match="not an Anshin thermal recording"):
        RecordingReader(other)


def test_recorded_provider_pairs_by_time_since_start_and_loops(tmp_path):
    path = tmp_path / "r.athr"
    with RecordingWriter(path, 4, 3) as writer:
        for t in range(4):
            writer.write(ThermalFrame(np.full((3, 4), 30000 + t, np.uint16), 100.0 + t))
    provider = RecordedThermal(RecordedThermalConfig(path=path))
    got = [int(provider.frame_for(at, Faces.empty(), [], (8, 6)).ck[0, 0]) for at in (50.0, 51.0, 53.0, 54.5)]
    assert got == [30000, 30001, 30003, 30001]  # 4.5 s into a 3 s recording loops to 1.5 s → 1 or 2


def test_the_demo_calibration_loads():
    cal = load_calibration(DEMO_CAL)
    assert cal.thermal_size == (640, 480) and cal.blackbody.set_point_c == 35.0


@pytest.mark.parametrize(("change", "message"), [
    pytest.param({"homography": [[0, 0, 0], [0, 0, 0], [0, 0, 1]]}, "singular", id="singular homography"),
    pytest.param({"blackbody": {"roi": [10, 10, 5, 20], "set_point_c": 35}}, "blackbody.roi", id="roi corners swapped"),
    pytest.param({"blackbody": {"roi": [630, 470, 650, 490], "set_point_c": 35}}, "outside the thermal frame", id="roi off frame"),
    pytest.param({"canthus_coupling": 1.5}, "canthus_coupling", id="coupling above 1"),
    pytest.param({"emisivity": 0.9}, "emisivity", id="misspelt key"),
])
def test_bad_calibrations_name_the_file_and_field(tmp_path, change, message):
    import yaml

    data = yaml.safe_load(DEMO_CAL.read_text())
    data.update(change)
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=message) as err:
        load_calibration(path)
    assert str(path) in str(err.value)


def test_missing_calibration_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.yaml"):
        load_calibration(tmp_path / "nowhere.yaml")


def test_homography_fitted_from_point_pairs_maps_rgb_to_thermal():
    true_h = np.array([[0.2, 0.01, 5.0], [-0.01, 0.21, 3.0], [0.0, 0.0, 1.0]])
    rgb = np.array([[0, 0], [800, 0], [800, 600], [0, 600], [400, 300]], float)
    h = fit_homography(rgb, rgb_to_thermal(rgb, true_h))
    assert np.allclose(rgb_to_thermal([[123.0, 456.0]], h), rgb_to_thermal([[123.0, 456.0]], true_h), atol=1e-6)
    with pytest.raises(ValueError, match="at least 4"):
        fit_homography(rgb[:3], rgb[:3])


def test_an_absent_uvc_camera_is_named_in_the_error():
    with pytest.raises(RuntimeError, match="thermal camera '/dev/no-such-purethermal'"):
        UvcThermalCamera("/dev/no-such-purethermal")
