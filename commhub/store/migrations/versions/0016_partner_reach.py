"""The partner heat map kept as it happens: contact_formats (a contact's first exposure in
each format) and partner_reach (per partner and role: contacts, and those reached in each
format). Both are filled here from the contacts, their roles and the exposures on file.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_FORMATS = ("email", "video", "social", "rss")


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "contact_formats",
        sa.Column(
            "contact_id", _BIG, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("format", sa.String(16), primary_key=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "partner_reach",
        sa.Column(
            "partner_id",
            sa.Integer(),
            sa.ForeignKey("partners.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "audience_id",
            sa.Integer(),
            sa.ForeignKey("audiences.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _count("contacts"),
        *(_count(fmt) for fmt in _FORMATS),
    )
    op.execute(
        "INSERT INTO contact_formats (contact_id, format, first_at) "
        "SELECT contact_id, format, MIN(occurred_at) FROM exposures GROUP BY contact_id, format"
    )
    reached = ", ".join(
        f"COUNT(DISTINCT CASE WHEN f.format = '{fmt}' THEN c.id END)" for fmt in _FORMATS
    )
    op.execute(
        f"INSERT INTO partner_reach (partner_id, audience_id, contacts, {', '.join(_FORMATS)}) "  # noqa: S608
        f"SELECT c.partner_id, r.audience_id, COUNT(DISTINCT c.id), {reached} "
        "FROM contacts c JOIN contact_roles r ON r.contact_id = c.id "
        "LEFT JOIN contact_formats f ON f.contact_id = c.id "
        "WHERE c.partner_id IS NOT NULL GROUP BY c.partner_id, r.audience_id"
    )


def downgrade() -> None:
    op.drop_table("partner_reach")
    op.drop_table("contact_formats")
