"""Use case C remote service through signage (issue 17): calls and the signalling mailbox.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (not imported from the app) so this revision never changes meaning.
UTC_TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "signage_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("signage_seen_at", UTC_TIME, nullable=False),
        sa.Column("staff", sa.String(128), nullable=True),
        sa.Column("assigned_to", sa.String(128), nullable=True),
        sa.Column("phone_token_sha256", sa.String(64), nullable=True),
        sa.Column("phone_at", UTC_TIME, nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signage_calls"),
    )
    op.create_index("ix_signage_calls_store_state", "signage_calls", ["store_id", "state"])
    op.create_index("ix_signage_calls_phone_token_sha256", "signage_calls", ["phone_token_sha256"])
    op.create_table(
        "signage_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("to_side", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", JSON_DOC, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["signage_calls.id"], ondelete="CASCADE",
                                name="fk_signage_messages_call_id_signage_calls"),
        sa.PrimaryKeyConstraint("id", name="pk_signage_messages"),
    )
    op.create_index("ix_signage_messages_store_side", "signage_messages", ["store_id", "to_side", "id"])


def downgrade() -> None:
    op.drop_index("ix_signage_messages_store_side", table_name="signage_messages")
    op.drop_table("signage_messages")
    op.drop_index("ix_signage_calls_phone_token_sha256", table_name="signage_calls")
    op.drop_index("ix_signage_calls_store_state", table_name="signage_calls")
    op.drop_table("signage_calls")
