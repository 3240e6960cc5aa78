"""exposures: one per contact, key message and source, and a tally per contact and key message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:58:02.058411
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exposure_tallies",
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key_message_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Integer(), server_default="0", nullable=False),
        sa.Column("video", sa.Integer(), server_default="0", nullable=False),
        sa.Column("social", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rss", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_exposure_tallies_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_message_id"],
            ["key_messages.id"],
            name=op.f("fk_exposure_tallies_key_message_id_key_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "key_message_id", name=op.f("pk_exposure_tallies")),
    )
    op.create_table(
        "exposures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key_message_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_exposures_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_message_id"],
            ["key_messages.id"],
            name=op.f("fk_exposures_key_message_id_key_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposures")),
        sa.UniqueConstraint(
            "contact_id",
            "key_message_id",
            "source_kind",
            "source_id",
            name=op.f("uq_exposures_contact_id_key_message_id_source_kind_source_id"),
        ),
    )
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposures_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_exposures_key_message_id"), ["key_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposures_key_message_id"))
        batch_op.drop_index(batch_op.f("ix_exposures_contact_id"))

    op.drop_table("exposures")
    op.drop_table("exposure_tallies")
