"""``anshin eval thermal``: how far the thermal corrector is off on simulated visitors it must not know.

Each scene draws a visitor and a camera state from :class:`~edge.usecases.entrance.thermal.simulate.SceneRanges`
(per-person coupling and emissivity, reflected ≠ air temperature, offset drift, non-uniformity,
shutter events, gain error, blur, registration error, a covered blackbody), renders the frames leading
up to the measurement, and reads them with :func:`~edge.usecases.entrance.thermal.reading.read_temperature`
given only what a device knows: the calibration file, the blackbody's set point, a room sensor
(with its own error) and the landmarks mapped through the (slightly wrong) homography.

Figures are over the readings the corrector gives; refusals are counted per reason. A fever is a
core temperature at or above the threshold (37.5 °C); false alerts are per 1000 afebrile visitors
read, missed fevers per 1000 febrile visitors read.

>>> r = evaluate(20, seed=3)
>>> r["scenes"], r["read"] + sum(r["refusals"].values()) == 20
(20, True)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import numpy as np
import typer

from edge.usecases.entrance.thermal.calibration import ThermalCalibration
from edge.usecases.entrance.thermal.reading import BlackbodyMonitor, read_temperature
from edge.usecases.entrance.thermal.simulate import SceneRanges, random_scene

# A Lepton 3.5-class camera (160x120) at the entrance, blackbody top right; what the installer's
# calibration file would say. The optics blur is the lens's nominal value; the simulated one varies.
EVAL_CALIBRATION = ThermalCalibration(
    thermal_size=(160, 120),
    rgb_size=(1280, 960),
    homography=((0.125, 0.0, 0.0), (0.0, 0.125, 0.0), (0.0, 0.0, 1.0)),
    blackbody={"roi": (144, 4, 156, 16), "set_point_c": 35.0, "emissivity": 0.98},
    skin_emissivity=0.98,
    canthus_coupling=0.95,
    min_interocular_px=16.0,
    blur_sigma_px=1.0,
    registration_tolerance_px=3.0,
)
THRESHOLD_C = 37.5


def evaluate(scenes: int, seed: int = 0, calibration: ThermalCalibration = EVAL_CALIBRATION,
             ranges: SceneRanges | None = None, threshold_c: float = THRESHOLD_C) -> dict[str, Any]:
    """Read ``scenes`` drawn scenes; the figures of the module docstring as a dict."""
    rng = np.random.default_rng(seed)
    errors: list[float] = []
    refusals: Counter[str] = Counter()
    false_alerts = missed = afebrile = febrile = 0
    for _ in range(scenes):
        scene = random_scene(rng, calibration, ranges)
        monitor = BlackbodyMonitor()  # each scene is a fresh stretch of the camera's life
        reading = None
        for at in scene.times:
            frame = scene.simulator.render([scene.face], at)
            reading = read_temperature(frame, scene.canthi, calibration, scene.box[None], scene.ambient_sensor_c, monitor)
        assert reading is not None
        if reading.core_c is None:
            refusals[str(reading.refusal)] += 1
            continue
        true = scene.face.core_c
        errors.append(reading.core_c - true)
        alert = reading.core_c >= threshold_c
        if true >= threshold_c:
            febrile += 1
            missed += not alert
        else:
            afebrile += 1
            false_alerts += alert
    err = np.abs(np.asarray(errors)) if errors else np.full(1, np.nan)

    def rounded(x: float) -> float | None:
        return None if np.isnan(x) else round(float(x), 3)

    return {
        "p50_abs_c": rounded(np.percentile(err, 50)),
        "p95_abs_c": rounded(np.percentile(err, 95)),
        "max_abs_c": rounded(err.max()),
        "false_alerts_per_1000": rounded(1000 * false_alerts / afebrile) if afebrile else None,
        "missed_fevers_per_1000": rounded(1000 * missed / febrile) if febrile else None,
        "mean_error_c": rounded(float(np.mean(errors))) if errors else None,
        "threshold_c": threshold_c,
        "scenes": scenes,
        "read": len(errors),
        "afebrile_read": afebrile,
        "febrile_read": febrile,
        "refusals_per_1000": {k: round(1000 * v / scenes, 1) for k, v in sorted(refusals.items())} if scenes else {},
        "refusals": dict(sorted(refusals.items())),
        "seed": seed,
        "source": "simulated scenes (edge/usecases/entrance/thermal/simulate.py SceneRanges), not people",
    }


def thermal_command(
    scenes: int = typer.Option(1000, "--scenes", min=1, help="number of simulated visitors"),
    seed: int = typer.Option(0, "--seed", help="random seed of the scene draw"),
    threshold_c: float = typer.Option(THRESHOLD_C, "--threshold", help="fever threshold, core °C"),
    as_json: bool = typer.Option(False, "--json", help="print the result as one JSON line"),
) -> None:
    """Thermal correction error and alert rates on simulated visitors with hidden effects drawn per scene.

    Example: anshin eval thermal --scenes 1000 --json
    """
    print(f"reading {scenes} simulated scenes (seed {seed})", file=sys.stderr, flush=True)
    result = evaluate(scenes, seed, threshold_c=threshold_c)
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))
