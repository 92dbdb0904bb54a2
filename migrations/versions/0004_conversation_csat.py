"""Customer satisfaction: a rating (and comment) per resolved conversation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("csat_rating", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("csat_comment", sa.String(length=1000), nullable=True))
        batch.add_column(
            sa.Column("csat_at", frontline.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("csat_at")
        batch.drop_column("csat_comment")
        batch.drop_column("csat_rating")
