"""Dismissal reasons staff pick from a list (plus free text in the decision's note).

Codes are stable identifiers, safe to keep in clear in the audit chain (they hold no personal
data) and countable per event type for the dismissal-rate reports. The generic reasons are here;
a use case adds its own (``services/central/usecases/<name>/labels.py``, e.g. people_together for
crowding, clinical_check_normal for entrance screening). Labels live in the dashboard's catalogue.

>>> is_reason_code("detector_error"), is_reason_code("clinical_check_normal"), is_reason_code("Mr Tanaka's family")
(True, True, False)
>>> DISMISS_REASONS[0], DISMISS_REASONS[-1]
('detector_error', 'other')
"""

from __future__ import annotations

from services.central.usecases import use_case_reasons

#: Reasons that apply to any alert, shown before the use cases' own reasons ...
GENERIC_FIRST: tuple[str, ...] = (
    "detector_error",  # nobody there, or not a person: the model was wrong
)
#: ... and after them ("other" last: it needs a note).
GENERIC_LAST: tuple[str, ...] = (
    "already_handled",  # staff had already dealt with it
    "duplicate",  # another alert covers the same situation
    "other",  # explain in the note
)

#: Dismissal reason codes, in the order a list shows them.
DISMISS_REASONS: tuple[str, ...] = (*GENERIC_FIRST, *use_case_reasons(), *GENERIC_LAST)
if len(set(DISMISS_REASONS)) != len(DISMISS_REASONS):
    raise ValueError(f"a dismissal reason is declared twice: {DISMISS_REASONS}")


def is_reason_code(reason: str | None) -> bool:
    return reason in DISMISS_REASONS
