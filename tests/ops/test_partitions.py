"""Migration 0006 on PostgreSQL: ``events`` partitioned by month, down and up again with every row
kept; ingest stays idempotent on the partitioned table; retention drops whole old months (not a
month that still holds an open alert) and creates months ahead; the audit chain still verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from services.central.audit import verify
from services.central.db.migrate import alembic_config, upgrade
from services.central.db.session import Database
from services.central.ingest.store import ingest
from services.central.retention import partitions, run
from services.central.retention.partitions import Month, month_of
from services.central.review import service as review
from services.central.review.machine import Decision
from services.central.settings import Settings
from services.central.snapshots.service import blob_store
from services.contract import Event, Explanation

STORE = "osaka-03"


def _event(at: datetime, alert: bool) -> Event:
    if alert:
        return Event(type="zone.overcrowded", use_case="F", store_id=STORE, camera_id="cam-1", occurred_at=at,
                     severity="critical", review_required=True, payload={"zone": "aisle", "count": 14, "capacity": 10},
                     explanation=Explanation(rule="occupancy_over_capacity"))
    return Event(type="zone.occupancy", use_case="F", store_id=STORE, camera_id="cam-1", occurred_at=at,
                 payload={"zone": "aisle", "count": 3, "capacity": 10})


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.connect() as connection, connection.begin():
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read_session() as s:
        return {
            "events": [tuple(r) for r in s.execute(text("SELECT * FROM events ORDER BY event_id"))],
            "review_items": [tuple(r) for r in s.execute(text("SELECT * FROM review_items ORDER BY id"))],
            "review_decisions": [tuple(r) for r in s.execute(text("SELECT * FROM review_decisions ORDER BY id"))],
        }


def _relkind(db: Database) -> str | None:
    with db.read_session() as s:
        return s.execute(text("SELECT relkind FROM pg_class WHERE relname = 'events' "
                              "AND relnamespace = 'public'::regnamespace")).scalar()


def _home(db: Database) -> dict[str, str]:
    """event id → the partition its row lives in."""
    with db.read_session() as s:
        return {str(i): t for i, t in s.execute(text("SELECT event_id, tableoid::regclass::text FROM events"))}


@pytest.fixture
def db(pg_url: str, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    database = Database.from_settings(Settings(data_dir=tmp_path, database_url=pg_url))
    yield database
    database.dispose()


def test_partition_migration_down_and_up_keeps_rows_and_retention_drops_old_months(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, database_url=str(db.engine.url.render_as_string(hide_password=False)))
    t = datetime.now(timezone.utc)
    old_routine, old_alert = _event(t - timedelta(days=95), False), _event(t - timedelta(days=95), True)
    open_alert = _event(t - timedelta(days=65), True)
    new_routine, new_alert = _event(t - timedelta(hours=1), False), _event(t - timedelta(hours=1), True)
    events = [old_routine, old_alert, open_alert, new_routine, new_alert]
    with db.unit_of_work() as s:
        result = ingest(s, events, settings, actor="edge")
        items = dict(zip([old_alert.event_id, open_alert.event_id, new_alert.event_id], result.review_item_ids, strict=True))
    for event in (old_alert, new_alert):
        with db.unit_of_work() as s:
            review.claim(s, items[event.event_id], "reviewer-1")
        with db.unit_of_work() as s:
            review.decide(s, items[event.event_id], "reviewer-1", Decision.CONFIRM, note="checked")
    before = _rows(db)
    assert _relkind(db) == "p" and len(before["events"]) == 5 and len(before["review_decisions"]) == 2

    # Down: one plain table again, every row and link kept.
    _downgrade(db.engine, "0005")
    assert _relkind(db) == "r" and _rows(db) == before
    with db.read_session() as s:
        assert s.execute(text("SELECT to_regclass('event_ids')")).scalar() is None
        assert s.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": partitions.SCHEMA}).first() is None

    # Up: one partition per month from the oldest event to two months ahead, each row in its month.
    upgrade(db.engine)
    assert _relkind(db) == "p" and _rows(db) == before
    with db.read_session() as s:
        months = partitions.month_partitions(s)
    oldest, current = month_of(old_routine.occurred_at), month_of(t)
    assert months[0] == oldest and months[-1] == current.next(2) and len(months) == len(set(months))
    assert all(b == a.next() for a, b in zip(months, months[1:], strict=False))
    homes = _home(db)
    for e in events:
        assert homes[str(e.event_id)] == f"{partitions.SCHEMA}.{month_of(e.occurred_at).name}"

    # Ingest stays idempotent by event_id on the partitioned table.
    with db.unit_of_work() as s:
        again = ingest(s, events, settings, actor="edge")
    assert again.stored == [] and again.duplicates == [e.event_id for e in events]

    # Retention: the oldest month goes whole; the month holding an open alert stays.
    report = run(db, blob_store(tmp_path), settings)
    assert oldest.name in report.partitions_dropped
    assert month_of(open_alert.occurred_at).name not in report.partitions_dropped
    with db.read_session() as s:
        left = partitions.month_partitions(s)
        assert oldest not in left and month_of(open_alert.occurred_at) in left
        assert {str(i) for i in s.execute(text("SELECT event_id FROM events")).scalars()} == {
            str(e.event_id) for e in (open_alert, new_routine, new_alert)}
        assert s.execute(text("SELECT count(*) FROM event_ids")).scalar() == 3
        assert s.execute(text("SELECT count(*) FROM review_decisions")).scalar() == 1
        assert verify(s).ok
    assert (report.events, report.review_items, report.review_decisions) == (2, 1, 1)

    # Down and up once more after the purge: still every remaining row.
    after = _rows(db)
    _downgrade(db.engine, "0005")
    assert _rows(db) == after
    upgrade(db.engine)
    assert _rows(db) == after


def test_a_month_created_ahead_takes_its_rows_from_the_default_partition(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, database_url=str(db.engine.url.render_as_string(hide_password=False)))
    # A late event from a month no partition covers (one before the oldest, here) lands in the
    # default partition; creating that month later moves it in.
    far = month_of(datetime.now(timezone.utc)).next(-14)
    stray = _event(far.start + timedelta(days=2), False)
    with db.unit_of_work() as s:
        ingest(s, [stray], settings, actor="edge")
    assert _home(db)[str(stray.event_id)] == f"{partitions.SCHEMA}.{partitions.DEFAULT}"
    with db.unit_of_work() as s:
        created = partitions.ensure_ahead(s, far.start, ahead=0)  # "now" in that month: it is missing
    assert created == [Month(far.year, far.month)]
    assert _home(db)[str(stray.event_id)] == f"{partitions.SCHEMA}.{far.name}"
