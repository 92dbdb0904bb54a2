"""Bookings: resources, condition templates, departures, blocked periods and bookings

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontline.models.base

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = frontline.models.base.UTCDateTime(timezone=True)
MONEY = sa.Numeric(12, 2)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def _resource_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["resource_id"],
        ["booking_resources.id"],
        name=op.f(f"fk_{table}_resource_id_booking_resources"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "booking_condition_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prepayment_percent", sa.Integer(), nullable=True),
        sa.Column("deposit_amount", MONEY, nullable=True),
        sa.Column("payment_deadline_days", sa.Integer(), nullable=True),
        sa.Column("cancellation_rules", sa.JSON(), nullable=False),
        sa.Column("checkin_rules", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _tenant_fk("booking_condition_templates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_condition_templates")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_booking_condition_templates_tenant_id_name")
        ),
    )
    op.create_table(
        "booking_resources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("availability", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("per_person", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("ical_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _tenant_fk("booking_resources"),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["booking_condition_templates.id"],
            name=op.f("fk_booking_resources_template_id_booking_condition_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_resources")),
        sa.UniqueConstraint("ical_token", name=op.f("uq_booking_resources_ical_token")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_booking_resources_tenant_id_name")),
    )
    op.create_table(
        "booking_departures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _tenant_fk("booking_departures"),
        _resource_fk("booking_departures"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_departures")),
        sa.UniqueConstraint(
            "resource_id", "starts_at", name=op.f("uq_booking_departures_resource_id_starts_at")
        ),
    )
    op.create_table(
        "booking_blocks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _tenant_fk("booking_blocks"),
        _resource_fk("booking_blocks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_blocks")),
    )
    op.create_index(
        "ix_booking_blocks_resource_id_starts_at",
        "booking_blocks",
        ["resource_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "bookings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("departure_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", BIG_ID, nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_phone", sa.String(length=50), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("total_price", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("reject_reason", sa.String(length=1000), nullable=True),
        sa.Column("hold_until", TS, nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _tenant_fk("bookings"),
        _resource_fk("bookings"),
        sa.ForeignKeyConstraint(
            ["departure_id"],
            ["booking_departures.id"],
            name=op.f("fk_bookings_departure_id_booking_departures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bookings_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_bookings_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_bookings_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index("ix_bookings_resource_id_starts_at", "bookings", ["resource_id", "starts_at"])
    op.create_index("ix_bookings_tenant_id_status", "bookings", ["tenant_id", "status"])
    op.create_index("ix_bookings_departure_id", "bookings", ["departure_id"])
    op.create_index("ix_bookings_conversation_id", "bookings", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("booking_blocks")
    op.drop_table("booking_departures")
    op.drop_table("booking_resources")
    op.drop_table("booking_condition_templates")
