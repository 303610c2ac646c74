"""The use cases an edge worker can run, one folder each under ``edge/usecases/<name>/``.

A use case folder holds its typed config (no model imports, so configs load fast), its
analyzer(s) and their helpers, and exposes ``PLUGIN`` (a :class:`UseCasePlugin`) in its
``__init__``. This registry is the one list of them: it builds the store config's analyzer
union (discriminated by ``type``), collects each use case's config checks and builds analyzers.
Adding a use case is a new folder, one line in :data:`USE_CASES` and its tests.

>>> sorted(USE_CASES), sorted(analyzer_types())
(['behaviour', 'comfort', 'entrance', 'floor', 'lines', 'occupancy', 'shelf'], ['behaviour', 'comfort', 'entrance', 'floor', 'lines', 'occupancy', 'shelf'])
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import Field

from edge.config_errors import Check
from edge.usecases.base import Analyzer, AnalyzerSpec, EvidenceRequest, FrameContext, UseCasePlugin

# name → package. Explicit (searchable); each package's __init__ imports only its config.
USE_CASES: dict[str, str] = {
    "entrance": "edge.usecases.entrance",  # A: mask wearing and body temperature at the door
    "occupancy": "edge.usecases.occupancy",  # F: people per zone against its capacity
    "behaviour": "edge.usecases.behaviour",  # H: anonymous behaviour rules on tracks, each a review item
    "floor": "edge.usecases.floor",  # B: people on the floor plan (homography), distancing notices
    "lines": "edge.usecases.lines",  # F footfall: in/out counts across counting lines
    "comfort": "edge.usecases.comfort",  # F comfort: light and air against targets, notices for staff
    "shelf": "edge.usecases.shelf",  # I: empty facings per planogram segment (shelf.gap / shelf.refilled)
}


@functools.cache
def plugins() -> dict[str, UseCasePlugin]:
    """Every registered use case by name (imports their config modules, never their models)."""
    out: dict[str, UseCasePlugin] = {}
    seen: dict[str, str] = {}
    for name, module in USE_CASES.items():
        plugin = getattr(importlib.import_module(module), "PLUGIN", None)
        if not isinstance(plugin, UseCasePlugin):
            raise TypeError(f"use case {name!r}: {module} must define PLUGIN = UseCasePlugin(...)")
        if plugin.name != name:
            raise ValueError(f"use case {name!r}: {module}.PLUGIN is named {plugin.name!r}")
        for spec in plugin.analyzers:
            if spec.type in seen:
                raise ValueError(f"analyzer type {spec.type!r} offered by both {seen[spec.type]!r} and {name!r}")
            seen[spec.type] = name
        out[name] = plugin
    return out


def _specs() -> dict[str, AnalyzerSpec]:
    return {spec.type: spec for plugin in plugins().values() for spec in plugin.analyzers}


def analyzer_types() -> list[str]:
    """Every analyzer ``type`` a store config may name, in registry order."""
    return list(_specs())


def analyzer_config_union() -> Any:
    """The store config's analyzer section: one of the use cases' analyzer configs, by ``type``."""
    configs = tuple(spec.config for spec in _specs().values())
    if len(configs) == 1:
        return configs[0]
    return Annotated[Union[configs], Field(discriminator="type")]  # noqa: UP007 - a runtime tuple of members


def config_checks() -> tuple[Check, ...]:
    """Every use case's cross-field checks on a whole store config."""
    return tuple(check for plugin in plugins().values() for check in plugin.checks)


def analyzer_class(type_: str) -> type[Analyzer]:
    """The analyzer class of a config ``type`` (imported now, with its models).

    Raises:
        ValueError: no use case offers that type.
    """
    spec = _specs().get(type_)
    if spec is None:
        raise ValueError(f"unknown analyzer type {type_!r}; known: {analyzer_types()}")
    module, _, cls = spec.analyzer.partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def create_analyzer(config: Any, camera: Any) -> Analyzer:
    """One analyzer from its config section and its camera (convention: ``cls(config, camera.zones)``)."""
    zones: Mapping[str, Any] = getattr(camera, "zones", None) or {}
    return analyzer_class(config.type)(config, zones)  # type: ignore[call-arg]


__all__ = [
    "USE_CASES", "Analyzer", "AnalyzerSpec", "EvidenceRequest", "FrameContext", "UseCasePlugin",
    "analyzer_class", "analyzer_config_union", "analyzer_types", "config_checks", "create_analyzer", "plugins",
]
