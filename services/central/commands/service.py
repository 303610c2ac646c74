"""Issue commands, hand them to devices, record what devices report: each step in one transaction
with its audit entry (ids and digests only: arguments and free-text details are hashed, never copied).

Status of a command at central: ``pending`` until a device reports, then the device's latest
status, moving forward only (``pending`` → ``accepted`` → a final one; the first final status
wins). A ``duplicate`` report counts as its ``original_status``, so a result whose first report
was lost still arrives with the redelivery.

>>> advance("pending", CommandStatus.ACCEPTED), advance("accepted", CommandStatus.SUCCEEDED)
('accepted', 'succeeded')
>>> advance("succeeded", CommandStatus.FAILED), advance("succeeded", CommandStatus.ACCEPTED)
('succeeded', 'succeeded')
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.commands.policy import COMMAND_ACTIONS, policy_for
from services.central.db.tables import CommandResultRow, CommandRow, ReviewItem
from services.central.review.machine import State
from services.contract.commands import FINAL_STATUSES, Command, CommandResult, CommandStatus

PENDING = "pending"
#: Statuses in which a device should still be handed the command (it may not have seen it yet,
#: or its result was lost); devices answer a repeat with ``duplicate``, never run it twice.
DELIVERABLE = (PENDING, CommandStatus.ACCEPTED.value)


class CommandRefused(ValueError):
    """The request cannot become a command; ``field`` names the culprit, ``conflict`` means 409."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


class CommandNotFound(LookupError):
    """No such command (or not one the caller may see)."""


def sha256_json(value: Any) -> str:
    """Digest of a JSON value in canonical form (what the audit chain records instead of the value).

    >>> sha256_json({"b": 1, "a": 2}) == sha256_json({"a": 2, "b": 1})
    True
    """
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(body).hexdigest()


def _rank(status: str) -> int:
    if status == PENDING:
        return 0
    if status == CommandStatus.ACCEPTED:
        return 1
    return 2 if status in FINAL_STATUSES else -1


def advance(current: str, reported: CommandStatus) -> str:
    """The command's status after a report (see the module docstring)."""
    if _rank(current) >= 2 or _rank(reported) <= _rank(current):
        return current
    return reported.value


def _check_review(session: Session, action: str, store_id: str, review_item_id: int | None, required: bool) -> None:
    if review_item_id is None:
        if required:
            raise CommandRefused(
                "review_item_id",
                f"action {action!r} needs a human decision first: send review_item_id of a confirmed review item of store {store_id!r}",
            )
        return
    item = session.get(ReviewItem, review_item_id)
    if item is None:
        raise CommandRefused("review_item_id", f"no review item {review_item_id}")
    if item.store_id != store_id:
        raise CommandRefused("review_item_id", f"review item {review_item_id} belongs to another store, not {store_id!r}")
    if required and item.state != State.CONFIRMED:
        raise CommandRefused(
            "review_item_id",
            f"review item {review_item_id} is {item.state!r}, not 'confirmed': action {action!r} may only follow a confirmed review",
            conflict=True,
        )


