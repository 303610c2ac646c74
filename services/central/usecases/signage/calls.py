"""The call state machine of remote service (use case C), on the database so every uvicorn worker
sees the same queue. Pure rules first (:func:`next_state`), then the operations that apply them.

A call goes ``waiting`` → ``active`` (taken) ⇄ ``held``; ``transfer`` puts it back to ``waiting``
for one named colleague; it ends ``ended`` (handled: somebody took it) or ``abandoned`` (the
customer left, or their signage stopped polling, before anyone took it).

>>> next_state("waiting", "take"), next_state("active", "hold"), next_state("held", "take")
('active', 'held', 'active')
>>> next_state("waiting", "end"), next_state("active", "end"), next_state("held", "transfer")
('abandoned', 'ended', 'waiting')
>>> next_state("ended", "take")
Traceback (most recent call last):
...
services.central.usecases.signage.calls.CallError: a call that is ended cannot take
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from services.central import audit
from services.central.usecases.signage.tables import SignageCall, SignageMessage

OPEN_STATES = ("waiting", "active", "held")
#: Prefix of the one-time secrets that move a call to a customer's phone (API keys start ``ank_``).
PHONE_PREFIX = "sgp_"
FINAL_STATES = ("ended", "abandoned")
#: Mailbox messages are kept this long (seconds), then purged.
MESSAGES_KEPT_S = 3600.0

_MOVES: dict[tuple[str, str], str] = {
    ("waiting", "take"): "active", ("held", "take"): "active",
    ("active", "hold"): "held",
    ("active", "transfer"): "waiting", ("held", "transfer"): "waiting", ("waiting", "transfer"): "waiting",
    ("active", "end"): "ended", ("held", "end"): "ended",
}


class CallError(ValueError):
    """A move the call's state does not allow, or a call this person may not touch."""


class CallNotFound(LookupError):
    """No such call (or not in the caller's store)."""


def next_state(state: str, move: str) -> str:
    """The state after ``move``; ending a call nobody took abandons it."""
    if move == "end" and state == "waiting":
        return "abandoned"
    if (state, move) not in _MOVES:
        raise CallError(f"a call that is {state} cannot {move}")
    return _MOVES[(state, move)]


@dataclass(frozen=True, slots=True)
class CallView:
    """A call as the console and the signage see it."""

    id: int
    store_id: str
    state: str
    wait_s: float  # waiting so far (open calls not yet taken), else until first taken
    staff: str | None
    assigned_to: str | None
    epoch: int

    def api(self) -> dict[str, Any]:
        return {"id": self.id, "store_id": self.store_id, "state": self.state, "wait_s": round(self.wait_s, 1),
                "staff": self.staff, "assigned_to": self.assigned_to, "epoch": self.epoch}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def view(call: SignageCall, now: datetime) -> CallView:
    waited_until = call.answered_at or (call.ended_at if call.state in FINAL_STATES else now)
    return CallView(call.id, call.store_id, call.state, max(0.0, (waited_until - call.created_at).total_seconds()),
                    call.staff, call.assigned_to, call.epoch)


def send(session: Session, store_id: str, to_side: str, kind: str, body: dict[str, Any], call_id: int | None = None) -> int:
    row = SignageMessage(store_id=store_id, call_id=call_id, to_side=to_side, kind=kind, body=body, created_at=utc_now())
    session.add(row)
    session.flush()
    return row.id


def open_call(session: Session, store_id: str, device: str, now: datetime | None = None) -> SignageCall:
    """A customer pressed "talk to staff": a waiting call (one open call per signage device)."""
    now = now or utc_now()
    existing = session.scalar(select(SignageCall).where(
        SignageCall.store_id == store_id, SignageCall.device == device, SignageCall.state.in_(OPEN_STATES)))
    if existing is not None:
        existing.signage_seen_at = now
        return existing
    call = SignageCall(store_id=store_id, device=device, state="waiting", created_at=now, signage_seen_at=now, epoch=0)
    session.add(call)
    session.flush()
    audit.append(session, device, "signage.call", f"signage_call:{call.id}", {"store_id": store_id})
    return call


