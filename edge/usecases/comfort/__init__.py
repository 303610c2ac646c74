"""F comfort: light per zone from the camera, CO₂/temperature/humidity from sensors, notices for staff."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.comfort.config import ComfortAnalyzerConfig, LightCalibration, LightConfig, LightZone, Target, check_light_zones

PLUGIN = UseCasePlugin(
    name="comfort",
    analyzers=(AnalyzerSpec(ComfortAnalyzerConfig, "edge.usecases.comfort.analyzer:ComfortAnalyzer"),),
    checks=(check_light_zones,),
)

__all__ = ["PLUGIN", "ComfortAnalyzerConfig", "LightCalibration", "LightConfig", "LightZone", "Target"]
