"""Use case H: behaviour notices from anonymous tracks (loitering, restricted zones, leaving without
checkout, repeated returns), each a review item; short-horizon movement prediction warns before a
restricted zone is entered."""

from edge.usecases.base import AnalyzerSpec, UseCasePlugin
from edge.usecases.behaviour.config import BehaviourAnalyzerConfig, check_rule_zones_exist

PLUGIN = UseCasePlugin(
    name="behaviour",
    analyzers=(AnalyzerSpec(BehaviourAnalyzerConfig, "edge.usecases.behaviour.analyzer:BehaviourAnalyzer"),),
    checks=(check_rule_zones_exist,),
)

__all__ = ["PLUGIN", "BehaviourAnalyzerConfig"]