def get_call(session: Session, call_id: int, stores: str | None) -> SignageCall:
    """The call, if the caller (limited to ``stores`` unless None) may see it; locked for update."""
    call = session.scalar(select(SignageCall).where(SignageCall.id == call_id).with_for_update())
    if call is None or (stores is not None and call.store_id != stores):
        raise CallNotFound(f"no call {call_id}")
    return call


def move(session: Session, call: SignageCall, action: str, staff: str, actor: str, to: str | None = None,
         now: datetime | None = None) -> SignageCall:
    """Apply a staff action (take, hold, transfer, end) and tell the signage what happened."""
    now = now or utc_now()
    if action == "take":
        if call.state == "waiting" and call.assigned_to not in (None, staff):
            raise CallError(f"call {call.id} was transferred to {call.assigned_to}")
        if call.state in ("active", "held") and call.staff != staff:
            raise CallError(f"call {call.id} is served by {call.staff}")
    elif call.state in ("active", "held") and call.staff != staff:
        raise CallError(f"call {call.id} is served by {call.staff}")
    elif action == "transfer" and call.state == "waiting" and call.assigned_to not in (None, staff):
        raise CallError(f"call {call.id} was transferred to {call.assigned_to}")
    call.state = next_state(call.state, action)
    if action == "take":
        call.staff, call.assigned_to, call.epoch = staff, None, call.epoch + 1
        if call.answered_at is None:
            call.answered_at, call.wait_s = now, max(0.0, (now - call.created_at).total_seconds())
    elif action == "transfer":
        if not to or to == staff:
            raise CallError("transfer needs a colleague other than yourself")
        call.staff, call.assigned_to = None, to
    elif action == "end":
        call.ended_at = now
    # The signage drops its media session on anything but take (the new offer follows a take).
    send(session, call.store_id, "signage", action, {"call_id": call.id, "state": call.state, "epoch": call.epoch}, call.id)
    audit.append(session, actor, f"signage.{action}", f"signage_call:{call.id}",
                 {"store_id": call.store_id, "state": call.state, **({"to": to} if to else {})})
    return call


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_phone_token(session: Session, call: SignageCall) -> str:
    """A one-time secret that lets the customer's phone take this open call over from the display
    (only its sha256 is stored; a new link replaces the previous one)."""
    if call.state not in OPEN_STATES:
        raise CallError(f"a call that is {call.state} cannot move to a phone")
    if call.phone_at is not None:
        raise CallError(f"call {call.id} already continues on a phone")
    token = PHONE_PREFIX + secrets.token_urlsafe(24)
    call.phone_token_sha256 = _token_digest(token)
    return token


def by_phone_token(session: Session, token: str) -> SignageCall | None:
    """The open call a phone link belongs to, or None (unknown token, or the call has ended)."""
    return session.scalar(select(SignageCall).where(
        SignageCall.phone_token_sha256 == _token_digest(token), SignageCall.state.in_(OPEN_STATES)))


def move_to_phone(session: Session, call: SignageCall, actor: str, now: datetime | None = None) -> str | None:
    """The phone opened its link: the display lets go of the call, a call in progress gets a new
    media session (the staff's console offers again, now to the phone), and the link's secret is
    replaced by a session secret returned here (so the link works once). None when the call had
    already moved (the phone reloaded, with its session secret)."""
    if call.phone_at is not None:
        return None
    now = now or utc_now()
    call.phone_at, call.signage_seen_at = now, now
    if call.state == "active":
        call.epoch += 1
    session_token = PHONE_PREFIX + secrets.token_urlsafe(24)
    call.phone_token_sha256 = _token_digest(session_token)
    send(session, call.store_id, "signage", "moved", {"call_id": call.id, "epoch": call.epoch}, call.id)
    audit.append(session, actor, "signage.to_phone", f"signage_call:{call.id}", {"store_id": call.store_id})
    return session_token


def hang_up(session: Session, call: SignageCall, device: str, now: datetime | None = None) -> SignageCall:
    """The customer ended the call at the signage: abandoned if nobody had taken it yet."""
    now = now or utc_now()
    if call.state in FINAL_STATES:
        return call
    call.state, call.ended_at = next_state(call.state, "end"), now
    if call.staff:
        send(session, call.store_id, "staff", "ended", {"call_id": call.id, "state": call.state}, call.id)
    audit.append(session, device, "signage.hang_up", f"signage_call:{call.id}", {"store_id": call.store_id, "state": call.state})
    return call


