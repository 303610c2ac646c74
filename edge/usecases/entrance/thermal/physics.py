"""Radiometry and heat-transfer relations shared by the estimator and the simulator.

A radiometric camera reports the *apparent* temperature of a surface as if its emissivity were
1. A real surface of emissivity ε at T emits ε·L(T) and reflects (1-ε)·L(T_refl) of its
surroundings. We use L ∝ T⁴ (Stefan–Boltzmann, kelvin); over the 8–14 µm band of a Lepton and
skin temperatures the exact band integral changes the ε-correction by well under 0.05 K.

Steady-state heat flow from the body core through tissue to the air makes any skin point sit a
fixed share k of the way from ambient to core: T_s = T_a + k·(T_core - T_a). Forehead and cheek
skin have k ≈ 0.75-0.8 (33-35 °C in a 20-25 °C room); the inner canthus, fed by the internal
carotid circulation under thin tissue, has k ≈ 0.95, which is why screening measures it.

>>> round(float(apparent_c(36.0, 0.98, 22.0)), 2)
35.74
>>> round(float(true_c(apparent_c(36.0, 0.98, 22.0), 0.98, 22.0)), 6)
36.0
>>> round(float(core_from_surface(36.3, 22.0, 0.95)), 2)
37.05
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.usecases.entrance.thermal.frame import KELVIN_AT_0C


def apparent_c(true: npt.ArrayLike, emissivity: float, reflected_c: float) -> npt.NDArray[np.float64]:
    """Apparent (ε = 1) temperature °C of a surface at ``true`` °C with ``emissivity``, reflecting ``reflected_c``."""
    t = np.asarray(true, dtype=np.float64) + KELVIN_AT_0C
    r = reflected_c + KELVIN_AT_0C
    return (emissivity * t**4 + (1.0 - emissivity) * r**4) ** 0.25 - KELVIN_AT_0C


def true_c(apparent: npt.ArrayLike, emissivity: float, reflected_c: float) -> npt.NDArray[np.float64]:
    """Inverse of :func:`apparent_c`: surface temperature °C from the apparent reading."""
    a = np.asarray(apparent, dtype=np.float64) + KELVIN_AT_0C
    r = reflected_c + KELVIN_AT_0C
    return ((a**4 - (1.0 - emissivity) * r**4) / emissivity) ** 0.25 - KELVIN_AT_0C


def surface_from_core(core_c: npt.ArrayLike, ambient_c: float, coupling: float) -> npt.NDArray[np.float64]:
    """Steady-state surface temperature °C: ``ambient + coupling * (core - ambient)``."""
    return ambient_c + coupling * (np.asarray(core_c, dtype=np.float64) - ambient_c)


def core_from_surface(surface_c: npt.ArrayLike, ambient_c: float, coupling: float) -> npt.NDArray[np.float64]:
    """Inverse of :func:`surface_from_core`: core temperature °C (the ambient compensation)."""
    return ambient_c + (np.asarray(surface_c, dtype=np.float64) - ambient_c) / coupling
