"""Dismissal reasons staff pick from a list (plus free text in the decision's note).

Codes are stable identifiers, safe to keep in clear in the audit chain (they hold no personal
data) and countable per event type for the dismissal-rate reports. Labels live in the
dashboard's message catalogue.

>>> is_reason_code("detector_error"), is_reason_code("Mr Tanaka's family")
(True, False)
"""

from __future__ import annotations

#: Dismissal reason codes, in the order a list shows them ("other" last: it needs a note).
DISMISS_REASONS: tuple[str, ...] = (
    "detector_error",  # nobody there, or not a person: the model was wrong
    "people_together",  # a family or group who belong together; no distancing problem
    "measurement_disturbed",  # hot drink, sun, heater, glasses: the reading is not the body
    "clinical_check_normal",  # a clinical thermometer read normal
    "already_handled",  # staff had already dealt with it
    "duplicate",  # another alert covers the same situation
    "other",  # explain in the note
)


def is_reason_code(reason: str | None) -> bool:
    return reason in DISMISS_REASONS
