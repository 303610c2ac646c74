"""Use case I: empty facings per planogram segment (``shelf.gap``, ``shelf.refilled``)."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.shelf.config import ShelfAnalyzerConfig, ShelfSegment

PLUGIN = UseCasePlugin(
    name="shelf",
    analyzers=(AnalyzerSpec(ShelfAnalyzerConfig, "edge.usecases.shelf.analyzer:ShelfAnalyzer"),),
)

__all__ = ["PLUGIN", "ShelfAnalyzerConfig", "ShelfSegment"]
