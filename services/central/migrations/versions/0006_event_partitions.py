"""Events past one machine: an ``event_ids`` key table on both backends; on PostgreSQL, ``events``
partitioned by month of ``occurred_at``.

A partitioned table's unique keys must include its partition key, so ``events`` cannot keep a
unique ``event_id`` on PostgreSQL. The idempotency key (and the target of the review item and
webhook delivery foreign keys) moves to the small, unpartitioned ``event_ids`` table; ``events``
gets the primary key ``(event_id, occurred_at)``. Partitions live in the schema
``event_partitions`` (``events_yYYYYmMM``, plus ``events_default`` so no insert ever fails),
one for every month that holds events and :data:`AHEAD` months after the current one.
SQLite gets ``event_ids`` and the re-pointed foreign keys, and no partitions.

Both directions keep every row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the app) so this revision never changes meaning.
UTC_TIME = sa.DateTime(timezone=True)
SCHEMA = "event_partitions"
AHEAD = 2
EVENT_INDEXES = {
    "ix_events_store_occurred": "store_id, occurred_at",
    "ix_events_store_type_occurred": "store_id, type, occurred_at",
    "ix_events_camera_occurred": "camera_id, occurred_at",
    "ix_events_occurred": "occurred_at",
}
#: (table, foreign key name before, after) of the rows that refer to an event.
REFERRERS = (
    ("review_items", "fk_review_items_event_id_events", "fk_review_items_event_id_event_ids"),
    ("webhook_deliveries", "fk_webhook_deliveries_event_id_events", "fk_webhook_deliveries_event_id_event_ids"),
)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def _repoint(referred: str, old_suffix: int, new_suffix: int) -> None:
    """Point review_items / webhook_deliveries at ``referred`` (``events`` or ``event_ids``)."""
    bind = op.get_bind()
    saved: list[dict[str, object]] = []
    if bind.dialect.name == "sqlite":
        # SQLite rebuilds review_items to change its foreign key; with foreign keys on (they are,
        # and cannot be switched off inside the migration's transaction) dropping the old table
        # cascades to review_decisions. Keep the decisions and put them back.
        saved = [dict(r) for r in bind.execute(sa.text("SELECT * FROM review_decisions")).mappings()]
    for table, *names in REFERRERS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(names[old_suffix], type_="foreignkey")
            batch.create_foreign_key(names[new_suffix], referred, ["event_id"], ["event_id"], ondelete="CASCADE")
    if saved:
        bind.execute(sa.text("DELETE FROM review_decisions"))
        columns = list(saved[0])
        bind.execute(
            sa.text(f"INSERT INTO review_decisions ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"),
            saved,
        )


def upgrade() -> None:
    op.create_table(
        "event_ids",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_event_ids"),
    )
    op.create_index("ix_event_ids_occurred_at", "event_ids", ["occurred_at"])
    op.execute("INSERT INTO event_ids (event_id, occurred_at) SELECT event_id, occurred_at FROM events")
    _repoint("event_ids", 0, 1)
    if op.get_bind().dialect.name == "postgresql":
        _partition_events()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _unpartition_events()
    _repoint("events", 1, 0)
    op.drop_index("ix_event_ids_occurred_at", table_name="event_ids")
    op.drop_table("event_ids")


def _partition_events() -> None:
    bind = op.get_bind()
    for name in EVENT_INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute("ALTER TABLE events RENAME CONSTRAINT pk_events TO pk_events_unpartitioned")
    op.execute("ALTER TABLE events RENAME TO events_unpartitioned")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute("CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (occurred_at)")
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (event_id, occurred_at)")
    for name, columns in EVENT_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON events ({columns})")
    now = datetime.now(timezone.utc)
    oldest = bind.execute(sa.text("SELECT min(occurred_at) FROM events_unpartitioned")).scalar()
    start = oldest.astimezone(timezone.utc) if oldest is not None else now
    year, month = start.year, start.month
    last = _add_months(now.year, now.month, AHEAD)
    while (year, month) <= last:
        nyear, nmonth = _add_months(year, month, 1)
        op.execute(
            f"CREATE TABLE {SCHEMA}.events_y{year:04d}m{month:02d} PARTITION OF events "
            f"FOR VALUES FROM ('{year:04d}-{month:02d}-01 00:00:00+00') TO ('{nyear:04d}-{nmonth:02d}-01 00:00:00+00')"
        )
        year, month = nyear, nmonth
    op.execute(f"CREATE TABLE {SCHEMA}.events_default PARTITION OF events DEFAULT")
    op.execute("INSERT INTO events SELECT * FROM events_unpartitioned")
    op.execute("DROP TABLE events_unpartitioned")


def _unpartition_events() -> None:
    op.execute("ALTER TABLE events RENAME TO events_partitioned")
    op.execute("ALTER TABLE events_partitioned RENAME CONSTRAINT pk_events TO pk_events_partitioned")
    for name in EVENT_INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_partitioned")
    op.execute("CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS)")
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (event_id)")
    op.execute("INSERT INTO events SELECT * FROM events_partitioned")
    op.execute("DROP TABLE events_partitioned")  # and its partitions
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    for name, columns in EVENT_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON events ({columns})")
