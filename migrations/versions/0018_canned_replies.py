"""Canned replies (ready-made answers for the operators' composer)

Revision ID: 0018_canned_replies
Revises: 0017_ai_behaviour
Create Date: 2026-12-07 03:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0018_canned_replies"
down_revision: str | None = "0017_ai_behaviour"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", frontline.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", frontline.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_canned_replies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint("tenant_id", "title", name=op.f("uq_canned_replies_tenant_id_title")),
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
