"""Durable SQLite outbox: events are stored here before any attempt to publish them."""

from edge.outbox.sqlite import DeadLetter, Outbox, OutboxItem, decode

__all__ = ["DeadLetter", "Outbox", "OutboxItem", "decode"]
