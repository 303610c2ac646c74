"""Run commands from central on a device, each at most once, and say what happened.

A device adapter (a fan controller, a robot bridge, a signage player) gives a
:data:`Handler`: ``Callable[[Command], CommandOutcome]``. For every command delivered (MQTT or
HTTP long-poll; see ``edge/commands/mqtt.py`` and ``http.py``) the receiver answers through
``report`` and, in this order:

1. a command for another store or device: ``refused`` (never run);
2. a ``command_id`` already in the ledger: ``duplicate`` with the stored outcome as
   ``original_status`` (never run again; an entry a previous run left unfinished is ``failed``,
   interrupted);
3. a command past ``expires_at`` by the device's clock: ``expired`` (never run);
4. otherwise: the ledger records the start, ``accepted`` goes out, the handler runs, the outcome
   is recorded and reported (``succeeded``, ``failed``, or ``refused`` if the handler declined).
   A handler that raises is a ``failed`` outcome with the exception named; it is logged.

>>> import tempfile
>>> from datetime import datetime, timedelta, timezone
>>> now = datetime.now(timezone.utc)
>>> calls = []
>>> def echo(command):
...     calls.append(command.command_id)
...     return CommandOutcome.succeeded(f"echo {command.arguments['say']}")
>>> receiver = CommandReceiver("s1", "fan-1", echo, tempfile.mkdtemp() + "/ledger.sqlite")
>>> c = Command(store_id="s1", device_id="fan-1", action="test.echo", arguments={"say": "hi"},
...             issued_by="hq", issued_at=now, expires_at=now + timedelta(minutes=1))
>>> [(r.status.value, r.detail) for r in receiver.receive(c)]
[('accepted', None), ('succeeded', 'echo hi')]
>>> [(r.status.value, r.original_status.value) for r in receiver.receive(c)], len(calls)
([('duplicate', 'succeeded')], 1)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal
from uuid import UUID

from pydantic import ValidationError

from edge.commands.ledger import CommandLedger, LedgerEntry
from services.contract.commands import MAX_DETAIL_CHARS, Command, CommandAck, CommandResult, CommandStatus

log = logging.getLogger(__name__)

Report = Callable[[CommandResult], None]


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What a handler did with a command."""

    status: Literal["succeeded", "failed", "refused"]
    detail: str | None = None

    @classmethod
    def succeeded(cls, detail: str | None = None) -> CommandOutcome:
        return cls("succeeded", detail)

    @classmethod
    def failed(cls, detail: str) -> CommandOutcome:
        return cls("failed", detail)

    @classmethod
    def refused(cls, detail: str) -> CommandOutcome:
        """Declined before doing anything (unknown action, arguments out of range)."""
        return cls("refused", detail)


