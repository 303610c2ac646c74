"""Which command actions central may issue, and what each needs first.

An action not listed here is refused (422): a typo must not reach a device. An action whose
policy has ``requires_review`` may only be issued on the strength of a *confirmed* review item
of the same store (a person looked at the alert and agreed), named in the request.

Use cases register their actions here (ventilation G, robots I, signage C) with one line each.

>>> policy_for("test.echo")
CommandPolicy(requires_review=False, max_ttl_s=3600, summary='device echoes its arguments back (commissioning check)')
>>> policy_for("test.nope") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandPolicy:
    """Rules for one action."""

    requires_review: bool = False
    max_ttl_s: int = 3600  # a command may be valid this long at most (issue → expiry), seconds
    summary: str = ""


#: Every action central issues. Commissioning checks first; use cases add theirs.
COMMAND_ACTIONS: dict[str, CommandPolicy] = {
    "test.echo": CommandPolicy(summary="device echoes its arguments back (commissioning check)"),
    "test.echo_reviewed": CommandPolicy(
        requires_review=True, summary="the same, gated by a confirmed review item (checks the review gate end to end)"
    ),
    "ventilation.purge": CommandPolicy(
        requires_review=True, summary="G: maximum outdoor air until N air changes (after a confirmed two-person infection report)"
    ),
    "ventilation.override": CommandPolicy(max_ttl_s=3600, summary="G: a manager's damper/fan setpoints for one zone, with an expiry"),
    "ventilation.override_clear": CommandPolicy(max_ttl_s=3600, summary="G: end a zone's override; demand control resumes"),
}


def policy_for(action: str) -> CommandPolicy | None:
    return COMMAND_ACTIONS.get(action)
