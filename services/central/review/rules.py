"""Who may take which step on a review item: the whole policy in one place.

A *person* is a dashboard user acting as ``user:<id>`` with the role their account has now; an
API key is never a person, whatever its scopes. The state machine (:mod:`.machine`) says which
transitions exist; these rules say who may take them:

1. A role without ``decide`` (operator, auditor) takes no step.
2. An *escalated* item (state ``escalated``, or any round after the first: it was escalated and
   is being settled) is claimed, decided and released only by managers and admins (persons).
3. A *two-person* item is confirmed or dismissed only by persons; the machine makes the two
   decisions of a round come from two different actors, and a person's actor is their user id,
   so two decisions mean two people.
4. An API key (``reviews:write``) may claim, release its own claim and escalate an item that was
   never escalated, and confirm or dismiss it only when one decision settles it.

Releasing someone else's claim needs ``release_any`` (managers, admins) or an ``admin`` key.

>>> staff, key = Reviewer("user:1", Role.STAFF), Reviewer("triage-bot", None)
>>> two_person = ItemView(State.CLAIMED, "user:1", 2, (), round=1)
>>> check_decide(two_person, staff, Decision.CONFIRM) is None
True
>>> check_decide(two_person, key, Decision.CONFIRM)
Traceback (most recent call last):
...
services.central.review.rules.ReviewForbidden: an API key cannot confirm a two-person item: two people must decide it
>>> check_claim(ItemView(State.ESCALATED, None, 1, (), round=2), staff)
Traceback (most recent call last):
...
services.central.review.rules.ReviewForbidden: escalated items are settled by a manager or an admin; role 'staff' may not claim it
"""

from __future__ import annotations

from dataclasses import dataclass

from services.central.review.machine import Decision, ItemView, ReviewConflict, State
from services.central.users.roles import Permission, Role


class ReviewForbidden(ReviewConflict):
    """The transition exists but this reviewer may not take it (HTTP 403; a 409 where unmapped)."""


@dataclass(frozen=True, slots=True)
class Reviewer:
    """Who acts on an item: ``role`` is None for an API key (never a person)."""

    actor: str
    role: Role | None
    admin_key: bool = False  # an API key with the ``admin`` scope (may release others' claims)

    @property
    def is_person(self) -> bool:
        return self.role is not None

    def allows(self, permission: Permission) -> bool:
        return self.role is not None and self.role.allows(permission)

    def describe(self) -> str:
        return f"role {self.role.value!r}" if self.role is not None else "an API key"


def is_escalated(item: ItemView) -> bool:
    """Escalated, or in a later round (claimed or released again after an escalation).

    >>> is_escalated(ItemView(State.CLAIMED, "user:2", 2, (), round=2)), is_escalated(ItemView(State.PENDING, None, 1, ()))
    (True, False)
    """
    return item.state == State.ESCALATED or item.round > 1


def _may_act(item: ItemView, reviewer: Reviewer, step: str) -> None:
    if reviewer.is_person and not reviewer.allows(Permission.DECIDE):
        raise ReviewForbidden(f"{reviewer.describe()} may read the queue but not {step} items")
    if is_escalated(item) and not reviewer.allows(Permission.DECIDE_ESCALATED):
        raise ReviewForbidden(
            f"escalated items are settled by a manager or an admin; {reviewer.describe()} may not {step} it"
        )


def check_claim(item: ItemView, reviewer: Reviewer) -> None:
    """Raise :class:`ReviewForbidden` unless ``reviewer`` may claim ``item`` (rules 1, 2)."""
    _may_act(item, reviewer, "claim")


def check_decide(item: ItemView, reviewer: Reviewer, decision: Decision) -> None:
    """Raise :class:`ReviewForbidden` unless ``reviewer`` may record ``decision`` (rules 1-4)."""
    _may_act(item, reviewer, "decide")
    if not reviewer.is_person and decision != Decision.ESCALATE and item.required_decisions > 1:
        raise ReviewForbidden(f"an API key cannot {decision.value} a two-person item: two people must decide it")


def check_release(item: ItemView, reviewer: Reviewer) -> bool:
    """Whether ``reviewer`` may release a claim held by someone else (rule 1 raises).

    Releasing settles nothing, so escalation does not matter here: a manager or an admin key
    frees an item whose holder went home.
    """
    if reviewer.is_person and not reviewer.allows(Permission.DECIDE):
        raise ReviewForbidden(f"{reviewer.describe()} may read the queue but not release items")
    return reviewer.allows(Permission.RELEASE_ANY) or reviewer.admin_key
