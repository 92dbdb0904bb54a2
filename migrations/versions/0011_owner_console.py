"""The owner's console: audit log, plan limits and suspension, analytics columns

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = frontline.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_tenant_created", ["tenant_id", "created_at"])
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("limits", sa.JSON(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("suspended_at", UTC, nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("handed_off_at", UTC, nullable=True))
        batch.add_column(
            sa.Column("reopened_soon", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index("ix_conversations_tenant_created", ["tenant_id", "created_at"])
    # conversations handed off before this migration: their handoff time is unknown, their
    # last activity is the closest thing kept
    op.execute(
        "UPDATE conversations SET handed_off_at = last_activity_at "
        "WHERE handoff_reason IS NOT NULL OR assignee_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_tenant_created")
        batch.drop_column("reopened_soon")
        batch.drop_column("handed_off_at")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("suspended_at")
        batch.drop_column("limits")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_tenant_created")
    op.drop_table("audit_log")
