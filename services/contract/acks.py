"""Delivery acknowledgement v1: central tells one edge which of its events are safely stored.

A broker's PUBACK only says the broker took a message; a broker that crashes before it saved
(Mosquitto saves every ``autosave_interval`` seconds) loses it. So on MQTT the edge keeps each
event in its outbox until *central* acknowledges it: after each database commit, the ingest
worker publishes a :class:`DeliveryAck` (QoS 1) on ``anshin/v1/{store}/{camera}/_ack`` of the
camera that sent the events, naming the ids it stored now, the ids it already had, and the ids
it set aside as dead letters (with the reason). ``_ack`` can never be an event type (those are
dotted lower-case words starting with a letter), like ``_status``.

The broker ACL lets a store's user read only its own ``_ack`` topics, and only central write them.

>>> from uuid import UUID
>>> one = UUID("00000000-0000-4000-8000-000000000001")
>>> ack = DeliveryAck(store_id="s1", camera_id="c1", stored=[one])
>>> ack_topic("s1", "c1")
'anshin/v1/s1/c1/_ack'
>>> DeliveryAck.model_validate_json(ack.model_dump_json()) == ack
True
>>> [str(i) for i in ack.settled()]
['00000000-0000-4000-8000-000000000001']
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from services.contract.events import Identifier, Strict

ACK_TOPIC_LEVEL = "_ack"
#: Ids one acknowledgement may name (a batch of central's ingest worker is at most 5000 messages).
MAX_ACK_IDS = 10_000


def ack_topic(store_id: str, camera_id: str) -> str:
    """Topic of the acknowledgements for one edge (camera)."""
    return f"anshin/v1/{store_id}/{camera_id}/{ACK_TOPIC_LEVEL}"


class RejectedId(Strict):
    """An event central will not store and has kept in its dead letters instead."""

    event_id: UUID
    reason: str = Field(max_length=4000, description="why, as in central's dead letters (e.g. invalid_event)")


class DeliveryAck(Strict):
    """Which events of one edge central has settled; the edge deletes exactly these from its outbox."""

    v: int = Field(default=1, ge=1, le=1, description="acknowledgement format version")
    store_id: Identifier
    camera_id: Identifier
    stored: list[UUID] = Field(default_factory=list, max_length=MAX_ACK_IDS, description="newly stored")
    duplicates: list[UUID] = Field(default_factory=list, max_length=MAX_ACK_IDS,
                                   description="already stored (a re-sent event)")
    rejected: list[RejectedId] = Field(default_factory=list, max_length=MAX_ACK_IDS,
                                       description="dead-lettered at central, never to be stored")

    def settled(self) -> list[UUID]:
        """Every id the edge may stop sending: stored now, stored before, or rejected."""
        return [*self.stored, *self.duplicates, *(r.event_id for r in self.rejected)]
