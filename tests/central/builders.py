"""Tiny builders of real contract events (``services.contract.Event``) for central tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from services.central.db.session import Database
from services.contract import Event, Explanation, ModelRef

STORE = "tokyo-01"


def now() -> datetime:
    return datetime.now(timezone.utc)


def occupancy(
    zone: str = "aisle", count: int = 3, capacity: int = 10, camera: str = "aisle-1",
    store: str = STORE, at: datetime | None = None,
) -> Event:
    return Event(
        type="zone.occupancy", use_case="F", store_id=store, camera_id=camera, occurred_at=at or now(),
        payload={"zone": zone, "count": count, "capacity": capacity},
    )


def fever_payload(celsius: float = 38.2, face_track: int = 7) -> dict[str, Any]:
    """What the edge's entrance analyzer sends with ``entrance.fever_suspected``."""
    return {
        "core_c": celsius, "raw_c": round(celsius - 3.2, 2), "corrected_c": round(celsius - 2.8, 2), "ambient_c": 22.0,
        "blackbody_measured_c": 34.7, "blackbody_expected_c": 35.0, "blackbody_drift_c": -0.3, "interocular_px": 62.0,
        "frames": 5, "face_track": face_track, "canthus_coupling": 0.95, "skin_emissivity": 0.98,
        "models": {"face_detector": "yunet@2023mar", "mask_classifier": "anshin_mask_head@1",
                   "thermal_correction": "blackbody-offset+emissivity+canthus-coupling@v1", "calibration": "entrance.yaml"},
        "action": "confirm with a clinical thermometer before any decision",
    }


def fever_alert(store: str = STORE, camera: str = "entrance", at: datetime | None = None, celsius: float = 38.2) -> Event:
    """Use case A: a suspected fever; two reviewers under the default policy."""
    return Event(
        type="entrance.fever_suspected", use_case="A", store_id=store, camera_id=camera, occurred_at=at or now(),
        severity="warning", review_required=True,
        payload=fever_payload(celsius),
        explanation=Explanation(
            rule="body_surface_temperature_over_threshold",
            summary=f"Forehead measured {celsius} °C, above the 37.5 °C threshold.",
            thresholds={"celsius": 37.5}, measured={"celsius": celsius},
            model=ModelRef(name="thermal-registration", version="1"),
        ),
    )


def crowding_alert(
    store: str = STORE, camera: str = "aisle-1", at: datetime | None = None, severity: str = "critical"
) -> Event:
    """Use case F: over capacity, reviewed by one person under the default policy."""
    return Event(
        type="zone.overcrowded", use_case="F", store_id=store, camera_id=camera, occurred_at=at or now(),
        severity=severity, review_required=True, payload={"zone": "aisle", "count": 14, "capacity": 10},
        explanation=Explanation(rule="occupancy_over_capacity", thresholds={"capacity": 10}, measured={"count": 14}),
    )


def wire(*events: Event) -> list[dict[str, Any]]:
    """JSON-ready dicts, exactly what an edge publisher sends."""
    return [e.model_dump(mode="json") for e in events]


def minutes_ago(n: float) -> datetime:
    return now() - timedelta(minutes=n)


def count_rows(db: Database, table: str) -> int:
    with db.read_session() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
