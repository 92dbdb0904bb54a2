"""Channels: ``pushes_replies`` (False: an API channel without a callback URL, whose
replies are stored as delivered and polled - no delivery job)

Revision ID: 0021_channel_pushes_replies
Revises: 0020_tags
Create Date: 2026-12-07 04:20:00

Existing rows read True (their replies go through the delivery job as before, which for a
callbackless API channel marks them sent); saving such a channel's config sets False.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_channel_pushes_replies"
down_revision: str | None = "0020_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(
            sa.Column("pushes_replies", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("pushes_replies")
