"""scheduling: planned editions as rows, series timing, calendar feeds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:17:43.785420
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ACTIVE = "state IN ('sending', 'paused', 'held')"
STARTED_AND_ACTIVE = f"{ACTIVE} AND started_at IS NOT NULL"


def _active_index(where: str) -> None:
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.drop_index("uq_editions_series_id_active")
        batch_op.create_index(
            "uq_editions_series_id_active",
            ["series_id"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("name", name=op.f("uq_calendar_feeds_name")),
    )
    # Existing editions were due when they were planned.
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE editions SET due_at = planned_at")
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index(batch_op.f("ix_editions_state"))
        batch_op.create_index("ix_editions_state_due_at", ["state", "due_at"], unique=False)

    # A planned edition paused before its date is not under way: the series goes on.
    _active_index(STARTED_AND_ACTIVE)

    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "shift",
                sa.Enum("none", "previous", "next", name="shift", native_enum=False, length=20),
                server_default="none",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("holiday_country", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("company_days", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("local_time", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("grace_minutes", sa.Integer(), server_default="360", nullable=False)
        )
        batch_op.add_column(sa.Column("planned_through", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("plan_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_series_planned_through"), ["planned_through"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_planned_through"))
        for column in (
            "plan_key", "planned_through", "grace_minutes", "local_time", "company_days",
            "holiday_country", "shift", "start_date",
        ):  # fmt: skip
            batch_op.drop_column(column)

    _active_index(ACTIVE)
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.drop_index("ix_editions_state_due_at")
        batch_op.create_index(batch_op.f("ix_editions_state"), ["state"], unique=False)
        batch_op.drop_column("due_at")

    op.drop_table("calendar_feeds")
