"""The rule of seven's figures kept as they happen: exposure_tallies learn when their contact
was first targeted and met seven across three (a row of zeros: targeted, not yet exposed);
reach_cells (per key message, contacts by capped exposures and formats) and reach_weeks (per
key message and week, contacts newly targeted and newly at seven across three). `report
rebuild` fills them from the exposures and messages on a database that had some before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def _key_message() -> sa.Column[int]:
    return sa.Column(
        "key_message_id",
        sa.Integer(),
        sa.ForeignKey("key_messages.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.add_column(
        "exposure_tallies", sa.Column("targeted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "exposure_tallies", sa.Column("met_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "reach_cells",
        _key_message(),
        sa.Column("exposures", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("formats", sa.Integer(), primary_key=True, autoincrement=False),
        _count("contacts"),
    )
    op.create_table(
        "reach_weeks",
        _key_message(),
        sa.Column("week_of", sa.DateTime(timezone=True), primary_key=True),
        _count("targeted"),
        _count("met"),
    )


def downgrade() -> None:
    op.drop_table("reach_weeks")
    op.drop_table("reach_cells")
    with op.batch_alter_table("exposure_tallies") as batch:
        batch.drop_column("met_at")
        batch.drop_column("targeted_at")
