"""Use case G on central: infection reports (two-person review, then the purge command), manual
overrides (commands with an expiry), and what the ventilation page shows.

The purge is issued by :func:`on_decided`, the review decision hook, in the transaction of the
second confirmation: ``ventilation.purge`` requires a confirmed review item (see
``services/central/commands/policy.py``), so no purge can be issued before it. The command is
audited (``command.issue``); the agent's ``ventilation.setpoints_changed`` and
``ventilation.purge_completed`` events come back through ingest (audited by id and digest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.commands import service as commands
from services.central.db.tables import CommandRow, EventRow, ReviewItem
from services.central.ingest.store import ingest
from services.central.settings import Settings
from services.contract import Event, Explanation

REPORT = "ventilation.infection_reported"
PURGE, OVERRIDE, OVERRIDE_CLEAR = "ventilation.purge", "ventilation.override", "ventilation.override_clear"
#: How long a device may take to pick a command up before it is void.
COMMAND_TTL_S = 600


class VentilationInputError(ValueError):
    """A report or override that cannot be accepted; ``key`` is the message key saying why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def known_zones(session: Session, store_id: str) -> tuple[str | None, list[str]]:
    """The store's air handler (device id) and its zones, from its latest zone reports."""
    rows = session.execute(
        select(EventRow.camera_id, EventRow.payload).where(EventRow.store_id == store_id,
                                                           EventRow.type == "ventilation.zone_state")
        .order_by(EventRow.occurred_at.desc()).limit(200)
    ).all()
    device = rows[0][0] if rows else None
    zones = sorted({r[1]["zone"] for r in rows if r[0] == device})
    return device, zones


def report_infection(session: Session, settings: Settings, *, store_id: str, zones: list[str], visited_from: datetime,
                     visited_until: datetime, note: str, actor: str, now: datetime | None = None) -> int:
    """Record a manager's report as a ``ventilation.infection_reported`` event; return the id of
    the review item it opens (two people must confirm it). Zones must be the store's."""
    now = now or datetime.now(timezone.utc)
    device, store_zones = known_zones(session, store_id)
    if device is None:
        raise VentilationInputError("vent.err.device")
    if not zones or any(z not in store_zones for z in zones):
        raise VentilationInputError("vent.err.zones")
    if visited_until < visited_from:
        raise VentilationInputError("vent.err.window")
    event = Event(
        type=REPORT, use_case="G", store_id=store_id, camera_id=device, occurred_at=now, severity="warning",
        review_required=True,
        payload={"zones": zones, "visited_from": visited_from, "visited_until": visited_until, "device_id": device,
                 "note": note[:1000]},
        explanation=Explanation(
            rule="infected_visitor_reported",
            summary=f"A manager reports an infected visitor in {', '.join(zones)} between "
                    f"{visited_from:%Y-%m-%d %H:%M} and {visited_until:%H:%M} UTC. Confirming purges these zones "
                    f"with 5 air changes of outdoor air; two people must confirm."),
    )
    from services.contract.registry import validate_event_payload

    validate_event_payload(event)
    result = ingest(session, [event], settings, actor, now)
    return result.review_item_ids[0]


def on_decided(session: Session, item: ReviewItem, event: EventRow, state: str) -> None:
    """The review hook: a confirmed infection report becomes the purge command (same transaction)."""
    if event.type != REPORT or state != "confirmed":
        return
    payload = event.payload
    now = datetime.now(timezone.utc)
    # Who: the person whose confirmation completed the two-person rule (both are in the item's
    # decisions and their audit entries); why: the review item, named in the command.
    final_actor = item.decisions[-1].actor if item.decisions else f"review:{item.id}"
    commands.issue(
        session, store_id=event.store_id, device_id=payload["device_id"], action=PURGE,
        arguments={"zones": payload["zones"], "air_changes": float(payload.get("air_changes", 5.0)),
                   "review_item_id": item.id},
        ttl_s=COMMAND_TTL_S, review_item_id=item.id, issued_by=final_actor[:128], now=now,
    )


def issue_override(session: Session, *, store_id: str, zone: str, damper_pct: float, fan_pct: float, minutes: float,
                   reason: str, actor: str, now: datetime | None = None) -> CommandRow:
    """A manager's override of one zone's setpoints for ``minutes``, as an audited command."""
    now = now or datetime.now(timezone.utc)
    device, zones = known_zones(session, store_id)
    if device is None:
        raise VentilationInputError("vent.err.device")
    if zone not in zones:
        raise VentilationInputError("vent.err.zones")
    if not (0 <= damper_pct <= 100 and 10 <= fan_pct <= 100 and 1 <= minutes <= 1440):
        raise VentilationInputError("vent.err.override")
    return commands.issue(session, store_id=store_id, device_id=device, action=OVERRIDE,
                          arguments={"zone": zone, "damper_pct": damper_pct, "fan_pct": fan_pct, "minutes": minutes,
                                     "reason": reason[:500]},
                          ttl_s=COMMAND_TTL_S, review_item_id=None, issued_by=actor, now=now)


