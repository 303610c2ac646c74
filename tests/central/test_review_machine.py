"""The review state machine as a table of transitions, including the refused ones."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import pytest

from services.central.review.machine import Decision, ItemView, ReviewConflict, State, claim, decide, release

C, D, E = Decision.CONFIRM, Decision.DISMISS, Decision.ESCALATE
refused = pytest.raises


def item(state: State, holder: str | None = None, required: int = 1, *prior: tuple[str, Decision]) -> ItemView:
    return ItemView(state, holder, required, tuple(prior))


@pytest.mark.parametrize(("start", "actor", "expect"), [
    pytest.param(item(State.PENDING), "alice", nullcontext(State.CLAIMED), id="pending -> claimed"),
    pytest.param(item(State.ESCALATED), "carol", nullcontext(State.CLAIMED), id="escalated can be claimed again"),
    pytest.param(item(State.CLAIMED, "alice"), "alice", nullcontext(State.CLAIMED), id="own claim again: no-op"),
    pytest.param(item(State.CLAIMED, "alice"), "bob", refused(ReviewConflict, match="already claimed by 'alice'"),
                 id="someone else's claim"),
    pytest.param(item(State.CONFIRMED), "bob", refused(ReviewConflict, match="final"), id="confirmed is final"),
    pytest.param(item(State.DISMISSED), "bob", refused(ReviewConflict, match="final"), id="dismissed is final"),
])
def test_claim(start: ItemView, actor: str, expect: AbstractContextManager) -> None:  # type: ignore[type-arg]
    with expect as expected:
        assert claim(start, actor) == expected


@pytest.mark.parametrize(("start", "actor", "override", "expect"), [
    pytest.param(item(State.CLAIMED, "alice"), "alice", False, nullcontext(State.PENDING), id="holder releases"),
    pytest.param(item(State.CLAIMED, "alice"), "ops", True, nullcontext(State.PENDING), id="admin releases"),
    pytest.param(item(State.CLAIMED, "alice"), "bob", False, refused(ReviewConflict, match="only they"),
                 id="not the holder"),
    pytest.param(item(State.PENDING), "alice", False, refused(ReviewConflict, match="only a claimed item"),
                 id="nothing to release"),
])
def test_release(start: ItemView, actor: str, override: bool, expect: AbstractContextManager) -> None:  # type: ignore[type-arg]
    with expect as expected:
        assert release(start, actor, override) == expected


@pytest.mark.parametrize(("start", "actor", "decision", "expect"), [
    pytest.param(item(State.CLAIMED, "alice"), "alice", C, nullcontext((State.CONFIRMED, False, False)),
                 id="one reviewer confirms"),
    pytest.param(item(State.CLAIMED, "alice"), "alice", D, nullcontext((State.DISMISSED, False, False)),
                 id="one reviewer dismisses"),
    pytest.param(item(State.CLAIMED, "alice"), "alice", E, nullcontext((State.ESCALATED, False, True)),
                 id="escalate starts a new round"),
    pytest.param(item(State.PENDING), "alice", C, refused(ReviewConflict, match="claim it before deciding"),
                 id="pending: claim first"),
    pytest.param(item(State.ESCALATED), "alice", C, refused(ReviewConflict, match="claim it before deciding"),
                 id="escalated: claim first"),
    pytest.param(item(State.CLAIMED, "alice"), "bob", C, refused(ReviewConflict, match="claimed by 'alice'"),
                 id="someone else's claim"),
    pytest.param(item(State.CONFIRMED), "alice", D, refused(ReviewConflict, match="final"), id="final"),
    pytest.param(item(State.CLAIMED, "alice", 2), "alice", C, nullcontext((State.CLAIMED, True, False)),
                 id="two-person: first decision waits"),
    pytest.param(item(State.CLAIMED, "alice", 2, ("alice", C)), "alice", C,
                 refused(ReviewConflict, match="two-person rule: 'alice' already decided"),
                 id="two-person: same reviewer twice"),
    pytest.param(item(State.CLAIMED, "alice", 2, ("alice", C)), "bob", C, nullcontext((State.CONFIRMED, False, False)),
                 id="two-person: second reviewer agrees"),
    pytest.param(item(State.CLAIMED, "alice", 2, ("alice", D)), "bob", D, nullcontext((State.DISMISSED, False, False)),
                 id="two-person: both dismiss"),
    pytest.param(item(State.CLAIMED, "alice", 2, ("alice", C)), "bob", D, nullcontext((State.ESCALATED, False, True)),
                 id="two-person: disagreement escalates"),
    pytest.param(item(State.CLAIMED, "alice", 2, ("alice", C)), "bob", E, nullcontext((State.ESCALATED, False, True)),
                 id="two-person: second reviewer escalates"),
])
def test_decide(start: ItemView, actor: str, decision: Decision, expect: AbstractContextManager) -> None:  # type: ignore[type-arg]
    with expect as expected:
        out = decide(start, actor, decision)
        assert (out.state, out.awaiting_second, out.new_round) == expected
