"""Use case B on the edge: people's feet on the store's floor plan (``floor.positions``) through
the camera's camera→floor homography, and distancing notices (``floor.distancing``)."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.floor.config import FloorAnalyzerConfig, HomographyConfig, check_homography_error

PLUGIN = UseCasePlugin(
    name="floor",
    analyzers=(AnalyzerSpec(FloorAnalyzerConfig, "edge.usecases.floor.analyzer:FloorAnalyzer"),),
    checks=(check_homography_error,),
)

__all__ = ["PLUGIN", "FloorAnalyzerConfig", "HomographyConfig"]
