"""personal_feeds: a contact's own signed Atom feed, revocable, gone with the contact

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "personal_feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "contact_id",
            BIG_ID,
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_personal_feeds_contact_id", "personal_feeds", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_personal_feeds_contact_id", table_name="personal_feeds")
    op.drop_table("personal_feeds")
