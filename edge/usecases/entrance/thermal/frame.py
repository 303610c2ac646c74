"""One radiometric thermal frame in centi-Kelvin, and unit conversions.

>>> ck_to_celsius(np.array([31015], np.uint16))
array([37.])
>>> int(celsius_to_ck(37.0))
31015
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

KELVIN_AT_0C = 273.15


def ck_to_celsius(ck: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Centi-Kelvin (uint16 counts, 0.01 K each) to °C."""
    return np.asarray(ck, dtype=np.float64) / 100.0 - KELVIN_AT_0C


def celsius_to_ck(celsius: npt.ArrayLike) -> npt.NDArray[np.uint16]:
    """°C to centi-Kelvin counts, rounded and clipped to the uint16 range."""
    ck = np.rint((np.asarray(celsius, dtype=np.float64) + KELVIN_AT_0C) * 100.0)
    return np.clip(ck, 0, 65535).astype(np.uint16)


@dataclass(frozen=True, slots=True)
class ThermalFrame:
    """A radiometric frame.

    Attributes:
        ck: (H, W) uint16 apparent temperature in centi-Kelvin (emissivity 1, as the camera reports it).
        at: capture time in seconds (epoch or recording-relative; only differences matter).
    """

    ck: npt.NDArray[np.uint16]
    at: float

    def __post_init__(self) -> None:
        if self.ck.ndim != 2 or self.ck.dtype != np.uint16:
            raise ValueError(f"ThermalFrame.ck: expected (H, W) uint16 centi-Kelvin, got {self.ck.dtype} {self.ck.shape}")

    @property
    def size(self) -> tuple[int, int]:
        """width, height in pixels."""
        return int(self.ck.shape[1]), int(self.ck.shape[0])

    def celsius(self) -> npt.NDArray[np.float64]:
        """(H, W) apparent temperature in °C."""
        return ck_to_celsius(self.ck)
