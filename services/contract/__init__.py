"""The versioned event contract shared by edge and central (and nothing else)."""

from services.contract.commands import Command, CommandAck, CommandResult, CommandStatus, command_topic, result_topic
from services.contract.events import (
    MAX_BATCH,
    MAX_BODY_BYTES,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    Box,
    Event,
    Evidence,
    Explanation,
    ModelRef,
    Severity,
    UseCase,
    mqtt_topic,
)
from services.contract.schema import event_json_schema
from services.contract.status import EdgeStatus, status_topic

__all__ = [
    "MAX_BATCH", "MAX_BODY_BYTES", "SCHEMA_VERSION", "SUPPORTED_SCHEMA_VERSIONS", "Box", "Event",
    "Evidence", "Explanation", "ModelRef", "Severity", "UseCase", "event_json_schema", "mqtt_topic",
    "EdgeStatus", "status_topic",
    "Command", "CommandAck", "CommandResult", "CommandStatus", "command_topic", "result_topic",
]
