"""series.kinds: the kinds of item a series' editions carry (null: the channel's own, every
kind for a newsletter, video for a video digest)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("kinds", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.drop_column("kinds")
