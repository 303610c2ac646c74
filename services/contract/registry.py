"""Every event type of the contract, collected from the use case modules (an explicit list).

>>> sorted(t for t in EVENT_TYPES if t.startswith("entrance."))
['entrance.fever_suspected', 'entrance.no_mask']
>>> spec("zone.occupancy").use_case.value
'F'
>>> "entrance.fever_suspected" in default_two_person_types(), default_review_deadlines_s()["entrance.fever_suspected"]
(True, 300)
>>> unknown_types(["zone.overcrowded", "zone.over_capacity"])
['zone.over_capacity']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from services.contract.events import Event
from services.contract.types import EventTypeSpec, Payload, PayloadRejected
from services.contract.usecases import behaviour, checkout, comfort, entrance, floor, insights, lines, occupancy, shelf, ventilation

#: Use case modules, in the order ``anshin schema types`` lists them. A new use case adds its
#: module here, and nowhere else in the contract.
USE_CASE_MODULES = (entrance, occupancy, lines, floor, ventilation, comfort, insights, behaviour, shelf, checkout)


def _collect() -> Mapping[str, EventTypeSpec]:
    found: dict[str, EventTypeSpec] = {}
    for module in USE_CASE_MODULES:
        for s in module.EVENT_TYPES:
            if s.type in found:
                raise ValueError(f"event type {s.type!r} is declared twice ({module.__name__})")
            found[s.type] = s
    return MappingProxyType(found)


#: Event type name -> its declaration.
EVENT_TYPES: Mapping[str, EventTypeSpec] = _collect()


def spec(event_type: str) -> EventTypeSpec:
    """The declaration of ``event_type``; :class:`KeyError` naming the known types if none."""
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}; known: {', '.join(sorted(EVENT_TYPES))}") from None


def unknown_types(types: Iterable[str]) -> list[str]:
    """The names in ``types`` that no use case declares, sorted."""
    return sorted({t for t in types if t not in EVENT_TYPES})


def default_two_person_types() -> list[str]:
    """Types whose decision needs two different reviewers, as declared."""
    return sorted(t for t, s in EVENT_TYPES.items() if s.two_person)


def default_review_deadlines_s() -> dict[str, int]:
    """Declared review deadlines by type (types without one use central's default)."""
    return {t: s.review_deadline_s for t, s in sorted(EVENT_TYPES.items()) if s.review_deadline_s is not None}


def validate_event_payload(event: Event) -> Payload:
    """Check an event against its type's declaration: the type is known, the use case and
    ``review_required`` are the type's, and the payload matches the type's model (severity is the
    sender's: it may raise or lower it).

    Returns the payload as its model; raises :class:`PayloadRejected` (a :class:`ValueError`)
    whose ``errors`` name each field relative to the event, e.g. ``("payload", "count")``.

    >>> from datetime import datetime, timezone
    >>> e = Event(type="zone.occupancy", use_case="F", store_id="s1", camera_id="c1",
    ...           occurred_at=datetime.now(timezone.utc), payload={"zone": "aisle", "count": -1, "capacity": 10})
    >>> try:
    ...     validate_event_payload(e)
    ... except PayloadRejected as rejected:
    ...     print(rejected)
    payload.count: Input should be greater than or equal to 0
    """
    declared = EVENT_TYPES.get(event.type)
    if declared is None:
        raise PayloadRejected([{
            "loc": ("type",),
            "msg": f"unknown event type {event.type!r}; known: {', '.join(sorted(EVENT_TYPES))}",
            "type": "unknown_event_type",
        }])
    if event.use_case != declared.use_case:
        raise PayloadRejected([{
            "loc": ("use_case",),
            "msg": f"event type {event.type!r} belongs to use case {declared.use_case.value}, not {event.use_case.value}",
            "type": "use_case_mismatch",
        }])
    if event.review_required != declared.review:
        # Only the declaration decides what reaches the review queue: a sender cannot flood it
        # with readings, nor slip an alert past it.
        raise PayloadRejected([{
            "loc": ("review_required",),
            "msg": f"event type {event.type!r} is declared {'with' if declared.review else 'without'} staff review; "
                   f"review_required must be {str(declared.review).lower()}",
            "type": "review_mismatch",
        }])
    return declared.validate(event.payload)
