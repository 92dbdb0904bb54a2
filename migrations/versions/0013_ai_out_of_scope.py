"""The business's own out-of-scope examples for the offline engine (AI settings)

Revision ID: 0013_ai_out_of_scope
Revises: 0008
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_ai_out_of_scope"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ai_settings") as batch:
        batch.add_column(
            sa.Column("out_of_scope_examples", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("ai_settings") as batch:
        batch.drop_column("out_of_scope_examples")
