"""newsletters: edition content, links, renders, message retries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:05:11.238557
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edition_items",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_edition_items_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["content_item_id"],
            ["content_items.id"],
            name=op.f("fk_edition_items_content_item_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_items_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "edition_id", "audience_id", "content_item_id", name=op.f("pk_edition_items")
        ),
    )
    with op.batch_alter_table("edition_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_edition_items_audience_item", ["audience_id", "content_item_id"], unique=False
        )

    op.create_table(
        "edition_links",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_item_id"],
            ["content_items.id"],
            name=op.f("fk_edition_links_content_item_id_content_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_links_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", "link_id", name=op.f("pk_edition_links")),
    )
    op.create_table(
        "edition_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("role_set", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_renders_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_renders")),
        sa.UniqueConstraint(
            "edition_id", "role_set", name=op.f("uq_edition_renders_edition_id_role_set")
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edition_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alerts_edition_id"), ["edition_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_edition_id_editions"),
            "editions",
            ["edition_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_editions_series_id_active",
            ["series_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('sending', 'paused', 'held')"),
            postgresql_where=sa.text("state IN ('sending', 'paused', 'held')"),
        )
        batch_op.add_column(sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("recipient_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("state_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "skip_reason",
                sa.Enum(
                    "unsubscribed",
                    "bounced",
                    "complained",
                    "no_consent",
                    "opted_out",
                    "paused",
                    "cancelled",
                    name="skipreason",
                    native_enum=False,
                    length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("skip_reason")

    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.drop_index("uq_editions_series_id_active")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("state_reason")
        batch_op.drop_column("recipient_count")
        batch_op.drop_column("prepared_at")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alerts_edition_id_editions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_alerts_edition_id"))
        batch_op.drop_column("edition_id")

    op.drop_table("edition_renders")
    op.drop_table("edition_links")
    with op.batch_alter_table("edition_items", schema=None) as batch_op:
        batch_op.drop_index("ix_edition_items_audience_item")

    op.drop_table("edition_items")
