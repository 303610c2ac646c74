"""Analyzers consume tracked detections and emit contract events.

Each use case is one analyzer module under ``edge/analyzers/`` registered with
:func:`register_analyzer`; the worker builds them from the store config by ``type``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import numpy as np

from edge.detections import Detections
from services.contract import Event, UseCase


@dataclass(frozen=True, slots=True)
class FrameContext:
    """What an analyzer knows about the frame besides its tracks."""

    store_id: str
    camera_id: str
    at: datetime  # UTC time the frame was captured
    frame_size: tuple[int, int]  # width, height in pixels
    frame: np.ndarray | None = None  # BGR pixels, for analyzers that keep evidence
    model_name: str = ""
    model_version: str = ""
    privacy_profile: str = "minimal"  # the store's profile: decides what evidence an analyzer may keep


class Analyzer(Protocol):
    use_case: ClassVar[UseCase]
    type: ClassVar[str]

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]: ...


_REGISTRY: dict[str, Callable[..., Analyzer]] = {}


def register_analyzer(cls: Any) -> Any:
    """Class decorator: make an analyzer constructible from config by its ``type``."""
    if cls.type in _REGISTRY:
        raise ValueError(f"analyzer type {cls.type!r} registered twice")
    _REGISTRY[cls.type] = cls
    return cls


def analyzer_class(type_: str) -> Callable[..., Analyzer]:
    try:
        return _REGISTRY[type_]
    except KeyError:
        raise ValueError(f"unknown analyzer type {type_!r}; known: {sorted(_REGISTRY)}") from None