def abandon_stale(session: Session, stale_after_s: float, now: datetime | None = None) -> int:
    """Waiting calls whose signage stopped polling are abandoned (the page closed, the kiosk died)."""
    now = now or utc_now()
    result = session.execute(update(SignageCall).where(
        SignageCall.state == "waiting", SignageCall.signage_seen_at < now - timedelta(seconds=stale_after_s),
    ).values(state="abandoned", ended_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_messages(session: Session, keep_s: float = MESSAGES_KEPT_S, now: datetime | None = None) -> int:
    """Delete mailbox messages older than ``keep_s``: signalling matters for seconds, and a display
    reads announcements as they come (a restarted display starts from the newest message)."""
    now = now or utc_now()
    result = session.execute(delete(SignageMessage).where(SignageMessage.created_at < now - timedelta(seconds=keep_s)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def queue(session: Session, staff: str, stores: str | None, now: datetime | None = None) -> list[CallView]:
    """Waiting calls this person may take, oldest first: the open queue plus calls transferred to them."""
    now = now or utc_now()
    query = select(SignageCall).where(SignageCall.state == "waiting").order_by(SignageCall.created_at, SignageCall.id)
    if stores is not None:
        query = query.where(SignageCall.store_id == stores)
    return [view(c, now) for c in session.scalars(query) if c.assigned_to in (None, staff)]


def mine(session: Session, staff: str, now: datetime | None = None) -> list[CallView]:
    """The calls this person is serving (active or on hold)."""
    now = now or utc_now()
    rows = session.scalars(select(SignageCall).where(SignageCall.staff == staff, SignageCall.state.in_(("active", "held")))
                           .order_by(SignageCall.id))
    return [view(c, now) for c in rows]


def inbox(session: Session, store_id: str, to_side: str, after: int, call_ids: list[int] | None = None,
          limit: int = 200) -> list[dict[str, Any]]:
    """Messages for one side after id ``after``: the store's (signage) or those of given calls (staff)."""
    query = select(SignageMessage).where(SignageMessage.to_side == to_side, SignageMessage.id > after)
    if call_ids is not None:
        if not call_ids:
            return []
        query = query.where(SignageMessage.call_id.in_(call_ids))
    else:
        query = query.where(SignageMessage.store_id == store_id)
    rows = session.scalars(query.order_by(SignageMessage.id).limit(limit))
    return [{"id": m.id, "call_id": m.call_id, "kind": m.kind, "body": m.body} for m in rows]


def last_message_id(session: Session) -> int:
    return int(session.scalar(select(func.max(SignageMessage.id))) or 0)


@dataclass(frozen=True, slots=True)
class StoreFigures:
    """Per store: calls waiting now, handled and abandoned, and the mean wait of taken calls."""

    store_id: str
    waiting: int
    handled: int
    abandoned: int
    mean_wait_s: float | None
    wait_s_sum: float


def figures(session: Session, since: datetime | None = None, stores: str | None = None) -> list[StoreFigures]:
    """Waits, handled calls and abandonment per store (calls created since ``since``, if given),
    counted by the database in one grouped query (``wait_s`` is stored when a call is first taken)."""
    def count_if(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = select(
        SignageCall.store_id, count_if(SignageCall.state == "waiting"),
        count_if((SignageCall.state == "ended") & SignageCall.answered_at.is_not(None)),
        count_if(SignageCall.state == "abandoned"), func.count(SignageCall.wait_s),
        func.coalesce(func.sum(SignageCall.wait_s), 0.0),
    ).group_by(SignageCall.store_id).order_by(SignageCall.store_id)
    if since is not None:
        query = query.where(SignageCall.created_at >= since)
    if stores is not None:
        query = query.where(SignageCall.store_id == stores)
    return [StoreFigures(store, int(waiting), int(handled), int(abandoned), float(wait) / taken if taken else None, float(wait))
            for store, waiting, handled, abandoned, taken, wait in session.execute(query)]
