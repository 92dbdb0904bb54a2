"""AI behaviour settings: reply languages, auto-reply per channel, handoff threshold,
working hours

Revision ID: 0017_ai_behaviour
Revises: 0019_analytics_usage_daily
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_ai_behaviour"
down_revision: str | None = "0019_analytics_usage_daily"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ai_settings") as batch:
        batch.add_column(
            sa.Column("reply_languages", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(
            sa.Column("channel_auto_reply", sa.JSON(), nullable=False, server_default="{}")
        )
        batch.add_column(
            sa.Column("handoff_threshold", sa.Float(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("working_hours", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ai_settings") as batch:
        batch.drop_column("working_hours")
        batch.drop_column("handoff_threshold")
        batch.drop_column("channel_auto_reply")
        batch.drop_column("reply_languages")
