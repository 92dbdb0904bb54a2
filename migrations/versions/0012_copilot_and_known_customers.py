"""Copilot and known customers: the AI log's purpose, identified contacts with typed
attributes, their merges, and the customer's read marker

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ai_calls") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=40), nullable=True))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("user_id", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("attributes", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("attributes", server_default=None)
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("contact_last_read_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "contact_attributes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", frontline.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_contact_attributes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attributes")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_contact_attributes_tenant_id_key")),
    )
    with op.batch_alter_table("contact_attributes") as batch:
        batch.create_index("ix_contact_attributes_tenant_id", ["tenant_id"], unique=False)
    op.create_table(
        "contact_merges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_contact_id", sa.Uuid(), nullable=False),
        sa.Column("target_contact_id", sa.Uuid(), nullable=False),
        sa.Column("merged_by", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", frontline.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_contact_merges_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_merges")),
    )
    with op.batch_alter_table("contact_merges") as batch:
        batch.create_index("ix_contact_merges_tenant_id", ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_merges") as batch:
        batch.drop_index("ix_contact_merges_tenant_id")
    op.drop_table("contact_merges")
    with op.batch_alter_table("contact_attributes") as batch:
        batch.drop_index("ix_contact_attributes_tenant_id")
    op.drop_table("contact_attributes")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("contact_last_read_id")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("attributes")
        batch.drop_column("user_id")
    with op.batch_alter_table("ai_calls") as batch:
        batch.drop_column("purpose")
