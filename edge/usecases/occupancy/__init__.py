"""Use case F: people per zone against its capacity (``zone.occupancy``, ``zone.overcrowded``, ``zone.cleared``)."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.occupancy.config import (
    CountCalibrationConfig,
    OccupancyAnalyzerConfig,
    OccupancyZone,
    check_calibration_fits_detector,
    check_hysteresis_fits_capacity,
)

PLUGIN = UseCasePlugin(
    name="occupancy",
    analyzers=(AnalyzerSpec(OccupancyAnalyzerConfig, "edge.usecases.occupancy.analyzer:OccupancyAnalyzer"),),
    checks=(check_hysteresis_fits_capacity, check_calibration_fits_detector),
)

__all__ = ["PLUGIN", "CountCalibrationConfig", "OccupancyAnalyzerConfig", "OccupancyZone"]
