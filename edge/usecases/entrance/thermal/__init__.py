"""Body-surface temperature from a radiometric thermal camera (use case A).

Frames are 16-bit centi-Kelvin (FLIR Lepton radiometric / TLinear, as PureThermal boards send
them over UVC). A blackbody reference in view removes the camera's offset drift, a homography
registers the thermal image to the RGB camera, and the hottest spot near the inner canthus,
corrected for emissivity and ambient temperature, estimates core temperature.
"""

from edge.usecases.entrance.thermal.frame import ThermalFrame, celsius_to_ck, ck_to_celsius

__all__ = ["ThermalFrame", "celsius_to_ck", "ck_to_celsius"]
