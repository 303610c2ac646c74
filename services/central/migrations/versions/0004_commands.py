"""Commands to devices: issued commands and the acks/results devices report for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the app) so this revision never changes meaning.
UTC_TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "commands",
        sa.Column("command_id", sa.Uuid(), nullable=False),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("arguments", JSON_DOC, nullable=False),
        sa.Column("issued_by", sa.String(128), nullable=False),
        sa.Column("issued_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("review_item_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("published_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("command_id", name="pk_commands"),
    )
    op.create_index("ix_commands_device_status", "commands", ["store_id", "device_id", "status", "issued_at"])
    op.create_index("ix_commands_issued", "commands", ["issued_at"])
    op.create_table(
        "command_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("command_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["command_id"], ["commands.command_id"], name="fk_command_results_command_id_commands", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_command_results"),
        sa.UniqueConstraint("command_id", "status", name="uq_command_results_command_status"),
    )
    op.create_index("ix_command_results_command_id", "command_results", ["command_id"])


def downgrade() -> None:
    op.drop_index("ix_command_results_command_id", table_name="command_results")
    op.drop_table("command_results")
    op.drop_index("ix_commands_issued", table_name="commands")
    op.drop_index("ix_commands_device_status", table_name="commands")
    op.drop_table("commands")
