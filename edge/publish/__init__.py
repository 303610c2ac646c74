"""Publishers drain the outbox to central (HTTP today; MQTT later)."""

from edge.publish.http import HttpPublisher, PublisherStats, TransientError

__all__ = ["HttpPublisher", "PublisherStats", "TransientError"]
