"""The event contract v1: what is accepted, what is refused and why."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.contract import Event, Explanation, UseCase, event_json_schema, mqtt_topic

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def minimal(**changes):
    body = {
        "type": "zone.occupancy", "use_case": "F", "store_id": "tokyo-01", "camera_id": "aisle-1",
        "occurred_at": "2026-11-01T09:00:00Z", "payload": {"zone": "aisle", "count": 4, "capacity": 10},
    }
    body.update(changes)
    return body


def error_fields(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


def test_minimal_event_gets_id_version_and_defaults():
    event = Event.model_validate(minimal())
    assert event.schema_version == "1.0"
    assert event.use_case is UseCase.F
    assert event.occurred_at == T0
    assert event.review_required is False
    assert Event.model_validate(minimal()).event_id != event.event_id


def test_round_trip_through_json_is_lossless():
    event = Event.model_validate(minimal())
    assert Event.model_validate_json(event.model_dump_json()) == event


def test_times_are_normalised_to_utc():
    event = Event.model_validate(minimal(occurred_at="2026-11-01T18:00:00+09:00"))
    assert event.occurred_at == T0 and event.occurred_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"use_case": "Z"}, "use_case", id="unknown use case"),
    pytest.param({"schema_version": "2.0"}, "schema_version", id="unknown schema version"),
    pytest.param({"occurred_at": "2026-11-01T09:00:00"}, "occurred_at", id="naive time"),
    pytest.param({"occurred_at": "yesterday"}, "occurred_at", id="not a time"),
    pytest.param({"store_id": "a store/with slash"}, "store_id", id="bad store id"),
    pytest.param({"type": "Occupancy"}, "type", id="type not dotted lower-case"),
    pytest.param({"event_id": "not-a-uuid"}, "event_id", id="bad uuid"),
    pytest.param({"payload": [1, 2]}, "payload", id="payload not an object"),
    pytest.param({"surprise": 1}, "surprise", id="unknown field"),
    pytest.param({"severity": "apocalyptic"}, "severity", id="unknown severity"),
])
def test_malformed_events_name_the_field(change, field):
    with pytest.raises(ValidationError) as info:
        Event.model_validate(minimal(**change))
    assert field in error_fields(info.value)


def test_missing_required_field_is_named():
    body = minimal()
    del body["camera_id"]
    with pytest.raises(ValidationError) as info:
        Event.model_validate(body)
    assert "camera_id" in error_fields(info.value)


def test_alert_needing_review_must_explain_itself():
    with pytest.raises(ValidationError, match="explanation"):
        Event.model_validate(minimal(type="zone.overcrowded", review_required=True))
    event = Event.model_validate(minimal(
        type="zone.overcrowded", review_required=True,
        explanation=Explanation(rule="occupancy_over_capacity", thresholds={"capacity": 10},
                                measured={"count": 12}).model_dump()))
    assert event.explanation.measured == {"count": 12}


def test_mqtt_topic_names_store_camera_and_type():
    assert mqtt_topic(Event.model_validate(minimal())) == "anshin/v1/tokyo-01/aisle-1/zone.occupancy"


def test_committed_json_schema_matches_the_code():
    """docs/event.schema.json is what integrators read; regenerate with `anshin schema export`."""
    committed = json.loads((ROOT / "docs" / "event.schema.json").read_text())
    assert committed == json.loads(json.dumps(event_json_schema()))


def test_json_schema_lists_the_envelope_fields():
    schema = event_json_schema()
    assert set(schema["required"]) == {"type", "use_case", "store_id", "camera_id", "occurred_at"}
    assert schema["properties"]["use_case"] == {"$ref": "#/$defs/UseCase"}
    assert schema["$defs"]["UseCase"]["enum"] == list("ABCDEFGHIJ")
