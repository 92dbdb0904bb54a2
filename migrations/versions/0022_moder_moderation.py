"""AI settings: ``moderation`` (per-rule modes and thresholds of the moderation before the
AI; null: the defaults)

Revision ID: 0022_moder_moderation
Revises: 0022_audit14_failure_code
Create Date: 2026-12-07 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_moder_moderation"
down_revision: str | None = "0022_audit14_failure_code"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ai_settings") as batch:
        batch.add_column(sa.Column("moderation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ai_settings") as batch:
        batch.drop_column("moderation")
