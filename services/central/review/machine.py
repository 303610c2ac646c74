"""The review state machine, as pure functions over an :class:`ItemView`.

::

    pending ──claim──► claimed ──confirm──► confirmed   (final)
       ▲                 │  │  ──dismiss──► dismissed   (final, needs a reason)
       └────release──────┘  └──escalate─► escalated ──claim──► claimed (next round)

Two-person rule (configured event types): the first confirm/dismiss of a round is recorded and
the item stays ``claimed``, awaiting a second decision that must come from a *different*
principal. Two agreeing decisions finish the item; disagreeing ones escalate it, and the next
round starts from a fresh claim.

>>> item = ItemView(State.PENDING, claimed_by=None, required_decisions=2, round_decisions=())
>>> claim(item, "alice")
<State.CLAIMED: 'claimed'>
>>> item = ItemView(State.CLAIMED, "alice", 2, ())
>>> decide(item, "alice", Decision.CONFIRM)
Outcome(state=<State.CLAIMED: 'claimed'>, awaiting_second=True, new_round=False)
>>> item = ItemView(State.CLAIMED, "alice", 2, (("alice", Decision.CONFIRM),))
>>> try:
...     decide(item, "alice", Decision.CONFIRM)
... except ReviewConflict as refused:
...     print(refused)
two-person rule: 'alice' already decided (confirm) in this round; the second decision must come from a different reviewer
>>> decide(item, "bob", Decision.CONFIRM).state
<State.CONFIRMED: 'confirmed'>
>>> decide(item, "bob", Decision.DISMISS)
Outcome(state=<State.ESCALATED: 'escalated'>, awaiting_second=False, new_round=True)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"


#: States an item never leaves.
FINAL = frozenset({State.CONFIRMED, State.DISMISSED})
#: States that still wait for a human (and so can be overdue).
OPEN = frozenset({State.PENDING, State.CLAIMED, State.ESCALATED})


class Decision(StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ESCALATE = "escalate"


_FINAL_STATE = {Decision.CONFIRM: State.CONFIRMED, Decision.DISMISS: State.DISMISSED}


class ReviewConflict(Exception):
    """The requested transition is not allowed from the item's current state (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class ItemView:
    """What the machine needs to know about an item."""

    state: State
    claimed_by: str | None
    required_decisions: int  # 1, or 2 under the two-person rule
    round_decisions: tuple[tuple[str, Decision], ...]  # (actor, decision) in the current round
    round: int = 1  # > 1 once the item was escalated (see ``rules.is_escalated``)


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    awaiting_second: bool = False  # a first decision is recorded; a different reviewer must decide
    new_round: bool = False  # the item was escalated; decisions so far belong to the last round


def claim(item: ItemView, actor: str) -> State:
    """Claim a pending or escalated item for ``actor``; claiming one's own claim is a no-op."""
    if item.state == State.CLAIMED and item.claimed_by == actor:
        return State.CLAIMED
    if item.state == State.CLAIMED:
        raise ReviewConflict(f"already claimed by {item.claimed_by!r}")
    if item.state in FINAL:
        raise ReviewConflict(f"already {item.state.value}; decisions are final")
    return State.CLAIMED


def release(item: ItemView, actor: str, may_override: bool = False) -> State:
    """Give a claim back to the queue (the holder, or an admin)."""
    if item.state != State.CLAIMED:
        raise ReviewConflict(f"only a claimed item can be released; this one is {item.state.value}")
    if item.claimed_by != actor and not may_override:
        raise ReviewConflict(f"claimed by {item.claimed_by!r}; only they (or an admin) can release it")
    return State.PENDING


def decide(item: ItemView, actor: str, decision: Decision) -> Outcome:
    """Apply one reviewer's decision; see the module docstring for the rules."""
    if item.state in FINAL:
        raise ReviewConflict(f"already {item.state.value}; decisions are final")
    if item.state != State.CLAIMED:
        raise ReviewConflict(f"item is {item.state.value}; claim it before deciding")
    prior = item.round_decisions
    if not prior and item.claimed_by != actor:
        raise ReviewConflict(f"claimed by {item.claimed_by!r}; claim it yourself before deciding")
    for who, what in prior:
        if who == actor:
            raise ReviewConflict(
                f"two-person rule: {actor!r} already decided ({what.value}) in this round; "
                "the second decision must come from a different reviewer"
            )
    if decision == Decision.ESCALATE:
        return Outcome(State.ESCALATED, new_round=True)
    if len(prior) + 1 < item.required_decisions:
        return Outcome(State.CLAIMED, awaiting_second=True)
    if any(what != decision for _, what in prior):
        # Reviewers disagree: a human with more authority settles it in the next round.
        return Outcome(State.ESCALATED, new_round=True)
    return Outcome(_FINAL_STATE[decision])
