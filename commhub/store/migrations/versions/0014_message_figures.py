"""Aggregates kept as events happen, per message group: message_signals and
message_item_signals (what each message has already been counted for), group_figures and
group_item_figures (per edition, role set and variant; per item as well), post_figures (a
post's clicks by people), feed_click_marks and feed_item_figures (contacts who clicked an item
in their personal feed, per audience). `report rebuild` fills them from the events on
a database that had some before this revision. And an index for the messages sent lately
(the complaint rate over 7 days).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def _edition_group() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "edition_id",
            sa.Integer(),
            sa.ForeignKey("editions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role_set", sa.String(400), primary_key=True),
        sa.Column("variant", sa.String(200), primary_key=True),
    ]


def _item(primary_key: bool = True) -> sa.Column[int]:
    return sa.Column(
        "content_item_id",
        sa.Integer(),
        sa.ForeignKey("content_items.id", ondelete="CASCADE"),
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_index("ix_messages_status_sent_at", "messages", ["status", "sent_at"])
    op.create_table(
        "message_signals",
        sa.Column(
            "message_id", _BIG, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
        ),
        *(
            sa.Column(f"{signal}_at", sa.DateTime(timezone=True), nullable=True)
            for signal in ("human_open", "click", "delivered", "bounce", "unsubscribe", "complaint")
        ),
    )
    op.create_table(
        "message_item_signals",
        sa.Column(
            "message_id", _BIG, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
        ),
        _item(),
        sa.Column("click_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(8), nullable=True),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "group_figures",
        *_edition_group(),
        *(
            _count(name)
            for name in (
                "sent",
                "human_opens",
                "clicks",
                "delivered",
                "bounces",
                "unsubscribes",
                "complaints",
            )
        ),
    )
    op.create_table(
        "group_item_figures",
        *_edition_group(),
        _item(),
        _count("clicks"),
        _count("yes"),
        _count("no"),
    )
    op.create_table(
        "post_figures",
        sa.Column(
            "post_id",
            sa.Integer(),
            sa.ForeignKey("social_posts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _count("clicks"),
    )
    op.create_table(
        "feed_click_marks",
        sa.Column(
            "contact_id", _BIG, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
        ),
        _item(),
        sa.Column("audiences", sa.String(400), nullable=False),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "feed_item_figures",
        _item(),
        sa.Column("audience", sa.String(64), primary_key=True),
        _count("contacts"),
    )


def downgrade() -> None:
    for table in (
        "feed_item_figures", "feed_click_marks", "post_figures", "group_item_figures",
        "group_figures", "message_item_signals", "message_signals",
    ):  # fmt: skip
        op.drop_table(table)
    op.drop_index("ix_messages_status_sent_at", table_name="messages")
