"""Device side of commands from central: :class:`CommandReceiver` runs each command at most once
(a SQLite ledger survives restarts), refuses expired ones, and answers over MQTT or HTTP."""

from edge.commands.ledger import CommandLedger, LedgerEntry
from edge.commands.receiver import CommandOutcome, CommandReceiver, Handler

__all__ = ["CommandLedger", "CommandOutcome", "CommandReceiver", "Handler", "LedgerEntry"]
