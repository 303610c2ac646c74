"""Idempotent event ingest, shared by the HTTP route and (later) the MQTT subscriber."""

from services.central.ingest.store import IngestResult, ingest

__all__ = ["IngestResult", "ingest"]