def issue(
    session: Session,
    *,
    store_id: str,
    device_id: str,
    action: str,
    arguments: dict[str, Any],
    ttl_s: int,
    review_item_id: int | None,
    issued_by: str,
    now: datetime,
) -> CommandRow:
    """Check the action's policy, store the command as ``pending`` and audit it (the caller commits)."""
    policy = policy_for(action)
    if policy is None:
        raise CommandRefused("action", f"unknown action {action!r}; central issues: {', '.join(sorted(COMMAND_ACTIONS))}")
    if ttl_s > policy.max_ttl_s:
        raise CommandRefused("ttl_s", f"action {action!r} may be valid for at most {policy.max_ttl_s} s, not {ttl_s}")
    _check_review(session, action, store_id, review_item_id, policy.requires_review)
    command = Command(store_id=store_id, device_id=device_id, action=action, arguments=arguments,
                      issued_by=issued_by, issued_at=now, expires_at=now + timedelta(seconds=ttl_s))
    row = CommandRow(
        command_id=command.command_id, schema_version=command.schema_version, store_id=store_id, device_id=device_id,
        action=action, arguments=command.arguments, issued_by=issued_by, issued_at=command.issued_at,
        expires_at=command.expires_at, review_item_id=review_item_id, status=PENDING, published_at=None, updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(session, issued_by, "command.issue", f"command:{command.command_id}", {
        "store_id": store_id, "device_id": device_id, "action": action,
        "arguments_sha256": sha256_json(command.arguments), "expires_at": command.expires_at.isoformat(),
        "review_item_id": review_item_id,
    }, at=now)
    return row


def to_contract(row: CommandRow) -> Command:
    """The wire form of a stored command (what MQTT and the long-poll deliver)."""
    return Command(command_id=row.command_id, schema_version="1.0", store_id=row.store_id, device_id=row.device_id,
                   action=row.action, arguments=row.arguments, issued_by=row.issued_by, issued_at=row.issued_at,
                   expires_at=row.expires_at)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What became of one report: ``stored`` is False for a repeat of a report already stored."""

    command_id: uuid.UUID
    stored: bool
    status: str


def record_result(
    session: Session,
    result: CommandResult,
    *,
    reporter: str,
    transport: str,
    now: datetime,
    store_id: str | None = None,
) -> Recorded:
    """Store one device report and audit it (the caller commits).

    ``store_id``: the store the report came from (MQTT topic, store-bound API key); a command
    of another store is not found. Raises :class:`CommandNotFound` or :class:`CommandRefused`.
    """
    row = session.execute(
        select(CommandRow).where(CommandRow.command_id == result.command_id).with_for_update()
    ).scalar_one_or_none()
    if row is None or (store_id is not None and row.store_id != store_id):
        raise CommandNotFound(f"no command {result.command_id}" + (f" for store {store_id!r}" if store_id else ""))
    if result.device_id != row.device_id:
        raise CommandRefused("device_id", f"command {row.command_id} is for device {row.device_id!r}, not {result.device_id!r}")
    seen = session.execute(select(CommandResultRow.id).where(
        CommandResultRow.command_id == row.command_id, CommandResultRow.status == result.status.value,
    )).first()
    if seen is not None:
        return Recorded(row.command_id, False, row.status)
    session.add(CommandResultRow(command_id=row.command_id, device_id=result.device_id, status=result.status.value,
                                 detail=result.detail, at=result.at, transport=transport, received_at=now))
    row.status = advance(row.status, result.effective_status)
    row.updated_at = now
    session.flush()
    audit.append(session, reporter[:128], "command.result", f"command:{row.command_id}", {
        "store_id": row.store_id, "device_id": row.device_id, "status": result.status.value,
        "original_status": result.original_status.value if result.original_status else None,
        "transport": transport, "detail_sha256": sha256_json(result.detail) if result.detail is not None else None,
        "command_status": row.status,
    }, at=now)
    return Recorded(row.command_id, True, row.status)


def get(session: Session, command_id: uuid.UUID, store_id: str | None = None) -> CommandRow:
    row = session.get(CommandRow, command_id)
    if row is None or (store_id is not None and row.store_id != store_id):
        raise CommandNotFound(f"no command {command_id}")
    return row


def results_of(session: Session, command_id: uuid.UUID) -> list[CommandResultRow]:
    return list(session.scalars(select(CommandResultRow).where(CommandResultRow.command_id == command_id)
                                .order_by(CommandResultRow.id)))


def listing(
    session: Session, *, store_id: str | None, device_id: str | None, status: str | None, limit: int, offset: int,
) -> tuple[list[CommandRow], int]:
    """Newest first, filtered; and the total matching."""
    query = select(CommandRow)
    for column, value in ((CommandRow.store_id, store_id), (CommandRow.device_id, device_id), (CommandRow.status, status)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(CommandRow.issued_at.desc(), CommandRow.command_id).limit(limit).offset(offset))
    return list(rows), total


def deliverable(session: Session, store_id: str, device_id: str, now: datetime, limit: int = 50) -> list[CommandRow]:
    """Commands a polling device should get: not finished, not expired, oldest first."""
    return list(session.scalars(
        select(CommandRow)
        .where(CommandRow.store_id == store_id, CommandRow.device_id == device_id,
               CommandRow.status.in_(DELIVERABLE), CommandRow.expires_at > now)
        .order_by(CommandRow.issued_at, CommandRow.command_id)
        .limit(limit)
    ))


def unpublished(session: Session, now: datetime, grace_s: float, limit: int = 100) -> list[CommandRow]:
    """Pending, unexpired commands not yet on the broker (it was away when they were issued),
    issued more than ``grace_s`` ago: younger ones may still be on their way from the API."""
    return list(session.scalars(
        select(CommandRow)
        .where(CommandRow.status == PENDING, CommandRow.published_at.is_(None), CommandRow.expires_at > now,
               CommandRow.issued_at < now - timedelta(seconds=grace_s))
        .order_by(CommandRow.issued_at)
        .limit(limit)
    ))


def mark_published(session: Session, command_ids: list[uuid.UUID], now: datetime) -> None:
    for row in session.scalars(select(CommandRow).where(CommandRow.command_id.in_(command_ids))):
        if row.published_at is None:
            row.published_at = now