def clear_override(session: Session, *, store_id: str, zone: str, actor: str, now: datetime | None = None) -> CommandRow:
    now = now or datetime.now(timezone.utc)
    device, zones = known_zones(session, store_id)
    if device is None:
        raise VentilationInputError("vent.err.device")
    if zone not in zones:
        raise VentilationInputError("vent.err.zones")
    return commands.issue(session, store_id=store_id, device_id=device, action=OVERRIDE_CLEAR, arguments={"zone": zone},
                          ttl_s=COMMAND_TTL_S, review_item_id=None, issued_by=actor, now=now)


# ---------------------------------------------------------------------------------- the page

CHART_W, CHART_H = 560, 140


@dataclass
class ZonePanel:
    zone: str
    latest: dict[str, Any]
    at: datetime
    co2_line: str = ""
    airflow_line: str = ""
    required_line: str = ""
    people_line: str = ""
    co2_max: float = 1200.0
    airflow_max: float = 1.0
    limit_y: float = 0.0  # y of the 1000 ppm line
    changes: list[dict[str, Any]] = field(default_factory=list)


def polyline(times: list[datetime], values: list[float | None], start: datetime, end: datetime, top: float,
             width: int = CHART_W, height: int = CHART_H) -> str:
    """SVG polyline points of ``values`` over [start, end] scaled to [0, top] (gaps skipped).

    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> polyline([t0, t0 + timedelta(hours=1)], [0.0, 50.0], t0, t0 + timedelta(hours=1), 100.0, 100, 100)
    '0.0,100.0 100.0,50.0'
    """
    span = max(1.0, (end - start).total_seconds())
    points = []
    for t, v in zip(times, values, strict=True):
        if v is None:
            continue
        x = (t - start).total_seconds() / span * width
        y = height - min(1.0, max(0.0, v / top)) * height
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def page_data(session: Session, store_id: str, now: datetime, hours: float) -> dict[str, Any]:
    """Zones with their latest state and chart lines, recent setpoint changes, infection reports."""
    start = now - timedelta(hours=hours)
    rows = session.execute(
        select(EventRow.type, EventRow.occurred_at, EventRow.payload, EventRow.camera_id)
        .where(EventRow.store_id == store_id, EventRow.use_case == "G", EventRow.occurred_at >= start)
        .order_by(EventRow.occurred_at)
    ).all()
    series: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
    changes: dict[str, list[dict[str, Any]]] = {}
    for type_, at, payload, _device in rows:
        if type_ == "ventilation.zone_state":
            series.setdefault(payload["zone"], []).append((at, payload))
        elif type_ == "ventilation.setpoints_changed":
            changes.setdefault(payload["zone"], []).append({"at": at, **payload})
    # The charts span what there is (a fresh site has minutes, not hours), up to ``hours``.
    if series:
        start = max(start, min(points[0][0] for points in series.values()))
    zones = []
    for zone, points in sorted(series.items()):
        times = [t for t, _ in points]
        co2 = [p.get("co2_ppm") for _, p in points]
        flow = [p.get("airflow_m3h") for _, p in points]
        req = [p.get("required_airflow_m3h") for _, p in points]
        people = [p.get("occupants") for _, p in points]
        co2_top = max([1200.0] + [c for c in co2 if c is not None]) * 1.05
        flow_top = max([1.0] + [f for f in flow + req if f is not None]) * 1.1
        people_top = max([1.0] + [p for p in people if p is not None]) * 1.1
        panel = ZonePanel(zone, points[-1][1], points[-1][0],
                          co2_line=polyline(times, co2, start, now, co2_top),
                          airflow_line=polyline(times, flow, start, now, flow_top),
                          required_line=polyline(times, req, start, now, flow_top),
                          people_line=polyline(times, people, start, now, people_top),
                          co2_max=co2_top, airflow_max=flow_top,
                          limit_y=CHART_H - 1000.0 / co2_top * CHART_H,
                          changes=list(reversed(changes.get(zone, [])))[:8])
        zones.append(panel)
    reports = session.execute(
        select(ReviewItem.id, ReviewItem.state, EventRow.payload, EventRow.occurred_at)
        .join(EventRow, EventRow.event_id == ReviewItem.event_id)
        .where(ReviewItem.store_id == store_id, ReviewItem.event_type == REPORT)
        .order_by(ReviewItem.id.desc()).limit(10)
    ).all()
    return {"zones": zones, "reports": [{"item": r[0], "state": r[1], "zones": r[2]["zones"], "at": r[3]} for r in reports],
            "chart_w": CHART_W, "chart_h": CHART_H, "since": start}
