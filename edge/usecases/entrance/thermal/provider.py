"""Where the entrance analyzer gets the thermal frame that goes with an RGB frame.

* :class:`SimulatedThermal` renders one with :class:`~edge.usecases.entrance.thermal.simulate.ThermalSimulator` for
  the faces the RGB camera sees (tests, the demo), giving each new visitor the next configured
  core temperature;
* :class:`RecordedThermal` replays an ``.athr`` recording, pairing by time since the start;
* :class:`UvcThermal` reads a PureThermal board live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import Field

from edge.faces.faces import Faces, Landmark
from edge.usecases.entrance.thermal.calibration import ThermalCalibration
from edge.usecases.entrance.thermal.frame import ThermalFrame
from edge.usecases.entrance.thermal.simulate import SimulatorConfig, ThermalSimulator
from services.shared.strict import Strict


class ThermalProvider(Protocol):
    def frame_for(self, at_s: float, faces: Faces, track_ids: list[int], frame_size: tuple[int, int]) -> ThermalFrame | None:
        """The thermal frame paired with an RGB frame captured at ``at_s`` seconds, or None if none is available."""
        ...


class SimulatedThermalConfig(Strict):
    kind: Literal["simulated"] = "simulated"
    scene: SimulatorConfig = SimulatorConfig()
    visitors_core_c: list[float] = Field(
        default=[36.6, 36.9, 38.4],
        min_length=1,
        description="core temperatures °C given to visitors in order of appearance (cycled)",
    )


class RecordedThermalConfig(Strict):
    kind: Literal["recording"] = "recording"
    path: Path = Field(description=".athr recording, relative to the store YAML's folder")
    loop: bool = True


class UvcThermalConfig(Strict):
    kind: Literal["uvc"] = "uvc"
    device: int | str = Field(default=0, description="V4L2 index or device path of the PureThermal board")


class SimulatedThermal:
    def __init__(self, config: SimulatedThermalConfig, calibration: ThermalCalibration) -> None:
        self.config = config
        # The simulated camera is the calibrated one: its size and blackbody come from the calibration.
        scene = config.scene.model_copy(update={"size": calibration.thermal_size, "blackbody": calibration.blackbody})
        self.simulator = ThermalSimulator(scene, calibration)
        self._core: dict[int, float] = {}

    def core_c(self, track_id: int) -> float:
        """The simulated visitor's true core temperature °C (the ground truth for tests)."""
        if track_id not in self._core:
            temps = self.config.visitors_core_c
            self._core[track_id] = temps[len(self._core) % len(temps)]
        return self._core[track_id]

    def frame_for(self, at_s: float, faces: Faces, track_ids: list[int], frame_size: tuple[int, int]) -> ThermalFrame:
        eyes = faces.landmarks[:, [Landmark.RIGHT_EYE, Landmark.LEFT_EYE]].astype(np.float64)
        placed = self.simulator.faces_from_rgb(
            faces.xyxy.astype(np.float64), eyes, [self.core_c(t) for t in track_ids], frame_size
        )
        return self.simulator.render(placed, at_s)


class RecordedThermal:
    def __init__(self, config: RecordedThermalConfig) -> None:
        from edge.usecases.entrance.thermal.recording import RecordingReader

        self.reader = RecordingReader(config.path)
        if len(self.reader) == 0:
            raise ValueError(f"{config.path}: thermal recording has no frames")
        self.loop = config.loop
        self._t0: float | None = None
        times = self.reader.times()
        self._span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
        self._start = float(times[0])

    def frame_for(self, at_s: float, faces: Faces, track_ids: list[int], frame_size: tuple[int, int]) -> ThermalFrame | None:
        if self._t0 is None:
            self._t0 = at_s
        rel = at_s - self._t0
        if rel > self._span:
            if not self.loop:
                return None
            rel = rel % self._span if self._span > 0 else 0.0
        return self.reader.nearest(self._start + rel)


class UvcThermal:
    def __init__(self, config: UvcThermalConfig, calibration: ThermalCalibration) -> None:
        from edge.usecases.entrance.thermal.uvc import UvcThermalCamera

        w, h = calibration.thermal_size
        self.camera = UvcThermalCamera(config.device, w, h)

    def frame_for(self, at_s: float, faces: Faces, track_ids: list[int], frame_size: tuple[int, int]) -> ThermalFrame:
        return self.camera.read()


ThermalSourceConfig = SimulatedThermalConfig | RecordedThermalConfig | UvcThermalConfig


def make_provider(config: ThermalSourceConfig, calibration: ThermalCalibration) -> ThermalProvider:
    if isinstance(config, SimulatedThermalConfig):
        return SimulatedThermal(config, calibration)
    if isinstance(config, RecordedThermalConfig):
        return RecordedThermal(config)
    return UvcThermal(config, calibration)
