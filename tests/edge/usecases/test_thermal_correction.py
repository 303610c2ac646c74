"""Body temperature from simulated radiometric frames: the corrected reading recovers core temperature."""

from __future__ import annotations

import numpy as np
import pytest

from edge.faces.faces import CANTHUS_FRACTION
from edge.usecases.entrance.thermal.calibration import ThermalCalibration
from edge.usecases.entrance.thermal.frame import ThermalFrame, celsius_to_ck, ck_to_celsius
from edge.usecases.entrance.thermal.physics import apparent_c, core_from_surface, surface_from_core, true_c
from edge.usecases.entrance.thermal.reading import read_temperature
from edge.usecases.entrance.thermal.simulate import SimulatedFace, SimulatorConfig, ThermalSimulator

CAL = ThermalCalibration(
    thermal_size=(160, 120),
    rgb_size=(1280, 960),
    homography=((0.125, 0.0, 0.0), (0.0, 0.125, 0.0), (0.0, 0.0, 1.0)),
    blackbody={"roi": (144, 4, 156, 16), "set_point_c": 35.0, "emissivity": 0.98},
)


def random_scene(rng: np.random.Generator, seed: int, **overrides: float) -> tuple[ThermalSimulator, SimulatedFace, float]:
    """A visitor 16-30 thermal px between the eyes, a room at 16-30 °C, offset drift up to ±5 °C."""
    settings = dict(
        ambient_c=rng.uniform(16, 30), drift_offset_c=rng.uniform(-5, 5), drift_rate_c_per_min=rng.uniform(-1, 1),
        noise_c=rng.uniform(0.03, 0.1), gain_error=rng.uniform(-0.01, 0.01), seed=seed,
    )
    settings.update(overrides)
    sim = ThermalSimulator(SimulatorConfig(**settings))
    iod, cx, cy = rng.uniform(16, 30), rng.uniform(35, 105), rng.uniform(40, 70)
    eyes = np.array([[cx - iod / 2, cy], [cx + iod / 2, cy]])
    face = SimulatedFace((cx - 1.1 * iod, cy - 0.9 * iod, cx + 1.1 * iod, cy + 1.6 * iod), eyes, rng.uniform(35.5, 40.5))
    return sim, face, rng.uniform(0, 600)


def canthi(eyes: np.ndarray) -> np.ndarray:
    right, left = eyes
    return np.array([right + CANTHUS_FRACTION * (left - right), left + CANTHUS_FRACTION * (right - left)])


def test_corrected_reading_recovers_core_temperature_within_0_3_c_under_drift():
    rng = np.random.default_rng(2026)
    errors, drifts = [], []
    for seed in range(150):
        sim, face, at = random_scene(rng, seed)
        reading = read_temperature(sim.render([face], at), canthi(face.eyes), CAL, np.array([face.box]))
        errors.append(reading.core_c - face.core_c)
        drifts.append(sim.drift_c(at))
        # the blackbody sees the drift the simulator applied (up to the small gain error at 35 °C)
        assert reading.blackbody.drift_c == pytest.approx(sim.drift_c(at), abs=0.1)
    errors = np.array(errors)
    assert np.abs(drifts).max() > 4.0, "the draw must include drifts of several degrees"
    assert np.abs(errors).max() <= 0.3, f"worst error {np.abs(errors).max():.3f} °C"


def test_without_blackbody_correction_the_raw_reading_is_far_off():
    rng = np.random.default_rng(7)
    sim, face, at = random_scene(rng, 1, drift_offset_c=4.0, drift_rate_c_per_min=0.0, drift_wobble_c=0.0)
    reading = read_temperature(sim.render([face], at), canthi(face.eyes), CAL, np.array([face.box]))
    uncorrected_core = float(core_from_surface(true_c(reading.raw_c, 0.98, reading.ambient_c), reading.ambient_c, 0.95))
    assert abs(uncorrected_core - face.core_c) > 3.5  # the same estimate without drift removal
    assert abs(reading.core_c - face.core_c) <= 0.3


def test_ambient_compensation_matters_in_a_cold_room():
    rng = np.random.default_rng(3)
    sim, face, at = random_scene(rng, 2, ambient_c=16.0)
    reading = read_temperature(sim.render([face], at), canthi(face.eyes), CAL, np.array([face.box]))
    assert face.core_c - reading.corrected_c > 0.8  # canthus surface is well below core in a 16 °C room
    assert abs(reading.core_c - face.core_c) <= 0.3


def test_a_sensor_ambient_value_is_used_instead_of_the_estimate():
    rng = np.random.default_rng(4)
    sim, face, at = random_scene(rng, 3, ambient_c=24.0)
    reading = read_temperature(sim.render([face], at), canthi(face.eyes), CAL, np.array([face.box]), ambient_c=24.0)
    assert reading.ambient_c == 24.0 and abs(reading.core_c - face.core_c) <= 0.3


def test_simulated_skin_is_33_to_35_c_and_the_inner_canthus_is_warmest():
    sim = ThermalSimulator(SimulatorConfig(ambient_c=22.0, noise_c=0.0, drift_offset_c=0.0, drift_rate_c_per_min=0.0,
                                           drift_wobble_c=0.0, gain_error=0.0))
    eyes = np.array([[70.0, 60.0], [90.0, 60.0]])
    face = SimulatedFace((58.0, 42.0, 102.0, 92.0), eyes, 37.0)
    scene = sim.true_scene_c([face])
    cheek = scene[75, 66]
    assert 33.0 <= cheek <= 35.0
    c = canthi(eyes).round().astype(int)
    assert scene[c[0, 1], c[0, 0]] == pytest.approx(surface_from_core(37.0, 22.0, 0.95))
    x1, y1, x2, y2 = (int(v) for v in face.box)
    assert scene[y1:y2, x1:x2].max() == pytest.approx(scene[c[0, 1], c[0, 0]])


@pytest.mark.parametrize(("true", "emissivity", "reflected"), [
    pytest.param(36.0, 0.98, 22.0, id="skin in a normal room"),
    pytest.param(35.0, 0.95, 10.0, id="cold surroundings"),
    pytest.param(30.0, 1.0, 40.0, id="blackbody ignores reflections"),
])
def test_emissivity_correction_inverts_the_radiometric_model(true, emissivity, reflected):
    seen = apparent_c(true, emissivity, reflected)
    assert float(true_c(seen, emissivity, reflected)) == pytest.approx(true, abs=1e-9)
    if emissivity < 1:
        assert (seen < true) == (reflected < true)  # a cold room makes skin look colder


def test_core_from_surface_inverts_the_heat_transfer_model():
    assert float(core_from_surface(surface_from_core(38.2, 18.0, 0.95), 18.0, 0.95)) == pytest.approx(38.2)


def test_centikelvin_conversion_round_trips_at_0_01_k():
    c = np.array([-10.0, 0.0, 22.37, 37.5, 60.0])
    assert np.allclose(ck_to_celsius(celsius_to_ck(c)), c, atol=0.005)
    with pytest.raises(ValueError, match="uint16"):
        ThermalFrame(np.zeros((2, 2), np.float32), 0.0)  # type: ignore[arg-type]