Handler = Callable[[Command], CommandOutcome]


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:MAX_DETAIL_CHARS]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CommandReceiver:
    """Executes commands for one device exactly once per ``command_id`` (at most once if the
    device stops mid-command), with a durable ledger.

    Args:
        store_id, device_id: who this device is; commands for anyone else are refused.
        handler: runs one command (see :data:`Handler`).
        ledger: a :class:`CommandLedger` or the path of its SQLite file (kept across restarts).
        clock: the device's UTC clock (tests pass a fixed one).

    A command that a previous run started and never finished (the device stopped mid-command)
    is not run again:

    >>> import tempfile
    >>> from datetime import datetime, timedelta, timezone
    >>> path, now = tempfile.mkdtemp() + "/ledger.sqlite", datetime.now(timezone.utc)
    >>> c = Command(store_id="s1", device_id="fan-1", action="test.echo", issued_by="hq",
    ...             issued_at=now, expires_at=now + timedelta(minutes=1))
    >>> CommandLedger(path).begin(c.command_id, c.action, now) is None  # the run that stopped
    True
    >>> calls = []
    >>> after_restart = CommandReceiver("s1", "fan-1", lambda cmd: calls.append(cmd) or CommandOutcome.succeeded(), path)
    >>> (r,) = after_restart.receive(c)
    >>> r.status.value, r.original_status.value, r.detail.startswith("interrupted"), calls
    ('duplicate', 'failed', True, [])
    """

    def __init__(self, store_id: str, device_id: str, handler: Handler, ledger: CommandLedger | str | Path,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.store_id = store_id
        self.device_id = device_id
        self.handler = handler
        self.ledger = ledger if isinstance(ledger, CommandLedger) else CommandLedger(ledger)
        self.clock = clock

    def close(self) -> None:
        self.ledger.close()

    def _ack(self, command_id: UUID, status: CommandStatus, detail: str | None = None,
             original: CommandStatus | None = None) -> CommandAck:
        return CommandAck(command_id=command_id, device_id=self.device_id, status=status, detail=_clip(detail),
                          original_status=original, at=self.clock())

    def _replay(self, command: Command, entry: LedgerEntry) -> CommandAck:
        if entry.status is not None:
            return self._ack(command.command_id, CommandStatus.DUPLICATE, entry.detail, CommandStatus(entry.status))
        if entry.boot == self.ledger.boot:  # delivered again while it runs (MQTT and HTTP together)
            return self._ack(command.command_id, CommandStatus.DUPLICATE, "still running", CommandStatus.ACCEPTED)
        detail = f"interrupted: the device stopped while running it (started {entry.started_at.isoformat()}); not run again"
        self.ledger.finish(command.command_id, CommandStatus.FAILED.value, detail, self.clock())
        return self._ack(command.command_id, CommandStatus.DUPLICATE, detail, CommandStatus.FAILED)

    def receive(self, command: Command, report: Report | None = None) -> list[CommandResult]:
        """Handle one delivery; every report is passed to ``report`` as soon as it exists (the ack
        before the handler runs) and all are returned in order. ``report`` may raise: the error
        is logged and handling goes on (the transport resends on redelivery)."""
        sent: list[CommandResult] = []

        def emit(result: CommandResult) -> None:
            sent.append(result)
            if report is not None:
                try:
                    report(result)
                except Exception as exc:  # noqa: BLE001 - the redelivery carries the outcome again
                    log.warning("could not report %s of command %s (%s: %s); a redelivery reports it again",
                                result.status.value, result.command_id, type(exc).__name__, exc)

        if (command.store_id, command.device_id) != (self.store_id, self.device_id):
            emit(self._ack(command.command_id, CommandStatus.REFUSED,
                           f"addressed to {command.store_id}/{command.device_id}, this is {self.store_id}/{self.device_id}"))
            return sent
        entry = self.ledger.get(command.command_id)
        if entry is not None:
            emit(self._replay(command, entry))
            return sent
        now = self.clock()
        if command.expired(now):
            emit(self._ack(command.command_id, CommandStatus.EXPIRED,
                           f"arrived {now.isoformat()}, after expires_at {command.expires_at.isoformat()}; not run"))
            return sent
        entry = self.ledger.begin(command.command_id, command.action, now)
        if entry is not None:  # another delivery got there first
            emit(self._replay(command, entry))
            return sent
        emit(self._ack(command.command_id, CommandStatus.ACCEPTED))
        try:
            outcome = self.handler(command)
        except Exception as exc:  # noqa: BLE001 - a handler bug is a failed command, not a dead device
            log.exception("handler failed on command %s (%s)", command.command_id, command.action)
            outcome = CommandOutcome.failed(f"{type(exc).__name__}: {exc}")
        status, detail = CommandStatus(outcome.status), _clip(outcome.detail)
        self.ledger.finish(command.command_id, status.value, detail, self.clock())
        emit(CommandResult(command_id=command.command_id, device_id=self.device_id, status=status, detail=detail,
                           at=self.clock()))
        return sent

    def receive_payload(self, payload: bytes | str, report: Report | None = None) -> list[CommandResult]:
        """Handle one raw message: a payload that is not a valid command is refused when it names a
        ``command_id`` (so central hears of it), else logged and dropped."""
        try:
            command = Command.model_validate_json(payload)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)
            command_id = _command_id_of(payload)
            if command_id is None:
                log.error("dropped a message that is not a command and names no command_id: %s", errors)
                return []
            log.error("refused invalid command %s: %s", command_id, errors)
            refusal = self._ack(command_id, CommandStatus.REFUSED, "not a valid command: " + json.dumps(errors, default=str))
            if report is not None:
                try:
                    report(refusal)
                except Exception:  # noqa: BLE001
                    log.exception("could not report the refusal of command %s", command_id)
            return [refusal]
        return self.receive(command, report)


def _command_id_of(payload: bytes | str) -> UUID | None:
    """The ``command_id`` of a JSON object, if it has a valid one.

    >>> _command_id_of(b'{"command_id": "6f1c1d4e-8a34-4c38-9d55-3b7f8a8d2f10", "action": 7}')
    UUID('6f1c1d4e-8a34-4c38-9d55-3b7f8a8d2f10')
    >>> _command_id_of(b"[1]") is None
    True
    """
    try:
        doc = json.loads(payload)
        return UUID(str(doc["command_id"])) if isinstance(doc, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
