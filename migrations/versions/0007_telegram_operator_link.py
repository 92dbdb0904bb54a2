"""Telegram: a staff member's Telegram user id (operator alerts' "Accept" button)

Revision ID: 0007
Revises: 0012
Create Date: 2026-12-07 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(
            "uq_memberships_tenant_id_telegram_user_id", ["tenant_id", "telegram_user_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.drop_constraint("uq_memberships_tenant_id_telegram_user_id", type_="unique")
        batch.drop_column("telegram_user_id")
