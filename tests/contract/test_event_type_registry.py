"""The event-type registry: every type declared once with a use case and a payload model; payloads
are checked against it; ``anshin schema types`` and the JSON Schema show it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema_rs
import pytest
from typer.testing import CliRunner

from services.contract import Event, Explanation, Severity, UseCase
from services.contract.cli import schema_app
from services.contract.registry import (
    EVENT_TYPES,
    default_review_deadlines_s,
    default_two_person_types,
    spec,
    validate_event_payload,
)
from services.contract.types import EventTypeSpec, Payload, PayloadRejected

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(timezone.utc)

MODELS = {"face_detector": "yunet@2023mar", "mask_classifier": "anshin_mask_head@1"}

#: Every declared type, by use case (a new type is a deliberate change: add it here). Each use case's
#: own tests check its payloads; the A and F examples below also go through the published schema.
KNOWN_TYPES = {
    UseCase.A: {"entrance.no_mask", "entrance.fever_suspected"},
    UseCase.B: {"floor.positions", "floor.distancing"},
    UseCase.E: {"checkout.charged", "checkout.doubtful"},
    UseCase.F: {"zone.occupancy", "zone.overcrowded", "zone.cleared", "line.crossings",
                "comfort.reading", "comfort.notice", "comfort.restored"},
    UseCase.G: {"ventilation.zone_state", "ventilation.setpoints_changed", "ventilation.failsafe",
                "ventilation.restored", "ventilation.infection_reported", "ventilation.purge_completed"},
    UseCase.H: {"behaviour.loitering", "behaviour.restricted_zone", "behaviour.exit_without_checkout",
                "behaviour.repeated_returns", "behaviour.pose_cue"},
    UseCase.I: {"shelf.gap", "shelf.refilled"},
    UseCase.J: {"insights.purchase_proposal"},
}

#: Types that open a review item: every alert a person decides, no reading.
REVIEWED = ["behaviour.exit_without_checkout", "behaviour.loitering", "behaviour.pose_cue", "behaviour.repeated_returns",
            "behaviour.restricted_zone", "checkout.doubtful", "entrance.fever_suspected", "insights.purchase_proposal",
            "ventilation.failsafe", "ventilation.infection_reported", "zone.overcrowded"]

#: What the edge analyzers of use cases A and F emit (edge/usecases/occupancy, edge/usecases/entrance).
EMITTED = {
    "zone.occupancy": {"zone": "aisle", "count": 3, "capacity": 10, "occupancy_ratio": 0.3, "peak_count": 4,
                       "unique_tracks": 6, "interval_s": 2.0, "polygon": [[0.1, 0.2], [0.9, 0.2], [0.9, 1.0]]},
    "zone.overcrowded": {"zone": "aisle", "count": 12, "capacity": 10, "occupancy_ratio": 1.2},
    "zone.cleared": {"zone": "aisle", "count": 8, "capacity": 10, "occupancy_ratio": 0.8, "overcrowded_for_s": 41.5},
    "entrance.no_mask": {"p_mask": 0.12, "frames": 3, "face_track": 7, "models": MODELS},
    "entrance.fever_suspected": {
        "core_c": 38.4, "raw_c": 35.1, "corrected_c": 35.6, "ambient_c": 22.0, "blackbody_measured_c": 34.6,
        "blackbody_expected_c": 35.0, "blackbody_drift_c": -0.4, "interocular_px": 61.5, "frames": 5,
        "face_track": 2, "models": {**MODELS, "thermal_correction": "blackbody-offset+emissivity+canthus-coupling@v1",
                                    "calibration": "entrance-thermal.yaml"},
        "canthus_coupling": 0.95, "skin_emissivity": 0.98, "action": "confirm with a clinical thermometer before any decision",
    },
}


def event(event_type: str, payload: dict, use_case: str | None = None) -> Event:
    review = spec(event_type).review if event_type in EVENT_TYPES else False
    return Event(type=event_type, use_case=use_case or spec(event_type).use_case, store_id="tokyo-01",
                 camera_id="cam-1", occurred_at=NOW, payload=payload, review_required=review,
                 explanation=Explanation(rule="test_rule") if review else None)


def test_the_use_cases_declare_exactly_the_known_types() -> None:
    assert {t: s.use_case for t, s in EVENT_TYPES.items()} == {t: u for u, types in KNOWN_TYPES.items() for t in types}
    assert set(EMITTED) <= set(EVENT_TYPES)
    for name, declared in EVENT_TYPES.items():
        assert declared.type == name and issubclass(declared.payload, Payload) and declared.description


def test_review_rules_are_declared_with_the_type() -> None:
    assert [t for t, s in sorted(EVENT_TYPES.items()) if s.review] == REVIEWED
    # A fever and a reported infection (which starts a ventilation purge) need two people.
    assert default_two_person_types() == ["entrance.fever_suspected", "ventilation.infection_reported"]
    assert default_review_deadlines_s() == {"entrance.fever_suspected": 300}
    assert spec("zone.overcrowded").severity is Severity.WARNING


def test_a_contradictory_declaration_is_refused() -> None:
    with pytest.raises(ValueError, match="two-person rule needs review"):
        EventTypeSpec("x.y", UseCase.F, Severity.INFO, Payload, "x", two_person=True)
    with pytest.raises(ValueError, match="deadline needs review"):
        EventTypeSpec("x.y", UseCase.F, Severity.INFO, Payload, "x", review_deadline_s=60)


@pytest.mark.parametrize("event_type", sorted(EMITTED))
def test_what_the_edge_emits_is_accepted(event_type: str) -> None:
    model = validate_event_payload(event(event_type, EMITTED[event_type]))
    assert model.model_dump(exclude_none=True) == EMITTED[event_type]


@pytest.mark.parametrize(("event_type", "change", "loc", "error"), [
    pytest.param("zone.occupancy", {"count": -1}, ("payload", "count"), "greater_than_equal", id="negative count"),
    pytest.param("zone.occupancy", {"count": "3"}, ("payload", "count"), "int_type", id="count as text"),
    pytest.param("zone.occupancy", {"count": True}, ("payload", "count"), "int_type", id="count as bool"),
    pytest.param("zone.occupancy", {"count": 10**12}, ("payload", "count"), "less_than_equal", id="huge count"),
    pytest.param("zone.occupancy", {"capacity": 0}, ("payload", "capacity"), "greater_than_equal", id="zero capacity"),
    pytest.param("zone.occupancy", {"zone": "z" * 65}, ("payload", "zone"), "string_too_long", id="long zone"),
    pytest.param("zone.occupancy", {"polygon": [[0.1, 0.2], [2.0, 0.2], [0.5, 0.5]]}, ("payload", "polygon", 1, 0),
                 "less_than_equal", id="vertex outside frame"),
    pytest.param("zone.occupancy", {"surprise": 1}, ("payload", "surprise"), "extra_forbidden", id="unknown field"),
    pytest.param("zone.cleared", {"overcrowded_for_s": float("inf")}, ("payload", "overcrowded_for_s"), "finite_number",
                 id="infinite seconds"),
    pytest.param("entrance.no_mask", {"p_mask": 1.5}, ("payload", "p_mask"), "less_than_equal", id="probability > 1"),
    pytest.param("entrance.fever_suspected", {"core_c": float("nan")}, ("payload", "core_c"), "finite_number", id="NaN"),
    pytest.param("entrance.fever_suspected", {"action": "x" * 1001}, ("payload", "action"), "string_too_long",
                 id="long text"),
    pytest.param("entrance.fever_suspected", {"models": {"face_detector": "a"}}, ("payload", "models", "mask_classifier"),
                 "missing", id="model missing"),
])
def test_a_bad_payload_names_the_field(event_type: str, change: dict, loc: tuple, error: str) -> None:
    with pytest.raises(PayloadRejected) as info:
        validate_event_payload(event(event_type, {**EMITTED[event_type], **change}))
    assert isinstance(info.value, ValueError)
    assert [(e["loc"], e["type"]) for e in info.value.errors] == [(loc, error)]


def test_a_missing_required_field_is_named() -> None:
    payload = dict(EMITTED["zone.overcrowded"])
    del payload["capacity"]
    with pytest.raises(PayloadRejected, match=r"payload\.capacity: Field required"):
        validate_event_payload(event("zone.overcrowded", payload))


def test_an_unknown_type_or_a_foreign_use_case_is_refused() -> None:
    with pytest.raises(PayloadRejected) as info:
        validate_event_payload(Event(type="zone.over_capacity", use_case="F", store_id="s", camera_id="c",
                                     occurred_at=NOW, payload={}))
    assert info.value.errors[0]["loc"] == ("type",) and "unknown event type 'zone.over_capacity'" in str(info.value)
    with pytest.raises(PayloadRejected) as info:
        validate_event_payload(event("zone.occupancy", EMITTED["zone.occupancy"], use_case="A"))
    assert info.value.errors[0]["loc"] == ("use_case",) and "belongs to use case F" in str(info.value)


@pytest.mark.parametrize(("event_type", "review_required"), [
    pytest.param("zone.occupancy", True, id="a reading sent for review"),
    pytest.param("zone.overcrowded", False, id="an alert kept from review"),
])
def test_review_is_what_the_type_declares(event_type: str, review_required: bool) -> None:
    e = event(event_type, EMITTED[event_type]).model_copy(update={"review_required": review_required})
    with pytest.raises(PayloadRejected) as info:
        validate_event_payload(e)
    assert [(x["loc"], x["type"]) for x in info.value.errors] == [(("review_required",), "review_mismatch")]
    assert f"review_required must be {str(not review_required).lower()}" in str(info.value)


def test_schema_types_lists_every_type_as_json() -> None:
    r = CliRunner().invoke(schema_app, ["types", "--json"])
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output)
    assert [d["type"] for d in listed] == sorted(EVENT_TYPES)
    fever = next(d for d in listed if d["type"] == "entrance.fever_suspected")
    assert {k: fever[k] for k in ("use_case", "severity", "review", "two_person", "review_deadline_s")} == {
        "use_case": "A", "severity": "warning", "review": True, "two_person": True, "review_deadline_s": 300}
    assert "core_c" in fever["payload_schema"]["required"]
    occupancy = next(d for d in listed if d["type"] == "zone.occupancy")
    assert occupancy["payload_schema"]["additionalProperties"] is False
    assert set(occupancy["payload_schema"]["required"]) == {"zone", "count", "capacity"}


def test_schema_types_reads_well_in_a_terminal() -> None:
    r = CliRunner().invoke(schema_app, ["types"])
    assert r.exit_code == 0, r.output
    assert "entrance.fever_suspected" in r.output and "review by two people within 300 s" in r.output
    assert "payload: zone, count, capacity, occupancy_ratio?" in r.output


def test_schema_export_writes_the_committed_file(tmp_path: Path) -> None:
    out = tmp_path / "event.schema.json"
    r = CliRunner().invoke(schema_app, ["export", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text()) == json.loads((ROOT / "docs" / "event.schema.json").read_text())


def test_the_published_schema_checks_payloads_by_type() -> None:
    """A stock JSON Schema validator, reading docs/event.schema.json, agrees with the registry."""
    schema = json.loads((ROOT / "docs" / "event.schema.json").read_text())
    validator = jsonschema_rs.Draft202012Validator(schema)
    assert set(schema["payload_schemas"]) == set(EVENT_TYPES)
    for event_type, payload in EMITTED.items():
        assert validator.is_valid(event(event_type, payload).model_dump(mode="json")), event_type
    good = event("zone.occupancy", EMITTED["zone.occupancy"]).model_dump(mode="json")
    assert not validator.is_valid({**good, "payload": {**good["payload"], "count": -1}})
    assert not validator.is_valid({**good, "payload": {**good["payload"], "surprise": 1}})
    assert not validator.is_valid({**good, "use_case": "A"})
    assert not validator.is_valid({**good, "type": "zone.over_capacity"})
    assert not validator.is_valid({**good, "type": "entrance.no_mask", "use_case": "A"})  # zone payload, mask type
    assert not validator.is_valid({**good, "review_required": True, "explanation": {"rule": "r"}})


def test_the_edge_occupancy_analyzer_emits_valid_payloads() -> None:
    """The real analyzer, through a zone filling up and emptying: every event matches its type."""
    from datetime import timedelta

    from edge.config import ZoneConfig
    from edge.detections import Detections
    from edge.usecases.base import FrameContext
    from edge.usecases.occupancy.analyzer import OccupancyAnalyzer
    from edge.usecases.occupancy.config import OccupancyAnalyzerConfig

    zones = {"door": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])}
    analyzer = OccupancyAnalyzer(OccupancyAnalyzerConfig(zones={"door": {"capacity": 1}}, min_frames=1, interval_s=1), zones)
    crowd = Detections(xyxy=[[0, 0, 10, 10], [20, 0, 30, 10]], score=[0.9, 0.8], class_id=[0, 0], tracker_id=[1, 2])
    nobody = Detections(xyxy=[[200, 200, 210, 210]], score=[0.9], class_id=[0], tracker_id=[3])  # outside the frame
    seen = []
    for k, tracks in enumerate([crowd, crowd, nobody, nobody]):
        ctx = FrameContext("s1", "c1", NOW + timedelta(seconds=2 * k), (100, 100))
        for e in analyzer.update(tracks, ctx):
            validate_event_payload(e)
            seen.append(e.type)
    assert {"zone.occupancy", "zone.overcrowded", "zone.cleared"} <= set(seen)
