"""Use case A: entrance screening, mask wearing (``entrance.no_mask``) and suspected fever
(``entrance.fever_suspected``, confirmed by staff). Masks code in ``masks/``, thermal code in ``thermal/``."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.entrance.config import EntranceAnalyzerConfig

PLUGIN = UseCasePlugin(
    name="entrance",
    analyzers=(AnalyzerSpec(EntranceAnalyzerConfig, "edge.usecases.entrance.analyzer:EntranceAnalyzer"),),
)

__all__ = ["PLUGIN", "EntranceAnalyzerConfig"]
