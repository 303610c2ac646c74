"""Monthly partitions of ``events`` on PostgreSQL (migration 0006): list, create ahead, drop.

Partitions live in the schema ``event_partitions`` and are named by their month,
``events_y2026m11`` for ``[2026-11-01, 2026-12-01)`` UTC; ``events_default`` catches any row no
month partition covers (an event from before the oldest partition, say), so an insert never
fails for want of a partition. On SQLite (and on a PostgreSQL database whose ``events`` is not
partitioned) every function here sees no partitions and does nothing.

>>> month_of(datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc))
Month(year=2026, month=11)
>>> m = Month(2026, 12); m.name, m.next(), m.start.isoformat()
('events_y2026m12', Month(year=2027, month=1), '2026-12-01T00:00:00+00:00')
>>> Month.parse("events_y2027m01"), Month.parse("events_default")
(Month(year=2027, month=1), None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

SCHEMA = "event_partitions"
DEFAULT = "events_default"
_NAME = re.compile(r"^events_y(\d{4})m(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """One calendar month (UTC), the span of one partition."""

    year: int
    month: int

    @property
    def name(self) -> str:
        return f"events_y{self.year:04d}m{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self, n: int = 1) -> Month:
        index = self.year * 12 + (self.month - 1) + n
        return Month(index // 12, index % 12 + 1)

    @staticmethod
    def parse(name: str) -> Month | None:
        m = _NAME.fullmatch(name)
        return Month(int(m.group(1)), int(m.group(2))) if m else None


def month_of(at: datetime) -> Month:
    at = at.astimezone(timezone.utc)
    return Month(at.year, at.month)


def is_partitioned(session: Session) -> bool:
    """True on PostgreSQL when ``events`` is a partitioned table."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.execute(
        text("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relname = 'events' AND n.nspname = current_schema()")
    ).scalar()
    return kind == "p"


def month_partitions(session: Session) -> list[Month]:
    """The month partitions of ``events``, oldest first (the default partition is not one)."""
    if not is_partitioned(session):
        return []
    names = session.execute(
        text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
             "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
             "WHERE p.relname = 'events' AND n.nspname = current_schema()")
    ).scalars()
    return sorted(m for name in names if (m := Month.parse(name)) is not None)


def ensure_ahead(session: Session, now: datetime, ahead: int) -> list[Month]:
    """Create the partitions of the current month and ``ahead`` months after it that are missing;
    return those created. Rows the default partition already holds for such a month move into
    the new partition (PostgreSQL refuses to create it over them otherwise)."""
    if not is_partitioned(session):
        return []
    have = set(month_partitions(session))
    current = month_of(now)
    created: list[Month] = []
    for month in (current.next(n) for n in range(ahead + 1)):
        if month not in have:
            create(session, month)
            created.append(month)
    return created


def create(session: Session, month: Month) -> None:
    bounds = {"a": month.start, "b": month.end}
    stray = session.execute(
        text(f"SELECT 1 FROM {SCHEMA}.{DEFAULT} WHERE occurred_at >= :a AND occurred_at < :b LIMIT 1"), bounds
    ).first()
    table = f"{SCHEMA}.{month.name}"
    values = f"FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"
    if stray is None:
        session.execute(text(f"CREATE TABLE {table} PARTITION OF events FOR VALUES {values}"))
        return
    session.execute(text(f"CREATE TABLE {table} (LIKE events INCLUDING DEFAULTS)"))
    session.execute(
        text(f"WITH moved AS (DELETE FROM {SCHEMA}.{DEFAULT} WHERE occurred_at >= :a AND occurred_at < :b "
             f"RETURNING *) INSERT INTO {table} SELECT * FROM moved"),
        bounds,
    )
    session.execute(text(f"ALTER TABLE events ATTACH PARTITION {table} FOR VALUES {values}"))


def drop(session: Session, month: Month) -> None:
    """Drop one month's partition and every row in it (the caller has checked it may go)."""
    session.execute(text(f"DROP TABLE {SCHEMA}.{month.name}"))
