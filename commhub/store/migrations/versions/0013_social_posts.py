"""Social posts: series.accounts (a social series' accounts), content_items.social_line (what
an item's posts say in place of its title) and social_posts, one row per
item posted on an account by an edition, with its state (planned, posting, posted, failed,
unknown)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NETWORKS = ("mastodon", "linkedin", "webhook")
_STATES = ("planned", "posting", "posted", "failed", "unknown")


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("accounts", sa.JSON(), nullable=True))
    with op.batch_alter_table("content_items") as batch:
        batch.add_column(sa.Column("social_line", sa.String(300), nullable=True))
    op.create_table(
        "social_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "edition_id",
            sa.Integer(),
            sa.ForeignKey("editions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "network",
            sa.Enum(*_NETWORKS, name="network", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column(
            "content_item_id", sa.Integer(), sa.ForeignKey("content_items.id"), nullable=False
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*_STATES, name="poststate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_id", sa.String(300), nullable=True),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("edition_id", "account", "content_item_id"),
    )
    op.create_index("ix_social_posts_edition_id", "social_posts", ["edition_id"])
    op.create_index("ix_social_posts_content_item_id", "social_posts", ["content_item_id"])


def downgrade() -> None:
    op.drop_index("ix_social_posts_content_item_id", table_name="social_posts")
    op.drop_index("ix_social_posts_edition_id", table_name="social_posts")
    op.drop_table("social_posts")
    with op.batch_alter_table("content_items") as batch:
        batch.drop_column("social_line")
    with op.batch_alter_table("series") as batch:
        batch.drop_column("accounts")
