"""rule of seven: a series option, and per-contact variants of a role set's messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:12:05.318702
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _variant() -> sa.Column[str]:
    # "" is the role set's full content: every existing message and render.
    return sa.Column("variant", sa.String(length=200), server_default="", nullable=False)


def upgrade() -> None:
    # Plain ADD COLUMNs, on SQLite too: copying series (or messages) would drop the table,
    # and with it, by cascade, every edition (or event) referring to it.
    with op.batch_alter_table("series", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("rule_of_seven", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("messages", schema=None, recreate="never") as batch_op:
        batch_op.add_column(_variant())
    with op.batch_alter_table("edition_renders", schema=None) as batch_op:
        batch_op.add_column(_variant())
        batch_op.drop_constraint("uq_edition_renders_edition_id_role_set", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_edition_renders_edition_id_role_set_variant"),
            ["edition_id", "role_set", "variant"],
        )


def downgrade() -> None:
    # Without the column a message's variant is lost: refuse while one is still to be sent.
    pending = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM messages WHERE variant <> '' AND status IN ('queued', 'sending')"
        )
    )
    if pending:
        raise RuntimeError(
            f"{pending} messages of the rule of seven are still to be sent: send or cancel "
            "their editions before going back to 0005"
        )
    # One render per role set stays: its full one, or, where every contact got a variant, one
    # of those, so that what was sent still has a web version.
    op.execute(
        "UPDATE edition_renders SET variant = '' WHERE id IN ("
        " SELECT min(id) FROM edition_renders GROUP BY edition_id, role_set"
        " HAVING sum(CASE WHEN variant = '' THEN 1 ELSE 0 END) = 0)"
    )
    op.execute("DELETE FROM edition_renders WHERE variant <> ''")
    # Nothing refers to edition_renders, so SQLite may copy it; series and messages have
    # rows that cascade from them, which a copy (a DROP TABLE) would delete: their columns
    # go with a plain DROP COLUMN (SQLite 3.35+).
    with op.batch_alter_table("edition_renders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_edition_renders_edition_id_role_set_variant"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_edition_renders_edition_id_role_set"), ["edition_id", "role_set"]
        )
        batch_op.drop_column("variant")
    with op.batch_alter_table("messages", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("variant")
    with op.batch_alter_table("series", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("rule_of_seven")
