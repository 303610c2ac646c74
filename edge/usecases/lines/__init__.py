"""Use case F footfall: people crossing counting lines, in and out (``line.crossings``)."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.lines.config import CountingLine, LinesAnalyzerConfig

PLUGIN = UseCasePlugin(
    name="lines",
    analyzers=(AnalyzerSpec(LinesAnalyzerConfig, "edge.usecases.lines.analyzer:LinesAnalyzer"),),
)

__all__ = ["PLUGIN", "CountingLine", "LinesAnalyzerConfig"]
