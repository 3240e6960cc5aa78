"""audit_entries: who did what to which object; users.time_zone for the web UI's times;
indexes for the web UI's pages: editions by date, an item's events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(320), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_index("ix_audit_entries_actor", "audit_entries", ["actor"])
    op.create_index("ix_audit_entries_action", "audit_entries", ["action"])
    op.create_index("ix_audit_entries_object", "audit_entries", ["object_type", "object_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
    op.create_index("ix_editions_planned_at", "editions", ["planned_at"])
    op.create_index("ix_events_item_kind", "events", ["content_item_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_events_item_kind", table_name="events")
    op.drop_index("ix_editions_planned_at", table_name="editions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
    op.drop_table("audit_entries")
