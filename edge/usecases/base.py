"""What every use case builds on: the frame context its analyzers read, the evidence they ask
for, and the plugin record the registry (:mod:`edge.usecases`) lists.

An analyzer consumes tracked detections (and, through :class:`FrameContext`, per-frame results
shared by all analyzers, such as the faces in the frame) and yields contract events. The worker
calls it without knowing what it looks for; see :class:`Analyzer` for the optional hooks.

>>> from datetime import datetime, timezone
>>> calls = []
>>> ctx = FrameContext("s1", "c1", datetime(2026, 1, 1, tzinfo=timezone.utc), (4, 4),
...                    frame=np.zeros((4, 4, 3), np.uint8), face_finder=lambda image: calls.append(1) or "faces")
>>> ctx.faces(), ctx.faces(), len(calls)   # computed once per frame, whoever asks
('faces', 'faces', 1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from edge.config_errors import Check
from edge.detections import Detections
from services.contract import Event, UseCase

if TYPE_CHECKING:
    from edge.faces import Faces


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    """The picture an event asks for: the frame it happened in, with ``blur`` boxes anonymised.

    The boxes a reviewer looks at are the event's own ``evidence.boxes`` (central draws them
    over the picture). Under the ``standard`` profile the evidence stage (:mod:`edge.evidence`)
    blurs, besides ``blur``, every tracked person's head and every face in the frame, whatever
    an analyzer asks: an analyzer can add to what is blurred, never take away. Under
    ``minimal`` no picture is made at all.

    Attributes:
        blur: ``(xyxy, kind)`` pixel boxes to anonymise; kind ``"face"`` blurs the whole box,
            ``"person"`` its head.
        clip: ``(seconds_before, seconds_after)``: also a short clip around the frame (anonymised
            like the picture, none under ``minimal``); the worker sends the event once the seconds
            after have passed (``edge.evidence`` says how). None: the picture only.
    """

    blur: tuple[tuple[tuple[float, float, float, float], str], ...] = ()
    clip: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class FrameContext:
    """What an analyzer knows about the frame besides its tracks.

    Per-frame results several analyzers need are computed at most once per frame, on first use
    (:meth:`faces`), and shared; the evidence stage uses the same ones to blur.
    """

    store_id: str
    camera_id: str
    at: datetime  # UTC time the frame was captured
    frame_size: tuple[int, int]  # width, height in pixels
    frame: np.ndarray | None = None  # BGR pixels, for analyzers that look at the image
    model_name: str = ""
    model_version: str = ""
    privacy_profile: str = "minimal"  # the store's profile: decides what evidence may leave the edge
    face_finder: Callable[[np.ndarray], Faces] | None = None  # the worker's face detector (None: no faces)
    _shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _evidence: dict[Any, EvidenceRequest] = field(default_factory=dict, init=False, repr=False, compare=False)

    def faces(self) -> Faces:
        """The faces in the frame (pixels), found once per frame for every analyzer and the evidence stage."""
        if "faces" not in self._shared:
            if self.face_finder is None or self.frame is None:
                from edge.faces import Faces

                self._shared["faces"] = Faces.empty()
            else:
                self._shared["faces"] = self.face_finder(self.frame)
        return self._shared["faces"]

    def with_evidence(self, event: Event, request: EvidenceRequest) -> Event:
        """Ask for a picture of this frame for ``event`` (made, per privacy profile, by the evidence stage)."""
        self._evidence[event.event_id] = request
        return event

    def evidence_for(self, event: Event) -> EvidenceRequest | None:
        return self._evidence.get(event.event_id)


@runtime_checkable
class Analyzer(Protocol):
    """One analyzer of a use case, built as ``cls(config, zones)`` from its config section.

    Optional hooks the worker calls when present, without knowing what they mean:

    * ``live_state() -> dict``: a small, JSON-able summary of the last frame for a live view
      (e.g. people per zone); taken after every frame.
    * ``overlay(image, state) -> None``: draw that state onto a copy of the frame, in place.
    * ``on_reading(reading, ctx) -> Iterator[Event]``: a reading of a sensor the analyzer's config
      names (``sensors: [...]``), handed over on the camera thread before the frame's ``update``.
    * ``durable_state() -> dict`` and ``restore_state(dict)``: what must survive a crash (e.g.
      which alerts are open). The worker saves it with every batch of events, in the same
      transaction, and a live camera's restarted worker hands it back before the first frame.
    """

    use_case: ClassVar[UseCase]
    type: ClassVar[str]

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]: ...


@dataclass(frozen=True, slots=True)
class AnalyzerSpec:
    """One analyzer a use case offers: its config model (``type`` Literal) and its class as ``module:Class``.

    The class is imported only when a camera uses it, so loading a config never loads a model.
    """

    config: type[Any]
    analyzer: str

    @property
    def type(self) -> str:
        annotation = self.config.model_fields["type"].annotation
        return str(annotation.__args__[0])


@dataclass(frozen=True, slots=True)
class UseCasePlugin:
    """What a use case folder contributes: its analyzers and its cross-field config checks."""

    name: str
    analyzers: tuple[AnalyzerSpec, ...]
    checks: tuple[Check, ...] = ()
