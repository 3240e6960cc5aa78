"""A partner's months kept as they happen: contact_months (a contact's mark per UTC calendar
month for each format they were exposed in, and "engaged" for a person's open or click) and
partner_months (per partner, month and mark: its contacts with it). Both are filled here from
the exposures, events and contacts on file.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_months",
        sa.Column(
            "contact_id", _BIG, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("month", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("what", sa.String(16), primary_key=True),
    )
    op.create_table(
        "partner_months",
        sa.Column(
            "partner_id",
            sa.Integer(),
            sa.ForeignKey("partners.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("month", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("what", sa.String(16), primary_key=True),
        sa.Column("contacts", sa.Integer(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "date_trunc('month', {0} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        person = (
            "CAST(e.data ->> 'machine' AS BOOLEAN) IS NOT true "
            "AND CAST(e.data ->> 'sg_machine_open' AS BOOLEAN) IS NOT true"
        )
    else:  # SQLite keeps UTC times as text, as SQLAlchemy writes them
        month = "substr({0}, 1, 7) || '-01 00:00:00.000000'"
        person = (
            "json_extract(e.data, '$.machine') IS NOT 1 "
            "AND json_extract(e.data, '$.sg_machine_open') IS NOT 1"
        )
    op.execute(
        "INSERT INTO contact_months (contact_id, month, what) "  # noqa: S608
        f"SELECT x.contact_id, {month.format('x.occurred_at')}, x.format FROM exposures x "
        "JOIN contacts c ON c.id = x.contact_id "
        f"UNION SELECT e.contact_id, {month.format('e.occurred_at')}, 'engaged' FROM events e "
        "JOIN contacts c ON c.id = e.contact_id "
        f"WHERE e.kind IN ('open', 'click') AND {person}"
    )
    op.execute(
        "INSERT INTO partner_months (partner_id, month, what, contacts) "
        "SELECT c.partner_id, m.month, m.what, COUNT(*) FROM contact_months m "
        "JOIN contacts c ON c.id = m.contact_id WHERE c.partner_id IS NOT NULL "
        "GROUP BY c.partner_id, m.month, m.what"
    )


def downgrade() -> None:
    op.drop_table("partner_months")
    op.drop_table("contact_months")
